"""Prepared statements for the hot path: a Core statement compiled once per dialect and run on the
DBAPI cursor of the unit of work's own connection, inside its transaction.

A task completion is a handful of small statements (read the task and its case, take the task,
audit, ledger, inbox rows, element visits, save the case). Through ``Connection.execute`` each one
paid about 40 µs of SQLAlchemy machinery (cache key, execution context, result proxy, events),
more than SQLite's own work. Here the statement is still written with SQLAlchemy Core, compiled by
SQLAlchemy for the dialect in use, and its parameters and results still pass through the column
types' own processors (``UTCDateTime``, JSON, Boolean), so SQLite and PostgreSQL behave exactly as
through ``execute``. What is skipped is the per-call bookkeeping. Driver errors are wrapped into
SQLAlchemy's exceptions, so the unit of work turns a lock or a taken key into a 409 as before.

Not for everything: no expanding (``IN``) parameters, no Python-side column defaults, no ORM. Engine
events such as ``before_cursor_execute`` and ``echo`` do not see these statements.
"""

from __future__ import annotations

from collections.abc import Iterable, Mapping, Sequence
from typing import Any

from sqlalchemy import insert
from sqlalchemy.engine import Connection, Dialect
from sqlalchemy.exc import DBAPIError
from sqlalchemy.orm import Session
from sqlalchemy.sql import ClauseElement

_REQUIRED = object()


class _Plan:
    """One statement compiled for one dialect: its SQL, how to build its parameters, how to read rows."""

    __slots__ = ("sql", "positional", "binds", "columns", "results")

    def __init__(self, statement: ClauseElement, dialect: Dialect, keys: Sequence[str] | None) -> None:
        compiled = statement.compile(dialect=dialect, column_keys=list(keys) if keys is not None else None)
        if getattr(compiled, "insert_prefetch", None) or getattr(compiled, "update_prefetch", None):
            raise ValueError("a prepared statement must be given every column it writes (no Python-side defaults)")
        by_name = {}
        for bind, name in compiled.bind_names.items():
            if bind.expanding:
                raise ValueError("a prepared statement cannot take expanding (IN) parameters")
            default = _REQUIRED if bind.required else bind.effective_value
            by_name[name] = (bind.key, name, default, bind.type.dialect_impl(dialect).bind_processor(dialect))
        self.sql = compiled.string
        self.positional = compiled.positional
        order = compiled.positiontup if compiled.positional else list(by_name)
        self.binds = tuple(by_name[name] for name in order)
        returned = list(statement.exported_columns)  # a select's columns, or what a DML statement returns
        self.columns = tuple(column.key for column in returned)
        self.results = tuple(column.type.dialect_impl(dialect).result_processor(dialect, None) for column in returned)

    def parameters(self, given: Mapping[str, Any]) -> tuple | dict:
        values = []
        for key, name, default, process in self.binds:
            if key in given:
                value = given[key]
            elif name in given:
                value = given[name]
            elif default is _REQUIRED:
                raise KeyError(f"missing value for parameter {key!r}")
            else:
                value = default
            values.append(process(value) if process is not None else value)
        if self.positional:
            return tuple(values)
        return {name: value for (_key, name, _default, _process), value in zip(self.binds, values)}

    def row(self, raw: Sequence[Any]) -> dict[str, Any]:
        return {name: (process(value) if process is not None else value)
                for name, process, value in zip(self.columns, self.results, raw)}


class Prepared:
    """A Core statement to run many times on the hot path (see the module's note).

    ``keys`` names the columns an ``insert()`` is given, when it is not given all of them (an
    autoincrement key, say).
    """

    def __init__(self, statement: ClauseElement, keys: Iterable[str] | None = None) -> None:
        self.statement = statement
        self.keys = tuple(keys) if keys is not None else None
        self._plans: dict[str, _Plan] = {}

    @classmethod
    def insert(cls, table, generated: Iterable[str] = (), returning: Sequence = ()) -> "Prepared":
        """``INSERT`` of every column of ``table`` but the ``generated`` ones (an autoincrement key),
        answering with the ``returning`` columns (read with ``first``)."""
        skip = set(generated)
        statement = insert(table).returning(*returning) if returning else insert(table)
        return cls(statement, keys=[column.name for column in table.c if column.name not in skip])

    def _plan(self, dialect: Dialect) -> _Plan:
        plan = self._plans.get(dialect.name)
        if plan is None:
            plan = self._plans[dialect.name] = _Plan(self.statement, dialect, self.keys)
        return plan

    def execute(self, connection: Connection | Session, params: Mapping[str, Any]) -> int:
        """Run it once; the number of rows it changed."""
        connection = _connection(connection)
        plan = self._plan(connection.dialect)
        args = plan.parameters(params)
        with _wrapped(connection, plan.sql, args) as cursor:
            cursor.execute(plan.sql, args)
            return cursor.rowcount

    def executemany(self, connection: Connection | Session, rows: Sequence[Mapping[str, Any]]) -> None:
        if not rows:
            return
        connection = _connection(connection)
        plan = self._plan(connection.dialect)
        args = [plan.parameters(row) for row in rows]
        with _wrapped(connection, plan.sql, args) as cursor:
            cursor.executemany(plan.sql, args)

    def first(self, connection: Connection | Session, params: Mapping[str, Any]) -> dict[str, Any] | None:
        """The first row (of a select, or of what ``returning()`` names), as a dict by column key, or None."""
        connection = _connection(connection)
        plan = self._plan(connection.dialect)
        args = plan.parameters(params)
        with _wrapped(connection, plan.sql, args) as cursor:
            cursor.execute(plan.sql, args)
            raw = cursor.fetchone()
        return plan.row(raw) if raw is not None else None


def _connection(connection: Connection | Session) -> Connection:
    return connection.connection() if isinstance(connection, Session) else connection


class _wrapped:
    """A DBAPI cursor on the connection's current transaction; driver errors become SQLAlchemy's."""

    __slots__ = ("connection", "sql", "args", "cursor")

    def __init__(self, connection: Connection, sql: str, args: Any) -> None:
        self.connection, self.sql, self.args = connection, sql, args

    def __enter__(self):
        self.cursor = self.connection.connection.dbapi_connection.cursor()
        return self.cursor

    def __exit__(self, kind, error, _traceback) -> bool:
        self.cursor.close()
        dbapi = self.connection.dialect.loaded_dbapi
        if error is not None and isinstance(error, dbapi.Error):
            raise DBAPIError.instance(self.sql, self.args, error, dbapi.Error,
                                      dialect=self.connection.dialect) from error
        return False


def plain_rows(connection: Connection | Session, statement) -> list[tuple]:
    """Every row of a select as the driver's own tuples: for a large read (the heatmap's year of
    passages, 150,000 rows) whose columns need no conversion (text, integers, floats), where building
    SQLAlchemy's Row objects took longer than SQLite's own work. A column whose type converts its
    values (a datetime, JSON, a Decimal) is refused: read that through ``execute``."""
    connection = _connection(connection)
    dialect = connection.dialect
    result = connection.execute(statement)
    try:
        # As SQLAlchemy decides it: by the column's type and the type the driver reports.
        for column, described in zip(statement.selected_columns, result.cursor.description):
            if column.type.dialect_impl(dialect).result_processor(dialect, described[1]) is not None:
                raise ValueError(f"column {column.key!r} converts its values: read it through execute()")
        return result.cursor.fetchall()
    finally:
        result.close()
