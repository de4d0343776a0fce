"""One self-contained HTML page for people: summary of verdicts first, then charts and tables.

No external assets and no script: inline CSS and SVG only, readable offline and printable. Every
figure shown in a table cell carries ``data-key``/``data-value`` (the JSON value, as JSON), so a
test can check that the page and :meth:`FairnessReport.to_json` carry the same figures. Keys:
``{side}/{metric}/{attribute}/{group}/{n|value|low|high|note}``,
``{side}/{metric}/overall/{value|low|high}``,
``{side}/{metric}/{attribute}/disparity/{worst|best|ratio/…|gap/…}``,
``{side}/{metric}/{attribute}/flag``, ``scalars|preferences/{metric}/{scope}/{…}``,
``counts/{name}``, ``summary/{level}``, ``summary/headline/{i}``,
``overloaded/count``, ``overloaded/{id}/{field}``, ``tradeoff/{row}/{field}``.
"""

from __future__ import annotations

import json
from collections.abc import Sequence
from html import escape

from matcher.fairness.figures import GroupMetricResult, Level, ScalarResult
from matcher.fairness.formatting import fmt, rounded
from matcher.fairness.report import FairnessReport, scope_label
from reports.fairness.html_cells import LEVEL_CLASS, badge, cell, result_key
from reports.fairness.html_sections import (
    by_metric,
    metric_section,
    overloaded_section,
    scalar_table,
    tradeoff_section,
)

CSS = """
:root{--fail:#b3261e;--warn:#a15c00;--pass:#2e7d32;--info:#555f6d;--ink:#1f2933;
--muted:#6b7785;--line:#e3e7ec;--soft:#f5f7fa}
*{box-sizing:border-box}
body{margin:0;background:#eef1f4;color:var(--ink);
font:14px/1.45 system-ui,-apple-system,"Segoe UI",Roboto,sans-serif}
main{max-width:1240px;margin:0 auto;padding:24px 32px 48px;background:#fff}
h1{font-size:24px;margin:0 0 2px}h2{font-size:19px;margin:36px 0 6px;padding-top:12px;
border-top:2px solid var(--ink)}h3{font-size:16px;margin:18px 0 4px}
p{margin:4px 0}.muted{color:var(--muted)}.small{font-size:12px}
code{font-size:12px;background:var(--soft);padding:1px 4px;border-radius:3px}
.badge{display:inline-block;min-width:42px;text-align:center;padding:1px 6px;border-radius:3px;
font-size:11px;font-weight:700;letter-spacing:.04em;color:#fff;background:var(--info)}
.badge.fail{background:var(--fail)}.badge.warn{background:var(--warn)}
.badge.pass{background:var(--pass)}.badge.na{background:#fff;color:var(--muted);
border:1px solid var(--line)}
.badge.info{background:#fff;color:var(--muted);border:1px solid var(--line)}
.summary{display:grid;grid-template-columns:minmax(0,0.9fr) minmax(0,1.1fr);gap:28px;
margin-top:14px}
.tiles{display:flex;gap:10px;margin:6px 0 14px}
.tile{flex:1;border:1px solid var(--line);border-top:5px solid var(--info);padding:6px 12px}
.tile b{display:block;font-size:28px;line-height:1.1}.tile.fail{border-top-color:var(--fail)}
.tile.warn{border-top-color:var(--warn)}.tile.pass{border-top-color:var(--pass)}
ol.headlines{padding-left:0;list-style:none;margin:0}
ol.headlines li{padding:6px 0;border-bottom:1px solid var(--line);display:flex;gap:10px;
align-items:flex-start}
ol.headlines li .badge{flex:none;margin-top:2px}
table{border-collapse:collapse;width:100%;font-size:12.5px}
th,td{padding:3px 7px;border-bottom:1px solid var(--line);text-align:left;vertical-align:top}
th{font-weight:600;color:var(--muted);font-size:11.5px;text-transform:uppercase;
letter-spacing:.03em}
td.num,th.num{text-align:right;font-variant-numeric:tabular-nums;white-space:nowrap}
table.matrix td,table.matrix th{text-align:center}table.matrix td:first-child,
table.matrix th:first-child{text-align:left}
table.matrix td:first-child{min-width:140px}table.matrix td,table.matrix th{padding:3px 4px}
a{color:inherit}
tr.attr td{background:var(--soft);font-weight:600}
td.suppressed{color:var(--muted);font-style:italic}
.metric{margin:22px 0 8px;padding-top:6px}
.metric .body{display:grid;grid-template-columns:minmax(0,1.5fr) minmax(0,1fr);gap:22px;
align-items:start;margin-top:8px}
.formula{color:var(--muted);font-size:12px}
.reason{color:var(--muted);font-size:11.5px;font-weight:400}
ul.notes li{margin:3px 0}
table.wide th.num{white-space:normal}.chart-small{max-width:440px;margin-top:14px}
@media (max-width:900px){.summary,.metric .body{grid-template-columns:1fr}}
@media print{body{background:#fff;font-size:11.5px}main{max-width:none;padding:0}
h2{break-before:page}.summary h2,.summary{break-before:auto}
h2,h3{break-after:avoid}svg,.tile,table.matrix,tr{break-inside:avoid}
.badge,.tile,tr.attr td{-webkit-print-color-adjust:exact;print-color-adjust:exact}
@page{margin:14mm}}
"""


def _header(report: FairnessReport) -> str:
    c = report.config
    counts = " · ".join(
        f'<span data-key="counts/{escape(k)}" data-value="{v}">{v:,}</span> '
        f"{escape(k.replace('_', ' '))}"
        for k, v in report.counts.items()
    )
    return (
        "<header><h1>Fairness report</h1>"
        f'<p class="muted">Generated {escape(report.generated_at)} · report version '
        f"{escape(report.version)} · {counts}</p>"
        f'<p class="muted small">Top k = {c.top_k} · groups under {c.min_group_size} are '
        f"suppressed · {100 * c.ci_level:.0f}% bootstrap intervals ({c.n_bootstrap} resamples) · "
        f"fail when a worst/best ratio is below {c.thresholds.ratio:g} and its interval excludes "
        f"{c.thresholds.parity:g}</p></header>"
    )


def _matrix(
    title: str, results: Sequence[GroupMetricResult], scalars: Sequence[ScalarResult] = ()
) -> str:
    judged = [r for r in results if r.spec.flagged]
    if not judged and not scalars:
        return ""
    attributes = list(dict.fromkeys(r.attribute for r in judged))
    attributes += [s.scope for s in scalars if s.scope not in attributes]
    rows: dict[str, dict[str, str]] = {}
    labels: dict[str, str] = {}
    for r in judged:
        rows.setdefault(r.spec.key, {})[r.attribute] = badge(
            r.verdict.level, f"{result_key(r)}/flag"
        )
        anchor = f"{r.spec.side.value}-{r.spec.key}"
        labels[r.spec.key] = f'<a href="#{escape(anchor)}">{escape(r.spec.label)}</a>'
    for s in scalars:
        rows.setdefault(s.key, {})[s.scope] = badge(
            s.verdict.level, f"scalars/{s.key}/{s.scope}/flag"
        )
        labels[s.key] = f'<a href="#scalars">{escape(s.label)}</a>'
    head = "".join(f"<th>{escape(scope_label(a))}</th>" for a in attributes)
    body = "".join(
        f"<tr><td>{labels[k]}</td>"
        + "".join(f"<td>{cells.get(a, '')}</td>" for a in attributes)
        + "</tr>"
        for k, cells in rows.items()
    )
    return (
        f'<h3>{escape(title)}</h3><table class="matrix"><tr><th>metric</th>{head}</tr>'
        f"{body}</table>"
    )


def _summary(report: FairnessReport) -> str:
    levels = report.level_counts()
    tiles = "".join(
        f'<div class="tile {LEVEL_CLASS[Level(k)]}"><b data-key="summary/{escape(k)}" '
        f'data-value="{v}">{v}</b>{escape(k.upper() if k != "n/a" else "not assessed")}</div>'
        for k, v in levels.items()
    )
    headlines = report.headlines()
    if headlines:
        items = "".join(
            f'<li>{badge(h.level)}<span data-key="summary/headline/{i}" '
            f'data-value="{escape(json.dumps(h.text))}">{escape(h.text)}</span></li>'
            for i, h in enumerate(headlines)
        )
        worst = f'<ol class="headlines">{items}</ol>'
        flagged = levels[Level.FAIL.value] + levels[Level.WARN.value]
        if flagged > len(headlines):
            worst += (
                f'<p class="small muted">{flagged - len(headlines)} more failing or warning '
                "results: see the verdict tables.</p>"
            )
    else:
        worst = "<p>No metric fails or warns.</p>"
    single = [s for s in report.scalars if s.scope == "overall"]
    per_attribute = [s for s in report.scalars if s.scope != "overall"]
    single_html = "".join(
        f"<tr><td>{escape(s.label)}</td>"
        + (
            cell(
                f"scalars/{s.key}/{s.scope}/value",
                rounded(s.figure.value),
                fmt(s.figure.value, s.unit),
            )
            if s.figure
            else '<td class="num">—</td>'
        )
        + f"<td>{badge(s.verdict.level, f'scalars/{s.key}/{s.scope}/flag')}</td></tr>"
        for s in single
    )
    return (
        '<section class="summary" id="summary"><div>'
        f'<div class="tiles">{tiles}</div><h3>What needs attention, worst first</h3>{worst}'
        f'<table style="margin-top:14px">{single_html}</table>'
        "</div><div>"
        + _matrix("Clients: verdict per metric and group attribute", report.client)
        + _matrix(
            "Therapists: verdict per metric and group attribute", report.therapist, per_attribute
        )
        + "</div></section>"
    )


def _method(report: FairnessReport) -> str:
    c = report.config
    g = c.groups
    edges = ", ".join(str(e) for e in g.experience_edges)
    items = [
        "Exposure of a therapist shown at position p: 1 / log2(1 + p), summed over all lists "
        "(Singh &amp; Joachims 2018).",
        "Merit (target exposure): each list's total attention split over its eligible "
        "therapists in proportion to predicted benefit, summed per therapist.",
        "Intervals: percentile bootstrap, resampling intakes (client side) or therapists "
        f"(therapist side) with replacement, {c.n_bootstrap} resamples, seed {c.seed}.",
        "Disparity: worst vs best shown group on the favourable side of the metric (for a rate "
        "where lower is better, 1 − rate). The pair is fixed on the data and compared in every "
        "resample, so the interval of the ratio can include parity.",
        f"Verdicts: pass when ratio ≥ {c.thresholds.ratio:g}; fail when below and the interval "
        f"excludes {c.thresholds.parity:g}; warn otherwise. Gini: warn ≥ "
        f"{c.thresholds.gini.warn:g}, fail when the interval ≥ {c.thresholds.gini.fail:g}; "
        f"exposure disparity: {c.thresholds.exposure_disparity.warn:g} / "
        f"{c.thresholds.exposure_disparity.fail:g}; overload: {c.thresholds.overload.warn:g} / "
        f"{c.thresholds.overload.fail:g}.",
        f"Groups with fewer than {c.min_group_size} units in a metric are suppressed: no "
        "figures, no verdicts. Missing values form their own group, “not given”.",
        f"Derived groups: payment self-pay vs insured; language: can do therapy in "
        f"“{escape(g.english)}” or not; experience bands starting at 0, {edges} years; new "
        f"therapists: is_new, else fewer than {g.new_max_outcomes} past outcomes, else first seen "
        f"within {g.new_window_days} days.",
    ]
    items += [escape(n) for n in report.notes]
    return (
        '<section id="method"><h2>Method and definitions</h2><ul class="notes">'
        + "".join(f"<li>{i}</li>" for i in items)
        + "</ul></section>"
    )


def render_html(report: FairnessReport) -> str:
    """The report as one self-contained HTML document."""
    note = report.config.suppressed_note
    client = "".join(metric_section(rs, report) for rs in by_metric(report.client))
    therapist = "".join(metric_section(rs, report) for rs in by_metric(report.therapist))
    preferences = ""
    if report.preferences:
        preferences = "<h3>Stated preferences met, by kind of preference</h3>" + scalar_table(
            "preferences", report.preferences, report, "clients"
        )
    return (
        '<!DOCTYPE html><html lang="en"><head><meta charset="utf-8">'
        '<meta name="viewport" content="width=device-width,initial-scale=1">'
        f"<title>Fairness report · {escape(report.generated_at)}</title>"
        f"<style>{CSS}</style></head><body><main>"
        + _header(report)
        + _summary(report)
        + '<section id="clients"><h2>Clients: are matches equally available and equally good?'
        "</h2>"
        + client
        + preferences
        + "</section>"
        + '<section id="therapists"><h2>Therapists: is exposure fair relative to merit? '
        "Is anyone overloaded?</h2>"
        + therapist
        + '<h3 id="scalars">Exposure concentration, group disparity and overload</h3>'
        + scalar_table("scalars", report.scalars, report, "therapists")
        + overloaded_section(report)
        + "</section>"
        + tradeoff_section(report)
        + _method(report)
        + f'<p class="small muted">Groups below the minimum size read “{escape(note)}”.</p>'
        + "</main></body></html>"
    )


__all__ = ["render_html"]
