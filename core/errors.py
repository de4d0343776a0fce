"""Domain exceptions for the whole engine, one module (only ``api/`` turns them into HTTP)."""

from __future__ import annotations

from dataclasses import dataclass


class MatcherError(Exception):
    """Base class of every error the engine raises on purpose."""


@dataclass(frozen=True)
class Problem:
    """One problem found in input data, precise enough to fix it.

    ``row`` is the 1-based data row (the header is not counted); ``None`` for file-level problems.
    """

    file: str
    row: int | None
    column: str | None
    value: str | None
    message: str

    def __str__(self) -> str:
        where = self.file
        if self.row is not None:
            where += f", row {self.row}"
        if self.column is not None:
            where += f", column {self.column!r}"
        shown = "" if self.value is None else f" (got {self.value!r})"
        return f"{where}: {self.message}{shown}"


class DataValidationError(MatcherError):
    """Input tables break the data contract; ``problems`` lists every one found."""

    def __init__(self, problems: list[Problem]) -> None:
        self.problems = problems
        head = "; ".join(str(p) for p in problems[:5])
        more = f" (+{len(problems) - 5} more)" if len(problems) > 5 else ""
        super().__init__(f"{len(problems)} data problem(s): {head}{more}")


class DataNotFoundError(MatcherError):
    """A data folder or one of its tables is missing."""


class ModelNotFoundError(MatcherError):
    """No model could be loaded from the given URI (and no local copy exists)."""


class NoModelRegisteredError(ModelNotFoundError):
    """The install's champion alias names no model yet (empty registry, no local copy): the
    cold start, when serving ranks by the rules baseline instead of refusing."""


class ModelFormatError(MatcherError):
    """A model artifact is incomplete or was written by an incompatible version."""


class NotFittedError(MatcherError):
    """An estimator was used before ``fit``."""


class UnknownTherapistError(MatcherError):
    """A therapist id is not in the pool."""


class ConfigError(MatcherError):
    """A configuration file or option is invalid."""


class StorageError(MatcherError):
    """The service database cannot be opened or used (corrupt, unreadable, not writable)."""


class UnknownColumnsWarning(UserWarning):
    """A table has columns the contract does not know; they are ignored."""


__all__ = [
    "ConfigError",
    "DataNotFoundError",
    "DataValidationError",
    "MatcherError",
    "ModelFormatError",
    "ModelNotFoundError",
    "NoModelRegisteredError",
    "NotFittedError",
    "Problem",
    "StorageError",
    "UnknownColumnsWarning",
    "UnknownTherapistError",
]
