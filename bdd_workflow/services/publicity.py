"""留档宣传 (R-9.4): a case's archive and its write-ups, drafted by staff who may see the case and
published (or withdrawn) by a chief officer or the centre office; published ones appear on the
public 五公开 page. Also what the papers printed from a case need (代办服务委托书 R-9.2.1,
办结单 R-9.2.3, 一次性告知单 R-5.4) and the window's rating device (评价器 R-7.2.1)."""

from __future__ import annotations

from typing import Any

from sqlalchemy import select

from ..db.models import MAX_ROW_ID, Attachment, AuditEvent, Case, Evaluation, HumanTask, Matter, Publicity, Staff
from ..errors import Conflict, DomainError, Forbidden, FormInvalid, NotFound
from ..formrender import NOTICE_KEY
from ..roles import ADMINISTRATOR, CHIEF_OFFICER, ROLE_TITLES, SUPERVISOR
from ..system import System
from . import attachments, evaluations
from .audit import audit
from .cases import SERVICE_PROCESSES, load_visible_case
from .identity import Actor
from .org import matter_view
from .public import PROCESS_TITLES, STATUS_TITLES

PUBLISHERS = (CHIEF_OFFICER, SUPERVISOR, ADMINISTRATOR)
STATUSES = {"draft": "草稿", "published": "已发布", "withdrawn": "已撤回"}
TITLE_MAX, BODY_MAX = 200, 5000
ARCHIVE_KINDS = ("photo", "audio", "video")
# Each printable paper: the process it belongs to (None: any service case), its user task whose
# form asks for the applicant's signature, and its title.
DOCUMENTS = {
    "entrustment": {"processes": ("proxy",), "task": "record_entrustment", "title": "代办服务委托书"},
    "completion_receipt": {"processes": SERVICE_PROCESSES, "task": "sign_completion_receipt", "title": "办结单"},
    "notice": {"processes": None, "task": None, "title": "一次性告知单"},
}


# --- write-ups ----------------------------------------------------------------------------------

def _view(row: Publicity) -> dict[str, Any]:
    return {"id": row.id, "case_id": row.case_id, "title": row.title, "body": row.body, "status": row.status,
            "status_title": STATUSES.get(row.status, row.status), "author": row.author, "created_at": row.created_at,
            "approved_by": row.approved_by, "approved_at": row.approved_at}


def _check_text(system: System, title: str, body: str) -> tuple[str, str]:
    title, body = (title or "").strip(), (body or "").strip()
    errors: dict[str, list[str]] = {}
    if not title:
        errors["title"] = ["请填写标题。"]
    elif len(title) > TITLE_MAX:
        errors["title"] = [f"标题最多 {TITLE_MAX} 字。"]
    if not body:
        errors["body"] = ["请填写正文。"]
    elif len(body) > BODY_MAX:
        errors["body"] = [f"正文最多 {BODY_MAX} 字。"]
    # A published write-up speaks to the public: the same rule as text to applicants.
    errors.update(system.phrases.errors((field, text) for field, text in (("title", title), ("body", body))
                                        if field not in errors))
    if errors:
        raise FormInvalid(errors)
    return title, body


def create_draft(system: System, actor: Actor, case_id: int, title: str, body: str) -> dict[str, Any]:
    """A write-up of a completed case, by a staff member who may see the case (R-9.4, R-6.2)."""
    title, body = _check_text(system, title, body)
    now = system.clock.now()
    with system.db.unit_of_work() as session:
        case = load_visible_case(system, session, actor, case_id)
        if case.status != "completed":
            raise Conflict("办件办结后才能撰写留档宣传材料（R-9.4）。")
        row = Publicity(case_id=case.id, title=title, body=body, status="draft", author=actor.username,
                        created_at=now, approved_by=None, approved_at=None)
        session.add(row)
        session.flush()
        audit(session, now, actor.username, "publicity_drafted", case_id=case.id,
              detail={"publicity_id": row.id, "title": title})
        return _view(row)


def _decide(system: System, actor: Actor, publicity_id: int, allowed_from: tuple[str, ...], to: str,
            action: str) -> dict[str, Any]:
    if actor.role not in PUBLISHERS:
        raise Forbidden("只有首席服务专员、政务服务中心办公室或系统管理员可以发布或撤回宣传材料。")
    now = system.clock.now()
    with system.db.unit_of_work() as session:
        row = session.get(Publicity, publicity_id) if 0 < publicity_id <= MAX_ROW_ID else None
        if row is None:
            raise NotFound(f"宣传材料 {publicity_id} 不存在。")
        load_visible_case(system, session, actor, row.case_id)
        if row.status not in allowed_from:
            verb = "发布" if to == "published" else "撤回"
            raise Conflict(f"这篇宣传材料当前为“{STATUSES.get(row.status, row.status)}”，不能{verb}。")
        row.status = to
        row.approved_by, row.approved_at = actor.username, now
        audit(session, now, actor.username, action, case_id=row.case_id,
              detail={"publicity_id": row.id, "title": row.title})
        return _view(row)


def publish(system: System, actor: Actor, publicity_id: int) -> dict[str, Any]:
    """Approve a draft (or re-publish a withdrawn one): it appears on the public page."""
    return _decide(system, actor, publicity_id, ("draft", "withdrawn"), "published", "publicity_published")


def withdraw(system: System, actor: Actor, publicity_id: int) -> dict[str, Any]:
    """Take a write-up off the public page (or reject a draft); it stays in the archive."""
    return _decide(system, actor, publicity_id, ("draft", "published"), "withdrawn", "publicity_withdrawn")


def list_for_case(system: System, actor: Actor, case_id: int) -> list[dict[str, Any]]:
    with system.db.unit_of_work(write=False) as session:
        load_visible_case(system, session, actor, case_id)
        rows = session.scalars(select(Publicity).where(Publicity.case_id == case_id).order_by(Publicity.id))
        return [_view(r) for r in rows]


def list_published(system: System, limit: int = 50) -> list[dict[str, Any]]:
    """For the public: title, text, date and the matter; never the applicant."""
    with system.db.unit_of_work(write=False) as session:
        rows = session.execute(
            select(Publicity, Matter.name, Case.process_id).join(Case, Case.id == Publicity.case_id)
            .outerjoin(Matter, Matter.code == Case.matter_code)
            .where(Publicity.status == "published").order_by(Publicity.approved_at.desc(), Publicity.id.desc())
            .limit(limit)).all()
        return [{"id": p.id, "title": p.title, "body": p.body, "at": p.approved_at, "matter": matter,
                 "process_title": PROCESS_TITLES.get(process, process)} for p, matter, process in rows]


# --- the archive page and the papers --------------------------------------------------------------

def _staff_brief(session, system: System, username: str | None) -> dict[str, Any] | None:
    if not username:
        return None
    staff = session.scalars(select(Staff).where(Staff.username == username)).first()
    if staff is None:
        return None
    unit = staff.unit.code if staff.unit else None
    return {"username": staff.username, "name": staff.name, "role": staff.role,
            "role_title": ROLE_TITLES.get(staff.role, staff.role), "phone": staff.phone,
            "unit": unit, "unit_name": system.org(session).name(unit)}


def _case_brief(session, system: System, case: Case) -> dict[str, Any]:
    org = system.org(session)
    return {"id": case.id, "number": case.number, "process": case.process_id,
            "process_title": PROCESS_TITLES.get(case.process_id, case.process_id), "status": case.status,
            "status_title": STATUS_TITLES.get(case.status, case.status), "applicant_name": case.applicant_name,
            "applicant_phone": case.applicant_phone, "applicant_type": case.applicant_type, "channel": case.channel,
            "unit": case.unit_code, "unit_name": org.name(case.unit_code), "started_unit_name": org.name(case.started_unit),
            "started_at": case.started_at, "completed_at": case.completed_at, "started_by": case.started_by}


def archive(system: System, actor: Actor, case_id: int) -> dict[str, Any]:
    """Everything the archive page shows: the case, its photos/audio/video and its write-ups."""
    with system.db.unit_of_work(write=False) as session:
        case = load_visible_case(system, session, actor, case_id)
        files = session.scalars(select(Attachment).where(Attachment.case_id == case.id).order_by(Attachment.id)).all()
        writeups = session.scalars(select(Publicity).where(Publicity.case_id == case.id).order_by(Publicity.id)).all()
        return {"case": _case_brief(session, system, case),
                "media": [attachments.view(a) for a in files if a.kind in ARCHIVE_KINDS],
                "signatures": [attachments.view(a) for a in files if a.kind == "signature"],
                "writeups": [_view(w) for w in writeups],
                "may_publish": actor.role in PUBLISHERS,
                "documents": [k for k, d in DOCUMENTS.items() if _document_applies(d, case)]}


def _document_applies(document: dict[str, Any], case: Case) -> bool:
    if document["processes"] is None:
        return bool(case.matter_code)
    return case.process_id in document["processes"]


def document(system: System, actor: Actor, case_id: int, kind: str) -> dict[str, Any]:
    """What a printed paper of the case shows, filled from the case (R-9.2.1, R-9.2.3, R-5.4)."""
    spec = DOCUMENTS.get(kind)
    if spec is None:
        raise NotFound(f"没有“{kind}”这种文书。")
    with system.db.unit_of_work(write=False) as session:
        case = load_visible_case(system, session, actor, case_id)
        if not _document_applies(spec, case):
            raise NotFound(f"{PROCESS_TITLES.get(case.process_id, case.process_id)}办件没有《{spec['title']}》。")
        matter = session.scalars(select(Matter).where(Matter.code == case.matter_code)).first() if case.matter_code else None
        tasks = session.scalars(select(HumanTask).where(HumanTask.case_id == case.id)
                                .order_by(HumanTask.created_at)).all()
        # What each completed step recorded, the latest per step (the audit trail keeps the data).
        steps: dict[str, dict[str, Any]] = {}
        started: dict[str, Any] = {}
        given: dict[str, Any] | None = None  # the latest one-time notice a step gave (R-5.4, R-9.1.3.3)
        for event in session.scalars(select(AuditEvent).where(AuditEvent.case_id == case.id,
                                                              AuditEvent.action.in_(("task_completed", "case_started")))
                                     .order_by(AuditEvent.id)):
            if event.action == "case_started":
                started = (event.detail or {}).get("data") or {}
            elif event.element:
                steps[event.element] = (event.detail or {}).get("data") or {}
                notice = _notice_of_step(steps[event.element])
                if notice:
                    given = notice | {"given_at": event.at, "given_by": event.actor, "step": (event.detail or {}).get("title")}
        sign_tasks = [t for t in tasks if spec["task"] and t.name == spec["task"]]
        ready = [t for t in sign_tasks if t.status == "ready"]
        task = ready[-1] if ready else (sign_tasks[-1] if sign_tasks else None)
        sign_ids = {t.id for t in sign_tasks}
        signatures = [attachments.view(a) for a in session.scalars(
            select(Attachment).where(Attachment.case_id == case.id, Attachment.kind == "signature").order_by(Attachment.id))
            if (a.task_id and a.task_id in sign_ids) or (not a.task_id and a.note == kind)] if spec["task"] else []
        # The agent: whoever did the case's latest step as staff, else the holder of the open step, else the starter.
        done = [t for t in tasks if t.status == "completed" and t.completed_by]
        holder = next((t.assignee for t in reversed(tasks) if t.status == "ready" and t.assignee), None)
        agent_name = done[-1].completed_by if done else holder or (case.started_by if case.channel != "online" else None)
        if kind == "entrustment":
            entrusted = [t for t in sign_tasks if t.status == "completed"]
            agent_name = (entrusted[-1].completed_by if entrusted else holder) or agent_name
        return {
            "kind": kind, "title": spec["title"], "case": _case_brief(session, system, case),
            "address": started.get("address"),
            "matter": matter_view(matter) if matter else None,
            "agent": _staff_brief(session, system, agent_name),
            "steps": steps,
            "task": {"id": task.id, "name": task.name, "title": task.title, "status": task.status} if task else None,
            "signature": signatures[-1] if signatures else None,
            "signatures": signatures,
            "needs_signature": bool(spec["task"]),
            "given": given,
            "given_by": _staff_brief(session, system, given["given_by"]) if given else None,
        }


def _notice_of_step(data: dict[str, Any]) -> dict[str, Any] | None:
    """The one-time notice a step recorded (formrender.NOTICE_KEY); for a step done before its materials were
    chosen from the catalog, the material rows typed then (name and how to obtain each)."""
    if isinstance(data.get(NOTICE_KEY), dict):
        return dict(data[NOTICE_KEY])
    for value in data.values():
        if isinstance(value, list) and value and all(isinstance(r, dict) and r.get("name") for r in value) \
                and any("how_to_obtain" in r for r in value):
            return {"scope": "missing", "legacy": True,
                    "materials": [{"name": r.get("name"), "how_to_obtain": r.get("how_to_obtain")} for r in value]}
    return None


def add_signature(system: System, actor: Actor, case_id: int, kind: str, data: bytes, filename: str,
                  content_type: str) -> dict[str, Any]:
    """The applicant's signature on a paper (drawn on screen or a scan), kept for its signing task when that
    task is ready, so the step can be completed (forms' x-signature)."""
    spec = DOCUMENTS.get(kind)
    if spec is None or not spec["task"]:
        raise NotFound("这份文书不需要签名。")
    with system.db.unit_of_work(write=False) as session:
        case = load_visible_case(system, session, actor, case_id)
        if not _document_applies(spec, case):
            raise NotFound(f"这个办件没有《{spec['title']}》。")
        task_id = session.scalar(select(HumanTask.id).where(HumanTask.case_id == case.id, HumanTask.name == spec["task"],
                                                           HumanTask.status == "ready").limit(1))
    return attachments.add(system, actor, case_id, "signature", data, filename, content_type,
                           task_id=task_id, note=kind)


# --- the window's rating device (评价器, R-7.2.1) ------------------------------------------------------

def counter_cases(system: System, actor: Actor, limit: int = 12) -> list[dict[str, Any]]:
    """The actor's recently completed service cases (a step of which they did), newest first."""
    with system.db.unit_of_work(write=False) as session:
        mine = select(HumanTask.case_id).where(HumanTask.completed_by == actor.username).distinct()
        rows = session.execute(
            select(Case, Matter.name).outerjoin(Matter, Matter.code == Case.matter_code)
            .where(Case.id.in_(mine), Case.status == "completed", Case.process_id.in_(SERVICE_PROCESSES))
            .order_by(Case.completed_at.desc(), Case.id.desc()).limit(limit)).all()
        rated = set(session.scalars(select(Evaluation.case_id).where(
            Evaluation.case_id.in_([c.id for c, _ in rows]), Evaluation.of_record))) if rows else set()
        return [{"id": c.id, "number": c.number, "matter": name, "applicant_name": c.applicant_name,
                 "process_title": PROCESS_TITLES.get(c.process_id, c.process_id), "completed_at": c.completed_at,
                 "rated": c.id in rated} for c, name in rows]


def _counter_case(system: System, session, actor: Actor, number: str) -> Case:
    number = (number or "").strip().upper()
    case = session.scalars(select(Case).where(Case.number == number)).first() if number else None
    if case is None:
        raise NotFound(f"没有找到办件 {number or '（空）'}，请核对办件编号。")
    load_visible_case(system, session, actor, case.id)
    if case.process_id not in SERVICE_PROCESSES:
        message = f"{case.number} 不是帮办、代办或上门办办件，不能评价（回访、整改、投诉等办件不参加评价）。"
        raise FormInvalid({"number": [message]}, message)
    if case.status != "completed":
        raise Conflict("办件办结后才能评价。")
    return case


def counter_case(system: System, actor: Actor, number: str) -> dict[str, Any]:
    """A case ready to be rated at the window: completed, visible to the staff member, not yet rated there."""
    with system.db.unit_of_work(write=False) as session:
        case = _counter_case(system, session, actor, number)
        rating = evaluations.rating_of_record(session, case.id)
        if rating is not None:  # 一事一评: rated on any channel already
            raise Conflict(evaluations.already_rated_message(system, rating))
        matter = session.scalar(select(Matter.name).where(Matter.code == case.matter_code)) if case.matter_code else None
        return {"number": case.number, "matter": matter, "unit_name": system.org(session).name(case.unit_code),
                "process_title": PROCESS_TITLES.get(case.process_id, case.process_id), "grades": evaluations.GRADES}


def rate_case_at_window(system: System, actor: Actor, case_id: int, satisfaction: str) -> dict[str, Any]:
    """The window's rating of a case named by its id (the API)."""
    with system.db.unit_of_work(write=False) as session:
        number = load_visible_case(system, session, actor, case_id).number
    return rate_at_window(system, actor, number, satisfaction)


def rate_at_window(system: System, actor: Actor, number: str, satisfaction: str) -> dict[str, Any]:
    """The applicant's tap on the rating device; the staff member's session vouches for it (one per case)."""
    with system.db.unit_of_work(write=False) as session:
        case_number = _counter_case(system, session, actor, number).number
    return evaluations.rate(system, case_number, "", satisfaction, None, source="window", by=actor.username)
