"""The service database: engine, sessions and migrations (SQLite by default, or PostgreSQL)."""

from __future__ import annotations

import logging
import tempfile
from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path
from typing import Any

from alembic import command
from alembic.config import Config
from sqlalchemy import Engine, create_engine, event, make_url, text
from sqlalchemy.engine import URL
from sqlalchemy.exc import DBAPIError
from sqlalchemy.orm import Session, sessionmaker

from api.storage.json_codec import json_text, json_value
from api.storage.write_gate import write_gate
from core.errors import ConfigError, StorageError

log = logging.getLogger("api")

MIGRATIONS = Path(__file__).resolve().parent.parent / "migrations"
"""The Alembic script folder shipped inside the package."""

SQLITE_BUSY_TIMEOUT_MS = 30_000
READ_ONLY = "matcher_read_only"
"""Execution option marking the connections of :meth:`Database.read_session`."""
ENGINE_OPTIONS: dict[str, Any] = {
    "pool_size": 10,
    "max_overflow": 20,
    "hide_parameters": True,
    "json_serializer": json_text,
    "json_deserializer": json_value,
}
"""What every service engine is built with, on either backend."""
# Every engine is built with ``hide_parameters=True``: a failing statement's message then shows
# the SQL but never its bound values (intake answers, client ids, free text).


def normalize_url(url: str) -> URL:
    """Parse a database URL; PostgreSQL always goes through psycopg 3 (``postgresql+psycopg``)."""
    try:
        parsed = make_url(url)
    except Exception as err:
        raise ConfigError(f"invalid database URL: {type(err).__name__}") from None
    if parsed.drivername in ("postgres", "postgresql"):
        parsed = parsed.set(drivername="postgresql+psycopg")
    if parsed.get_backend_name() not in ("sqlite", "postgresql"):
        raise ConfigError(
            f"unsupported database {parsed.get_backend_name()!r}: use sqlite or postgresql"
        )
    return parsed


def _sqlite_engine(url: URL, busy_timeout_ms: int = SQLITE_BUSY_TIMEOUT_MS) -> Engine:
    if url.database and url.database != ":memory:" and not url.database.startswith("file:"):
        Path(url.database).parent.mkdir(parents=True, exist_ok=True)
    gate = write_gate(url.database or ":memory:", SQLITE_BUSY_TIMEOUT_MS / 1000)
    engine = create_engine(
        url,
        connect_args={"timeout": busy_timeout_ms / 1000},
        **ENGINE_OPTIONS,
    )

    @event.listens_for(engine, "connect")
    def _on_connect(dbapi_connection: Any, _record: Any) -> None:
        # sqlite3 must not open transactions itself: BEGIN is emitted by the "begin" hook below.
        dbapi_connection.isolation_level = None
        cursor = dbapi_connection.cursor()
        cursor.execute("PRAGMA journal_mode=WAL")
        cursor.execute(f"PRAGMA busy_timeout={busy_timeout_ms}")
        cursor.execute("PRAGMA synchronous=NORMAL")
        # Deleted rows are overwritten with zeros, so an erased client leaves no bytes behind.
        cursor.execute("PRAGMA secure_delete=ON")
        cursor.close()

    @event.listens_for(engine, "begin")
    def _on_begin(connection: Any) -> None:
        # IMMEDIATE takes the write lock up front, so concurrent writers queue on busy_timeout
        # instead of failing with "database is locked" when a read transaction upgrades.
        # Read-only sessions (Database.read_session) begin DEFERRED: under WAL they never take
        # the write lock, so a long read (the pool) cannot stall the writers.
        # Writers of this process first queue on the write gate (see write_gate).
        if connection.get_execution_options().get(READ_ONLY):
            connection.exec_driver_sql("BEGIN DEFERRED")
            return
        info = connection.connection.info
        gate.enter(info)
        try:
            connection.exec_driver_sql("BEGIN IMMEDIATE")
        except BaseException:
            gate.leave(info)
            raise

    # These events fire before SQLAlchemy ends the transaction; ending it here on the driver
    # connection (SQLAlchemy's own call is then a no-op) opens the gate only once the write
    # lock is released, so the next writer never meets a held lock.
    @event.listens_for(engine, "commit")
    def _on_commit(connection: Any) -> None:
        fairy = connection.connection
        fairy.driver_connection.commit()
        gate.leave(fairy.info)

    @event.listens_for(engine, "rollback")
    def _on_rollback(connection: Any) -> None:
        fairy = connection.connection
        try:
            fairy.driver_connection.rollback()
        finally:
            gate.leave(fairy.info)

    # A transaction that ends without a commit/rollback event (a connection returned, invalidated
    # or closed mid-transaction) must not keep the gate.
    @event.listens_for(engine.pool, "reset")
    def _on_reset(_dbapi_connection: Any, record: Any, _state: Any) -> None:
        gate.leave(record.info)

    @event.listens_for(engine.pool, "invalidate")
    def _on_invalidate(_dbapi_connection: Any, record: Any, _err: Any) -> None:
        gate.leave(record.info)

    @event.listens_for(engine.pool, "close")
    def _on_close(_dbapi_connection: Any, record: Any) -> None:
        gate.leave(record.info)

    return engine


class Database:
    """An opened service database: an engine, a session factory and a migration runner."""

    def __init__(self, url: str, *, busy_timeout_ms: int = SQLITE_BUSY_TIMEOUT_MS) -> None:
        self.url = normalize_url(url)
        if self.url.get_backend_name() == "sqlite":
            self.engine = _sqlite_engine(self.url, busy_timeout_ms)
        else:
            self.engine = create_engine(
                self.url,
                pool_pre_ping=True,
                **ENGINE_OPTIONS,
            )
        self._sessions = sessionmaker(self.engine, expire_on_commit=False)
        self._readers = sessionmaker(
            self.engine.execution_options(**{READ_ONLY: True}), expire_on_commit=False
        )

    @classmethod
    def open(cls, url: str, *, migrate: bool = True) -> Database:
        """Connect to ``url`` and (by default) bring its schema to the newest migration."""
        database = cls(url)
        if migrate:
            database.migrate()
        return database

    @property
    def dialect(self) -> str:
        """``sqlite`` or ``postgresql``."""
        return self.url.get_backend_name()

    def migrate(self, revision: str = "head") -> None:
        """Run the shipped Alembic migrations up to ``revision`` (no ini file, no cwd needed)."""
        config = Config()
        config.set_main_option("script_location", str(MIGRATIONS))
        with self.engine.begin() as connection:
            config.attributes["connection"] = connection
            command.upgrade(config, revision)

    @contextmanager
    def session(self) -> Iterator[Session]:
        """A session; rolled back on error, closed at the end (callers commit explicitly)."""
        session = self._sessions()
        try:
            yield session
        except BaseException:
            session.rollback()
            raise
        finally:
            session.close()

    def new_session(self) -> Session:
        """A session for the caller to commit and close (no I/O until its first statement)."""
        return self._sessions()

    @contextmanager
    def read_session(self) -> Iterator[Session]:
        """A session for reads only (SQLite: a deferred transaction that never blocks writers;
        a write through it fails). Closed, never committed, at the end."""
        session = self._readers()
        try:
            yield session
        finally:
            session.rollback()
            session.close()

    def ping(self) -> bool:
        """Whether the database answers a trivial query."""
        try:
            with self.read_session() as session:
                session.execute(text("SELECT 1"))
        except Exception:
            return False
        return True

    def write_problem(self) -> str | None:
        """Why a write would fail now (None when the database takes writes): a probe row is
        written and rolled back."""
        try:
            with self.engine.connect() as connection, connection.begin() as transaction:
                connection.execute(
                    text("INSERT INTO serve_secrets (name, value) VALUES ('__probe__', '')")
                )
                transaction.rollback()
        except DBAPIError as err:
            return refused_write(err)
        except Exception as err:
            return f"database not writable ({type(err).__name__})"
        return None

    def purge_deleted(self) -> None:
        """Make deleted rows unrecoverable from the database files (after an erasure).

        SQLite: rows are zeroed on delete (``secure_delete``); the checkpoint copies the WAL
        into the main file and truncates the WAL, so no older page version survives there.
        PostgreSQL: ``VACUUM`` of the erased tables marks the dead tuples' space free; the bytes
        are overwritten as the space is reused (base backups and WAL archives are the
        operator's to expire).
        """
        if self.dialect == "sqlite":
            raw = self.engine.raw_connection()
            try:  # the driver connection runs outside any transaction (isolation_level None)
                driver: Any = raw.driver_connection
                busy = driver.execute("PRAGMA wal_checkpoint(TRUNCATE)").fetchone()
            finally:
                raw.close()
            if busy is not None and busy[0]:
                log.warning(
                    "WAL checkpoint after an erasure was blocked by a reader; retried "
                    "at the next erasure or by SQLite's automatic checkpoint"
                )
            return
        with self.engine.connect().execution_options(isolation_level="AUTOCOMMIT") as conn:
            conn.exec_driver_sql("VACUUM intakes, impressions, events, audit_log")

    def where(self) -> str:
        """The database file (SQLite) or the URL without its password."""
        if self.dialect == "sqlite":
            return str(self.url.database)
        return self.url.render_as_string(hide_password=True)

    def dispose(self) -> None:
        """Close every pooled connection."""
        self.engine.dispose()


def refused_write(err: DBAPIError) -> str:
    """How a write the database refused is reported: ``database not writable (<driver's
    message>)``."""
    return f"database not writable ({_cause(err)})"


def is_read_only(err: DBAPIError) -> bool:
    """Whether the driver says the database is read-only (SQLite's "attempt to write a readonly
    database", PostgreSQL's "read-only transaction"), not busy or unreachable: waiting will not
    fix it."""
    return "readonly" in _cause(err).lower().replace("-", "").replace(" ", "")


def _cause(err: DBAPIError) -> str:
    """The driver's own message, first line (never the statement or its parameters)."""
    text_ = str(err.orig).strip().splitlines()
    return text_[0] if text_ else type(err.orig).__name__


def check_database(url: str) -> Database:
    """Open and migrate the database and read it once; a corrupt, unreadable or unreachable
    database raises :class:`StorageError` naming the file (or URL) and the cause."""
    database = Database(url)
    try:
        database.migrate()
        with database.engine.connect() as connection:
            if database.dialect == "sqlite":
                verdict = connection.exec_driver_sql("PRAGMA quick_check(1)").scalar()
                if verdict != "ok":
                    raise StorageError(f"database {database.where()}: corrupt ({verdict})")
            connection.execute(text("SELECT count(*) FROM therapists"))
    except StorageError:
        database.dispose()
        raise
    except DBAPIError as err:
        database.dispose()
        hint = _folder_hint(database)
        raise StorageError(f"database {database.where()}: {_cause(err)}{hint}") from None
    except Exception as err:
        database.dispose()
        raise StorageError(f"database {database.where()}: {type(err).__name__}") from None
    return database


def _folder_hint(database: Database) -> str:
    """Why SQLite may not open an existing, readable file: its folder refuses the journal files
    (``-wal``, ``-shm``) it must create next to it. Empty when that is not the case."""
    name = database.url.database
    if database.dialect != "sqlite" or not name or name.startswith("file:"):
        return ""
    path = Path(name)
    if not path.is_file():
        return ""
    try:
        with tempfile.TemporaryFile(dir=path.parent):
            return ""
    except OSError as err:
        return (
            f" (the folder {path.parent} does not take new files ({err.strerror}); SQLite "
            f"must create {path.name}-wal and {path.name}-shm there)"
        )


def open_database(url: str, *, migrate: bool = True) -> Database:
    """Open the database at ``url`` (``settings.database``) and migrate it to head."""
    return Database.open(url, migrate=migrate)


__all__ = [
    "MIGRATIONS",
    "Database",
    "check_database",
    "is_read_only",
    "normalize_url",
    "open_database",
    "refused_write",
]
