"""SQLite writers of one process queue on the write gate, not on SQLite's busy handler."""

from __future__ import annotations

import os
import subprocess
import sys
from concurrent.futures import ThreadPoolExecutor
from pathlib import Path

from sqlalchemy import text

from api.storage import Database


def test_concurrent_writers_in_one_process_never_meet_a_locked_database(tmp_path) -> None:
    # With no busy timeout, a writer that finds SQLite's write lock taken fails at once with
    # "database is locked": only the gate can make these concurrent writes all succeed.
    db = Database(f"sqlite:///{tmp_path / 'gate.db'}", busy_timeout_ms=0)
    try:
        with db.engine.begin() as connection:
            connection.execute(text("CREATE TABLE t (k INTEGER PRIMARY KEY, v TEXT)"))

        def write(k: int) -> None:
            for j in range(20):
                with db.session() as session:
                    session.execute(
                        text("INSERT INTO t (k, v) VALUES (:k, 'x')"), {"k": k * 100 + j}
                    )
                    session.commit()
            with db.session() as session:  # a rolled-back writer gives the gate back too
                session.execute(text("INSERT INTO t (k, v) VALUES (:k, 'y')"), {"k": -k - 1})
                session.rollback()

        with ThreadPoolExecutor(8) as pool:
            list(pool.map(write, range(8)))
        with db.read_session() as session:
            assert session.execute(text("SELECT count(*) FROM t")).scalar() == 160
    finally:
        db.dispose()


# One writer process: 4 threads, 20 committed inserts each, starting when told on stdin.
_WRITER = """
import sys
from concurrent.futures import ThreadPoolExecutor
from sqlalchemy import text
from api.storage import Database

db = Database(sys.argv[1], busy_timeout_ms=0)
base = int(sys.argv[2])

def write(k):
    for j in range(20):
        with db.session() as session:
            row = {"k": base + k * 100 + j}
            session.execute(text("INSERT INTO t (k, v) VALUES (:k, 'x')"), row)
            session.commit()

print("ready", flush=True)
sys.stdin.readline()
with ThreadPoolExecutor(4) as pool:
    list(pool.map(write, range(4)))
db.dispose()
"""


def test_writer_processes_on_one_file_never_meet_a_locked_database(tmp_path) -> None:
    # Two processes writing at once with no busy timeout: the gate's file lock is all that
    # keeps the one from finding the other's write lock taken.
    url = f"sqlite:///{tmp_path / 'gate.db'}"
    db = Database(url, busy_timeout_ms=0)
    with db.engine.begin() as connection:
        connection.execute(text("CREATE TABLE t (k INTEGER PRIMARY KEY, v TEXT)"))
    root = str(Path(__file__).resolve().parents[2])
    env = {**os.environ, "PYTHONPATH": root}
    writers = [
        subprocess.Popen(
            [sys.executable, "-c", _WRITER, url, str(base)],
            stdin=subprocess.PIPE,
            stdout=subprocess.PIPE,
            stderr=subprocess.PIPE,
            text=True,
            env=env,
        )
        for base in (0, 10_000)
    ]
    try:
        for writer in writers:
            assert writer.stdout is not None and writer.stdout.readline() == "ready\n"
        for writer in writers:
            assert writer.stdin is not None
            writer.stdin.write("go\n")
            writer.stdin.flush()
        errors = [writer.communicate(timeout=120)[1] for writer in writers]
        assert [writer.returncode for writer in writers] == [0, 0], errors
        with db.read_session() as session:
            assert session.execute(text("SELECT count(*) FROM t")).scalar() == 160
    finally:
        for writer in writers:
            writer.kill()
        db.dispose()
