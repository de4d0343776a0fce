"""The matching engine: triage → eligibility → features → score → re-rank → explain.

One :class:`Matcher` serves the HTTP API and ``matcher rank``; both therefore apply the same
safety rules and the same model. It is immutable: a new therapist pool or model is a new Matcher.
The one exception is opt-in: with ``exposure_mitigation`` > 0 it keeps running exposure totals
(:class:`ExposureLedger`, shared with the engines :meth:`Matcher.with_therapists` builds).
"""

from __future__ import annotations

import threading
from collections.abc import Sequence
from dataclasses import dataclass

import numpy as np
import numpy.typing as npt
import pandas as pd

from features.encoding import IntakeBatch, Pairs, Rows, TherapistPool
from features.pipeline import FEATURE_NAMES
from features.vocab import Format
from matcher.allocation import allocate
from matcher.crisis import CrisisDirectory, default_directory
from matcher.eligibility import Eligibility, eligible_pairs
from matcher.explanations import reasons
from matcher.fairness.exposure import position_weight, target_shares
from matcher.fairness.mitigation import exposure_adjusted
from matcher.model import MatchModel
from matcher.ranking import load_aware, rank_within_groups, top_per_group
from matcher.results import (
    AllocationResult,
    Assignment,
    Match,
    MatchResult,
    Status,
)
from matcher.triage import Route, Triage, triage

_IN_PERSON = np.uint64(1 << list(Format).index(Format.IN_PERSON))
HIGHER_CARE_NOTE = (
    "Your answers suggest symptoms that may need more support than weekly therapy alone. "
    "Please consider a higher level of care; therapists who also see clients in person are "
    "shown first."
)
RISK_NOTE = "Only therapists trained in crisis support are shown. Help is available any time."


@dataclass(frozen=True)
class MatcherConfig:
    """Serving knobs (all settable through :class:`core.settings.Settings`)."""

    phase_one_size: int = 300
    """Candidates per intake that the full model scores (phase one keeps the best by proxy)."""
    load_penalty: float = 0.15
    """Strength of the load-aware re-rank (0 = off)."""
    severe_in_person_boost: float = 0.1
    """Relative boost for in-person-capable therapists when symptoms are severe."""
    exposure_mitigation: float = 0.0
    """Strength s ∈ [0, 1] of exposure-aware re-ranking after the load-aware step (0 = off):
    adjusted · (1 + s · d_t), d_t = (target_t − exposure_t) / (target_t + exposure_t)
    (:func:`matcher.fairness.exposure_adjusted`)."""

    def __post_init__(self) -> None:
        if not 0.0 <= self.exposure_mitigation <= 1.0:
            raise ValueError(
                f"exposure_mitigation must be in [0, 1], got {self.exposure_mitigation}"
            )


class ExposureLedger:
    """Running exposure and merit-proportional target exposure per therapist id.

    Updated with every list the engine serves (amortised fairness of exposure, as
    :class:`matcher.fairness.ExposureReranker`, in arrays so that a request costs O(pairs))::

        exposure_t += w(p) = 1 / log2(1 + p)          for every list showing t at position p
        target_t   += E_i · m_it / Σ_t' m_it'          over the scored candidates t' of intake i

    E_i = Σ_p w(p) is the attention list i handed out and m_it ≥ 0 the predicted benefit (an
    intake whose merits are all 0 splits E_i equally), so Σ_t target_t = Σ_t exposure_t.
    Thread-safe: one lock around every read and update (the API serves from a threadpool).
    """

    def __init__(self) -> None:
        self._lock = threading.Lock()
        self._slot: dict[str, int] = {}
        self._exposure = np.zeros(0, dtype=np.float64)
        self._target = np.zeros(0, dtype=np.float64)

    def slots(
        self, therapist_ids: Sequence[str] | npt.NDArray[np.object_]
    ) -> npt.NDArray[np.int64]:
        """Ledger slot of each id (new ids start at 0 exposure and 0 target)."""
        with self._lock:
            for t in therapist_ids:
                self._slot.setdefault(str(t), len(self._slot))
            if len(self._slot) > len(self._exposure):
                grow = len(self._slot) - len(self._exposure)
                self._exposure = np.r_[self._exposure, np.zeros(grow)]
                self._target = np.r_[self._target, np.zeros(grow)]
            return np.fromiter(
                (self._slot[str(t)] for t in therapist_ids), np.int64, len(therapist_ids)
            )

    def state(
        self, slots: npt.NDArray[np.int64]
    ) -> tuple[npt.NDArray[np.float64], npt.NDArray[np.float64]]:
        """(exposure, target) at the given slots (copies)."""
        with self._lock:
            return self._exposure[slots], self._target[slots]

    def record(
        self,
        shown_intake: npt.NDArray[np.int64],
        shown_slot: npt.NDArray[np.int64],
        position: npt.NDArray[np.int64],
        *,
        pair_intake: npt.NDArray[np.int64],
        pair_slot: npt.NDArray[np.int64],
        merit: npt.NDArray[np.float64],
    ) -> None:
        """Add served lists: shown rows (intake, slot, 1-based position) and every scored pair
        (intake, slot, predicted benefit) of the same batch (intake codes 0..n−1)."""
        n = int(max(shown_intake.max(initial=-1), pair_intake.max(initial=-1))) + 1
        weight = position_weight(position) if len(position) else np.zeros(0)
        attention = np.bincount(shown_intake, weights=weight, minlength=n)
        target = target_shares(pair_intake, merit, attention)
        with self._lock:
            np.add.at(self._exposure, shown_slot, weight)
            np.add.at(self._target, pair_slot, target)

    def totals(self) -> pd.DataFrame:
        """``exposure`` and ``target`` per therapist id seen so far (index ``therapist_id``)."""
        with self._lock:
            ids = list(self._slot)
            frame = pd.DataFrame(
                {"exposure": self._exposure[: len(ids)], "target": self._target[: len(ids)]},
                index=pd.Index(ids, name="therapist_id"),
            )
        return frame


@dataclass(frozen=True)
class Scored:
    """Scored candidate pairs of a batch after phase one."""

    pairs: Pairs
    x: npt.NDArray[np.float32]
    score: npt.NDArray[np.float64]
    """Predicted benefit (model score) per pair."""
    adjusted: npt.NDArray[np.float64]
    """Score after load-aware and severity re-ranking (what the order uses)."""


class Matcher:
    """Ranks therapists for intakes with a fitted model over one therapist pool."""

    def __init__(
        self,
        model: MatchModel,
        therapists: pd.DataFrame,
        config: MatcherConfig | None = None,
        crisis: CrisisDirectory | None = None,
        *,
        exposure: ExposureLedger | None = None,
    ) -> None:
        self.model = model
        self.config = config or MatcherConfig()
        self.crisis = crisis or default_directory()
        self.pool = TherapistPool.from_frame(therapists)
        self._names = self.pool.frame["display_name"].astype(str).to_numpy()
        self.exposure = exposure if exposure is not None else ExposureLedger()
        """Running exposure totals (updated only while ``exposure_mitigation`` > 0)."""
        self._slots = (
            self.exposure.slots(self.pool.ids) if self.config.exposure_mitigation > 0 else None
        )

    @property
    def model_version(self) -> str:
        """Version of the model in use."""
        return self.model.version

    def with_therapists(self, therapists: pd.DataFrame) -> Matcher:
        """The same model over a new pool (the exposure totals carry over)."""
        return Matcher(self.model, therapists, self.config, self.crisis, exposure=self.exposure)

    def score_batch(self, batch: IntakeBatch, routes: Triage) -> tuple[Eligibility, Scored]:
        """Eligibility for non-crisis intakes, then phased scoring of the eligible pairs."""
        elig = eligible_pairs(batch, self.pool)
        pairs = elig.pairs.take(routes.route[elig.pairs.intake_idx] != Route.CRISIS)
        text = self.model.pipeline.text_.transform(batch.free_text)
        x = self.model.pipeline.transform(batch, self.pool, pairs, intake_text=text)
        counts = np.bincount(pairs.intake_idx, minlength=len(batch))
        if self.model.prefilter is not None and counts.max(initial=0) > self.config.phase_one_size:
            keep = top_per_group(
                pairs.intake_idx, self.model.prefilter.score(x), self.config.phase_one_size
            )
            pairs, x = pairs.take(keep), x[keep]
        score = self.model.score(x)
        adjusted = load_aware(score, self.pool.load[pairs.therapist_idx], self.config.load_penalty)
        severe = routes.severe[pairs.intake_idx]
        in_person = (self.pool.formats[pairs.therapist_idx] & _IN_PERSON) != 0
        adjusted = adjusted * (1 + self.config.severe_in_person_boost * (severe & in_person))
        if self._slots is not None:
            exposure, target = self.exposure.state(self._slots[pairs.therapist_idx])
            adjusted = exposure_adjusted(
                adjusted, exposure, target, self.config.exposure_mitigation
            )
        return elig, Scored(pairs, x, score, adjusted)

    def match_frame(
        self, intakes: Rows, *, top_k: int = 10, explain: bool = False
    ) -> list[MatchResult]:
        """Match every intake of a typed intakes frame or records (vectorised over the batch)."""
        batch = self.pool.encode_intakes(intakes)
        routes = triage(batch)
        elig, scored = self.score_batch(batch, routes)
        top = top_per_group(scored.pairs.intake_idx, scored.adjusted, top_k)
        rank = rank_within_groups(scored.pairs.intake_idx, scored.adjusted)
        rows = np.flatnonzero(top)
        rows = rows[np.lexsort((rank[rows], scored.pairs.intake_idx[rows]))]
        if self._slots is not None:
            pairs = scored.pairs
            self.exposure.record(
                pairs.intake_idx[rows].astype(np.int64),
                self._slots[pairs.therapist_idx[rows]],
                rank[rows] + 1,
                pair_intake=pairs.intake_idx.astype(np.int64),
                pair_slot=self._slots[pairs.therapist_idx],
                merit=scored.score,
            )
        contrib = self.model.contributions(scored.x[rows]) if len(rows) else np.zeros((0, 0))
        by_intake: dict[int, list[Match]] = {}
        for n, r in enumerate(rows):
            i, j = int(scored.pairs.intake_idx[r]), int(scored.pairs.therapist_idx[r])
            by_intake.setdefault(i, []).append(
                Match(
                    therapist_id=str(self.pool.ids[j]),
                    rank=int(rank[r]) + 1,
                    score=round(float(scored.adjusted[r]), 6),
                    display_name=str(self._names[j]),
                    predicted_benefit=round(float(scored.score[r]), 6),
                    reasons=reasons(batch, self.pool, i, j, x=scored.x[r], contrib=contrib[n]),
                    contributions=dict(
                        zip(
                            FEATURE_NAMES, map(float, contrib[n][: len(FEATURE_NAMES)]), strict=True
                        )
                    )
                    | {"bias": float(contrib[n][-1])}
                    if explain
                    else None,
                    features=dict(zip(FEATURE_NAMES, map(_finite, scored.x[r]), strict=True)),
                )
            )
        return [
            self._result(batch, routes, elig, i, by_intake.get(i, [])) for i in range(len(batch))
        ]

    def match(self, intake: Rows, *, top_k: int = 10, explain: bool = False) -> MatchResult:
        """Match one intake (a one-row typed intakes frame, or a one-record list)."""
        return self.match_frame(intake, top_k=top_k, explain=explain)[0]

    def _result(
        self, batch: IntakeBatch, routes: Triage, elig: Eligibility, i: int, matches: list[Match]
    ) -> MatchResult:
        route = int(routes.route[i])
        region = batch.regions[i]
        flags = routes.flags(i)
        resources = self.crisis.for_region(region) if route != Route.STANDARD else []
        notes: list[str] = []
        if route == Route.CRISIS:
            return MatchResult(
                intake_id=str(batch.ids[i]),
                status=Status.CRISIS,
                model_version=self.model_version,
                crisis_resources=resources,
                flags=flags,
                candidates=len(self.pool),
                notes=[
                    "Please reach out to a crisis line now; a clinician will follow up with you."
                ],
            )
        if route == Route.CRISIS_TRAINED_ONLY:
            notes.append(RISK_NOTE)
        if routes.severe[i]:
            notes.append(HIGHER_CARE_NOTE)
        return MatchResult(
            intake_id=str(batch.ids[i]),
            status=Status.MATCHED if matches else Status.NO_ELIGIBLE_MATCH,
            model_version=self.model_version,
            matches=matches,
            excluded=elig.excluded_for(i),
            crisis_resources=resources,
            flags=flags,
            candidates=int(elig.candidates[i]),
            eligible=int(elig.n_eligible[i]),
            notes=notes,
        )

    def allocate(self, intakes: Rows) -> AllocationResult:
        """Assign each intake at most one therapist, within open slots, maximising total benefit."""
        batch = self.pool.encode_intakes(intakes)
        routes = triage(batch)
        _, scored = self.score_batch(batch, routes)
        chosen = allocate(scored.pairs, scored.adjusted, self.pool.open_slots, len(batch))
        benefit = {
            (int(i), int(j)): float(s)
            for i, j, s in zip(
                scored.pairs.intake_idx, scored.pairs.therapist_idx, scored.score, strict=True
            )
        }
        assignments = []
        for i, j in enumerate(chosen):
            intake_id = str(batch.ids[i])
            if routes.route[i] == Route.CRISIS:
                assignments.append(Assignment(intake_id, Status.CRISIS, reason="crisis routing"))
            elif j < 0:
                assignments.append(
                    Assignment(intake_id, Status.NO_ELIGIBLE_MATCH, reason="no open slot fits")
                )
            else:
                assignments.append(
                    Assignment(
                        intake_id,
                        Status.MATCHED,
                        therapist_id=str(self.pool.ids[j]),
                        score=round(benefit[(i, int(j))], 6),
                    )
                )
        placed = [a for a in assignments if a.therapist_id is not None]
        return AllocationResult(
            model_version=self.model_version,
            assignments=assignments,
            total_score=round(sum(a.score or 0.0 for a in placed), 6),
            placed=len(placed),
        )


def _finite(v: np.float32) -> float:
    return float(v) if np.isfinite(v) else float("nan")


__all__ = ["ExposureLedger", "Matcher", "MatcherConfig", "Scored"]
