"""The fairness report's Jinja2 environment (from :mod:`reports.templating`) and its filters.

Only report code loads templates (``reports.fairness.html``); figures reach them as numbers and
are formatted by the same :func:`~matcher.fairness.formatting.fmt` as the verdict reasons. The
one piece of markup made in Python is the inline SVG of the charts (:mod:`reports.fairness.svg`,
which escapes every text it draws).
"""

from __future__ import annotations

import json
from datetime import UTC, datetime
from functools import cache

from matcher.fairness.figures import Level
from matcher.fairness.formatting import fmt, fmt_interval, interval_separator, pretty, rounded
from matcher.fairness.report import scope_label
from matcher.fairness.specs import Unit
from reports.fairness.svg import GLYPHS, LABELS
from reports.templating import Environment, template_environment

LEVEL_CLASS = {
    Level.FAIL: "fail",
    Level.WARN: "warn",
    Level.PASS: "pass",
    Level.INFO: "info",
    Level.NOT_ASSESSED: "na",
}


def as_json(value: object) -> str:
    """A ``data-value``: the JSON text of a figure (rounded like the JSON document)."""
    if isinstance(value, float):
        value = rounded(value)
    return json.dumps(value, ensure_ascii=False)


def moment(text: str | None) -> str:
    """An ISO 8601 time for people: ``2025-09-20 21:32 UTC`` (``unknown`` when None)."""
    if not text:
        return "unknown"
    try:
        when = datetime.fromisoformat(text)
    except ValueError:
        return text
    if when.tzinfo is not None:
        when = when.astimezone(UTC)
    return when.strftime("%Y-%m-%d %H:%M UTC")


@cache
def environment() -> Environment:
    """The templates under ``reports/fairness/templates`` with autoescape on for every file."""
    env = template_environment("reports.fairness")
    env.filters.update(
        fmt=fmt,
        fmt_interval=fmt_interval,
        pretty=pretty,
        scope_label=scope_label,
        jv=as_json,
        rounded=rounded,
        moment=moment,
        sep=interval_separator,
    )
    env.globals.update(
        LEVEL_CLASS=LEVEL_CLASS, GLYPHS=GLYPHS, LABELS=LABELS, Level=Level, Unit=Unit
    )
    return env


__all__ = ["LEVEL_CLASS", "as_json", "environment", "moment"]
