"""The command line's error style: one line naming the file, a non-zero exit, no traceback."""

from __future__ import annotations

import shutil
from pathlib import Path

import pytest

from cli import main

SAMPLE = Path(__file__).resolve().parents[1] / "data" / "sample"


def _fails(argv: list[str], capsys: pytest.CaptureFixture[str]) -> tuple[int, list[str]]:
    with pytest.raises(SystemExit) as done:
        main(argv)
    captured = capsys.readouterr()
    lines = [line for line in (captured.err + captured.out).splitlines() if line.strip()]
    assert "Traceback" not in captured.err + captured.out
    return int(done.value.code or 0), lines


@pytest.mark.parametrize(
    ("argv", "says"),
    [
        (["validate"], "Missing argument"),
        (["train", "--bogus"], "No such option: --bogus"),
        (["synth", "--out", "x", "--therapists", "3"], "--therapists"),
    ],
)
def test_usage_errors_are_one_line_pointing_at_help(
    argv: list[str], says: str, capsys: pytest.CaptureFixture[str]
) -> None:
    code, lines = _fails(argv, capsys)
    assert code == 2 and len(lines) == 1
    assert says in lines[0] and f"matcher {argv[0]} --help" in lines[0]


@pytest.mark.parametrize(
    ("content", "says"),
    [
        (b"", "the file is empty"),
        (b"\xff\xfe\x00bad", "not UTF-8"),
    ],
)
def test_unreadable_files_are_named(
    tmp_path: Path, content: bytes, says: str, capsys: pytest.CaptureFixture[str]
) -> None:
    for name in ("therapists", "intakes", "interactions"):
        shutil.copy(SAMPLE / f"{name}.csv", tmp_path / f"{name}.csv")
    (tmp_path / "intakes.csv").write_bytes(content)
    code, lines = _fails(["validate", str(tmp_path)], capsys)
    assert code == 1
    assert lines == [lines[0]] and lines[0].startswith("error: intakes.csv: ") and says in lines[0]


def test_empty_tables_fail_validation(tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    shutil.copy(SAMPLE / "therapists.csv", tmp_path / "therapists.csv")
    for name in ("intakes", "interactions"):
        header = (SAMPLE / f"{name}.csv").read_text().splitlines()[0]
        (tmp_path / f"{name}.csv").write_text(header + "\n")
    code, lines = _fails(["validate", str(tmp_path)], capsys)
    assert code == 1
    assert lines == ["error: intakes.csv: the table has no rows"]


def test_synth_refuses_to_overwrite_a_world_without_force(
    tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    (tmp_path / "therapists.csv").write_text("keep me")
    code, lines = _fails(["synth", "--out", str(tmp_path), "--therapists", "20"], capsys)
    assert code == 1 and len(lines) == 1 and "--force" in lines[0]
    assert (tmp_path / "therapists.csv").read_text() == "keep me"
    main(["synth", "--out", str(tmp_path), "--therapists", "20", "--intakes", "60", "--force"])
    assert (tmp_path / "therapists.csv").read_text() != "keep me"


def test_keys_list_and_revoke(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch, capsys: pytest.CaptureFixture[str]
) -> None:
    from core.settings import get_settings

    monkeypatch.setenv("MATCHER_HOME", str(tmp_path))
    get_settings.cache_clear()
    try:
        main(["keys", "create", "--name", "ops", "--scopes", "reports"])
        secret = capsys.readouterr().out.strip()
        main(["keys", "revoke", "ops"])
        main(["keys", "list"])
        listing = capsys.readouterr().out
        assert "ops" in listing and "revoked" in listing and secret not in listing
        code, lines = _fails(["keys", "revoke", "ops"], capsys)
        assert code == 1 and "no active key named 'ops'" in lines[0]
    finally:
        get_settings.cache_clear()


def test_demo_refuses_a_busy_port_before_minting_a_key(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch, capsys: pytest.CaptureFixture[str]
) -> None:
    import socket

    from core.settings import get_settings

    monkeypatch.setenv("MATCHER_HOME", str(tmp_path))
    get_settings.cache_clear()
    with socket.socket() as busy:
        busy.bind(("127.0.0.1", 0))
        busy.listen()
        port = busy.getsockname()[1]
        try:
            code, lines = _fails(["demo", "--port", str(port)], capsys)
        finally:
            get_settings.cache_clear()
    assert code == 1 and len(lines) == 1 and "--port" in lines[0]
    assert not (tmp_path / "matcher.db").exists()


def test_training_scorecard_fits_80_columns_and_labels_clicks() -> None:
    import pandas as pd
    from rich.console import Console

    from cli.train import _scorecard_table

    names = ["model", "benefit_only", "engagement_only", "lambdarank_logged", "profile_oracle"]
    columns = [f"{m}_at_{k}" for m in ("ndcg", "uplift") for k in (1, 5, 10)]
    card = pd.DataFrame(0.5, index=names, columns=columns)
    card.loc["profile_oracle", ["ndcg_at_1", "ndcg_at_5", "ndcg_at_10"]] = float("nan")
    console = Console(width=80, record=True, color_system=None)
    console.print(_scorecard_table(card, "therapist-matcher/3"))
    text = console.export_text()
    assert max(map(len, text.splitlines())) <= 80
    assert "lambdarank_logged" in text and "uplift@5" in text and "clicks" in text


def test_warnings_reach_the_terminal_without_escape_codes(
    capsys: pytest.CaptureFixture[str],
) -> None:
    import warnings

    from cli.app import show_warnings

    show_warnings()
    warnings.warn("\x1b[1;33mAn input example was not provided\x1b[0m", UserWarning, stacklevel=1)
    err = capsys.readouterr().err
    assert "An input example was not provided" in err and "\x1b" not in err


def test_training_without_history_is_one_clear_line(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch, capsys: pytest.CaptureFixture[str]
) -> None:
    from core.settings import get_settings

    for name in ("therapists", "intakes"):
        shutil.copy(SAMPLE / f"{name}.csv", tmp_path / f"{name}.csv")
    header = (SAMPLE / "interactions.csv").read_text().splitlines()[0]
    (tmp_path / "interactions.csv").write_text(header + "\n")
    monkeypatch.setenv("MATCHER_HOME", str(tmp_path / "home"))
    get_settings.cache_clear()
    try:
        main(["validate", str(tmp_path)])
        assert "0 interactions" in capsys.readouterr().out
        code, lines = _fails(["train", "--data", str(tmp_path)], capsys)
    finally:
        get_settings.cache_clear()
    assert code == 1 and lines == [
        "error: interactions: no rows: training needs logged lists with choices and outcomes"
    ]
