"""The model registry: register, gate promotion to ``@champion``, and load the served model.

The served model is also copied to ``MATCHER_HOME/served-model`` so a restart without the
tracking server still serves the last good model.
"""

from __future__ import annotations

import fcntl
import json
import logging
import shutil
import tempfile
import uuid
from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import dataclass
from pathlib import Path

import mlflow
from mlflow.exceptions import MlflowException
from mlflow.tracking import MlflowClient

from core.errors import ModelFormatError, ModelNotFoundError, NoModelRegisteredError
from core.settings import Settings
from matcher.model import MatchModel

log = logging.getLogger("training.registry")

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


def _lock_file(cache: Path) -> Path:
    return cache.with_name(cache.name + ".lock")


@contextmanager
def _cache_lock(cache: Path) -> Iterator[None]:
    """An exclusive lock on the cache folder's neighbourhood (processes of one host share it)."""
    cache.parent.mkdir(parents=True, exist_ok=True)
    with _lock_file(cache).open("a") as handle:
        fcntl.flock(handle.fileno(), fcntl.LOCK_EX)
        try:
            yield
        finally:
            fcntl.flock(handle.fileno(), fcntl.LOCK_UN)


def _leftovers(cache: Path) -> list[Path]:
    """Staging and retired folders a crash may have left (only ever touched under the lock)."""
    return sorted(cache.parent.glob(f".{cache.name}.staging-*")) + sorted(
        cache.parent.glob(f".{cache.name}.old-*"), key=lambda p: p.stat().st_mtime
    )


def repair_cache(cache: Path) -> None:
    """Finish or undo a cache update a crash interrupted; call with the lock held.

    The update is: copy into ``.served-model.staging-*``, rename the cache to
    ``.served-model.old-*``, rename staging to the cache, delete the old. A crash after the
    second step leaves no cache but an old one: it is put back. Every other leftover is deleted.
    """
    olds = sorted(cache.parent.glob(f".{cache.name}.old-*"), key=lambda p: p.stat().st_mtime)
    if not cache.exists() and olds and (olds[-1] / "served.json").exists():
        olds[-1].rename(cache)
    legacy = cache.with_name(cache.name + ".old")  # left by versions before this layout
    for path in [*_leftovers(cache), *([legacy] if legacy.exists() else [])]:
        shutil.rmtree(path, ignore_errors=True)
    for path in cache.parent.glob(".staging-*"):  # their staging folders
        if (path / "model").exists() or not any(path.iterdir()):
            shutil.rmtree(path, ignore_errors=True)


def _cache_model(model_dir: Path, cache: Path, version: str, uri: str) -> None:
    """Replace the local copy with ``model_dir`` (crash-safe, see :func:`repair_cache`)."""
    with _cache_lock(cache):
        repair_cache(cache)
        token = uuid.uuid4().hex[:8]
        staging = cache.with_name(f".{cache.name}.staging-{token}")
        try:
            shutil.copytree(model_dir, staging)
            (staging / "served.json").write_text(json.dumps({"version": version, "uri": uri}))
            old = cache.with_name(f".{cache.name}.old-{token}")
            if cache.exists():
                cache.rename(old)
            staging.rename(cache)
            shutil.rmtree(old, ignore_errors=True)
        finally:
            shutil.rmtree(staging, ignore_errors=True)


def _local_copy(cache: Path, uri: str) -> MatchModel | None:
    """The cached copy of ``uri`` (None when there is none, or it was cached for another URI)."""
    with _cache_lock(cache):
        repair_cache(cache)
        if not (cache / "model.json").exists() or not (cache / "served.json").exists():
            return None
        served = json.loads((cache / "served.json").read_text())
        if served.get("uri", uri) != uri:
            return None
        model = MatchModel.load(cache)
    model.version = str(served["version"])
    model.stale_from = str(cache)
    return model


def _require_tracking_store(tracking: str) -> None:
    """Serving reads the registry; it must never create an empty one (a moved store would be
    silently replaced). A SQLite or folder store that does not exist is an error."""
    path: Path | None = None
    if tracking.startswith("sqlite:///"):
        path = Path(tracking.removeprefix("sqlite:///"))
    elif tracking.startswith("file:"):
        path = Path(tracking.removeprefix("file://").removeprefix("file:"))
    elif "://" not in tracking:
        path = Path(tracking)
    if path is not None and not path.exists():
        raise NoModelRegisteredError(f"tracking store {path} does not exist")


def load_served_model(settings: Settings, *, allow_fallback: bool = True) -> MatchModel:
    """Load the model named by ``settings.model_uri``; fall back to the local copy.

    ``models:/name@alias`` and ``models:/name/version`` resolve through the registry; a plain
    folder path is loaded directly. When the registry cannot give the model, the local copy
    cached for the same URI is returned with ``stale_from`` set (unless ``allow_fallback`` is
    False). Raises ModelNotFoundError when neither works — :class:`NoModelRegisteredError`
    when the URI is this install's champion alias and nothing is registered under it yet (no
    tracking store, no registered model or no alias): the cold start, not a broken URI. Never
    creates a tracking store.
    """
    uri = settings.model_uri
    cache = settings.model_cache
    if Path(uri).is_dir():
        return MatchModel.load(uri)
    try:
        _require_tracking_store(settings.tracking)
        # download_artifacts resolves ``models:/`` through the process-wide registry URI (its
        # default is a SQLite file in the working directory, which must never be created).
        mlflow.set_tracking_uri(settings.tracking)
        mlflow.set_registry_uri(settings.tracking)
        client = MlflowClient(settings.tracking, settings.tracking)
        version = _resolve_version(client, uri)
        # models:/ URIs are resolved through this client: download_artifacts would resolve them
        # against the process's global registry, which a server process never set.
        source = (
            client.get_model_version_download_uri(*version.rsplit("/", 1))
            if uri.startswith("models:/")
            else uri
        )
        with tempfile.TemporaryDirectory() as tmp:
            local = Path(
                mlflow.artifacts.download_artifacts(
                    artifact_uri=source, dst_path=tmp, tracking_uri=settings.tracking
                )
            )
            model_dir = local / "artifacts" / ARTIFACT
            model = MatchModel.load(model_dir)
            model.version = version
            try:
                _cache_model(model_dir, cache, version, uri)
            except OSError as err:
                log.warning("could not refresh the local model copy %s: %s", cache, err)
        log.info("model %s resolved from %s", version, uri)
        return model
    except (MlflowException, OSError, ModelFormatError, ModelNotFoundError) as exc:
        cause = f"{type(exc).__name__}: {str(exc).splitlines()[0] if str(exc) else ''}"
        copy = _local_copy(cache, uri) if allow_fallback else None
        if copy is not None:
            log.warning("%s cannot be resolved (%s); serving the local copy %s", uri, cause, cache)
            return copy
        error = (
            NoModelRegisteredError
            if uri == champion_uri(settings) and _nothing_registered(exc)
            else ModelNotFoundError
        )
        raise error(
            f"no model at {uri} ({cause})"
            + (f" and no local copy of it in {cache}" if allow_fallback else "")
            + "; train one with `matcher train --data DIR`"
        ) from exc


def champion_uri(settings: Settings) -> str:
    """``models:/<model name>@champion``: the URI the install serves by default."""
    return f"models:/{settings.model_name}@{CHAMPION}"


def _nothing_registered(exc: Exception) -> bool:
    """Whether a failed resolution means "nothing registered yet" (no tracking store, no
    registered model, no alias) rather than a broken store or an unreachable registry."""
    if isinstance(exc, NoModelRegisteredError):
        return True
    return isinstance(exc, MlflowException) and exc.error_code == "RESOURCE_DOES_NOT_EXIST"


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
    "champion_uri",
    "decide_promotion",
    "load_served_model",
    "promote",
    "repair_cache",
]
