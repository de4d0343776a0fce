"""One router per resource.

| route | scope | success | errors (besides 400/401/403/413/422/429/503) |
| --- | --- | --- | --- |
| `POST /v1/matches` | matches | 200 | 503 without a model |
| `POST /v1/matches/allocate` | matches | 200 | |
| `PUT /v1/therapists/{id}` | therapists | 201 new / 200 replaced | |
| `GET /v1/therapists/{id}` | therapists | 200 | 404 |
| `PATCH /v1/therapists/{id}` | therapists | 200 | 404 |
| `DELETE /v1/therapists/{id}` | therapists | 204 | 404 |
| `POST /v1/therapists:bulk` | therapists | 200 `{created, updated}` | |
| `GET /v1/therapists?limit&after` | therapists | 200 | |
| `POST /v1/events` | events | 201 new / 200 duplicate | 404 unknown intake, 409 reused id |
| `DELETE /v1/clients/{client_id}` | matches | 200 counts | |
| `GET /v1/reports/fairness` | reports | 200 HTML/JSON | 404 none yet, 406 |
| `GET /v1/reports/experiments` | reports | 200 HTML/JSON | 404 no experiment, 406, 409 |
| `GET /v1/model` | any key | 200 | |
| `POST /v1/model/reload` | admin | 200 | 409 no usable model, 503 other failure |
| `GET /v1/experiments` | reports | 200 served + stored | |
| `PUT /v1/experiments` | admin | 200 served | 409 an arm's model does not resolve |
| `DELETE /v1/experiments` | admin | 200 served (none) | |
| `GET /v1/audit?limit&before` | admin | 200 page, newest first | |
| `GET /healthz`, `/readyz`, `/metrics` | none | 200 | 503 (readyz) |

`admin` implies every scope.
"""

from fastapi import APIRouter

from api.routers import (
    audit,
    clients,
    events,
    experiments,
    health,
    matches,
    model,
    reports,
    therapists,
)

ROUTERS: tuple[APIRouter, ...] = (
    matches.router,
    therapists.router,
    events.router,
    clients.router,
    reports.router,
    model.router,
    experiments.router,
    audit.router,
    health.router,
)

__all__ = ["ROUTERS"]
