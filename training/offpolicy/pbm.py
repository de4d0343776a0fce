"""Position-based-model estimators (Li et al. 2018, "Offline Evaluation of Ranking Policies with
Click Models", PBM).

Assumption (PBM): the reward of therapist t at position k is θ_k·α(x, t): the client examines
position k with probability θ_k (θ_1 = 1), whatever else is on the list, and α is what t is worth
to this client once examined. Then V(π) = E_x Σ_{t ∈ π} θ_{π(t)} α(x, t), and with ρ_j =
P_μ(t_j shown | x) the logging policy's marginal of showing t_j anywhere,

  PBM-IPS   V̂ = (1/n) Σ_i Σ_j w_j r_j,     w_j = θ_{π_i(t_j)} / (θ_{k_j} · ρ_j)

is unbiased: E_μ[Σ_j w_j r_j] = Σ_t Σ_k μ(t, k) · θ_{π(t)} θ_k α_t / (θ_k ρ_t)
= Σ_{t∈π} θ_{π(t)} α_t.
A therapist counts wherever the logging policy showed it, which is what makes deterministic
targets estimable. Its control Σ_j w_j θ_{k_j} = Σ_j θ_{π(t_j)} / ρ_j has mean Θ_i = Σ_{k≤K_i} θ_k:

  PBM-SNIPS V̂ = Θ̄ · Σ_i Σ_j w_j r_j / Σ_i Σ_j w_j θ_{k_j}.
"""

from __future__ import annotations

import numpy as np
import numpy.typing as npt

from training.offpolicy.feedback import LoggedFeedback
from training.offpolicy.intervals import Estimate, mean_estimate, ratio_estimate

F64 = npt.NDArray[np.float64]
I64 = npt.NDArray[np.int64]


def theta_at(theta: F64, position: I64) -> F64:
    """θ_k for 1-based positions (0 for position 0 = not listed, and beyond θ's depth)."""
    padded = np.r_[0.0, theta, 0.0]
    return padded[np.clip(position, 0, len(theta) + 1)]


def pbm_weights(feedback: LoggedFeedback, target_position: I64, theta: F64) -> F64:
    """w_j = θ_{π(t_j)} / (θ_{k_j} ρ_j)."""
    logged = theta_at(theta, feedback.position)
    return theta_at(theta, target_position) / (
        np.maximum(logged, 1e-12) * feedback.shown_propensity
    )


def expected_examination(slots: I64, theta: F64) -> F64:
    """Θ_i = Σ_{k ≤ K_i} θ_k per intake."""
    cumulative = np.r_[0.0, np.cumsum(theta)]
    return cumulative[np.minimum(slots, len(theta))]


def pbm_ips(feedback: LoggedFeedback, target_position: I64, theta: F64) -> Estimate:
    """PBM-IPS (see the module formula)."""
    w = pbm_weights(feedback, target_position, theta)
    return mean_estimate(feedback.per_intake(w * feedback.reward))


def pbm_snips(feedback: LoggedFeedback, target_position: I64, theta: F64, slots: I64) -> Estimate:
    """PBM-SNIPS (see the module formula); ``slots`` is K_i per intake."""
    w = pbm_weights(feedback, target_position, theta)
    control = w * theta_at(theta, feedback.position)
    scale = float(expected_examination(slots, theta).mean()) if len(slots) else 0.0
    return ratio_estimate(
        feedback.per_intake(w * feedback.reward), feedback.per_intake(control), scale
    )


__all__ = ["expected_examination", "pbm_ips", "pbm_snips", "pbm_weights", "theta_at"]
