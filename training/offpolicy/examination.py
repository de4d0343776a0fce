"""The examination curve θ_k of the position-based model, estimated from logged choices.

Per position k, the self-normalised IPS mean of choices over the items the logging policy could
have put there, Σ_i Σ_{j at k} c_j / μ_j ÷ Σ_i Σ_{j at k} 1 / μ_j, estimates θ_k·ᾱ (E_μ of the
denominator is the number of eligible therapists, of the numerator θ_k Σ_t α_t). Divided by its
value at k = 1 it gives θ_k; a power law θ_k = k^−γ is then fitted by least squares on
log θ_k weighted by the choices at k (smooth, monotone, θ_1 = 1). Assumes position effects are
multiplicative and shared across intakes.
"""

from __future__ import annotations

import numpy as np
import numpy.typing as npt

from training.offpolicy.feedback import LoggedFeedback

F64 = npt.NDArray[np.float64]


def raw_examination(feedback: LoggedFeedback) -> F64:
    """Unsmoothed θ̂_k for k = 1..max logged position (NaN where nothing was chosen)."""
    depth = int(feedback.position.max(initial=0))
    at = feedback.position - 1
    inv = 1.0 / feedback.propensity
    num = np.bincount(at, weights=feedback.chosen * inv, minlength=depth)
    den = np.bincount(at, weights=inv, minlength=depth)
    rate = np.where(den > 0, num / np.where(den > 0, den, 1.0), np.nan)
    return rate / rate[0] if depth and rate[0] > 0 else np.full(depth, np.nan)


def fit_examination(feedback: LoggedFeedback) -> tuple[F64, float]:
    """(θ_k for k = 1..depth, γ) of the power law fitted to :func:`raw_examination`."""
    raw = raw_examination(feedback)
    depth = len(raw)
    k = np.arange(1, depth + 1, dtype=np.float64)
    weight = np.bincount(feedback.position - 1, weights=feedback.chosen, minlength=depth)
    ok = (k > 1) & np.isfinite(raw) & (raw > 0) & (weight > 0)
    if not ok.any():
        return np.ones(depth), 0.0
    lk, lr, wk = np.log(k[ok]), np.log(raw[ok]), weight[ok]
    gamma = max(float(-(wk * lk * lr).sum() / (wk * lk * lk).sum()), 0.0)
    return k**-gamma, gamma


__all__ = ["fit_examination", "raw_examination"]
