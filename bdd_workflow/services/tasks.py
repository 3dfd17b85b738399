"""The inbox and the work on a task: claim, complete."""

from __future__ import annotations

from typing import Any

from sqlalchemy import case as sql_case
from types import SimpleNamespace

from sqlalchemy import bindparam, func, or_, select, update

from ..db.models import HumanTask, Matter
from ..errors import Conflict, Forbidden, NotFound, TaskNotReady
from ..system import System
from .audit import audit
from .cases import TASK, case_summary, load_case, load_visible_case, record_step, sync, task_view
from .identity import Actor
from .org import ref_exists


_SELECT_TASK = select(TASK).where(TASK.c.id == bindparam("task_id"))
# Both writes are conditional on the row still being ready: a concurrent completion that got
# there first makes them match nothing, which is a 409, not a second completion.
_COMPLETE_TASK = (update(TASK).where(TASK.c.id == bindparam("task_id"), TASK.c.status == "ready")
                  .values(status="completed", completed_at=bindparam("completed_at"),
                          completed_by=bindparam("completed_by"), assignee=bindparam("assignee")))
_CLAIM_TASK = (update(TASK).where(TASK.c.id == bindparam("task_id"), TASK.c.status == "ready",
                                  or_(TASK.c.assignee.is_(None), TASK.c.assignee == bindparam("me")))
               .values(assignee=bindparam("me"), claimed_at=bindparam("now")))


def _may_work_on(system: System, session, actor: Actor, row: HumanTask) -> None:
    """Staff act on tasks of their role in their unit; chief officers and the office, below them too."""
    if row.role != actor.role:
        raise Forbidden(f"这个任务属于{row.role}角色，您无权办理。")
    if actor.sees_all:
        units = system.org(session).subtree(actor.unit_code) if actor.unit_code else None
        if units is not None and row.unit_code not in units:
            raise Forbidden("这个任务不属于您的单位，您无权办理（R-6.2）。")
    elif row.unit_code != actor.unit_code:
        raise Forbidden("这个任务不属于您的单位，您无权办理（R-6.2）。")


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
            if actor.sees_all and actor.unit_code:
                # A chief officer's group is every task of the role in the units they direct.
                query = query.where(HumanTask.unit_code.in_(system.org(session).subtree(actor.unit_code)))
            elif not actor.sees_all:
                query = query.where(HumanTask.unit_code == actor.unit_code)
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
            "form": form.schema if form else None,
            "form_title": form.title if form else None,
            "ui": form.ui if form else None,
            "case": case_summary(system, case) | {"applicant_phone": case.applicant_phone},
            "matter": {"code": matter.code, "name": matter.name, "promised_days": matter.promised_days} if matter else None,
            "notice": matter.notice if matter else None,
        }


def claim_task(system: System, actor: Actor, task_id: str) -> dict[str, Any]:
    now = system.clock.now()
    with system.db.unit_of_work() as session:
        row = _load(session, task_id)
        _may_work_on(system, session, actor, row)
        if row.status != "ready":
            raise TaskNotReady("这个任务已经不是待办状态，请刷新后再试。")
        if row.assignee and row.assignee != actor.username:
            raise Conflict(f"这个任务已被 {row.assignee} 认领。")
        # Conditional: of two claims at once (PostgreSQL runs them side by side) only one matches.
        claimed = session.execute(_CLAIM_TASK, {"task_id": row.id, "me": actor.username, "now": now})
        if claimed.rowcount != 1:
            raise Conflict("这个任务刚刚被他人认领或办理，请刷新后再试。")
        row.assignee, row.claimed_at = actor.username, now
        audit(session, now, actor.username, "task_claimed", case_id=row.case_id, task_id=row.id, element=row.name)
        return task_view(row, now)


def complete_task(system: System, actor: Actor, task_id: str, data: dict[str, Any]) -> dict[str, Any]:
    """Validate against the task's form, run the engine, sync derived rows, audit; all or nothing."""
    now = system.clock.now()
    with system.db.unit_of_work() as session:
        found = session.execute(_SELECT_TASK, {"task_id": task_id}).first()
        if found is None:
            raise NotFound(f"任务 {task_id} 不存在。")
        row = SimpleNamespace(**found._mapping)
        _may_work_on(system, session, actor, row)
        if row.status != "ready":
            raise TaskNotReady("这个任务已经办理过了（或已取消），请刷新后再试。")
        if row.assignee and row.assignee != actor.username:
            raise Conflict(f"这个任务已被 {row.assignee} 认领，只有认领人可以办理。")
        if row.form:
            system.forms.validate(row.form, data, lambda kind, value: ref_exists(session, kind, value))
        # Take the task first: a second completion waits here for the first to commit, then matches
        # nothing and gets a 409, before any engine work.
        assignee = row.assignee or actor.username
        completed = session.execute(_COMPLETE_TASK, {"task_id": row.id, "completed_at": now,
                                                     "completed_by": actor.username, "assignee": assignee})
        if completed.rowcount != 1:
            raise TaskNotReady("这个任务刚刚被他人办理，请刷新后再试。")
        row.status, row.completed_at, row.completed_by, row.assignee = "completed", now, actor.username, assignee
        case = load_case(session, row.case_id)
        if case is None or case.status in ("completed", "cancelled"):
            raise TaskNotReady("这个办件已经结束。")
        spec, subprocess_specs = system.spec_for(session, case.definition_id)
        workflow = system.serializer.load_state(case.state_json, spec, subprocess_specs)
        result, step = system.runner.complete(workflow, task_id, data, system.run_context(session))
        record_step(session, case, row, step, actor, now)
        sync(system, session, case, result, actor, now, step=step)
        return {"task": task_view(row, now), "case": case_summary(system, case),
                "next_tasks": [{"id": t.id, "name": t.name, "title": t.title, "role": t.role, "unit": t.unit}
                               for t in result.ready]}
