"""The training job: validate → split → features (out-of-fold) → fit → evaluate → log → register.

Nothing is logged or registered when validation fails. Each run records the promotion decision
and the model's offline fairness report on the held-out split (``fairness/report.html|json``;
with ``TrainConfig.fairness_gate`` a ``fail`` in it blocks automatic promotion).
"""

from __future__ import annotations

import copy
import dataclasses
import json
import tempfile
import time
from collections.abc import Callable
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import mlflow
import numpy as np
import pandas as pd
from distributed import Client
from mlflow.models import infer_signature

from core.errors import DataValidationError, Problem
from core.settings import Settings
from features.dataset import Dataset, load_dataset
from features.encoding import IntakeBatch, TherapistPool
from features.outcomes import has_outcome
from features.pipeline import FEATURE_NAMES, FeaturePipeline
from features.track_record import TrackRecord
from matcher.fairness import FairnessReport, Level
from matcher.model import MatchModel
from reports import render_html
from training import tracking
from training.baselines import default_baselines
from training.config import TrainConfig
from training.fairness import fairness_gate, heldout_inputs, inputs_report
from training.fit import FitReport, fit_boosters
from training.heldout import HeldOut, score_holdout
from training.labels import graded_label
from training.matrices import LoggedRows, OutcomeTable, logged_rows
from training.promotion import Evidence, promotion_gate
from training.registry import ARTIFACT, PromotionDecision, promote
from training.scorecard import Scorer, Truth, scorecard
from training.splits import subset, time_split

Progress = Callable[[str], None]


@dataclass
class TrainResult:
    """What a training run produced."""

    model: MatchModel
    scorecard: pd.DataFrame
    fit: FitReport
    timings: dict[str, float]
    run_id: str | None = None
    version: str | None = None
    decision: PromotionDecision | None = None
    metrics: dict[str, float] = field(default_factory=dict)
    fairness: FairnessReport | None = None
    """The model's offline fairness report on the held-out split."""
    evidence: Evidence | None = None
    """What the promotion gate compared (:mod:`training.promotion`)."""
    heldout: HeldOut | None = None
    """The held-out split scored once (logged rows and eligible pairs, with predictions): what
    evaluation and the fairness report read, and any later offline evaluation may read."""


def load_truth(folder: Path) -> Truth | None:
    """The synthetic world's truth stored beside the data, if any."""
    if not (folder / "truth").is_dir():
        return None
    from synth import WorldTruth

    return WorldTruth.load(folder)


def headline_metric(table: pd.DataFrame) -> str:
    """uplift_at_5 when the data has a truth, else ndcg_at_5."""
    return "uplift_at_5" if "uplift_at_5" in table.columns else "ndcg_at_5"


def fit_and_evaluate(
    dataset: Dataset,
    config: TrainConfig,
    *,
    truth: Truth | None = None,
    progress: Progress | None = None,
    client: Client | None = None,
) -> TrainResult:
    """Everything but MLflow: split, out-of-fold features, fit, scorecard, fairness, serving.

    Each artefact is built once: the therapist pool and the encoding of every intake, the
    training outcome table, the held-out scoring (shared by the scorecard, the fairness report
    and :attr:`TrainResult.heldout` for later consumers). With a Dask ``client`` features are
    built per partition on the cluster and the boosters are fitted with ``lightgbm.dask`` (see
    :mod:`training.distributed`).
    """
    say = progress or (lambda _: None)
    clock = _Clock()
    _require_history(dataset)
    train_ids, valid_ids = time_split(dataset, config.holdout_fraction, seed=config.seed)
    train, valid = subset(dataset, train_ids), subset(dataset, valid_ids)
    say("features")
    pool = TherapistPool.from_frame(dataset.therapists)
    batch = pool.encode_intakes(dataset.intakes)
    clock.lap("encode")
    pipeline = FeaturePipeline(text_dims=config.text_dims, seed=config.seed, records=config.records)
    pipeline.fit(train, pool, batch)
    pipeline.intake_text(batch)
    clock.lap("pipeline")
    rows: LoggedRows | None = None
    if client is not None:
        say("fit on dask")
        from training.distributed import fit_boosters_dask

        model = fit_boosters_dask(pipeline, train, pool, config, client, batch=batch)
        seconds = clock.lap("features+fit")
        fit_report = FitReport(
            0, config.dask_rounds, len(train.interactions), config.dask_rounds, seconds
        )
        training_outcomes = train.interactions.loc[
            has_outcome(train.interactions), "therapist_id"
        ].to_numpy(dtype=object)
    else:
        rows = logged_rows(
            pipeline,
            train,
            pool,
            folds=config.folds,
            seed=config.seed,
            batch=batch,
            blank=config.blank_history_share,
        )
        clock.lap("features")
        say("fit")
        model, fit_report = fit_boosters(rows, config, pipeline)
        clock.lap("fit")
        training_outcomes = rows.outcomes.therapist_ids
    say("evaluate")
    heldout = score_holdout(
        model,
        valid,
        pool,
        truth=truth,
        batch=batch,
        max_intakes=config.max_eval_intakes,
        seed=config.seed,
        num_threads=int(config.booster.get("num_threads", 1)),
    )
    clock.lap("score_holdout")
    scorers: dict[str, Scorer] = {}
    if config.baselines and rows is not None:
        y = graded_label(train.interactions, config.labels)
        for name, baseline in default_baselines(config.seed).items():
            scorers[name] = baseline.fit(rows.x, y, rows.group).score
    clock.lap("baselines")
    table = scorecard(heldout, scorers, top_k=config.top_k, labels=config.labels)
    clock.lap("evaluate")
    say("fairness")
    # The model still scores with the training split's track records, so the held-out answers
    # are not flattered by their own outcomes.
    inputs = heldout_inputs(heldout, model, training_outcomes)
    fairness = inputs_report(inputs, config.fairness)
    clock.lap("fairness")
    serving = copy.copy(pipeline)
    serving.track_record_ = _serving_track_record(
        pipeline, rows, valid, dataset=dataset, pool=pool, batch=batch
    )
    model = dataclasses.replace(model, pipeline=serving)
    clock.lap("serving_record")
    metrics = {k: float(v) for k, v in table.loc["model"].items() if pd.notna(v)}
    return TrainResult(
        model,
        table,
        fit_report,
        clock.timings,
        metrics=metrics,
        fairness=fairness,
        heldout=heldout,
    )


def _serving_track_record(
    pipeline: FeaturePipeline,
    rows: LoggedRows | None,
    valid: Dataset,
    *,
    dataset: Dataset,
    pool: TherapistPool,
    batch: IntakeBatch,
) -> TrackRecord:
    """The track record serving uses: every outcome of the dataset (training and held-out),
    the training part from the outcome table the job already built."""
    if rows is None:
        return pipeline.fit_track_record(dataset, pool, batch)
    table = OutcomeTable.concat([rows.outcomes, pipeline.outcome_table(valid, pool, batch)])
    return table.fit_track_record(pipeline.records)


class _Clock:
    """Wall time per phase of the job (seconds), in the order the phases ran."""

    def __init__(self) -> None:
        self.timings: dict[str, float] = {}
        self._last = time.perf_counter()

    def lap(self, phase: str) -> float:
        now = time.perf_counter()
        self.timings[phase] = self.timings.get(phase, 0.0) + now - self._last
        self._last = now
        return self.timings[phase]


def run_training(
    data: str | Path | Dataset,
    config: TrainConfig,
    settings: Settings,
    *,
    promote_override: bool | None = None,
    truth: Truth | None = None,
    progress: Progress | None = None,
    client: Client | None = None,
) -> TrainResult:
    """The whole job, logged to MLflow and registered as ``settings.model_name``."""
    say = progress or (lambda _: None)
    say("validate")
    if isinstance(data, Dataset):
        dataset = data
    else:
        dataset = load_dataset(data)
        truth = truth if truth is not None else load_truth(Path(data))
    result = fit_and_evaluate(dataset, config, truth=truth, progress=progress, client=client)
    say("log")
    t0 = time.perf_counter()
    registry = tracking.configure(settings)
    with mlflow.start_run() as run:
        params = _flat_params(config) | {
            "engine": "local" if client is None else "dask",
            "data_fingerprint": tracking.fingerprint(dataset),
            "rows": len(dataset.interactions),
        }
        metrics = result.metrics | {f"seconds_{k}": v for k, v in result.timings.items()}
        tags: dict[str, str] = {}
        fairness_ok, fairness_why = _fairness_verdict(result.fairness, config, metrics, tags)
        with tempfile.TemporaryDirectory() as tmp:
            # Every run artifact is written to one folder and uploaded once.
            staged = Path(tmp) / "run"
            _stage_artifacts(result, staged)
            mlflow.log_artifacts(str(staged))
            mlflow.log_table(result.scorecard.reset_index(names="ranker"), "evaluation.json")
            model_dir = result.model.save(Path(tmp) / ARTIFACT)
            example = pd.DataFrame(
                np.zeros((2, len(FEATURE_NAMES)), dtype=np.float32), columns=list(FEATURE_NAMES)
            )
            info = mlflow.pyfunc.log_model(
                name="model",
                python_model=str(Path(__file__).with_name("pyfunc_model.py")),
                artifacts={ARTIFACT: str(model_dir)},
                signature=infer_signature(example, np.zeros(2)),
                input_example=example,
                pip_requirements=tracking.model_requirements(),
                registered_model_name=settings.model_name,
            )
        version = str(info.registered_model_version)
        # issue 8: the champion is re-scored on this run's held-out data (training.promotion);
        # the candidate's scores are the held-out scoring's, reused (issue 14).
        gate_start = time.perf_counter()
        result.evidence, decision = promotion_gate(
            result.model,
            dataset,
            config,
            settings,
            registry,
            truth=truth,
            override=promote_override,
            fairness_ok=fairness_ok,
            heldout=result.heldout,
        )
        gate_s = time.perf_counter() - gate_start
        if not fairness_ok and not decision.promoted and promote_override is None:
            decision = dataclasses.replace(decision, reason=f"fairness gate: {fairness_why}")
        if decision.promoted:
            promote(registry, settings.model_name, version)
        tags |= {
            "promoted": str(decision.promoted),
            "promotion_reason": decision.reason[:MAX_TAG],
            "model_version": version,
        }
        tracking.log_batch(run.info.run_id, params=params, metrics=metrics, tags=tags)
        result.run_id = run.info.run_id
    result.version = f"{settings.model_name}/{version}"
    result.model.version = result.version
    result.decision = decision
    # The gate's scoring is work that grows with the data, not part of MLflow's fixed cost.
    result.timings["gate"] = gate_s
    result.timings["mlflow"] = time.perf_counter() - t0 - gate_s
    return result


def _require_history(dataset: Dataset) -> None:
    """Training learns from logged lists: without any, say so (not a numpy error)."""
    chosen = dataset.interactions["chosen"].astype("boolean").fillna(False).to_numpy(dtype=bool)
    if len(dataset.interactions) == 0 or not chosen.any():
        why = "no rows" if len(dataset.interactions) == 0 else "no row with chosen = true"
        raise DataValidationError(
            [
                Problem(
                    "interactions",
                    None,
                    None,
                    None,
                    f"{why}: training needs logged lists with choices and outcomes",
                )
            ]
        )


MAX_TAG = 4000
"""MLflow tag values are bounded; longer reasons are cut."""


def _fairness_verdict(
    report: FairnessReport | None,
    config: TrainConfig,
    metrics: dict[str, float],
    tags: dict[str, str],
) -> tuple[bool, str]:
    """Add the report's fail/warn counts to ``metrics`` and the gate tags to ``tags``; return
    (gate passes, why). The gate always passes when ``config.fairness_gate`` is off."""
    if report is None:
        tags["fairness_gate"] = "off" if not config.fairness_gate else "no report"
        return True, "no fairness report"
    counts = report.level_counts()
    metrics["fairness_fail"] = counts[Level.FAIL.value]
    metrics["fairness_warn"] = counts[Level.WARN.value]
    passes, why = fairness_gate(report)
    tags["fairness_gate"] = "on" if config.fairness_gate else "off"
    tags["fairness_verdict"] = why[:MAX_TAG]
    return passes or not config.fairness_gate, why


def _stage_artifacts(result: TrainResult, folder: Path) -> None:
    """Write the run's artifacts into ``folder``: ``features.json``, the feature-importance
    chart and, with a report, ``fairness/report.html`` and ``fairness/report.json``."""
    folder.mkdir(parents=True)
    (folder / "features.json").write_text(json.dumps(list(FEATURE_NAMES), indent=2))
    gains = result.model.outcome.feature_importance("gain").tolist()
    tracking.importance_chart(list(FEATURE_NAMES), gains, folder / "feature_importance.png")
    if result.fairness is not None:
        (folder / "fairness").mkdir()
        (folder / "fairness" / "report.html").write_text(render_html(result.fairness))
        (folder / "fairness" / "report.json").write_text(
            json.dumps(result.fairness.to_json(), indent=2, default=str)
        )


def _flat_params(config: TrainConfig) -> dict[str, Any]:
    flat: dict[str, Any] = {}
    for key, value in config.to_dict().items():
        if isinstance(value, dict):
            flat |= {f"{key}.{k}": v for k, v in value.items()}
        else:
            flat[key] = value
    return flat


__all__ = ["TrainResult", "fit_and_evaluate", "headline_metric", "load_truth", "run_training"]
