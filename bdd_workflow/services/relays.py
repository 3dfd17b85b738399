"""互动接力 (R-6.4.3, R-3.3): the staff holding an assist or proxy case hand it to another level, up or down
the tree, with a reason and the materials; the receiving unit's staff of the role accept it or send it back.

A relay is a use case beside the diagrams, as reassigning is: it can happen at any step, which a diagram
cannot draw on every task. What it changes is the case's ``handling_unit``, which every later step of the
diagram reads (a user task's default unit), so the procedure itself continues unchanged in the new unit.
"""

from __future__ import annotations

from datetime import datetime
from typing import Any

from sqlalchemy import select, update

from ..db.models import MAX_ROW_ID, CaseRelay, HumanTask, Matter, OrgUnit, Staff
from ..errors import Conflict, Forbidden, FormInvalid, NotFound
from ..formrender import LEVEL_TITLES
from ..roles import ROLE_TITLES
from ..system import System
from . import access
from .audit import audit
from .cases import CaseRecord, ledger_entry, load_case, save_case
from .identity import Actor

# The cases staff hold and hand between levels (R-6.4.3 names proxy cases; 帮办 is handed the same way, R-3.3).
RELAY_PROCESSES = frozenset({"assist", "proxy"})
MAX_REASON = 500
MAX_MATERIALS = 2000
MAX_NOTE = 500
DIRECTION_TITLES = {"up": "向上接力", "down": "向下接力", "across": "平级接力"}

STATUS_TITLES = {"pending": "待接收", "accepted": "已接收", "returned": "已退回"}


def _text(value: Any, limit: int) -> str:
    return str(value or "").strip()[:limit + 1]


def _holding_task(system: System, session, actor: Actor, case_id: int) -> HumanTask | None:
    """The open step of the case ``actor`` works (theirs or their group's): who may relay it."""
    rows = session.scalars(select(HumanTask).where(HumanTask.case_id == case_id, HumanTask.status == "ready")
                           .order_by(HumanTask.created_at)).all()
    for row in rows:
        if row.assignee in (None, actor.username) and access.may_work(system, session, actor, row.role, row.unit_code):
            return row
    return None


_LEVEL_RANK = {"county": 0, "township": 1, "village": 2}


def _direction(org, from_unit: str, to_unit: str) -> str:
    """Up towards the county, down towards the villages, or across within one level."""
    ranks = [_LEVEL_RANK.get(org.by_code[code].level, 0) if code in org.by_code else 0 for code in (from_unit, to_unit)]
    return "up" if ranks[1] < ranks[0] else "down" if ranks[1] > ranks[0] else "across"


def request_relay(system: System, actor: Actor, case_id: int, to_unit: str, reason: str,
                  materials: str = "") -> dict[str, Any]:
    """Ask another unit to take the case over. Every refusal names its field and changes nothing."""
    now = system.clock.now()
    to_unit, reason, materials = _text(to_unit, 32), _text(reason, MAX_REASON), _text(materials, MAX_MATERIALS)
    with system.db.unit_of_work() as session:
        case = load_case(session, case_id) if 0 < case_id <= MAX_ROW_ID else None
        if case is None or not access.may_see_case(system, session, actor, case.id):  # not theirs and absent alike
            raise NotFound(f"办件 {case_id} 不存在。")
        if case.process_id not in RELAY_PROCESSES:
            raise Conflict("只有帮办、代办办件可以互动接力。")
        if case.status != "running":
            raise Conflict("办件不在办理中（已挂起、已办结或已撤销），不能接力。")
        task = _holding_task(system, session, actor, case_id)
        if task is None:
            raise Forbidden("只有正在办理这个办件当前步骤的工作人员可以发起接力。")
        if session.scalar(select(CaseRelay.id).where(CaseRelay.case_id == case_id, CaseRelay.status == "pending")):
            raise Conflict("这个办件已有一项待接收的接力，请等对方接收或退回后再发起。")
        from_unit = task.unit_code
        org = system.org(session)
        problem = _target_problem(org, _staffed_units(session, task.role), _is_enterprise(session, case), task.role,
                                  from_unit, to_unit)
        errors: dict[str, list[str]] = {"to_unit": [problem]} if problem else {}
        if not reason:
            errors["reason"] = ["请写明接力原因（对方据此接收或退回）。"]
        elif len(reason) > MAX_REASON:
            errors["reason"] = [f"接力原因不能超过 {MAX_REASON} 字。"]
        if len(materials) > MAX_MATERIALS:
            errors["materials"] = [f"移交材料不能超过 {MAX_MATERIALS} 字。"]
        if errors:
            raise FormInvalid(errors, "接力未发出：请按提示修改。")
        relay = CaseRelay(case_id=case_id, role=task.role, from_unit=from_unit, to_unit=to_unit,
                          direction=_direction(org, from_unit, to_unit), reason=reason, materials=materials or None,
                          task_name=task.name, status="pending", requested_by=actor.username, requested_at=now)
        session.add(relay)
        session.flush()
        detail = {"relay": relay.id, "from_unit": from_unit, "to_unit": to_unit, "direction": relay.direction,
                  "reason": reason, "materials": materials or None, "step": task.name}
        audit(session, now, actor.username, "relay_requested", case_id=case_id, task_id=task.id, element=task.name,
              detail=detail)
        ledger_entry(session.connection(), case, "relay_requested", "互动接力（发出）", actor,
                now, detail, unit=from_unit)
        return relay_view(relay, org)


def _staffed_units(session, role: str) -> set[str]:
    """Active units with an active staff member of ``role``: where a relay can reach someone (R-9.1.1.2)."""
    return set(session.scalars(select(OrgUnit.code).join(Staff, Staff.unit_id == OrgUnit.id).where(
        Staff.role == role, Staff.active, OrgUnit.active)))


def _target_problem(org, staffed: set[str], enterprise: bool, role: str, from_unit: str, to_unit: str) -> str | None:
    """Where a relay may go: an active unit, not the one holding the case, with an active staff member of the
    role (R-9.1.1.2: it must reach someone), and never away from the 行政审批局 for an enterprise matter (R-1).
    The message for ``to_unit``, or None when it may go there."""
    unit = org.by_code.get(to_unit)
    if not to_unit:
        return "请选择接力单位。"
    if unit is None or not unit.active:
        return f"单位 {to_unit} 不存在或已撤销，请从列表中选择。"
    if to_unit == from_unit:
        return "办件已在本单位办理，不能接力给本单位。"
    if enterprise and to_unit != org.kinds.get("approval_bureau"):
        return "涉企事项由行政审批局负责全过程代办（R-1），不能接力到其他单位。"
    if to_unit not in staffed:
        title = ROLE_TITLES.get(role, role)
        return f"{unit.name}没有在岗的{title}，接力过去没有人能接收：请选择有{title}的单位。"
    return None


def _is_enterprise(session, case) -> bool:
    return bool(case.matter_code) and session.scalar(select(Matter.kind).where(Matter.code == case.matter_code)) == "enterprise"


def answer_relay(system: System, actor: Actor, relay_id: int, accept: bool, note: str = "") -> dict[str, Any]:
    """The receiving unit accepts (the case and its open steps of the role move there) or sends it back with
    a reason (nothing moves). One unit of work; a second answer is a conflict."""
    now = system.clock.now()
    note = _text(note, MAX_NOTE)
    with system.db.unit_of_work() as session:
        relay = session.get(CaseRelay, relay_id) if 0 < relay_id <= MAX_ROW_ID else None
        if relay is None or not (access.may_work(system, session, actor, relay.role, relay.to_unit)
                                 or access.may_see_case(system, session, actor, relay.case_id)):
            raise NotFound(f"接力 {relay_id} 不存在。")
        if not access.may_work(system, session, actor, relay.role, relay.to_unit):
            raise Forbidden(f"只有{system.org(session).name(relay.to_unit)}的{ROLE_TITLES.get(relay.role, relay.role)}"
                            "可以接收或退回这项接力。")
        if relay.status != "pending":
            raise Conflict(f"这项接力已经{STATUS_TITLES.get(relay.status, relay.status)}，请刷新后查看。")
        if not accept and not note:
            raise FormInvalid({"answer_note": ["退回时请写明原因（对方据此补充或改派）。"]}, "接力未退回：请写明原因。")
        if len(note) > MAX_NOTE:
            raise FormInvalid({"answer_note": [f"不能超过 {MAX_NOTE} 字。"]})
        case = load_case(session, relay.case_id)
        relay.status, relay.answered_by, relay.answered_at = ("accepted" if accept else "returned"), actor.username, now
        relay.answer_note = note or None
        detail = {"relay": relay.id, "from_unit": relay.from_unit, "to_unit": relay.to_unit, "note": note or None}
        if accept:
            if case.status != "running":
                raise Conflict("办件已不在办理中（已挂起、已办结或已撤销），不能接收。")
            _move(system, session, case, relay, now)
        audit(session, now, actor.username, "relay_accepted" if accept else "relay_returned", case_id=case.id,
              detail=detail)
        ledger_entry(session.connection(), case, "relay_accepted" if accept else "relay_returned",
                "互动接力（接收）" if accept else "互动接力（退回）", actor, now, detail, unit=relay.to_unit)
        return relay_view(relay, system.org(session))


def _move(system: System, session, case: CaseRecord, relay: CaseRelay, now: datetime) -> None:
    """The case's handling unit becomes the receiver; its open steps of the role move there, unclaimed."""
    workflow = system.workflows.take(case.id, case.lock_version, case.definition_id)
    if workflow is None:
        spec, subprocess_specs = system.spec_for(session, case.definition_id)
        workflow = system.serializer.load_state(case.state_json, spec, subprocess_specs)
    system.runner.relay(workflow, relay.from_unit, relay.to_unit, relay.role, system.run_context(session))
    session.execute(update(HumanTask).where(
        HumanTask.case_id == case.id, HumanTask.status == "ready", HumanTask.role == relay.role,
        HumanTask.unit_code == relay.from_unit).values(unit_code=relay.to_unit, assignee=None, claimed_at=None))
    case.state_json = system.serializer.dump_state(workflow)
    case.unit_code, case.updated_at = relay.to_unit, now
    save_case(session, case)


def relay_view(relay: CaseRelay, org) -> dict[str, Any]:
    return {
        "id": relay.id, "case_id": relay.case_id, "role": relay.role, "role_title": ROLE_TITLES.get(relay.role, relay.role),
        "from_unit": relay.from_unit, "from_unit_name": org.name(relay.from_unit) or relay.from_unit,
        "to_unit": relay.to_unit, "to_unit_name": org.name(relay.to_unit) or relay.to_unit,
        "direction": relay.direction, "direction_title": DIRECTION_TITLES.get(relay.direction, relay.direction),
        "reason": relay.reason, "materials": relay.materials, "step": relay.task_name,
        "status": relay.status, "status_title": STATUS_TITLES.get(relay.status, relay.status),
        "requested_by": relay.requested_by, "requested_at": relay.requested_at,
        "answered_by": relay.answered_by, "answered_at": relay.answered_at, "answer_note": relay.answer_note,
    }


def case_relays(system: System, session, case_id: int) -> list[dict[str, Any]]:
    """Every hop of a case, oldest first (the case page, its diagram and the API show them)."""
    org = system.org(session)
    rows = session.scalars(select(CaseRelay).where(CaseRelay.case_id == case_id)
                           .order_by(CaseRelay.requested_at, CaseRelay.id)).all()
    return [relay_view(r, org) for r in rows]


def pending_for(system: System, actor: Actor) -> list[dict[str, Any]]:
    """The relays waiting for the actor's answer: to a unit where they work the relay's role."""
    with system.db.unit_of_work(write=False) as session:
        query = select(CaseRelay).where(CaseRelay.status == "pending", CaseRelay.role == actor.role)
        units = access.reach(system, session, actor)
        if units is not None:
            query = query.where(CaseRelay.to_unit.in_(sorted(units)))
        rows = session.scalars(query.order_by(CaseRelay.requested_at).limit(200)).all()
        org = system.org(session)
        return [relay_view(r, org) for r in rows]


def relay_panel(system: System, actor: Actor, case_id: int) -> dict[str, Any] | None:
    """What the task page offers the holder of a relayable case: the targets, or the relay already waiting."""
    with system.db.unit_of_work(write=False) as session:
        case = load_case(session, case_id) if 0 < case_id <= MAX_ROW_ID else None
        if case is None or case.process_id not in RELAY_PROCESSES:
            return None
        pending = session.scalars(select(CaseRelay).where(CaseRelay.case_id == case_id, CaseRelay.status == "pending")).first()
        if pending is not None:
            return {"pending": relay_view(pending, system.org(session)), "targets": []}
    targets = [t | {"label": f"{DIRECTION_TITLES[t['direction']]} · [{LEVEL_TITLES.get(t['level'], t['level'])}] {t['name']}"
                    + ("（受理单位）" if t["faces_applicant"] else "")} for t in relay_targets(system, actor, case_id)]
    return {"pending": None, "targets": targets}


def relay_targets(system: System, actor: Actor, case_id: int) -> list[dict[str, Any]]:
    """Units the holder of the case may relay it to now (those with active staff of the role), for a picker."""
    with system.db.unit_of_work(write=False) as session:
        case = load_case(session, case_id) if 0 < case_id <= MAX_ROW_ID else None
        task = _holding_task(system, session, actor, case_id) if case is not None else None
        if case is None or task is None or case.process_id not in RELAY_PROCESSES:
            return []
        staffed = _staffed_units(session, task.role)
        enterprise = _is_enterprise(session, case)
        org = system.org(session)
        out = []
        above = {code for code in org.by_code if task.unit_code in org.subtree(code)} - {task.unit_code}

        def nearness(code: str) -> tuple:
            # the unit facing the applicant, the units above, the matter's responsible unit, then the tree
            return (code != case.started_unit, code not in above, code != responsible, org.by_code[code].path)

        responsible = session.scalar(select(Matter.responsible_unit).where(Matter.code == case.matter_code)) \
            if case.matter_code else None
        for code in sorted(staffed, key=nearness):
            if _target_problem(org, staffed, enterprise, task.role, task.unit_code, code) is None:
                unit = org.by_code[code]
                out.append({"code": code, "name": unit.name, "level": unit.level,
                            "direction": _direction(org, task.unit_code, code),
                            "faces_applicant": code == case.started_unit})
        return out
