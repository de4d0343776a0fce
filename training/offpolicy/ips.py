"""Inverse-propensity estimators over item-position propensities (Li et al. 2018, "IP" model).

Assumption: the reward of a therapist at a position does not depend on the rest of the list.
For a deterministic target policy π with π_i(t) the position it gives therapist t for intake i,

  IPS   V̂ = (1/n) Σ_i Σ_{j ∈ logged_i} 1[π_i(t_j) = k_j] · r_j / μ(t_j, k_j | x_i)

  SNIPS V̂ = K̄ · Σ_i Σ_j w_j r_j / Σ_i Σ_j w_j,   w_j = 1[π_i(t_j) = k_j] / μ_j

where E_μ[Σ_j w_j] = K_i, the slots π fills for intake i (within the logged lists' depth), and
K̄ = (1/n) Σ_i K_i. Unbiased (IPS) / consistent (SNIPS) when μ > 0 wherever π puts an item.
With deterministic π exact (therapist, position) matches are rare, so both are noisy.
"""

from __future__ import annotations

import numpy as np
import numpy.typing as npt

from training.offpolicy.feedback import LoggedFeedback
from training.offpolicy.intervals import Estimate, mean_estimate, ratio_estimate

F64 = npt.NDArray[np.float64]
I64 = npt.NDArray[np.int64]


def item_position_weights(feedback: LoggedFeedback, target_position: I64) -> F64:
    """w_j = 1[π_i(t_j) = k_j] / μ_j."""
    hit = (target_position == feedback.position) & (target_position > 0)
    return np.where(hit, 1.0 / feedback.propensity, 0.0)


def ips(feedback: LoggedFeedback, target_position: I64) -> Estimate:
    """Item-position IPS (see the module formula)."""
    w = item_position_weights(feedback, target_position)
    return mean_estimate(feedback.per_intake(w * feedback.reward))


def snips(feedback: LoggedFeedback, target_position: I64, slots: I64) -> Estimate:
    """Self-normalised item-position IPS; ``slots`` is K_i per intake."""
    w = item_position_weights(feedback, target_position)
    depth = int(feedback.position.max(initial=0))
    expected = float(np.minimum(slots, depth).mean()) if len(slots) else 0.0
    return ratio_estimate(
        feedback.per_intake(w * feedback.reward), feedback.per_intake(w), expected
    )


__all__ = ["ips", "item_position_weights", "snips"]
