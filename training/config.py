"""Typed configuration of a training job (loadable from a JSON or TOML file)."""

from __future__ import annotations

import json
import tomllib
from dataclasses import asdict, dataclass, field, replace
from pathlib import Path
from typing import Annotated, Any, Literal

from pydantic import Field, TypeAdapter, ValidationError, with_config

from core.config import STRICT
from core.errors import ConfigError
from features.pipeline import FEATURE_NAMES
from features.track_record import RecordOptions
from matcher.fairness import FairnessConfig
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

LINEAR_RECORDS = ("tr_adjusted_concerns", "tr_improvement")
"""The track records the outcome model's linear half reads, unpenalised (see
``TrainConfig.outcome_linear_free``)."""
LINEAR_EXCLUDED = tuple(n for n in FEATURE_NAMES if n.startswith("tr_") and n not in LINEAR_RECORDS)
"""The other track-record columns, which the linear half leaves out."""


@with_config(STRICT)
@dataclass(frozen=True)
class TrainConfig:
    """Everything that decides a trained model besides the data."""

    seed: int = 0
    holdout_fraction: float = 0.2
    """Latest share of intakes (by submitted_at) kept for validation."""
    folds: int = 5
    """Folds for out-of-fold track records."""
    blank_history_share: float = 0.0
    """Share of therapists whose history each out-of-fold record leaves out (they look new in
    that fold), so the model learns what "no record" means for a therapist drawn at random."""
    engagement_records: bool = False
    """The engagement booster reads the track-record columns. Off (the default) it learns
    P(engaged | shown) from what clients see, the profile columns, so an empty record cannot
    lower the engagement predicted for a new therapist: in training "no record" mostly marks
    rarely booked therapists, and with the records on the engine gave therapists joining at the
    cutoff 1.5% of the top-5 slots in their first month against 3.9% off (empirical-Bayes oracle
    5.7%; ``python bench/new_therapists.py --seed 1``), at the same mean uplift@5 over the four
    quality worlds (0.629 on, 0.631 off)."""
    early_stopping_fraction: float = 0.15
    """Share of training intakes held out to pick the number of boosting rounds."""
    max_rounds: int = 3000
    outcome_cv_folds: int = 5
    """Folds (of whole intakes) of the cross-validation that picks the outcome booster's rounds
    when it has at most ``outcome_cv_max_rows`` rows; the booster is then refitted on all of
    them. 0 or 1: the early-stopping holdout as for the engagement booster."""
    outcome_cv_max_rows: int = 20_000
    """Above this many outcome rows the early-stopping holdout (≥ 3,000 of them) is large
    enough, and five fits cheaper: on a 2,000 × 65,000 world (37,842 outcome rows) the
    holdout's model had uplift@5 0.672 against the cross-validated 0.673."""
    dask_rounds: int = 300
    """Boosting rounds with ``--engine dask`` (lightgbm.dask has no early stopping)."""
    outcome_linear_weight: Annotated[float, Field(ge=0.0, le=1.0)] = 0.5
    """λ, the share of a logistic regression on the same features and rows in the outcome
    model's log-odds (:mod:`matcher.model`); 0 = the booster alone. At 0.5 uplift@5 rose on
    every seeded sparse and dense world of ``bench/sparse.py`` (see docs/synthetic-world.md)."""
    outcome_linear_epv: Annotated[float, Field(ge=0.0)] = 10.0
    """Events per coefficient the linear half needs (the rarer outcome's count ÷ its
    coefficients; Peduzzi et al. 1996: below ~10 a logistic regression's coefficients are
    biased and their signs unreliable). Fewer: the booster alone. On five 80 × 1,500 worlds
    (≈ 600 outcome rows, ≈ 3 events per coefficient) the half changed uplift@5 by −0.08 to
    +0.11, mean −0.01."""
    outcome_linear_penalty: Literal["l1", "l2"] = "l1"
    """The linear half's penalty: ``l1`` (the lasso, ‖w‖₁/c: features that do not help the
    held-out log-loss get a coefficient of exactly 0) or ``l2`` (‖w‖²/(2c))."""
    outcome_linear_c: tuple[Annotated[float, Field(gt=0.0)], ...] = (0.003, 0.01, 0.03, 0.1)
    """Inverse penalty strengths c the linear half may use: with at most
    ``outcome_cv_max_rows`` outcome rows, the one of least mean log-loss over
    ``outcome_cv_folds`` folds of whole intakes; above it (where the penalty matters little),
    the largest."""
    outcome_linear_free: tuple[str, ...] = LINEAR_RECORDS
    """Features whose linear-half coefficient is not penalised. By default the two
    case-mix-adjusted records: on the sparse worlds of ``bench/sparse.py`` the lasso shrank the
    record's coefficient below what held-out rows support (per unit of
    ``tr_adjusted_concerns``, 5.1 / 3.0 / 4.7 fitted on training rows, 6.4 / 4.8 / 5.6 on the
    held-out booked rows of seeds 1–3)."""
    outcome_linear_excluded: tuple[str, ...] = LINEAR_EXCLUDED
    """Features the linear half leaves out (their coefficient is 0). By default the other
    track-record columns: the linear half reads the record only through
    :data:`LINEAR_RECORDS` (the booster reads every column)."""
    engagement_weight: float = 0.25
    """α in score = benefit × engagement^α. Lower α ranks higher on uplift@5 (0.1 now does best
    on it) but shows therapists fewer clients book; see docs/synthetic-world.md, "The
    engagement weight α"."""
    text_dims: int = 32
    records: RecordOptions = field(default_factory=RecordOptions)
    """Which therapist track records the features learn beyond the outcome records (alliance,
    dropout, hierarchical domain priors); switched-off records stay at their zero-history
    prior, so an ablation is one code path."""
    monotone: bool = True
    """Constrain the booster to be non-decreasing in fit and track-record features."""
    labels: LabelConfig = field(default_factory=LabelConfig)
    booster: dict[str, Any] = field(default_factory=lambda: dict(DEFAULT_BOOSTER))
    top_k: tuple[int, ...] = (1, 5, 10)
    max_eval_intakes: int | None = 4000
    """Held-out intakes evaluated (a seeded subset; None = all): their pairs are scored once and
    read by the scorecard, the fairness report and the promotion gate (truth uplift or
    off-policy difference). Scoring costs prediction time in proportion (each eligible pair
    through every tree), so at large held-out splits the cap keeps evaluation a small share of
    the job; the gate's interval widens as 1/√n below it."""
    baselines: bool = True
    fairness: FairnessConfig = field(default_factory=FairnessConfig)
    """How the run's offline fairness report (held-out split) is computed and judged."""
    fairness_gate: bool = False
    """Block automatic promotion when any figure of the fairness report is ``fail``."""

    def __post_init__(self) -> None:
        named = set(self.outcome_linear_free) | set(self.outcome_linear_excluded)
        unknown = sorted(named - set(FEATURE_NAMES))
        if unknown:
            raise ValueError(f"outcome_linear_free/excluded: unknown features {unknown}")

    def with_overrides(self, **changes: Any) -> TrainConfig:
        """A copy with some fields replaced."""
        return replace(self, **changes)

    def to_dict(self) -> dict[str, Any]:
        """Plain dict (for logging)."""
        return asdict(self)

    @classmethod
    def from_dict(cls, data: dict[str, Any], *, source: str = "config") -> TrainConfig:
        """Validate a plain mapping (e.g. a parsed TOML file) with pydantic: nested tables become
        the nested configs, lists become tuples, unknown keys and bad values are a ConfigError
        naming every offending key. ``booster`` keys are merged over :data:`DEFAULT_BOOSTER`."""
        values = dict(data)
        if isinstance(values.get("booster"), dict):
            values["booster"] = {**DEFAULT_BOOSTER, **values["booster"]}
        try:
            return TypeAdapter(cls).validate_python(values)
        except ValidationError as exc:
            problems = "; ".join(
                f"{'.'.join(map(str, e['loc'])) or '(top level)'}: {e['msg']}" for e in exc.errors()
            )
            raise ConfigError(f"{source}: {problems}") from None

    @classmethod
    def from_file(cls, path: str | Path) -> TrainConfig:
        """Read a ``.json`` or ``.toml`` file whose keys are this class's fields."""
        path = Path(path)
        try:
            raw = path.read_text()
            data = tomllib.loads(raw) if path.suffix == ".toml" else json.loads(raw)
        except (OSError, ValueError) as exc:
            raise ConfigError(f"{path}: cannot read config ({exc})") from exc
        if not isinstance(data, dict):
            raise ConfigError(f"{path}: a config file holds a table of keys")
        return cls.from_dict(data, source=str(path))


__all__ = ["DEFAULT_BOOSTER", "TrainConfig"]
