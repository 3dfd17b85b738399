"""What applicants do without an account: apply online (R-9.1.2, R-9.2.1, R-9.3.1), look up their
case with its number and phone, rate it (一事一评), and read the 五公开 page (R-7.1.2 b)."""

from __future__ import annotations

import hmac
from typing import Any

from sqlalchemy import select

from ..db.models import Case, HumanTask, Matter, ProcessDefinition, Publicity, Staff
from ..errors import DomainError
from ..roles import ROLE_TITLES
from ..system import System
from . import evaluations
from .cases import SERVICE_PROCESSES, start_case
from .definitions import latest_definitions
from .identity import PUBLIC

PROCESS_TITLES = {"assist": "帮办", "proxy": "代办", "onsite": "上门办", "consultation": "咨询",
                  "callback": "回访", "rectification": "整改", "complaint": "投诉",
                  "problem_report": "问题上报"}
STATUS_TITLES = {"running": "办理中", "waiting": "办理中", "suspended": "暂停办理", "completed": "已办结",
                 "cancelled": "已撤销"}


def apply_online(system: System, process: str, data: dict[str, Any]) -> dict[str, Any]:
    """An applicant's own online application; the routing decision (R-1) picks the handling unit."""
    if process not in SERVICE_PROCESSES:
        raise DomainError("网上只能申请帮办、代办或上门办。")
    case = start_case(system, PUBLIC, process, {**data, "channel": "online"})
    return {"number": case["number"], "process": process, "status": case["status"]}


def lookup(system: System, number: str, phone: str) -> dict[str, Any]:
    """A case's status for its applicant; the same answer for a wrong number and a wrong phone."""
    with system.db.unit_of_work(write=False) as session:
        case = session.scalars(select(Case).where(Case.number == (number or "").strip().upper())).first()
        if case is None or not hmac.compare_digest((case.applicant_phone or "").encode(), (phone or "").strip().encode()):
            raise DomainError("没有找到这个办件：请核对办件编号和手机号。")
        matter = session.scalars(select(Matter).where(Matter.code == case.matter_code)).first() if case.matter_code else None
        steps = session.scalars(select(HumanTask.title).where(HumanTask.case_id == case.id, HumanTask.status == "ready"))
        done = session.scalars(select(HumanTask).where(HumanTask.case_id == case.id, HumanTask.status == "completed")
                               .order_by(HumanTask.completed_at))
        unit = system.org(session).by_code.get(case.unit_code or "")
        rating = evaluations.rating_view(system, session, case.id)  # 一事一评: rated on any channel
        rated = rating is not None
        return {
            "number": case.number, "process": case.process_id, "process_title": PROCESS_TITLES.get(case.process_id, case.process_id),
            "status": case.status, "status_title": STATUS_TITLES.get(case.status, case.status),
            "matter": matter.name if matter else None, "unit": unit.name if unit else None,
            "started_at": case.started_at, "completed_at": case.completed_at,
            "current_steps": list(steps), "completed_steps": [{"title": t.title, "at": t.completed_at} for t in done],
            "can_rate": case.status == "completed" and case.process_id in SERVICE_PROCESSES and not rated,
            "rated": rated, "rating": rating,
        }


def disclosure(system: System) -> dict[str, Any]:
    """五公开: the staff with their duties, the matters, the procedures, the supervision phone."""
    with system.db.unit_of_work(write=False) as session:
        org = system.org(session)
        staff = session.scalars(select(Staff).where(Staff.active, Staff.role.in_(("chief_officer", "assistant", "proxy_agent")))
                                .order_by(Staff.role, Staff.unit_id, Staff.id)).all()
        people = [{"name": s.name, "role": s.role, "role_title": ROLE_TITLES[s.role],
                   "unit": org.name(s.unit.code if s.unit else None), "duties": s.duties} for s in staff]
        matters = [{"code": m.code, "name": m.name, "kind": m.kind, "department": m.department,
                    "service_types": m.service_types, "promised_days": m.promised_days, "notice": m.notice}
                   for m in session.scalars(select(Matter).where(Matter.active).order_by(Matter.code))]
        processes = [{"process": d.process_id, "name": d.name, "version": d.version,
                      "title": PROCESS_TITLES.get(d.process_id, d.name)} for d in latest_definitions(session)]
        centre = org.by_code.get(org.kinds.get("county_centre", ""))
        stories = [{"id": p.id, "title": p.title, "body": p.body, "at": p.approved_at}
                   for p in session.scalars(select(Publicity).where(Publicity.status == "published")
                                            .order_by(Publicity.approved_at.desc()).limit(20))]
        return {"staff": people, "matters": matters, "processes": processes, "stories": stories,
                "supervision_phone": (centre.phone if centre and centre.phone else "0310-7212345")}


def diagram_xml(system: System, process_id: str) -> str:
    """The newest deployed diagram of a process, for the public viewer (R-7.1.2 b)."""
    with system.db.unit_of_work(write=False) as session:
        xml = session.scalar(select(ProcessDefinition.bpmn_xml).where(ProcessDefinition.process_id == process_id)
                             .order_by(ProcessDefinition.version.desc()).limit(1))
        if xml is None:
            raise DomainError(f"流程 {process_id} 不存在。")
        return xml
