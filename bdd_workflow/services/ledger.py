"""台账: the per-case register of every step (R-9.1.3.5, R-9.2.1, R-9.2.2.3)."""

from __future__ import annotations

from typing import Any

from sqlalchemy import func, select

from ..db.models import LedgerEntry, Staff
from ..system import System
from . import access
from .identity import NON_STAFF_NAMES, Actor


def list_ledger(system: System, actor: Actor, unit: str | None = None, case_number: str | None = None,
                page: int = 1, per_page: int = 100) -> dict[str, Any]:
    with system.db.unit_of_work(write=False) as session:
        query = select(LedgerEntry)
        units = access.case_units(system, session, actor)
        if units is not None:
            query = query.where(LedgerEntry.unit_code.in_(units))
        if unit:
            query = query.where(LedgerEntry.unit_code.in_(system.org(session).subtree(unit) or {unit}))
        if case_number:
            query = query.where(LedgerEntry.case_number == case_number)
        total = session.scalar(select(func.count()).select_from(query.subquery()))
        rows = session.scalars(query.order_by(LedgerEntry.at.desc(), LedgerEntry.id.desc())
                               .limit(per_page).offset((page - 1) * per_page)).all()
        actors = sorted({e.actor for e in rows})
        names = {**NON_STAFF_NAMES, **dict(session.execute(
            select(Staff.username, Staff.name).where(Staff.username.in_(actors))).all())} if actors else {}
        return {"items": [{
            "id": e.id, "case_id": e.case_id, "case_number": e.case_number, "process": e.process_id,
            "unit": e.unit_code, "matter_code": e.matter_code, "applicant_name": e.applicant_name,
            "step": e.step, "title": e.title, "actor": e.actor, "actor_name": names.get(e.actor, e.actor),
            "actor_role": e.actor_role, "at": e.at, "data": e.data,
        } for e in rows], "total": total, "page": page, "per_page": per_page}
