"""Typed configuration of a training job (loadable from a JSON or TOML file)."""

from __future__ import annotations

import json
import tomllib
from dataclasses import asdict, dataclass, field, fields, replace
from pathlib import Path
from typing import Any

from core.errors import ConfigError
from matcher.fairness import FairnessConfig, GroupDefinitions, LevelThresholds, Thresholds
from training.labels import LabelConfig

DEFAULT_BOOSTER: dict[str, Any] = {
    "objective": "binary",
    "learning_rate": 0.02,
    "num_leaves": 3,
    "min_data_in_leaf": 100,
    "feature_fraction": 0.8,
    "bagging_fraction": 0.8,
    "bagging_freq": 1,
    "lambda_l2": 1.0,
    "verbose": -1,
    "deterministic": True,
    "force_row_wise": True,
    "num_threads": 2,
}


@dataclass(frozen=True)
class TrainConfig:
    """Everything that decides a trained model besides the data."""

    seed: int = 0
    holdout_fraction: float = 0.2
    """Latest share of intakes (by submitted_at) kept for validation."""
    folds: int = 5
    """Folds for out-of-fold track records."""
    early_stopping_fraction: float = 0.15
    """Share of training intakes held out to pick the number of boosting rounds."""
    max_rounds: int = 3000
    dask_rounds: int = 300
    """Boosting rounds with ``--engine dask`` (lightgbm.dask has no early stopping)."""
    engagement_weight: float = 0.25
    """α in score = benefit × engagement^α (0.25 measured best across seeded worlds)."""
    text_dims: int = 32
    monotone: bool = True
    """Constrain the booster to be non-decreasing in fit and track-record features."""
    labels: LabelConfig = field(default_factory=LabelConfig)
    booster: dict[str, Any] = field(default_factory=lambda: dict(DEFAULT_BOOSTER))
    top_k: tuple[int, ...] = (1, 5, 10)
    max_truth_intakes: int | None = 4000
    """Validation intakes scored against a world's truth (seeded subset; None = all)."""
    baselines: bool = True
    fairness: FairnessConfig = field(default_factory=FairnessConfig)
    """How the run's offline fairness report (held-out split) is computed and judged."""
    fairness_gate: bool = False
    """Block automatic promotion when any figure of the fairness report is ``fail``."""

    def with_overrides(self, **changes: Any) -> TrainConfig:
        """A copy with some fields replaced."""
        return replace(self, **changes)

    def to_dict(self) -> dict[str, Any]:
        """Plain dict (for logging)."""
        return asdict(self)

    @classmethod
    def from_file(cls, path: str | Path) -> TrainConfig:
        """Read a ``.json`` or ``.toml`` file whose keys are this class's fields."""
        path = Path(path)
        try:
            raw = path.read_text()
            data = tomllib.loads(raw) if path.suffix == ".toml" else json.loads(raw)
        except (OSError, ValueError) as exc:
            raise ConfigError(f"{path}: cannot read config ({exc})") from exc
        known = {f.name for f in fields(cls)}
        unknown = set(data) - known
        if unknown:
            raise ConfigError(f"{path}: unknown config key(s): {', '.join(sorted(unknown))}")
        if "labels" in data:
            data["labels"] = LabelConfig(**data["labels"])
        if "booster" in data:
            data["booster"] = {**DEFAULT_BOOSTER, **data["booster"]}
        if "top_k" in data:
            data["top_k"] = tuple(data["top_k"])
        if "fairness" in data:
            data["fairness"] = _fairness_config(path, data["fairness"])
        try:
            return cls(**data)
        except TypeError as exc:
            raise ConfigError(f"{path}: {exc}") from exc


def _fairness_config(path: Path, raw: dict[str, Any]) -> FairnessConfig:
    """A ``[fairness]`` table → FairnessConfig (nested ``thresholds`` and ``groups`` tables)."""
    try:
        values = dict(raw)
        if "thresholds" in values:
            limits = dict(values["thresholds"])
            for name in ("gini", "exposure_disparity", "overload"):
                if name in limits:
                    limits[name] = LevelThresholds(**limits[name])
            values["thresholds"] = Thresholds(**limits)
        if "groups" in values:
            groups = dict(values["groups"])
            if "experience_edges" in groups:
                groups["experience_edges"] = tuple(groups["experience_edges"])
            values["groups"] = GroupDefinitions(**groups)
        return FairnessConfig(**values)
    except (TypeError, ValueError) as exc:
        raise ConfigError(f"{path}: fairness: {exc}") from exc


__all__ = ["DEFAULT_BOOSTER", "TrainConfig"]
