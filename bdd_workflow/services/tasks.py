"""The inbox and the work on a task: claim, complete."""

from __future__ import annotations

from types import SimpleNamespace
from typing import Any

from sqlalchemy import bindparam, func, or_, select, update
from sqlalchemy import case as sql_case
from sqlalchemy.orm.attributes import set_committed_value

from ..db.fast import Prepared
from ..db.models import HumanTask, Matter, Staff
from ..formrender import NOTICE_KEY
from ..forms import UNBOUND, bind, notice_given, validate_form
from ..roles import ROLE_TITLES
from ..errors import Conflict, Forbidden, FormInvalid, NotFound, TaskNotReady
from ..system import System
from . import access, attachments, evaluations
from .audit import audit
from .cases import CASE, TASK, CaseRecord, case_summary, load_visible_case, record_step, sync, task_view
from .identity import Actor, actor_of
from .org import matter_view, ref_exists


# case_admin: the answer when a task of a suspended case is claimed or completed.
SUSPENDED_MESSAGE = "办件已暂停，暂不能认领或办理，请等待首席服务专员恢复。"
# The task and its case in one statement: a completion reads both anyway. Which result keys are the
# task's and which the case's (column, label) are named once: iterating a Table's columns per
# request cost ~50 µs.
_TASK_KEYS = tuple(c.name for c in TASK.c)
_CASE_KEYS = tuple((c.name, f"case__{c.name}") for c in CASE.c)
_SELECT_TASK_AND_CASE = Prepared(select(*TASK.c, *(CASE.c[name].label(key) for name, key in _CASE_KEYS))
                                 .join(CASE, CASE.c.id == TASK.c.case_id)
                                 .where(TASK.c.id == bindparam("task_id")))
# Both writes are conditional on the row still being ready: a concurrent completion that got
# there first makes them match nothing, which is a 409, not a second completion.
_COMPLETE_TASK = Prepared(update(TASK).where(TASK.c.id == bindparam("task_id"), TASK.c.status == "ready")
                          .values(status="completed", completed_at=bindparam("completed_at"),
                                  completed_by=bindparam("completed_by"), assignee=bindparam("assignee")))
_CLAIM_TASK = (update(TASK).where(TASK.c.id == bindparam("task_id"), TASK.c.status == "ready",
                                  or_(TASK.c.assignee.is_(None), TASK.c.assignee == bindparam("me")))
               .values(assignee=bindparam("me"), claimed_at=bindparam("now")))


def _may_work_on(system: System, session, actor: Actor, row: HumanTask) -> None:
    """Staff act on tasks of their role in their unit; chief officers and the office, below them too."""
    if row.role == actor.role and access.may_work(system, session, actor, row.role, row.unit_code):
        return
    if not access.may_see_case(system, session, actor, row.case_id):
        raise NotFound(f"任务 {row.id} 不存在。")  # a case one may not see: as absent as an unknown id
    if row.role != actor.role:
        raise Forbidden(f"这个任务属于{row.role}角色，您无权办理。")
    raise Forbidden("这个任务不属于您的单位，您无权办理（R-6.2）。")


def _require_signature(system: System, session, row, data: dict[str, Any]) -> None:
    """A form marked ``x-signature`` needs the applicant's signature on file for this task first
    (R-9.2.1 the entrustment, R-9.2.3 the completion receipt): ``{"required": true}``, or
    ``{"when": "<field>"}`` to need it only when that field is true."""
    rule = system.forms.get(row.form).schema.get("x-signature")
    if not rule:
        return
    needed = rule.get("required", False) or bool(rule.get("when") and data.get(rule["when"]))
    if needed and not attachments.has_kind(session, row.case_id, "signature", row.id):
        raise FormInvalid({"signature": ["请先上传或手写服务对象的签名，再提交。"]})


def _case_matter(session, code: str | None) -> dict[str, Any] | None:
    """The case's matter with its one-time notice, for forms that take their choices from it."""
    matter = session.scalars(select(Matter).where(Matter.code == code)).first() if code else None
    return matter_view(matter) if matter else None


def _load(session, task_id: str) -> HumanTask:
    row = session.get(HumanTask, task_id)
    if row is None:
        raise NotFound(f"任务 {task_id} 不存在。")
    return row


def list_tasks(system: System, actor: Actor, scope: str = "mine", process: str | None = None,
               page: int = 1, per_page: int = 50) -> dict[str, Any]:
    """My tasks, or my group's (role and unit); overdue first, then by due time."""
    now = system.clock.now()
    with system.db.unit_of_work(write=False) as session:
        query = select(HumanTask).where(HumanTask.status == "ready")
        if scope == "mine":
            query = query.where(HumanTask.assignee == actor.username)
        else:
            query = query.where(HumanTask.role == actor.role)
            units = access.reach(system, session, actor)
            if units is not None:
                # A chief officer's group is every task of the role in the units they direct.
                query = query.where(HumanTask.unit_code.in_(sorted(units)))
        if process:
            query = query.where(HumanTask.process_id == process)
        total = session.scalar(select(func.count()).select_from(query.subquery()))
        overdue_first = sql_case((HumanTask.due_at < now, 0), else_=1)
        no_due_last = sql_case((HumanTask.due_at.is_(None), 1), else_=0)
        rows = session.scalars(query.order_by(overdue_first, no_due_last, HumanTask.due_at, HumanTask.created_at)
                               .limit(per_page).offset((page - 1) * per_page)).all()
        return {"items": [task_view(r, now) for r in rows], "total": total, "page": page, "per_page": per_page}


def get_task(system: System, actor: Actor, task_id: str) -> dict[str, Any]:
    """The task with its form and the one-time notice of the case's matter (R-5.4)."""
    now = system.clock.now()
    with system.db.unit_of_work(write=False) as session:
        row = _load(session, task_id)
        case = load_visible_case(system, session, actor, row.case_id)
        matter = session.scalars(select(Matter).where(Matter.code == case.matter_code)).first() if case.matter_code else None
        form = system.forms.get(row.form) if row.form else None
        return task_view(row, now) | {
            "instructions": row.instructions,
            "form_name": row.form,
            # For this case: check lists carry the matter's materials as their choices (R-5.4, R-9.1.3.3).
            "form": bind(form, matter_view(matter) if matter else None) if form else None,
            "form_title": form.title if form else None,
            "ui": form.ui if form else None,
            "case": case_summary(system, case) | {"applicant_phone": case.applicant_phone},
            "matter": {"code": matter.code, "name": matter.name, "promised_days": matter.promised_days,
                       "legal_days": matter.legal_days, "department": matter.department, "window": matter.window,
                       "fee": matter.fee} if matter else None,
            "notice": matter.notice if matter else None,
        }


def claim_task(system: System, actor: Actor, task_id: str) -> dict[str, Any]:
    now = system.clock.now()
    with system.db.unit_of_work() as session:
        row = _load(session, task_id)
        _may_work_on(system, session, actor, row)
        if row.status != "ready":
            raise TaskNotReady("这个任务已经不是待办状态，请刷新后再试。")
        # case_admin: a suspended case's tasks cannot be claimed.
        if session.scalar(select(CASE.c.status).where(CASE.c.id == row.case_id)) == "suspended":
            raise TaskNotReady(SUSPENDED_MESSAGE)
        if row.assignee and row.assignee != actor.username:
            raise Conflict(f"这个任务已被 {row.assignee} 认领。")
        # Conditional: of two claims at once (PostgreSQL runs them side by side) only one matches.
        claimed = session.execute(_CLAIM_TASK, {"task_id": row.id, "me": actor.username, "now": now})
        if claimed.rowcount != 1:
            raise Conflict("这个任务刚刚被他人认领或办理，请刷新后再试。")
        row.assignee, row.claimed_at = actor.username, now
        audit(session, now, actor.username, "task_claimed", case_id=row.case_id, task_id=row.id, element=row.name)
        return task_view(row, now)


def unclaim_task(system: System, actor: Actor, task_id: str) -> dict[str, Any]:
    """Give a claimed task back to the group (its holder, or a chief officer directing the unit)."""
    now = system.clock.now()
    with system.db.unit_of_work() as session:
        row = _load(session, task_id)
        if row.status != "ready":
            raise TaskNotReady("这个任务已经不是待办状态，请刷新后再试。")
        if row.assignee != actor.username:
            if not actor.directs_cases:
                raise Forbidden("只有认领人或首席服务专员可以退回这个任务。")
            _may_direct(system, session, actor, row)
        previous = row.assignee
        row.assignee, row.claimed_at = None, None
        audit(session, now, actor.username, "task_unclaimed", case_id=row.case_id, task_id=row.id, element=row.name,
              detail={"previous": previous})
        return task_view(row, now)


def reassign_task(system: System, actor: Actor, task_id: str, username: str) -> dict[str, Any]:
    """A chief officer hands a task to a named staff member of its role, in its unit or in any other unit they
    direct (R-6.4.1, R-7.1.1, R-9.1.1.2): the task then moves to that unit, so it never waits where nobody
    of the role is on duty."""
    now = system.clock.now()
    with system.db.unit_of_work() as session:
        row = _load(session, task_id)
        if not actor.directs_cases:
            raise Forbidden("只有首席服务专员可以改派任务。")
        _may_direct(system, session, actor, row)
        if row.status != "ready":
            raise TaskNotReady("这个任务已经不是待办状态，请刷新后再试。")
        staff = session.scalars(select(Staff).where(Staff.username == username, Staff.active)).first()
        if staff is None:
            raise FormInvalid({"assignee": [f"工作人员 {username} 不存在或已停用。"]})
        target = actor_of(staff)
        directed = access.directed_units(system, session, actor)
        if target.role != row.role:
            raise FormInvalid({"assignee": [f"{staff.name} 的角色不能办理这个任务。"]})
        if directed is not None and target.unit_code not in directed:
            raise FormInvalid({"assignee": [f"{staff.name} 不在您督办的单位，不能改派给他（她）。"]})
        previous, previous_unit = row.assignee, row.unit_code
        row.assignee, row.claimed_at = username, now
        if target.unit_code != row.unit_code:
            row.unit_code = target.unit_code  # the task follows its new holder to their unit
        audit(session, now, actor.username, "task_reassigned", case_id=row.case_id, task_id=row.id, element=row.name,
              detail={"from": previous, "to": username, "from_unit": previous_unit, "to_unit": row.unit_code})
        return task_view(row, now)


MAX_BULK_REASSIGN = 200


def reassign_tasks(system: System, actor: Actor, task_ids: list[str], username: str) -> dict[str, Any]:
    """A chief officer moves several tasks at once to one staff member of their role in the units they direct
    (R-7.1.1 高峰应急): one unit of work, all or nothing; refused with every reason when any task cannot move."""
    now = system.clock.now()
    ids = list(dict.fromkeys(t for t in task_ids if t))
    if not actor.directs_cases:
        raise Forbidden("只有首席服务专员可以改派任务。")
    if not ids:
        raise FormInvalid({"task_ids": ["请先勾选要改派的任务。"]}, "未改派：没有勾选任务。")
    if len(ids) > MAX_BULK_REASSIGN:
        raise FormInvalid({"task_ids": [f"一次最多改派 {MAX_BULK_REASSIGN} 项任务。"]}, "未改派：勾选的任务太多。")
    with system.db.unit_of_work() as session:
        staff = session.scalars(select(Staff).where(Staff.username == username, Staff.active)).first()
        if staff is None:
            raise FormInvalid({"assignee": [f"工作人员 {username} 不存在或已停用。"]}, "未改派：请选择在岗的工作人员。")
        target = actor_of(staff)
        directed = access.directed_units(system, session, actor)
        if directed is not None and target.unit_code not in directed:
            raise FormInvalid({"assignee": [f"{staff.name} 不在您督办的单位，不能改派给他（她）。"]},
                              f"未改派：{staff.name} 不在您督办的单位。")
        rows = {r.id: r for r in session.scalars(select(HumanTask).where(HumanTask.id.in_(ids)))}
        problems = []
        for task_id in ids:
            row = rows.get(task_id)
            if row is None:
                problems.append(f"任务 {task_id} 不存在。")
            elif directed is not None and row.unit_code not in directed:
                problems.append(f"“{row.title}”不属于您督办的单位。")
            elif row.status != "ready":
                problems.append(f"“{row.title}”已经不是待办状态。")
            elif row.role != target.role:
                problems.append(f"“{row.title}”须由{ROLE_TITLES.get(row.role, row.role)}办理，{staff.name}"
                                f"是{ROLE_TITLES.get(target.role, target.role)}。")
        if problems:
            raise FormInvalid({"task_ids": problems}, f"未改派任何任务：{len(problems)} 项不能改派给{staff.name}。")
        moved = []
        for task_id in ids:
            row = rows[task_id]
            # Conditional on the row still being ready: a completion that got there first makes the whole
            # move a 409 and nothing of it is kept.
            done = session.execute(update(TASK).where(TASK.c.id == row.id, TASK.c.status == "ready")
                                   .values(assignee=username, claimed_at=now, unit_code=target.unit_code))
            if done.rowcount != 1:
                raise Conflict(f"“{row.title}”刚刚被他人办理，未改派任何任务，请刷新后再试。")
            previous, previous_unit = row.assignee, row.unit_code
            for key, value in (("assignee", username), ("claimed_at", now), ("unit_code", target.unit_code)):
                set_committed_value(row, key, value)  # written above; the session has nothing more to flush
            audit(session, now, actor.username, "task_reassigned", case_id=row.case_id, task_id=row.id,
                  element=row.name, detail={"from": previous, "to": username, "from_unit": previous_unit,
                                            "to_unit": target.unit_code, "together_with": len(ids)})
            moved.append(task_view(row, now))
        return {"tasks": moved, "count": len(moved), "assignee": username, "assignee_name": staff.name}


def _may_direct(system: System, session, actor: Actor, row) -> None:
    units = access.directed_units(system, session, actor)
    if units is not None and row.unit_code not in units:
        raise Forbidden("这个任务不属于您督办的单位。")


def complete_task(system: System, actor: Actor, task_id: str, data: dict[str, Any]) -> dict[str, Any]:
    """Validate against the task's form, run the engine, sync derived rows, audit; all or nothing."""
    now = system.clock.now()
    with system.db.unit_of_work() as session:
        db = session.connection()
        values = _SELECT_TASK_AND_CASE.first(db, {"task_id": task_id})
        if values is None:
            raise NotFound(f"任务 {task_id} 不存在。")
        row = SimpleNamespace(**{key: values[key] for key in _TASK_KEYS})
        case = CaseRecord(**{name: values[key] for name, key in _CASE_KEYS})
        _may_work_on(system, session, actor, row)
        if row.status != "ready":
            raise TaskNotReady("这个任务已经办理过了（或已取消），请刷新后再试。")
        if case.status == "suspended":  # case_admin: a suspended case's tasks cannot be completed.
            raise TaskNotReady(SUSPENDED_MESSAGE)
        if row.assignee and row.assignee != actor.username:
            raise Conflict(f"这个任务已被 {row.assignee} 认领，只有认领人可以办理。")
        if row.form:
            form = system.forms.get(row.form)
            matter = _case_matter(session, case.matter_code) if form.needs_matter else UNBOUND
            validate_form(form, data, lambda kind, value: ref_exists(session, kind, value), matter,
                          find_phrase=system.phrases.find)
            _require_signature(system, session, row, data)
            # R-9.1.3.3: what the applicant was told, from the catalog, is kept with the step.
            notice = notice_given(form, data, matter) if form.needs_matter else None
            if notice:
                data = {**data, NOTICE_KEY: notice}
        # Take the task first: a second completion waits here for the first to commit, then matches
        # nothing and gets a 409, before any engine work.
        assignee = row.assignee or actor.username
        completed = _COMPLETE_TASK.execute(db, {"task_id": row.id, "completed_at": now,
                                                "completed_by": actor.username, "assignee": assignee})
        if completed != 1:
            raise TaskNotReady("这个任务刚刚被他人办理，请刷新后再试。")
        row.status, row.completed_at, row.completed_by, row.assignee = "completed", now, actor.username, assignee
        if case.status in ("completed", "cancelled"):
            raise TaskNotReady("这个办件已经结束。")
        workflow = system.workflows.take(case.id, case.lock_version, case.definition_id)
        if workflow is None:
            spec, subprocess_specs = system.spec_for(session, case.definition_id)
            workflow = system.serializer.load_state(case.state_json, spec, subprocess_specs)
        result, step = system.runner.complete(workflow, task_id, data, system.run_context(session), actor.username)
        record_step(session, case, row, step, actor, now)
        if "satisfaction" in step.data:
            evaluations.record_from_step(session, case, {**result.data, **step.data}, actor.username, now)
        started = sync(system, session, case, result, actor, now, step=step)
        outcome = {"task": task_view(row, now), "case": case_summary(system, case), "started_cases": started,
                   "next_tasks": [{"id": t.id, "name": t.name, "title": t.title, "role": t.role, "unit": t.unit}
                                  for t in result.ready]}
    # Committed: the next step of this case can start from the workflow in memory.
    system.workflows.put(case.id, case.lock_version, case.definition_id, result.workflow)
    return outcome
