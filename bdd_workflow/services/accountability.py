"""What a unit and a staff member answer for beyond their steps (R-5.2 监督和考核): complaints found upheld
against them (R-4.c) and problems a callback found and handed over to them (问题交办, R-10.1).

Both are counted by the database on small derived rows: complaint_finding (written by the complaint diagram's
record_complaint_finding step) and the handover cases with their open tasks. The quality page shows them per
unit and per staff member; a staff-assessment page counts with the same functions.
"""

from __future__ import annotations

from collections import defaultdict
from datetime import datetime
from typing import Any

from sqlalchemy import func, select

from ..db.models import Case, ComplaintFinding, HumanTask
from ..system import System

HANDOVER = "handover"
# The tasks of a handover that carry its deadline (processes/handover.bpmn).
HANDOVER_WORK = ("handle_problem", "handle_integrity_problem")


def complaint_findings(session, start: datetime, end: datetime, units: set[str] | None
                       ) -> tuple[dict[str, list[int]], dict[str, list[int]]]:
    """Complaints decided in [start, end): per unit complained about and per staff member complained about,
    [upheld, decided]. ``units``: the units counted (None: all); a staff member's complaints are counted where
    the complaint's unit is counted."""
    where = [ComplaintFinding.decided_at >= start, ComplaintFinding.decided_at < end]
    if units is not None:
        where.append(ComplaintFinding.unit_code.in_(sorted(units)))
    by_unit: dict[str, list[int]] = defaultdict(lambda: [0, 0])
    by_staff: dict[str, list[int]] = defaultdict(lambda: [0, 0])
    for column, into in ((ComplaintFinding.unit_code, by_unit), (ComplaintFinding.staff_username, by_staff)):
        rows = session.execute(select(column.label("who"), func.count().label("n"),
                                      func.count().filter(ComplaintFinding.upheld).label("upheld"))
                               .where(*where, column.is_not(None)).group_by(column))
        for r in rows:
            into[r.who] = [int(r.upheld or 0), int(r.n)]
    return dict(by_unit), dict(by_staff)


OPEN_STATUSES = ("running", "waiting", "suspended")


def open_follow_ups(system: System, session, process: str, units: set[str] | None, now: datetime,
                    work: tuple[str, ...] | None = None) -> list[dict[str, Any]]:
    """Cases of a follow-up procedure (rectification, handover) not yet done, per handling unit, as they stand
    now (not a figure of the period): how many are open, how many of those are overdue (one of its ``work``
    steps, or any step, past its deadline, or a deadline that has fired), and their case ids; most overdue
    units first."""
    org = system.org(session)
    open_where = [Case.process_id == process, Case.status.in_(OPEN_STATUSES),
                  *([] if units is None else [Case.unit_code.in_(sorted(units))])]
    rows = session.execute(select(Case.id, Case.unit_code, Case.breaches).where(*open_where)
                           .order_by(Case.started_at, Case.id)).all()
    # Two statements, not a correlated EXISTS: SQLite runs that one over every overdue task of the county per case.
    late_tasks = select(HumanTask.case_id).where(HumanTask.status == "ready", HumanTask.due_at < now,
                                                 HumanTask.case_id.in_(select(Case.id).where(*open_where)),
                                                 *([] if work is None else [HumanTask.name.in_(work)]))
    late = set(session.scalars(late_tasks)) if rows else set()
    per_unit: dict[str, dict[str, Any]] = {}
    for r in rows:
        unit = per_unit.setdefault(r.unit_code or "", {"unit": r.unit_code, "unit_name": org.name(r.unit_code) or "—",
                                                       "open": 0, "overdue": 0, "cases": [], "overdue_cases": []})
        unit["open"] += 1
        unit["cases"].append(r.id)
        if r.breaches or r.id in late:
            unit["overdue"] += 1
            unit["overdue_cases"].append(r.id)
    return sorted(per_unit.values(), key=lambda u: (-u["overdue"], -u["open"], u["unit"] or ""))


def open_handovers(system: System, session, now: datetime, units: set[str] | None) -> dict[str, dict[str, int]]:
    """Problems handed over and not yet dealt with, per unit they are about: open, and overdue (past the
    deadline of their handling task, or already escalated)."""
    return {u["unit"] or "": {"open": u["open"], "overdue": u["overdue"]}
            for u in open_follow_ups(system, session, HANDOVER, units, now, HANDOVER_WORK)}
