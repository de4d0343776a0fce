"""The database's JSON columns (api/storage/json_codec.py) store what the engine logged."""

from __future__ import annotations

import itertools
import json
import math

import numpy as np
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st
from sqlalchemy import select, text

from api import open_database
from api.storage import Database, Impression, ImpressionRow, save_impressions
from api.storage.json_codec import json_text, json_value

_ids = itertools.count()
names = st.text(alphabet="abcdefghij_", min_size=1, max_size=12)
# PostgreSQL's jsonb keeps numbers as numeric and writes 1e16 back as an integer; feature
# values are far smaller.
values = st.one_of(
    st.floats(min_value=-1e9, max_value=1e9),
    st.sampled_from([math.nan, math.inf, -math.inf]),
    st.floats(min_value=-1e6, max_value=1e6, width=32),
    st.none(),
)


@settings(
    max_examples=25, deadline=None, suppress_health_check=[HealthCheck.function_scoped_fixture]
)
@given(features=st.dictionaries(names, values, max_size=40))
def test_stored_features_read_back_equal_with_non_finite_as_null(
    db: Database, features: dict[str, float | None]
) -> None:
    request_id = f"r{next(_ids)}"
    with db.session() as session:
        impression = Impression(request_id, "i1", "t1", 1, 0.5, "m/1", features=features)
        save_impressions(session, [impression], {"i1": "c1"})
        session.commit()
        stored = session.scalar(
            select(ImpressionRow.features).where(ImpressionRow.request_id == request_id)
        )
    expected = {k: v if v is not None and math.isfinite(v) else None for k, v in features.items()}
    assert stored == expected


def test_json_text_is_valid_json_for_numpy_and_non_finite_values() -> None:
    row = {"a": np.float32(0.3), "b": float("nan"), "c": np.arange(2), "d": [float("inf")]}
    text_ = json_text(row)
    assert json.loads(text_) == {"a": 0.3, "b": None, "c": [0, 1], "d": [None]}
    assert json_value(text_) == json.loads(text_)


def test_the_sqlite_file_holds_plain_json_text(sqlite_url: str) -> None:
    db = open_database(sqlite_url)
    with db.session() as session:
        impression = Impression("r-text", "i1", "t1", 1, None, "m/1", features={"x": math.nan})
        save_impressions(session, [impression], {"i1": None})
        session.commit()
        raw = session.execute(
            text("SELECT features FROM impressions WHERE request_id = 'r-text'")
        ).scalar_one()
    db.dispose()
    assert raw == '{"x":null}'
