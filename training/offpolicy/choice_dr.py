"""Choice-aware doubly robust estimation: a fitted single-choice model over the whole list.

Clients book at most one therapist from a list, so a list's value is not additive over its
positions: V(π) = E_x Σ_{t ∈ π} P(book t | π(x)) · g(x, t), with g = P(good outcome | booked t).
With P̂(t | L) a list choice model (:class:`.choice_model.ListChoiceModel`, fitted on the logged
lists and choices), ĝ an outcome model and ρ_j = P_μ(t_j shown | x) the logging policy's
marginal of showing t_j anywhere, the estimate is the mean over intakes of

  D_i = Σ_{t ∈ π_i} P̂(t | π_i) ĝ_t                                    (direct method)
  C_i = Σ_{j ∈ L_i} w_j (r_j − P̂(t_j | L_i) ĝ_j),   w_j = P̂(t_j | π_i) / (ρ_j P̂(t_j | L_i))

(w_j = 0 where π does not list t_j). Since E[r_j | L] = P(t_j | L) g_j,
E_μ[C_i] = Σ_{t ∈ π} P̂(t | π) E_{L ∋ t}[P(t | L) g_t / P̂(t | L) − ĝ_t]. So the estimate is
unbiased whatever ĝ is when P̂ is right up to a per-therapist factor (P = f_t P̂: the correction
rescales each therapist's modelled booking on π by how it really booked where it was shown), and
whatever P̂ is when both ĝ and the per-therapist ratio P/P̂ are right; what it cannot correct is
a choice model wrong in how the rest of the list changes a therapist's booking. It is the PBM
doubly robust estimator (:mod:`.doubly_robust`) with θ_k q̂ replaced by P̂(t | L) ĝ_t.
"""

from __future__ import annotations

from collections.abc import Callable, Sequence

import numpy as np
import numpy.typing as npt
from scipy.special import logit

from core.errors import NotFittedError
from training.offpolicy.choice_model import ListChoiceModel
from training.offpolicy.feedback import LoggedFeedback
from training.offpolicy.targets import TargetLists, at_logged_rows

F64 = npt.NDArray[np.float64]
I64 = npt.NDArray[np.int64]
Obj = npt.NDArray[np.object_]
PairLookup = Callable[[I64, Obj], F64]
"""A per-(intake index, therapist id) prediction, e.g. :class:`.report.OutcomeLookup`."""
EPS = 1e-4


def choice_dr_contributions(
    feedback: LoggedFeedback,
    *,
    p_target_logged: F64,
    p_logged: F64,
    g_logged: F64,
    direct: F64,
) -> F64:
    """Per-intake terms D_i + C_i of the module formula: ``p_target_logged`` = P̂(t_j | π_i)
    (0 where π does not list t_j), ``p_logged`` = P̂(t_j | L_i), ``g_logged`` = ĝ_j,
    ``direct`` = D_i. Their mean is the estimate; differences give paired intervals."""
    w = p_target_logged / (np.maximum(p_logged, 1e-12) * feedback.shown_propensity)
    residual = feedback.reward - p_logged * g_logged
    return np.asarray(direct + feedback.per_intake(w * residual), dtype=np.float64)


class ChoiceDoublyRobust:
    """The choice-aware DR estimator: fit P̂ and ĝ's scale on the logged data, then value lists.

    ``inputs`` are the probabilities whose log-odds are the choice model's features z (e.g. the
    outcome model's engagement and benefit predictions); ``outcome`` is ĝ, rescaled by c so that
    Σ_j P̂(t_j | L_i) c ĝ_j = Σ_j r_j on the logged rows.
    """

    def __init__(self, *, position: str = "free", alpha: float = 1e-4) -> None:
        self.position = position
        self.alpha = alpha

    def _z(self, group: I64, therapist_ids: Obj, inputs: Sequence[PairLookup]) -> F64:
        cols = [logit(np.clip(f(group, therapist_ids), EPS, 1 - EPS)) for f in inputs]
        return np.column_stack(cols) if cols else np.zeros((len(group), 0))

    def fit(
        self,
        feedback: LoggedFeedback,
        inputs: Sequence[PairLookup],
        outcome: PairLookup,
    ) -> ChoiceDoublyRobust:
        """Fit the choice model on the logged lists and choices, and ĝ's scale."""
        self.inputs_ = list(inputs)
        self.outcome_ = outcome
        z = self._z(feedback.group, feedback.therapist_ids, self.inputs_)
        self.model_ = ListChoiceModel(position=self.position, alpha=self.alpha).fit(
            feedback.group, feedback.position, z, feedback.chosen
        )
        self.p_logged_ = self.model_.predict_proba(feedback.group, feedback.position, z, feedback.n)
        g = outcome(feedback.group, feedback.therapist_ids)
        expected = float((self.p_logged_ * g).sum())
        self.scale_ = float(feedback.reward.sum() / expected) if expected > 0 else 0.0
        self.g_logged_ = self.scale_ * g
        return self

    def booking(self, lists: TargetLists, n: int) -> F64:
        """P̂(book t | π_i) of every row of ``lists``."""
        if not hasattr(self, "model_"):
            raise NotFittedError("ChoiceDoublyRobust is not fitted")
        z = self._z(lists.group, lists.therapist_ids, self.inputs_)
        return self.model_.predict_proba(lists.group, lists.position, z, n)

    def contributions(self, feedback: LoggedFeedback, lists: TargetLists) -> F64:
        """Per-intake D_i + C_i of ``lists`` on the feedback it was fitted on."""
        p_target = self.booking(lists, feedback.n)
        g_target = self.scale_ * self.outcome_(lists.group, lists.therapist_ids)
        direct = np.bincount(lists.group, weights=p_target * g_target, minlength=feedback.n)
        return choice_dr_contributions(
            feedback,
            p_target_logged=at_logged_rows(feedback, lists, p_target),
            p_logged=self.p_logged_,
            g_logged=self.g_logged_,
            direct=direct.astype(np.float64),
        )


__all__ = ["ChoiceDoublyRobust", "PairLookup", "choice_dr_contributions"]
