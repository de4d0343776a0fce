"""The page an ops reader meets: provenance first, labelled verdicts, honest intervals, charts
whose axes hold every value drawn, names beside ids, markup escaped, detail folded."""

from __future__ import annotations

import dataclasses
import json
import re
from html.parser import HTMLParser

import numpy as np
import pytest
from fairness_html import html_figures, json_figures
from hypothesis import given
from hypothesis import strategies as st
from scipy.stats import binomtest

from matcher.fairness import (
    FairnessConfig,
    FairnessInputs,
    FairnessReport,
    Level,
    Provenance,
    Source,
    build_report,
    data_window,
)
from matcher.fairness.figures import Figure
from matcher.fairness.formatting import fmt_interval
from matcher.fairness.intervals import exact_boundary_interval
from matcher.fairness.specs import Kind, Unit
from reports import render_html
from reports.fairness.svg import Dot, Panel, domain, dot_plot

STAMP = "2026-01-01T00:00:00+00:00"
PROVENANCE = Provenance(
    Source.ONLINE,
    "therapist-matcher/7",
    "2025-03-01T00:00:00+00:00",
    "2025-03-31T23:00:00+00:00",
    "service logs, match requests received from 2025-03-01 to 2025-03-31 (UTC)",
)


@pytest.fixture(scope="module")
def named(world: FairnessInputs) -> FairnessReport:
    """The test world with therapist names (one of them full of markup) and a provenance; every
    crisis intake of the first region is answered instead, so its crisis rate is 0 of n."""
    therapists = world.therapists.assign(
        display_name=[f"Dr. {i} <b>O'Neil</b> & Co" for i in range(len(world.therapists))]
    )
    intakes = world.intakes.copy()
    first = intakes["region"] == intakes["region"].iloc[0]
    intakes.loc[first & (intakes["status"] == "crisis"), "status"] = "matched"
    inputs = FairnessInputs(intakes, therapists, world.impressions, world.eligible)
    config = FairnessConfig(n_bootstrap=40, seed=3)
    return build_report(inputs, config, generated_at=STAMP, provenance=PROVENANCE)


class _Tags(HTMLParser):
    """(tag, attrs, text) of every element (text = its direct and nested text)."""

    def __init__(self) -> None:
        super().__init__()
        self.done: list[tuple[str, dict[str, str | None], str]] = []
        self.stack: list[tuple[str, dict[str, str | None], list[str]]] = []

    def handle_starttag(self, tag: str, attrs: list[tuple[str, str | None]]) -> None:
        if tag in ("meta", "br"):
            return
        self.stack.append((tag, dict(attrs), []))

    def handle_endtag(self, tag: str) -> None:
        if self.stack:
            t, a, text = self.stack.pop()
            self.done.append((t, a, "".join(text)))
            if self.stack:
                self.stack[-1][2].append("".join(text))

    def handle_data(self, data: str) -> None:
        if self.stack:
            self.stack[-1][2].append(data)


def _elements(page: str) -> list[tuple[str, dict[str, str | None], str]]:
    parser = _Tags()
    parser.feed(page)
    return parser.done


def test_provenance_heads_the_page_and_agrees_with_json(named: FairnessReport):
    page = render_html(named)
    doc = named.to_json()
    assert doc["provenance"] == {
        "source": "online",
        "model_version": "therapist-matcher/7",
        "window_start": "2025-03-01T00:00:00+00:00",
        "window_end": "2025-03-31T23:00:00+00:00",
        "data": PROVENANCE.data,
    }
    found = html_figures(page)
    expected = json_figures(doc)
    assert set(found) == set(expected)
    assert all(v == expected[k] for k, vs in found.items() for v, _ in vs)
    top = page.index('id="summary"')
    for text in ("therapist-matcher/7", "2025-03-01 00:00 UTC", "2025-03-31 23:00 UTC", "ONLINE"):
        assert page.index(text) < top, text


def test_data_window_is_the_first_and_last_submission():
    import pandas as pd

    frame = pd.DataFrame({"submitted_at": ["2025-02-01T10:00:00", "2025-01-05T08:30:00+01:00"]})
    assert data_window(frame) == ("2025-01-05T07:30:00+00:00", "2025-02-01T10:00:00+00:00")
    assert data_window(frame.iloc[:0]) == (None, None)
    assert data_window(pd.DataFrame({"x": [1]})) == (None, None)


def test_every_badge_says_its_verdict_in_words(named: FairnessReport):
    words = {"fail": "FAIL", "warn": "WARN", "pass": "PASS", "n/a": "N/A", "info": "INFO"}
    badges = [
        (a, text)
        for tag, a, text in _elements(render_html(named))
        if tag == "span" and "badge" in (a.get("class") or "").split()
    ]
    assert len(badges) > 50
    for attrs, text in badges:
        classes = (attrs.get("class") or "").split()
        if "source" in classes:
            assert text in ("ONLINE", "OFFLINE")
            continue
        level = attrs.get("data-value")
        assert text.strip().split()[-1] in words.values(), text
        if level is not None:
            assert text.strip().endswith(words[json.loads(level)]), (level, text)


def test_detail_is_folded_and_every_metric_has_a_fold(named: FairnessReport):
    page = render_html(named)
    folds = re.findall(r'<details class="metric" id="([^"]+)"', page)
    metrics = {f"{r.spec.side.value}-{r.spec.key}" for r in (*named.client, *named.therapist)}
    assert set(folds) == metrics
    assert "<details open" not in page
    assert "details::details-content" in page  # print opens every fold


@given(st.integers(1, 2000), st.sampled_from([0.8, 0.9, 0.95, 0.99]), st.booleans())
def test_exact_boundary_interval_is_clopper_pearson(n: int, level: float, all_ones: bool):
    k = n if all_ones else 0
    low, high = binomtest(k, n).proportion_ci(confidence_level=level, method="exact")
    bounds = exact_boundary_interval(float(all_ones), n, level)
    assert bounds is not None
    assert bounds == pytest.approx((low, high), abs=1e-9)
    assert exact_boundary_interval(0.5, n, level) is None


def test_zero_width_intervals_are_replaced_by_exact_ones(named: FairnessReport):
    doc = named.to_json()
    level = named.config.ci_level
    exact = [(m, g) for m in doc["client"] + doc["therapist"] for g in m["groups"] if "exact" in g]
    assert exact, "the first region's crisis rate is 0 of n"
    for m, g in exact:
        assert m["unit"] == "share" and g["low"] == g["high"] == g["value"] in (0.0, 1.0)
        want = exact_boundary_interval(g["value"], g["n"], level)
        assert want is not None
        assert (g["exact"]["low"], g["exact"]["high"]) == pytest.approx(want, abs=1e-6)
        assert g["exact"]["high"] - g["exact"]["low"] > 0.01  # never certainty at n ≈ 20
    # every rate (a mean shown as a share) stuck at 0 or 1 has one, and nothing else
    shown = {(m["side"], m["metric"], m["attribute"], g["group"]) for m, g in exact}
    stuck = {
        (r.spec.side.value, r.spec.key, r.attribute, g.group)
        for r in (*named.client, *named.therapist)
        for g in r.groups
        if g.figure is not None
        and r.spec.kind is Kind.MEAN
        and r.spec.unit is Unit.SHARE
        and g.figure.low == g.figure.high == g.figure.value
        and g.figure.value in (0.0, 1.0)
    }
    assert shown == stuck
    page = render_html(named)
    found = html_figures(page)
    m, g = exact[0]
    base = f"{m['side']}/{m['metric']}/{m['attribute']}/{g['group']}"
    text = next(t for _v, t in found[f"{base}/exact/high"])
    assert text != "0.0%"
    assert re.search(r"exact\s*<span class=\"boot\">", page)


def _coordinates(svg: str, tag: str, attr: str) -> list[float]:
    return [float(v) for v in re.findall(rf'<{tag}[^>]*\b{attr}="(-?[\d.]+)"', svg)]


def test_negative_values_lie_inside_the_axis_with_a_zero_line():
    dots = (
        Dot("a", -0.10, -0.18, -0.03, highlight=True),
        Dot("b", 0.40, 0.25, 0.55),
    )
    lo, hi = domain([-0.18, -0.03, 0.55, 0.25], Unit.SCORE, None)
    assert lo < -0.18 and hi > 0.55
    svg = dot_plot([Panel("Uplift", Level.FAIL, dots)], Unit.SCORE, width=760)
    plot_x0, plot_x1 = 170, 760 - 200
    xs = _coordinates(svg, "circle", "cx") + _coordinates(svg, "line", "x1")
    assert xs and all(plot_x0 <= x <= plot_x1 for x in xs)
    circles = _coordinates(svg, "circle", "cx")
    zero = re.search(r'<line x1="([\d.]+)"[^>]*data-zero="1"', svg)
    assert zero is not None
    assert circles[0] < float(zero.group(1)) < circles[1]  # the negative dot left of zero
    # a whisker from -0.18 to -0.03 has width: it is not flattened onto the zero line
    whisker = re.search(r'<line x1="([\d.]+)" x2="([\d.]+)" y1="([\d.]+)" y2="\3"', svg)
    assert whisker is not None and float(whisker.group(2)) - float(whisker.group(1)) > 20
    assert "-0.180 to -0.030" in svg
    assert fmt_interval(Figure(-0.1, -0.18, -0.03), Unit.RATIO) == "-0.18 to -0.03"


def test_shares_are_not_padded_below_zero():
    assert domain([0.005, 0.5], Unit.SHARE, None)[0] == 0.0
    assert domain([0.2, 0.99], Unit.SHARE, None)[1] == 1.0
    assert domain([-0.02, 0.5], Unit.SHARE, None)[0] < -0.02


def test_caseload_table_names_therapists_and_markup_is_escaped(named: FairnessReport):
    page = render_html(named)
    assert "<b>O'Neil</b>" not in page
    assert "&lt;b&gt;O&#39;Neil&lt;/b&gt; &amp; Co" in page
    found = html_figures(page)
    assert named.overloaded
    for o in named.overloaded:
        assert o.display_name.startswith("Dr. ")
        (value, text), *_ = found[f"overloaded/{o.therapist_id}/display_name"]
        assert value == o.display_name == text
    rows = re.findall(r"<tr><td[^>]*display_name[^>]*>[^<]*</td><td>([^<]+)</td>", page)
    assert rows == [o.therapist_id for o in named.overloaded]


def test_a_report_without_provenance_says_so(report: FairnessReport):
    page = render_html(report)
    assert report.to_json()["provenance"] is None
    assert page.index("SOURCE NOT RECORDED") < page.index('id="summary"')


def test_renderer_is_the_only_template_loader():
    import pathlib

    root = pathlib.Path(__file__).resolve().parents[2]
    users = [
        p.relative_to(root).as_posix()
        for package in ("core", "features", "matcher", "synth", "training", "api", "cli", "reports")
        for p in (root / package).rglob("*.py")
        if re.search(r"^\s*(from|import) jinja2", p.read_text(encoding="utf-8"), re.M)
    ]
    # one Jinja2 environment per report page (the experiment report includes this one's CSS)
    assert sorted(users) == ["reports/experiments/html.py", "reports/fairness/templating.py"]


def test_page_height_budget_is_folded_not_cut(named: FairnessReport):
    """Everything the JSON holds is on the page (folded), and the unfolded part is short:
    the attention screen plus one summary line per metric."""
    page = render_html(named)
    outside = re.sub(r"<details.*?</details>", "", page, flags=re.S)
    assert len(re.findall(r"<tr", outside)) < 60
    assert "<svg" not in outside  # charts sit in the folds
    found = html_figures(page)
    assert set(found) == set(json_figures(named.to_json()))
    assert dataclasses.replace(named, provenance=None).to_json()["provenance"] is None
    assert np.isfinite(named.config.ci_level)


def test_a_report_with_nothing_judged_says_so(world: FairnessInputs):
    empty = build_report(world, FairnessConfig(min_group_size=10**6, n_bootstrap=5))
    page = render_html(empty)
    assert "Nothing could be judged" in page and "No metric fails or warns" not in page
