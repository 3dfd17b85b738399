"""The quality dashboard reads indexes, not the rows (R-4.e, and the speed of issue 5): the plans SQLite
chooses for its most delicate statements."""

from __future__ import annotations

from datetime import datetime, timezone

import pytest
from sqlalchemy import func, select

from bdd_workflow.db.models import Case, HumanTask, LedgerEntry
from bdd_workflow.services.metrics import ledger_incomplete

# Query plans are SQLite's: these run on SQLite only (the system fixture's other backend is not asked for).
pytestmark = pytest.mark.parametrize("system", ["sqlite"], indirect=True)

START, END = datetime(2025, 11, 1, tzinfo=timezone.utc), datetime(2025, 12, 1, tzinfo=timezone.utc)


def plan(system, statement) -> str:
    compiled = statement.compile(system.db.engine, compile_kwargs={"literal_binds": False})
    with system.db.engine.connect() as connection:
        rows = connection.exec_driver_sql("EXPLAIN QUERY PLAN " + str(compiled),
                                          tuple(compiled.construct_params()[k] for k in compiled.positiontup))
        return "\n".join(row[-1] for row in rows)


def test_incomplete_ledger_entries_are_counted_on_their_partial_index(system):
    """services.metrics.ledger_incomplete() must stay the partial index's very condition (models.py)."""
    statement = select(func.count()).select_from(LedgerEntry).where(
        LedgerEntry.at >= START, LedgerEntry.at < END, ledger_incomplete())
    assert "ix_ledger_incomplete" in plan(system, statement)


def test_the_overdue_filter_reads_the_task_index_only(system):
    statement = select(func.count(Case.id)).where(Case.id.in_(
        select(HumanTask.case_id).where(HumanTask.status == "ready", HumanTask.due_at < END)))
    assert "COVERING INDEX ix_task_status_due" in plan(system, statement)


def test_the_provisional_counts_read_their_partial_indexes(system):
    """The calendar warning counts provisional deadlines (R-4.a) from partial indexes that completing a
    task never touches (only provisional rows are in them)."""
    tasks = select(func.count()).select_from(HumanTask).where(HumanTask.provisional, HumanTask.status == "ready")
    cases = select(func.count()).select_from(Case).where(Case.provisional, Case.status.in_(("running", "waiting")))
    assert "ix_task_provisional" in plan(system, tasks)
    literal = str(cases.compile(system.db.engine, compile_kwargs={"literal_binds": True}))  # IN (...)
    with system.db.engine.connect() as connection:
        case_plan = "\n".join(row[-1] for row in connection.exec_driver_sql("EXPLAIN QUERY PLAN " + literal))
    assert "ix_case_provisional" in case_plan


def test_r_4_a_compares_the_promised_deadline_on_the_completed_index(system):
    """R-4.a counts completed service cases against their own promised deadline (case.due_at) and leaves out the
    applicant's closures (case.closure) reading ix_case_completed alone: no case row with its workflow state."""
    from bdd_workflow.services.metrics import counted_service, on_time
    from bdd_workflow.services.cases import SERVICE_PROCESSES

    statement = select(func.count()).select_from(Case).where(
        Case.status == "completed", Case.completed_at >= START, Case.completed_at < END,
        Case.process_id.in_(SERVICE_PROCESSES), counted_service(), on_time())
    literal = str(statement.compile(system.db.engine, compile_kwargs={"literal_binds": True}))  # IN (...)
    with system.db.engine.connect() as connection:
        found = "\n".join(row[-1] for row in connection.exec_driver_sql("EXPLAIN QUERY PLAN " + literal))
    assert "COVERING INDEX ix_case_completed" in found
