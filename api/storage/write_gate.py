"""One process's SQLite writers queue on a lock instead of on SQLite's busy handler.

SQLite has one write lock per database. A writer that finds it taken waits in SQLite's busy
handler, which sleeps in growing steps (1, 2, 5, 10, … 100 ms) and retries; a writer arriving
later may take the lock first. Under concurrent requests that turns a sub-millisecond write into
waits of hundreds of milliseconds at the tail. The gate makes this process's write transactions
wait on a lock instead (woken the moment it is free), so SQLite's handler only arbitrates
between processes.
"""

from __future__ import annotations

import threading
from pathlib import Path
from typing import Any

_HELD = "matcher_write_gate"
"""Key in a DBAPI connection's ``info`` dict: set while that connection holds the gate."""


class WriteGate:
    """A lock held from a write transaction's BEGIN to its COMMIT or ROLLBACK.

    ``enter`` waits at most ``timeout`` seconds (then the transaction goes ahead ungated and
    SQLite's busy handler decides, as without a gate), so a gate can delay a writer but never
    deadlock one.
    """

    def __init__(self, timeout: float) -> None:
        self.timeout = timeout
        self._lock = threading.Lock()

    def enter(self, info: dict[Any, Any]) -> None:
        """Take the gate for the connection whose ``info`` this is."""
        if not info.get(_HELD) and self._lock.acquire(timeout=self.timeout):
            info[_HELD] = True

    def leave(self, info: dict[Any, Any]) -> None:
        """Give the gate back if that connection holds it (safe to call more than once)."""
        if info.pop(_HELD, False):
            self._lock.release()


_GATES: dict[str, WriteGate] = {}
_GATES_LOCK = threading.Lock()


def write_gate(database: str, timeout: float) -> WriteGate:
    """The gate of the SQLite file ``database`` in this process (one per file, shared by
    every engine opened on it; an in-memory database gets a gate of its own)."""
    if database in ("", ":memory:"):
        return WriteGate(timeout)
    key = database if database.startswith("file:") else str(Path(database).resolve())
    with _GATES_LOCK:
        return _GATES.setdefault(key, WriteGate(timeout))


__all__ = ["WriteGate", "write_gate"]
