"""SQLite: a long-running server copies the write-ahead log into the database file on a thread of its
own, so the file itself stays current (a backup of it holds the latest cases) and no request pays
for the copy."""

from __future__ import annotations

import shutil
import sqlite3
import time

from sqlalchemy import text

from bdd_workflow.db.unit_of_work import WAL_CEILING_PAGES, Database


def _wait_for(predicate, seconds: float = 10.0) -> bool:
    deadline = time.monotonic() + seconds
    while time.monotonic() < deadline:
        if predicate():
            return True
        time.sleep(0.02)
    return predicate()


def _database(tmp_path) -> Database:
    db = Database(f"sqlite:///{tmp_path / 'bdd.sqlite3'}")
    with db.engine.begin() as connection:
        connection.execute(text("CREATE TABLE note (id INTEGER PRIMARY KEY, body TEXT)"))
    return db


def test_the_database_file_catches_up_without_a_commit_doing_it(tmp_path):
    db = _database(tmp_path)
    try:
        db.start_background_checkpoints(interval=0.05)
        with db.engine.connect() as connection:
            # Commits no longer checkpoint at SQLite's 1,000 pages: the thread does.
            assert connection.exec_driver_sql("PRAGMA wal_autocheckpoint").scalar() == WAL_CEILING_PAGES
        for n in range(200):
            with db.unit_of_work() as session:
                session.execute(text("INSERT INTO note (body) VALUES (:body)"), {"body": f"办件 {n} " + "x" * 500})
        assert _wait_for(lambda: db.checkpointer.checkpoints >= 3)
        checkpointed_before = db.checkpointer.checkpoints
        assert _wait_for(lambda: db.checkpointer.checkpoints > checkpointed_before)
        # The main file alone, copied as a backup tool would without the -wal file, has every row.
        shutil.copy(tmp_path / "bdd.sqlite3", tmp_path / "backup.sqlite3")
        backup = sqlite3.connect(tmp_path / "backup.sqlite3")
        try:
            assert backup.execute("SELECT count(*), max(body) FROM note").fetchone() == (200, "办件 99 " + "x" * 500)
        finally:
            backup.close()
    finally:
        db.dispose()
    assert db.checkpointer is None


def test_without_the_thread_sqlite_keeps_its_own_checkpoints(tmp_path):
    """Short commands (init, load-demo, the test suite) keep SQLite's default."""
    db = _database(tmp_path)
    try:
        with db.engine.connect() as connection:
            assert connection.exec_driver_sql("PRAGMA wal_autocheckpoint").scalar() == 1000
        assert db.checkpointer is None
    finally:
        db.dispose()


def test_stopping_leaves_the_file_up_to_date(tmp_path):
    db = _database(tmp_path)
    db.start_background_checkpoints(interval=60)  # no periodic pass during the test
    with db.unit_of_work() as session:
        session.execute(text("INSERT INTO note (body) VALUES ('最后一条')"))
    thread = db.checkpointer._thread
    db.dispose()
    assert not thread.is_alive()
    shutil.copy(tmp_path / "bdd.sqlite3", tmp_path / "backup.sqlite3")
    backup = sqlite3.connect(tmp_path / "backup.sqlite3")
    try:
        assert backup.execute("SELECT body FROM note").fetchall() == [("最后一条",)]
    finally:
        backup.close()


def test_an_in_memory_database_is_left_alone():
    db = Database("sqlite://")  # in memory: no file to checkpoint into
    try:
        db.start_background_checkpoints(interval=0.05)
        assert db.checkpointer is None
    finally:
        db.dispose()
