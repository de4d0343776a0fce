"""``matcher simulate`` prints the experiment report's arms, and skips it where there is none."""

from __future__ import annotations

from typing import Any

import httpx

from cli.simulate import Service, experiment_lines


def _service(status: int, body: dict[str, Any]) -> Service:
    def handler(request: httpx.Request) -> httpx.Response:
        assert request.url.path == "/v1/reports/experiments"
        assert request.headers["Authorization"] == "Bearer k"
        return httpx.Response(status, json=body)

    return Service(httpx.Client(base_url="http://svc", transport=httpx.MockTransport(handler)), "k")


def _figure(value: float, lo: float, hi: float) -> dict[str, Any]:
    return {"value": value, "ci_low": lo, "ci_high": hi, "n": 100}


def test_each_arm_is_one_line_with_rates_and_differences() -> None:
    report = {
        "arms": [
            {
                "arm": "champion",
                "model_versions": ["therapist-matcher/1"],
                "lists": 900,
                "enough_data": True,
                "metrics": [
                    {"metric": "good", "estimate": _figure(0.3, 0.27, 0.33), "difference": None},
                    {"metric": "alliance", "estimate": _figure(3.9, 3.8, 4.0), "difference": None},
                ],
            },
            {
                "arm": "challenger",
                "model_versions": ["therapist-matcher/2"],
                "lists": 12,
                "enough_data": False,
                "note": "too little data",
                "metrics": [
                    {
                        "metric": "good",
                        "estimate": _figure(0.2, 0.1, 0.3),
                        "difference": _figure(-0.1, -0.2, -0.01),
                    }
                ],
            },
        ]
    }
    champion, challenger = experiment_lines(_service(200, report))
    assert champion == "champion (v1): lists 900 · good 0.300 (0.270–0.330)"
    assert challenger.startswith("challenger (v2): lists 12 · too little data")
    assert "Δgood -0.100 (-0.200 to -0.010)" in challenger


def test_no_experiment_or_no_route_prints_nothing() -> None:
    assert experiment_lines(_service(404, {"detail": "no experiment yet"})) == []
