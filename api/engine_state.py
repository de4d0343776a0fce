"""The engine being served and the pool it serves, swapped atomically.

Requests read :attr:`EngineState.current` once and keep that engine for their whole life, so a
swap never changes an engine under a running request. Writers (therapist changes, reloads) are
serialised by one lock and publish a new engine only after everything else has succeeded.
"""

from __future__ import annotations

import threading
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from dataclasses import dataclass, replace
from datetime import datetime

import pandas as pd

from api.engine_port import EngineLoader, MatchEngine
from api.storage.types import utcnow
from core.errors import ModelFormatError, ModelNotFoundError
from matcher.rules import RULES_VERSION


@dataclass(frozen=True)
class LoadedEngine:
    """An engine and where and when its model was loaded."""

    engine: MatchEngine
    version: str
    loaded_at: datetime
    uri: str

    @property
    def stale_from(self) -> str | None:
        """The fallback copy's folder when the configured URI did not resolve at load time."""
        return self.engine.stale_from

    @property
    def cold_start(self) -> bool:
        """Whether this is the cold-start rules baseline (no model registered yet)."""
        return self.version == RULES_VERSION


class PoolWriter:
    """A pending change of the pool, published when the writer's block ends without error."""

    def __init__(self, pool: pd.DataFrame, loaded: LoadedEngine | None) -> None:
        self.pool = pool
        self.loaded = loaded
        self.staged = False

    def stage(self, pool: pd.DataFrame) -> None:
        """Prepare the new pool and the engine over it (raises before anything is published)."""
        if self.loaded is not None:
            engine = self.loaded.engine.with_therapists(pool)
            self.loaded = replace(self.loaded, engine=engine, version=engine.model_version)
        self.pool = pool
        self.staged = True


class EngineState:
    """Holds the served engine; swaps it on reload or on a change of the therapist pool."""

    def __init__(
        self,
        loader: EngineLoader | None,
        uri: str,
        pool: pd.DataFrame,
        *,
        on_change: Callable[[LoadedEngine | None], None] | None = None,
    ) -> None:
        self._loader = loader
        self._uri = uri
        self._pool = pool
        self._loaded: LoadedEngine | None = None
        self._lock = threading.Lock()
        self._on_change = on_change
        self._problem: str | None = None

    @property
    def current(self) -> LoadedEngine | None:
        """The engine serving now (None until a model has been loaded)."""
        return self._loaded

    @property
    def pool(self) -> pd.DataFrame:
        """The therapist pool (typed frame) being served."""
        return self._pool

    @property
    def can_load(self) -> bool:
        """Whether a loader was configured."""
        return self._loader is not None

    @property
    def problem(self) -> str | None:
        """Why the configured URI did not give a usable model at the last (re)load (None after a
        success; transient failures such as an unreachable registry are not recorded here)."""
        return self._problem

    def load(
        self, pool_source: Callable[[], pd.DataFrame], *, reload: bool = False
    ) -> LoadedEngine:
        """(Re)load the model over a freshly read pool; on any error the old engine stays.

        A reload (``reload=True``) must resolve the configured URI itself: a loader that could
        only fall back to a local copy raises :class:`ModelNotFoundError` and nothing changes.
        """
        if self._loader is None:
            raise RuntimeError("no engine loader configured")
        with self._lock:
            try:
                pool = pool_source()
                engine = self._loader(pool)
                if reload and engine.stale_from is not None:
                    raise ModelNotFoundError(
                        f"{self._uri} cannot be resolved (only the local copy "
                        f"{engine.stale_from} is available)"
                    )
            except (ModelNotFoundError, ModelFormatError) as err:
                self._problem = str(err)
                raise
            loaded = LoadedEngine(engine, engine.model_version, utcnow(), self._uri)
            self._pool, self._loaded, self._problem = pool, loaded, None
        self._changed(loaded)
        return loaded

    def replace_pool(self, pool_source: Callable[[], pd.DataFrame]) -> None:
        """Serve the pool as stored now (e.g. after another process changed it): the new engine
        is built while requests keep using the old one, then swapped in. The pool is read under
        the writers' lock, so it includes every change this process has committed."""
        with self._lock:
            pool = pool_source()
            loaded = self._loaded
            if loaded is not None:
                engine = loaded.engine.with_therapists(pool)
                loaded = replace(loaded, engine=engine, version=engine.model_version)
            self._pool, self._loaded = pool, loaded

    @contextmanager
    def pool_writer(self) -> Iterator[PoolWriter]:
        """Change the pool: ``stage`` the new pool, persist it, and it is published on exit."""
        with self._lock:
            writer = PoolWriter(self._pool, self._loaded)
            yield writer
            if writer.staged:
                self._pool, self._loaded = writer.pool, writer.loaded
        if writer.staged:
            self._changed(writer.loaded)

    def _changed(self, loaded: LoadedEngine | None) -> None:
        if self._on_change is not None:
            self._on_change(loaded)


__all__ = ["EngineState", "LoadedEngine", "PoolWriter"]
