"""Inline SVG charts: dot-and-interval plots and a small trade-off curve.

No external assets, no script: the markup is self-contained, scales with the page and prints.
Every text is escaped here; the templates insert the result as markup. The x axis always covers
every value and interval end drawn, negative ones included, with a solid line at 0 when the axis
crosses it.
"""

from __future__ import annotations

import math
from collections.abc import Sequence
from dataclasses import dataclass
from html import escape

from matcher.fairness.figures import Level
from matcher.fairness.formatting import fmt
from matcher.fairness.specs import Unit

COLORS = {
    Level.FAIL: "#b3261e",
    Level.WARN: "#a15c00",
    Level.PASS: "#2e7d32",
    Level.INFO: "#555f6d",
    Level.NOT_ASSESSED: "#555f6d",
}
GLYPHS = {
    Level.FAIL: "✕",
    Level.WARN: "!",
    Level.PASS: "✓",
    Level.INFO: "i",
    Level.NOT_ASSESSED: "–",
}
LABELS = {
    Level.FAIL: "FAIL",
    Level.WARN: "WARN",
    Level.PASS: "PASS",
    Level.INFO: "INFO",
    Level.NOT_ASSESSED: "N/A",
}
"""A verdict reads as a glyph and a word wherever it appears, never by colour alone."""
INK = "#1f2933"
MUTED = "#6b7785"
GRID = "#e3e7ec"
MAX_LABEL = 24
"""Group labels longer than this are cut with … in charts (the full name is in the table)."""
FONT = "font-family:system-ui,-apple-system,'Segoe UI',Roboto,sans-serif"


@dataclass(frozen=True)
class Dot:
    """One group's point and interval; ``value`` None = suppressed (drawn as a note only)."""

    label: str
    value: float | None
    low: float = math.nan
    high: float = math.nan
    highlight: bool = False
    exact: bool = False
    """The interval is the exact one of a rate at 0 or 1 (drawn dashed, the dot hollow)."""


@dataclass(frozen=True)
class Panel:
    """The dots of one attribute, under a header with its verdict."""

    title: str
    level: Level
    dots: tuple[Dot, ...]
    suppressed_note: str = ""


def nice_ticks(lo: float, hi: float, count: int = 5) -> list[float]:
    """Round tick values covering [lo, hi]."""
    span = hi - lo if hi > lo else 1.0
    raw = span / count
    magnitude = 10 ** math.floor(math.log10(raw))
    step = min((m * magnitude for m in (1, 2, 2.5, 5, 10) if m * magnitude >= raw), default=raw)
    first = math.ceil(lo / step - 1e-9) * step
    return [first + i * step for i in range(int((hi - first) / step + 1e-9) + 1)]


def domain(values: Sequence[float], unit: Unit, reference: float | None) -> tuple[float, float]:
    """The x range: every finite value (and the reference, and parity for ratios) padded by 8%.

    Shares and scores are not padded past 0 or 1 when no value lies beyond them; a negative
    value (an uplift interval below 0, say) always lies inside the range.
    """
    finite = [v for v in values if math.isfinite(v)]
    if reference is not None and math.isfinite(reference):
        finite.append(reference)
    if unit is Unit.RATIO:
        finite.append(1.0)
    if not finite:
        return 0.0, 1.0
    lo, hi = min(finite), max(finite)
    pad = max((hi - lo) * 0.08, 0.01 if unit is not Unit.RATIO else 0.05)
    padded_lo, padded_hi = lo - pad, hi + pad
    if unit in (Unit.SHARE, Unit.SCORE):
        if lo >= 0.0:
            padded_lo = max(padded_lo, 0.0)
        if hi <= 1.0:
            padded_hi = min(padded_hi, 1.0)
    return padded_lo, max(padded_hi, padded_lo + 1e-6)


def _tick_label(value: float, unit: Unit) -> str:
    if unit is Unit.SHARE:
        return (
            f"{100 * value:.0f}%"
            if abs(100 * value - round(100 * value)) < 1e-6
            else f"{100 * value:.1f}%"
        )
    return f"{value:.2f}".rstrip("0").rstrip(".") if unit is not Unit.SCORE else f"{value:.2f}"


def dot_plot(
    panels: Sequence[Panel],
    unit: Unit,
    *,
    reference: float | None = None,
    reference_label: str = "all",
    title: str = "",
    width: int = 760,
) -> str:
    """Dots with whiskers per group, panels stacked, a dashed reference line (overall value, or
    parity 1 for ratios)."""
    label_w, value_w, row_h, head_h, top, bottom = 170, 200, 16, 21, 6, 34
    plot_x0, plot_x1 = label_w, width - value_w
    values = [v for p in panels for d in p.dots for v in (d.value, d.low, d.high) if v is not None]
    lo, hi = domain(values, unit, reference)

    def x(v: float) -> float:
        return plot_x0 + (v - lo) / (hi - lo) * (plot_x1 - plot_x0)

    body: list[str] = []
    y = top
    for panel in panels:
        color = COLORS[panel.level]
        badge = f"{GLYPHS[panel.level]} {LABELS[panel.level]}"
        body.append(
            f'<text x="0" y="{y + 16}" font-size="13" font-weight="600" fill="{INK}">'
            f"{escape(panel.title)}</text>"
            f'<text x="{width}" y="{y + 16}" font-size="11" font-weight="700" fill="{color}" '
            f'text-anchor="end">{escape(badge)}</text>'
        )
        y += head_h
        for dot in panel.dots:
            if dot.value is None:
                continue
            cy = y + row_h / 2
            tone = color if dot.highlight and panel.level in (Level.FAIL, Level.WARN) else INK
            short = dot.label if len(dot.label) <= MAX_LABEL else dot.label[: MAX_LABEL - 1] + "…"
            body.append(
                f'<text x="{label_w - 8}" y="{cy + 4}" font-size="12" text-anchor="end" '
                f'fill="{tone}"><title>{escape(dot.label)}</title>{escape(short)}</text>'
            )
            if math.isfinite(dot.low) and math.isfinite(dot.high):
                dash = ' stroke-dasharray="3 2"' if dot.exact else ""
                body.append(
                    f'<line x1="{x(dot.low):.1f}" x2="{x(dot.high):.1f}" y1="{cy}" y2="{cy}" '
                    f'stroke="{tone}" stroke-width="2" stroke-opacity="0.55"{dash}/>'
                )
            if math.isfinite(dot.value):
                fill = (
                    f'fill="#fff" stroke="{tone}" stroke-width="1.5"'
                    if dot.exact
                    else (f'fill="{tone}"')
                )
                body.append(f'<circle cx="{x(dot.value):.1f}" cy="{cy}" r="4" {fill}/>')
            mark = " exact" if dot.exact else ""
            body.append(
                f'<text x="{plot_x1 + 10}" y="{cy + 4}" font-size="11.5" fill="{tone}">'
                f"{escape(fmt(dot.value, unit))} "
                f'<tspan fill="{MUTED}">({escape(fmt(dot.low, unit))} to '
                f"{escape(fmt(dot.high, unit))}{mark})</tspan></text>"
            )
            y += row_h
        if panel.suppressed_note:
            body.append(
                f'<text x="{plot_x0}" y="{y + 12}" font-size="11" font-style="italic" '
                f'fill="{MUTED}">{escape(panel.suppressed_note)}</text>'
            )
            y += row_h
        y += 6
    height = y + bottom
    axis: list[str] = []
    if lo < 0.0 < hi:
        zx = x(0.0)
        axis.append(
            f'<line x1="{zx:.1f}" x2="{zx:.1f}" y1="{top}" y2="{y}" stroke="{INK}" '
            f'stroke-width="1" data-zero="1"/>'
        )
    for tick in nice_ticks(lo, hi):
        tx = x(tick)
        axis.append(
            f'<line x1="{tx:.1f}" x2="{tx:.1f}" y1="{top}" y2="{y}" stroke="{GRID}"/>'
            f'<text x="{tx:.1f}" y="{y + 16}" font-size="11" fill="{MUTED}" '
            f'text-anchor="middle">{escape(_tick_label(tick, unit))}</text>'
        )
    if reference is not None and math.isfinite(reference) and lo <= reference <= hi:
        rx = x(reference)
        axis.append(
            f'<line x1="{rx:.1f}" x2="{rx:.1f}" y1="{top}" y2="{y}" stroke="{MUTED}" '
            f'stroke-dasharray="4 3"/>'
            f'<text x="{rx:.1f}" y="{y + 30}" font-size="11" fill="{MUTED}" '
            f'text-anchor="middle">{escape(reference_label)}</text>'
        )
    label = f"<title>{escape(title)}</title>" if title else ""
    return (
        f'<svg role="img" viewBox="0 0 {width} {height}" '
        f'width="100%" style="max-width:{width}px;{FONT}">{label}'
        + "".join(axis)
        + "".join(body)
        + "</svg>"
    )


def tradeoff_plot(
    points: Sequence[tuple[float, float, float]], *, width: int = 420, height: int = 240
) -> str:
    """(strength, benefit change, Gini) points joined in strength order: benefit on x, Gini on y."""
    if not points:
        return ""
    m_l, m_r, m_t, m_b = 56, 16, 12, 40
    xs = [p[1] for p in points]
    ys = [p[2] for p in points]
    x_lo, x_hi = min(*xs, 0.0), max(*xs, 0.0)
    y_lo, y_hi = min(ys), max(ys)
    x_pad = max((x_hi - x_lo) * 0.1, 0.005)
    y_pad = max((y_hi - y_lo) * 0.1, 0.01)
    x_lo, x_hi, y_lo, y_hi = x_lo - x_pad, x_hi + x_pad, y_lo - y_pad, y_hi + y_pad

    def px(v: float) -> float:
        return m_l + (v - x_lo) / (x_hi - x_lo) * (width - m_l - m_r)

    def py(v: float) -> float:
        return height - m_b - (v - y_lo) / (y_hi - y_lo) * (height - m_t - m_b)

    parts = [
        f'<line x1="{m_l}" x2="{width - m_r}" y1="{height - m_b}" y2="{height - m_b}" '
        f'stroke="{GRID}"/>',
        f'<line x1="{m_l}" x2="{m_l}" y1="{m_t}" y2="{height - m_b}" stroke="{GRID}"/>',
    ]
    for tick in nice_ticks(x_lo, x_hi, 4):
        parts.append(
            f'<text x="{px(tick):.1f}" y="{height - m_b + 15}" font-size="11" fill="{MUTED}" '
            f'text-anchor="middle">{100 * tick:+.1f}%</text>'
        )
    for tick in nice_ticks(y_lo, y_hi, 4):
        parts.append(
            f'<text x="{m_l - 6}" y="{py(tick) + 4:.1f}" font-size="11" fill="{MUTED}" '
            f'text-anchor="end">{tick:.2f}</text>'
        )
    path = " ".join(f"{px(p[1]):.1f},{py(p[2]):.1f}" for p in points)
    parts.append(f'<polyline points="{path}" fill="none" stroke="{INK}" stroke-width="1.5"/>')
    for s, b, g in points:
        parts.append(
            f'<circle cx="{px(b):.1f}" cy="{py(g):.1f}" r="4" fill="{INK}"/>'
            f'<text x="{px(b) + 7:.1f}" y="{py(g) - 6:.1f}" font-size="11" fill="{INK}">'
            f"s={s:g}</text>"
        )
    parts.append(
        f'<text x="{(m_l + width - m_r) / 2}" y="{height - 6}" font-size="11" fill="{MUTED}" '
        f'text-anchor="middle">predicted benefit of the top k vs strength 0</text>'
        f'<text x="12" y="{(m_t + height - m_b) / 2}" font-size="11" fill="{MUTED}" '
        f'text-anchor="middle" transform="rotate(-90 12 {(m_t + height - m_b) / 2})">'
        f"Gini of exposure</text>"
    )
    return (
        f'<svg role="img" viewBox="0 0 {width} {height}" '
        f'width="100%" style="max-width:{width}px;{FONT}"><title>Trade-off</title>'
        + "".join(parts)
        + "</svg>"
    )


__all__ = [
    "COLORS",
    "GLYPHS",
    "LABELS",
    "Dot",
    "Panel",
    "domain",
    "dot_plot",
    "nice_ticks",
    "tradeoff_plot",
]
