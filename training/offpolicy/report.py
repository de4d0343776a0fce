"""Off-policy estimates of several policies on one logged dataset (SPEC §7 ``matcher evaluate``).

Each target policy is a set of deterministic top-k lists on the logged intakes. Its value is the
rate of good outcomes per intake (chosen, retained ≥ 4 sessions, reliably improved, as the label
config defines); the logging policy's value is its observed rate. Estimators: item-position IPS
and SNIPS (:mod:`.ips`), PBM-IPS and PBM-SNIPS (:mod:`.pbm`) and the PBM doubly robust estimator
(:mod:`.doubly_robust`) with the outcome model as q̂.
"""

from __future__ import annotations

from dataclasses import asdict, dataclass, field
from typing import Any

import numpy as np
import numpy.typing as npt
import pandas as pd

from training.offpolicy.choice_dr import ChoiceDoublyRobust
from training.offpolicy.doubly_robust import dr_contributions
from training.offpolicy.examination import fit_examination
from training.offpolicy.feedback import LoggedFeedback
from training.offpolicy.intervals import Estimate, mean_estimate
from training.offpolicy.ips import ips, snips
from training.offpolicy.pbm import pbm_ips, pbm_snips, theta_at
from training.offpolicy.targets import TargetLists, target_positions

F64 = npt.NDArray[np.float64]
I64 = npt.NDArray[np.int64]
Obj = npt.NDArray[np.object_]
ESTIMATORS = ("ips", "snips", "pbm_ips", "pbm_snips", "dr", "choice_dr")
HEADLINE = "choice_dr"
"""The headline estimator: what the promotion gate decides on and `matcher evaluate` leads with
(unbiased under single choice, lowest RMSE and the SPEC §6 coverage on the synthetic worlds;
docs/off-policy.md)."""
LOGGING = "logging"
OBSERVED = "observed"


@dataclass(frozen=True)
class PolicyEstimate:
    """One row of the SPEC §7 JSON."""

    name: str
    estimator: str
    value: float
    ci_low: float
    ci_high: float
    n: int

    @classmethod
    def of(cls, name: str, estimator: str, est: Estimate) -> PolicyEstimate:
        """From an :class:`Estimate`."""
        return cls(name, estimator, est.value, est.ci_low, est.ci_high, est.n)


@dataclass
class OffPolicyReport:
    """Estimates of every policy, and what the reader must know about them."""

    estimates: list[PolicyEstimate]
    caveats: list[str] = field(default_factory=list)
    theta: list[float] = field(default_factory=list)
    """The fitted examination curve θ_1..θ_depth."""

    def to_json(self) -> dict[str, Any]:
        """``{"policies": [...], "caveats": [...]}`` (SPEC §7)."""
        return {
            "policies": [_finite(asdict(e)) for e in self.estimates],
            "caveats": list(self.caveats),
        }

    def frame(self) -> pd.DataFrame:
        """The estimates as a table."""
        return pd.DataFrame([asdict(e) for e in self.estimates])

    def get(self, name: str, estimator: str = HEADLINE) -> PolicyEstimate | None:
        """The estimate of ``name`` by ``estimator``, if present."""
        return next(
            (e for e in self.estimates if e.name == name and e.estimator == estimator), None
        )


def _finite(row: dict[str, Any]) -> dict[str, Any]:
    return {k: (None if isinstance(v, float) and not np.isfinite(v) else v) for k, v in row.items()}


class OutcomeLookup:
    """q̂(x, t) by (intake index, therapist id), scaled to α's units; the mean where unknown."""

    def __init__(self, group: I64, therapist_ids: Obj, q: F64) -> None:
        keys = pd.MultiIndex.from_arrays([group, np.asarray(therapist_ids).astype(str)])
        first = ~keys.duplicated()
        self.keys = keys[first]
        self.q = np.asarray(q, dtype=np.float64)[first]
        self.default = float(self.q.mean()) if len(self.q) else 0.0

    def __call__(self, group: I64, therapist_ids: Obj) -> F64:
        """q̂ of the given pairs."""
        at = self.keys.get_indexer(
            pd.MultiIndex.from_arrays([group, np.asarray(therapist_ids).astype(str)])
        )
        return np.where(at >= 0, self.q[np.maximum(at, 0)], self.default)

    def scaled(self, factor: float) -> OutcomeLookup:
        """The same lookup with every q̂ multiplied by ``factor``."""
        out = OutcomeLookup.__new__(OutcomeLookup)
        out.keys, out.q, out.default = self.keys, self.q * factor, self.default * factor
        return out


def observed(feedback: LoggedFeedback) -> Estimate:
    """The logging policy's own rate: mean over intakes of Σ_j r_j (at most one choice each)."""
    return mean_estimate(feedback.per_intake(feedback.reward))


def estimate_lists(
    name: str,
    feedback: LoggedFeedback,
    lists: TargetLists,
    theta: F64,
    outcome: OutcomeLookup | None,
    *,
    estimators: tuple[str, ...] = ESTIMATORS,
    choice: ChoiceDoublyRobust | None = None,
) -> list[PolicyEstimate]:
    """Every estimator's value of one policy's lists."""
    pos = target_positions(feedback, lists)
    slots = lists.slots(feedback.n)
    found: dict[str, Estimate] = {}
    if "ips" in estimators:
        found["ips"] = ips(feedback, pos)
    if "snips" in estimators:
        found["snips"] = snips(feedback, pos, slots)
    if "pbm_ips" in estimators:
        found["pbm_ips"] = pbm_ips(feedback, pos, theta)
    if "pbm_snips" in estimators:
        found["pbm_snips"] = pbm_snips(feedback, pos, theta, slots)
    if "dr" in estimators and outcome is not None:
        found["dr"] = mean_estimate(dr_terms(feedback, lists, theta, outcome))
    if "choice_dr" in estimators and choice is not None:
        found["choice_dr"] = mean_estimate(choice.contributions(feedback, lists))
    return [PolicyEstimate.of(name, k, v) for k, v in found.items()]


def dr_terms(
    feedback: LoggedFeedback, lists: TargetLists, theta: F64, outcome: OutcomeLookup
) -> F64:
    """Per-intake doubly robust terms of one policy (see :mod:`.doubly_robust`)."""
    q_list = outcome(lists.group, lists.therapist_ids)
    direct = np.bincount(
        lists.group, weights=theta_at(theta, lists.position) * q_list, minlength=feedback.n
    ).astype(np.float64)
    q_logged = outcome(feedback.group, feedback.therapist_ids)
    pos = target_positions(feedback, lists)
    return dr_contributions(feedback, pos, theta, q_logged=q_logged, direct=direct)


def examination(feedback: LoggedFeedback) -> tuple[F64, str]:
    """θ of the PBM and a caveat stating it."""
    theta, gamma = fit_examination(feedback)
    return theta, (
        f"PBM estimators assume a client examines position k with probability θ_k = k^−{gamma:.2f} "
        "(fitted on the logged choices) whatever else is on the list"
    )


__all__ = [
    "ESTIMATORS",
    "HEADLINE",
    "LOGGING",
    "OBSERVED",
    "OffPolicyReport",
    "OutcomeLookup",
    "PolicyEstimate",
    "dr_terms",
    "estimate_lists",
    "examination",
    "observed",
]
