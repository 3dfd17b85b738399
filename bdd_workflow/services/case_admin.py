"""The supervisors' case view: the case's own diagram with what ran, what is active and which timers
wait, who did each step with which data; and the chief officer's actions on a case (suspend, resume,
cancel), each one unit of work and audited."""

from __future__ import annotations

from datetime import datetime
from typing import Any

from lxml import etree
from sqlalchemy import func, select, update

from ..db.models import AuditEvent, HumanTask, PendingTimer, ProcessDefinition, Staff
from ..engine.runner import Runner
from ..engine.xmlsafe import BPMN_NS, _parser
from ..errors import Conflict, Forbidden, FormInvalid
from ..system import System
from .audit import audit
from .cases import TASK, TIMER, case_view, load_case, load_visible_case, save_case
from .identity import Actor

from SpiffWorkflow.util.task import TaskState

MIN_REASON = 4
OPEN_STATUSES = ("running", "waiting")
SUSPENDED = "suspended"
CANCELLED = "cancelled"


def _iso(value: datetime | None) -> str | None:
    return value.isoformat() if value else None


def _sequence_flows(xml: str) -> list[dict[str, str]]:
    """Every sequence flow of the definition file: id, source and target element ids."""
    root = etree.fromstring(xml.encode("utf-8"), _parser())
    return [{"id": flow.get("id"), "source": flow.get("sourceRef"), "target": flow.get("targetRef")}
            for flow in root.iter(f"{{{BPMN_NS}}}sequenceFlow")]


def _engine_states(system: System, session, case) -> tuple[set[str], set[str], set[str]]:
    """Bpmn ids of completed elements, active user tasks (READY/STARTED) and waiting timers."""
    workflow = system.serializer.load_state(case.state_json, *system.spec_for(session, case.definition_id))
    completed, active, waiting = set(), set(), set()
    for task in Runner._all_tasks(workflow):
        bpmn_id = getattr(task.task_spec, "bpmn_id", None)
        if not bpmn_id:
            continue
        if task.state == TaskState.COMPLETED:
            completed.add(bpmn_id)
        elif task.state in (TaskState.READY, TaskState.STARTED) and task.task_spec.manual:
            active.add(bpmn_id)
        elif Runner._is_waiting_timer(task):
            waiting.add(bpmn_id)
    return completed, active, waiting


def _names(session, usernames: set[str]) -> dict[str, str]:
    if not usernames:
        return {}
    rows = session.execute(select(Staff.username, Staff.name).where(Staff.username.in_(usernames))).all()
    return {username: name for username, name in rows}


def may_direct(system: System, session, actor: Actor, case) -> bool:
    """Chief officers direct the cases of the units below them; administrators every case."""
    if not actor.directs_cases:
        return False
    if actor.unit_code is None:
        return True
    units = system.org(session).subtree(actor.unit_code)
    return case.unit_code in units or case.started_unit in units


def diagram_state(system: System, actor: Actor, case_id: int) -> dict[str, Any]:
    """The case's own definition version with the state of each element and the details behind it."""
    tz = system.calendar.tz
    with system.db.unit_of_work(write=False) as session:
        case = load_visible_case(system, session, actor, case_id)
        view = case_view(system, session, case, actor)
        xml = session.scalar(select(ProcessDefinition.bpmn_xml).where(ProcessDefinition.id == case.definition_id))
        completed, active, waiting = _engine_states(system, session, case)
        flows = _sequence_flows(xml)
        reached = completed | active | waiting
        taken = [f["id"] for f in flows if f["source"] in completed and f["target"] in reached]

        events = session.scalars(select(AuditEvent).where(AuditEvent.case_id == case.id).order_by(AuditEvent.id)).all()
        ready = session.scalars(select(HumanTask).where(HumanTask.case_id == case.id, HumanTask.status == "ready")).all()
        timers = session.scalars(select(PendingTimer).where(PendingTimer.case_id == case.id)
                                 .order_by(PendingTimer.due_at)).all()
        names = _names(session, {e.actor for e in events} | {t.assignee for t in ready if t.assignee})
        can_direct = may_direct(system, session, actor, case)

    def local(value: datetime | None) -> str | None:
        return value.astimezone(tz).strftime("%Y-%m-%d %H:%M") if value else None

    elements: dict[str, dict[str, Any]] = {}

    def element(bpmn_id: str) -> dict[str, Any]:
        return elements.setdefault(bpmn_id, {"id": bpmn_id, "title": None, "states": [], "runs": [],
                                             "active": [], "timers": []})

    for bpmn_id in completed:
        element(bpmn_id)["states"].append("completed")
    for bpmn_id in active:
        element(bpmn_id)["states"].append("active")
    for bpmn_id in waiting:
        element(bpmn_id)["states"].append("waiting")
    for event in events:
        if not event.element or event.action not in ("task_completed", "timer_fired"):
            continue
        entry = element(event.element)
        entry["title"] = entry["title"] or (event.detail or {}).get("title")
        entry["runs"].append({
            "action": event.action, "actor": event.actor, "actor_name": names.get(event.actor, event.actor),
            "at": _iso(event.at), "at_local": local(event.at),
            "data": (event.detail or {}).get("data") if event.action == "task_completed" else None,
            "due_at": (event.detail or {}).get("due_at") if event.action == "timer_fired" else None,
        })
    for row in ready:
        entry = element(row.name)
        entry["title"] = entry["title"] or row.title
        entry["active"].append({
            "task_id": row.id, "role": row.role, "unit": row.unit_code, "assignee": row.assignee,
            "assignee_name": names.get(row.assignee, row.assignee) if row.assignee else None,
            "created_at": _iso(row.created_at), "created_local": local(row.created_at),
            "due_at": _iso(row.due_at), "due_local": local(row.due_at),
        })
    for timer in timers:
        entry = element(timer.name)
        entry["title"] = entry["title"] or timer.title
        entry["timers"].append({"attached_to": timer.attached_to, "due_at": _iso(timer.due_at),
                                "due_local": local(timer.due_at)})

    return {
        "case": view, "xml": xml, "completed": sorted(completed), "active": sorted(active),
        "waiting_timers": sorted(waiting), "taken_flows": taken, "elements": elements,
        "pending_timers": [{"id": t.id, "name": t.name, "title": t.title, "attached_to": t.attached_to,
                            "due_at": t.due_at} for t in timers],
        "can_direct": can_direct, "staff_names": names,
    }


def diagram_json(system: System, actor: Actor, case_id: int) -> dict[str, Any]:
    """What the viewer script needs, JSON-ready (no datetimes, no case page data)."""
    state = diagram_state(system, actor, case_id)
    return {
        "case": {"id": state["case"]["id"], "number": state["case"]["number"], "status": state["case"]["status"]},
        "xml": state["xml"], "completed": state["completed"], "active": state["active"],
        "waiting_timers": state["waiting_timers"], "taken_flows": state["taken_flows"], "elements": state["elements"],
        "pending_timers": [{**t, "due_at": _iso(t["due_at"])} for t in state["pending_timers"]],
    }


# --- actions ---------------------------------------------------------------------------------------

def _reason(reason: str | None, what: str) -> str:
    text = (reason or "").strip()
    if len(text) < MIN_REASON:
        raise FormInvalid({"reason": [f"{what}需要填写原因（至少 {MIN_REASON} 个字）。"]})
    return text[:500]


def _directed_case(system: System, session, actor: Actor, case_id: int):
    visible = load_visible_case(system, session, actor, case_id)
    if not may_direct(system, session, actor, visible):
        raise Forbidden("只有首席服务专员（本单位及下级单位的办件）或管理员可以暂停、恢复或撤销办件。")
    return load_case(session, case_id)


def suspend_case(system: System, actor: Actor, case_id: int, reason: str | None) -> dict[str, Any]:
    now = system.clock.now()
    with system.db.unit_of_work() as session:
        case = _directed_case(system, session, actor, case_id)
        text = _reason(reason, "暂停办件")
        if case.status not in OPEN_STATUSES:
            raise Conflict("只有办理中的办件可以暂停。" if case.status != SUSPENDED else "办件已暂停。")
        previous, case.status, case.updated_at = case.status, SUSPENDED, now
        save_case(session, case)
        audit(session, now, actor.username, "case_suspended", case_id=case.id,
              detail={"reason": text, "previous_status": previous})
        return {"id": case.id, "number": case.number, "status": case.status}


def resume_case(system: System, actor: Actor, case_id: int, reason: str | None = None) -> dict[str, Any]:
    now = system.clock.now()
    with system.db.unit_of_work() as session:
        case = _directed_case(system, session, actor, case_id)
        if case.status != SUSPENDED:
            raise Conflict("这个办件没有暂停。")
        open_tasks = session.scalar(select(func.count()).select_from(HumanTask)
                                    .where(HumanTask.case_id == case.id, HumanTask.status == "ready"))
        case.status, case.updated_at = ("running" if open_tasks else "waiting"), now
        save_case(session, case)
        audit(session, now, actor.username, "case_resumed", case_id=case.id,
              detail={"reason": (reason or "").strip()[:500] or None, "status": case.status})
        return {"id": case.id, "number": case.number, "status": case.status}


def cancel_case(system: System, actor: Actor, case_id: int, reason: str | None) -> dict[str, Any]:
    """SpiffWorkflow cancels every open task; the inbox rows are cancelled and the timers dropped."""
    now = system.clock.now()
    with system.db.unit_of_work() as session:
        case = _directed_case(system, session, actor, case_id)
        text = _reason(reason, "撤销办件")
        if case.status not in (*OPEN_STATUSES, SUSPENDED):
            raise Conflict("已办结或已撤销的办件不能撤销。")
        workflow = system.serializer.load_state(case.state_json, *system.spec_for(session, case.definition_id))
        workflow.cancel()
        case.state_json = system.serializer.dump_state(workflow)
        ready = list(session.scalars(select(TASK.c.id).where(TASK.c.case_id == case.id, TASK.c.status == "ready")))
        if ready:
            session.execute(update(TASK).where(TASK.c.id.in_(ready)).values(status=CANCELLED, completed_at=now))
        dropped = list(session.scalars(select(TIMER.c.id).where(TIMER.c.case_id == case.id)))
        if dropped:
            session.execute(TIMER.delete().where(TIMER.c.id.in_(dropped)))
        previous, case.status, case.updated_at = case.status, CANCELLED, now
        save_case(session, case)
        audit(session, now, actor.username, "case_cancelled", case_id=case.id,
              detail={"reason": text, "previous_status": previous, "cancelled_tasks": ready,
                      "dropped_timers": dropped})
        return {"id": case.id, "number": case.number, "status": case.status}
