"""What a unit and a staff member answer for beyond their steps (R-5.2 监督和考核): complaints found upheld
against them (R-4.c) and problems a callback found and handed over to them (问题交办, R-10.1).

Both are counted by the database on small derived rows: complaint_finding (written by the complaint diagram's
record_complaint_finding step) and the handover cases with their open tasks. The quality page shows them per
unit and per staff member; a staff-assessment page counts with the same functions.
"""

from __future__ import annotations

from collections import defaultdict
from datetime import datetime

from sqlalchemy import func, or_, select

from ..db.models import Case, ComplaintFinding, HumanTask

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


def open_handovers(session, now: datetime, units: set[str] | None) -> dict[str, dict[str, int]]:
    """Problems handed over and not yet dealt with, per unit they are about: open, and overdue (past the
    deadline of their task, or already escalated)."""
    late_task = Case.id.in_(select(HumanTask.case_id).where(
        HumanTask.process_id == HANDOVER, HumanTask.status == "ready", HumanTask.name.in_(HANDOVER_WORK),
        HumanTask.due_at < now))
    where = [Case.process_id == HANDOVER, Case.status != "completed", Case.status != "cancelled"]
    if units is not None:
        where.append(Case.unit_code.in_(sorted(units)))
    rows = session.execute(select(Case.unit_code, func.count().label("n"),
                                  func.count().filter(or_(Case.breaches > 0, late_task)).label("late"))
                           .where(*where).group_by(Case.unit_code))
    return {r.unit_code or "": {"open": int(r.n), "overdue": int(r.late or 0)} for r in rows}
