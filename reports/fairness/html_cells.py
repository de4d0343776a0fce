"""Table cells and badges that carry a figure's JSON key and value (``data-key``/``data-value``)."""

from __future__ import annotations

import json
from html import escape

from matcher.fairness.figures import Figure, GroupMetricResult, Level
from matcher.fairness.formatting import fmt, rounded
from matcher.fairness.specs import Unit

LEVEL_CLASS = {
    Level.FAIL: "fail",
    Level.WARN: "warn",
    Level.PASS: "pass",
    Level.INFO: "info",
    Level.NOT_ASSESSED: "na",
}


def badge(level: Level, key: str | None = None) -> str:
    data = (
        f' data-key="{escape(key)}" data-value="{escape(json.dumps(level.value))}"' if key else ""
    )
    return f'<span class="badge {LEVEL_CLASS[level]}"{data}>{escape(level.value.upper())}</span>'


def cell(key: str, value: object, text: str, cls: str = "num") -> str:
    return (
        f'<td class="{cls}" data-key="{escape(key)}" '
        f'data-value="{escape(json.dumps(value))}">{escape(text)}</td>'
    )


def figure_cells(key: str, figure: Figure, unit: Unit) -> str:
    return cell(f"{key}/value", rounded(figure.value), fmt(figure.value, unit)) + (
        f'<td class="num">{span(f"{key}/low", figure.low, unit)}–'
        f"{span(f'{key}/high', figure.high, unit)}</td>"
    )


def span(key: str, value: float, unit: Unit) -> str:
    return (
        f'<span data-key="{escape(key)}" data-value="{escape(json.dumps(rounded(value)))}">'
        f"{escape(fmt(value, unit))}</span>"
    )


def result_key(result: GroupMetricResult) -> str:
    return f"{result.spec.side.value}/{result.spec.key}/{result.attribute}"


__all__ = ["LEVEL_CLASS", "badge", "cell", "figure_cells", "result_key", "span"]
