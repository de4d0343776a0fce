"""The fitted matching model: feature pipeline + LightGBM boosters, saved without pickle.

score(x) = P(good outcome | starts with this therapist) × P(engages | shown first)^α

P(good outcome) = σ((1 − λ)·f(x) + λ·g(x)): f the outcome booster's log-odds, g a logistic
regression's on the same features and rows (:class:`~features.casemix.CaseMix`), λ
(``outcome_linear_weight``) their share. On a few thousand outcome rows the two err differently
(the booster learns interactions coarsely, the linear model none but every main effect smoothly),
so their average ranks better than either. The outcome models are fitted across intakes on chosen
rows with known outcomes (who helps); the engagement booster on every shown row with the logged
position as a feature, scored at position 1 (who clients book and stay with, corrected for
position bias). α (``engagement_weight``) trades the two; α = 0 ranks on predicted benefit alone.
"""

from __future__ import annotations

import json
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import lightgbm as lgb
import numpy as np
import numpy.typing as npt
from scipy.special import expit, logit

from core.errors import ModelFormatError, NotFittedError
from features.casemix import CaseMix
from features.pipeline import FEATURE_NAMES, FeaturePipeline
from matcher import forest

FORMAT_VERSION = 1
F64 = npt.NDArray[np.float64]
F32 = npt.NDArray[np.float32]


PHASE_TWO_ONLY: tuple[str, ...] = (
    "text_similarity",
    "availability_overlap",
    "availability_share",
    "tr_alliance_format",
    "tr_alliance_format_n",
)
"""Features the prefilter does not read, so phase one need not compute them for every eligible
pair: the costliest per pair (the text cosine, the hour overlaps, the likely-format lookup) and,
in a linear proxy of the ranking score, among the least informative (in a scratch comparison on
the bench's one-region pool, a proxy of the log score kept 98.1% of the full score's top 10
reading every feature and 98.7% without the text and hour features; ``bench/serving.py`` prints
the recall of this set)."""


@dataclass
class Prefilter:
    """A linear proxy of the full ranking score for phase one of phased ranking.

    proxy(x) = b + Σ_f w_f · x_f over the features f it reads (every feature but ``skip``),
    missing x_f replaced by the training mean; fitted to the log of the full score so the best
    few hundred by proxy hold the full model's top picks. Learned state: ``columns_`` (positions
    in :data:`~features.pipeline.FEATURE_NAMES` of the features read), ``weights_``,
    ``intercept_``, ``fill_``.
    """

    ridge: float = 1e-3
    """Ridge penalty per row on the standardised features."""
    skip: tuple[str, ...] = PHASE_TWO_ONLY
    """Features it does not read (phase one leaves them uncomputed)."""

    def score(self, x: F32) -> F64:
        """Proxy scores of the rows of ``x`` (every feature, :data:`FEATURE_NAMES` order)."""
        self._check_fitted()
        return self.score_columns(x[:, self.columns_])

    def score_columns(self, x: F32) -> F64:
        """Proxy scores of rows holding only the features read (``columns_``, in order)."""
        self._check_fitted()
        filled = np.where(np.isnan(x), self.fill_, x)
        return np.asarray(filled @ self.weights_ + self.intercept_, dtype=np.float64)

    def _check_fitted(self) -> None:
        if not hasattr(self, "weights_"):
            raise NotFittedError("Prefilter is not fitted")

    def fit(self, x: F32, target: F64) -> Prefilter:
        """Least squares of ``target`` on the read columns of ``x`` (NaN filled with column
        means), lightly ridged: w = (ZᵀZ + ridge·n·I)⁻¹ Zᵀ(t − t̄) on standardised Z, mapped
        back to raw units."""
        unknown = set(self.skip) - set(FEATURE_NAMES)
        if unknown:
            raise ValueError(f"Prefilter.skip: unknown features {sorted(unknown)}")
        self.columns_ = np.array(
            [k for k, name in enumerate(FEATURE_NAMES) if name not in self.skip], dtype=np.int64
        )
        x = x[:, self.columns_]
        fill = np.nan_to_num(np.nanmean(x, axis=0)) if len(x) else np.zeros(x.shape[1])
        filled = np.where(np.isnan(x), fill, x).astype(np.float64)
        mu, sd = filled.mean(0), filled.std(0) + 1e-9
        z = (filled - mu) / sd
        penalty = self.ridge * len(z) * np.eye(z.shape[1])
        w = np.linalg.solve(z.T @ z + penalty, z.T @ (target - target.mean()))
        self.weights_ = w / sd
        self.intercept_ = float(target.mean() - mu @ self.weights_)
        self.fill_ = fill.astype(np.float64)
        return self

    def state(self) -> dict[str, Any]:
        """JSON-able learned state."""
        return {
            "columns": [FEATURE_NAMES[k] for k in self.columns_],
            "weights": self.weights_.tolist(),
            "intercept": self.intercept_,
            "fill": self.fill_.tolist(),
        }

    @classmethod
    def from_state(cls, state: dict[str, Any]) -> Prefilter:
        """Rebuild a fitted prefilter from :meth:`state` (a state without ``columns``, written
        before phase one skipped features, reads every feature)."""
        names = state.get("columns", list(FEATURE_NAMES))
        pre = cls(skip=tuple(n for n in FEATURE_NAMES if n not in names))
        pre.columns_ = np.array([FEATURE_NAMES.index(n) for n in names], dtype=np.int64)
        pre.weights_ = np.asarray(state["weights"], dtype=np.float64)
        pre.intercept_ = float(state["intercept"])
        pre.fill_ = np.asarray(state["fill"], dtype=np.float64)
        return pre


@dataclass
class MatchModel:
    """What serving needs: the fitted pipeline, the boosters, the scoring rule and metadata."""

    pipeline: FeaturePipeline
    outcome: lgb.Booster
    engagement: lgb.Booster | None = None
    engagement_weight: float = 0.0
    prefilter: Prefilter | None = None
    outcome_linear: CaseMix | None = None
    """The logistic half of the outcome model (None: the booster alone)."""
    outcome_linear_weight: float = 0.0
    """λ, the linear model's share of the outcome log-odds."""
    version: str = "local"
    metadata: dict[str, Any] = field(default_factory=dict)
    stale_from: str | None = None
    """Set when this is a fallback copy (its folder) because the configured URI did not resolve."""

    @property
    def feature_names(self) -> list[str]:
        """Columns the boosters expect, in order."""
        return list(FEATURE_NAMES)

    def benefit(self, x: F32, *, num_threads: int = 1) -> F64:
        """Predicted P(good outcome | the client starts with this therapist).

        One thread by default (a request's latency); batch callers may use more. Large batches
        are predicted by the compiled forest (:mod:`matcher.forest`).
        """
        if len(x) == 0:
            return np.zeros(0)
        boosted = forest.predict(self.outcome, x, num_threads=num_threads)
        if self._linear is None:
            return boosted
        return np.asarray(expit(self._blend(boosted, x)))

    def outcome_log_odds(self, x: F32, *, num_threads: int = 1) -> F64:
        """log(benefit / (1 − benefit)): the outcome model's log-odds (what the prefilter and
        the contributions stand for)."""
        return self._blend(forest.predict(self.outcome, x, num_threads=num_threads), x)

    def _blend(self, boosted: F64, x: F32) -> F64:
        """(1 − λ)·logit(booster's probability) + λ·(linear half's log-odds), or the booster's
        log-odds alone without a linear half."""
        odds = logit(np.clip(boosted, 1e-15, 1 - 1e-15))
        linear = self._linear
        if linear is None:
            return np.asarray(odds, dtype=np.float64)
        lam = self.outcome_linear_weight
        return np.asarray((1 - lam) * odds + lam * linear.linear(x), dtype=np.float64)

    @property
    def _linear(self) -> CaseMix | None:
        """The linear half when it has a share of the outcome log-odds."""
        return self.outcome_linear if self.outcome_linear_weight > 0 else None

    def engagement_probability(self, x: F32, *, num_threads: int = 1) -> F64:
        """Predicted P(books and engages | shown at position 1); 1 without an engagement model."""
        if self.engagement is None or len(x) == 0:
            return np.ones(len(x))
        shown_first = np.empty((len(x), x.shape[1] + 1), dtype=x.dtype)
        shown_first[:, :-1], shown_first[:, -1] = x, 1
        return forest.predict(self.engagement, shown_first, num_threads=num_threads)

    def expect(self, rows: int) -> None:
        """About to predict ``rows`` rows in one batch: start what that needs (compiling the
        forests, :func:`matcher.forest.expect`) in the background."""
        forest.expect(self.outcome, rows)
        if self.engagement is not None:
            forest.expect(self.engagement, rows)

    def score(self, x: F32, *, num_threads: int = 1) -> F64:
        """benefit × engagement^α (see the module docstring); threads as in :meth:`benefit`."""
        benefit = self.benefit(x, num_threads=num_threads)
        if self.engagement is None or self.engagement_weight <= 0:
            return benefit
        return self.combine(benefit, self.engagement_probability(x, num_threads=num_threads))

    def combine(self, benefit: F64, engagement: F64) -> F64:
        """The ranking score from the two predictions: benefit × engagement^α."""
        return np.asarray(benefit * engagement**self.engagement_weight, dtype=np.float64)

    def contributions(self, x: F32) -> F64:
        """Per-feature contributions to the outcome log-odds, ``(n, F + 1)`` (last = bias): the
        booster's SHAP values and the linear model's terms, each weighted by its share."""
        shap = np.asarray(self.outcome.predict(x, pred_contrib=True, num_threads=1))
        linear = self._linear
        if linear is None:
            return shap
        lam = self.outcome_linear_weight
        return (1 - lam) * shap + lam * linear.contributions(x)

    def save(self, folder: str | Path) -> Path:
        """Write the model as JSON + NPZ + LightGBM text files (loadable without pickle)."""
        folder = Path(folder)
        folder.mkdir(parents=True, exist_ok=True)
        params, arrays = self.pipeline.state()
        linear = None if self.outcome_linear is None else self.outcome_linear.to_json()
        np.savez_compressed(folder / "pipeline.npz", allow_pickle=False, **arrays)
        self.outcome.save_model(str(folder / "outcome.txt"))
        if self.engagement is not None:
            self.engagement.save_model(str(folder / "engagement.txt"))
        doc = {
            "format_version": FORMAT_VERSION,
            "version": self.version,
            "features": self.feature_names,
            "engagement_weight": self.engagement_weight,
            "pipeline": params,
            "prefilter": None if self.prefilter is None else self.prefilter.state(),
            "outcome_linear": linear,
            "outcome_linear_weight": self.outcome_linear_weight,
            "metadata": self.metadata,
        }
        (folder / "model.json").write_text(json.dumps(doc, indent=2, default=str))
        return folder

    @classmethod
    def load(cls, folder: str | Path) -> MatchModel:
        """Read a model written by :meth:`save`."""
        folder = Path(folder)
        try:
            doc = json.loads((folder / "model.json").read_text())
        except (OSError, ValueError) as exc:
            raise ModelFormatError(f"{folder}: no readable model.json ({exc})") from exc
        if doc.get("format_version") != FORMAT_VERSION:
            raise ModelFormatError(
                f"{folder}: unsupported model format {doc.get('format_version')}"
            )
        if doc["features"] != list(FEATURE_NAMES):
            raise ModelFormatError(f"{folder}: model features differ from this engine's")
        with np.load(folder / "pipeline.npz", allow_pickle=False) as npz:
            arrays = {k: npz[k] for k in npz.files}
        engagement_file = folder / "engagement.txt"
        pre = doc.get("prefilter")
        linear = doc.get("outcome_linear")
        return cls(
            pipeline=FeaturePipeline.from_state(doc["pipeline"], arrays),
            outcome=lgb.Booster(model_file=str(folder / "outcome.txt")),
            engagement=lgb.Booster(model_file=str(engagement_file))
            if engagement_file.exists()
            else None,
            engagement_weight=float(doc["engagement_weight"]),
            prefilter=None if pre is None else Prefilter.from_state(pre),
            outcome_linear=None if linear is None else CaseMix.from_json(linear),
            outcome_linear_weight=float(doc.get("outcome_linear_weight", 0.0)),
            version=str(doc["version"]),
            metadata=dict(doc.get("metadata", {})),
        )


__all__ = ["PHASE_TWO_ONLY", "MatchModel", "Prefilter"]
