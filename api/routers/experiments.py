"""``/v1/experiments``: the champion/challenger experiment served (set, read, end).

The definition is stored in the database and announced on the ``experiments`` change counter,
so every process serves the same arms within ``MATCHER_SYNC_INTERVAL``; assignment is a pure
hash of the client (``matcher.experiments``), so every process gives a client the same arm.
"""

from __future__ import annotations

import logging

from fastapi import APIRouter, HTTPException

from api.deps import AdminKey, ReportsKey, RuntimeDep, SessionDep
from api.engine_state import ServedExperiment
from api.routers.common import AUTHENTICATED, CONFLICT
from api.runtime import Runtime
from api.schemas import ArmOut, ExperimentList, ExperimentStatus, StoredExperimentOut
from api.storage.changes import Topic
from api.storage.experiments import end_experiment, start_experiment, stored_experiments
from core.config import ExperimentConfig
from core.errors import ModelFormatError, ModelNotFoundError

router = APIRouter(tags=["experiments"], responses=AUTHENTICATED)
log = logging.getLogger("api")


def experiment_status(runtime: Runtime, source: str | None = None) -> ExperimentStatus:
    """What this process serves now."""
    served: ServedExperiment | None = runtime.engines.experiment
    if served is None:
        return ExperimentStatus(experiment=None)
    if source is None:
        source = runtime.configured_experiment()[1]
    return ExperimentStatus(
        experiment=served.config.name,
        source=source if source in ("database", "settings") else None,  # type: ignore[arg-type]
        champion_share=served.config.champion_share,
        arms=[
            ArmOut(
                name=a.name,
                model_uri=a.model_uri,
                share=a.share,
                shadow=a.shadow,
                loaded=a.name in served.engines,
                model_version=served.engines[a.name].model_version
                if a.name in served.engines
                else None,
            )
            for a in served.config.arms
        ],
        problem=served.problem,
    )


@router.get("/v1/experiments", summary="The experiment served")
def list_experiments(_key: ReportsKey, runtime: RuntimeDep, session: SessionDep) -> ExperimentList:
    """The experiment this process serves (arms, shares, loaded models) and every experiment
    stored, the newest first."""
    return ExperimentList(
        current=experiment_status(runtime),
        stored=[
            StoredExperimentOut(
                definition=s.config, active=s.active, started_at=s.started_at, ended_at=s.ended_at
            )
            for s in stored_experiments(session)
        ],
    )


@router.put("/v1/experiments", summary="Start (or change) the experiment", responses=CONFLICT)
def put_experiment(
    body: ExperimentConfig, _key: AdminKey, runtime: RuntimeDep, session: SessionDep
) -> ExperimentStatus:
    """Serve ``body`` from now on in every process (any other experiment ends). Every arm's
    model is loaded first: 409 when one does not resolve, and nothing changes. Reusing a name
    continues that experiment (its clients keep their arms: the name salts the hash)."""
    if runtime.engines.current is None:
        raise HTTPException(status_code=409, detail="no champion is served: nothing to compare")
    try:
        staged = runtime.engines.prepare_experiment(body, strict=True)
    except (ModelNotFoundError, ModelFormatError) as err:
        raise HTTPException(status_code=409, detail=f"experiment not started: {err}") from None
    start_experiment(session, body)
    session.commit()
    runtime.engines.serve_experiment(staged)
    runtime.announce(Topic.EXPERIMENTS)
    log.info("experiment %s started with arms %s", body.name, [a.name for a in body.arms])
    return experiment_status(runtime, "database")


@router.delete("/v1/experiments", summary="End the experiment")
def delete_experiment(_key: AdminKey, runtime: RuntimeDep, session: SessionDep) -> ExperimentStatus:
    """End the served experiment in every process (everyone gets the champion); its logs stay
    for the report. Ending when none runs is a no-op."""
    config, _ = runtime.configured_experiment()
    if end_experiment(session, config):
        session.commit()
        runtime.engines.serve_experiment(None)
        runtime.announce(Topic.EXPERIMENTS)
        log.info("experiment %s ended", None if config is None else config.name)
    return experiment_status(runtime)


__all__ = ["experiment_status", "router"]
