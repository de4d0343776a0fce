"""A pool changed in place (a few therapists upserted or deleted) is the pool built from scratch:
the encoded :class:`TherapistPool` field for field, and the engine over it ranks, explains and
allocates exactly as an engine rebuilt over the merged pool, over random change sequences."""

from __future__ import annotations

from dataclasses import fields
from pathlib import Path
from typing import Any

import numpy as np
import pandas as pd
import pytest
from factories import therapist_records, therapists_frame
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from core.config import MatcherConfig
from features.dataset import Dataset, load_dataset
from features.encoding import TherapistPool
from features.pool_merge import PoolMerge
from matcher.engine import Matcher
from matcher.model import MatchModel

IDS = ["t0", "t1", "t2", "t10", "t11", "T-9", "ä1", "z"]
"""Ids whose string order is not their insertion order (t10 < t2, T < t, ä after z)."""


def reference(
    pool: pd.DataFrame, upserted: pd.DataFrame | None, removed: list[str]
) -> pd.DataFrame:
    """The merged pool by definition: drop the changed ids, append, stable sort by id."""
    ids = set(removed) | (set(upserted["therapist_id"]) if upserted is not None else set())
    kept = pool[~pool["therapist_id"].isin(ids)]
    if upserted is not None and len(upserted):
        kept = upserted if kept.empty else pd.concat([kept, upserted], ignore_index=True)
    return kept.sort_values("therapist_id", kind="stable").reset_index(drop=True)


def assert_same_pool(got: TherapistPool, want: TherapistPool) -> None:
    for f in fields(want):
        a, b = getattr(got, f.name), getattr(want, f.name)
        if isinstance(b, pd.DataFrame):
            pd.testing.assert_frame_equal(a, b, check_exact=True)
        elif isinstance(b, np.ndarray):
            assert a.dtype == b.dtype and a.shape == b.shape, f.name
            assert np.array_equal(a, b, equal_nan=b.dtype.kind == "f"), f.name
        else:
            assert a == b, f.name


@st.composite
def steps(draw: st.DrawFn, n: int) -> list[tuple[Any, list[str]]]:
    """``n`` changes: upserted records (ids from IDS, new or existing) and removed ids."""
    out = []
    for _ in range(n):
        ids = draw(st.lists(st.sampled_from(IDS), max_size=3, unique=True))
        bodies = draw(therapist_records(len(ids))) if ids else []
        upserted = [{**b, "therapist_id": t} for b, t in zip(bodies, ids, strict=True)]
        removed = draw(st.lists(st.sampled_from([*IDS, "nobody"]), max_size=3, unique=True))
        out.append((upserted, removed))
    return out


@st.composite
def histories(draw: st.DrawFn) -> tuple[list[dict[str, Any]], list[tuple[Any, list[str]]]]:
    ids = draw(st.lists(st.sampled_from(IDS), min_size=0, max_size=6, unique=True))
    first = [
        {**b, "therapist_id": t}
        for b, t in zip(draw(therapist_records(len(ids))), ids, strict=True)
    ]
    return first, draw(steps(draw(st.integers(1, 5))))


@given(histories())
@settings(max_examples=60, deadline=None)
def test_updated_pool_is_the_pool_built_from_scratch(history: Any) -> None:
    first, changes = history
    frame = therapists_frame(first)
    pool = TherapistPool.from_frame(frame)
    for upserted_records, removed in changes:
        upserted = therapists_frame(upserted_records) if upserted_records else None
        frame = reference(frame, upserted, removed)
        pool = pool.updated(upserted, removed)
        assert_same_pool(pool, TherapistPool.from_frame(frame))


def test_merge_plan_places_new_rows_by_id() -> None:
    ids = np.array(["a", "c", "e"], dtype=object)
    merge = PoolMerge.plan(ids, ["d", "b", "c"], ["a"])
    merged = merge.rows(ids, np.array(["d", "b", "c"], dtype=object))
    assert merged.tolist() == ["b", "c", "d", "e"]
    assert merge.kept.tolist() == [2]


# --- the engine over a real model -----------------------------------------------------------


@pytest.fixture(scope="module")
def served(small_model: Path, small_world: Path) -> tuple[MatchModel, Dataset]:
    return MatchModel.load(small_model), load_dataset(small_world)


def _changes(draw: st.DrawFn, world: pd.DataFrame, current: list[str]) -> tuple[Any, list[str]]:
    """Upsert a few profiles (edited copies of world rows under existing or new ids, sometimes
    licensed in a region or speaking a language the pool has not had) and delete a few."""
    new_ids = draw(
        st.lists(st.sampled_from([*current, "N1", "N2", "Z9", "A0"]), max_size=3, unique=True)
    )
    rows = world.iloc[[draw(st.integers(0, len(world) - 1)) for _ in new_ids]].copy()
    rows["therapist_id"] = new_ids
    rows["current_caseload"] = pd.array([draw(st.integers(0, 30)) for _ in new_ids], dtype="Int64")
    rows["accepting_new_clients"] = pd.array(
        [draw(st.booleans()) for _ in new_ids], dtype="boolean"
    )
    if new_ids and draw(st.booleans()):
        rows["licensed_regions"] = [
            draw(st.sampled_from([["GB"], ["US-CA", "IN"]])) for _ in new_ids
        ]
        rows["languages"] = [draw(st.sampled_from([["en"], ["en", "sw"]])) for _ in new_ids]
    removed = draw(st.lists(st.sampled_from(current), max_size=4, unique=True))
    return (rows.reset_index(drop=True) if new_ids else None), removed


@given(data=st.data())
@settings(max_examples=12, deadline=None, suppress_health_check=[HealthCheck.too_slow])
def test_incrementally_updated_engine_ranks_as_one_rebuilt(
    served: tuple[MatchModel, Dataset], data: st.DataObject
) -> None:
    model, world = served
    frame = world.therapists.sort_values("therapist_id").reset_index(drop=True)
    intakes = world.intakes.iloc[:40]
    config = MatcherConfig(exposure_mitigation=0.0)
    engine = Matcher(model, frame, config)
    for _ in range(data.draw(st.integers(1, 4))):
        upserted, removed = _changes(data.draw, world.therapists, list(frame["therapist_id"]))
        frame = reference(frame, upserted, removed)
        engine = engine.with_changes(frame, upserted, removed)
        rebuilt = Matcher(model, frame, config)
        assert_same_pool(engine.pool, rebuilt.pool)
        assert repr(engine.match_frame(intakes, top_k=10, explain=True)) == repr(
            rebuilt.match_frame(intakes, top_k=10, explain=True)
        )
        assert engine.allocate(intakes) == rebuilt.allocate(intakes)
        assert engine.ranked(intakes.iloc[[3]]) == rebuilt.ranked(intakes.iloc[[3]])


def test_exposure_slots_follow_the_rows(served: tuple[MatchModel, Dataset]) -> None:
    model, world = served
    frame = world.therapists.sort_values("therapist_id").reset_index(drop=True)
    config = MatcherConfig(exposure_mitigation=0.5)
    engine = Matcher(model, frame, config)
    upserted = frame.iloc[[4, 9]].copy()
    upserted["therapist_id"] = ["A-new", str(frame["therapist_id"].iloc[9])]
    upserted = upserted.reset_index(drop=True)
    removed = [str(frame["therapist_id"].iloc[0])]
    merged = reference(frame, upserted, removed)
    changed = engine.with_changes(merged, upserted, removed)
    rebuilt = Matcher(model, merged, config, exposure=engine.exposure)
    assert changed._slots is not None and rebuilt._slots is not None
    assert np.array_equal(changed._slots, rebuilt._slots)
    assert np.array_equal(changed._bio_text, rebuilt._bio_text)
    intakes = world.intakes.iloc[:10]
    assert repr(changed.ranked(intakes.iloc[[0]])) == repr(rebuilt.ranked(intakes.iloc[[0]]))
