"""The database engine and the unit of work: the only place that commits."""

from __future__ import annotations

from collections.abc import Iterator
from contextlib import contextmanager

from sqlalchemy import create_engine, event
from sqlalchemy.engine import Engine
from sqlalchemy.exc import IntegrityError, OperationalError
from sqlalchemy.orm import Session, sessionmaker
from sqlalchemy.orm.exc import StaleDataError

from ..errors import Conflict
from .models import Base


def make_engine(url: str) -> Engine:
    """An engine with the settings each backend needs for several writers."""
    if url.startswith("sqlite"):
        engine = create_engine(url, connect_args={"check_same_thread": False, "timeout": 30})

        @event.listens_for(engine, "connect")
        def _sqlite_connect(dbapi_connection, _record):  # pragma: no cover - driver glue
            # Let SQLAlchemy, not pysqlite, decide when transactions begin (so BEGIN IMMEDIATE works).
            dbapi_connection.isolation_level = None
            cursor = dbapi_connection.cursor()
            cursor.execute("PRAGMA journal_mode=WAL")
            cursor.execute("PRAGMA synchronous=NORMAL")
            cursor.execute("PRAGMA foreign_keys=ON")
            cursor.execute("PRAGMA busy_timeout=30000")
            cursor.close()

        @event.listens_for(engine, "begin")
        def _sqlite_begin(conn):  # pragma: no cover - driver glue
            # A write transaction takes the write lock up front: read-then-write never deadlocks.
            conn.exec_driver_sql("BEGIN IMMEDIATE" if conn.get_execution_options().get("bdd_write") else "BEGIN")

        return engine
    return create_engine(url, pool_pre_ping=True, pool_size=10, max_overflow=10)


class Database:
    """Engine plus session factories for reading and for writing."""

    def __init__(self, url: str) -> None:
        self.url = url
        self.engine = make_engine(url)
        # Services flush where they need ids; autoflush before every query only cost time.
        self._writer = sessionmaker(bind=self.engine.execution_options(bdd_write=True), expire_on_commit=False, autoflush=False)
        self._reader = sessionmaker(bind=self.engine, expire_on_commit=False, autoflush=False)

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
            # A read ends with close(): its transaction is released and loaded objects stay readable.
        except (StaleDataError, IntegrityError):
            # A concurrent writer got there first (or a unique key was taken meanwhile).
            session.rollback()
            raise Conflict("这条记录刚刚被他人修改，请刷新后再试。") from None
        except OperationalError as exc:
            session.rollback()
            if "locked" in str(exc).lower():
                raise Conflict("数据库正忙，请稍后再试。") from None
            raise
        except BaseException:
            session.rollback()
            raise
        finally:
            session.close()

    def dispose(self) -> None:
        self.engine.dispose()
