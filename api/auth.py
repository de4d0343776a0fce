"""API keys: scopes, creation (shown once, stored hashed), and authentication with a short cache."""

from __future__ import annotations

import hashlib
import re
import secrets
import threading
import time
from collections.abc import Iterable
from dataclasses import dataclass
from enum import StrEnum

from sqlalchemy.orm import Session

from api.storage.database import Database
from api.storage.keys import find_key, insert_key, key_name_taken, revoke_key
from core.errors import ConfigError

KEY_PREFIX = "mk_"
_NAME = re.compile(r"^[A-Za-z0-9][A-Za-z0-9_.@-]{0,63}$")


class Scope(StrEnum):
    """What a key may do. ``admin`` implies every other scope."""

    MATCHES = "matches"
    THERAPISTS = "therapists"
    EVENTS = "events"
    REPORTS = "reports"
    ADMIN = "admin"


@dataclass(frozen=True)
class Principal:
    """The caller behind a valid key."""

    name: str
    scopes: frozenset[Scope]

    def allows(self, scope: Scope) -> bool:
        """Whether the key carries ``scope`` (or ``admin``)."""
        return scope in self.scopes or Scope.ADMIN in self.scopes


def hash_key(secret: str) -> str:
    """The stored form of a key: SHA-256, hex."""
    return hashlib.sha256(secret.encode("utf-8", "surrogatepass")).hexdigest()


def parse_scopes(scopes: Iterable[str]) -> list[Scope]:
    """Validate scope names (ConfigError names the unknown ones and the allowed ones)."""
    wanted = [str(s).strip() for s in scopes if str(s).strip()]
    unknown = [s for s in wanted if s not in {m.value for m in Scope}]
    if unknown:
        allowed = ", ".join(m.value for m in Scope)
        raise ConfigError(f"unknown scope(s) {', '.join(unknown)}; allowed: {allowed}")
    if not wanted:
        raise ConfigError("a key needs at least one scope")
    return sorted({Scope(s) for s in wanted}, key=list(Scope).index)


def create_api_key(session: Session, name: str, scopes: Iterable[str]) -> str:
    """Create a key called ``name`` with ``scopes`` and commit; returns the secret (shown once).

    Raises ConfigError for a bad or taken name, or unknown scopes.
    """
    if not _NAME.match(name):
        raise ConfigError(f"invalid key name {name!r}: 1-64 letters, digits, '_', '.', '@' or '-'")
    checked = parse_scopes(scopes)
    if key_name_taken(session, name):
        raise ConfigError(f"a key named {name!r} already exists")
    secret = KEY_PREFIX + secrets.token_urlsafe(32)
    insert_key(session, name, hash_key(secret), [s.value for s in checked])
    session.commit()
    return secret


def revoke_api_key(session: Session, name: str) -> bool:
    """Revoke the key called ``name`` and commit; False if no live key has that name."""
    return revoke_key(session, name)


class Authenticator:
    """Resolves bearer secrets to principals, caching hits for ``ttl`` seconds.

    A revoked key stops working within ``ttl`` seconds in every process.
    """

    def __init__(self, database: Database, *, ttl: float = 10.0) -> None:
        self._database = database
        self._ttl = ttl
        self._cache: dict[str, tuple[Principal, float]] = {}
        self._lock = threading.Lock()

    def cached(self, secret: str) -> Principal | None:
        """The principal for a secret if a fresh lookup is cached, else None (no I/O: safe to call
        on the event loop; on None, call :meth:`authenticate`)."""
        cached = self._cache.get(hash_key(secret))
        if cached is not None and cached[1] > time.monotonic():
            return cached[0]
        return None

    def authenticate(self, secret: str) -> Principal | None:
        """The principal for a secret, or None if no live key matches."""
        principal = self.cached(secret)
        if principal is not None:
            return principal
        digest = hash_key(secret)
        now = time.monotonic()
        with self._database.read_session() as session:
            record = find_key(session, digest)
        if record is None or record.revoked:
            with self._lock:
                self._cache.pop(digest, None)
            return None
        known = {m.value for m in Scope}
        principal = Principal(record.name, frozenset(Scope(s) for s in record.scopes if s in known))
        with self._lock:
            self._cache[digest] = (principal, now + self._ttl)
        return principal

    def forget(self) -> None:
        """Drop every cached key (e.g. after a revocation, to take effect at once)."""
        with self._lock:
            self._cache.clear()


__all__ = [
    "Authenticator",
    "Principal",
    "Scope",
    "create_api_key",
    "hash_key",
    "parse_scopes",
    "revoke_api_key",
]
