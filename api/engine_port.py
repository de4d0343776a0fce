"""The one thing the service needs from the matching engine, as a Protocol.

``matcher.engine.Matcher`` satisfies it; tests use a small fake. The service never imports the
engine directly: the composition root (``matcher serve``) hands :func:`api.create_app` an
:data:`EngineLoader`.
"""

from __future__ import annotations

from collections.abc import Callable, Sequence
from typing import Protocol

import pandas as pd

from features.encoding import Rows
from matcher.results import AllocationResult, MatchResult, RankedList
from reports.experiments.model import ExperimentLog, ExperimentReport


class MatchEngine(Protocol):
    """An immutable, ready-to-serve engine over one therapist pool."""

    @property
    def model_version(self) -> str:
        """The version of the model it scores with (logged with every impression)."""
        ...

    @property
    def stale_from(self) -> str | None:
        """Where a fallback copy of the model was loaded from (None: the configured URI)."""
        ...

    def match(
        self,
        intake: Rows,
        *,
        top_k: int = 10,
        explain: bool = False,
        request_id: str | None = None,
    ) -> MatchResult:
        """Rank the pool for one intake: a one-row typed frame or a one-record list
        (``request_id`` seeds safe exploration when it is on)."""
        ...

    def ranked(self, intake: Rows, *, top_k: int = 10) -> RankedList:
        """The list ``match`` would show (before exploration), without explanations: what a
        shadow arm logs."""
        ...

    def allocate(self, intakes: Rows) -> AllocationResult:
        """Assign a cohort (typed frame or records) at most one therapist each, within capacity."""
        ...

    def with_therapists(self, therapists: pd.DataFrame) -> MatchEngine:
        """A new engine with the same model over a new pool (typed therapists frame)."""
        ...

    def with_changes(
        self, therapists: pd.DataFrame, upserted: pd.DataFrame | None, removed: Sequence[str]
    ) -> MatchEngine:
        """``with_therapists(therapists)`` where ``therapists`` is this engine's pool with the
        ``upserted`` profiles added or replaced and the ``removed`` ids taken out (ordered by
        id): the same engine, at a cost that follows the change rather than the pool."""
        ...


EngineLoader = Callable[[pd.DataFrame], MatchEngine]
"""Builds an engine for the current pool (typed therapists frame); loads the served model.

Raises :class:`core.errors.ModelNotFoundError` (or another error) when no model can be had.
"""

ExperimentReporter = Callable[[ExperimentLog], ExperimentReport]
"""Computes the experiment report from one experiment's logs (``training.experiment_report``,
handed in by the composition root: the service does not import training)."""

ArmLoader = Callable[[str, pd.DataFrame], MatchEngine]
"""Builds an engine for an experiment arm: (model URI, typed therapists frame) → engine. Raises
:class:`core.errors.ModelNotFoundError` when the URI does not resolve."""

__all__ = ["ArmLoader", "EngineLoader", "ExperimentReporter", "MatchEngine"]
