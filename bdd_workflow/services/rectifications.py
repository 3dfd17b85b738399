"""差评整改 (R-10.2): the printable written explanation (书面情况说明) of a rectification, with the rating it
answers and the centre office's reviews. The steps themselves are the diagram's (processes/rectification.bpmn)."""

from __future__ import annotations

from typing import Any

from sqlalchemy import select

from ..db.models import AuditEvent, Case, CaseLink, HumanTask, Matter, Staff
from ..errors import NotFound
from ..roles import ROLE_TITLES
from ..system import System
from . import evaluations
from .cases import load_visible_case
from .identity import Actor

WRITER_STEPS = ("submit_explanation", "submit_explanation_assistant", "submit_explanation_proxy_agent")
REVIEW_STEP = "review_rectification"
STATUS_TITLES = {"running": "整改中", "waiting": "整改中", "suspended": "已暂停", "completed": "整改已通过",
                 "cancelled": "已取消"}


def _person(session, system: System, username: str | None) -> dict[str, Any] | None:
    staff = session.scalars(select(Staff).where(Staff.username == username)).first() if username else None
    if staff is None:
        return None
    unit = staff.unit.code if staff.unit else None
    return {"username": staff.username, "name": staff.name, "role_title": ROLE_TITLES.get(staff.role, staff.role),
            "unit_name": system.org(session).name(unit)}


def explanation(system: System, actor: Actor, case_id: int) -> dict[str, Any]:
    """What the printed 书面情况说明 shows: the rated case and its rating of record, each explanation written
    (the latest last) with who wrote it and when, each review with its opinion, the deadline and the state."""
    with system.db.unit_of_work(write=False) as session:
        case = load_visible_case(system, session, actor, case_id)  # 403 for another unit's
        if case.process_id != "rectification":
            raise NotFound(f"办件 {case.number} 不是差评整改办件，没有书面情况说明。")
        org = system.org(session)
        rated = session.scalars(select(Case).join(CaseLink, CaseLink.from_case_id == Case.id)
                                .where(CaseLink.to_case_id == case.id).order_by(CaseLink.id).limit(1)).first()
        matter = session.scalar(select(Matter.name).where(Matter.code == case.matter_code)) if case.matter_code else None
        rounds: list[dict[str, Any]] = []
        for event in session.scalars(select(AuditEvent).where(
                AuditEvent.case_id == case.id, AuditEvent.action == "task_completed",
                AuditEvent.element.in_((*WRITER_STEPS, REVIEW_STEP))).order_by(AuditEvent.id)):
            data = (event.detail or {}).get("data") or {}
            entry = {"at": event.at, "by": _person(session, system, event.actor) or {"name": event.actor}}
            if event.element == REVIEW_STEP:
                if rounds:
                    rounds[-1]["review"] = entry | {"accepted": data.get("accepted") is True,
                                                    "opinion": data.get("review_opinion")}
            else:
                rounds.append(entry | {"explanation": data.get("written_explanation"),
                                       "measures": data.get("rectification_measures"),
                                       "involved": _person(session, system, data.get("responsible_staff")),
                                       "review": None})
        open_step = session.scalars(select(HumanTask).where(
            HumanTask.case_id == case.id, HumanTask.status == "ready", HumanTask.name.in_(WRITER_STEPS))).first()
        return {
            "title": "差评整改书面情况说明",
            "case": {"id": case.id, "number": case.number, "status": case.status,
                     "status_title": STATUS_TITLES.get(case.status, case.status), "unit_name": org.name(case.unit_code),
                     "started_at": case.started_at, "completed_at": case.completed_at,
                     "applicant_name": case.applicant_name, "breaches": case.breaches},
            "matter": matter,
            "rated": {"id": rated.id, "number": rated.number, "process": rated.process_id,
                      "unit_name": org.name(rated.unit_code), "completed_at": rated.completed_at} if rated else None,
            "rating": evaluations.rating_view(system, session, rated.id) if rated else None,
            "rounds": rounds,
            "open_step": {"title": open_step.title, "due_at": open_step.due_at, "role_title": ROLE_TITLES.get(
                open_step.role, open_step.role), "assignee": open_step.assignee} if open_step else None,
        }
