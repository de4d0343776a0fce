"""SQLite writers queue on a lock instead of on SQLite's busy handler, within a process and
across the processes on one file.

SQLite has one write lock per database. A writer that finds it taken waits in SQLite's busy
handler, which sleeps in growing steps (1, 2, 5, 10, … 100 ms) and retries; a writer arriving
later may take the lock first. Under concurrent requests that turns a sub-millisecond write into
waits of hundreds of milliseconds at the tail. The gate makes write transactions wait on locks
that wake the waiter the moment they are free instead: a thread lock among this process's
writers, then an advisory file lock (``flock``) on ``<database>-gate`` among the processes
(``matcher serve --workers N``, the CLI). SQLite's handler is then only met by writers that do
not use the gate (another program on the file).
"""

from __future__ import annotations

import os
import sys
import threading
import weakref
from pathlib import Path
from typing import Any

if sys.platform != "win32":
    import fcntl

_HELD = "matcher_write_gate"
"""Key in a DBAPI connection's ``info`` dict: set while that connection holds the gate."""

GATE_SUFFIX = "-gate"
"""The lock file beside a SQLite database (empty; only ever locked, never written)."""


class WriteGate:
    """A lock held from a write transaction's BEGIN to its COMMIT or ROLLBACK.

    ``enter`` waits at most ``timeout`` seconds for this process's other writers (then the
    transaction goes ahead ungated and SQLite's busy handler decides, as without a gate). With a
    ``path`` it then waits for the writers of other processes on that file lock; a process holds
    it only from BEGIN to COMMIT/ROLLBACK, and the kernel drops it when the process dies, so a
    writer waits for at most the other writers' transactions (a process stopped mid-transaction
    keeps its SQLite write lock too, and with it every writer, until it resumes or dies). Where
    the lock file cannot be opened (a read-only folder) the gate spans this process only.
    """

    def __init__(self, timeout: float, path: Path | None = None) -> None:
        self.timeout = timeout
        self.path = path if sys.platform != "win32" else None
        self._file: int | None = None
        self._reset()
        _LIVE.add(self)

    def _reset(self) -> None:
        # Also run in a forked child: the parent's thread lock may be held by a thread the
        # child does not have, and an inherited descriptor shares the parent's file lock.
        if self._file is not None:
            os.close(self._file)
        self._lock = threading.Lock()
        self._file = None
        self._file_tried = False

    def enter(self, info: dict[Any, Any]) -> None:
        """Take the gate for the connection whose ``info`` this is."""
        if info.get(_HELD) or not self._lock.acquire(timeout=self.timeout):
            return
        try:
            if not self._file_tried:  # opened on the first write, so readers create no file
                self._file_tried = True
                self._file = _open_lock_file(self.path)
            if self._file is not None:
                fcntl.flock(self._file, fcntl.LOCK_EX)
        except BaseException:
            self._lock.release()
            raise
        info[_HELD] = True

    def leave(self, info: dict[Any, Any]) -> None:
        """Give the gate back if that connection holds it (safe to call more than once)."""
        if info.pop(_HELD, False):
            try:
                if self._file is not None:
                    fcntl.flock(self._file, fcntl.LOCK_UN)
            finally:
                self._lock.release()


def _open_lock_file(path: Path | None) -> int | None:
    if path is None:
        return None
    for flags in (os.O_RDWR | os.O_CREAT, os.O_RDONLY):
        try:
            return os.open(path, flags | os.O_CLOEXEC, 0o600)
        except OSError:
            continue
    return None


_LIVE: weakref.WeakSet[WriteGate] = weakref.WeakSet()
_GATES: dict[str, WriteGate] = {}
_GATES_LOCK = threading.Lock()


def _after_fork() -> None:
    for gate in list(_LIVE):
        gate._reset()


if hasattr(os, "register_at_fork"):
    os.register_at_fork(after_in_child=_after_fork)


def write_gate(database: str, timeout: float) -> WriteGate:
    """The gate of the SQLite file ``database`` in this process (one per file, shared by
    every engine opened on it, and locking ``<file>-gate`` against other processes; an
    in-memory database or a ``file:`` URI gets a gate of this process only)."""
    if database in ("", ":memory:"):
        return WriteGate(timeout)
    if database.startswith("file:"):
        key, path = database, None
    else:
        resolved = Path(database).resolve()
        key, path = str(resolved), resolved.with_name(resolved.name + GATE_SUFFIX)
    with _GATES_LOCK:
        gate = _GATES.get(key)
        if gate is None:
            gate = _GATES[key] = WriteGate(timeout, path)
        return gate


__all__ = ["GATE_SUFFIX", "WriteGate", "write_gate"]
