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
