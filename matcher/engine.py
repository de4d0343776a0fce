"""The matching engine: triage → eligibility → features → score → re-rank → explain.

One :class:`Matcher` serves the HTTP API and ``matcher rank``; both therefore apply the same
safety rules and the same model. It is immutable: a new therapist pool or model is a new Matcher.
The one exception is opt-in: with ``exposure_mitigation`` > 0 it keeps running exposure totals
(:class:`ExposureLedger`, shared with the engines :meth:`Matcher.with_therapists` builds).
"""

from __future__ import annotations

import copy
import dataclasses
import threading
from collections.abc import Sequence
from dataclasses import dataclass

import numpy as np
import numpy.typing as npt
import pandas as pd

from core.config import MatcherConfig
from features.encoding import IntakeBatch, Pairs, Rows, TherapistPool
from features.pipeline import FEATURE_NAMES
from features.pool_merge import PoolMerge
from features.text import TextEmbedder
from matcher.allocation import allocate
from matcher.crisis import CrisisDirectory, default_directory
from matcher.eligibility import CandidateIndex, Eligibility, eligible_pairs
from matcher.explanations import reasons_batch
from matcher.exploration import EXPLORE_PREFIX, Explored, explore, request_seeds
from matcher.fairness.exposure import position_weight, target_shares
from matcher.fairness.mitigation import exposure_adjusted
from matcher.model import MatchModel
from matcher.ranking import serving_order, top_per_group, top_ranks_within_groups
from matcher.results import (
    AllocationResult,
    Assignment,
    Match,
    MatchResult,
    RankedList,
    Status,
    Suggestion,
)
from matcher.rules import RulesModel
from matcher.suggestions import suggestions
from matcher.triage import Route, Triage, triage

HIGHER_CARE_NOTE = (
    "Your answers suggest symptoms that may need more support than weekly therapy alone. "
    "Please consider a higher level of care; therapists who also see clients in person are "
    "shown first."
)
UNKNOWN_PAYER_NOTE = (
    "No therapist here accepts this payer code: check the code with the platform, or choose "
    "self_pay to see therapists who take self-paying clients."
)
"""Payer codes are the platform's own (no list to check them against): one the pool has never
heard of is warned about in the answer instead of silently matching nobody."""
RISK_NOTE = "Only therapists trained in crisis support are shown. Help is available any time."
EMPTY_POOL_NOTE = "No therapists are available on this platform yet: please check back soon."
"""An empty pool (a new install before its therapists are loaded): said as such, not blamed on
the intake's answers."""


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


def _names(therapists: pd.DataFrame | None) -> list[str]:
    """Display names as the engine shows them."""
    return [] if therapists is None else therapists["display_name"].astype(str).tolist()


class BioEmbeddings:
    """Bio text → embedding under one model's text embedder, kept across the engines that
    :meth:`Matcher.with_therapists` builds, so a pool change embeds only the bios it adds."""

    def __init__(self) -> None:
        self._lock = threading.Lock()
        self._vectors: dict[str, npt.NDArray[np.float32]] = {}

    def embed(
        self, embedder: TextEmbedder, bios: Sequence[str], *, served: Sequence[str] | None = None
    ) -> npt.NDArray[np.float32]:
        """``embedder.transform(bios)``, computing only the texts not seen before. ``served``:
        every bio of the pool being served (default ``bios``: the whole pool's); once the cache
        holds more than twice as many texts, those not served are forgotten (edited away), so
        the cache stays bounded and a pool change pays for it in amortised O(change)."""
        with self._lock:
            missing = sorted({b for b in bios if b not in self._vectors})
            if missing:
                self._vectors.update(zip(missing, embedder.transform(missing), strict=True))
            if not len(bios):
                return embedder.transform([])
            out = np.stack([self._vectors[b] for b in bios])
            served = bios if served is None else served
            if len(self._vectors) > 2 * len(served) + 1000:
                keep = set(served)
                self._vectors = {b: v for b, v in self._vectors.items() if b in keep}
            return out


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
    """Ranks therapists for intakes with a fitted model over one therapist pool (or, at a cold
    start, the rules scorer :class:`matcher.rules.RulesModel`: same rules, another score)."""

    def __init__(
        self,
        model: MatchModel | RulesModel,
        therapists: pd.DataFrame,
        config: MatcherConfig | None = None,
        crisis: CrisisDirectory | None = None,
        *,
        exposure: ExposureLedger | None = None,
        bios: BioEmbeddings | None = None,
    ) -> None:
        self.model = model
        self.config = config or MatcherConfig()
        self.crisis = crisis or default_directory()
        # Bios embedded for an earlier pool of the same model are reused (a profile change
        # re-embeds one bio); the exposure totals are shared likewise.
        self.bios = bios if bios is not None else BioEmbeddings()
        self.exposure = exposure if exposure is not None else ExposureLedger()
        """Running exposure totals (updated only while ``exposure_mitigation`` > 0)."""
        pool = TherapistPool.from_frame(therapists)
        slots = self.exposure.slots(pool.ids) if self.config.exposure_mitigation > 0 else None
        self._serve(
            pool,
            names=pool.frame["display_name"].astype(str).to_numpy(),
            bio_text=self.bios.embed(self.model.pipeline.text_, pool.bios),
            slots=slots,
        )

    def _serve(
        self,
        pool: TherapistPool,
        *,
        names: npt.NDArray[np.object_],
        bio_text: npt.NDArray[np.float32],
        slots: npt.NDArray[np.int64] | None,
    ) -> None:
        """Hold ``pool`` and its per-therapist tables (rows aligned with the pool's)."""
        self.pool = pool
        self._names = names
        self._bio_text = bio_text
        self._slots = slots
        self._index = CandidateIndex(pool)
        """Therapists by licensed region and age group (built once per pool)."""
        # Therapist-side feature tables (bio embeddings, track-record alignment) are built here,
        # with the engine, not by the first request that needs them.
        self.model.pipeline.bind_pool(pool, bio_text=bio_text)

    @property
    def model_version(self) -> str:
        """Version of the model in use."""
        return self.model.version

    @property
    def stale_from(self) -> str | None:
        """The folder of the fallback copy being served, when the configured URI did not resolve."""
        return self.model.stale_from

    def with_therapists(self, therapists: pd.DataFrame) -> Matcher:
        """The same model over a new pool (the exposure totals carry over)."""
        return Matcher(
            self.model,
            therapists,
            self.config,
            self.crisis,
            exposure=self.exposure,
            bios=self.bios,
        )

    def with_changes(
        self,
        therapists: pd.DataFrame,
        upserted: pd.DataFrame | None,
        removed: Sequence[str] = (),
    ) -> Matcher:
        """The same model over ``therapists``: this pool with the ``upserted`` profiles (a typed
        frame) added or replaced and the ``removed`` ids taken out, ordered by id (as
        ``api.engine_state.merged_pool`` makes it). Ranks exactly as
        ``with_therapists(therapists)`` does, but only the changed therapists are encoded and
        embedded (:meth:`TherapistPool.updated`); the kept rows' tables are array copies."""
        new_ids = [] if upserted is None else [str(t) for t in upserted["therapist_id"]]
        merge = PoolMerge.plan(self.pool.ids, new_ids, removed, index=self.pool.index)
        pool = self.pool.updated(upserted, removed, merge=merge, frame=therapists)
        if len(pool.frame) != len(merge):
            raise ValueError("therapists is not this pool with the given changes")
        new_bios = [pool.bios[pool.index[t]] for t in new_ids]
        text = self.model.pipeline.text_
        added_text = (
            self.bios.embed(text, new_bios, served=pool.bios)
            if new_bios
            else np.zeros((0, self._bio_text.shape[1]), dtype=self._bio_text.dtype)
        )
        engine = copy.copy(self)
        engine._serve(
            pool,
            names=merge.rows(self._names, np.array(_names(upserted), dtype=object)),
            bio_text=merge.rows(self._bio_text, added_text),
            slots=None
            if self._slots is None
            else merge.rows(self._slots, self.exposure.slots(np.array(new_ids, dtype=object))),
        )
        return engine

    def score_batch(self, batch: IntakeBatch, routes: Triage) -> tuple[Eligibility, Scored]:
        """Eligibility for non-crisis intakes, then phased scoring of the eligible pairs."""
        elig = eligible_pairs(batch, self.pool, index=self._index)
        pairs = elig.pairs.take(routes.route[elig.pairs.intake_idx] != Route.CRISIS)
        pairs, x = self.features(batch, pairs)
        score = self.model.score(x)
        severe = routes.severe[pairs.intake_idx]
        adjusted = serving_order(score, pairs.therapist_idx, severe, self.pool, self.config)
        if self._slots is not None:
            exposure, target = self.exposure.state(self._slots[pairs.therapist_idx])
            adjusted = exposure_adjusted(
                adjusted, exposure, target, self.config.exposure_mitigation
            )
        return elig, Scored(pairs, x, score, adjusted)

    def features(self, batch: IntakeBatch, pairs: Pairs) -> tuple[Pairs, npt.NDArray[np.float32]]:
        """The pairs phase two scores and their feature matrix. When some intake has more than
        ``phase_one_size`` eligible pairs, phase one computes only the prefilter's features of
        every pair and keeps each intake's best by the prefilter; the rest of the features are
        computed for the kept pairs alone. The kept rows equal the full matrix's."""
        pipeline, prefilter = self.model.pipeline, self.model.prefilter
        text = pipeline.text_.transform(batch.free_text)
        counts = np.bincount(pairs.intake_idx, minlength=len(batch))
        if prefilter is None or counts.max(initial=0) <= self.config.phase_one_size:
            return pairs, pipeline.transform(batch, self.pool, pairs, intake_text=text)
        read = prefilter.columns_
        first = pipeline.transform(batch, self.pool, pairs, intake_text=text, columns=read)
        keep = top_per_group(
            pairs.intake_idx, prefilter.score_columns(first), self.config.phase_one_size
        )
        pairs = pairs.take(keep)
        x = np.empty((len(pairs), len(FEATURE_NAMES)), dtype=np.float32)
        x[:, read] = first[keep]
        rest = np.setdiff1d(np.arange(len(FEATURE_NAMES)), read)
        pipeline.transform(batch, self.pool, pairs, intake_text=text, columns=rest, into=x)
        return pairs, x

    def match_frame(
        self,
        intakes: Rows,
        *,
        top_k: int = 10,
        explain: bool = False,
        request_ids: Sequence[str] | None = None,
    ) -> list[MatchResult]:
        """Match every intake of a typed intakes frame or records (vectorised over the batch).

        ``request_ids`` (one per intake; default the intake ids) seed safe exploration when it
        is on, so the same request id always gets the same list.
        """
        batch = self.pool.encode_intakes(intakes)
        routes = triage(batch)
        elig, scored = self.score_batch(batch, routes)
        explored = self._explore(batch, routes, scored, top_k, request_ids)
        order = scored.adjusted if explored is None else explored.order
        rank = top_ranks_within_groups(scored.pairs.intake_idx, order, top_k)
        rows = np.flatnonzero(rank < top_k)
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
        by_intake = self.build_matches(
            batch, scored, rows, rank, explain=explain, explored=explored
        )
        advice = self._suggestions(batch, routes, elig)
        results = [
            self._result(batch, routes, elig, i, by_intake.get(i, []), advice=advice.get(i, []))
            for i in range(len(batch))
        ]
        if explored is None:
            return results
        return [
            dataclasses.replace(r, policy=EXPLORE_PREFIX + self.model_version)
            if explored.explored[i]
            else r
            for i, r in enumerate(results)
        ]

    def build_matches(
        self,
        batch: IntakeBatch,
        scored: Scored,
        rows: npt.NDArray[np.int64],
        rank: npt.NDArray[np.int64],
        *,
        explain: bool,
        explored: Explored | None = None,
    ) -> dict[int, list[Match]]:
        """The shown pairs ``rows`` (ordered) as :class:`Match` lists by intake position.

        Everything is computed over all rows at once (ids, names, scores, feature values,
        contributions, reasons); the loop only assembles the result objects.
        """
        pairs = scored.pairs
        x = scored.x[rows]
        contrib = self.model.contributions(x) if len(rows) else np.zeros((0, 0))
        intake_idx, therapist_idx = pairs.intake_idx[rows], pairs.therapist_idx[rows]
        texts = reasons_batch(batch, self.pool, intake_idx, therapist_idx, x=x, contrib=contrib)
        features = np.where(np.isfinite(x), x, np.nan).astype(np.float64).tolist()
        names = list(FEATURE_NAMES)
        explained = (
            [
                dict(zip(names, c[: len(names)], strict=True)) | {"bias": c[-1]}
                for c in contrib.astype(np.float64).tolist()
            ]
            if explain
            else [None] * len(rows)
        )
        columns = zip(
            intake_idx.tolist(),
            self.pool.ids[therapist_idx].tolist(),
            self._names[therapist_idx].tolist(),
            (rank[rows] + 1).tolist(),
            np.round(scored.adjusted[rows], 6).tolist(),
            np.round(scored.score[rows], 6).tolist(),
            texts,
            explained,
            features,
            (np.ones(len(rows)) if explored is None else explored.propensity[rows]).tolist(),
            (np.ones(len(rows)) if explored is None else explored.shown_propensity[rows]).tolist(),
            strict=True,
        )
        by_intake: dict[int, list[Match]] = {}
        for (
            i,
            tid,
            name,
            position,
            score,
            benefit,
            why,
            contributions,
            values,
            propensity,
            shown,
        ) in columns:
            by_intake.setdefault(i, []).append(
                Match(
                    therapist_id=str(tid),
                    rank=position,
                    score=score,
                    display_name=name,
                    predicted_benefit=benefit,
                    reasons=why,
                    contributions=contributions,
                    features=dict(zip(names, values, strict=True)),
                    propensity=propensity,
                    shown_propensity=shown,
                )
            )
        return by_intake

    def _explore(
        self,
        batch: IntakeBatch,
        routes: Triage,
        scored: Scored,
        top_k: int,
        request_ids: Sequence[str] | None,
    ) -> Explored | None:
        """Safe exploration of the scored pairs (None when off); severe intakes are not explored
        (their in-person routing order is a safety rule)."""
        if not self.config.exploration:
            return None
        keys = list(request_ids) if request_ids is not None else [str(x) for x in batch.ids]
        return explore(
            scored.pairs.intake_idx.astype(np.int64),
            scored.adjusted,
            scored.pairs.therapist_idx.astype(np.int64),
            seeds=request_seeds(keys),
            allowed=~routes.severe.astype(bool),
            top_k=top_k,
            tolerance=self.config.exploration_tolerance,
        )

    def match(
        self,
        intake: Rows,
        *,
        top_k: int = 10,
        explain: bool = False,
        request_id: str | None = None,
    ) -> MatchResult:
        """Match one intake (a one-row typed intakes frame, or a one-record list)."""
        ids = None if request_id is None else [request_id]
        return self.match_frame(intake, top_k=top_k, explain=explain, request_ids=ids)[0]

    def ranked(self, intake: Rows, *, top_k: int = 10) -> RankedList:
        """The list :meth:`match` would show one intake, in the same order before exploration
        (same triage, hard constraints and re-ranking), without explanations or exposure
        bookkeeping: what a shadow arm logs at a fraction of a match's cost."""
        batch = self.pool.encode_intakes(intake)
        routes = triage(batch)
        _, scored = self.score_batch(batch, routes)
        pairs = scored.pairs
        rank = top_ranks_within_groups(pairs.intake_idx, scored.adjusted, top_k)
        rows = np.flatnonzero(rank < top_k)
        rows = rows[np.argsort(rank[rows], kind="stable")]
        return RankedList(
            intake_id=str(batch.ids[0]),
            model_version=self.model_version,
            therapist_ids=[str(t) for t in self.pool.ids[pairs.therapist_idx[rows]].tolist()],
            scores=np.round(scored.score[rows], 6).tolist(),
        )

    def _suggestions(
        self, batch: IntakeBatch, routes: Triage, elig: Eligibility
    ) -> dict[int, list[Suggestion]]:
        """What each non-crisis intake without an eligible therapist could change."""
        unmatched = np.flatnonzero((elig.n_eligible == 0) & (routes.route != Route.CRISIS))
        return suggestions(batch, self.pool, unmatched, elig.excluded, index=self._index)

    def _result(
        self,
        batch: IntakeBatch,
        routes: Triage,
        elig: Eligibility,
        i: int,
        matches: list[Match],
        *,
        advice: list[Suggestion],
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
        if len(self.pool) == 0:
            notes.append(EMPTY_POOL_NOTE)
        elif batch.payment[i] < 0:
            notes.append(UNKNOWN_PAYER_NOTE)
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
            suggestions=[] if matches else advice,
        )

    def allocate(self, intakes: Rows) -> AllocationResult:
        """Assign each intake at most one therapist, within open slots, maximising total benefit."""
        batch = self.pool.encode_intakes(intakes)
        routes = triage(batch)
        elig, scored = self.score_batch(batch, routes)
        advice = self._suggestions(batch, routes, elig)
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
            elif j < 0 and i in advice:
                told = advice[i]
                reason = told[0].message if told else "no therapist passes the hard constraints"
                assignments.append(
                    Assignment(intake_id, Status.NO_ELIGIBLE_MATCH, reason=reason, suggestions=told)
                )
            elif j < 0:
                assignments.append(
                    Assignment(
                        intake_id,
                        Status.NO_ELIGIBLE_MATCH,
                        reason="every therapist who fits has no open slot left in this cohort",
                    )
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


__all__ = ["ExposureLedger", "Matcher", "Scored"]
