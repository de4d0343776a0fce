"""The engine being served and the pool it serves, swapped atomically.

Requests read :attr:`EngineState.current` once and keep that engine for their whole life, so a
swap never changes an engine under a running request. Writers (therapist changes, reloads) are
serialised by one lock and publish a new engine only after everything else has succeeded.
"""

from __future__ import annotations

import threading
from collections.abc import Callable, Iterator, Sequence
from contextlib import contextmanager
from dataclasses import dataclass, field, replace
from datetime import datetime

import pandas as pd

from api.engine_port import ArmLoader, EngineLoader, MatchEngine
from api.storage.therapists import PoolChanges
from api.storage.types import utcnow
from core.config import CHAMPION_ARM, ExperimentConfig
from core.errors import ModelFormatError, ModelNotFoundError
from features.pool_merge import PoolMerge
from matcher.experiments import assign, assignment_unit
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


@dataclass(frozen=True)
class ServedExperiment:
    """An experiment and the engines of its arms over the current pool (immutable)."""

    config: ExperimentConfig
    engines: dict[str, MatchEngine]
    """Arm name → engine, for every challenger and shadow arm that loaded here."""
    problem: str | None = None
    """Arms that did not load in this process (their clients get the champion, logged so)."""
    built_over: pd.DataFrame | None = field(default=None, compare=False, repr=False)
    """The pool the engines were built over."""

    def arm_of(self, client_id: str | None, intake_id: str) -> str:
        """The arm serving this client (``champion`` when the assigned arm is not loaded)."""
        arm = assign(self.config, assignment_unit(client_id, intake_id))
        return arm if arm in self.engines else CHAMPION_ARM

    @property
    def shadows(self) -> list[tuple[str, MatchEngine]]:
        """(name, engine) of each loaded shadow arm."""
        return [
            (a.name, self.engines[a.name]) for a in self.config.shadows if a.name in self.engines
        ]

    def with_therapists(self, pool: pd.DataFrame) -> ServedExperiment:
        """The same arms over a new pool."""
        engines = {name: e.with_therapists(pool) for name, e in self.engines.items()}
        return replace(self, engines=engines, built_over=pool)

    def with_changes(
        self, pool: pd.DataFrame, upserted: pd.DataFrame | None, removed: Sequence[str]
    ) -> ServedExperiment:
        """The same arms over ``pool``, their pool with these changes (see
        :meth:`MatchEngine.with_changes`)."""
        engines = {
            name: e.with_changes(pool, upserted, removed) for name, e in self.engines.items()
        }
        return replace(self, engines=engines, built_over=pool)


def merged_pool(
    pool: pd.DataFrame, upserted: pd.DataFrame | None, removed: Sequence[str] = ()
) -> pd.DataFrame:
    """``pool`` with ``upserted`` profiles added or replaced and ``removed`` ids taken out,
    ordered by therapist id (stable): one :class:`features.pool_merge.PoolMerge`, so a pool
    already in id order is not sorted again (the new rows are placed by binary search)."""
    new_ids = [] if upserted is None else [str(t) for t in upserted["therapist_id"]]
    ids = pool["therapist_id"].to_numpy(dtype=object)
    return PoolMerge.plan(ids, new_ids, removed).frame(pool, upserted)


class PoolWriter:
    """A pending change of the pool, published when the writer's block ends without error."""

    def __init__(
        self,
        pool: pd.DataFrame,
        loaded: LoadedEngine | None,
        experiment: ServedExperiment | None = None,
    ) -> None:
        self.pool = pool
        self.loaded = loaded
        self.experiment = experiment
        self.staged = False
        self.revision: int | None = None
        """The ``therapists`` counter of the committed change (set by the writer)."""

    def stage(self, pool: pd.DataFrame) -> None:
        """Prepare the new pool and the engine over it, built from scratch (raises before
        anything is published). A change of a few profiles: :meth:`stage_changes`."""
        if self.loaded is not None:
            engine = self.loaded.engine.with_therapists(pool)
            self.loaded = replace(self.loaded, engine=engine, version=engine.model_version)
        if self.experiment is not None:
            self.experiment = self.experiment.with_therapists(pool)
        self.pool = pool
        self.staged = True

    def stage_changes(self, upserted: pd.DataFrame | None, removed: Sequence[str] = ()) -> None:
        """Prepare the pool with ``upserted`` profiles (a typed frame) added or replaced and
        ``removed`` ids taken out, and the engines over it updated in proportion to the change
        (:meth:`MatchEngine.with_changes`: they rank exactly as engines built over the new
        pool from scratch). Raises before anything is published."""
        pool = merged_pool(self.pool, upserted, removed)
        if self.loaded is not None:
            engine = self.loaded.engine.with_changes(pool, upserted, removed)
            self.loaded = replace(self.loaded, engine=engine, version=engine.model_version)
        if self.experiment is not None:
            self.experiment = self.experiment.with_changes(pool, upserted, removed)
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
        revision: int | None = None,
        on_change: Callable[[LoadedEngine | None], None] | None = None,
        arm_loader: ArmLoader | None = None,
    ) -> None:
        self._loader = loader
        self._arm_loader = arm_loader
        self._experiment: ServedExperiment | None = None
        self._uri = uri
        self._pool = pool
        self._revision = revision
        self._loaded: LoadedEngine | None = None
        self._lock = threading.Lock()
        self._on_change = on_change
        self._problem: str | None = None

    @property
    def current(self) -> LoadedEngine | None:
        """The engine serving now (None until a model has been loaded)."""
        return self._loaded

    @property
    def experiment(self) -> ServedExperiment | None:
        """The experiment being served (None: everyone gets the champion)."""
        return self._experiment

    @property
    def pool(self) -> pd.DataFrame:
        """The therapist pool (typed frame) being served."""
        return self._pool

    @property
    def revision(self) -> int | None:
        """The ``therapists`` change counter the pool reflects (None: unknown)."""
        return self._revision

    @property
    def can_load(self) -> bool:
        """Whether a loader was configured."""
        return self._loader is not None

    @property
    def problem(self) -> str | None:
        """Why the configured URI did not give a usable model at the last (re)load (None after a
        success; transient failures such as an unreachable registry are not recorded here)."""
        return self._problem

    def load(self, *, reload: bool = False) -> LoadedEngine:
        """(Re)load the model over the pool being served; on any error the old engine stays.

        The new engine is built while requests keep using the old one, then swapped in. A
        reload (``reload=True``) must resolve the configured URI itself: a loader that could
        only fall back to a local copy raises :class:`ModelNotFoundError` and nothing changes.
        """
        if self._loader is None:
            raise RuntimeError("no engine loader configured")
        with self._lock:
            try:
                engine = self._loader(self._pool)
                if reload and engine.stale_from is not None:
                    raise ModelNotFoundError(
                        f"{self._uri} cannot be resolved (only the local copy "
                        f"{engine.stale_from} is available)"
                    )
            except (ModelNotFoundError, ModelFormatError) as err:
                self._problem = str(err)
                raise
            loaded = LoadedEngine(engine, engine.model_version, utcnow(), self._uri)
            self._loaded, self._problem = loaded, None
        self._changed(loaded)
        return loaded

    def catch_up(self, changes: Callable[[int], PoolChanges]) -> bool:
        """Apply the pool changes committed after :attr:`revision` (e.g. by another process):
        ``changes(revision)`` reads only the rows those changes wrote; the engines over the new
        pool are built while requests keep using the old ones, then swapped in. Returns whether
        the pool changed. Runs under the writers' lock, so it never interleaves with a write
        of this process and never applies a row older than the one served."""
        with self._lock:
            if self._revision is None:
                raise RuntimeError("the pool's revision is unknown: read the whole pool")
            delta = changes(self._revision)
            if not delta:
                self._revision = max(self._revision, delta.revision)
                return False
            writer = PoolWriter(self._pool, self._loaded, self._experiment)
            writer.stage_changes(delta.upserted, delta.removed)
            self._pool, self._loaded, self._experiment = (
                writer.pool,
                writer.loaded,
                writer.experiment,
            )
            self._revision = max(self._revision, delta.revision)
        return True

    @contextmanager
    def pool_writer(self) -> Iterator[PoolWriter]:
        """Change the pool: ``stage`` (or ``stage_changes``) the new pool, persist it, and it is
        published on exit."""
        with self._lock:
            writer = PoolWriter(self._pool, self._loaded, self._experiment)
            yield writer
            if writer.staged:
                self._pool, self._loaded = writer.pool, writer.loaded
                self._experiment = writer.experiment
                if writer.revision is not None and self._revision == writer.revision - 1:
                    # no other change came between: the pool is at the writer's revision
                    self._revision = writer.revision
        if writer.staged:
            self._changed(writer.loaded)

    def prepare_experiment(
        self, config: ExperimentConfig | None, *, strict: bool = True
    ) -> ServedExperiment | None:
        """Load the arms of ``config`` over the current pool without serving them yet (arms
        already loaded for the same URI are reused). ``strict``: an arm that does not load
        raises :class:`ModelNotFoundError`; otherwise it is left out and named in ``problem``."""
        if config is None:
            return None
        if self._arm_loader is None:
            raise ModelNotFoundError("this server was started without an arm loader")
        current = self._experiment
        reuse: dict[str, MatchEngine] = {}
        if current is not None:
            # pinned URIs only: an alias may have moved since (PUT again to pick that up)
            reuse = {
                a.model_uri: current.engines[a.name]
                for a in current.config.arms
                if a.name in current.engines and "@" not in a.model_uri
            }
        pool = self._pool
        engines: dict[str, MatchEngine] = {}
        failed: list[str] = []
        for arm in config.arms:
            try:
                engine = reuse.get(arm.model_uri) or self._arm_loader(arm.model_uri, pool)
            except Exception as err:  # any failure to load an arm is the arm's, never a 5xx
                why = str(err) if isinstance(err, ModelNotFoundError) else type(err).__name__
                if strict:
                    raise ModelNotFoundError(f"arm {arm.name!r}: {why}") from err
                failed.append(f"arm {arm.name!r} ({arm.model_uri}) not loaded: {why}")
            else:
                engines[arm.name] = engine
        return ServedExperiment(config, engines, "; ".join(failed) or None, built_over=pool)

    def serve_experiment(self, experiment: ServedExperiment | None) -> None:
        """Serve a prepared experiment (None: end it); rebuilt over the pool if it changed
        while the arms were loading."""
        with self._lock:
            if experiment is not None and experiment.built_over is not self._pool:
                experiment = experiment.with_therapists(self._pool)
            self._experiment = experiment

    def _changed(self, loaded: LoadedEngine | None) -> None:
        if self._on_change is not None:
            self._on_change(loaded)


__all__ = ["EngineState", "LoadedEngine", "PoolWriter", "merged_pool"]
