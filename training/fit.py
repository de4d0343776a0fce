"""Fitting the outcome-aware model: outcome booster across intakes + position-aware engagement.

Why two models: in a logged list only the chosen row has outcomes, so a listwise model fitted on
the lists learns what clients click. The outcome booster instead learns P(good | started) across
intakes from every chosen row (therapist track record × domain is its strongest signal); the
engagement booster learns P(engaged | shown) with the logged position as a feature, scored at
position 1, which removes position bias from the click signal.

Rounds: on small data (at most ``TrainConfig.outcome_cv_max_rows`` outcome rows) the outcome
booster's rounds are picked by cross-validation over whole intakes and it is refitted on every
row (:func:`cv_rounds`); otherwise, and for the engagement booster, by early stopping on a
holdout of intakes.
"""

from __future__ import annotations

import time
from dataclasses import dataclass
from typing import Any

import lightgbm as lgb
import numpy as np
import numpy.typing as npt
import pandas as pd

from features.casemix import CaseMix
from features.outcomes import good_outcome, has_outcome
from features.pipeline import (
    CATEGORICAL,
    FEATURE_NAMES,
    MONOTONE,
    TRACK_RECORD_COLUMNS,
    FeaturePipeline,
)
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


def booster_params(config: TrainConfig, feature_names: list[str]) -> dict[str, Any]:
    """LightGBM parameters of one booster, the same for the local and the Dask engine: the
    configured booster, the seed, and (with ``config.monotone``) monotone constraints
    (+1 for the features of :data:`~features.pipeline.MONOTONE`, −1 for ``position``)."""
    params = {**config.booster, "seed": config.seed}
    if config.monotone:
        direction = MONOTONE | {"position": -1}
        params["monotone_constraints"] = [direction.get(n, 0) for n in feature_names]
    return params


def categorical_features(feature_names: list[str]) -> list[str]:
    """The categorical features among ``feature_names`` (:data:`~features.pipeline.CATEGORICAL`)."""
    return [c for c in CATEGORICAL if c in feature_names]


@dataclass(frozen=True)
class Targets:
    """What the two boosters learn from logged rows."""

    started: npt.NDArray[np.bool_]
    """Rows with a known outcome (the outcome booster's rows)."""
    good: npt.NDArray[np.float64]
    """1 for a good outcome (outcome booster label, on ``started`` rows)."""
    engaged: npt.NDArray[np.float64]
    """1 when the graded label is ≥ 2 (engagement booster label, every row)."""
    position: npt.NDArray[np.float32]
    """The logged position, the engagement booster's extra column, shape (n, 1)."""

    @classmethod
    def of(cls, interactions: pd.DataFrame, config: TrainConfig) -> Targets:
        """The targets of logged interaction rows."""
        return cls(
            started=has_outcome(interactions),
            good=good_outcome(interactions).astype(np.float64),
            engaged=(graded_label(interactions, config.labels) >= 2).astype(np.float64),
            position=interactions["position"].to_numpy(dtype=np.float32)[:, None],
        )


PATIENCE = 30
"""Rounds without improvement of the early-stopping holdout's loss before stopping."""
CV_PATIENCE = 50
"""The same for the cross-validated mean loss (smoother, so it can afford more patience)."""


def group_folds(group: npt.NDArray[np.int64], folds: int, seed: int) -> list[tuple[Any, Any]]:
    """(train rows, validation rows) of ``folds`` folds of whole groups (seeded)."""
    _, inverse = np.unique(group, return_inverse=True)
    fold = np.random.default_rng(seed).integers(
        0, folds, int(inverse.max()) + 1 if len(group) else 0
    )
    of_row = fold[inverse.reshape(-1)]
    return [(np.flatnonzero(of_row != k), np.flatnonzero(of_row == k)) for k in range(folds)]


def _dataset(
    x: npt.NDArray[np.float32],
    y: npt.NDArray[np.float64],
    feature_names: list[str],
    *,
    free_raw_data: bool = True,
) -> lgb.Dataset:
    """The LightGBM dataset of a feature matrix, its named and categorical features declared."""
    return lgb.Dataset(
        x,
        label=y,
        feature_name=feature_names,
        categorical_feature=categorical_features(feature_names),
        free_raw_data=free_raw_data,
    )


def cv_rounds(
    x: npt.NDArray[np.float32],
    y: npt.NDArray[np.float64],
    group: npt.NDArray[np.int64],
    config: TrainConfig,
    feature_names: list[str],
    *,
    folds: int,
) -> int:
    """Boosting rounds minimising the mean validation log-loss over ``folds`` folds of whole
    groups (early stopping on that mean, :data:`CV_PATIENCE`).

    On a few thousand outcome rows a single 15% holdout has so noisy a loss curve that early
    stopping often ends after a few dozen rounds (an underfitted booster); averaging the curve
    over folds and refitting on every row uses all the data for both choices.
    """
    data = _dataset(x, y, feature_names, free_raw_data=False)
    result = lgb.cv(
        booster_params(config, feature_names),
        data,
        num_boost_round=config.max_rounds,
        folds=group_folds(group, folds, config.seed),
        callbacks=[lgb.early_stopping(CV_PATIENCE, verbose=False)],
    )
    curve = next(v for k, v in result.items() if k.endswith("-mean"))
    return int(np.argmin(np.asarray(curve, dtype=np.float64))) + 1


def fit_booster(
    x: npt.NDArray[np.float32],
    y: npt.NDArray[np.float64],
    group: npt.NDArray[np.int64],
    config: TrainConfig,
    feature_names: list[str],
    *,
    cv_folds: int = 0,
) -> lgb.Booster:
    """A binary LightGBM booster; rounds chosen by early stopping on held-out groups, or (with
    ``cv_folds > 1``) by :func:`cv_rounds` and then fitted on every row."""
    params = booster_params(config, feature_names)
    if cv_folds > 1:
        rounds = cv_rounds(x, y, group, config, feature_names, folds=cv_folds)
        return lgb.train(params, _dataset(x, y, feature_names), num_boost_round=rounds)
    stop = _split_groups(group, config.early_stopping_fraction, config.seed)
    train = _dataset(x[~stop], y[~stop], feature_names)
    valid = lgb.Dataset(x[stop], label=y[stop], reference=train)
    return lgb.train(
        params,
        train,
        num_boost_round=config.max_rounds,
        valid_sets=[valid],
        callbacks=[lgb.early_stopping(PATIENCE, verbose=False)],
    )


def engagement_matrix(
    x: npt.NDArray[np.float32], position: npt.NDArray[np.float32], config: TrainConfig
) -> npt.NDArray[np.float32]:
    """The engagement booster's training matrix: the features and the logged position, with
    the track-record columns blanked (missing everywhere, so never split on) unless
    ``config.engagement_records``."""
    out = np.hstack([x, position])
    if not config.engagement_records:
        out[:, TRACK_RECORD_COLUMNS] = np.nan
    return out


PREFILTER_ROWS = 50_000
"""Logged rows the prefilter's least squares is fitted on (a seeded sample beyond this many:
38 coefficients are settled long before, and predicting the outcome booster on every training
row for its target cost seconds at 500,000 rows)."""


def _sample_rows(n: int, at_most: int, seed: int) -> npt.NDArray[np.int64]:
    """Every row index when ``n ≤ at_most``, else a seeded sample of ``at_most`` (sorted)."""
    if n <= at_most:
        return np.arange(n)
    return np.sort(np.random.default_rng(seed).choice(n, at_most, replace=False))


def outcome_linear(
    x: npt.NDArray[np.float32],
    good: npt.NDArray[np.float64],
    group: npt.NDArray[np.int64],
    config: TrainConfig,
) -> dict[str, Any]:
    """The linear half of the outcome model (:class:`~matcher.model.MatchModel` fields): a
    penalised logistic regression of a good outcome on the outcome rows
    (``config.outcome_linear_penalty``, its strength by :func:`linear_c`), with its share λ;
    none at λ = 0. With ``config.monotone`` its coefficients keep the booster's constraint
    signs. Not fitted with fewer than ``config.outcome_linear_epv`` events (the rarer of good
    and not good outcomes) per coefficient (a feature each, and a missing indicator per feature
    ever missing)."""
    if config.outcome_linear_weight <= 0:
        return {}
    events = min(float(good.sum()), float(len(good) - good.sum()))
    coefficients = x.shape[1] + len(CaseMix.indicator_columns(x))
    if events < config.outcome_linear_epv * coefficients:
        return {}
    c = linear_c(x, good, group, config)
    return {
        "outcome_linear": _linear_model(config, c).fit(x, good),
        "outcome_linear_weight": config.outcome_linear_weight,
    }


def _penalty_scale(config: TrainConfig) -> tuple[float, ...] | None:
    """Per feature: 0 unpenalised (``outcome_linear_free``), inf left out
    (``outcome_linear_excluded``), else 1; None when all are 1."""
    scale = tuple(
        0.0
        if n in config.outcome_linear_free
        else float("inf")
        if n in config.outcome_linear_excluded
        else 1.0
        for n in FEATURE_NAMES
    )
    return None if all(v == 1.0 for v in scale) else scale


def _linear_model(config: TrainConfig, c: float) -> CaseMix:
    """The unfitted linear half with inverse penalty strength ``c``."""
    signs = tuple(MONOTONE.get(n, 0) for n in FEATURE_NAMES) if config.monotone else None
    return CaseMix(
        c=c,
        monotone=signs,
        penalty=config.outcome_linear_penalty,
        penalty_scale=_penalty_scale(config),
    )


def linear_c(
    x: npt.NDArray[np.float32],
    good: npt.NDArray[np.float64],
    group: npt.NDArray[np.int64],
    config: TrainConfig,
) -> float:
    """The linear half's c among ``config.outcome_linear_c``: the least mean held-out log-loss
    −Σ [y·log p + (1 − y)·log(1 − p)] / n over ``config.outcome_cv_folds`` folds of whole
    intakes when there are at most ``config.outcome_cv_max_rows`` rows; otherwise the
    largest."""
    grid = sorted(config.outcome_linear_c)
    if len(grid) == 1 or len(x) > config.outcome_cv_max_rows or config.outcome_cv_folds < 2:
        return grid[-1]
    folds = group_folds(group, config.outcome_cv_folds, config.seed)
    losses = []
    for c in grid:
        loss = 0.0
        for train, valid in folds:
            z = _linear_model(config, c).fit(x[train], good[train]).linear(x[valid])
            loss += float(np.sum(np.logaddexp(0.0, z) - good[valid] * z))
        losses.append(loss / len(x))
    return grid[int(np.argmin(losses))]


def with_prefilter(model: MatchModel, x: npt.NDArray[np.float32], seed: int) -> MatchModel:
    """``model`` with its :class:`~matcher.model.Prefilter` fitted to the log of its ranking
    score, log benefit + α·log engagement (what phase two ranks by), on a seeded sample of at
    most :data:`PREFILTER_ROWS` training rows."""
    sample = x[_sample_rows(len(x), PREFILTER_ROWS, seed)]
    model.prefilter = Prefilter().fit(sample, np.log(model.score(sample, num_threads=2)))
    return model


def fit_boosters(
    rows: LoggedRows, config: TrainConfig, pipeline: FeaturePipeline
) -> tuple[MatchModel, FitReport]:
    """Fit outcome and engagement boosters on logged rows (features out-of-fold) → the model
    that scores with ``pipeline``."""
    start = time.perf_counter()
    names = list(FEATURE_NAMES)
    t = Targets.of(rows.interactions, config)
    small = int(t.started.sum()) <= config.outcome_cv_max_rows
    outcome = fit_booster(
        rows.x[t.started],
        t.good[t.started],
        rows.group[t.started],
        config,
        names,
        cv_folds=config.outcome_cv_folds if small else 0,
    )
    engagement = fit_booster(
        engagement_matrix(rows.x, t.position, config),
        t.engaged,
        rows.group,
        config,
        [*names, "position"],
    )
    model = with_prefilter(
        MatchModel(
            pipeline=pipeline,
            outcome=outcome,
            engagement=engagement,
            engagement_weight=config.engagement_weight,
            **outcome_linear(rows.x[t.started], t.good[t.started], rows.group[t.started], config),
        ),
        rows.x,
        config.seed,
    )
    report = FitReport(
        outcome_rows=int(t.started.sum()),
        outcome_rounds=outcome.best_iteration or outcome.current_iteration(),
        engagement_rows=len(rows.interactions),
        engagement_rounds=engagement.best_iteration or engagement.current_iteration(),
        fit_seconds=time.perf_counter() - start,
    )
    return model, report


__all__ = [
    "CV_PATIENCE",
    "PATIENCE",
    "PREFILTER_ROWS",
    "FitReport",
    "Targets",
    "booster_params",
    "categorical_features",
    "cv_rounds",
    "engagement_matrix",
    "fit_booster",
    "fit_boosters",
    "group_folds",
    "linear_c",
    "outcome_linear",
    "with_prefilter",
]
