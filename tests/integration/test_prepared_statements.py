"""The hot path's prepared statements (db/fast.py) write and read exactly what the ORM does, inside
the unit of work's transaction, on SQLite and PostgreSQL; a driver error is still a 409."""

from __future__ import annotations

from datetime import datetime, timedelta, timezone

import pytest
from sqlalchemy import bindparam, select, update

from bdd_workflow.db.fast import Prepared, plain_rows
from bdd_workflow.db.models import AuditEvent, ElementVisit, HumanTask, LedgerEntry
from bdd_workflow.errors import Conflict

AUDIT = AuditEvent.__table__
TASK = HumanTask.__table__
INSERT_AUDIT = Prepared.insert(AUDIT, generated=["id"])
SELECT_AUDIT = Prepared(select(AUDIT).where(AUDIT.c.id == bindparam("id")))
INSERT_TASK = Prepared.insert(TASK)
TAKE_TASK = Prepared(update(TASK).where(TASK.c.id == bindparam("task_id"), TASK.c.status == "ready")
                     .values(status="completed", completed_by=bindparam("by")))
LEDGER = LedgerEntry.__table__
RETURNING = Prepared.insert(LEDGER, generated=["id"], returning=[LEDGER.c.id, LEDGER.c.at])
AT = datetime(2026, 3, 2, 1, 30, 15, 123456, tzinfo=timezone.utc)


@pytest.fixture
def case_id(desk) -> int:
    return desk.start("assist", by="gaohongxia", matter_code="GR-002")["id"]


def _task(task_id: str, case_id: int, **overrides) -> dict:
    return dict(id=task_id, case_id=case_id, process_id="assist", name="guide_materials", title="指导准备材料",
                role="assistant", unit_code="CA-MZ", form=None, instructions=None, assignee=None, status="ready",
                due_at=AT + timedelta(days=1), provisional=False, created_at=AT, claimed_at=None, completed_at=None,
                completed_by=None) | overrides


def test_a_row_written_and_read_back_keeps_its_types(system, case_id):
    """Aware UTC times, JSON with Chinese text, booleans and NULLs come back as the ORM gives them."""
    detail = {"title": "受理登记", "data": {"materials_complete": True, "items": ["身份证", "户口簿"]}}
    local = AT.astimezone(timezone(timedelta(hours=8)))
    with system.db.unit_of_work() as session:
        INSERT_AUDIT.execute(session, {"at": local, "actor": "gaohongxia", "action": "bench_check", "case_id": None,
                                       "task_id": None, "element": None, "detail": detail})
        INSERT_TASK.executemany(session, [_task("t-prepared-1", case_id), _task("t-prepared-2", case_id, provisional=True)])
    with system.db.unit_of_work(write=False) as session:
        event = session.scalars(select(AuditEvent).where(AuditEvent.action == "bench_check")).one()
        assert (event.at, event.at.tzinfo.utcoffset(event.at)) == (AT, timedelta(0))
        assert event.detail == detail and event.case_id is None
        tasks = {t.id: t for t in session.scalars(select(HumanTask).where(HumanTask.id.like("t-prepared-%")))}
        assert tasks["t-prepared-1"].provisional is False and tasks["t-prepared-2"].provisional is True
        assert tasks["t-prepared-1"].due_at == AT + timedelta(days=1)
        row = SELECT_AUDIT.first(session, {"id": event.id})
    assert row == {"id": event.id, "at": AT, "actor": "gaohongxia", "action": "bench_check", "case_id": None,
                   "task_id": None, "element": None, "detail": detail}


def test_an_update_reports_the_rows_it_changed(system, case_id):
    """The optimistic checks rest on this: the second taker of a task matches nothing."""
    with system.db.unit_of_work() as session:
        INSERT_TASK.execute(session, _task("t-prepared-take", case_id))
    with system.db.unit_of_work() as session:
        assert TAKE_TASK.execute(session, {"task_id": "t-prepared-take", "by": "gaohongxia"}) == 1
        assert TAKE_TASK.execute(session, {"task_id": "t-prepared-take", "by": "lijianhua"}) == 0
    with system.db.unit_of_work(write=False) as session:
        assert session.get(HumanTask, "t-prepared-take").completed_by == "gaohongxia"


def test_returning_gives_the_new_key(system, case_id):
    with system.db.unit_of_work() as session:
        row = RETURNING.first(session, dict(case_id=case_id, case_number="BB1", process_id="assist", unit_code="CA-MZ",
                                            matter_code="GR-002", applicant_name="王芳", step="opened", title="受理登记",
                                            actor="gaohongxia", actor_role="assistant", at=AT, data={}))
    assert row["at"] == AT
    with system.db.unit_of_work(write=False) as session:
        assert session.get(LedgerEntry, row["id"]).applicant_name == "王芳"


def test_an_error_later_in_the_unit_of_work_rolls_the_prepared_writes_back(system, case_id):
    with pytest.raises(RuntimeError):
        with system.db.unit_of_work() as session:
            INSERT_TASK.execute(session, _task("t-prepared-lost", case_id))
            raise RuntimeError("the engine failed after the inbox row was written")
    with system.db.unit_of_work(write=False) as session:
        assert session.get(HumanTask, "t-prepared-lost") is None


def test_a_taken_key_is_a_conflict_and_nothing_of_the_unit_of_work_is_kept(system, case_id):
    with system.db.unit_of_work() as session:
        INSERT_TASK.execute(session, _task("t-prepared-dup", case_id))
    with pytest.raises(Conflict):
        with system.db.unit_of_work() as session:
            INSERT_AUDIT.execute(session, {"at": AT, "actor": "x", "action": "dup_check", "case_id": None,
                                           "task_id": None, "element": None, "detail": {}})
            INSERT_TASK.execute(session, _task("t-prepared-dup", case_id))
    with system.db.unit_of_work(write=False) as session:
        assert session.scalars(select(AuditEvent).where(AuditEvent.action == "dup_check")).first() is None


def test_a_missing_value_is_refused_before_anything_is_sent(system):
    """A forgotten column must not become a silent NULL in the ledger or the heatmap."""
    visit = Prepared.insert(ElementVisit.__table__, generated=["id"])
    with system.db.unit_of_work() as session:
        with pytest.raises(KeyError, match="seconds"):
            visit.execute(session, dict(case_id=None, process_id="assist", version=1, element="guide_materials",
                                        entered_at=AT, left_at=AT))


def test_statements_it_cannot_prepare_are_refused(system):
    expanding = Prepared(select(TASK).where(TASK.c.id.in_(bindparam("ids", expanding=True))))
    with system.db.unit_of_work(write=False) as session:
        with pytest.raises(ValueError, match="expanding"):
            expanding.first(session, {"ids": ["a"]})


def test_plain_rows_are_the_rows_execute_gives_and_refuse_columns_that_convert(system, case_id):
    """The heatmap's large read: the driver's tuples equal SQLAlchemy's rows for text, integer and float
    columns, an IN list included; a datetime column (which the driver would give back unconverted) is
    refused rather than read wrong."""
    query = (select(ElementVisit.element, ElementVisit.case_id, ElementVisit.seconds)
             .where(ElementVisit.case_id.in_([case_id, case_id + 1000]), ElementVisit.process_id == "assist")
             .order_by(ElementVisit.id))
    with system.db.unit_of_work(write=False) as session:
        expected = [tuple(row) for row in session.execute(query)]
        rows = plain_rows(session, query)
        assert expected and rows == expected and all(type(row) is tuple for row in rows)
        assert {type(seconds) for _, _, seconds in rows} == {float}
        with pytest.raises(ValueError, match="left_at"):
            plain_rows(session, select(ElementVisit.element, ElementVisit.left_at))
