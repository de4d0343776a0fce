"""``/v1/reports/fairness``: the published fairness reports, as HTML or JSON by ``Accept``.

``/v1/reports/experiments``: the experiment report, computed from the database per request.

`matcher fairness-report` publishes ``MATCHER_HOME/reports/fairness-offline.{html,json}`` (a
model on held-out data) and ``fairness-online.{html,json}`` (the service's logs) side by side;
``?source=`` picks one, by default the most recently written.
"""

from __future__ import annotations

from pathlib import Path
from typing import Annotated, Any, Literal

from fastapi import APIRouter, Header, HTTPException, Query
from fastapi.responses import FileResponse, HTMLResponse

from api.deps import ReportsKey, RequestIdDep, RuntimeDep, SessionDep, SettingsDep
from api.routers.common import AUTHENTICATED, CONFLICT, NOT_FOUND
from api.schemas import ErrorMessage
from api.storage.audit import Action, record_access
from api.storage.experiments import experiment_log
from reports.experiments import ExperimentReport, render_html

router = APIRouter(tags=["reports"], responses=AUTHENTICATED)

MEDIA = {"html": "text/html", "json": "application/json"}
SOURCES = ("offline", "online")
"""Published report names: ``fairness-{source}.{html|json}`` (written by training.fairness)."""


def report_path(folder: Path, source: str, kind: str) -> Path | None:
    """The published report of ``source`` (``latest``: the newer of the two) or None."""
    if source != "latest":
        path = folder / f"fairness-{source}.{kind}"
        return path if path.is_file() else None
    found = [p for s in SOURCES if (p := folder / f"fairness-{s}.{kind}").is_file()]
    return max(found, key=lambda p: p.stat().st_mtime_ns, default=None)


def _quality(accept: str) -> dict[str, float]:
    """``Accept`` as media range → q (malformed q counts as 0)."""
    ranges: dict[str, float] = {}
    for part in accept.split(","):
        fields = [f.strip() for f in part.split(";")]
        if "/" not in fields[0]:
            continue  # not a media range (e.g. "null"): ignored, as RFC 9110 allows
        q = 1.0
        for param in fields[1:]:
            name, _, value = param.partition("=")
            if name.strip().lower() == "q":
                try:
                    q = float(value)
                except ValueError:
                    q = 0.0
        ranges[fields[0].lower()] = max(q, ranges.get(fields[0].lower(), 0.0))
    return ranges


def negotiate(accept: str | None) -> Literal["html", "json"] | None:
    """Pick HTML or JSON for an ``Accept`` header (JSON when either will do); None: neither."""
    if not accept:
        return "json"
    ranges = _quality(accept)
    if not ranges:
        return "json"

    def score(kind: str) -> float:
        media = MEDIA[kind]
        family = media.split("/")[0] + "/*"
        for key in (media, family, "*/*"):
            if key in ranges:
                return ranges[key]
        return 0.0

    html, json_ = score("html"), score("json")
    if max(html, json_) <= 0:
        return None
    return "html" if html > json_ else "json"


@router.get(
    "/v1/reports/fairness",
    summary="A published fairness report (offline or online)",
    response_class=FileResponse,
    responses={
        200: {
            "description": "The report (HTML for people, JSON for programs); the "
            "`X-Report-Source` header says which one (offline or online).",
            "content": {"text/html": {"schema": {"type": "string"}}, "application/json": {}},
        },
        406: {"model": ErrorMessage, "description": "Neither HTML nor JSON is acceptable."},
        **NOT_FOUND,
    },
)
def fairness_report(
    _key: ReportsKey,
    *,
    settings: SettingsDep,
    session: SessionDep,
    request_id: RequestIdDep,
    accept: Annotated[str | None, Header()] = None,
    format: Annotated[
        Literal["html", "json"] | None, Query(description="Overrides the Accept header.")
    ] = None,
    source: Annotated[
        Literal["latest", "offline", "online"],
        Query(
            description="offline: the model on held-out data; online: the service's logs; "
            "latest (default): whichever of the two was written last."
        ),
    ] = "latest",
) -> FileResponse:
    """Serve a report written by `matcher fairness-report` (404 until there is one)."""
    kind = format or negotiate(accept)
    if kind is None:
        raise HTTPException(
            status_code=406, detail="the report is served as text/html or application/json"
        )
    path = report_path(Path(settings.home) / "reports", source, kind)
    if path is None:
        which = "" if source == "latest" else f"{source} "
        how = " --from-db" if source == "online" else ""
        raise HTTPException(
            status_code=404,
            detail=f"no {which}fairness report ({kind}) yet: generate one with "
            f"`matcher fairness-report{how}`",
        )
    record_access(
        session,
        key_name=_key.name,
        action=Action.REPORT,
        route="/v1/reports/fairness",
        status=200,
        request_id=request_id,
    )
    session.commit()
    published = path.stem.removeprefix("fairness-")
    return FileResponse(path, media_type=MEDIA[kind], headers={"X-Report-Source": published})


@router.get(
    "/v1/reports/experiments",
    summary="The experiment report: outcomes per arm with 95% intervals",
    response_model=ExperimentReport,
    responses={
        200: {
            "description": "Per arm: requests, lists, choices, retained ≥ 4, reliable "
            "improvement, good outcome and mean alliance with 95% intervals, the difference to "
            "the champion; shadow arms an off-policy estimate (HTML for people, JSON for "
            "programs).",
            "content": {"text/html": {"schema": {"type": "string"}}},
        },
        406: {"model": ErrorMessage, "description": "Neither HTML nor JSON is acceptable."},
        **CONFLICT,
        **NOT_FOUND,
    },
)
def experiments_report(
    _key: ReportsKey,
    *,
    runtime: RuntimeDep,
    session: SessionDep,
    request_id: RequestIdDep,
    accept: Annotated[str | None, Header()] = None,
    format: Annotated[
        Literal["html", "json"] | None, Query(description="Overrides the Accept header.")
    ] = None,
    experiment: Annotated[
        str | None,
        Query(
            max_length=64,
            description="The experiment's name (default: the active one, else the newest).",
        ),
    ] = None,
) -> Any:
    """Computed from the database on each request (404 until an experiment was stored)."""
    kind = format or negotiate(accept)
    if kind is None:
        raise HTTPException(
            status_code=406, detail="the report is served as text/html or application/json"
        )
    if runtime.experiment_report is None:
        raise HTTPException(
            status_code=409, detail="this server was started without the experiment report"
        )
    log = experiment_log(session, experiment)
    if log is None:
        which = f"named {experiment!r} " if experiment else ""
        raise HTTPException(
            status_code=404,
            detail=f"no experiment {which}yet: start one with PUT /v1/experiments",
        )
    report = runtime.experiment_report(log)
    record_access(
        session,
        key_name=_key.name,
        action=Action.REPORT,
        route="/v1/reports/experiments",
        status=200,
        request_id=request_id,
    )
    session.commit()
    if kind == "html":
        return HTMLResponse(render_html(report))
    return report


__all__ = ["negotiate", "report_path", "router"]
