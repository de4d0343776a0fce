"""``/v1/model``: what is served, and reloading it."""

from __future__ import annotations

import logging

from fastapi import APIRouter, HTTPException
from fastapi.concurrency import run_in_threadpool

from api.deps import AdminKey, AnyKey, RuntimeDep
from api.engine_state import LoadedEngine
from api.routers.common import AUTHENTICATED, CONFLICT
from api.runtime import Runtime
from api.schemas import ModelInfo, ReloadResult
from api.storage.changes import Topic
from core.errors import ModelFormatError, ModelNotFoundError

router = APIRouter(tags=["model"], responses=AUTHENTICATED)
COLD_START = "cold start: rules baseline until a model is registered"
log = logging.getLogger("api")


def _info(runtime: Runtime, loaded: LoadedEngine | None) -> dict[str, object]:
    return {
        "loaded": loaded is not None,
        "model_version": None if loaded is None else loaded.version,
        "loaded_at": None if loaded is None else loaded.loaded_at,
        "uri": runtime.settings.model_uri if loaded is None else loaded.uri,
        "therapists": len(runtime.engines.pool),
        "freshness": freshness(loaded),
        "problem": runtime.engines.problem,
        "cold_start": loaded is not None and loaded.cold_start,
    }


def freshness(loaded: LoadedEngine | None) -> str | None:
    """``current``, ``stale, from <folder>`` when a fallback copy is served, ``cold start``
    on the rules baseline (None: no model)."""
    if loaded is None:
        return None
    if loaded.cold_start:
        return COLD_START
    return "current" if loaded.stale_from is None else f"stale, from {loaded.stale_from}"


@router.get("/v1/model", summary="The served model")
def model_info(_key: AnyKey, runtime: RuntimeDep) -> ModelInfo:
    """Version, load time and URI of the model being served (any valid key)."""
    return ModelInfo.model_validate(_info(runtime, runtime.engines.current))


@router.post("/v1/model/reload", summary="Reload the served model", responses=CONFLICT)
async def reload_model(_key: AdminKey, runtime: RuntimeDep) -> ReloadResult:
    """Load the model at the configured URI again (e.g. after promoting a new champion) over the
    stored pool and swap it in atomically. On failure the old model keeps serving: 409 when
    there is no usable model at the URI, 503 for any other failure."""
    previous = runtime.engines.current
    serving = "no model is loaded" if previous is None else f"still serving {previous.version}"
    if not runtime.engines.can_load:
        raise HTTPException(
            status_code=409, detail="this server was started without a model loader"
        )
    try:
        loaded = await run_in_threadpool(lambda: runtime.engines.load(reload=True))
    except (ModelNotFoundError, ModelFormatError) as err:
        runtime.metrics.reloads.labels("failed").inc()
        log.warning("model reload failed, %s: %s", serving, err)
        raise HTTPException(status_code=409, detail=f"reload failed, {serving}: {err}") from None
    except Exception as err:
        runtime.metrics.reloads.labels("failed").inc()
        log.error("model reload failed: %s", type(err).__name__)
        raise HTTPException(
            status_code=503,
            detail=f"reload failed ({type(err).__name__}), {serving}",
        ) from None
    runtime.metrics.reloads.labels("ok").inc()
    log.info(
        "reloaded model %s from %s over %d therapists (was %s)",
        loaded.version,
        loaded.uri,
        len(runtime.engines.pool),
        None if previous is None else previous.version,
    )
    runtime.announce(Topic.MODEL)
    return ReloadResult.model_validate(
        {
            **_info(runtime, loaded),
            "previous_version": None if previous is None else previous.version,
        }
    )


__all__ = ["COLD_START", "freshness", "router"]
