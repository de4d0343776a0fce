"""The fairness report: a frozen dataclass with plain-language headlines and a versioned JSON form.

JSON shape (``version`` 1.1; floats rounded to 6 decimals, undefined numbers as null)::

    {schema, version, generated_at, config, counts,
     provenance: {source, model_version, window_start, window_end, data} | null,
     summary: {levels: {fail, warn, pass, n/a}, headlines: [{level, metric, scope, text}]},
     client | therapist: [{metric, label, side, attribute, attribute_label, unit, direction,
                           question, formula, overall: {value, low, high} | null,
                           groups: [{group, n, value, low, high, exact?: {low, high}}
                                    | {group, suppressed: true, note}],
                           disparity: {worst, best, ratio: {…}, gap: {…}} | null,
                           flag: {level, reason}}],
     scalars | preferences: [{metric, label, scope, unit, question, formula,
                              n, value, low, high | suppressed, note, flag}],
     overloaded: {count, listed: [{therapist_id, display_name, current_caseload, max_caseload}]},
     tradeoff: {top_k, batch_size, n_intakes, n_therapists, attributes, rows: […]} | null,
     notes: [str]}

Suppressed groups carry their name and the note, never a number. A group whose rate is 0 or 1 in
every unit has a zero-width bootstrap interval; it also carries ``exact``, the Clopper–Pearson
interval of 0 (or n) of n (:func:`~matcher.fairness.intervals.exact_boundary_interval`), which the
page shows instead. 1.1 added ``provenance``, ``exact`` and ``display_name``.
"""

from __future__ import annotations

import dataclasses
from dataclasses import dataclass
from typing import Any

from matcher.fairness.config import FairnessConfig
from matcher.fairness.figures import (
    LEVEL_ORDER,
    Figure,
    GroupMetricResult,
    Level,
    ScalarResult,
)
from matcher.fairness.formatting import fmt, fmt_interval, pretty, rounded
from matcher.fairness.groups import ATTRIBUTE_LABELS
from matcher.fairness.intervals import exact_boundary_interval
from matcher.fairness.provenance import Provenance
from matcher.fairness.specs import Kind, MetricSpec, Unit
from matcher.fairness.tradeoff import Tradeoff

REPORT_SCHEMA = "matcher.fairness-report"
REPORT_VERSION = "1.1"
JUDGED = (Level.FAIL, Level.WARN, Level.PASS, Level.NOT_ASSESSED)


@dataclass(frozen=True)
class OverloadedTherapist:
    """A therapist at or over their caseload limit."""

    therapist_id: str
    current_caseload: int
    max_caseload: int
    display_name: str = ""


@dataclass(frozen=True)
class Headline:
    """One flagged finding, in a sentence."""

    level: Level
    metric: str
    scope: str
    text: str


def scope_label(scope: str) -> str:
    """``overall`` or an attribute's readable name."""
    return "overall" if scope == "overall" else ATTRIBUTE_LABELS.get(scope, pretty(scope))


def group_sentence(result: GroupMetricResult, level: float, top_k: int) -> str:
    """``Attribute — <the metric's sentence> (ratio r, 95% CI lo–hi).``"""
    d, unit = result.disparity, result.spec.unit
    if d is None:
        return f"{result.spec.label} — {scope_label(result.attribute)}: not assessed."
    worst, best = result.group(d.worst).figure, result.group(d.best).figure
    assert worst is not None and best is not None
    if d.worst == d.best:
        return f"{result.spec.label} — {scope_label(result.attribute)}: all groups equal."
    template = result.spec.sentence or "{worst} {wv} vs {best} {bv}"
    text = template.format(
        worst=pretty(d.worst),
        best=pretty(d.best),
        wv=fmt(worst.value, unit),
        bv=fmt(best.value, unit),
        k=top_k,
    )
    return (
        f"{scope_label(result.attribute)} — {text} (ratio {fmt(d.ratio.value, Unit.RATIO)}, "
        f"{100 * level:.0f}% CI {fmt_interval(d.ratio, Unit.RATIO)})."
    )


SCALAR_PHRASES = {
    "exposure_disparity": "{v} of all attention would have to move between groups to match merit",
    "gini_exposure": "Gini of exposure across therapists {v}",
    "overload_rate": "{v} of therapists are at or over their caseload limit",
}


def scalar_sentence(result: ScalarResult, level: float) -> str:
    """``Scope — <phrase with the value> (95% CI lo–hi).``"""
    scope = "All therapists" if result.scope == "overall" else scope_label(result.scope)
    if result.figure is None:
        return f"{result.label} — {scope}: not assessed."
    value = fmt(result.figure.value, result.unit)
    phrase = SCALAR_PHRASES.get(result.key, result.label + ": {v}").format(v=value)
    return f"{scope} — {phrase} ({100 * level:.0f}% CI {fmt_interval(result.figure, result.unit)})."


def exact_interval(
    spec: MetricSpec, n: int | None, figure: Figure | None, level: float
) -> Figure | None:
    """The exact interval shown instead of a zero-width bootstrap one: for a rate (a mean shown
    as a share) that is 0 or 1 with low = high, the Clopper–Pearson interval of 0 (or n) of n;
    None otherwise."""
    if figure is None or n is None or spec.kind is not Kind.MEAN or spec.unit is not Unit.SHARE:
        return None
    if not (figure.defined and figure.low == figure.high == figure.value):
        return None
    bounds = exact_boundary_interval(figure.value, n, level)
    return None if bounds is None else Figure(figure.value, *bounds)


def _figure_json(figure: Figure | None) -> dict[str, float | None] | None:
    if figure is None:
        return None
    return {
        "value": rounded(figure.value),
        "low": rounded(figure.low),
        "high": rounded(figure.high),
    }


def _config_json(config: FairnessConfig) -> dict[str, Any]:
    raw = dataclasses.asdict(config)
    raw["groups"]["as_of"] = None if config.groups.as_of is None else str(config.groups.as_of)
    raw["groups"]["experience_edges"] = list(config.groups.experience_edges)
    return raw


@dataclass(frozen=True)
class FairnessReport:
    """Everything ops read: client- and therapist-side group metrics, scalars, capacity,
    optional mitigation trade-off. Build with :func:`matcher.fairness.build_report`."""

    generated_at: str
    config: FairnessConfig
    counts: dict[str, int]
    client: tuple[GroupMetricResult, ...]
    therapist: tuple[GroupMetricResult, ...]
    scalars: tuple[ScalarResult, ...]
    preferences: tuple[ScalarResult, ...]
    overloaded: tuple[OverloadedTherapist, ...]
    n_overloaded: int
    tradeoff: Tradeoff | None = None
    notes: tuple[str, ...] = ()
    provenance: Provenance | None = None
    version: str = REPORT_VERSION

    def judged(self) -> list[GroupMetricResult | ScalarResult]:
        """Every result with a verdict other than ``info``."""
        results: list[GroupMetricResult | ScalarResult] = [
            *self.client,
            *self.therapist,
            *self.scalars,
        ]
        return [r for r in results if r.verdict.level is not Level.INFO]

    def level_counts(self) -> dict[str, int]:
        """How many judged results fail, warn, pass, or could not be assessed."""
        counts = {level.value: 0 for level in JUDGED}
        for result in self.judged():
            counts[result.verdict.level.value] += 1
        return counts

    def headlines(self, limit: int | None = None) -> tuple[Headline, ...]:
        """The failing and warning results, worst first, as sentences."""
        flagged = [r for r in self.judged() if r.verdict.level in (Level.FAIL, Level.WARN)]
        flagged.sort(key=lambda r: (LEVEL_ORDER[r.verdict.level], r.verdict.severity))
        out = []
        for r in flagged[: self.config.max_headlines if limit is None else limit]:
            if isinstance(r, GroupMetricResult):
                out.append(
                    Headline(
                        r.verdict.level,
                        r.spec.key,
                        r.attribute,
                        group_sentence(r, self.config.ci_level, self.config.top_k),
                    )
                )
            else:
                text = scalar_sentence(r, self.config.ci_level)
                out.append(Headline(r.verdict.level, r.key, r.scope, text))
        return tuple(out)

    def _group_json(self, result: GroupMetricResult) -> dict[str, Any]:
        groups: list[dict[str, Any]] = []
        for g in result.groups:
            if g.figure is None:
                groups.append(
                    {"group": g.group, "suppressed": True, "note": self.config.suppressed_note}
                )
            else:
                row: dict[str, Any] = {"group": g.group, "n": g.n, **(_figure_json(g.figure) or {})}
                exact = exact_interval(result.spec, g.n, g.figure, self.config.ci_level)
                if exact is not None:
                    row["exact"] = {"low": rounded(exact.low), "high": rounded(exact.high)}
                groups.append(row)
        d = result.disparity
        return {
            "metric": result.spec.key,
            "label": result.spec.label,
            "side": result.spec.side.value,
            "attribute": result.attribute,
            "attribute_label": scope_label(result.attribute),
            "unit": result.spec.unit.value,
            "direction": result.spec.direction.value,
            "question": result.spec.question,
            "formula": result.spec.formula,
            "overall": _figure_json(result.overall),
            "groups": groups,
            "disparity": None
            if d is None
            else {
                "worst": d.worst,
                "best": d.best,
                "ratio": _figure_json(d.ratio),
                "gap": _figure_json(d.gap),
            },
            "flag": {"level": result.verdict.level.value, "reason": result.verdict.reason},
        }

    def _scalar_json(self, result: ScalarResult) -> dict[str, Any]:
        head = {
            "metric": result.key,
            "label": result.label,
            "scope": result.scope,
            "unit": result.unit.value,
            "question": result.question,
            "formula": result.formula,
        }
        if result.figure is None and result.verdict.level is Level.INFO:
            body: dict[str, Any] = {"suppressed": True, "note": self.config.suppressed_note}
        else:
            body = {"n": result.n, **(_figure_json(result.figure) or {"value": None})}
        flag = {"level": result.verdict.level.value, "reason": result.verdict.reason}
        return {**head, **body, "flag": flag}

    def _tradeoff_json(self) -> dict[str, Any] | None:
        t = self.tradeoff
        if t is None:
            return None
        return {
            "top_k": t.top_k,
            "batch_size": t.batch_size,
            "n_intakes": t.n_intakes,
            "n_therapists": t.n_therapists,
            "attributes": list(t.attributes),
            "rows": [
                {
                    "strength": r.strength,
                    "benefit": rounded(r.benefit),
                    "benefit_change": rounded(r.benefit_change),
                    "true_benefit": rounded(r.true_benefit),
                    "true_benefit_change": rounded(r.true_benefit_change),
                    "gini": rounded(r.gini),
                    "never_shown": rounded(r.never_shown),
                    "exposure_disparity": {
                        a: rounded(r.exposure_disparity.get(a)) for a in t.attributes
                    },
                }
                for r in t.rows
            ],
        }

    def to_json(self) -> dict[str, Any]:
        """A JSON-serialisable dict (``json.dumps`` works as is) carrying every figure."""
        return {
            "schema": REPORT_SCHEMA,
            "version": self.version,
            "generated_at": self.generated_at,
            "config": _config_json(self.config),
            "counts": dict(self.counts),
            "provenance": None
            if self.provenance is None
            else {
                **dataclasses.asdict(self.provenance),
                "source": self.provenance.source.value,
            },
            "summary": {
                "levels": self.level_counts(),
                "headlines": [
                    {"level": h.level.value, "metric": h.metric, "scope": h.scope, "text": h.text}
                    for h in self.headlines()
                ],
            },
            "client": [self._group_json(r) for r in self.client],
            "therapist": [self._group_json(r) for r in self.therapist],
            "scalars": [self._scalar_json(r) for r in self.scalars],
            "preferences": [self._scalar_json(r) for r in self.preferences],
            "overloaded": {
                "count": self.n_overloaded,
                "listed": [dataclasses.asdict(o) for o in self.overloaded],
            },
            "tradeoff": self._tradeoff_json(),
            "notes": list(self.notes),
        }


__all__ = [
    "REPORT_SCHEMA",
    "REPORT_VERSION",
    "FairnessReport",
    "Headline",
    "OverloadedTherapist",
    "exact_interval",
    "group_sentence",
    "scalar_sentence",
    "scope_label",
]
