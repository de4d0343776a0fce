"""Published reports: offline and online side by side, neither replacing the other."""

from __future__ import annotations

import dataclasses
import json
from pathlib import Path

from matcher.fairness import FairnessReport, Provenance, Source
from training.fairness import publish_report, published_path


def _with(report: FairnessReport, source: Source, version: str) -> FairnessReport:
    return dataclasses.replace(
        report, provenance=Provenance(source, version, None, None, f"{source.value} data")
    )


def test_online_and_offline_reports_do_not_overwrite_each_other(
    report: FairnessReport, tmp_path: Path
):
    offline = publish_report(_with(report, Source.OFFLINE, "m/1"), tmp_path)
    online = publish_report(_with(report, Source.ONLINE, "m/2"), tmp_path)
    assert offline["json"] == tmp_path / "fairness-offline.json"
    assert online["html"] == published_path(tmp_path, "online", "html")
    assert {p.name for p in tmp_path.iterdir()} == {
        "fairness-offline.html", "fairness-offline.json",
        "fairness-online.html", "fairness-online.json",
    }  # fmt: skip
    kept = json.loads(offline["json"].read_text())["provenance"]
    assert kept["source"] == "offline" and kept["model_version"] == "m/1"
    assert "m/1" in offline["html"].read_text() and "m/2" in online["html"].read_text()
    # a second offline report replaces only the offline one
    publish_report(_with(report, Source.OFFLINE, "m/3"), tmp_path)
    assert json.loads(offline["json"].read_text())["provenance"]["model_version"] == "m/3"
    assert json.loads(online["json"].read_text())["provenance"]["model_version"] == "m/2"


def test_a_report_without_provenance_is_published_as_offline(
    report: FairnessReport, tmp_path: Path
):
    written = publish_report(report, tmp_path)
    assert written == {
        "html": tmp_path / "fairness-offline.html",
        "json": tmp_path / "fairness-offline.json",
    }
