"""The world's side of the closed loop (``matcher simulate``, SPEC §7): who arrives, and what the
world's clients do with the lists a service actually served.

Pure: no HTTP and no model. A round takes the next ``n`` of the world's intakes in submission
order; for the lists served to them the world's clients choose as they did in the logged history
(:class:`synth.replay.ListReplay`: examination position^−decay, appeal σ(a + level), Gumbel
choice, or nobody) and the booked pairs' courses of therapy are drawn from the true outcome model
(:func:`synth.outcomes.draw_outcomes`). Draws are seeded by ``(seed, round)``, so the same lists
always give the same choices and outcomes. :func:`event_payloads` turns the draws into the
``POST /v1/events`` bodies a platform would send; :meth:`ClosedLoop.uplift` scores the served lists
with the truth (uplift captured at top-k, SPEC §5).
"""

from __future__ import annotations

import json
import math
from collections.abc import Sequence
from dataclasses import dataclass
from typing import Any

import numpy as np
import numpy.typing as npt
import pandas as pd

from core.ranking import random_topk_mean, topk_mean, uplift_captured
from features.encoding import Pairs
from synth import outcomes
from synth.candidates import candidate_pairs
from synth.outcomes import Outcomes
from synth.replay import ListReplay
from synth.world import SyntheticWorld

F64 = npt.NDArray[np.float64]
I64 = npt.NDArray[np.int64]
B = npt.NDArray[np.bool_]
Obj = npt.NDArray[np.object_]

CHOICE_STREAM = 0
OUTCOME_STREAM = 1
SESSION_GAP = pd.Timedelta(days=7)
"""Sessions are weekly from the intake's submission; the other events follow them."""


def _json_value(value: Any) -> Any:
    if isinstance(value, pd.Timestamp):
        return value.isoformat()
    if value is pd.NA or value is pd.NaT or (isinstance(value, float) and math.isnan(value)):
        return None
    return value


def json_records(frame: pd.DataFrame) -> list[dict[str, Any]]:
    """A typed contract table's rows as JSON bodies (lists as lists, times as ISO strings,
    missing cells as null)."""
    records = [
        {str(k): _json_value(v) for k, v in record.items()} for record in frame.to_dict("records")
    ]
    return list(json.loads(json.dumps(records, default=lambda v: v.item())))


@dataclass(frozen=True)
class ServedLists:
    """The lists a service served in one round: one row per shown therapist."""

    intake_ids: Obj
    therapist_ids: Obj
    position: I64
    """1-based rank on the served list."""

    @classmethod
    def of(
        cls, intake_ids: Sequence[str], therapist_ids: Sequence[str], position: Sequence[int]
    ) -> ServedLists:
        """From three parallel sequences."""
        return cls(
            np.asarray(intake_ids, dtype=object),
            np.asarray(therapist_ids, dtype=object),
            np.asarray(position, dtype=np.int64),
        )

    def __len__(self) -> int:
        return len(self.position)

    def take(self, rows: I64 | B) -> ServedLists:
        """A subset of rows."""
        return ServedLists(self.intake_ids[rows], self.therapist_ids[rows], self.position[rows])

    def top(self, k: int) -> ServedLists:
        """The first ``k`` positions of every list."""
        return self.take(self.position <= k)


@dataclass(frozen=True)
class RoundDraws:
    """What the world's clients did with one round's lists."""

    served: ServedLists
    """The lists, sorted by intake row in the world, then position."""
    chosen: B
    """Booked rows of ``served`` (at most one per intake)."""
    outcomes: Outcomes
    """The course of therapy of each booked row, in ``served`` order."""

    @property
    def booked(self) -> ServedLists:
        """The booked rows."""
        return self.served.take(self.chosen)

    @property
    def choices(self) -> int:
        """Clients who booked someone."""
        return int(self.chosen.sum())


class ClosedLoop:
    """A synthetic world played as live traffic: arrivals, choices and outcomes, true value."""

    def __init__(self, world: SyntheticWorld, *, seed: int = 0) -> None:
        self.world = world
        self.seed = seed
        self.replay = ListReplay(world.truth, world.dataset)
        intakes = world.dataset.intakes
        order = np.argsort(intakes["submitted_at"].to_numpy(), kind="stable")
        self.intakes = intakes.iloc[order].reset_index(drop=True)
        """The world's intakes in submission order: the order they arrive in."""
        self._submitted = pd.Series(
            pd.to_datetime(self.intakes["submitted_at"], utc=True).to_numpy(),
            index=self.intakes["intake_id"].astype(str),
        )

    def __len__(self) -> int:
        return len(self.intakes)

    def arrivals(self, round_index: int, n: int, *, skip: int = 0) -> pd.DataFrame:
        """The ``n`` intakes of round ``round_index`` (0-based): the next ones in time, after
        the first ``skip``."""
        start = skip + round_index * n
        return self.intakes.iloc[start : start + n]

    def history_ids(self, first: int, count: int) -> list[str]:
        """Ids of ``count`` intakes in arrival order from the ``first``: the world's logged
        history of the intakes a loop served (or of what a given model is trained on)."""
        return [str(i) for i in self.intakes["intake_id"].iloc[first : first + count]]

    def _rng(self, round_index: int, stream: int) -> np.random.Generator:
        return np.random.default_rng([self.seed, round_index, stream])

    def _sorted(self, served: ServedLists) -> ServedLists:
        row = self.replay.batch.rows_of(list(served.intake_ids))
        if (row < 0).any():
            missing = served.intake_ids[row < 0][0]
            raise ValueError(f"intake {missing!r} is not one of the world's")
        return served.take(np.lexsort((served.position, row)))

    def _pairs(self, served: ServedLists) -> Pairs:
        i = self.replay.batch.rows_of(list(served.intake_ids)).astype(np.int64)
        j = self.replay.pool.positions([str(t) for t in served.therapist_ids])
        if (j < 0).any():
            raise ValueError(f"therapist {served.therapist_ids[j < 0][0]!r} is not the world's")
        return Pairs(i, j)

    def draw(self, served: ServedLists, round_index: int) -> RoundDraws:
        """The clients' choices on ``served`` (one replay of :class:`ListReplay`'s choice) and
        the booked pairs' outcomes; the same lists and round always give the same draws."""
        served = self._sorted(served)
        group, attract, _ = self.replay.pair_terms(served.intake_ids, served.therapist_ids)
        booked = self.replay.booking_probability(
            group, served.position, attract, draws=1, rng=self._rng(round_index, CHOICE_STREAM)
        )
        chosen = booked > 0
        pairs = self._pairs(served.take(chosen))
        lg = self.world.truth.logits(self.replay.batch, self.replay.pool, pairs)
        result = outcomes.draw_outcomes(self._rng(round_index, OUTCOME_STREAM), lg)
        return RoundDraws(served, chosen, result)

    def true_value(self, served: ServedLists, *, draws: int = 400) -> float:
        """True good outcomes per listed intake (Σ_t P(book t | list)·P(good | t), choice
        averaged over ``draws`` replays), what an off-policy estimate of the policy targets."""
        if len(served) == 0:
            return float("nan")
        return self.replay.value(
            served.intake_ids,
            served.therapist_ids,
            served.position,
            over=pd.unique(served.intake_ids),
            draws=draws,
            seed=self.seed,
        )

    def uplift(self, served: ServedLists, k: int = 5) -> float:
        """True uplift captured at top-``k`` of the served lists (SPEC §5):
        (U(served) − U(random eligible)) / (U(oracle) − U(random eligible)), U the mean true
        P(good outcome) of each listed intake's top k; eligibility is the world's own."""
        top = self._sorted(served.top(k))
        if len(top) == 0:
            return float("nan")
        truth, pool = self.world.truth, self.replay.pool
        listed = pd.unique(top.intake_ids)
        batch = self.replay.batch.take(self.replay.batch.rows_of(list(listed)))
        cands = candidate_pairs(batch, pool)
        p_cand = truth.logits(batch, pool, cands).p_good
        scored = np.isin(listed, batch.ids[cands.intake_idx])
        keep = np.isin(top.intake_ids, listed[scored])
        top = top.take(keep)
        p_served = truth.logits(self.replay.batch, pool, self._pairs(top)).p_good
        u_served = topk_mean(top.intake_ids.astype(str), -top.position, p_served, k)
        u_random = random_topk_mean(cands.intake_idx, p_cand)
        u_oracle = topk_mean(cands.intake_idx, p_cand, p_cand, k)
        return uplift_captured(u_served, u_random, u_oracle)

    @property
    def submitted(self) -> pd.Series:
        """Submission time (UTC) of every intake of the world, by intake id."""
        return self._submitted


def _event(
    intake: str, therapist: str, kind: str, at: pd.Timestamp, suffix: str = "", **value: Any
) -> dict[str, Any]:
    return {
        "event_id": f"sim:{intake}:{therapist}:{kind}{suffix}",
        "intake_id": intake,
        "therapist_id": therapist,
        "type": kind,
        "occurred_at": at.isoformat(),
        **value,
    }


def event_payloads(draws: RoundDraws, submitted_at: pd.Series) -> list[dict[str, Any]]:
    """The ``POST /v1/events`` bodies of one round's draws, each with a deterministic
    ``event_id`` (a re-post is a duplicate, never a second event).

    Per booked row: ``chosen`` one hour after the intake, one ``session_attended`` per session
    (weekly), ``alliance`` after the third (or last) session and ``improvement`` after the last
    (both only for clients who attended), ``dropout`` after the last session for dropouts.
    Nothing is sent for a list where nobody booked.
    """
    booked = draws.booked
    o = draws.outcomes
    start = submitted_at.loc[[str(i) for i in booked.intake_ids]].to_numpy()
    events: list[dict[str, Any]] = []
    for k in range(len(booked)):
        pair = (str(booked.intake_ids[k]), str(booked.therapist_ids[k]))
        t0 = pd.Timestamp(start[k])
        sessions = int(o.sessions[k])
        events.append(_event(*pair, "chosen", t0 + pd.Timedelta(hours=1)))
        events += [
            _event(*pair, "session_attended", t0 + s * SESSION_GAP, f":{s}")
            for s in range(1, sessions + 1)
        ]
        last = t0 + max(sessions, 1) * SESSION_GAP
        if sessions > 0:
            alliance_at = t0 + min(sessions, 3) * SESSION_GAP + pd.Timedelta(hours=2)
            events.append(_event(*pair, "alliance", alliance_at, value=float(o.alliance[k])))
            improved = int(o.improved[k] > 0)
            events.append(
                _event(*pair, "improvement", last + pd.Timedelta(hours=3), value=improved)
            )
        if bool(o.dropped_out[k]):
            events.append(_event(*pair, "dropout", last + pd.Timedelta(hours=4), value=1))
    return events


__all__ = ["ClosedLoop", "RoundDraws", "ServedLists", "event_payloads", "json_records"]
