"""What a step writes to the case row, and which connection a request gets: the two things that
decide how many pages a task completion writes and reads on SQLite (bench/task_cycle.py)."""

from __future__ import annotations

import re

import pytest
from sqlalchemy import event, select

from bdd_workflow.db.models import Case
from bdd_workflow.db.unit_of_work import Database
from bdd_workflow.errors import Conflict
from bdd_workflow.services.cases import load_case, save_case


def _case_updates(system) -> list[str]:
    """Every UPDATE of the case table the driver runs from now on (SQLite's trace callback)."""
    seen: list[str] = []
    system.db.engine.dispose()

    @event.listens_for(system.db.engine, "connect")
    def _trace(dbapi_connection, _record):
        dbapi_connection.set_trace_callback(
            lambda sql: seen.append(sql) if sql.lstrip().upper().startswith('UPDATE "CASE"') else None)

    return seen


def _set_columns(sql: str) -> set[str]:
    sql = re.sub(r"'(?:[^']|'')*'", "?", sql)  # the trace shows values: take string literals out first
    assignments = sql.split(" SET ", 1)[1].split(" WHERE ", 1)[0]
    return {part.split("=", 1)[0].strip() for part in assignments.split(",")}


@pytest.mark.parametrize("system", ["sqlite"], indirect=True)
def test_an_ordinary_step_writes_only_the_columns_it_changed(system, desk):
    """An assist step that leaves the case running names neither its number, unit nor
    matter in the UPDATE, so SQLite leaves those indexes' pages alone; the step that ends the case
    writes its status and completion time. (SQLite's trace callback shows the statements.)"""
    case = desk.start("assist", "gaohongxia", matter_code="GR-002")
    updates = _case_updates(system)
    desk.do(case["id"], "guide_materials", {"guidance": "请按告知单准备材料。", "materials_complete": True})
    assert [_set_columns(sql) for sql in updates] == [{"lock_version", "state_json", "updated_at"}]

    updates.clear()
    desk.do(case["id"], "accompany_submission", {"submitted": True, "approval_department": "成安县民政局",
                                                 "submission_date": "2025-10-10"})
    desk.do(case["id"], "track_approval", {"tracking_notes": "审核中", "applicant_informed": True,
                                           "approval_result": "准予"})
    desk.do(case["id"], "hand_over_results", {"handed_over_documents": ["审批决定书"], "all_handed_over": True})
    # The last step also starts the callback case, whose row is written too: take this case's.
    own = [sql for sql in updates if re.search(rf'WHERE "case"\.id = {case["id"]} ', sql)]
    last = _set_columns(own[-1])
    assert {"status", "completed_at", "state_json", "lock_version"} <= last
    assert "number" not in last and "matter_code" not in last
    assert desk.case(case["id"])["status"] == "completed"


def test_a_value_changed_and_changed_back_is_written_both_times(system, desk):
    case_id = desk.start("assist", "gaohongxia", matter_code="GR-002")["id"]
    with system.db.unit_of_work() as session:
        case = load_case(session, case_id)
        version = case.lock_version
        case.status = "waiting"
        save_case(session, case)
        case.status = "running"
        save_case(session, case)
        case.unit_code = "CA-JZ"
        save_case(session, case)
    with system.db.unit_of_work(write=False) as session:
        row = session.scalars(select(Case).where(Case.id == case_id)).one()
        assert (row.status, row.unit_code, row.lock_version) == ("running", "CA-JZ", version + 3)


def test_a_save_over_a_newer_version_is_a_conflict_and_changes_nothing(system, desk):
    """Writing fewer columns keeps the optimistic lock: a record read before another writer's
    change cannot overwrite it, even when it changed a column the other writer did not touch."""
    case_id = desk.start("assist", "gaohongxia", matter_code="GR-002")["id"]
    with system.db.unit_of_work() as session:
        stale = load_case(session, case_id)
    with system.db.unit_of_work() as session:
        fresh = load_case(session, case_id)
        fresh.status = "waiting"
        save_case(session, fresh)
    stale.unit_code = "CA-JZ"
    with pytest.raises(Conflict):
        with system.db.unit_of_work() as session:
            save_case(session, stale)
    with system.db.unit_of_work(write=False) as session:
        row = session.scalars(select(Case).where(Case.id == case_id)).one()
        assert (row.status, row.unit_code, row.lock_version) == ("waiting", fresh.unit_code, fresh.lock_version)


def test_a_file_database_hands_out_the_connection_returned_last(tmp_path):
    """Its page cache is the one still valid after its own commit; round-robin made every request
    read back the pages the previous one had written."""
    db = Database(f"sqlite:///{tmp_path / 'bdd.sqlite3'}")
    try:
        first, second = db.engine.connect(), db.engine.connect()
        returned_last = second.connection.dbapi_connection
        first.close()
        second.close()
        with db.unit_of_work() as session:
            assert session.connection().connection.dbapi_connection is returned_last
    finally:
        db.dispose()
