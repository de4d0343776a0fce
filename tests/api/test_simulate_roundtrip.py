"""``matcher simulate``'s traffic through the real service: the lists it is served, the events it
posts, and what ``matcher train --from-db`` then reads from the database."""

from __future__ import annotations

from collections.abc import Callable
from pathlib import Path

import numpy as np
import pandas as pd
from api_support import Service
from test_api_real_engine import RealLoader

from api import export_dataset
from cli.simulate import Service as Driver
from cli.simulate import post_events, serve_round
from synth import SyntheticWorld
from synth.loop import ClosedLoop, event_payloads, json_records


def test_simulated_events_round_trip_into_the_training_export(
    service_factory: Callable[..., Service], small_model: Path, small_world: Path
) -> None:
    world = SyntheticWorld.load(small_world)
    loop = ClosedLoop(world, seed=3)
    svc = service_factory(loader=RealLoader(small_model))
    driver = Driver(svc.client, svc.keys["all"], workers=1)
    driver.ok(
        "POST", "/v1/therapists:bulk", json={"therapists": json_records(world.dataset.therapists)}
    )

    served, versions = serve_round(driver, json_records(loop.arrivals(0, 60)), top_k=5)
    draws = loop.draw(served, 0)
    events = event_payloads(draws, loop.submitted)
    post_events(driver, events)
    post_events(driver, events[:10])  # a retry of the same events changes nothing
    assert versions == {"small/1": 60}

    with svc.runtime.database.session() as session:
        exported = export_dataset(session).interactions
    shown = exported.set_index(["intake_id", "therapist_id"])
    assert len(shown) == len(served)
    booked = draws.booked
    keys = list(zip(booked.intake_ids, booked.therapist_ids, strict=True))
    chosen = shown["chosen"].astype(bool)
    assert set(chosen[chosen].index) == set(keys)
    rows = shown.loc[keys]
    o = draws.outcomes
    assert rows["sessions_attended"].astype(int).tolist() == o.sessions.tolist()
    assert rows["dropped_out"].fillna(False).astype(bool).tolist() == o.dropped_out.tolist()
    improved = rows["reliable_improvement"].astype("boolean")
    attended = o.sessions > 0
    assert improved[attended].astype(bool).tolist() == (o.improved[attended] > 0).tolist()
    assert improved[~attended].isna().all()
    assert np.allclose(pd.to_numeric(rows["alliance"])[attended], o.alliance[attended])
    assert shown["policy"].notna().all()
