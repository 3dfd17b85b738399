"""What the staff pages read: the inbox, a task with its form and notice, a case, the callback desk,
the ledger. Each function is one page's data in one call; none loads a workflow's state."""

from __future__ import annotations

import math
from datetime import datetime, time, timedelta
from typing import Any

from sqlalchemy import and_, func, literal, or_, select, true, union_all
from sqlalchemy import case as sql_case

from .. import formrender
from ..db.models import (Attachment, AuditEvent, Case, CaseLink, Evaluation, HumanTask, Matter, OrgUnit,
                         ProcessDefinition, Staff)
from ..errors import Forbidden, FormInvalid, NotFound, TaskNotReady
from ..roles import CHIEF_OFFICER, ROLE_TITLES, TASK_ROLES
from ..system import System
from . import access, attachments, cases, definitions, evaluations, ledger, problems, relays, tasks, workload
from .identity import NON_STAFF_NAMES, Actor

PROCESS_TITLES = {
    "consultation": "咨询", "assist": "帮办", "proxy": "代办", "onsite": "上门办",
    "callback": "回访", "rectification": "整改", "complaint": "投诉", "problem_report": "问题上报", "handover": "问题交办",
}
STATUS_TITLES = {"running": "办理中", "waiting": "等待中", "suspended": "已暂停", "completed": "已办结",
                 "cancelled": "已取消", "ready": "待办"}
CHANNEL_TITLES = {"phone": "电话", "walk_in": "来访", "online": "网上申请"}
APPLICANT_TYPES = {"personal": "个人", "enterprise": "企业"}
DUE_STATES = {"overdue": "已超时", "today": "今日到期", "later": "以后到期", "none": "无期限"}
SORTS = {"due": "按到期时间", "created": "按创建时间"}
RELATION_TITLES = {"callback": "回访", "converted_to_proxy": "转为代办", "rectification": "差评整改",
                   "problem_report": "问题上报", "handover": "回访发现问题交办", "linked": "关联"}
ACTION_TITLES = {
    "case_started": "受理登记", "task_claimed": "认领任务", "task_unclaimed": "退回任务", "task_reassigned": "改派任务",
    "task_completed": "办理", "timer_fired": "超过时限", "case_completed": "办结", "attachment_added": "上传附件",
    "case_note": "关联办件", "case_migrated": "迁移版本", "case_cancelled": "撤销办件", "case_suspended": "暂停办件",
    "case_resumed": "恢复办件", "case_rated": "评价",
    "relay_requested": "发出互动接力", "relay_accepted": "接收互动接力", "relay_returned": "退回互动接力",
}
# Staff record these offline (R-9.1.2, R-9.3.1) or at the hotline; callbacks and rectifications start themselves.
INTAKE_PROCESSES = ("assist", "proxy", "onsite", "consultation", "complaint")
NOTICE_PROCESSES = ("assist", "proxy", "onsite", "consultation")
PER_PAGE = 50
# Ledger rows that no form describes: the opening entry and fired deadlines.
LEDGER_EXTRA = {"type": "object", "properties": {
    "channel": {"title": "受理渠道", "oneOf": [{"const": k, "title": v} for k, v in CHANNEL_TITLES.items()]},
    "source": {"title": "来源办件"}, "due_at": {"title": "时限"}, "attached_to": {"title": "所属环节"},
    "from_unit": {"title": "交出单位", "x-ref": "unit"}, "to_unit": {"title": "接收单位", "x-ref": "unit"},
    "reason": {"title": "接力原因"}, "materials": {"title": "移交材料"}, "note": {"title": "接收或退回说明"},
}}

TASK = HumanTask.__table__
CASE = Case.__table__


# --- shared look-ups ----------------------------------------------------------------------------------

def unit_tree(system: System, session, root: str | None = None) -> list[dict[str, Any]]:
    """Units in tree order with their depth, for selects that show 县 / 乡镇 / 村 (R-3.3)."""
    org = system.org(session)
    units = sorted(org.by_code.values(), key=lambda u: u.path)
    if root:
        prefix = org.by_code[root].path if root in org.by_code else None
        units = [u for u in units if prefix and u.path.startswith(prefix)]
    base = min((u.path.count("/") for u in units), default=2)
    return [{"code": u.code, "name": u.name, "level": u.level, "depth": u.path.count("/") - base,
             "level_title": formrender.LEVEL_TITLES.get(u.level, u.level), "active": u.active} for u in units]


def staff_directory(session, system: System) -> list[dict[str, Any]]:
    org = system.org(session)
    rows = session.execute(select(Staff.username, Staff.name, Staff.role, Staff.active, OrgUnit.code)
                           .outerjoin(OrgUnit, OrgUnit.id == Staff.unit_id).order_by(OrgUnit.path, Staff.id)).all()
    return [{"username": r.username, "name": r.name, "role": r.role, "role_title": ROLE_TITLES.get(r.role, r.role),
             "unit": r.code, "unit_name": org.name(r.code), "active": r.active} for r in rows]


def active_matters(session) -> list[dict[str, Any]]:
    rows = session.execute(select(Matter.code, Matter.name, Matter.service_types, Matter.kind)
                           .where(Matter.active).order_by(Matter.code)).all()
    return [{"code": r.code, "name": r.name, "service_types": list(r.service_types or []), "kind": r.kind} for r in rows]


def _names(system: System, session, staff: list[dict[str, Any]] | None = None,
           matters: list[dict[str, Any]] | None = None) -> dict[str, dict[str, str]]:
    """Code -> name for units, staff and matters: what pages show instead of codes."""
    staff = staff if staff is not None else staff_directory(session, system)
    matters = matters if matters is not None else active_matters(session)
    return {"unit": {c: u.name for c, u in system.org(session).by_code.items()},
            "staff": {**NON_STAFF_NAMES, **{s["username"]: s["name"] for s in staff}},
            "matter": {m["code"]: m["name"] for m in matters}}


def _in_scope(system: System, session, actor: Actor, role: str | None, unit: str | None) -> bool:
    """May ``actor`` work on a task of this role and unit (the rule services.tasks enforces)?"""
    return access.may_work(system, session, actor, role, unit)


def _page_count(total: int, per_page: int) -> int:
    return max(1, math.ceil(total / per_page))


# --- the inbox -----------------------------------------------------------------------------------------

def _units_condition(org, code: str | None):
    """Tasks of this unit and the units below it; no condition at all for the root (the county sees all)."""
    units = org.subtree(code)
    if len(units) == len(org.by_code):
        return None
    return TASK.c.unit_code.in_(sorted(units))


def _group_condition(system: System, session, actor: Actor, role: str | None):
    """本组待办: the actor's role in the actor's unit; those who direct cases see every role in their
    subtree (optionally one role); supervisors their role in their subtree."""
    parts = []
    if actor.directs_cases:
        if role:
            parts.append(TASK.c.role == role)
    else:
        parts.append(TASK.c.role == actor.role)
    units = access.reach(system, session, actor)  # the one rule: the subtree for those who direct, else the unit
    if units is not None:
        parts.append(TASK.c.unit_code == actor.unit_code if units == {actor.unit_code}
                     else TASK.c.unit_code.in_(sorted(units)))
    return and_(true(), *parts)


def _day_bounds(system: System, now: datetime) -> tuple[datetime, datetime]:
    tz = system.calendar.tz
    today = now.astimezone(tz).date()
    start = datetime.combine(today, time.min, tz)
    return start, start + timedelta(days=1)


def _page_ids(condition, sort: str, now: datetime, offset: int, limit: int):
    """The ids of one page, in order, as a subquery over task alone (the case rows are joined for these
    rows only). Sorted by deadline, it is two index-ordered branches: tasks with a deadline, earliest first
    (so the overdue are on top), then tasks without, oldest first; each stops after offset + limit rows."""
    if sort == "created":
        overdue_first = sql_case((and_(TASK.c.due_at.is_not(None), TASK.c.due_at < now), 0), else_=1)
        return (select(TASK.c.id).where(condition).order_by(overdue_first, TASK.c.created_at, TASK.c.id)
                .limit(limit).offset(offset))
    enough = offset + limit
    dated = (select(TASK.c.id, literal(0).label("k"), TASK.c.due_at, TASK.c.created_at)
             .where(condition, TASK.c.due_at.is_not(None))
             .order_by(TASK.c.due_at, TASK.c.created_at, TASK.c.id).limit(enough).subquery())
    undated = (select(TASK.c.id, literal(1).label("k"), TASK.c.due_at, TASK.c.created_at)
               .where(condition, TASK.c.due_at.is_(None))
               .order_by(TASK.c.created_at, TASK.c.id).limit(enough).subquery())
    both = union_all(select(dated), select(undated)).subquery()
    return (select(both.c.id).order_by(both.c.k, both.c.due_at, both.c.created_at, both.c.id)
            .limit(limit).offset(offset))


def inbox(system: System, actor: Actor, scope: str = "mine", process: str | None = None, matter: str | None = None,
          unit: str | None = None, due: str | None = None, role: str | None = None, sort: str = "due",
          page: int = 1, per_page: int = PER_PAGE) -> dict[str, Any]:
    """我的待办 / 本组待办 with filters, overdue first. One query over the task table's indexes picks the
    page; only its rows are joined to their cases (number, applicant); the workflow state is never read.
    The tab counts are index-only counts."""
    now = system.clock.now()
    scope = scope if scope in ("mine", "group") else "mine"
    sort = sort if sort in SORTS else "due"
    page = min(max(1, page), 100_000)
    with system.db.unit_of_work(write=False) as session:
        org = system.org(session)
        mine = and_(TASK.c.status == "ready", TASK.c.assignee == actor.username)
        group = and_(TASK.c.status == "ready", _group_condition(system, session, actor, None))
        view = mine if scope == "mine" else and_(TASK.c.status == "ready", _group_condition(
            system, session, actor, role if actor.directs_cases else None))
        filters = []
        if process:
            filters.append(TASK.c.process_id == process)
        if unit and unit in org.by_code:
            condition = _units_condition(org, unit)
            if condition is not None:
                filters.append(condition)
        if due in DUE_STATES:
            _, tomorrow = _day_bounds(system, now)
            filters.append({
                "overdue": TASK.c.due_at < now,
                "today": and_(TASK.c.due_at >= now, TASK.c.due_at < tomorrow),
                "later": TASK.c.due_at >= tomorrow,
                "none": TASK.c.due_at.is_(None),
            }[due])
        if matter:
            filters.append(TASK.c.case_id.in_(select(CASE.c.id).where(CASE.c.matter_code == matter)))
        condition = and_(view, *filters)

        staff = staff_directory(session, system)
        # A chief officer's inbox carries the peak alerts of the units they direct and the count of tasks
        # nobody of the role can take (R-7.1.1, R-9.1.1.2), as of at most workload.NOTICE_TTL_SECONDS ago.
        notices = workload.inbox_notices(system, session, actor, staff)
        counts = {"mine": session.scalar(select(func.count()).select_from(TASK).where(mine)),
                  "group": session.scalar(select(func.count()).select_from(TASK).where(group))}
        if filters or (scope == "group" and role and actor.directs_cases):
            total = session.scalar(select(func.count()).select_from(TASK).where(condition))
        else:
            total = counts[scope]
        ids = _page_ids(condition, sort, now, (page - 1) * per_page, per_page).scalar_subquery()
        found = session.execute(
            select(TASK.c.id, TASK.c.case_id, TASK.c.process_id, TASK.c.name, TASK.c.title, TASK.c.role,
                   TASK.c.unit_code, TASK.c.assignee, TASK.c.due_at, TASK.c.created_at, TASK.c.provisional,
                   CASE.c.number, CASE.c.applicant_name, CASE.c.matter_code)
            .select_from(TASK.join(CASE, CASE.c.id == TASK.c.case_id)).where(TASK.c.id.in_(ids))).all()
        if sort == "created":
            found.sort(key=lambda r: (0 if r.due_at and r.due_at < now else 1, r.created_at, r.id))
        else:
            found.sort(key=lambda r: (r.due_at is None, r.due_at or now, r.created_at, r.id))

        matters = active_matters(session)
        names = _names(system, session, staff, matters)
        active = [s for s in staff if s["active"]]
        workable = access.reach(system, session, actor)  # the rule of access.may_work, read once for the page
        directed = access.directed_units(system, session, actor)
        items = []
        for r in found:
            directs = actor.directs_cases and (directed is None or r.unit_code in directed)
            may_work = r.role == actor.role and (workable is None or r.unit_code in workable)
            candidates = []
            if directs:
                for s in active:
                    if s["role"] != r.role or s["username"] == r.assignee:
                        continue
                    # anyone of the role in a unit the chief officer directs (tasks.reassign_task's rule)
                    if directed is None or s["unit"] in directed:
                        candidates.append(s | {"unit_name": org.name(s["unit"])})
                candidates.sort(key=lambda s: s["unit"] != r.unit_code)  # the task's own unit first
            items.append({
                "id": r.id, "case_id": r.case_id, "process": r.process_id, "name": r.name, "title": r.title,
                "role": r.role, "unit": r.unit_code, "unit_name": org.name(r.unit_code) or r.unit_code,
                "assignee": r.assignee, "assignee_name": names["staff"].get(r.assignee, r.assignee),
                "due_at": r.due_at, "created_at": r.created_at, "provisional": bool(r.provisional),
                "overdue": bool(r.due_at and r.due_at < now), "case_number": r.number,
                "applicant_name": r.applicant_name, "matter_code": r.matter_code,
                "matter_name": names["matter"].get(r.matter_code or "", r.matter_code),
                "can_claim": r.assignee is None and may_work,
                "can_unclaim": bool(r.assignee) and (r.assignee == actor.username or directs),
                "can_reassign": directs, "candidates": candidates,
            })
        bulk_targets = []  # the group view lets a chief officer move several tasks at once (R-7.1.1)
        if actor.directs_cases and scope == "group":
            bulk_targets = [s | {"unit_name": org.name(s["unit"])} for s in active
                            if s["role"] in TASK_ROLES and s["unit"] and (directed is None or s["unit"] in directed)]
            bulk_targets.sort(key=lambda s: TASK_ROLES.index(s["role"]))
        return {
            "notices": notices, "bulk_targets": bulk_targets,
            "scope": scope, "items": items, "total": total, "page": page, "per_page": per_page,
            "pages": _page_count(total, per_page), "counts": counts,
            "filters": {"process": process, "matter": matter, "unit": unit, "due": due, "role": role, "sort": sort},
            "options": {
                "processes": PROCESS_TITLES, "matters": matters, "due_states": DUE_STATES, "sorts": SORTS,
                "units": unit_tree(system, session, actor.unit_code) if actor.sees_all else [],
                "roles": {r: ROLE_TITLES[r] for r in ROLE_TITLES if r != "administrator"} if actor.directs_cases else {},
            },
        }


def reassign_many(system: System, actor: Actor, task_ids: list[str], username: str) -> dict[str, Any]:
    """services.tasks.reassign_tasks (several tasks to one person, all or nothing)."""
    return tasks.reassign_tasks(system, actor, task_ids, username)


def reassign(system: System, actor: Actor, task_id: str, username: str) -> dict[str, Any]:
    """services.tasks.reassign_task, with the new holder's name for the message."""
    task = tasks.reassign_task(system, actor, task_id, username)
    with system.db.unit_of_work(write=False) as session:
        name = session.scalar(select(Staff.name).where(Staff.username == task["assignee"]))
    return task | {"assignee_name": name or task["assignee"]}


# --- a task: its form, the case, the one-time notice ------------------------------------------------------

def form_refs(system: System, session, kinds: set[str], staff: list[dict[str, Any]], matters: list[dict[str, Any]]) -> formrender.Refs:
    return formrender.Refs(
        # A retired unit stays on old cases and in the filters, but nobody dispatches work to it.
        units=[u for u in unit_tree(system, session) if u["active"]] if "unit" in kinds else [],
        staff=[s for s in staff if s["active"]] if "staff" in kinds else [],
        matters=matters if "matter" in kinds else [],
    )


def _start_data(session, case_id: int) -> dict[str, Any]:
    """What was recorded when the case started (address, question ...): the first audit event's data."""
    detail = session.scalar(select(AuditEvent.detail).where(AuditEvent.case_id == case_id,
                                                            AuditEvent.action == "case_started")
                            .order_by(AuditEvent.id).limit(1))
    return dict((detail or {}).get("data") or {})


def _start_shown(system: System, session, case: dict[str, Any], started: dict[str, Any],
                 names: dict[str, dict[str, str]]) -> list[formrender.Shown]:
    """What the case was started with beyond the applicant, labelled by the start form of its version (as the
    form is now: a field it no longer has shows under its own name)."""
    name = session.scalar(select(ProcessDefinition.start_form).where(
        ProcessDefinition.process_id == case["process"], ProcessDefinition.version == case["version"]))
    if not name or not system.forms.exists(name):
        return []
    form = system.forms.get(name)
    ours = {k: v for k, v in started.items() if k not in cases.START_FIELDS}
    return formrender.describe(form.schema, ours, names, form.ui)


def _steps_shown(system: System, session, case_id: int, names: dict[str, dict[str, str]]) -> list[dict[str, Any]]:
    """The steps already done in the case, each with what its form recorded: the answer to a problem report is
    what the reporter's task is about (R-6.4.2), and any step reads better knowing what came before."""
    rows = session.execute(
        select(AuditEvent.actor, AuditEvent.at, AuditEvent.detail, HumanTask.form, HumanTask.title)
        .join(HumanTask, HumanTask.id == AuditEvent.task_id)
        .where(AuditEvent.case_id == case_id, AuditEvent.action == "task_completed").order_by(AuditEvent.id)).all()
    steps = []
    for row in rows:
        form = system.forms.get(row.form) if row.form and system.forms.exists(row.form) else None
        data = (row.detail or {}).get("data") or {}
        steps.append({"title": row.title, "at": row.at, "actor_name": names["staff"].get(row.actor, row.actor),
                      "shown": formrender.describe(form.schema if form else None, data, names, form.ui if form else None)})
    return steps


def report_form(system: System) -> dict[str, Any] | None:
    """The problem report's start form (title, schema, ui), for the task page; None when it is not deployed."""
    return start_forms(system, (problems.PROCESS,)).get(problems.PROCESS)


def task_page(system: System, actor: Actor, task_id: str, have: list[int] | None = None) -> dict[str, Any]:
    """The task with its form, the case, the notice as a material check list, the case's attachments."""
    detail = tasks.get_task(system, actor, task_id)  # 404 / 403 (R-6.2) here
    with system.db.unit_of_work(write=False) as session:
        staff = staff_directory(session, system)
        matters = active_matters(session)
        names = _names(system, session, staff, matters)
        schema = detail["form"] or {}
        refs = form_refs(system, session, formrender.ref_kinds(schema), staff, matters)
        files = session.scalars(select(Attachment).where(Attachment.case_id == detail["case_id"]).order_by(Attachment.id)).all()
        may_work = _in_scope(system, session, actor, detail["role"], detail["unit"])
        started = _start_data(session, detail["case_id"])
        steps = _steps_shown(system, session, detail["case_id"], names)
        start_shown = _start_shown(system, session, detail["case"], started, names)
        case = detail["case"]
        source = session.execute(
            select(Case.id, Case.number, Case.process_id, Case.status, Case.completed_at, Case.unit_code, CaseLink.relation)
            .join(CaseLink, CaseLink.from_case_id == Case.id).where(CaseLink.to_case_id == detail["case_id"])
            .order_by(CaseLink.id).limit(1)).first()
        # 一事一评: the rated service case's rating of record, shown beside a callback or a rectification.
        rating = evaluations.rating_view(system, session, source.id) if (
            source and source.process_id in cases.SERVICE_PROCESSES) else None
    rule = formrender.signature_rule(schema)
    checklist = formrender.material_checklist(detail["notice"], have or [])
    ready = detail["status"] == "ready"
    can_work = ready and may_work and detail["assignee"] in (None, actor.username)
    return detail | {
        # 互动接力 (R-6.4.3): whoever works an open step of an assist or proxy case may hand it on.
        "relay": relays.relay_panel(system, actor, detail["case_id"]) if can_work else None,
        "refs": refs, "names": names, "checklist": checklist,
        # R-5.4, R-9.1.3.3: the form's own check lists of the matter's materials; the notice it gives instead
        # of free text (a consultation that names a matter).
        "options_fields": formrender.options_fields(schema), "catalog_notice": _catalog_notice(system, detail),
        "attachments": [attachments.view(a) for a in files],
        "signature_rule": rule, "signed": any(a.kind == "signature" and a.task_id == task_id for a in files),
        "can_work": can_work,
        "can_claim": ready and may_work and detail["assignee"] is None,
        "can_unclaim": ready and bool(detail["assignee"]) and detail["assignee"] == actor.username,
        # R-6.4.2: whoever works a task may report a problem met on it to the chief officer (services/problems.py).
        "can_report": can_work and problems.may_report_on(actor, detail["process"]),
        "steps": steps,
        "started_by_name": names["staff"].get(detail["case"]["started_by"]) if detail["case"].get("started_by") else None,
        "assignee_name": names["staff"].get(detail["assignee"], detail["assignee"]),
        "unit_name": names["unit"].get(detail["unit"], detail["unit"]),
        "case_unit_name": names["unit"].get(case["unit"], case["unit"]),
        "source": dict(source._mapping) | {"unit_name": names["unit"].get(source.unit_code or "", source.unit_code)}
        if source else None,
        # The material check list is for the services and the hotline, not for callbacks or escalations.
        "show_notice": bool(detail["notice"]) and detail["process"] in NOTICE_PROCESSES,
        "start_shown": start_shown, "start_note": started.get("note"),
        "rating": rating,
    }


def _catalog_notice(system: System, detail: dict[str, Any]) -> bool:
    """Whether the matter's one-time notice takes the place of a free-text field of the task's form."""
    if not detail["form_name"] or not system.forms.exists(detail["form_name"]):
        return False
    form = system.forms.get(detail["form_name"])
    return any(name not in (detail["form"] or {}).get("properties", {}) for name in form.notice_fields)


def form_schema(system: System, task_id: str) -> dict[str, Any]:
    """The JSON Schema of a task's form (to read a posted HTML form back into JSON)."""
    with system.db.unit_of_work(write=False) as session:
        row = session.execute(select(HumanTask.form).where(HumanTask.id == task_id)).first()
    if row is None:
        raise NotFound(f"任务 {task_id} 不存在。")
    return system.forms.get(row.form).schema if row.form else {}


def complete(system: System, actor: Actor, task_id: str, data: dict[str, Any]) -> dict[str, Any]:
    """Complete the task (services.tasks.complete_task) and say in Chinese what comes next."""
    result = tasks.complete_task(system, actor, task_id, data)
    with system.db.unit_of_work(write=False) as session:
        org = system.org(session)
        steps = [f"{t['title']}（{ROLE_TITLES.get(t['role'], t['role'] or '')}"
                 f"{' · ' + (org.name(t['unit']) or t['unit']) if t.get('unit') else ''}）" for t in result["next_tasks"]]
    done = f"“{result['task'].get('title') or result['task']['name']}”已提交。"
    relations = {"callback": "回访", "converted_to_proxy": "转代办", "rectification": "差评整改", "handover": "问题交办"}
    with system.db.unit_of_work(write=False) as session:
        org = system.org(session)
        for linked in result.get("started_cases", []):
            done += (f"已启动{relations.get(linked['relation'], linked['process'])}办件 {linked['number']}"
                     f"（{org.name(linked['unit']) or linked['unit'] or ''}）。")
    if steps:
        message = done + "下一步：" + "；".join(steps) + "。"
    elif result["case"]["status"] == "completed":
        message = done + f"办件 {result['case']['number']} 已办结。"
    else:
        message = done + "办件正在等待时限或其他环节。"
    return result | {"message": message}


def notice_sheet(system: System, actor: Actor, task_id: str, have: list[int]) -> dict[str, Any]:
    """The printable 一次性告知单: what the applicant still lacks and how to obtain each (R-9.1.3.3, R-5.4)."""
    detail = tasks.get_task(system, actor, task_id)
    with system.db.unit_of_work(write=False) as session:
        org = system.org(session)
        unit_name = org.name(detail["case"]["unit"]) or detail["case"]["unit"]
        actor_unit = org.name(actor.unit_code) or actor.unit_code
        phone = org.by_code[actor.unit_code].phone if actor.unit_code in org.by_code else None
    return {"task": detail, "case": detail["case"], "matter": detail["matter"], "notice": detail["notice"] or {},
            "checklist": formrender.material_checklist(detail["notice"], have), "unit_name": unit_name,
            "actor_unit_name": actor_unit, "unit_phone": phone or "0310-7212345", "printed_at": system.clock.now()}


def add_signature(system: System, actor: Actor, task_id: str, data: bytes, filename: str,
                  content_type: str) -> dict[str, Any]:
    """Keep the applicant's signature (drawn or scanned) for a task whose form asks for one (R-9.2.1, R-9.2.3)."""
    with system.db.unit_of_work(write=False) as session:
        row = session.get(HumanTask, task_id)
        if row is None:
            raise NotFound(f"任务 {task_id} 不存在。")
        if row.status != "ready":
            raise TaskNotReady("这个任务已经不是待办状态，不能再上传签名。")
        if not _in_scope(system, session, actor, row.role, row.unit_code):
            raise Forbidden("这个任务不属于您的岗位或单位，您无权为它上传签名（R-6.2）。")
        schema = system.forms.get(row.form).schema if row.form else {}
        case_id = row.case_id
    if not formrender.signature_rule(schema):
        raise FormInvalid({"signature": ["这个任务的表单不需要服务对象签名。"]})
    return attachments.add(system, actor, case_id, "signature", data, filename, content_type, task_id=task_id)


# --- a case ------------------------------------------------------------------------------------------------

def case_page(system: System, actor: Actor, case_id: int) -> dict[str, Any]:
    """The case with its steps (who, when, what they submitted), timers, history, links and attachments."""
    case = cases.get_case(system, actor, case_id)  # 404 / 403 (R-6.2) here
    with system.db.unit_of_work(write=False) as session:
        names = _names(system, session)
        files = session.scalars(select(Attachment).where(Attachment.case_id == case_id).order_by(Attachment.id)).all()
        matter = session.scalar(select(Matter.name).where(Matter.code == case["matter_code"])) if case["matter_code"] else None
        started = _start_data(session, case_id)
        start_shown = _start_shown(system, session, case, started, names)
    forms_of = {t["name"]: t["form"] for t in case["completed_tasks"] + case["tasks"]}
    steps = []
    for event in case["history"]:
        detail = event["detail"] or {}
        if event["action"] != "task_completed":
            continue
        form_name = forms_of.get(event["element"])
        form = system.forms.forms.get(form_name) if form_name else None
        steps.append({"at": event["at"], "actor": event["actor"],
                      "actor_name": names["staff"].get(event["actor"], event["actor"]),
                      "title": detail.get("title") or event["element"],
                      "shown": formrender.describe(form.schema if form else None, detail.get("data"), names,
                                                   form.ui if form else None)})
    return case | {
        "names": names, "matter_name": matter, "unit_name": names["unit"].get(case["unit"] or "", case["unit"]),
        "steps": steps, "attachments": [attachments.view(a) for a in files], "start_data": started, "start_shown": start_shown,
        "ready_tasks": [t | {"unit_name": names["unit"].get(t["unit"] or "", t["unit"]),
                             "assignee_name": names["staff"].get(t["assignee"], t["assignee"])} for t in case["tasks"]],
    }


def cases_page(system: System, actor: Actor, process: str | None = None, status: str | None = None,
               page: int = 1, per_page: int = PER_PAGE) -> dict[str, Any]:
    result = cases.list_cases(system, actor, process=process, status=status, page=max(1, page), per_page=per_page)
    with system.db.unit_of_work(write=False) as session:
        names = _names(system, session, staff=[])
    return result | {"names": names, "pages": _page_count(result["total"], per_page),
                     "filters": {"process": process, "status": status}}


# --- intake ------------------------------------------------------------------------------------------------

def intake_options(system: System, actor: Actor) -> dict[str, Any]:
    """The procedures this role may start at the desk, each with its start form, and the matter catalog with
    the services each offers."""
    allowed = [d for d in definitions.list_definitions(system)
               if d["process"] in INTAKE_PROCESSES and actor.role in d["starter_roles"]]
    allowed.sort(key=lambda d: INTAKE_PROCESSES.index(d["process"]))
    with system.db.unit_of_work(write=False) as session:
        matters = active_matters(session)
        forms = _start_forms(system, session, allowed, matters)
    return {"processes": [{"process": d["process"], "name": d["name"], "title": PROCESS_TITLES.get(d["process"], d["name"]),
                           "start_form": forms.get(d["process"])} for d in allowed], "matters": matters}


def start_forms(system: System, processes: tuple[str, ...] | list[str], public: bool = False) -> dict[str, dict[str, Any]]:
    """Process -> the start form its newest diagram names (title, schema, ui and the choices its x-ref fields
    offer), for the pages where a case is started; processes whose start asks for nothing are left out.
    ``public``: for a page anyone may open, which lists units and matters (disclosed anyway) but no staff."""
    chosen = [d for d in definitions.list_definitions(system) if d["process"] in processes]
    with system.db.unit_of_work(write=False) as session:
        return _start_forms(system, session, chosen, active_matters(session), with_staff=not public)


def _start_forms(system: System, session, chosen: list[dict[str, Any]], matters: list[dict[str, Any]],
                 with_staff: bool = True) -> dict[str, dict[str, Any]]:
    found = {}
    for d in chosen:
        name = d.get("start_form")
        if not name or not system.forms.exists(name):
            continue
        form = system.forms.get(name)
        kinds = formrender.ref_kinds(form.schema)
        staff = staff_directory(session, system) if "staff" in kinds and with_staff else []
        found[d["process"]] = {"name": name, "title": form.title, "schema": form.schema, "ui": form.ui,
                               "refs": form_refs(system, session, kinds, staff, matters)}
    return found


# --- the callback desk (R-10.1) ------------------------------------------------------------------------------

def callback_desk(system: System, actor: Actor, page: int = 1, per_page: int = PER_PAGE) -> dict[str, Any]:
    """Every callback waiting to be made, oldest first, with the case it follows up."""
    page = max(1, page)
    callback_case = CASE.alias("callback_case")
    source = CASE.alias("source_case")
    link = CaseLink.__table__
    with system.db.unit_of_work(write=False) as session:
        joined = (TASK.join(callback_case, callback_case.c.id == TASK.c.case_id)
                  .outerjoin(link, and_(link.c.to_case_id == callback_case.c.id, link.c.relation == "callback"))
                  .outerjoin(source, source.c.id == link.c.from_case_id))
        condition = and_(TASK.c.status == "ready", TASK.c.process_id == "callback")
        reach = access.reach(system, session, actor)
        if reach is not None and actor.role == CHIEF_OFFICER:
            units = sorted(reach)  # the callbacks of the cases they direct, and any task of their units
            condition = and_(condition, or_(source.c.unit_code.in_(units), TASK.c.unit_code.in_(units)))
        elif reach is not None:
            condition = and_(condition, TASK.c.unit_code.in_(sorted(reach)))
        total = session.scalar(select(func.count()).select_from(joined).where(condition))
        rows = session.execute(
            select(TASK.c.id, TASK.c.title, TASK.c.role, TASK.c.unit_code, TASK.c.assignee, TASK.c.created_at,
                   TASK.c.due_at, callback_case.c.id.label("callback_id"), callback_case.c.number.label("callback_number"),
                   callback_case.c.applicant_name, callback_case.c.applicant_phone, callback_case.c.matter_code,
                   source.c.id.label("source_id"), source.c.number.label("source_number"),
                   source.c.process_id.label("source_process"), source.c.unit_code.label("source_unit"),
                   source.c.completed_at.label("source_completed_at"))
            .select_from(joined).where(condition).order_by(TASK.c.created_at, TASK.c.id)
            .limit(per_page).offset((page - 1) * per_page)).all()
        names = _names(system, session)
        sources = [r.source_id for r in rows if r.source_id]
        # 一事一评: a case already rated at the window or online shows that rating (the callback's is its opinion).
        rated = {e.case_id: e for e in session.execute(
            select(Evaluation.case_id, Evaluation.source, Evaluation.satisfaction)
            .where(Evaluation.case_id.in_(sources), Evaluation.of_record))} if sources else {}
        items = [dict(r._mapping) | {
            "rating": {"source_title": evaluations.SOURCES.get(rated[r.source_id].source),
                       "label": evaluations.GRADES.get(rated[r.source_id].satisfaction)} if r.source_id in rated else None,
            "matter_name": names["matter"].get(r.matter_code or "", r.matter_code),
            "unit_name": names["unit"].get(r.source_unit or "", r.source_unit),
            "assignee_name": names["staff"].get(r.assignee, r.assignee),
            "can_work": _in_scope(system, session, actor, r.role, r.unit_code) and r.assignee in (None, actor.username),
        } for r in rows]
    return {"items": items, "total": total, "page": page, "per_page": per_page, "pages": _page_count(total, per_page)}


# --- the ledger (台账) ----------------------------------------------------------------------------------------

def ledger_page(system: System, actor: Actor, unit: str | None = None, case_number: str | None = None,
                page: int = 1, per_page: int = PER_PAGE) -> dict[str, Any]:
    result = ledger.list_ledger(system, actor, unit=unit or None, case_number=case_number or None,
                                page=max(1, page), per_page=per_page)
    with system.db.unit_of_work(write=False) as session:
        names = _names(system, session)
        units = unit_tree(system, session, None if actor.sees_all else actor.unit_code)
        forms_of = {(d.process_id, t["name"]): t.get("form") for d in definitions.latest_definitions(session)
                    for t in (d.user_tasks or [])}
    for entry in result["items"]:
        form = system.forms.forms.get(forms_of.get((entry["process"], entry["step"])) or "")
        entry["shown"] = formrender.describe(form.schema if form else LEDGER_EXTRA, entry["data"], names,
                                             form.ui if form else None)
    return result | {"names": names, "units": units, "pages": _page_count(result["total"], per_page),
                     "filters": {"unit": unit, "case_number": case_number}}

