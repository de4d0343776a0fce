"""MLflow tracking for training runs: store set-up, logging helpers, dataset fingerprints."""

from __future__ import annotations

import hashlib
import json
from pathlib import Path
from typing import Any

import mlflow
import pandas as pd
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
    """sha256 over the three tables' contents (order-sensitive, list cells as text)."""
    digest = hashlib.sha256()
    for frame in (dataset.therapists, dataset.intakes, dataset.interactions):
        text = frame.map(lambda v: ";".join(map(str, v)) if isinstance(v, list) else v)
        digest.update(
            pd.util.hash_pandas_object(text.astype(str), index=False).to_numpy().tobytes()
        )
    return digest.hexdigest()


def log_json(obj: Any, name: str) -> None:
    """Log a JSON artifact."""
    mlflow.log_text(json.dumps(obj, indent=2, default=str), name)


def log_importance_chart(names: list[str], gains: list[float], path: Path) -> None:
    """Log a horizontal bar chart of feature importance (gain)."""
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
    mlflow.log_artifact(str(path))


__all__ = ["EXPERIMENT", "configure", "fingerprint", "log_importance_chart", "log_json"]
