"""``/v1/reports/fairness``: the latest fairness report, as HTML or JSON by ``Accept``."""

from __future__ import annotations

from pathlib import Path
from typing import Annotated, Literal

from fastapi import APIRouter, Header, HTTPException, Query
from fastapi.responses import FileResponse

from api.deps import ReportsKey, RequestIdDep, SessionDep, SettingsDep
from api.routers.common import AUTHENTICATED, NOT_FOUND
from api.schemas import ErrorMessage
from api.storage.audit import Action, record_access

router = APIRouter(tags=["reports"], responses=AUTHENTICATED)

MEDIA = {"html": "text/html", "json": "application/json"}


def _quality(accept: str) -> dict[str, float]:
    """``Accept`` as media range → q (malformed q counts as 0)."""
    ranges: dict[str, float] = {}
    for part in accept.split(","):
        fields = [f.strip() for f in part.split(";")]
        if not fields[0]:
            continue
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
    summary="The latest fairness report",
    response_class=FileResponse,
    responses={
        200: {
            "description": "The report (HTML for people, JSON for programs).",
            "content": {"text/html": {"schema": {"type": "string"}}, "application/json": {}},
        },
        406: {"model": ErrorMessage, "description": "Neither HTML nor JSON is acceptable."},
        **NOT_FOUND,
    },
)
def fairness_report(
    _key: ReportsKey,
    settings: SettingsDep,
    session: SessionDep,
    request_id: RequestIdDep,
    accept: Annotated[str | None, Header()] = None,
    format: Annotated[
        Literal["html", "json"] | None, Query(description="Overrides the Accept header.")
    ] = None,
) -> FileResponse:
    """Serve the newest report written by `matcher fairness-report` (404 until there is one)."""
    kind = format or negotiate(accept)
    if kind is None:
        raise HTTPException(
            status_code=406, detail="the report is served as text/html or application/json"
        )
    path = Path(settings.home) / "reports" / f"fairness.{kind}"
    if not path.is_file():
        raise HTTPException(
            status_code=404,
            detail=f"no fairness report ({path.name}) yet: generate one with "
            "`matcher fairness-report`",
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
    return FileResponse(path, media_type=MEDIA[kind])


__all__ = ["negotiate", "router"]
