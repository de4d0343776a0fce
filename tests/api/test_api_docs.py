"""The docs pages work offline, and a method a path lacks is a 405 naming every method it has."""

from __future__ import annotations

import re

from api_support import Service


def test_docs_pages_load_no_asset_from_another_host(service: Service) -> None:
    for page in ("/docs", "/redoc"):
        html = service.client.get(page).text
        assets = re.findall(r'(?:src|href)="([^"]+)"', html)
        assert assets and all(a.startswith("/") for a in assets), assets
        for asset in assets:
            if asset.endswith((".js", ".css")):
                assert service.client.get(asset).status_code == 200, asset


def test_unsupported_method_lists_every_allowed_method(service: Service) -> None:
    response = service.client.request(
        "OPTIONS", "/v1/therapists/t1", headers=service.auth("therapists")
    )
    assert response.status_code == 405
    allowed = {m.strip() for m in response.headers["allow"].split(",")}
    assert {"GET", "PUT", "PATCH", "DELETE"} <= allowed
