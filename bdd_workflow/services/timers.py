"""Firing due timers: the pending-timer table says what is due; the engine fires; rows follow."""

from __future__ import annotations

from collections import defaultdict
from datetime import datetime

from sqlalchemy import select

from ..db.models import PendingTimer
from ..system import System
from .cases import load_case, sync
from .identity import SYSTEM


def due_timers(system: System, now: datetime | None = None, limit: int = 1000) -> dict[int, list[str]]:
    """Case id -> ids of its timers due by ``now``, oldest first."""
    now = now or system.clock.now()
    with system.db.unit_of_work(write=False) as session:
        rows = session.execute(select(PendingTimer.case_id, PendingTimer.id).where(PendingTimer.due_at <= now)
                               .order_by(PendingTimer.due_at).limit(limit)).all()
    grouped: dict[int, list[str]] = defaultdict(list)
    for case_id, timer_id in rows:
        grouped[case_id].append(timer_id)
    return dict(grouped)


def fire_case_timers(system: System, case_id: int, timer_ids: list[str] | None = None) -> int:
    """Fire the given (or all due) timers of one case in one unit of work; returns how many fired."""
    now = system.clock.now()
    with system.db.unit_of_work() as session:
        case = load_case(session, case_id)
        if case is None or case.status in ("completed", "cancelled"):
            return 0
        query = select(PendingTimer.id).where(PendingTimer.case_id == case_id, PendingTimer.due_at <= now)
        due = set(session.scalars(query))
        ids = [t for t in (timer_ids or list(due)) if t in due]
        if not ids:
            return 0
        spec, subprocess_specs = system.spec_for(session, case.definition_id)
        workflow = system.serializer.load_state(case.state_json, spec, subprocess_specs)
        result = system.runner.fire(workflow, ids, system.run_context(session))
        sync(system, session, case, result, SYSTEM, now)
        return len(result.fired)


def fire_due_timers(system: System, now: datetime | None = None) -> int:
    """Fire everything due; each case in its own unit of work, so one bad case stops no other."""
    fired = 0
    for case_id, ids in due_timers(system, now).items():
        fired += fire_case_timers(system, case_id, ids)
    return fired
