"""MLflow tracking for training runs: store set-up, logging helpers, dataset fingerprints."""

from __future__ import annotations

import hashlib
import json
import time
from importlib.metadata import version
from pathlib import Path
from typing import Any

import mlflow
import pandas as pd
from mlflow.entities import Metric, Param, RunTag
from mlflow.tracking import MlflowClient

from core.settings import Settings
from features.dataset import Dataset

EXPERIMENT = "therapist-matcher"


def configure(settings: Settings) -> MlflowClient:
    """Point MLflow at the settings' tracking URI and make sure the experiment exists.

    Artifacts go under ``MATCHER_HOME/artifacts`` (never a ``./mlruns`` in the working folder).
    """
    settings.home.mkdir(parents=True, exist_ok=True)
    mlflow.set_tracking_uri(settings.tracking)
    mlflow.set_registry_uri(settings.tracking)
    client = MlflowClient(settings.tracking, settings.tracking)
    if client.get_experiment_by_name(EXPERIMENT) is None:
        location = (settings.home / "artifacts").resolve().as_uri()
        client.create_experiment(EXPERIMENT, artifact_location=location)
    mlflow.set_experiment(EXPERIMENT)
    return client


def fingerprint(dataset: Dataset) -> str:
    """sha256 over the three tables' contents (order-sensitive, list cells as text: their
    items joined by ``;``)."""
    digest = hashlib.sha256()
    for frame in (dataset.therapists, dataset.intakes, dataset.interactions):
        text = pd.DataFrame({name: _cell_text(frame[name]) for name in frame.columns})
        digest.update(pd.util.hash_pandas_object(text, index=False).to_numpy().tobytes())
    return digest.hexdigest()


def _cell_text(column: pd.Series) -> pd.Series:
    """Each cell of ``column`` as text (``str``; a list cell as its items joined by ``;``).

    Only columns that hold something other than text (list cells) are converted cell by
    cell; every other column is converted at once."""
    if column.dtype == object and pd.api.types.infer_dtype(column, skipna=True) not in (
        "string",
        "empty",
    ):
        column = column.map(lambda v: ";".join(map(str, v)) if isinstance(v, list) else v)
    return column.astype(str)


def log_json(obj: Any, name: str) -> None:
    """Log a JSON artifact."""
    mlflow.log_text(json.dumps(obj, indent=2, default=str), name)


def log_batch(
    run_id: str,
    *,
    params: dict[str, Any],
    metrics: dict[str, float],
    tags: dict[str, str],
) -> None:
    """Log a run's params, metrics and tags in one call (MLflow's fixed cost is per call)."""
    now = int(time.time() * 1000)
    MlflowClient().log_batch(
        run_id,
        metrics=[Metric(k, float(v), now, 0) for k, v in metrics.items()],
        params=[Param(k, str(v)) for k, v in params.items()],
        tags=[RunTag(k, str(v)) for k, v in tags.items()],
    )


def model_requirements() -> list[str]:
    """The logged model's pip requirements, pinned to what is installed (stated, so MLflow does
    not load the model in a subprocess to infer them)."""
    names = (
        "mlflow",
        "lightgbm",
        "lleaves",
        "llvmlite",
        "numpy",
        "pandas",
        "scikit-learn",
        "scipy",
    )
    return [f"{name}=={version(name)}" for name in names]


def importance_chart(names: list[str], gains: list[float], path: Path) -> None:
    """Write a horizontal bar chart of feature importance (gain) to ``path``."""
    import matplotlib

    matplotlib.use("Agg")
    import matplotlib.pyplot as plt

    order = sorted(range(len(names)), key=lambda k: gains[k])
    fig, ax = plt.subplots(figsize=(7, 0.28 * len(names) + 1))
    ax.barh([names[k] for k in order], [gains[k] for k in order], color="#4477aa")
    ax.set_xlabel("total gain (outcome model)")
    ax.set_title("Feature importance")
    fig.tight_layout()
    fig.savefig(path, dpi=110)
    plt.close(fig)


__all__ = [
    "EXPERIMENT",
    "configure",
    "fingerprint",
    "importance_chart",
    "log_batch",
    "log_json",
    "model_requirements",
]
