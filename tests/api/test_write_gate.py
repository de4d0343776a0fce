"""SQLite writers of one process queue on the write gate, not on SQLite's busy handler."""

from __future__ import annotations

from concurrent.futures import ThreadPoolExecutor

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
