"""Who may see a case, work or direct a task, and whose figures a supervisor reads: the one access rule
(R-6.2 保密, R-6.4.1 the chief officer directs the cases of the units they direct, R-3.3 three levels).

Every service, page, export, figure and the API asks this module; none decides on its own.

- **Directing roles** (chief officers, the centre office, administrators) see, work and direct within the
  subtree of their unit: the county chief officer and the centre office the whole county, a township chief
  officer the township and its villages. Without a unit (an administrator): everything.
- **Service staff** (consultants, assistants, proxy agents) see their own unit's cases (handled or
  registered there) and every case that had a task in their unit, so a relayed case stays visible to the
  units it passed through; they work the tasks of their role in their own unit.
"""

from __future__ import annotations

from typing import Any

from sqlalchemy import func, or_, select

from ..db.models import Case, CaseLink, CaseRelay, HumanTask, OrgUnit, Staff
from ..roles import ADMINISTRATOR, CHIEF_OFFICER, SUPERVISOR
from ..system import System
from .identity import SYSTEM, Actor

# Roles whose reach is the subtree of their unit (the whole county without a unit).
DIRECTING_ROLES = frozenset({CHIEF_OFFICER, SUPERVISOR, ADMINISTRATOR})
# Every status a task row has: naming them keeps "a task in these units" a range of ix_task_unit_due.
TASK_STATUSES = ("ready", "completed", "cancelled")


def reach(system: System, session, actor: Actor) -> set[str] | None:
    """The units within the actor's reach; None means every unit."""
    if actor is SYSTEM:
        return None
    if actor.role in DIRECTING_ROLES:
        if not actor.unit_code:
            return None
        org = system.org(session)
        units = org.subtree(actor.unit_code)
        return None if len(units) == len(org.by_code) else units
    return {actor.unit_code} if actor.unit_code else set()


def case_units(system: System, session, actor: Actor) -> set[str] | None:
    """Units whose cases the actor may see (handled, registered or with a task there); None: all (R-6.2)."""
    return reach(system, session, actor)


def case_condition(units: set[str] | None, callback_desk: str | None = None):
    """The SQL condition for "a case of these units": handled or registered there, with a task there (any
    status), or relayed to or from there, so a relayed case stays visible where it passed. When the units
    include ``callback_desk`` (the consultation centre), also the cases called back from there: the desk sees
    the case it is calling about (R-10.1); other units' lists pay nothing for it. None: no condition."""
    if units is None:
        return None
    codes = sorted(units)
    # IN over a subquery, not EXISTS per case row: each OR term can then use its own index.
    tasks_here = select(HumanTask.case_id).where(HumanTask.status.in_(TASK_STATUSES), HumanTask.unit_code.in_(codes))
    task_in_units = Case.id.in_(tasks_here)
    relayed = Case.id.in_(select(CaseRelay.case_id).where(CaseRelay.to_unit.in_(codes)).union(
        select(CaseRelay.case_id).where(CaseRelay.from_unit.in_(codes))))
    terms = [Case.unit_code.in_(codes), Case.started_unit.in_(codes), task_in_units, relayed]
    if callback_desk in units:
        terms.append(Case.id.in_(select(CaseLink.from_case_id).where(
            CaseLink.relation == "callback", CaseLink.to_case_id.in_(
                select(HumanTask.case_id).where(HumanTask.unit_code == callback_desk)))))
    return or_(*terms)


def may_see_case(system: System, session, actor: Actor, case_id: int) -> bool:
    """May ``actor`` see this one case (the rule of every case list, for one row)?"""
    condition = visible_case_condition(system, session, actor)
    if condition is None:
        return True
    return bool(session.scalar(select(func.count()).select_from(Case).where(Case.id == case_id, condition)))


def visible_case_condition(system: System, session, actor: Actor):
    """The condition every case list, search, export and figure of ``actor`` is narrowed by."""
    return case_condition(case_units(system, session, actor), system.org(session).kinds.get("consultation_centre"))


def may_work(system: System, session, actor: Actor, role: str | None, unit: str | None) -> bool:
    """May ``actor`` work a task of this role in this unit? Their own role; their unit, or (directing roles)
    a unit they direct."""
    if role != actor.role:
        return False
    units = reach(system, session, actor)
    return units is None or unit in units


def may_direct(system: System, session, actor: Actor, case: Any) -> bool:
    """May ``actor`` suspend, cancel, migrate or reassign within ``case``? Chief officers for the cases
    of the units they direct (R-6.4.1), administrators for every case."""
    if actor.role not in (CHIEF_OFFICER, ADMINISTRATOR):
        return False
    units = reach(system, session, actor)
    return units is None or case.unit_code in units or case.started_unit in units


def directed_units(system: System, session, actor: Actor) -> set[str] | None:
    """The units whose tasks a chief officer may hand to someone else; None: all."""
    return reach(system, session, actor)


def figure_units(system: System, session, actor: Actor) -> set[str] | None:
    """The units a supervisor's figures, lists and exports cover; None: the whole county."""
    return reach(system, session, actor)


def directing_unit(system: System, session, unit_code: str | None, role: str = CHIEF_OFFICER) -> str | None:
    """The nearest unit at or above ``unit_code`` with an active staff member of ``role`` (a chief officer):
    whoever directs a unit is found there (a village station's problem goes to its township's chief officer,
    a county department's to the county's, R-6.4.1). None: nobody of that role directs the unit."""
    org = system.org(session)
    chain, code = [], unit_code
    while code and code in org.tree and len(chain) < 16:
        chain.append(code)
        code = org.tree[code][1]
    if not chain:
        return None
    staffed = set(session.scalars(select(OrgUnit.code).join(Staff, Staff.unit_id == OrgUnit.id).where(
        OrgUnit.code.in_(chain), OrgUnit.active, Staff.active, Staff.role == role)))
    return next((c for c in chain if c in staffed), None)
