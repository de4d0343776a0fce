"""Request bodies → typed contract frames, checked by the same code that checks files."""

from __future__ import annotations

import uuid
from collections.abc import Sequence
from dataclasses import replace
from typing import Any

import pandas as pd

from api.schemas import ContractModel
from api.storage.records import typed_frame
from api.storage.types import utcnow
from core.errors import DataValidationError, Problem
from features.schemas import INTAKES, Table


def new_id() -> str:
    """A fresh opaque id (request ids, assigned intake ids)."""
    return uuid.uuid4().hex


def intake_record(intake: ContractModel) -> dict[str, Any]:
    """An intake body as a contract record, with ``intake_id`` and ``submitted_at`` filled in."""
    raw = intake.record()
    record = {name: raw.get(name) for name in INTAKES.names}
    record["intake_id"] = record["intake_id"] or new_id()
    record["submitted_at"] = record["submitted_at"] or utcnow().isoformat()
    return record


def body_frame(
    table: Table, records: Sequence[dict[str, Any]], *, at: str = "body", many: bool = False
) -> pd.DataFrame:
    """Check ``records`` against ``table``; problems are re-labelled with where they are.

    ``at`` is the ``/``-separated body location of the object (or, with ``many``, of the list);
    it becomes each problem's ``file``, and ``row`` is kept only for lists, so :mod:`api.errors`
    can build a ``loc`` such as ``["body", "intakes", 2, "concerns"]``.
    """
    try:
        return typed_frame(table, records, file=at)
    except DataValidationError as err:
        raise DataValidationError(
            [replace(p, file=at, row=p.row if many else None) for p in err.problems]
        ) from None


def reject_duplicate_ids(intakes: Sequence[dict[str, Any]]) -> None:
    """422 (via DataValidationError) when a cohort repeats an ``intake_id``."""
    seen: set[str] = set()
    problems = []
    for row, record in enumerate(intakes, start=1):
        intake_id = str(record["intake_id"])
        if intake_id in seen:
            problems.append(
                Problem("body/intakes", row, "intake_id", intake_id, "duplicate id in the cohort")
            )
        seen.add(intake_id)
    if problems:
        raise DataValidationError(problems)


__all__ = ["body_frame", "intake_record", "new_id", "reject_duplicate_ids"]
