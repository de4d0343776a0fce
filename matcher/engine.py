"""The matching engine: triage → eligibility → features → score → re-rank → explain.

One :class:`Matcher` serves the HTTP API and ``matcher rank``; both therefore apply the same
safety rules and the same model. It is immutable: a new therapist pool or model is a new Matcher.
"""

from __future__ import annotations

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
    """Serving knobs (all settable through :class:`training.settings.Settings`)."""

    phase_one_size: int = 300
    """Candidates per intake that the full model scores (phase one keeps the best by proxy)."""
    load_penalty: float = 0.15
    """Strength of the load-aware re-rank (0 = off)."""
    severe_in_person_boost: float = 0.1
    """Relative boost for in-person-capable therapists when symptoms are severe."""


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
    ) -> None:
        self.model = model
        self.config = config or MatcherConfig()
        self.crisis = crisis or default_directory()
        self.pool = TherapistPool.from_frame(therapists)
        self._names = self.pool.frame["display_name"].astype(str).to_numpy()

    @property
    def model_version(self) -> str:
        """Version of the model in use."""
        return self.model.version

    def with_therapists(self, therapists: pd.DataFrame) -> Matcher:
        """The same model over a new pool."""
        return Matcher(self.model, therapists, self.config, self.crisis)

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


__all__ = ["Matcher", "MatcherConfig", "Scored"]
