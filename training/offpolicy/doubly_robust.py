"""Doubly robust estimation under the position-based model (Dudík et al. 2011 applied to PBM).

With q̂(x, t) an outcome model's prediction of α(x, t) (the reward once examined, scaled to the
logged rewards), the direct estimate of intake i is D_i = Σ_{t ∈ π_i} θ_{π(t)} q̂(x_i, t) and

  DR  V̂ = (1/n) Σ_i [ D_i + Σ_j w_j (r_j − θ_{k_j} q̂(x_i, t_j)) ],  w_j the PBM weights.

E_μ[Σ_j w_j θ_{k_j} q̂_j] = D_i, so V̂ is unbiased under the PBM whatever q̂ is, and its variance
is small where q̂ is good (the weighted residuals are small).
"""

from __future__ import annotations

import numpy as np
import numpy.typing as npt

from training.offpolicy.feedback import LoggedFeedback
from training.offpolicy.intervals import Estimate, mean_estimate
from training.offpolicy.pbm import pbm_weights, theta_at

F64 = npt.NDArray[np.float64]
I64 = npt.NDArray[np.int64]


def doubly_robust(
    feedback: LoggedFeedback,
    target_position: I64,
    theta: F64,
    *,
    q_logged: F64,
    direct: F64,
) -> Estimate:
    """DR (module formula); ``q_logged`` = q̂ of each logged row, ``direct`` = D_i per intake."""
    return mean_estimate(
        dr_contributions(feedback, target_position, theta, q_logged=q_logged, direct=direct)
    )


def dr_contributions(
    feedback: LoggedFeedback,
    target_position: I64,
    theta: F64,
    *,
    q_logged: F64,
    direct: F64,
) -> F64:
    """Per-intake DR terms D_i + Σ_j w_j (r_j − θ_{k_j} q̂_j); their mean is the DR estimate,
    and the difference of two policies' terms gives a paired interval."""
    w = pbm_weights(feedback, target_position, theta)
    residual = feedback.reward - theta_at(theta, feedback.position) * q_logged
    return np.asarray(direct + feedback.per_intake(w * residual), dtype=np.float64)


def calibrate_outcome(feedback: LoggedFeedback, theta: F64, q_logged: F64) -> float:
    """Scale c so that Σ_j c·θ_{k_j} q̂_j = Σ_j r_j on the logged rows (q̂ → α's units)."""
    expected = float((theta_at(theta, feedback.position) * q_logged).sum())
    return float(feedback.reward.sum() / expected) if expected > 0 else 0.0


__all__ = ["calibrate_outcome", "doubly_robust", "dr_contributions"]
