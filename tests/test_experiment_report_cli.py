"""``matcher experiment-report`` reads the service's database: a table, ``--json`` and
``--out FILE.html``; without an experiment, one line and a non-zero exit."""

from __future__ import annotations

import json
from collections.abc import Iterator
from pathlib import Path

import pytest

from api import open_database
from api.storage.experiments import ArmServed, record_arm, start_experiment
from cli import main
from core.config import ExperimentConfig
from core.settings import get_settings


@pytest.fixture
def home(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> Iterator[Path]:
    monkeypatch.setenv("MATCHER_HOME", str(tmp_path / "home"))
    monkeypatch.delenv("MATCHER_DATABASE_URL", raising=False)
    get_settings.cache_clear()
    yield tmp_path / "home"
    get_settings.cache_clear()


def _run(argv: list[str], capsys: pytest.CaptureFixture[str]) -> tuple[int, str]:
    try:
        main(argv)
        code = 0
    except SystemExit as done:
        code = int(done.code or 0)
    captured = capsys.readouterr()
    return code, captured.out + captured.err


def test_no_experiment_is_one_line_and_a_failure(
    home: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    code, text = _run(["experiment-report"], capsys)
    assert code != 0 and "no experiment" in text and "Traceback" not in text


def test_the_report_as_table_json_and_html(
    home: Path, tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    database = open_database(get_settings().database)
    config = ExperimentConfig.model_validate(
        {"name": "ab", "arms": [{"name": "b", "model_uri": "rules", "share": 0.5}]}
    )
    with database.session() as session:
        start_experiment(session, config)
        for k in range(5):
            record_arm(session, ArmServed(f"r{k}", f"i{k}", "ab", "b", "matched", "rules"))
        session.commit()
    database.dispose()
    code, text = _run(["experiment-report"], capsys)
    assert code == 0 and "too little data" in text and "champion" in text
    page = tmp_path / "report.html"
    code, text = _run(["experiment-report", "--json", "--out", str(page)], capsys)
    assert code == 0
    report = json.loads(text)
    b = next(a for a in report["arms"] if a["arm"] == "b")
    assert (b["requests"], b["lists"], b["enough_data"]) == (5, 5, False)
    assert "Experiment report" in page.read_text()
