"""The supervisors' case view: the case's own diagram with what ran, what is active and which timers
wait, who did each step with which data; and the chief officer's actions on a case (suspend, resume,
cancel, migrate a suspended case to a newer version), each one unit of work and audited."""

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
from . import access
from .audit import audit
from .cases import CASE, TASK, TIMER, case_view, load_case, load_visible_case, save_case, sync
from .identity import NON_STAFF_NAMES, Actor

from SpiffWorkflow.bpmn.util.diff import diff_workflow, migrate_workflow
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
    return {**NON_STAFF_NAMES, **{username: name for username, name in rows}}


def may_direct(system: System, session, actor: Actor, case) -> bool:
    """Chief officers direct the cases of the units below them; administrators every case."""
    return access.may_direct(system, session, actor, case)


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
        newer = newer_versions(session, case) if can_direct and case.status == SUSPENDED else []

    def local(value: datetime | None) -> str | None:
        return value.astimezone(tz).strftime("%Y-%m-%d %H:%M") if value else None

    elements: dict[str, dict[str, Any]] = {}

    def element(bpmn_id: str) -> dict[str, Any]:
        return elements.setdefault(bpmn_id, {"id": bpmn_id, "title": None, "states": [], "runs": [],
                                             "active": [], "timers": [], "relays": []})

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
    for hop in view["relays"]:  # 互动接力: on the step the case was handed on from
        if hop["step"]:
            element(hop["step"])["relays"].append({
                "from": hop["from_unit_name"], "to": hop["to_unit_name"], "direction": hop["direction_title"],
                "status": hop["status_title"], "reason": hop["reason"], "materials": hop["materials"],
                "note": hop["answer_note"], "at_local": local(hop["requested_at"]),
                "by": names.get(hop["requested_by"], hop["requested_by"])})
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
        "can_direct": can_direct, "staff_names": names, "newer_versions": newer,
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


def _directed_case(system: System, session, actor: Actor, case_id: int, what: str = "暂停、恢复或撤销办件"):
    visible = load_visible_case(system, session, actor, case_id)
    if not may_direct(system, session, actor, visible):
        raise Forbidden(f"只有首席服务专员（本单位及下级单位的办件）或管理员可以{what}。")
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


# --- migrating a suspended case to a newer version of its process ---------------------------------------

# Tasks that stay in the tree as they are: a spec missing from the target would make the state unloadable.
_KEPT_STATES = TaskState.FINISHED_MASK | TaskState.STARTED | TaskState.READY | TaskState.WAITING | TaskState.ERROR
_OPEN_STATES = TaskState.READY | TaskState.WAITING


def newer_versions(session, case) -> list[dict[str, Any]]:
    """The deployed versions of the case's process newer than the case's own, newest first."""
    rows = session.execute(select(ProcessDefinition.version, ProcessDefinition.deployed_at,
                                  ProcessDefinition.deployed_by)
                           .where(ProcessDefinition.process_id == case.process_id,
                                  ProcessDefinition.version > case.version)
                           .order_by(ProcessDefinition.version.desc())).all()
    return [{"version": r.version, "deployed_at": r.deployed_at, "deployed_by": r.deployed_by} for r in rows]


def _title(task) -> str:
    spec = task.task_spec
    bpmn_id = getattr(spec, "bpmn_id", None) or spec.name
    name = getattr(spec, "bpmn_name", None)
    return f"“{name}”（{bpmn_id}）" if name else f"“{bpmn_id}”"


def _migration_problems(workflow, top_diff, sub_diffs, version: int) -> list[str]:
    """Why SpiffWorkflow's diff says this workflow cannot move to the target, in words a person acts on."""
    problems = []
    for task in top_diff.removed + [t for d in sub_diffs.values() if d for t in d.removed]:
        if task.state & _OPEN_STATES:
            problems.append(f"办件当前停留的环节{_title(task)}在第 {version} 版中已不存在")
        elif task.state & TaskState.STARTED:
            problems.append(f"正在执行的环节{_title(task)}在第 {version} 版中已不存在")
        elif task.state & _KEPT_STATES and getattr(task.task_spec, "bpmn_id", None):
            problems.append(f"办件已经过的环节{_title(task)}在第 {version} 版中已不存在，历史无法对应")
    for task in top_diff.changed + [t for d in sub_diffs.values() if d for t in d.changed]:
        if task.state & TaskState.STARTED:
            problems.append(f"正在执行的环节{_title(task)}在第 {version} 版中有改动")
    for task, aligned in top_diff.alignment.items():
        if aligned is not None and task.state & _OPEN_STATES and type(aligned) is not type(task.task_spec):
            problems.append(f"办件当前停留的环节{_title(task)}在第 {version} 版中换成了另一种元素")
    for sp_id, diff in sub_diffs.items():
        if diff is None:
            subprocess = workflow.subprocesses[sp_id]
            problems.append(f"正在进行的子流程“{subprocess.spec.name}”在第 {version} 版中已不存在")
    return list(dict.fromkeys(problems))


def _structure_problems(workflow, version: int) -> list[str]:
    """After the move: every task must point at the target's own spec, and each open task must still be
    reachable from where it stands (a boundary event added in front of it, for one, would never exist)."""
    problems = []
    for wf in [workflow, *workflow.subprocesses.values()]:
        for task in wf.tasks.values():
            if wf.spec.task_specs.get(task.task_spec.name) is not task.task_spec:
                problems.append(f"环节{_title(task)}无法对应到第 {version} 版")
            elif task.state & _OPEN_STATES and task.parent is not None and \
                    task.parent.task_spec not in task.task_spec.inputs:
                problems.append(f"环节{_title(task)}之前的流程结构在第 {version} 版中已改变，办件无法原地迁移")
    return list(dict.fromkeys(problems))


def migrate_case(system: System, actor: Actor, case_id: int, target_version: Any, reason: str | None,
                 process: str | None = None) -> dict[str, Any]:
    """Move a suspended case to a newer deployed version of its process, when SpiffWorkflow's diff allows
    it: the tasks open now keep their ids, deadlines and units; what lies ahead follows the new version.
    The case stays suspended; resuming continues on the new version. One unit of work, audited."""
    now = system.clock.now()
    with system.db.unit_of_work() as session:
        case = _directed_case(system, session, actor, case_id, "把办件迁移到新版本")
        text = _reason(reason, "迁移办件")
        if process and process != case.process_id:
            raise FormInvalid({"process": [f"办件属于流程 {case.process_id}，不能迁移到另一个流程 {process} 的版本。"]})
        try:
            version = int(str(target_version).strip())
        except ValueError:
            raise FormInvalid({"version": ["请选择要迁移到的版本（正整数）。"]}) from None
        if case.status != SUSPENDED:
            raise Conflict("只有已暂停的办件可以迁移到新版本：请先暂停办件，迁移后再恢复。")
        if version <= case.version:
            raise FormInvalid({"version": [f"第 {version} 版不比办件当前的第 {case.version} 版新，只能迁移到更新的版本。"]})
        target = session.execute(select(ProcessDefinition.id, ProcessDefinition.version)
                                 .where(ProcessDefinition.process_id == case.process_id,
                                        ProcessDefinition.version == version)).first()
        if target is None:
            newer = [str(v["version"]) for v in newer_versions(session, case)]
            raise FormInvalid({"version": [f"流程 {case.process_id} 没有第 {version} 版"
                                           + (f"（可迁移到: 第 {'、'.join(newer)} 版）。" if newer else "，也没有更新的版本。")]})

        workflow = system.serializer.load_state(case.state_json, *system.spec_for(session, case.definition_id))
        ctx = system.run_context(session)
        system.runner.view(workflow, ctx)  # the script engine, for timers re-evaluated by the move
        spec, subprocess_specs = system.spec_for(session, target.id)
        refused = f"不能迁移到第 {version} 版："
        try:
            top_diff, sub_diffs = diff_workflow(system.serializer.registry, workflow, spec, subprocess_specs)
        except Exception as exc:  # SpiffWorkflow's own word when it cannot compare the two
            raise Conflict(f"{refused}SpiffWorkflow 无法比较两个版本（{exc}）。办件未作任何改动。") from None
        problems = _migration_problems(workflow, top_diff, sub_diffs, version)
        if problems:
            raise Conflict(refused + "；".join(problems) + "。办件未作任何改动。", problems=problems)

        # SpiffWorkflow resets the open tasks to re-predict what follows them; what was decided when they
        # became ready (unit, due date, the moment entered, a timer's due time) stays as it was.
        kept = {task.id: (task.state, dict(task.internal_data))
                for wf in [workflow, *workflow.subprocesses.values()] for task in wf.get_tasks(state=_OPEN_STATES)}
        try:
            migrate_workflow(top_diff, workflow, spec)
            for sp_id, subprocess in workflow.subprocesses.items():
                migrate_workflow(sub_diffs[sp_id], subprocess, subprocess_specs.get(subprocess.spec.name))
        except Exception as exc:  # e.g. a timer of the new version whose expression fails
            raise Conflict(f"{refused}SpiffWorkflow 迁移时出错（{exc}）。办件未作任何改动。") from None
        workflow.subprocess_specs = subprocess_specs
        for wf in [workflow, *workflow.subprocesses.values()]:
            for task in wf.get_tasks(state=_OPEN_STATES):
                state, internal = kept.get(task.id, (None, None))
                if state == task.state:
                    task.internal_data = internal
        problems = _structure_problems(workflow, version)
        if problems:
            raise Conflict(refused + "；".join(problems) + "。办件未作任何改动。", problems=problems)
        try:
            system.serializer.load_state(system.serializer.dump_state(workflow), spec, subprocess_specs)
        except Exception as exc:  # the library's own word, if the moved state does not load back
            raise Conflict(f"{refused}SpiffWorkflow 无法保存迁移后的状态（{exc}）。办件未作任何改动。") from None

        result = system.runner.view(workflow, ctx)
        result.previously_ready = set(session.scalars(select(TASK.c.id).where(TASK.c.case_id == case.id,
                                                                            TASK.c.status == "ready")))
        result.previously_waiting = set(session.scalars(select(TIMER.c.id).where(TIMER.c.case_id == case.id)))
        old = {"version": case.version, "definition_id": case.definition_id}
        case.definition_id, case.version = target.id, target.version
        session.execute(update(CASE).where(CASE.c.id == case.id)
                        .values(definition_id=target.id, version=target.version))
        sync(system, session, case, result, actor, now)  # inbox and timer rows in line with the moved state
        for ready in result.ready:
            # An open task kept its id; the new version may name, title or give it a form differently.
            if ready.id in result.previously_ready:
                session.execute(update(TASK).where(TASK.c.id == ready.id, TASK.c.status == "ready").values(
                    name=ready.name, title=ready.title, role=ready.role, form=ready.form,
                    instructions=ready.instructions))
        for timer in result.timers:
            if timer.id in result.previously_waiting:
                session.execute(update(TIMER).where(TIMER.c.id == timer.id).values(
                    name=timer.name, title=timer.title, attached_to=timer.attached_to))
        case.status = SUSPENDED  # sync judged it running or waiting: it stays suspended until resumed
        save_case(session, case)
        audit(session, now, actor.username, "case_migrated", case_id=case.id, detail={
            "reason": text, "from_version": old["version"], "to_version": target.version,
            "from_definition_id": old["definition_id"], "to_definition_id": target.id,
            "open_tasks": sorted(t.name for t in result.ready), "timers": sorted(t.name for t in result.timers)})
        return {"id": case.id, "number": case.number, "status": case.status, "process": case.process_id,
                "from_version": old["version"], "version": target.version,
                "open_tasks": [t.name for t in result.ready]}
