"""The online fairness source end to end: requests through the API → stored answers and lists →
``load_fairness_inputs`` → ``matcher fairness-report --from-db`` → ``GET /v1/reports/fairness``.

Runs on SQLite, and on PostgreSQL when MATCHER_TEST_POSTGRES_URL is set.
"""

from __future__ import annotations

import html
import json
from collections.abc import Callable, Iterator
from datetime import UTC, datetime, timedelta
from typing import Any

import pytest
from api_support import Service, intake, therapist
from sqlalchemy import select

from api.storage import Answer, IntakeRow, load_fairness_inputs, save_intakes
from cli import main
from core.settings import get_settings

GENDERS = ("woman", "man", "woman", "nonbinary", "man", "woman")


def _requests() -> list[dict[str, Any]]:
    """26 intakes: mostly answerable in US-CA, three in crisis, two with nobody in reach."""
    bodies = []
    for k in range(26):
        changes: dict[str, Any] = {
            "intake_id": f"i{k:02d}",
            "client_id": f"c{k:02d}",
            "client_gender": GENDERS[k % len(GENDERS)],
        }
        if k in (3, 11, 17):
            changes["phq9_item9"] = 2 + k % 2  # thoughts of self-harm: crisis routing
        if k in (5, 20):
            changes["region"] = "US-TX"  # nobody is licensed there
        bodies.append(intake(**changes))
    return bodies


@pytest.fixture
def online(
    service_factory: Callable[..., Service], database_url: str
) -> Iterator[tuple[Service, dict[str, dict[str, Any]]]]:
    """A service on the test database with six therapists that answered every request once
    (and i00 twice), plus a choice event; yields it with the responses by intake id."""
    svc = service_factory(database_url=database_url)
    pool = [
        therapist(f"t{k}", gender=GENDERS[k], languages=["en", "es"] if k % 2 else ["en"])
        for k in range(6)
    ]
    pool[5]["licensed_regions"] = ["US-NY"]
    response = svc.client.post(
        "/v1/therapists:bulk", json={"therapists": pool}, headers=svc.auth("therapists")
    )
    assert response.status_code == 200, response.text
    answers = {}
    for body in _requests():
        response = svc.client.post("/v1/matches", json={**body, "top_k": 3}, headers=svc.auth())
        assert response.status_code == 200, response.text
        answers[body["intake_id"]] = response.json()
    again = svc.client.post("/v1/matches", json={**_requests()[0], "top_k": 2}, headers=svc.auth())
    answers["i00"] = again.json()
    first = answers["i01"]["matches"][0]["therapist_id"]
    event = {
        "event_id": "e1",
        "intake_id": "i01",
        "therapist_id": first,
        "type": "chosen",
        "occurred_at": datetime.now(UTC).isoformat(),
    }
    assert svc.client.post("/v1/events", json=event, headers=svc.auth("events")).status_code == 201
    yield svc, answers
    get_settings.cache_clear()


def test_stored_answers_and_lists_become_fairness_inputs(
    online: tuple[Service, dict[str, dict[str, Any]]],
) -> None:
    svc, answers = online
    with svc.runtime.database.session() as session:
        inputs = load_fairness_inputs(session, None, None)
    intakes = inputs.intakes.set_index("intake_id")
    assert set(intakes.index) == set(answers)
    for intake_id, answer in answers.items():
        assert intakes.loc[intake_id, "status"] == answer["status"]
        assert intakes.loc[intake_id, "n_eligible"] == answer["eligible"]
    statuses = intakes["status"].value_counts().to_dict()
    assert statuses == {"matched": 21, "crisis": 3, "no_eligible_match": 2}
    assert intakes.loc["i10", "client_gender"] == "man"
    assert "free_text" not in inputs.intakes or inputs.intakes["free_text"].isna().all()

    shown = inputs.impressions
    for intake_id, answer in answers.items():
        rows = shown[shown["intake_id"] == intake_id].sort_values("position")
        assert list(rows["therapist_id"]) == [m["therapist_id"] for m in answer["matches"]]
        assert list(rows["position"]) == [m["rank"] for m in answer["matches"]]
        assert list(rows["score"]) == pytest.approx([m["score"] for m in answer["matches"]])
    assert (shown["intake_id"] == "i00").sum() == 2  # only the latest list of a repeated request
    chosen = shown[shown["chosen"]]
    assert list(zip(chosen["intake_id"], chosen["therapist_id"], strict=True)) == [
        ("i01", answers["i01"]["matches"][0]["therapist_id"])
    ]
    assert sorted(inputs.therapists["therapist_id"]) == [f"t{k}" for k in range(6)]
    assert inputs.therapists.set_index("therapist_id")["n_outcomes"].sum() == 1
    assert inputs.eligible is None


def test_date_range_selects_requests_by_receipt(
    online: tuple[Service, dict[str, dict[str, Any]]],
) -> None:
    svc, _ = online
    now = datetime.now(UTC)
    with svc.runtime.database.session() as session:
        assert len(load_fairness_inputs(session, now - timedelta(hours=1), None).intakes) == 26
        assert load_fairness_inputs(session, now + timedelta(hours=1), None).intakes.empty
        past = load_fairness_inputs(session, None, now - timedelta(hours=1))
        assert past.intakes.empty and past.impressions.empty
        naive = now.replace(tzinfo=None) - timedelta(hours=1)  # naive = UTC
        assert len(load_fairness_inputs(session, naive, None).intakes) == 26


def test_allocation_does_not_overwrite_a_stored_answer(
    online: tuple[Service, dict[str, dict[str, Any]]],
) -> None:
    svc, _ = online
    with svc.runtime.database.session() as session:
        save_intakes(session, [_requests()[4]], store_free_text=False)  # as allocate does
        save_intakes(
            session,
            [intake(intake_id="new")],
            store_free_text=False,
            answers={"x": Answer("crisis", 0)},
        )
        session.commit()
        stored = dict(session.execute(select(IntakeRow.intake_id, IntakeRow.status)).all())
    assert stored["i04"] == "matched"
    assert stored["new"] is None  # no answer given for it: left out of the report


def test_cli_report_from_db_is_what_the_api_serves(
    online: tuple[Service, dict[str, dict[str, Any]]],
    database_url: str,
    tmp_path: Any,
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    svc, _ = online
    home = svc.runtime.settings.home
    monkeypatch.setenv("MATCHER_HOME", str(home))
    monkeypatch.setenv("MATCHER_DATABASE_URL", database_url)
    get_settings.cache_clear()
    out = tmp_path / "online.json"
    today = datetime.now(UTC).date().isoformat()
    main(["fairness-report", "--from-db", "--since", today, "--until", today, "--bootstrap", "30",
          "--out", str(out)])  # fmt: skip
    written = json.loads(out.read_text())
    assert written["counts"]["intakes"] == 26
    assert written["tradeoff"] is None
    assert written["notes"][0].startswith("Source: service logs")
    assert written["provenance"]["source"] == "online"
    assert written["provenance"]["model_version"]  # the versions that answered, from the log

    headers = svc.auth("reports")
    as_json = svc.client.get("/v1/reports/fairness", headers=headers)
    assert as_json.status_code == 200
    assert as_json.json() == written
    as_html = svc.client.get("/v1/reports/fairness", headers={**headers, "Accept": "text/html"})
    assert as_html.headers["content-type"].startswith("text/html")
    assert as_html.text == (home / "reports" / "fairness-online.html").read_text()
    # HTML and JSON are the same report: same time stamp, same headlines, same notes.
    page = as_html.text
    assert html.escape(written["generated_at"]) in page
    for headline in written["summary"]["headlines"]:
        assert html.escape(headline["text"], quote=False) in page
    for note in written["notes"]:
        assert html.escape(note, quote=False) in page


def test_cli_from_db_errors_are_one_line(
    online: tuple[Service, dict[str, dict[str, Any]]],
    database_url: str,
    tmp_path: Any,
    monkeypatch: pytest.MonkeyPatch,
    capsys: pytest.CaptureFixture[str],
) -> None:
    svc, _ = online
    monkeypatch.setenv("MATCHER_HOME", str(svc.runtime.settings.home))
    monkeypatch.setenv("MATCHER_DATABASE_URL", database_url)
    get_settings.cache_clear()
    cases = [
        (["--from-db", "--since", "2001-01-01", "--until", "2001-01-31"], "no answered match"),
        (["--from-db", "--since", "yesterday"], "not an ISO 8601"),
        (["--from-db", "--since", "2025-03-02", "--until", "2025-03-01"], "before --until"),
        (["--since", "2025-03-01"], "need --from-db"),
        (["--from-db", "--data", "x"], "offline report"),
    ]
    for args, message in cases:
        with pytest.raises(SystemExit) as done:
            main(["fairness-report", "--out", str(tmp_path / "r.html"), *args])
        assert done.value.code != 0
        err = capsys.readouterr().err
        assert message in err and "Traceback" not in err, err
    with pytest.raises(SystemExit):
        main(["fairness-report", "--from-db", "--out", str(tmp_path / "r.pdf")])
    assert "must end in .html or .json" in capsys.readouterr().err
