"""The model registry: register, gate promotion to ``@champion``, and load the served model.

The served model is also copied to ``MATCHER_HOME/served-model`` so a restart without the
tracking server still serves the last good model.
"""

from __future__ import annotations

import json
import shutil
import tempfile
from dataclasses import dataclass
from pathlib import Path

import mlflow
from mlflow.exceptions import MlflowException
from mlflow.tracking import MlflowClient

from core.errors import ModelFormatError, ModelNotFoundError
from core.settings import Settings
from matcher.model import MatchModel

CHAMPION = "champion"
ARTIFACT = "match_model"


@dataclass(frozen=True)
class PromotionDecision:
    """Whether the alias moved, and why (recorded on the run)."""

    promoted: bool
    reason: str
    metric: str
    new_value: float
    champion_value: float | None


def champion_metric(
    client: MlflowClient, name: str, metric: str
) -> tuple[str | None, float | None]:
    """(version, value of ``metric``) of the current champion; (None, None) without one."""
    try:
        mv = client.get_model_version_by_alias(name, CHAMPION)
    except MlflowException:
        return None, None
    run = client.get_run(mv.run_id) if mv.run_id else None
    value = None if run is None else run.data.metrics.get(metric)
    return str(mv.version), value


def decide_promotion(
    client: MlflowClient,
    name: str,
    metric: str,
    value: float,
    *,
    override: bool | None,
    fairness_ok: bool = True,
) -> PromotionDecision:
    """The promotion gate: move ``@champion`` only when ``value`` beats the champion's.

    ``override`` True/False forces the decision (``--promote``/``--no-promote``);
    ``fairness_ok`` False blocks automatic promotion (a fairness gate failed).
    """
    version, current = champion_metric(client, name, metric)
    if override is True:
        return PromotionDecision(True, "forced by --promote", metric, value, current)
    if override is False:
        return PromotionDecision(False, "disabled by --no-promote", metric, value, current)
    if not fairness_ok:
        return PromotionDecision(False, "fairness gate failed", metric, value, current)
    if version is None:
        return PromotionDecision(True, "no champion yet", metric, value, None)
    if current is None:
        return PromotionDecision(
            True, f"champion v{version} has no {metric} to compare", metric, value, None
        )
    if value > current:
        return PromotionDecision(
            True,
            f"{metric} {value:.4f} beats champion v{version} ({current:.4f})",
            metric,
            value,
            current,
        )
    return PromotionDecision(
        False,
        f"{metric} {value:.4f} does not beat champion v{version} ({current:.4f})",
        metric,
        value,
        current,
    )


def promote(client: MlflowClient, name: str, version: str) -> None:
    """Point ``@champion`` at ``version``."""
    client.set_registered_model_alias(name, CHAMPION, version)


def _cache_model(model_dir: Path, cache: Path, version: str) -> None:
    cache.parent.mkdir(parents=True, exist_ok=True)
    staging = Path(tempfile.mkdtemp(dir=cache.parent, prefix=".staging-"))
    shutil.copytree(model_dir, staging / "model")
    (staging / "model" / "served.json").write_text(json.dumps({"version": version}))
    old = cache.with_name(cache.name + ".old")
    if cache.exists():
        cache.rename(old)
    (staging / "model").rename(cache)
    shutil.rmtree(staging, ignore_errors=True)
    shutil.rmtree(old, ignore_errors=True)


def load_served_model(settings: Settings) -> MatchModel:
    """Load the model named by ``settings.model_uri``; fall back to the local copy.

    ``models:/name@alias`` and ``models:/name/version`` resolve through the registry; a plain
    folder path is loaded directly. Raises ModelNotFoundError when neither works.
    """
    uri = settings.model_uri
    cache = settings.model_cache
    if Path(uri).is_dir():
        return MatchModel.load(uri)
    try:
        mlflow.set_tracking_uri(settings.tracking)
        mlflow.set_registry_uri(settings.tracking)
        client = MlflowClient(settings.tracking, settings.tracking)
        version = _resolve_version(client, uri)
        with tempfile.TemporaryDirectory() as tmp:
            local = Path(mlflow.artifacts.download_artifacts(artifact_uri=uri, dst_path=tmp))
            model_dir = local / "artifacts" / ARTIFACT
            model = MatchModel.load(model_dir)
            model.version = version
            _cache_model(model_dir, cache, version)
        return model
    except (MlflowException, OSError, ModelFormatError) as exc:
        if (cache / "model.json").exists():
            model = MatchModel.load(cache)
            model.version = json.loads((cache / "served.json").read_text())["version"]
            return model
        raise ModelNotFoundError(
            f"no model at {uri} ({type(exc).__name__}) and no local copy in {cache}; "
            "train one with `matcher train --data DIR`"
        ) from exc


def _resolve_version(client: MlflowClient, uri: str) -> str:
    """``name/version`` of a ``models:/`` URI."""
    if not uri.startswith("models:/"):
        return uri
    rest = uri.removeprefix("models:/")
    if "@" in rest:
        name, alias = rest.split("@", 1)
        return f"{name}/{client.get_model_version_by_alias(name, alias).version}"
    return rest


__all__ = [
    "ARTIFACT",
    "CHAMPION",
    "PromotionDecision",
    "champion_metric",
    "decide_promotion",
    "load_served_model",
    "promote",
]
