"""GET /v1/reports/fairness: published report files, by Accept and by source."""

from __future__ import annotations

import json
import os

import pytest
from api_support import Service

from api.routers.reports import negotiate


def _write_reports(service: Service, source: str = "offline", mtime: int | None = None) -> None:
    folder = service.runtime.settings.home / "reports"
    folder.mkdir(parents=True, exist_ok=True)
    html, doc = folder / f"fairness-{source}.html", folder / f"fairness-{source}.json"
    html.write_text(f"<html><body>fair {source}</body></html>")
    doc.write_text(json.dumps({"groups": [], "source": source}))
    if mtime is not None:
        for path in (html, doc):
            os.utime(path, ns=(mtime, mtime))


def test_404_until_a_report_exists(service: Service) -> None:
    response = service.client.get("/v1/reports/fairness", headers=service.auth("reports"))
    assert response.status_code == 404
    assert "matcher fairness-report" in response.json()["detail"]


def test_json_and_html_by_accept(service: Service) -> None:
    _write_reports(service)
    headers = service.auth("reports")
    as_json = service.client.get("/v1/reports/fairness", headers=headers)
    assert as_json.status_code == 200
    assert as_json.headers["content-type"].startswith("application/json")
    assert as_json.json() == {"groups": [], "source": "offline"}
    assert as_json.headers["x-report-source"] == "offline"
    as_html = service.client.get(
        "/v1/reports/fairness", headers={**headers, "Accept": "text/html,*/*;q=0.8"}
    )
    assert as_html.headers["content-type"].startswith("text/html")
    assert "fair" in as_html.text
    forced = service.client.get(
        "/v1/reports/fairness?format=html", headers={**headers, "Accept": "application/json"}
    )
    assert forced.headers["content-type"].startswith("text/html")
    refused = service.client.get("/v1/reports/fairness", headers={**headers, "Accept": "image/png"})
    assert refused.status_code == 406


def test_offline_and_online_side_by_side(service: Service) -> None:
    headers = service.auth("reports")
    _write_reports(service, "offline", mtime=2_000_000_000 * 10**9)
    missing = service.client.get("/v1/reports/fairness?source=online", headers=headers)
    assert missing.status_code == 404 and "--from-db" in missing.json()["detail"]
    _write_reports(service, "online", mtime=1_000_000_000 * 10**9)  # written earlier
    for source in ("offline", "online"):
        got = service.client.get(f"/v1/reports/fairness?source={source}", headers=headers)
        assert got.json()["source"] == source and got.headers["x-report-source"] == source
        url = f"/v1/reports/fairness?source={source}&format=html"
        page = service.client.get(url, headers=headers)
        assert f"fair {source}" in page.text
    latest = service.client.get("/v1/reports/fairness", headers=headers)
    assert latest.json()["source"] == "offline"  # the newer file
    _write_reports(service, "online", mtime=3_000_000_000 * 10**9)
    latest = service.client.get("/v1/reports/fairness", headers=headers)
    assert latest.json()["source"] == "online"
    bad = service.client.get("/v1/reports/fairness?source=both", headers=headers)
    assert bad.status_code == 422


def test_reports_scope(service: Service) -> None:
    response = service.client.get("/v1/reports/fairness", headers=service.auth("events"))
    assert response.status_code == 403


@pytest.mark.parametrize(
    ("accept", "expected"),
    [
        (None, "json"),
        ("*/*", "json"),
        ("text/html", "html"),
        ("application/json;q=0.5, text/html", "html"),
        ("text/html;q=0.2, application/json", "json"),
        ("text/*", "html"),
        ("image/png", None),
        ("text/html;q=bogus", None),
    ],
)
def test_negotiate(accept: str | None, expected: str | None) -> None:
    assert negotiate(accept) == expected


def test_an_accept_header_that_is_not_a_media_range_is_ignored(service: Service) -> None:
    _write_reports(service, "offline", mtime=2_000_000_000 * 10**9)
    response = service.client.get(
        "/v1/reports/fairness", headers={**service.auth("reports"), "Accept": "null"}
    )
    assert response.status_code == 200
    assert response.headers["content-type"].startswith("application/json")
