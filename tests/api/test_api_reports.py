"""GET /v1/reports/fairness: latest report files, by Accept."""

from __future__ import annotations

import json

import pytest
from api_support import Service

from api.routers.reports import negotiate


def _write_reports(service: Service) -> None:
    folder = service.runtime.settings.home / "reports"
    folder.mkdir(parents=True, exist_ok=True)
    (folder / "fairness.html").write_text("<html><body>fair</body></html>")
    (folder / "fairness.json").write_text(json.dumps({"groups": []}))


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
    assert as_json.json() == {"groups": []}
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
