"""Fitting the outcome-aware model: outcome booster across intakes + position-aware engagement.

Why two models: in a logged list only the chosen row has outcomes, so a listwise model fitted on
the lists learns what clients click. The outcome booster instead learns P(good | started) across
intakes from every chosen row (therapist track record × domain is its strongest signal); the
engagement booster learns P(engaged | shown) with the logged position as a feature, scored at
position 1, which removes position bias from the click signal.
"""

from __future__ import annotations

from dataclasses import dataclass

import lightgbm as lgb
import numpy as np
import numpy.typing as npt

from features.outcomes import good_outcome, has_outcome
from features.pipeline import CATEGORICAL, FEATURE_NAMES, MONOTONE
from matcher.model import MatchModel, Prefilter
from training.config import TrainConfig
from training.labels import graded_label
from training.matrices import LoggedRows


@dataclass(frozen=True)
class FitReport:
    """What fitting did: rows used and rounds chosen by early stopping."""

    outcome_rows: int
    outcome_rounds: int
    engagement_rows: int
    engagement_rounds: int
    fit_seconds: float


def _split_groups(
    group: npt.NDArray[np.int64], fraction: float, seed: int
) -> npt.NDArray[np.bool_]:
    """True for rows of a random ``fraction`` of groups (the early-stopping set)."""
    unique = np.unique(group)
    rng = np.random.default_rng(seed)
    chosen = rng.choice(unique, size=max(1, int(len(unique) * fraction)), replace=False)
    return np.isin(group, chosen)


def fit_booster(
    x: npt.NDArray[np.float32],
    y: npt.NDArray[np.float64],
    group: npt.NDArray[np.int64],
    config: TrainConfig,
    feature_names: list[str],
) -> lgb.Booster:
    """A binary LightGBM booster; rounds chosen by early stopping on held-out groups."""
    params = {**config.booster, "seed": config.seed}
    if config.monotone:
        direction = MONOTONE | {"position": -1}
        params["monotone_constraints"] = [direction.get(n, 0) for n in feature_names]
    stop = _split_groups(group, config.early_stopping_fraction, config.seed)
    categorical = [c for c in CATEGORICAL if c in feature_names]
    train = lgb.Dataset(
        x[~stop], label=y[~stop], feature_name=feature_names, categorical_feature=categorical
    )
    valid = lgb.Dataset(x[stop], label=y[stop], reference=train)
    return lgb.train(
        params,
        train,
        num_boost_round=config.max_rounds,
        valid_sets=[valid],
        callbacks=[lgb.early_stopping(30, verbose=False)],
    )


def fit_boosters(rows: LoggedRows, config: TrainConfig) -> tuple[MatchModel, FitReport]:
    """Fit outcome and engagement boosters on logged rows (features out-of-fold) → a model.

    The returned model's pipeline is not set (the caller supplies the fitted pipeline).
    """
    import time

    start = time.perf_counter()
    inter = rows.interactions
    names = list(FEATURE_NAMES)
    started = has_outcome(inter)
    good = good_outcome(inter).astype(np.float64)
    outcome = fit_booster(rows.x[started], good[started], rows.group[started], config, names)
    engaged = (graded_label(inter, config.labels) >= 2).astype(np.float64)
    position = inter["position"].to_numpy(dtype=np.float32)[:, None]
    engagement = fit_booster(
        np.hstack([rows.x, position]), engaged, rows.group, config, [*names, "position"]
    )
    prefilter = Prefilter.fit(
        rows.x, np.asarray(outcome.predict(rows.x, raw_score=True), dtype=np.float64)
    )
    model = MatchModel(
        pipeline=None,  # type: ignore[arg-type]
        outcome=outcome,
        engagement=engagement,
        engagement_weight=config.engagement_weight,
        prefilter=prefilter,
    )
    report = FitReport(
        outcome_rows=int(started.sum()),
        outcome_rounds=outcome.best_iteration or outcome.current_iteration(),
        engagement_rows=len(inter),
        engagement_rounds=engagement.best_iteration or engagement.current_iteration(),
        fit_seconds=time.perf_counter() - start,
    )
    return model, report


__all__ = ["FitReport", "fit_booster", "fit_boosters"]
