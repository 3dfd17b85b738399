"""Firing due timers. The pending-timer table is the truth about what is due; the engine fires;
the derived rows follow in the same unit of work. Safe to run from several processes at once."""

from __future__ import annotations

from collections import defaultdict
from datetime import datetime

from sqlalchemy import bindparam, delete, func, select

from ..db.models import Case, PendingTimer
from ..errors import Conflict, DatabaseBusy
from ..system import System
from .cases import load_case, sync
from .identity import SYSTEM

TIMER = PendingTimer.__table__
# case_admin: timers of suspended cases do not fire (nor count as due) until the case is resumed.
_NOT_SUSPENDED = TIMER.c.case_id.not_in(select(Case.__table__.c.id).where(Case.__table__.c.status == "suspended"))
_DUE = (select(TIMER.c.case_id, TIMER.c.id).where(TIMER.c.due_at <= bindparam("now"), _NOT_SUSPENDED)
        .order_by(TIMER.c.due_at, TIMER.c.id).limit(bindparam("limit")))
_CASE_DUE = select(TIMER.c.id).where(TIMER.c.case_id == bindparam("case_id"), TIMER.c.due_at <= bindparam("now"))
_NEXT_DUE = select(func.min(TIMER.c.due_at)).where(_NOT_SUSPENDED)
_DELETE = delete(TIMER).where(TIMER.c.id.in_(bindparam("ids", expanding=True)))


def due_timers(system: System, now: datetime | None = None, limit: int = 500) -> dict[int, list[str]]:
    """Case id -> ids of its timers due by ``now``; cases in the order their first timer fell due."""
    now = now or system.clock.now()
    with system.db.unit_of_work(write=False) as session:
        rows = session.execute(_DUE, {"now": now, "limit": limit}).all()
    grouped: dict[int, list[str]] = defaultdict(list)
    for case_id, timer_id in rows:
        grouped[case_id].append(timer_id)
    return dict(grouped)


def provisional_counts(system: System) -> dict[str, int]:
    """Open cases and ready tasks whose deadlines lie past the known holiday calendar."""
    from sqlalchemy.exc import SQLAlchemyError

    from ..db.models import Case, HumanTask

    try:
        with system.db.unit_of_work(write=False) as session:
            cases = session.scalar(select(func.count()).select_from(Case).where(
                Case.provisional, Case.status.in_(("running", "waiting"))))
            tasks = session.scalar(select(func.count()).select_from(HumanTask).where(
                HumanTask.provisional, HumanTask.status == "ready"))
    except SQLAlchemyError:
        return {"cases": 0, "tasks": 0}  # no database yet (bdd check before bdd init)
    return {"cases": cases or 0, "tasks": tasks or 0}


def next_due_at(system: System) -> datetime | None:
    """When the earliest pending timer falls due (None when nothing waits)."""
    with system.db.unit_of_work(write=False) as session:
        return session.scalar(_NEXT_DUE)


def fire_case_timers(system: System, case_id: int, timer_ids: list[str] | None = None) -> int:
    """Fire the due timers of one case in one unit of work; how many fired (0 if another worker had it).

    Twice-safe: the case row is locked (PostgreSQL: FOR UPDATE SKIP LOCKED, so a second scheduler
    moves on; SQLite: the write transaction itself), the due set is read inside the lock, and a
    timer already fired is no longer pending. A case completed or cancelled meanwhile does nothing.
    """
    now = system.clock.now()
    try:
        with system.db.unit_of_work() as session:
            case = load_case(session, case_id, skip_locked=not system.db.is_sqlite)
            if case is None or case.status in ("completed", "cancelled", "suspended"):  # case_admin: suspended
                return 0
            due = set(session.scalars(_CASE_DUE, {"case_id": case_id, "now": now}))
            ids = [t for t in (timer_ids or sorted(due)) if t in due]
            if not ids:
                return 0
            spec, subprocess_specs = system.spec_for(session, case.definition_id)
            workflow = system.serializer.load_state(case.state_json, spec, subprocess_specs)
            result = system.runner.fire(workflow, ids, system.run_context(session))
            sync(system, session, case, result, SYSTEM, now)
            # A row whose timer the workflow no longer waits on is stale: drop it, or it is due forever.
            stale = set(ids) - {t.id for t in result.timers} - {t.id for t in result.fired}
            if stale:
                session.execute(_DELETE, {"ids": sorted(stale)})
            return len(result.fired)
    except (Conflict, DatabaseBusy):
        return 0  # someone completed a task of this case at the same moment, or held the lock: the next tick retries


def fire_due_timers(system: System, now: datetime | None = None, batch: int = 500) -> int:
    """Fire everything due, oldest first; each case in its own unit of work, so one case's
    failure stops no other. Returns how many timers fired."""
    fired = 0
    while True:
        due = due_timers(system, now, limit=batch)
        if not due:
            return fired
        progressed = 0
        for case_id, ids in due.items():
            count = fire_case_timers(system, case_id, ids)
            fired += count
            progressed += count
        if progressed == 0 or len(due) < batch:
            return fired


def calendar_status(system: System) -> dict:
    """What supervisors and administrators need to know about the holiday calendar."""
    last = system.calendar.last_known_year()
    year = system.clock.now().astimezone(system.calendar.tz).year
    counts = provisional_counts(system)
    return {
        "timezone": system.settings.timezone, "workday_end": system.settings.workday_end,
        "last_known_year": last, "next_year_known": year + 1 <= last,
        "provisional_cases": counts["cases"], "provisional_tasks": counts["tasks"],
    }
