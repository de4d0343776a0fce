"""Offline fairness: a model's matches on the held-out split, as fairness-report inputs.

The training job derives them from the held-out pairs evaluation scored
(:func:`heldout_inputs`); :func:`offline_inputs` lets the engine
(:class:`matcher.engine.Matcher`) answer every validation intake exactly as the API would (the
``fairness-report`` command, and exposure mitigation, which needs the engine's sequential
state). Either way the lists become impressions, the per-intake status and eligible counts the
intake rows, and every eligible pair carries the model's predicted benefit as merit (plus the
world's true benefit when the data is synthetic).

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
import numpy.typing as npt
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
from matcher.ranking import rank_within_groups, serving_order, top_per_group
from matcher.results import Status
from matcher.triage import Route, triage
from reports import render_html
from training.heldout import HeldOut, Truth
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


def heldout_inputs(
    heldout: HeldOut,
    model: MatchModel,
    training_outcomes: npt.NDArray[np.object_],
    *,
    top_k: int = 10,
    matcher_config: MatcherConfig | None = None,
) -> FairnessInputs:
    """Fairness inputs from the held-out pairs evaluation already scored: no second engine run.

    The served lists follow :meth:`matcher.engine.Matcher.score_batch` and ``match_frame`` step
    by step on the scored eligible pairs: phase one keeps each intake's ``phase_one_size`` best
    by the prefilter (when some intake has more), the model score is re-ranked load-aware and
    with the severe in-person boost, and the top ``top_k`` is shown (``tests/test_heldout.py``
    checks them against the engine's answers). ``training_outcomes`` holds the therapist id of
    each training-split outcome (the ``n_outcomes`` of each therapist). Exposure mitigation
    needs the engine's sequential replay (:func:`offline_inputs`).
    """
    config = matcher_config or MatcherConfig()
    if config.exposure_mitigation > 0:
        raise ValueError("exposure mitigation needs the engine's replay: use offline_inputs")
    cand, pool = heldout.candidates, heldout.pool
    batch, pairs = cand.batch, cand.pairs
    keep = np.arange(len(pairs))
    counts = np.bincount(pairs.intake_idx, minlength=len(batch))
    if model.prefilter is not None and counts.max(initial=0) > config.phase_one_size:
        phase_one = model.prefilter.score(cand.x)
        keep = np.flatnonzero(top_per_group(pairs.intake_idx, phase_one, config.phase_one_size))
    intake, therapist = pairs.intake_idx[keep], pairs.therapist_idx[keep]
    score = cand.predictions.score[keep]
    adjusted = serving_order(score, therapist, cand.routes.severe[intake], pool, config)
    rank = rank_within_groups(intake, adjusted)
    rows = np.flatnonzero(rank < top_k)
    rows = rows[np.lexsort((rank[rows], intake[rows]))]
    shown = pd.DataFrame(
        {
            "intake_id": batch.ids[intake[rows]],
            "therapist_id": pool.ids[therapist[rows]],
            "position": rank[rows] + 1,
            "score": np.round(score[rows], 6),
        }
    )
    eligible = pd.DataFrame(
        {"intake_id": batch.ids[intake], "therapist_id": pool.ids[therapist], "merit": score}
    )
    if cand.p_true is not None and len(eligible):
        eligible["true_benefit"] = cand.p_true[keep]
        shown["true_benefit"] = cand.p_true[keep][rows]
    crisis = cand.routes.route == Route.CRISIS
    listed = np.bincount(intake[rows], minlength=len(batch)) > 0
    status = np.where(
        crisis,
        Status.CRISIS.value,
        np.where(listed, Status.MATCHED.value, Status.NO_ELIGIBLE_MATCH.value),
    )
    outcomes = pd.Series(training_outcomes).astype(str).value_counts()
    therapists = heldout.valid.therapists
    therapists = therapists.assign(
        n_outcomes=therapists["therapist_id"].astype(str).map(outcomes).fillna(0).astype(int)
    )
    return FairnessInputs(
        intakes=cand.intakes.assign(
            status=status, n_eligible=np.where(crisis, 0, cand.eligibility.n_eligible)
        ),
        therapists=therapists,
        impressions=shown,
        eligible=eligible,
    )


def inputs_report(
    inputs: FairnessInputs, config: FairnessConfig | None = None, *, tradeoff: bool = True
) -> FairnessReport:
    """The fairness report of some inputs (with the mitigation trade-off at
    :data:`TRADEOFF_STRENGTHS` unless ``tradeoff`` is False)."""
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
    "heldout_inputs",
    "inputs_report",
    "offline_inputs",
    "offline_tradeoff",
    "publish_report",
    "published_path",
    "render",
    "report_format",
    "write_report",
]
