"""Offline fairness: a model's matches on the held-out split, as fairness-report inputs.

The engine (:class:`matcher.engine.Matcher`) answers every validation intake exactly as the API
would; its lists become impressions, its per-intake status and eligible counts the intake rows,
and every eligible pair carries the model's predicted benefit as merit (plus the world's true
benefit when the data is synthetic).

Also here: the promotion gate's reading of a report (:func:`fairness_gate`) and writing reports
to disk, atomically (:func:`write_report`, :func:`publish_report`: the copies that
``GET /v1/reports/fairness`` serves).
"""

from __future__ import annotations

import json
import os
import tempfile
from collections.abc import Sequence
from pathlib import Path
from typing import Literal

import numpy as np
import pandas as pd

from core.config import MatcherConfig
from core.errors import ConfigError
from features.dataset import Dataset
from features.outcomes import has_outcome
from matcher.engine import Matcher
from matcher.fairness import (
    FairnessConfig,
    FairnessInputs,
    FairnessReport,
    Level,
    Source,
    Tradeoff,
    build_report,
    evaluate_tradeoff,
)
from matcher.model import MatchModel
from matcher.triage import triage
from reports import render_html
from training.scorecard import Truth
from training.splits import subset, time_split

TRADEOFF_STRENGTHS = (0.0, 0.25, 0.5, 1.0)
"""Re-ranking strengths the report's trade-off table compares (0 = as served without it)."""


def offline_inputs(
    model: MatchModel,
    dataset: Dataset,
    *,
    truth: Truth | None = None,
    holdout_fraction: float = 0.2,
    top_k: int = 10,
    max_intakes: int | None = 4000,
    seed: int = 0,
    matcher_config: MatcherConfig | None = None,
    batch_size: int = 200,
) -> FairnessInputs:
    """Fairness inputs from the model's answers to the held-out intakes.

    The intakes are answered in time order, ``batch_size`` at a time, by one engine built with
    ``matcher_config`` (the serving knobs): with exposure mitigation on, each batch is re-ranked
    with the exposure totals of the batches before it, as the service would.
    """
    train_ids, valid_ids = time_split(dataset, holdout_fraction, seed=seed)
    valid = subset(dataset, valid_ids)
    intakes = valid.intakes
    if max_intakes is not None and len(intakes) > max_intakes:
        keep = np.random.default_rng(seed).choice(len(intakes), max_intakes, replace=False)
        intakes = intakes.iloc[np.sort(keep)].reset_index(drop=True)
    matcher = Matcher(model, dataset.therapists, matcher_config)
    results = [
        result
        for start in range(0, len(intakes), max(batch_size, 1))
        for result in matcher.match_frame(intakes.iloc[start : start + batch_size], top_k=top_k)
    ]
    shown = pd.DataFrame(
        [
            {
                "intake_id": r.intake_id,
                "therapist_id": m.therapist_id,
                "position": m.rank,
                "score": m.predicted_benefit if m.predicted_benefit is not None else m.score,
            }
            for r in results
            for m in r.matches
        ],
        columns=["intake_id", "therapist_id", "position", "score"],
    )
    status = pd.DataFrame(
        {
            "intake_id": [r.intake_id for r in results],
            "status": [r.status.value for r in results],
            "n_eligible": [r.eligible for r in results],
        }
    )
    batch = matcher.pool.encode_intakes(intakes)
    # score_batch already leaves crisis intakes out of the scored pairs.
    _, scored = matcher.score_batch(batch, triage(batch))
    eligible = pd.DataFrame(
        {
            "intake_id": batch.ids[scored.pairs.intake_idx],
            "therapist_id": matcher.pool.ids[scored.pairs.therapist_idx],
            "merit": scored.score,
        }
    )
    if truth is not None and len(eligible):
        eligible["true_benefit"] = truth.p_good(
            intakes, dataset.therapists, eligible["intake_id"], eligible["therapist_id"]
        )
        merged = shown.merge(eligible, on=["intake_id", "therapist_id"], how="left")
        shown["true_benefit"] = merged["true_benefit"].to_numpy()
    history = subset(dataset, train_ids).interactions
    outcomes = history.loc[has_outcome(history), "therapist_id"].value_counts()
    therapists = dataset.therapists.assign(
        n_outcomes=dataset.therapists["therapist_id"].map(outcomes).fillna(0).astype(int)
    )
    return FairnessInputs(
        intakes=intakes.merge(status, on="intake_id", how="left"),
        therapists=therapists,
        impressions=shown,
        eligible=eligible,
    )


def offline_tradeoff(
    inputs: FairnessInputs,
    config: FairnessConfig | None = None,
    strengths: Sequence[float] = TRADEOFF_STRENGTHS,
) -> Tradeoff | None:
    """Benefit lost vs exposure gained by exposure-aware re-ranking at each strength, replayed
    over the eligible pairs (None without them) — :func:`matcher.fairness.evaluate_tradeoff`."""
    if inputs.eligible is None or inputs.eligible.empty:
        return None
    return evaluate_tradeoff(inputs.eligible, inputs.therapists, strengths=strengths, config=config)


def offline_report(
    model: MatchModel,
    dataset: Dataset,
    *,
    truth: Truth | None = None,
    config: FairnessConfig | None = None,
    holdout_fraction: float = 0.2,
    seed: int = 0,
    matcher_config: MatcherConfig | None = None,
    tradeoff: bool = True,
) -> FairnessReport:
    """The fairness report of a model on the held-out split (with the mitigation trade-off at
    :data:`TRADEOFF_STRENGTHS` unless ``tradeoff`` is False)."""
    inputs = offline_inputs(
        model,
        dataset,
        truth=truth,
        holdout_fraction=holdout_fraction,
        seed=seed,
        matcher_config=matcher_config,
    )
    table = offline_tradeoff(inputs, config) if tradeoff else None
    return build_report(inputs, config, tradeoff=table)


def fairness_gate(report: FairnessReport) -> tuple[bool, str]:
    """(passes, why) for the promotion gate: it passes when no judged figure is ``fail``.

    ``why`` names the failing figures (their headline sentences, worst first), or says that none
    fails and how many warn.
    """
    counts = report.level_counts()
    n_fail, n_warn = counts[Level.FAIL.value], counts[Level.WARN.value]
    if n_fail == 0:
        return True, f"no fairness figure fails ({n_warn} warn)"
    failing = [h.text for h in report.headlines(limit=n_fail) if h.level is Level.FAIL]
    shown = "; ".join(failing[:3]) + (f"; … (+{n_fail - 3} more)" if n_fail > 3 else "")
    return False, f"{n_fail} fairness figure(s) fail: {shown}"


ReportFormat = Literal["html", "json"]
SUFFIXES: dict[str, ReportFormat] = {".html": "html", ".htm": "html", ".json": "json"}


def report_format(path: Path) -> ReportFormat:
    """``html`` or ``json`` by the file's suffix; ConfigError for any other suffix."""
    kind = SUFFIXES.get(path.suffix.lower())
    if kind is None:
        raise ConfigError(f"{path}: the report file must end in .html or .json")
    return kind


def render(report: FairnessReport, kind: ReportFormat) -> str:
    """The report as an HTML page or as indented JSON text."""
    if kind == "html":
        return render_html(report)
    return json.dumps(report.to_json(), indent=2, ensure_ascii=False) + "\n"


def _write_atomic(path: Path, text: str) -> None:
    """Write ``text`` to a temporary file beside ``path``, then rename it over ``path``."""
    path.parent.mkdir(parents=True, exist_ok=True)
    fd, tmp = tempfile.mkstemp(dir=path.parent, prefix=f".{path.name}.", suffix=".partial")
    try:
        with os.fdopen(fd, "w", encoding="utf-8") as handle:
            handle.write(text)
        os.chmod(tmp, 0o644)
        Path(tmp).replace(path)
    except BaseException:
        Path(tmp).unlink(missing_ok=True)
        raise


def write_report(report: FairnessReport, path: Path) -> Path:
    """Write the report to ``path`` atomically, HTML or JSON by its suffix."""
    _write_atomic(path, render(report, report_format(path)))
    return path


def published_path(folder: Path, source: Source | str, kind: ReportFormat) -> Path:
    """Where the published report of a source lives: ``folder/fairness-{source}.{kind}``."""
    return folder / f"fairness-{Source(source).value}.{kind}"


def publish_report(report: FairnessReport, folder: Path) -> dict[ReportFormat, Path]:
    """Write the report as HTML and JSON into ``folder`` atomically, named after its source
    (:func:`published_path`: ``fairness-offline.*`` or ``fairness-online.*``; offline when the
    report records none), so an online report never replaces the offline one or the reverse.
    ``GET /v1/reports/fairness`` serves these copies from ``MATCHER_HOME/reports``."""
    source = Source.OFFLINE if report.provenance is None else report.provenance.source
    written: dict[ReportFormat, Path] = {}
    for kind in ("html", "json"):
        path = published_path(folder, source, kind)
        _write_atomic(path, render(report, kind))
        written[kind] = path
    return written


__all__ = [
    "TRADEOFF_STRENGTHS",
    "fairness_gate",
    "offline_inputs",
    "offline_report",
    "offline_tradeoff",
    "publish_report",
    "published_path",
    "render",
    "report_format",
    "write_report",
]
