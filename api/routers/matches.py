"""``/v1/matches``: ranked matches for one intake, and cohort allocation."""

from __future__ import annotations

from fastapi import APIRouter, HTTPException, Response

from api.deps import EngineDep, MatchesKey, RequestIdDep, RuntimeDep, SessionDep
from api.frames import intake_record, reject_duplicate_ids
from api.routers.common import AUTHENTICATED, CONFLICT
from api.schemas import (
    AllocationRequest,
    AllocationResponse,
    AssignmentOut,
    CrisisResourceOut,
    MatchOut,
    MatchRequest,
    MatchResponse,
    SuggestionOut,
)
from api.storage.audit import Action, client_hash, record_access
from api.storage.experiments import ArmServed, ShadowShown, record_arm, save_shadow
from api.storage.match_log import (
    Answer,
    Impression,
    conflicting_fields,
    save_impressions,
    save_intakes,
)
from matcher.results import AllocationResult, MatchResult, Status, Suggestion

router = APIRouter(tags=["matches"], responses=AUTHENTICATED)


def match_response(result: MatchResult, request_id: str, *, explain: bool) -> MatchResponse:
    """The engine's answer as the response model (feature values are never returned)."""
    return MatchResponse(
        request_id=request_id,
        intake_id=result.intake_id,
        model_version=result.model_version,
        status=result.status,
        matches=[
            MatchOut(
                therapist_id=m.therapist_id,
                display_name=m.display_name,
                rank=int(m.rank),
                score=float(m.score),
                predicted_benefit=None
                if m.predicted_benefit is None
                else float(m.predicted_benefit),
                reasons=list(m.reasons),
                contributions=None
                if not explain or m.contributions is None
                else {str(k): float(v) for k, v in m.contributions.items()},
            )
            for m in result.matches
        ],
        excluded=dict(result.excluded),
        crisis_resources=[
            CrisisResourceOut(region=c.region, name=c.name, phone=c.phone, text=c.text, url=c.url)
            for c in result.crisis_resources
        ],
        flags=list(result.flags),
        notes=list(result.notes),
        candidates=int(result.candidates),
        eligible=int(result.eligible),
        suggestions=[_suggestion(x) for x in result.suggestions],
    )


def _suggestion(s: Suggestion) -> SuggestionOut:
    return SuggestionOut(constraint=s.constraint, message=s.message, therapists=s.therapists)


def allocation_response(result: AllocationResult, request_id: str) -> AllocationResponse:
    """The engine's allocation as the response model."""
    return AllocationResponse(
        request_id=request_id,
        model_version=result.model_version,
        method=result.method,
        total_score=float(result.total_score),
        placed=int(result.placed),
        assignments=[
            AssignmentOut(
                intake_id=a.intake_id,
                status=a.status,
                therapist_id=a.therapist_id,
                score=None if a.score is None else float(a.score),
                reason=a.reason,
                suggestions=[_suggestion(x) for x in a.suggestions],
            )
            for a in result.assignments
        ],
    )


@router.post(
    "/v1/matches",
    summary="Rank therapists for one intake",
    response_model=MatchResponse,
    responses=CONFLICT,
)
def create_match(
    body: MatchRequest,
    _key: MatchesKey,
    runtime: RuntimeDep,
    loaded: EngineDep,
    session: SessionDep,
    request_id: RequestIdDep,
) -> Response:
    """Triage, filter by the hard constraints, rank, explain; the list is logged as impressions.

    `status` is `matched`, `no_eligible_match` (see `excluded` and `suggestions`) or `crisis`
    (no list; see `crisis_resources` and `flags`). While an experiment runs, the client's arm
    (by a hash of `client_id`, else `intake_id`) picks the model; `experiment` and `arm` say
    which. Asking again with the same `intake_id` and
    the same answers is fine (a new list is served); with different answers it is a 409.
    """
    # The request model is derived from the same contract specs, so the body is already checked;
    # the engine and the store take the record as is (no per-request DataFrame).
    intake = [intake_record(body)]
    experiment = runtime.engines.experiment
    engine, arm = loaded.engine, None
    if experiment is not None:
        arm = experiment.arm_of(intake[0]["client_id"], intake[0]["intake_id"])
        engine = experiment.engines.get(arm, loaded.engine)
    with runtime.match_slots:
        result = engine.match(intake, top_k=body.top_k, explain=body.explain, request_id=request_id)
        # Shadow arms rank the same intake (same rules, no explanations); never shown.
        shadows = (
            [(name, e.ranked(intake, top_k=body.top_k)) for name, e in experiment.shadows]
            if experiment is not None and result.status is Status.MATCHED
            else []
        )
    # The session's first statement opens the write transaction (SQLite: BEGIN IMMEDIATE, the
    # database's one write lock), so it comes after the match: concurrent requests rank in
    # parallel and hold the lock only to check and write. The check and the writes share that
    # transaction, so a conflicting intake is still refused before anything is stored.
    if body.intake_id is not None:
        sent_time = "submitted_at" in body.model_fields_set
        ignore = frozenset() if sent_time else frozenset({"submitted_at"})
        changed = conflicting_fields(session, intake[0], ignore=ignore)
        if changed:
            raise HTTPException(
                status_code=409,
                detail=f"intake_id {body.intake_id!r} was already used for a different intake "
                f"(differs in: {', '.join(changed)}); use a new intake_id",
            )
    clients = save_intakes(
        session,
        intake,
        store_free_text=runtime.settings.store_free_text,
        answers={result.intake_id: Answer(result.status.value, result.eligible)},
    )
    save_impressions(
        session,
        [
            Impression(
                request_id=request_id,
                intake_id=result.intake_id,
                therapist_id=m.therapist_id,
                position=m.rank,
                # The logged score is the predicted benefit (what fairness and retraining read).
                score=m.score if m.predicted_benefit is None else m.predicted_benefit,
                model_version=result.model_version,
                features=m.features,
                propensity=m.propensity,
                shown_propensity=m.shown_propensity,
                policy=result.policy or result.model_version,
                arm=arm,
            )
            for m in result.matches
        ],
        clients,
    )
    if experiment is not None and arm is not None:
        name = experiment.config.name
        record_arm(
            session,
            ArmServed(
                request_id, result.intake_id, name, arm, result.status.value, result.model_version
            ),
        )
        save_shadow(
            session,
            [
                ShadowShown(
                    request_id, result.intake_id, name, shadow, t, k, s, ranked.model_version
                )
                for shadow, ranked in shadows
                for k, (t, s) in enumerate(
                    zip(ranked.therapist_ids, ranked.scores, strict=True), start=1
                )
            ],
        )
    record_access(
        session,
        key_name=_key.name,
        action=Action.MATCH,
        route="/v1/matches",
        status=200,
        request_id=request_id,
        intakes=[(result.intake_id, client_hash(runtime.audit_key, clients.get(result.intake_id)))],
    )
    session.commit()
    runtime.metrics.match_status.labels(result.status.value).inc()
    response = match_response(result, request_id, explain=body.explain)
    if experiment is not None:
        response.experiment, response.arm = experiment.config.name, arm
    # Serialised here, in the route's worker thread: the response is built from the model, so
    # FastAPI's second validation of it (another thread-pool hop) would only repeat the work.
    return Response(response.model_dump_json(by_alias=True), media_type="application/json")


@router.post("/v1/matches/allocate", summary="Assign a cohort one therapist each")
def allocate(
    body: AllocationRequest,
    _key: MatchesKey,
    runtime: RuntimeDep,
    loaded: EngineDep,
    session: SessionDep,
    request_id: RequestIdDep,
) -> AllocationResponse:
    """Assign each waiting intake at most one therapist within every therapist's open slots,
    maximising total predicted benefit. Each placement is logged as an impression at position 1.
    """
    intakes = [intake_record(i) for i in body.intakes]
    reject_duplicate_ids(intakes)
    with runtime.match_slots:
        result = loaded.engine.allocate(intakes)
    clients = save_intakes(session, intakes, store_free_text=runtime.settings.store_free_text)
    save_impressions(
        session,
        [
            Impression(
                request_id=request_id,
                intake_id=a.intake_id,
                therapist_id=a.therapist_id,
                position=1,
                score=a.score,
                model_version=result.model_version,
                source="allocate",
            )
            for a in result.assignments
            if a.therapist_id is not None
        ],
        clients,
    )
    record_access(
        session,
        key_name=_key.name,
        action=Action.ALLOCATE,
        route="/v1/matches/allocate",
        status=200,
        request_id=request_id,
        intakes=[(i, client_hash(runtime.audit_key, c)) for i, c in clients.items()],
    )
    session.commit()
    return allocation_response(result, request_id)


__all__ = ["allocation_response", "match_response", "router"]
