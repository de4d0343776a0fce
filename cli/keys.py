"""``matcher keys``: API key management."""

from __future__ import annotations

from typing import Annotated

import typer

from cli.app import console, keys_app, out


@keys_app.command("create")
def keys_create(
    name: Annotated[str, typer.Option(help="A name for the key (shown in logs).")],
    scopes: Annotated[
        str, typer.Option(help="Comma-separated: matches, therapists, events, reports, admin.")
    ],
) -> None:
    """Create an API key; the secret is printed once and stored only as a hash."""
    from api import create_api_key, open_database
    from core.settings import get_settings

    db = open_database(get_settings().database)
    try:
        with db.session() as session:
            secret = create_api_key(session, name, [s.strip() for s in scopes.split(",") if s])
    finally:
        db.dispose()
    out.print(secret, highlight=False)
    console.print(f"key {name!r} created; store it now, it is not shown again")


@keys_app.command("list")
def keys_list() -> None:
    """List every key: name, scopes, created, revoked (never a secret)."""
    from rich.table import Table

    from api import open_database
    from api.storage.keys import list_keys
    from core.settings import get_settings

    db = open_database(get_settings().database)
    try:
        with db.session() as session:
            keys = list_keys(session)
    finally:
        db.dispose()
    table = Table("name", "scopes", "created (UTC)", "state", box=None)
    for key in keys:
        table.add_row(
            key.name,
            ",".join(key.scopes),
            key.created_at.strftime("%Y-%m-%d %H:%M"),
            "revoked" if key.revoked else "active",
        )
    out.print(table)
    console.print(f"{len(keys)} key(s)")


@keys_app.command("revoke")
def keys_revoke(name: Annotated[str, typer.Argument(help="Name of the key to revoke.")]) -> None:
    """Revoke a key by name: requests with it are refused (401) from then on."""
    from api import open_database
    from api.storage.keys import revoke_key
    from core.errors import ConfigError
    from core.settings import get_settings

    db = open_database(get_settings().database)
    try:
        with db.session() as session:
            revoked = revoke_key(session, name)
    finally:
        db.dispose()
    if not revoked:
        raise ConfigError(f"no active key named {name!r} (see `matcher keys list`)")
    out.print(f"revoked {name!r}")
