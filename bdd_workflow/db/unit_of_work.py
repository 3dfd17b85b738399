"""The database engine and the unit of work: the only place that commits."""

from __future__ import annotations

import logging
import sqlite3
import threading
from collections.abc import Callable, Iterator
from contextlib import contextmanager

from sqlalchemy import create_engine, event
from sqlalchemy.engine import Engine, make_url
from sqlalchemy.exc import DBAPIError, IntegrityError, OperationalError
from sqlalchemy.orm import Session, sessionmaker
from sqlalchemy.orm.exc import StaleDataError

from ..errors import Conflict, DatabaseBusy, StorageUnavailable
from .models import Base

log = logging.getLogger(__name__)
# What SQLite and PostgreSQL say when the storage, not the request, is the trouble: a full disk
# (SQLITE_FULL, 53100 disk_full), a read-only file or database (SQLITE_READONLY, 25006), a failing device.
STORAGE_MESSAGES = ("database or disk is full", "readonly database", "read-only", "disk i/o error",
                    "no space left on device")
STORAGE_SQLSTATES = {"53100", "25006", "53000"}


def storage_failure(exc: Exception) -> bool:
    orig = getattr(exc, "orig", exc)
    return (getattr(orig, "sqlstate", None) in STORAGE_SQLSTATES
            or any(m in str(orig).lower() for m in STORAGE_MESSAGES))
# With the background checkpointer running, a commit checkpoints by itself only past this many log
# pages (~80 MB): a ceiling should the thread stall, not the normal path.
WAL_CEILING_PAGES = 20000


def sqlite_file(url: str) -> str | None:
    """The path of a SQLite database kept in a file; None for another database or one in memory."""
    parsed = make_url(url)
    database = parsed.database
    if parsed.get_backend_name() != "sqlite" or not database or database == ":memory:" or "mode=memory" in url:
        return None
    return database


def make_engine(url: str, busy_seconds: float = 5) -> Engine:
    """An engine with the settings each backend needs for several writers. On SQLite a write waits at
    most ``busy_seconds`` for another writer's lock (BDD_DB_BUSY_SECONDS), then fails as busy."""
    if url.startswith("sqlite"):
        # A file database is pooled (QueuePool); hand out the connection returned last. Its page
        # cache is still valid: it made the last commit. Round-robin over the pool made each
        # request read back every page another connection had changed since (~70 preads a task
        # completion; server CPU per completion fell by a tenth without them).
        pooled = {"pool_use_lifo": True} if sqlite_file(url) else {}
        engine = create_engine(url, connect_args={"check_same_thread": False, "timeout": busy_seconds}, **pooled)

        @event.listens_for(engine, "connect")
        def _sqlite_connect(dbapi_connection, _record):  # pragma: no cover - driver glue
            # Let SQLAlchemy, not pysqlite, decide when transactions begin (so BEGIN IMMEDIATE works).
            dbapi_connection.isolation_level = None
            cursor = dbapi_connection.cursor()
            cursor.execute("PRAGMA journal_mode=WAL")
            cursor.execute("PRAGMA synchronous=NORMAL")
            cursor.execute("PRAGMA foreign_keys=ON")
            cursor.execute(f"PRAGMA busy_timeout={int(busy_seconds * 1000)}")
            if getattr(engine, "bdd_background_checkpoints", False):
                cursor.execute(f"PRAGMA wal_autocheckpoint={WAL_CEILING_PAGES}")
            cursor.close()

        @event.listens_for(engine, "begin")
        def _sqlite_begin(conn):  # pragma: no cover - driver glue
            # A write transaction takes the write lock up front: read-then-write never deadlocks.
            # Sent on the driver's connection (it starts every unit of work: no execution machinery),
            # with a driver error wrapped as SQLAlchemy would, so a busy database is still a 409.
            statement = "BEGIN IMMEDIATE" if conn.get_execution_options().get("bdd_write") else "BEGIN"
            try:
                conn.connection.dbapi_connection.execute(statement)
            except sqlite3.Error as exc:
                raise DBAPIError.instance(statement, (), exc, sqlite3.Error, dialect=conn.dialect) from exc

        return engine
    return create_engine(url, pool_pre_ping=True, pool_size=10, max_overflow=10)


class WalCheckpointer:
    """Copies SQLite's write-ahead log back into the database file on a thread of its own.

    Left to itself, SQLite checkpoints inside whichever commit takes the log past 1,000 pages: every
    25th or so task completion then copied a few thousand pages and waited for fsync, which cost
    0.28 ms per completion on average and far more at the tail. Here a daemon thread runs a PASSIVE
    checkpoint (it never blocks readers or writers) every ``interval`` seconds on a connection of its
    own; pysqlite releases the GIL meanwhile, so requests go on. A log page written many times
    between two checkpoints is copied once.
    """

    def __init__(self, path: str, interval: float) -> None:
        self.path, self.interval = path, interval
        self._stop = threading.Event()
        self._thread = threading.Thread(target=self._run, name="sqlite-wal-checkpointer", daemon=True)
        self.checkpoints = 0

    def start(self) -> None:
        self._thread.start()

    def stop(self) -> None:
        self._stop.set()
        if self._thread.is_alive():
            self._thread.join(timeout=10)

    def checkpoint(self, connection: sqlite3.Connection) -> tuple[int, int, int]:
        """(busy, log pages, pages checkpointed), as SQLite reports them."""
        busy, pages, done = connection.execute("PRAGMA wal_checkpoint(PASSIVE)").fetchone()
        self.checkpoints += 1
        return busy, pages, done

    def _run(self) -> None:
        connection = sqlite3.connect(self.path, timeout=30, isolation_level=None, check_same_thread=False)
        try:
            # Keep the log file from staying at its high-water mark once it has been reset.
            connection.execute("PRAGMA journal_size_limit=67108864")
            while not self._stop.wait(self.interval):
                try:
                    self.checkpoint(connection)
                except sqlite3.Error as exc:  # a busy or missing file: try again next time
                    log.warning("WAL checkpoint failed: %s", exc)
            self.checkpoint(connection)  # leave the file up to date on a clean shutdown
        except sqlite3.Error as exc:
            log.warning("WAL checkpointer stopped: %s", exc)
        finally:
            connection.close()


class Database:
    """Engine plus session factories for reading and for writing."""

    def __init__(self, url: str, busy_seconds: float = 5) -> None:
        self.url = url
        self.busy_seconds = busy_seconds
        self.engine = make_engine(url, busy_seconds)
        # Services flush where they need ids; autoflush before every query only cost time.
        self._writer = sessionmaker(bind=self.engine.execution_options(bdd_write=True), expire_on_commit=False, autoflush=False)
        self._reader = sessionmaker(bind=self.engine, expire_on_commit=False, autoflush=False)
        # Called after every committed write: what this process keeps derived from the rows drops it.
        self.after_write: list[Callable[[], None]] = []
        self.checkpointer: WalCheckpointer | None = None

    @property
    def is_sqlite(self) -> bool:
        return self.engine.dialect.name == "sqlite"

    def create_all(self) -> None:
        Base.metadata.create_all(self.engine)

    def drop_all(self) -> None:
        Base.metadata.drop_all(self.engine)

    @contextmanager
    def unit_of_work(self, write: bool = True) -> Iterator[Session]:
        """One use case, one transaction: commit at the end, roll back on any error."""
        session = (self._writer if write else self._reader)()
        try:
            yield session
            if write:
                session.commit()
                for hook in self.after_write:
                    hook()
            # A read ends with close(): its transaction is released and loaded objects stay readable.
        except (StaleDataError, IntegrityError):
            # A concurrent writer got there first (or a unique key was taken meanwhile).
            session.rollback()
            raise Conflict("这条记录刚刚被他人修改，请刷新后再试。") from None
        except DBAPIError as exc:
            session.rollback()
            if storage_failure(exc):
                log.error("storage unavailable: %s", getattr(exc, "orig", exc))
                raise StorageUnavailable() from None
            if not isinstance(exc, OperationalError):
                raise
            if "locked" in str(exc).lower() or "busy" in str(exc).lower():
                # Another writer held SQLite's lock past the bounded wait: nothing was written; say when to retry.
                raise DatabaseBusy(max(1, round(self.busy_seconds))) from None
            raise
        except BaseException:
            session.rollback()
            raise
        finally:
            session.close()

    def start_background_checkpoints(self, interval: float = 0.5) -> None:
        """SQLite in WAL mode: checkpoint on a background thread instead of inside commits (a
        long-running server calls this; short commands need not). No-op for other databases and for
        an interval of 0 (BDD_SQLITE_CHECKPOINT_SECONDS=0: commits checkpoint, SQLite's default)."""
        path = sqlite_file(self.url)
        if interval <= 0 or path is None or self.checkpointer is not None:
            return
        self.engine.bdd_background_checkpoints = True
        self.engine.dispose()  # pooled connections reopen with the checkpoint ceiling
        self.checkpointer = WalCheckpointer(path, interval)
        self.checkpointer.start()

    def dispose(self) -> None:
        if self.checkpointer is not None:
            self.checkpointer.stop()
            self.checkpointer = None
        self.engine.dispose()
