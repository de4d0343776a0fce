"""Propensities for history that lacks them: a model of the logging policy's exposure.

A logistic regression of "shown" on the features of every eligible (intake, therapist) pair of
the logged intakes estimates ρ̂ = P(shown | x, t), rescaled per intake so Σ_t ρ̂ equals the list
length actually shown, clipped to [ρ_min, 1]. The item-position propensity is then taken as
μ̂(t, k) = ρ̂ / L_i (position uniform among the L_i shown slots), a crude assumption: item-position
estimators on estimated propensities are flagged as unreliable, PBM estimators use ρ̂ only.
Rows that carry logged propensities keep them.
"""

from __future__ import annotations

import numpy as np
import numpy.typing as npt
import pandas as pd
from sklearn.impute import SimpleImputer
from sklearn.linear_model import LogisticRegression
from sklearn.pipeline import make_pipeline
from sklearn.preprocessing import StandardScaler

from training.offpolicy.candidates import CandidateSet
from training.offpolicy.feedback import LoggedFeedback

F64 = npt.NDArray[np.float64]
MIN_SHOWN = 0.01
"""Floor of estimated P(shown): bounds the weights of rarely shown therapists."""


def estimate_propensities(
    feedback: LoggedFeedback, candidates: CandidateSet
) -> tuple[LoggedFeedback, str | None]:
    """Feedback with missing propensities filled in, and a caveat saying how (None if none
    were missing)."""
    missing_mu = np.isnan(feedback.propensity)
    missing_rho = np.isnan(feedback.shown_propensity)
    if not missing_mu.any() and not missing_rho.any():
        return feedback, None
    shown_keys = pd.MultiIndex.from_arrays([feedback.group, feedback.therapist_ids.astype(str)])
    cand_keys = pd.MultiIndex.from_arrays([candidates.group, candidates.therapist_ids.astype(str)])
    y = cand_keys.isin(shown_keys)
    length = np.bincount(feedback.group, minlength=feedback.n).astype(np.float64)
    if y.all() or not y.any():
        rho_cand = np.ones(len(candidates.group))
    else:
        model = make_pipeline(
            SimpleImputer(strategy="median", keep_empty_features=True),
            StandardScaler(),
            LogisticRegression(max_iter=300),
        ).fit(candidates.x, y)
        p = model.predict_proba(candidates.x)[:, 1]
        total = np.bincount(candidates.group, weights=p, minlength=feedback.n)
        rho_cand = p * (length / np.where(total > 0, total, 1.0))[candidates.group]
    at = cand_keys.get_indexer(shown_keys)
    rho = np.where(at >= 0, rho_cand[np.maximum(at, 0)], 1.0)
    rho = np.clip(rho, MIN_SHOWN, 1.0)
    mu = np.clip(rho / np.maximum(length[feedback.group], 1.0), MIN_SHOWN / 10, 1.0)
    shown = np.where(missing_rho, rho, feedback.shown_propensity)
    item = np.where(missing_mu, mu, feedback.propensity)
    caveat = (
        f"{int(missing_mu.sum()):,} of {len(missing_mu):,} logged rows had no propensity: "
        "estimated with a logistic model of which eligible therapists the logging policy "
        "showed (P(shown) rescaled to each list's length, floored at "
        f"{MIN_SHOWN}; position taken as uniform within the list). Estimates depend on that "
        "model; ips/snips on estimated item-position propensities are unreliable."
    )
    return feedback.with_propensities(item, shown), caveat


__all__ = ["MIN_SHOWN", "estimate_propensities"]
