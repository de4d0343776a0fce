"""Everything a running app holds: settings, database, served engine, limiter, metrics — and the
thread that keeps this process in step with the others sharing the database."""

from __future__ import annotations

import logging
import threading
import time
from dataclasses import dataclass, field

from api.auth import Authenticator
from api.engine_port import ArmLoader, EngineLoader, ExperimentReporter
from api.engine_state import EngineState
from api.metrics import Metrics
from api.ratelimit import RateLimiter
from api.storage.audit import audit_secret
from api.storage.changes import Topic, bump, counters
from api.storage.database import Database, check_database
from api.storage.experiments import active_experiment
from api.storage.therapists import PoolChanges, pool_changes, pool_snapshot
from core.config import ExperimentConfig
from core.settings import Settings

log = logging.getLogger("api")

WRITABLE_TTL_S = 5.0
"""How long a writability probe's answer is reused by /readyz (a probe takes the write lock)."""


@dataclass
class Runtime:
    """The services behind the routes (built by the app's lifespan)."""

    settings: Settings
    database: Database
    engines: EngineState
    keys: Authenticator
    limiter: RateLimiter
    metrics: Metrics
    match_slots: threading.BoundedSemaphore = field(
        default_factory=lambda: threading.BoundedSemaphore(2)
    )
    """Bounds how many CPU-bound matches run at once (``Settings.match_concurrency``)."""
    audit_key: bytes = b""
    """The installation's key for hashing client ids in the audit trail."""
    experiment_report: ExperimentReporter | None = None
    """Computes the experiment report (None: the route answers 409)."""
    _seen: dict[str, int] = field(default_factory=dict)
    _stop: threading.Event = field(default_factory=threading.Event)
    _sync: threading.Thread | None = None
    _writable: tuple[float, str | None] = (-1e18, None)

    def pool_changes(self, since: int) -> PoolChanges:
        """The therapist profiles written after revision ``since`` (see
        :func:`api.storage.therapists.pool_changes`)."""
        with self.database.read_session() as session:
            return pool_changes(session, since)

    def configured_experiment(self) -> tuple[ExperimentConfig | None, str | None]:
        """(the experiment in force, where it comes from): the database's active one; before
        the database has any experiment, the one in the settings (``MATCHER_EXPERIMENT``)."""
        with self.database.read_session() as session:
            stored, any_stored = active_experiment(session)
        if any_stored:
            return stored, None if stored is None else "database"
        config = self.settings.experiment
        return config, None if config is None else "settings"

    def load_experiment(self) -> None:
        """Serve the configured experiment's arms (an arm that fails here is left out, its
        clients get the champion, and /readyz names it)."""
        config, _ = self.configured_experiment()
        current = self.engines.experiment
        if config is None and current is None:
            return
        self.engines.serve_experiment(self.engines.prepare_experiment(config, strict=False))
        if config is not None:
            log.info(
                "experiment %s served with arms %s", config.name, [a.name for a in config.arms]
            )

    def announce(self, topic: Topic) -> None:
        """Tell the other processes that ``topic`` changed here (e.g. a model reload)."""
        with self.database.session() as session:
            before = self._seen.get(topic.value)
            bump(session, topic)
            after = counters(session)[topic.value]
            session.commit()
        if before == after - 1:  # nobody else changed it meanwhile: no need to apply our own
            self._seen[topic.value] = after

    def not_writable(self) -> str | None:
        """Why the database refuses writes (None when it takes them), probed at most every
        WRITABLE_TTL_S seconds."""
        stamp, reason = self._writable
        now = time.monotonic()
        if now - stamp < WRITABLE_TTL_S:
            return reason
        reason = self.database.write_problem()
        self._writable = (now, reason)
        return reason

    # -- staying in step with the other processes -------------------------------------------

    def sync_once(self) -> list[str]:
        """Apply every change another process made since the last call; returns the topics."""
        with self.database.read_session() as session:
            now = counters(session)
        moved = [t for t, n in now.items() if self._seen.get(t) != n]
        self._seen = now
        if now[Topic.THERAPISTS] != self.engines.revision:
            self.engines.catch_up(self.pool_changes)
        if Topic.KEYS in moved:
            self.keys.forget()
        if Topic.MODEL in moved and self.engines.can_load:
            try:
                loaded = self.engines.load(reload=True)
            except Exception as err:
                log.warning("model change announced but not loadable here: %s", err)
            else:
                log.info("model %s loaded (announced by another process)", loaded.version)
        if Topic.EXPERIMENTS in moved:
            try:
                self.load_experiment()
            except Exception as err:
                log.warning("experiment change announced but not servable here: %s", err)
        return moved

    def start_sync(self) -> None:
        """Poll the change counters every ``settings.sync_interval`` seconds in a daemon
        thread (one primary-key read of three rows per poll)."""
        self.sync_once()

        def loop() -> None:
            while not self._stop.wait(self.settings.sync_interval):
                try:
                    self.sync_once()
                except Exception as err:
                    log.warning("sync with the database failed: %s", type(err).__name__)

        self._sync = threading.Thread(target=loop, name="matcher-sync", daemon=True)
        self._sync.start()

    def close(self) -> None:
        """Stop syncing and close the database."""
        self._stop.set()
        if self._sync is not None:
            self._sync.join(timeout=10)
        self.database.dispose()


def start_runtime(
    settings: Settings,
    loader: EngineLoader | None,
    metrics: Metrics,
    limiter: RateLimiter,
    arm_loader: ArmLoader | None = None,
) -> Runtime:
    """Open and migrate the database, read the pool and load the engine once.

    A database that cannot be opened stops startup (:class:`core.errors.StorageError`, one line
    naming the file and the cause). A failing loader does not: the service starts unready
    (``/readyz`` 503 with the reason) and a later ``POST /v1/model/reload`` can load the model.
    """
    database = check_database(settings.database)
    with database.read_session() as session:
        seen = counters(session)  # read before the pool: a later change is never missed
        revision, pool = pool_snapshot(session)
        secret = audit_secret(session)
    engines = EngineState(
        loader,
        settings.model_uri,
        pool,
        revision=revision,
        on_change=lambda loaded: metrics.set_model(None if loaded is None else loaded.version),
        arm_loader=arm_loader,
    )
    runtime = Runtime(
        settings,
        database,
        engines,
        Authenticator(database),
        limiter,
        metrics,
        threading.BoundedSemaphore(settings.match_concurrency),
        audit_key=secret,
        _seen=seen,
    )
    metrics.set_model(None)
    if loader is None:
        log.warning("no engine loader configured: serving without a model")
    else:
        try:
            loaded = engines.load()
        except Exception as err:
            log.warning("model not loaded (%s: %s); /readyz stays 503", type(err).__name__, err)
        else:
            stale = "" if loaded.stale_from is None else f" (stale, from {loaded.stale_from})"
            log.info(
                "model %s loaded from %s over %d therapists%s",
                loaded.version,
                loaded.uri,
                len(engines.pool),
                stale,
            )
    if arm_loader is not None:
        try:
            runtime.load_experiment()
        except Exception as err:
            log.warning("experiment not served (%s: %s)", type(err).__name__, err)
    refused = runtime.not_writable()
    if refused is not None:
        log.warning("%s: /readyz stays 503 and every write answers 503 until it is fixed", refused)
    runtime.start_sync()
    return runtime


__all__ = ["Runtime", "start_runtime"]
