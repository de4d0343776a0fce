"""Where a report's figures come from: offline (a model on held-out data) or online (the
service's match log), which model, and the time window of the requests it covers."""

from __future__ import annotations

from dataclasses import dataclass
from enum import StrEnum

import pandas as pd


class Source(StrEnum):
    """``offline``: a model answering a held-out split; ``online``: the service's logs."""

    OFFLINE = "offline"
    ONLINE = "online"


@dataclass(frozen=True)
class Provenance:
    """What ops read first: the source, the model version(s), the data window, the data."""

    source: Source
    model_version: str | None
    """The model that produced the lists (online: every version seen in the window, joined)."""
    window_start: str | None
    """First request's submission time in the report (ISO 8601, UTC), None when unknown."""
    window_end: str | None
    """Last request's submission time in the report (ISO 8601, UTC), None when unknown."""
    data: str
    """The data, in words (a folder, or the service logs and the requested span)."""


def data_window(intakes: pd.DataFrame) -> tuple[str | None, str | None]:
    """(first, last) ``submitted_at`` of the intakes as ISO 8601 UTC (None, None without it)."""
    if "submitted_at" not in intakes or intakes.empty:
        return None, None
    times = pd.to_datetime(
        intakes["submitted_at"], utc=True, errors="coerce", format="ISO8601"
    ).dropna()
    if times.empty:
        return None, None
    return (
        times.min().isoformat(timespec="seconds"),
        times.max().isoformat(timespec="seconds"),
    )


__all__ = ["Provenance", "Source", "data_window"]
