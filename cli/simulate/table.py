"""What ``matcher simulate`` prints: the round table and one line per experiment arm."""

from __future__ import annotations

import math
from typing import TYPE_CHECKING, Any

if TYPE_CHECKING:
    from cli.simulate.rounds import RoundRow
    from cli.simulate.service import Service

TABLE_WIDTH = 150
"""The round table is printed this wide at least (a log or a pipe is 80 columns)."""


SHOWN_RATES = ("chose", "good")
"""Experiment report rates printed per arm (the report itself holds every metric)."""


def _figure(fig: dict[str, Any] | None) -> str:
    if not fig or fig.get("value") is None:
        return "—"
    lo, hi = fig.get("ci_low"), fig.get("ci_high")
    ci = "" if lo is None or hi is None else f" ({lo:+.3f} to {hi:+.3f})"
    return f"{fig['value']:+.3f}{ci}" if ci else f"{fig['value']:.3f}"


def experiment_lines(service: Service) -> list[str]:
    """One line per arm of ``GET /v1/reports/experiments`` (JSON): lists shown, the choice and
    good-outcome rates per intake with 95% intervals and their difference to the champion.
    None when the service has no such route or no experiment."""
    response = service.call("GET", "/v1/reports/experiments", params={"format": "json"})
    if response.status_code != 200:
        return []
    doc = response.json()
    lines = []
    for arm in doc.get("arms", []) if isinstance(doc, dict) else []:
        versions = ",".join(short_version(v) for v in arm.get("model_versions", []))
        head = f"{arm.get('arm')} ({versions})"
        parts = [f"lists {arm.get('lists')}"]
        if not arm.get("enough_data", True):
            parts.append(str(arm.get("note") or "too little data"))
        for metric in arm.get("metrics", []):
            if metric.get("metric") not in SHOWN_RATES:
                continue
            est = metric.get("estimate") or {}
            value = est.get("value")
            if value is not None:
                lo, hi = est.get("ci_low"), est.get("ci_high")
                parts.append(f"{metric['metric']} {value:.3f} ({lo:.3f}–{hi:.3f})")
            if metric.get("difference"):
                parts.append(f"Δ{metric['metric']} {_figure(metric['difference'])}")
        if arm.get("off_policy"):
            parts.append(f"off-policy {_figure(arm['off_policy'].get('estimate'))}")
        lines.append(f"{head}: " + " · ".join(parts))
    return lines


def cell(value: float | None, spec: str = ".3f") -> str:
    return "—" if value is None or math.isnan(value) else format(value, spec)


def short_version(version: str) -> str:
    """``therapist-matcher/3`` → ``v3``; ``rules`` stays."""
    tail = version.rsplit("/", 1)[-1]
    return f"v{tail}" if tail.isdigit() else version


def serving_versions(counts: dict[str, int]) -> str:
    """Who served the round: ``v3``, or ``v3:251,v4:249`` when arms split it."""
    if len(counts) == 1:
        return short_version(next(iter(counts)))
    return ",".join(f"{short_version(v)}:{n}" for v, n in sorted(counts.items()))


def round_table(rows: list[RoundRow], reference: bool) -> Any:
    """The per-round table."""
    from rich import box
    from rich.table import Table

    table = Table(
        title="closed loop, one row per round",
        box=box.SIMPLE,
        caption="uplift@5, good: true uplift captured and good outcomes/intake of the lists "
        "served · ref: offline model on the same history · ope: DR estimate (95%) of the "
        "champion after the round on held-out logs, truth: its true value there",
    )
    for col in ("round", "req", "lists", "chose", "served", "uplift@5", "good"):
        table.add_column(col, justify="left" if col == "served" else "right")
    if reference:
        table.add_column("ref@5", justify="right")
    for col in ("ope", "95% ci", "truth", "gate"):
        table.add_column(col, justify="left" if col == "gate" else "right")
    for r in rows:
        cells = [
            str(r.round),
            str(r.requests),
            str(r.lists),
            str(r.choices),
            r.served_by,
            cell(r.uplift),
            cell(r.value),
        ]
        if reference:
            cells.append(cell(r.reference))
        ci = "—" if r.ope is None else f"{r.ope[1]:.3f}–{r.ope[2]:.3f}"
        cells += [cell(None if r.ope is None else r.ope[0]), ci, cell(r.ope_truth), r.decision]
        table.add_row(*cells)
    return table
