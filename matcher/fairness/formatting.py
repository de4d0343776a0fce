"""How figures read: one formatter shared by the verdict reasons, the HTML and the tests."""

from __future__ import annotations

import math

from matcher.fairness.figures import Figure
from matcher.fairness.specs import Unit

DECIMALS = 6
"""Figures are rounded to this many decimals in JSON and in the HTML's data attributes."""


def rounded(value: float | None) -> float | None:
    """A JSON-ready float: rounded to :data:`DECIMALS`, None for NaN/inf/None."""
    if value is None or not math.isfinite(value):
        return None
    return round(float(value), DECIMALS)


def fmt(value: float | None, unit: Unit) -> str:
    """A value for people: shares as 12.3%, scores as 0.412, ratios as 0.78; — when undefined."""
    if value is None or not math.isfinite(value):
        return "—"
    if unit is Unit.SHARE:
        return f"{100 * value:.1f}%"
    if unit is Unit.SCORE:
        return f"{value:.3f}"
    return f"{value:.2f}"


def interval_separator(low: float | None) -> str:
    """``–`` between two bounds, `` to `` when the lower one is negative (``-0.18 to -0.03``
    reads where ``-0.18–-0.03`` does not)."""
    return " to " if low is not None and math.isfinite(low) and low < 0 else "–"


def fmt_interval(figure: Figure, unit: Unit) -> str:
    """``low–high`` of a figure (``low to high`` when low is negative)."""
    return f"{fmt(figure.low, unit)}{interval_separator(figure.low)}{fmt(figure.high, unit)}"


def pretty(label: str) -> str:
    """A vocabulary value for people: ``hispanic_latino`` → ``hispanic latino``."""
    return label.replace("_", " ")


__all__ = ["DECIMALS", "fmt", "fmt_interval", "interval_separator", "pretty", "rounded"]
