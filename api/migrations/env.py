"""Alembic environment: runs on the connection handed in by :meth:`api.storage.Database.migrate`,
or, from the ``alembic`` command line, on ``sqlalchemy.url`` / the settings' database."""

from __future__ import annotations

from alembic import context
from sqlalchemy import Connection, create_engine, text

from api.storage.models import Base

config = context.config
target_metadata = Base.metadata

# A fixed key for PostgreSQL's advisory lock, so that workers starting together migrate in turn.
_MIGRATION_LOCK = 7_339_021


def _run(connection: Connection) -> None:
    if connection.dialect.name == "postgresql":
        connection.execute(text(f"SELECT pg_advisory_xact_lock({_MIGRATION_LOCK})"))
    context.configure(
        connection=connection,
        target_metadata=target_metadata,
        render_as_batch=connection.dialect.name == "sqlite",
        compare_type=True,
    )
    with context.begin_transaction():
        context.run_migrations()


def run_migrations_online() -> None:
    """Migrate through the given connection, or open one from the configured URL."""
    connection = config.attributes.get("connection")
    if connection is not None:
        _run(connection)
        return
    url = config.get_main_option("sqlalchemy.url")
    if not url:
        from core.settings import get_settings

        url = get_settings().database
    from api.storage.database import normalize_url

    engine = create_engine(normalize_url(url), hide_parameters=True)
    with engine.begin() as conn:
        _run(conn)
    engine.dispose()


if context.is_offline_mode():
    raise SystemExit("offline (--sql) migrations are not supported")
run_migrations_online()
