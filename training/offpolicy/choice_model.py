"""A single-choice model of how clients book from a whole list (multinomial logit + no choice).

Client i sees list L_i; therapist t at position k has utility u_t = z_t·β + δ_k (z_t: features
of the pair, e.g. the outcome model's engagement and benefit log-odds; δ_k the position effect,
one free δ per position by default, or with ``position="log"`` δ_k = δ_1 − γ·log k (a
power-law examination k^−γ on the odds, smooth and defined beyond the logged depth); the client
books at most one therapist,

  P(book t | L) = exp(u_t) / (1 + Σ_{s ∈ L} exp(u_s)),   P(book nobody | L) = 1 / (1 + Σ exp(u_s)),

so a strong list takes choices from its own members (substitution) instead of adding them up,
as position-based models do. Fitted by maximum likelihood on the logged lists and choices
(conditional logit with an outside option, BFGS with the analytic gradient
Σ_i Σ_j (c_j − P_j) ∂u_j, a small ridge ``alpha``·‖β, δ‖² for stability).
"""

from __future__ import annotations

import numpy as np
import numpy.typing as npt
from scipy.optimize import minimize

from core.errors import NotFittedError

F64 = npt.NDArray[np.float64]
I64 = npt.NDArray[np.int64]
B = npt.NDArray[np.bool_]


class ListChoiceModel:
    """Multinomial logit over a list with a no-choice option (module formula)."""

    def __init__(self, *, position: str = "free", alpha: float = 1e-4, max_iter: int = 500) -> None:
        self.position = position
        self.alpha = alpha
        self.max_iter = max_iter

    def _position_design(self, position: I64, depth: int) -> F64:
        if self.position == "log":
            k = np.maximum(position, 1).astype(np.float64)
            return np.column_stack([np.ones(len(position)), -np.log(k)])
        if self.position != "free":
            raise ValueError(f"position must be 'log' or 'free', not {self.position!r}")
        one_hot = np.zeros((len(position), depth))
        one_hot[np.arange(len(position)), np.clip(position, 1, depth) - 1] = 1.0
        return one_hot

    def position_effects(self, position: I64) -> F64:
        """δ_k of 1-based positions (a free fit holds its last δ beyond the logged depth)."""
        design = self._position_design(np.asarray(position, dtype=np.int64), self.depth_)
        return np.asarray(design @ self.position_coef_, dtype=np.float64)

    def fit(self, group: I64, position: I64, z: F64, chosen: B) -> ListChoiceModel:
        """Maximum likelihood on rows grouped by list ``group`` (0..n−1), 1-based ``position``,
        features ``z`` (rows × F) and the booked rows ``chosen`` (at most one per list)."""
        z = np.asarray(z, dtype=np.float64).reshape(len(group), -1)
        n_feat, depth = z.shape[1], int(position.max(initial=1))
        n = int(group.max(initial=-1)) + 1
        c = np.asarray(chosen, dtype=np.float64)
        booked = np.bincount(group, weights=c, minlength=n)
        if (booked > 1).any():
            raise ValueError("ListChoiceModel needs at most one booked row per list")
        design = np.hstack([z, self._position_design(position, depth)])

        def loss(params: F64) -> tuple[float, F64]:
            u = design @ params
            shift = np.zeros(n)
            np.maximum.at(shift, group, u)
            e = np.exp(u - shift[group])
            denom = np.exp(-shift) + np.bincount(group, weights=e, minlength=n)
            log_lik = float((c * u).sum() - (np.log(denom) + shift).sum())
            p = e / denom[group]
            grad = design.T @ (c - p)
            penalty = self.alpha * len(group)
            return (
                -log_lik + penalty * float(params @ params),
                -grad + 2 * penalty * params,
            )

        start = np.zeros(design.shape[1])
        result = minimize(loss, start, jac=True, method="BFGS", options={"maxiter": self.max_iter})
        self.coef_ = np.asarray(result.x[:n_feat], dtype=np.float64)
        self.position_coef_ = np.asarray(result.x[n_feat:], dtype=np.float64)
        self.depth_ = depth
        self.position_effect_ = self.position_effects(np.arange(1, depth + 1))
        self.log_likelihood_ = -float(result.fun)
        return self

    def predict_proba(self, group: I64, position: I64, z: F64, n: int) -> F64:
        """P(book t | its list) of every row (lists given by ``group`` in 0..n−1)."""
        if not hasattr(self, "coef_"):
            raise NotFittedError("ListChoiceModel is not fitted")
        z = np.asarray(z, dtype=np.float64).reshape(len(group), -1)
        u = z @ self.coef_ + self.position_effects(position)
        shift = np.zeros(n)
        np.maximum.at(shift, group, u)
        e = np.exp(u - shift[group])
        denom = np.exp(-shift) + np.bincount(group, weights=e, minlength=n)
        return np.asarray(e / denom[group], dtype=np.float64)


__all__ = ["ListChoiceModel"]
