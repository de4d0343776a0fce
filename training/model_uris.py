"""Load any model by URI (``models:/name@alias``, ``models:/name/version``, a folder) without
touching the served-model cache: for evaluation and the promotion gate."""

from __future__ import annotations

import tempfile
from pathlib import Path

import mlflow
from mlflow.exceptions import MlflowException
from mlflow.tracking import MlflowClient

from core.errors import ModelFormatError, ModelNotFoundError
from core.settings import Settings
from matcher.model import MatchModel
from training.registry import ARTIFACT, _require_tracking_store, _resolve_version


def load_model_uri(settings: Settings, uri: str) -> MatchModel:
    """The model at ``uri``; its ``version`` is ``name/version`` for registry URIs.

    Raises ModelNotFoundError when the URI does not resolve to a model.
    """
    if Path(uri).is_dir():
        model = MatchModel.load(uri)
        model.version = model.version or uri
        return model
    _require_tracking_store(settings.tracking)  # never create an empty store by asking
    try:
        mlflow.set_tracking_uri(settings.tracking)
        mlflow.set_registry_uri(settings.tracking)
        client = MlflowClient(settings.tracking, settings.tracking)
        version = _resolve_version(client, uri)
        with tempfile.TemporaryDirectory() as tmp:
            local = Path(mlflow.artifacts.download_artifacts(artifact_uri=uri, dst_path=tmp))
            model = MatchModel.load(local / "artifacts" / ARTIFACT)
    except (MlflowException, OSError, ModelFormatError) as exc:
        raise ModelNotFoundError(f"no model at {uri} ({type(exc).__name__})") from exc
    model.version = version
    return model


__all__ = ["load_model_uri"]
