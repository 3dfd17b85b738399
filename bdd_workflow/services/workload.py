"""Work piling up in the units a chief officer directs: peak alerts (R-7.1.1 高峰应急) and the tasks nobody
of their role can take (待改派: R-9.1.1.2, R-6.4.1, R-6.1).

Both are read from the task rows, never stored: an alert clears by itself as soon as the figures drop below
the unit's thresholds, and a task leaves the to-reassign list as soon as someone can take it. The inbox's copy
is kept per process until its next write, or NOTICE_TTL_SECONDS when another process wrote.
The figures are two index-only queries: open tasks per role and unit (``ix_task_group``) and overdue tasks
per unit (``ix_task_unit_due``, reading only the overdue entries); the staff table is small and read whole. Who may work a task in which unit is asked of
services.access, the one access rule.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime
from typing import Any

from sqlalchemy import and_, func, or_, select

from ..db.models import Case, HumanTask, OrgUnit, Staff, StaffChange
from ..roles import ROLE_TITLES, ROLES, TASK_ROLES
from ..system import System
from . import access
from .identity import SUPERVISING_ROLES, Actor, require_role

TASK = HumanTask.__table__
# The to-reassign page lists at most this many tasks (its total says how many there are).
TO_REASSIGN_LIMIT = 500


@dataclass(frozen=True)
class Person:
    username: str
    name: str
    role: str
    unit: str | None
    active: bool


def thresholds(system: System, unit: OrgUnit | None) -> tuple[int, int]:
    """(open tasks per active staff member, overdue tasks) at which ``unit`` is alerted: its own, else the defaults."""
    settings = system.settings
    load = unit.peak_load if unit is not None and unit.peak_load else settings.peak_load
    overdue = unit.peak_overdue if unit is not None and unit.peak_overdue else settings.peak_overdue
    return load, overdue


def _people(session) -> list[Person]:
    rows = session.execute(select(Staff.username, Staff.name, Staff.role, Staff.active, OrgUnit.code)
                           .outerjoin(OrgUnit, OrgUnit.id == Staff.unit_id).order_by(OrgUnit.path, Staff.id)).all()
    return [Person(r.username, r.name, r.role, r.code, bool(r.active)) for r in rows]


def _reaches(system: System, session, people: list[Person]) -> dict[str, set[str] | None]:
    """Each active staff member of a task role -> the units where they may work tasks of their role (access.reach)."""
    return {p.username: access.reach(system, session, Actor(p.username, p.name, p.role, p.unit))
            for p in people if p.active and p.role in TASK_ROLES}


def _workable(people: list[Person], reaches: dict[str, set[str] | None]) -> dict[str, set[str] | None]:
    """Role -> the units where at least one active staff member may work its tasks (None: every unit)."""
    out: dict[str, set[str] | None] = {}
    for p in people:
        if p.username not in reaches:
            continue
        reach = reaches[p.username]
        if p.role in out and out[p.role] is None:
            continue
        out[p.role] = None if reach is None else (out.get(p.role) or set()) | reach
    return out


def _takeable(workable: dict[str, set[str] | None], role: str | None, unit: str | None) -> bool:
    if role not in workable:
        return False
    units = workable[role]
    return units is None or unit in units


def _unstaffed(grouped, workable: dict[str, set[str] | None]) -> set[tuple[str, str | None]]:
    """The (role, unit) pairs with open tasks that no active staff member may work. A task without a role is
    a diagram's problem, not a staffing one, and is left out."""
    return {(role, unit) for role, unit, _n in grouped if role and not _takeable(workable, role, unit)}


def _grouped(session, units: set[str] | None):
    """Open tasks per (role, unit) in ``units``: index-only on ix_task_group, in index order. For some units
    (a township's), naming every role (a deployed user task always has one: its lane) lets SQLite seek each
    (role, unit) range instead of reading every open task of the county; for the whole county a plain scan
    of the index is the cheaper plan."""
    where = [TASK.c.status == "ready"]
    if units is not None:
        where += [TASK.c.role.in_(ROLES), TASK.c.unit_code.in_(sorted(units))]
    return session.execute(select(TASK.c.role, TASK.c.unit_code, func.count())
                           .where(*where).group_by(TASK.c.role, TASK.c.unit_code)).all()


def _overdue(system: System, session, units: set[str] | None, now: datetime) -> dict[str, int]:
    """Overdue open tasks per unit: one range of ix_task_unit_due (status, unit_code, due_at) per unit, so
    only the overdue entries are read (a CASE over every open task cost a third more than counting them)."""
    codes = sorted(units if units is not None else system.org(session).by_code)
    if not codes:
        return {}
    return dict(session.execute(select(TASK.c.unit_code, func.count())
                                .where(TASK.c.status == "ready", TASK.c.unit_code.in_(codes), TASK.c.due_at < now)
                                .group_by(TASK.c.unit_code)).all())


def _alerts(system: System, session, units: set[str] | None, now: datetime, people: list[Person],
            grouped) -> list[dict[str, Any]]:
    org = system.org(session)
    per_unit: dict[str, list[int]] = {}
    for _role, unit, n_open in grouped:
        if unit is not None:
            per_unit.setdefault(unit, [0, 0])[0] += n_open
    for unit, n_overdue in _overdue(system, session, units, now).items():
        per_unit.setdefault(unit, [0, 0])[1] = n_overdue
    staffed: dict[str, int] = {}
    for p in people:
        if p.active and p.unit and p.role in TASK_ROLES:
            staffed[p.unit] = staffed.get(p.unit, 0) + 1
    alerts = []
    for code, (n_open, n_overdue) in per_unit.items():
        unit = org.by_code.get(code)
        limit_load, limit_overdue = thresholds(system, unit)
        active = staffed.get(code, 0)
        overloaded = n_open > 0 and (active == 0 or n_open >= limit_load * active)
        late = n_overdue >= limit_overdue
        if not (overloaded or late):
            continue
        reasons = []
        if overloaded:
            reasons.append(f"无在岗人员，{n_open} 项待办无人办理" if active == 0
                           else f"人均待办 {n_open / active:.1f} 项，达到预警值 {limit_load} 项")
        if late:
            reasons.append(f"超时待办 {n_overdue} 项，达到预警值 {limit_overdue} 项")
        alerts.append({
            "unit": code, "unit_name": unit.name if unit else code, "level": unit.level if unit else None,
            "open": n_open, "active_staff": active, "load": round(n_open / active, 1) if active else None,
            "overdue": n_overdue, "threshold_load": limit_load, "threshold_overdue": limit_overdue,
            "overloaded": overloaded, "overdue_alert": late, "reasons": reasons,
        })
    alerts.sort(key=lambda a: (-a["overdue"], -(a["load"] if a["load"] is not None else float("inf")), a["unit"]))
    return alerts


def _suspects(session, people: list[Person]) -> set[str]:
    """Who may hold a task they can no longer work: those who left, and those whose role or unit was ever
    changed (the registry records every change, R-6.1). Everyone else still has the role and unit they
    claimed with, so their claims need no look at all: the task table is only read for these few."""
    out = {p.username for p in people if not p.active}
    for username, change in session.execute(select(Staff.username, StaffChange.change)
                                            .join(Staff, Staff.id == StaffChange.staff_id)):
        before = (change or {}).get("before") or {}
        if (change or {}).get("action") == "updated" and ("role" in before or "unit" in before):
            out.add(username)
    return out


def _unfit_claims(system: System, session, units: set[str] | None, people: list[Person],
                  reaches: dict[str, set[str] | None]):
    """Ready tasks claimed by someone who left, or moved to a role or unit that may not work them (asked of
    the access rule): task id -> (role, unit, 已停用 | 已调岗)."""
    suspects = _suspects(session, people)
    if not suspects:
        return {}
    by_name = {p.username: p for p in people}
    query = (select(TASK.c.id, TASK.c.role, TASK.c.unit_code, TASK.c.assignee)
             .where(TASK.c.assignee.in_(sorted(suspects)), TASK.c.status == "ready"))  # ix_task_assignee
    if units is not None:
        query = query.where(TASK.c.unit_code.in_(sorted(units)))
    out = {}
    for row in session.execute(query):
        holder = by_name.get(row.assignee)
        if holder is None:
            continue
        if holder.active and holder.role == row.role:
            reach = reaches.get(holder.username, set())
            if reach is None or row.unit_code in reach:
                continue
        out[row.id] = (row.role, row.unit_code, "已停用" if not holder.active else "已调岗")
    return out


def _scope(system: System, session, actor: Actor) -> set[str] | None:
    return access.directed_units(system, session, actor)


NOTICE_TTL_SECONDS = 20.0


def inbox_notices(system: System, session, actor: Actor, staff: list[dict[str, Any]] | None = None) -> dict[str, Any] | None:
    """What a chief officer's inbox shows above the list: the peak alerts of the units they direct, how many
    of their tasks nobody of the role can take, and all their open tasks (``open_total``: the group tab's
    count, every role in the units they direct). None for everyone else. ``staff``: the staff directory
    the page has read already (services.inbox.staff_directory), so it is not read twice."""
    if not actor.directs_cases:
        return None
    # The figures are for minutes-long peaks, and counting every open task of the county takes a county chief
    # officer's inbox from ~20 ms to ~50 ms: each process keeps them for NOTICE_TTL_SECONDS per directing unit.
    key = (actor.role, actor.unit_code)
    now = system.clock.now().timestamp()  # the one clock: a task falls overdue by time alone
    cached = system.inbox_notices.get(key)
    if cached is not None and 0 <= now - cached[0] < NOTICE_TTL_SECONDS:
        return cached[1]
    notices = _inbox_notices(system, session, actor, staff)
    if len(system.inbox_notices) > 1024:
        system.inbox_notices.clear()
    system.inbox_notices[key] = (now, notices)
    return notices


def _inbox_notices(system: System, session, actor: Actor, staff: list[dict[str, Any]] | None) -> dict[str, Any]:
    now = system.clock.now()
    units = _scope(system, session, actor)
    people = _people(session) if staff is None else [
        Person(s["username"], s["name"], s["role"], s["unit"], bool(s["active"])) for s in staff]
    reaches = _reaches(system, session, people)
    workable = _workable(people, reaches)
    grouped = _grouped(session, units)
    unstaffed = _unstaffed(grouped, workable)
    count = sum(n for role, unit, n in grouped if (role, unit) in unstaffed)
    held = _unfit_claims(system, session, units, people, reaches)
    count += sum(1 for role, unit, _state in held.values() if (role, unit) not in unstaffed)
    return {"alerts": _alerts(system, session, units, now, people, grouped), "to_reassign": count,
            "open_total": sum(n for _role, _unit, n in grouped)}


def peak_alerts(system: System, actor: Actor) -> dict[str, Any]:
    """The peak alerts of the units within the actor's reach (chief officers, the centre office, administrators),
    with the default thresholds and how many tasks wait to be reassigned (R-7.1.1)."""
    require_role(actor, *SUPERVISING_ROLES)
    now = system.clock.now()
    with system.db.unit_of_work(write=False) as session:
        units = access.figure_units(system, session, actor)
        people = _people(session)
        grouped = _grouped(session, units)
        alerts = _alerts(system, session, units, now, people, grouped)
    return {"items": alerts, "default_load": system.settings.peak_load,
            "default_overdue": system.settings.peak_overdue, "computed_at": now}


def to_reassign(system: System, actor: Actor) -> dict[str, Any]:
    """Every open task of the actor's units that nobody of its role can take: claimed by someone who left or
    moved, or waiting in a unit with no active staff member of its role; each with who may take it over
    (anyone of the role in the units the actor directs: services.tasks.reassign_task moves the task there)."""
    require_role(actor, *SUPERVISING_ROLES)
    now = system.clock.now()
    with system.db.unit_of_work(write=False) as session:
        org = system.org(session)
        units = _scope(system, session, actor)
        people = _people(session)
        reaches = _reaches(system, session, people)
        workable = _workable(people, reaches)
        grouped = _grouped(session, units)
        unstaffed = sorted(_unstaffed(grouped, workable), key=lambda p: (p[0], p[1] or ""))
        holders = _unfit_claims(system, session, units, people, reaches)
        conditions = [TASK.c.id.in_(list(holders))] if holders else []
        conditions += [and_(TASK.c.role == role, TASK.c.unit_code == unit if unit else TASK.c.unit_code.is_(None))
                       for role, unit in unstaffed]
        items: list[dict[str, Any]] = []
        total = 0
        if conditions:
            condition = and_(TASK.c.status == "ready", or_(*conditions))
            total = session.scalar(select(func.count()).select_from(TASK).where(condition))
            rows = session.execute(
                select(TASK.c.id, TASK.c.title, TASK.c.role, TASK.c.unit_code, TASK.c.due_at, TASK.c.case_id,
                       TASK.c.assignee, TASK.c.process_id, Case.number)
                .select_from(TASK.join(Case, Case.id == TASK.c.case_id)).where(condition)
                .order_by(TASK.c.due_at.is_(None), TASK.c.due_at, TASK.c.created_at, TASK.c.id)
                .limit(TO_REASSIGN_LIMIT)).all()
            names = {p.username: p.name for p in people}
            for r in rows:
                state = holders[r.id][2] if r.id in holders else None
                if state is None:
                    reason = f"{org.name(r.unit_code) or r.unit_code or '该单位'}没有可办理的在岗{ROLE_TITLES.get(r.role, r.role)}"
                else:
                    reason = f"原办理人{state}"
                candidates = [{"username": p.username, "name": p.name, "unit": p.unit, "unit_name": org.name(p.unit)}
                              for p in people if p.active and p.role == r.role and p.unit
                              and (units is None or p.unit in units)]
                candidates.sort(key=lambda c: c["unit"] != r.unit_code)  # the task's own unit first
                items.append({"id": r.id, "title": r.title, "role": r.role, "process": r.process_id,
                              "unit": r.unit_code, "unit_name": org.name(r.unit_code), "due_at": r.due_at,
                              "overdue": bool(r.due_at and r.due_at < now), "case_id": r.case_id,
                              "case_number": r.number, "assignee": r.assignee,
                              "assignee_name": names.get(r.assignee, r.assignee) if r.assignee else None,
                              "assignee_state": state, "reason": reason, "candidates": candidates})
        return {"items": items, "total": total, "may_reassign": actor.directs_cases}


def alert_report(system: System, actor: Actor) -> dict[str, Any]:
    """GET /api/v1/alerts: the peak alerts and the to-reassign list of the actor's units, as of now."""
    listed = to_reassign(system, actor)
    return peak_alerts(system, actor) | {"to_reassign": listed["items"], "to_reassign_total": listed["total"]}
