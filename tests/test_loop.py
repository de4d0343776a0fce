"""The world's side of the closed loop: deterministic draws, valid event bodies, true uplift."""

from __future__ import annotations

from pathlib import Path

import numpy as np
import pandas as pd
import pytest
from pydantic import TypeAdapter

from api.schemas import OutcomeEvent
from synth import SyntheticWorld
from synth.candidates import candidate_pairs
from synth.loop import ClosedLoop, ServedLists, event_payloads


@pytest.fixture(scope="module")
def loop(small_world: Path) -> ClosedLoop:
    return ClosedLoop(SyntheticWorld.load(small_world), seed=5)


def logged_lists(loop: ClosedLoop, round_index: int, n: int) -> ServedLists:
    """The world's own logged lists of one round's arrivals (any served lists would do)."""
    arrivals = loop.arrivals(round_index, n)
    inter = loop.world.dataset.interactions
    rows = inter[inter["intake_id"].isin(arrivals["intake_id"])]
    return ServedLists.of(rows["intake_id"], rows["therapist_id"], rows["position"])


def test_rounds_take_the_next_intakes_in_time(loop: ClosedLoop) -> None:
    first, second = loop.arrivals(0, 50), loop.arrivals(1, 50)
    assert not set(first["intake_id"]) & set(second["intake_id"])
    assert first["submitted_at"].max() <= second["submitted_at"].min()


def test_draws_are_deterministic_per_seed_and_round(loop: ClosedLoop) -> None:
    served = logged_lists(loop, 0, 300)
    shuffled = served.take(np.random.default_rng(0).permutation(len(served)))
    a, b = loop.draw(served, 0), loop.draw(shuffled, 0)
    assert a.chosen.tolist() == b.chosen.tolist()
    assert a.outcomes.sessions.tolist() == b.outcomes.sessions.tolist()
    other_round = loop.draw(served, 1)
    other_seed = ClosedLoop(loop.world, seed=6).draw(served, 0)
    assert a.chosen.tolist() != other_round.chosen.tolist()
    assert a.chosen.tolist() != other_seed.chosen.tolist()


def test_at_most_one_booking_per_list_and_outcomes_for_bookings(loop: ClosedLoop) -> None:
    draws = loop.draw(logged_lists(loop, 0, 300), 0)
    per_list = pd.Series(draws.chosen).groupby(draws.served.intake_ids).sum()
    assert per_list.max() == 1
    assert 0 < draws.choices < per_list.size
    assert len(draws.outcomes.sessions) == draws.choices


def test_event_bodies_are_valid_and_describe_the_draws(loop: ClosedLoop) -> None:
    draws = loop.draw(logged_lists(loop, 0, 200), 0)
    events = event_payloads(draws, loop.submitted)
    adapter = TypeAdapter(OutcomeEvent)
    parsed = [adapter.validate_python(e) for e in events]
    assert len({e.event_id for e in parsed}) == len(parsed)
    start = loop.submitted
    assert all(e.occurred_at >= start[e.intake_id] for e in parsed)
    booked = draws.booked
    pairs = set(zip(booked.intake_ids, booked.therapist_ids, strict=True))
    assert {(e.intake_id, e.therapist_id) for e in parsed} == pairs
    sessions = sum(e.type == "session_attended" for e in parsed)
    assert sessions == int(draws.outcomes.sessions.sum())
    assert sum(e.type == "dropout" for e in parsed) == int(draws.outcomes.dropped_out.sum())


def test_uplift_is_one_for_the_oracle_and_about_zero_at_random(loop: ClosedLoop) -> None:
    replay = loop.replay
    arrivals = loop.arrivals(0, 300)
    batch = replay.batch.take(replay.batch.rows_of(list(arrivals["intake_id"])))
    pairs = candidate_pairs(batch, replay.pool)
    p = loop.world.truth.logits(batch, replay.pool, pairs).p_good
    ids, therapists = batch.ids[pairs.intake_idx], replay.pool.ids[pairs.therapist_idx]
    frame = pd.DataFrame(
        {"i": ids, "t": therapists, "p": p, "r": np.random.default_rng(1).random(len(p))}
    )

    def lists(by: str) -> ServedLists:
        frame["rank"] = frame.groupby("i")[by].rank(ascending=False, method="first").astype(int)
        return ServedLists.of(frame["i"], frame["t"], frame["rank"])

    assert loop.uplift(lists("p")) == pytest.approx(1.0)
    assert abs(loop.uplift(lists("r"))) < 0.25
    assert loop.true_value(lists("p").top(5)) > loop.true_value(lists("r").top(5))
