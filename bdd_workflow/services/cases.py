"""Starting cases, syncing derived rows after every engine run, and reading cases back."""

from __future__ import annotations

from datetime import datetime
from functools import lru_cache
from typing import Any

from types import SimpleNamespace

from sqlalchemy import bindparam, delete, func, select, update

from ..db.fast import Prepared
from ..db.models import (MAX_ROW_ID, AuditEvent, Breach, Case, CaseLink, ComplaintFinding, ElementVisit, Evaluation,
                         HumanTask, LedgerEntry, Matter, PendingTimer)
from ..engine.runner import CompletedStep, RunResult
from ..errors import Conflict, DomainError, Forbidden, FormInvalid, NotFound
from ..system import System
from .audit import audit
from .definitions import latest_definition
from . import access
from .identity import PUBLIC, SYSTEM, Actor
from .org import ref_exists

NUMBER_PREFIX = {
    "consultation": "ZX", "assist": "BB", "proxy": "DB", "onsite": "SM",
    "callback": "HF", "rectification": "ZG", "complaint": "TS", "problem_report": "WT", "handover": "JB",
}
# Matters list which of these services they offer; the ledger covers them (R-9.1.3.5, R-9.2.1).
SERVICE_PROCESSES = ("assist", "proxy", "onsite")
LEDGER_PROCESSES = frozenset(SERVICE_PROCESSES)
APPLICANT_FIELDS = ("applicant_name", "applicant_phone", "applicant_type", "channel", "address")
# What any start may carry (schemas.StartData types them). What a procedure needs beyond these (上门办: the
# address; a consultation: the question) its start event's form declares.
START_FIELDS = frozenset({"applicant_name", "applicant_phone", "applicant_type", "channel", "matter_code", "note"})
MAX_LINK_DEPTH = 5
# Procedures that begin from a task being worked, never on their own: a problem report is about a task and
# goes to whoever directs the reporter's unit (services/problems.py, R-6.4.2).
TASK_STARTED_PROCESSES = frozenset({"problem_report"})
# Procedures only a diagram starts (start_case): a 问题交办 is one problem a callback found.
LINK_STARTED_PROCESSES = frozenset({"handover"})
# The hot path writes with SQLAlchemy Core: a task completion costs a handful of statements and no
# ORM unit-of-work bookkeeping. Reads stay ORM.
CASE = Case.__table__
TASK = HumanTask.__table__
TIMER = PendingTimer.__table__
WRITABLE = ("number", "status", "state_json", "unit_code", "matter_code", "updated_at", "completed_at", "provisional",
            "breaches", "due_at", "closure")
# How a service case ended other than by being done (the diagrams' closure_reason, Case.closure): the applicant's
# reasons, kept out of R-4.a's denominator and listed apart (services/metrics.py), and an assist case converted to
# proxy, which its proxy case stands for.
CLOSURE_REASONS = {"withdrawn": "服务对象撤回", "abandoned": "服务对象放弃", "overdue": "逾期未补正",
                   "converted_to_proxy": "转为代办"}
APPLICANT_CLOSURES = ("withdrawn", "abandoned", "overdue")
# Statements built once and prepared per dialect (db/fast.py): a completion runs only these.
_CANCEL_TASK = Prepared(update(TASK).where(TASK.c.id == bindparam("task_id"))
                        .values(status="cancelled", completed_at=bindparam("now")))
_DELETE_TIMER = Prepared(delete(TIMER).where(TIMER.c.id == bindparam("timer_id")))
_INSERT_LEDGER = Prepared.insert(LedgerEntry.__table__, generated=["id"])
_INSERT_BREACH = Prepared.insert(Breach.__table__, generated=["id"])
_INSERT_VISIT = Prepared.insert(ElementVisit.__table__, generated=["id"])
_INSERT_TASKS = Prepared.insert(TASK)
_INSERT_TIMERS = Prepared.insert(TIMER)
_SELECT_CASE = Prepared(select(CASE).where(CASE.c.id == bindparam("case_id")))
_SELECT_CASE_SKIP_LOCKED = Prepared(select(CASE).where(CASE.c.id == bindparam("case_id")).with_for_update(skip_locked=True))
_INSERT_CASE = Prepared.insert(CASE, generated=["id", "number"], returning=[CASE.c.id])  # number: from the id
_INSERT_LINK = Prepared.insert(CaseLink.__table__, generated=["id"])
# What a start copies into the case data; not the one-time notice (a large JSON document).
_MATTER_COLUMNS = select(Matter.code, Matter.name, Matter.kind, Matter.department, Matter.responsible_unit,
                         Matter.promised_days, Matter.service_types, Matter.levels).where(Matter.code == bindparam("code"))
_MATTER = Prepared(_MATTER_COLUMNS.where(Matter.active))
# The system's own starts (a case's callback, a rectification) continue a case already running:
# they take its matter even when it has been retired since (registry.set_matter_active).
_ANY_MATTER = Prepared(_MATTER_COLUMNS)


def _matter_data(matter) -> dict[str, Any]:
    return {
        "matter_code": matter.code, "matter_name": matter.name, "matter_kind": matter.kind,
        "matter_department": matter.department, "responsible_unit": matter.responsible_unit,
        "promised_days": matter.promised_days, "matter_levels": list(matter.levels or ()),
    }


def _check_start(system: System, session, definition, actor: Actor, data: dict[str, Any]):
    """Who may start, the matter, and the start form's fields; every field's problem in one FormInvalid."""
    if actor is PUBLIC:
        if definition.process_id not in SERVICE_PROCESSES:
            raise Forbidden("网上只能申请帮办、代办或上门办。")
    elif actor is not SYSTEM and actor.role not in definition.starter_roles:
        raise Forbidden(f"您的角色无权发起“{definition.name}”（可发起: {', '.join(definition.starter_roles)}）。")
    errors: dict[str, list[str]] = {}
    matter = _check_matter(session, definition, actor, data, errors)
    if actor is not SYSTEM:  # the system's own starts carry the source case's data, checked when it was given
        errors.update(_start_form_errors(system, session, definition, data, public=actor is PUBLIC))
    if errors:
        raise FormInvalid(errors)
    return matter


def _check_matter(session, definition, actor: Actor, data: dict[str, Any], errors: dict[str, list[str]]):
    code = data.get("matter_code")
    if not code:
        if definition.process_id in SERVICE_PROCESSES:
            errors["matter_code"] = ["请选择办理的事项。"]
        return None
    matter = (_ANY_MATTER if actor is SYSTEM else _MATTER).first(session, {"code": code})
    if matter is None:
        errors["matter_code"] = [f"事项 {code} 不在事项清单中。"]
        return None
    matter = SimpleNamespace(**matter)
    if definition.process_id in SERVICE_PROCESSES and definition.process_id not in matter.service_types:
        names = {"assist": "帮办", "proxy": "代办", "onsite": "上门办"}
        offered = "、".join(names.get(s, s) for s in matter.service_types) or "无"
        errors["matter_code"] = [f"事项“{matter.name}”不提供{names[definition.process_id]}服务（提供: {offered}）。"]
    return matter


def _start_form_errors(system: System, session, definition, data: dict[str, Any],
                       public: bool = False) -> dict[str, list[str]]:
    """The start form (named by the diagram's start event) checks the fields it declares, as a task's form
    checks a submission: what a procedure needs to begin (R-9.3.1: the address to visit) is the diagram's to
    say, and an administrator changes it in the forms editor. A field neither the applicant's nor the form's
    is refused. An applicant online names no staff member: answering which usernames exist would list them."""
    declared: set[str] = set()
    errors: dict[str, list[str]] = {}
    if definition.start_form:
        if not system.forms.exists(definition.start_form):  # removed from forms/ after the deploy
            raise Conflict(f"“{definition.name}”的发起表单 forms/{definition.start_form}.json 不存在，暂时无法发起："
                              "请管理员恢复这张表单，或部署不指定它的流程图。")
        form = system.forms.get(definition.start_form)
        properties = form.schema.get("properties", {})
        declared = set(properties)
        given = {k: v for k, v in data.items() if k in declared}
        if public:
            for key, prop in properties.items():
                if isinstance(prop, dict) and prop.get("x-ref") == "staff" and given.get(key):
                    errors[key] = ["网上申请不填写工作人员，请留空。"]
                    given.pop(key)
        try:
            system.forms.validate(definition.start_form, given, lambda kind, value: ref_exists(session, kind, value))
        except FormInvalid as exc:
            for key, messages in exc.errors.items():
                errors.setdefault(key, []).extend(messages)
    if definition.start_form:
        _check_times(system, system.forms.get(definition.start_form).schema.get("properties", {}), data, errors)
    for key in data:
        if key not in START_FIELDS and key not in declared:
            errors.setdefault(key, []).append(f"“{definition.name}”不收这个字段。")
    return errors


def _check_times(system: System, properties: dict[str, Any], data: dict[str, Any], errors: dict[str, list[str]]) -> None:
    """A start form's date-time fields (R-9.3.1: the appointment an onsite visit is due by): a local time as a
    browser gives it ("2025-10-10T09:00") is taken in the county's zone and kept with its offset, so a timer can
    read it; ``x-not-past`` refuses a time already gone. An empty value is no value."""
    for key, prop in properties.items():
        if not isinstance(prop, dict) or prop.get("format") != "date-time" or key not in data or key in errors:
            continue
        value = data[key]
        if value in (None, ""):
            data[key] = None
            continue
        title = prop.get("title", key).split("（")[0]
        try:
            parsed = datetime.fromisoformat(str(value))
        except ValueError:
            errors[key] = [(prop.get("x-messages") or {}).get("format") or f"请填写有效的{title}（日期和时间）。"]
            continue
        if parsed.tzinfo is None:
            parsed = parsed.replace(tzinfo=system.calendar.tz)
        if prop.get("x-not-past") and parsed < system.clock.now():
            errors[key] = [f"{title}不能早于现在，请重新约定。"]
            continue
        data[key] = parsed.isoformat()


def start_form_errors(system: System, process_id: str, data: dict[str, Any], public: bool = False) -> dict[str, list[str]]:
    """What the process's start form finds wrong with ``data``, starting nothing: a page that checks its own
    fields first shows these beside them in the same answer."""
    with system.db.unit_of_work(write=False) as session:
        definition = latest_definition(session, process_id)
        return _start_form_errors(system, session, definition, data, public)


def start_case(system: System, actor: Actor, process_id: str, data: dict[str, Any]) -> dict[str, Any]:
    """Start a case of the newest version of a process (one unit of work)."""
    now = system.clock.now()
    if process_id in TASK_STARTED_PROCESSES and actor is not SYSTEM:
        raise Forbidden("问题上报要在办理中的任务上提出（任务页的“向首席服务专员报告问题”，或 POST /api/v1/tasks/<id>/report）。")
    if process_id in LINK_STARTED_PROCESSES and actor is not SYSTEM:
        raise Forbidden("问题交办由回访记录的问题自动发起：请在回访任务中记录发现的问题。")
    with system.db.unit_of_work() as session:
        definition = latest_definition(session, process_id)
        case = _start(system, session, actor, definition, data, now)
        view = case_view(system, session, case, actor)
    # Committed: the case's first step can start from the workflow in memory (engine/cache.py).
    system.workflows.put(case.id, case.lock_version, case.definition_id, case.workflow)
    return view


def _start(system: System, session, actor: Actor, definition, data: dict[str, Any],
           now: datetime, source: CaseRecord | None = None, relation: str | None = None, depth: int = 0,
           context: dict[str, Any] | None = None) -> CaseRecord:
    """``context``: case data the caller has already checked and decided (a problem report's reporter and the
    source case's applicant), joined to the seed without the starter's checks and kept out of the start's
    recorded data, which is what the start form asked for."""
    if depth > MAX_LINK_DEPTH:
        raise DomainError("关联办件嵌套过深，请检查流程图中的 start_case 服务任务。")
    if context is None:
        matter = _check_start(system, session, definition, actor, data)
    else:
        matter = _ANY_MATTER.first(session, {"code": context["matter_code"]}) if context.get("matter_code") else None
        matter = SimpleNamespace(**matter) if matter is not None else None
    seed: dict[str, Any] = {k: v for k, v in (context or {}).items() if v is not None}
    seed.update({k: data.get(k) for k in APPLICANT_FIELDS if data.get(k) is not None})
    seed.update({k: v for k, v in data.items() if k not in seed})
    if matter is not None:
        seed.update(_matter_data(matter))
    if definition.start_form and system.forms.exists(definition.start_form):
        for name in system.forms.get(definition.start_form).schema.get("properties", {}):
            seed.setdefault(name, None)  # a start form's field left out is still a variable (onsite: appointment_at)
    seed.setdefault("matter_code", None)  # every case has the key, so a diagram can test it
    if definition.start_form and system.forms.exists(definition.start_form):
        # Every field of the start form is in the case data, None when not given: a diagram reads it as it is
        # (a complaint names its case and/or staff member, or neither, R-4.c).
        for name in system.forms.get(definition.start_form).schema.get("properties", {}):
            seed.setdefault(name, None)
    seed.setdefault("matter_levels", [])  # the routing decision reads it (R-3.3 就近办)
    seed.setdefault("source_case_id", None)  # a callback started on its own rates no case (一事一评)
    seed.setdefault("started_unit", actor.unit_code)
    seed.setdefault("handling_unit", actor.unit_code)
    spec, subprocess_specs = system.spec_for(session, definition.id)
    result = system.runner.start(spec, subprocess_specs, seed, system.run_context(session))
    columns = dict(
        process_id=definition.process_id, definition_id=definition.id, version=definition.version,
        status="running", state_json="", lock_version=1, unit_code=seed.get("handling_unit"),
        started_unit=seed.get("started_unit"), matter_code=seed.get("matter_code"),
        applicant_name=seed.get("applicant_name"), applicant_phone=seed.get("applicant_phone"),
        applicant_type=seed.get("applicant_type"), channel=seed.get("channel"), started_by=actor.username,
        started_at=now, updated_at=now, completed_at=None, provisional=False, breaches=0, due_at=None, closure=None,
    )
    case_id = _INSERT_CASE.first(session, columns)["id"]
    case = CaseRecord(id=case_id, **columns)
    case.number = f"{NUMBER_PREFIX.get(definition.process_id, 'AJ')}{now.astimezone(system.calendar.tz):%Y%m%d}{case_id:06d}"
    audit(session, now, actor.username, "case_started", case_id=case.id,
          detail={"process": definition.process_id, "version": definition.version, "data": data,
                  "source_case": source.number if source else None, "relation": relation})
    if source is not None:
        _INSERT_LINK.execute(session, dict(
            from_case_id=source.id, to_case_id=case.id, relation=relation or "linked", created_at=now))
    if case.process_id in LEDGER_PROCESSES:
        # The unit that registered the case; an online application has none, so the unit the routing
        # decision handed it to (R-4.e: its opening entry is complete, attributed to its handling unit).
        ledger_entry(session, case, "opened", "受理登记", actor, now, {"channel": seed.get("channel"), "source": source.number if source else None},
                unit=seed.get("started_unit") or result.data.get("handling_unit") or seed.get("handling_unit"))
    sync(system, session, case, result, actor, now, depth=depth)
    case.workflow = result.workflow
    return case


class CaseRecord(SimpleNamespace):
    """A case row as plain attributes; written back with an optimistic-lock check (``save_case``),
    which writes the columns that differ from the row as it was read (``stored``)."""

    def __init__(self, **columns: Any) -> None:
        super().__init__(**columns)
        self.stored = {column: columns.get(column) for column in WRITABLE}


def load_case(session, case_id: int, skip_locked: bool = False) -> CaseRecord | None:
    """The case row; with ``skip_locked`` (PostgreSQL) None when another worker holds it."""
    row = (_SELECT_CASE_SKIP_LOCKED if skip_locked else _SELECT_CASE).first(session, {"case_id": case_id})
    return CaseRecord(**row) if row is not None else None


@lru_cache(maxsize=None)
def _save_statement(columns: tuple[str, ...]) -> Prepared:
    """The UPDATE for one set of changed columns (a handful in practice). SQLite rewrites the entry of
    every index whose column is named in SET, changed or not: naming only what changed keeps an
    ordinary step from touching the case's eleven indexes (~6 log pages a completion)."""
    return Prepared(update(CASE).where(CASE.c.id == bindparam("case_id"), CASE.c.lock_version == bindparam("expected"))
                    .values(lock_version=bindparam("new_version"), **{c: bindparam(c) for c in columns}))


def save_case(session, case: CaseRecord) -> None:
    """Write the case back; a concurrent change since it was read is a Conflict, never a lost update.
    The lock version always moves on, even when nothing else changed."""
    values = {column: getattr(case, column) for column in WRITABLE}
    changed = {column: value for column, value in values.items() if value != case.stored[column]}
    count = _save_statement(tuple(changed)).execute(session, {"case_id": case.id, "expected": case.lock_version,
                                                              "new_version": case.lock_version + 1, **changed})
    if count != 1:
        raise Conflict("这个办件刚刚被他人修改，请刷新后再试。")
    case.lock_version += 1
    case.stored = values


def sync(system: System, session, case: CaseRecord, result: RunResult, actor: Actor, now: datetime,
         step: CompletedStep | None = None, depth: int = 0) -> list[dict[str, Any]]:
    """Bring the case row and its derived rows in line with the workflow, in the same transaction.
    Returns the linked cases the run started (number, process, relation, unit)."""
    db = session.connection()  # Core statements straight on the connection: no ORM layer per statement
    case.state_json = system.serializer.dump_state(result.workflow)
    case.updated_at = now
    case.unit_code = result.data.get("handling_unit", case.unit_code)
    case.matter_code = result.data.get("matter_code") or case.matter_code
    case.provisional = case.provisional or result.provisional
    # The promised deadline the diagram wrote at acceptance (case_due_at): the timers read it and R-4.a
    # compares the completion with this column, so the escalation and the figure never disagree.
    case.due_at = _due_at(result.data.get("case_due_at")) or case.due_at
    if result.completed:
        case.status, case.completed_at = "completed", now
        reason = result.data.get("closure_reason")
        case.closure = reason if reason in CLOSURE_REASONS else None
    else:
        case.status = "running" if result.ready else "waiting"

    ready_ids = {t.id for t in result.ready}
    open_ids = result.previously_ready  # the inbox rows stored after the previous run
    gone = [t for t in open_ids if t not in ready_ids and (step is None or t != step.id)]
    if gone:
        _CANCEL_TASK.executemany(db, [{"task_id": task_id, "now": now} for task_id in gone])
    new_tasks = [dict(
        id=ready.id, case_id=case.id, process_id=case.process_id, name=ready.name, title=ready.title,
        role=ready.role, unit_code=ready.unit or case.unit_code, form=ready.form, instructions=ready.instructions,
        assignee=ready.assignee, status="ready", due_at=ready.due_at, provisional=ready.provisional, created_at=now,
        claimed_at=None, completed_at=None, completed_by=None) for ready in result.ready if ready.id not in open_ids]
    _INSERT_TASKS.executemany(db, new_tasks)

    timer_ids = {t.id for t in result.timers}
    pending = result.previously_waiting  # the timer rows stored after the previous run
    stale = [t for t in pending if t not in timer_ids]
    if stale:
        _DELETE_TIMER.executemany(db, [{"timer_id": timer_id} for timer_id in stale])
    new_timers = [dict(id=t.id, case_id=case.id, name=t.name, title=t.title, attached_to=t.attached_to,
                       due_at=t.due_at, created_at=now) for t in result.timers if t.id not in pending]
    _INSERT_TIMERS.executemany(db, new_timers)

    for fired in result.fired:
        # A fired deadline is a breach: counted on the case, kept for the figures, and in the ledger. A reminder of
        # a wait on the applicant (breach="false") is in the history and the ledger, and no breach.
        due = fired.due_at.isoformat() if fired.due_at else None
        if fired.breach:
            case.breaches += 1
            _INSERT_BREACH.execute(db, dict(
                case_id=case.id, process_id=case.process_id, timer=fired.name, title=fired.title,
                attached_to=fired.attached_to, unit_code=case.unit_code, due_at=fired.due_at, fired_at=now))
        audit(db, now, SYSTEM.username, "timer_fired", case_id=case.id, task_id=fired.id, element=fired.name,
              detail={"title": fired.title, "due_at": due, "attached_to": fired.attached_to,
                      **({} if fired.breach else {"breach": False})})
        if fired.breach or case.process_id in LEDGER_PROCESSES:
            ledger_entry(db, case, fired.name, f"{'超时' if fired.breach else '到期'}: {fired.title}", SYSTEM, now,
                         {"due_at": due, "attached_to": fired.attached_to}, unit=case.unit_code)
    if result.visits:
        _INSERT_VISIT.executemany(db, [dict(
            case_id=case.id, process_id=case.process_id, version=case.version, element=visit.element,
            entered_at=visit.entered_at or now, left_at=now,
            seconds=max(0.0, (now - visit.entered_at).total_seconds()) if visit.entered_at else 0.0)
            for visit in result.visits])
    if result.completed:
        audit(db, now, actor.username, "case_completed", case_id=case.id,
              detail={"closure": case.closure} if case.closure else None)
        if case.closure and case.process_id in LEDGER_PROCESSES:  # the closure and its reason, in the 台账
            ledger_entry(db, case, "closure", f"结案: {CLOSURE_REASONS[case.closure]}", actor, now,
                         {"closure_reason": case.closure, "reason": CLOSURE_REASONS[case.closure]}, unit=case.unit_code)
    save_case(db, case)
    started = []
    for call in result.service_calls:
        if call.get("operation") == "note_source_case":
            _note_source_case(db, case, call, actor, now)
            continue
        if call.get("operation") == "record_complaint_finding":
            _record_complaint_finding(db, case, call, actor, now)
            continue
        source = _link_source(db, case, call.get("link_from"))
        listed_here = source is not case  # link_from='source': this case lists what it started too
        if call.get("about") and call["about"] != case.number:
            # The case the new one is about (a callback's rectification is about the service case it rated).
            source = session.scalars(select(Case).where(Case.number == str(call["about"]))).first()
            if source is None:
                raise DomainError(f"start_case 的参数 about 指向的办件 {call['about']} 不存在。")
        for item in _start_items(call):
            linked = start_linked(system, session, source, result.data, call["process"], call.get("relation"), now,
                                  depth=depth + 1, item=item, started_unit=case.unit_code if listed_here else None)
            if listed_here:  # the case that started it lists it too (a callback its handovers)
                _INSERT_LINK.execute(db, dict(from_case_id=case.id, to_case_id=linked["id"],
                                              relation=call.get("relation") or "linked", created_at=now))
            started.append(linked)
    return started


def start_linked(system: System, session, source, data: dict[str, Any], process_id: str, relation: str | None,
                 now: datetime, depth: int = 1, item: dict[str, Any] | None = None,
                 started_unit: str | None = None) -> dict[str, Any]:
    """Start a linked case (the diagrams' start_case, a bad window or online rating's rectification): it gets
    the applicant, matter and handling unit from ``data`` and a link (``relation``) from ``source``, the case
    it is about, whose number, process and unit it knows as ``source_case_id``, ``source_process``,
    ``source_unit``. ``item``: values of its own (one problem of several a callback found); ``started_unit``: where
    it is registered, by default the source's unit."""
    target = latest_definition(session, process_id)
    linked_data = {k: v for k, v in data.items() if k in APPLICANT_FIELDS or k in (
        "matter_code", "handling_unit", "responsible_unit")}
    linked_data.update({"source_case_id": source.number, "source_process": source.process_id,
                        "source_unit": source.unit_code, "started_unit": started_unit or source.unit_code})
    linked = _start(system, session, SYSTEM, target, {**(item or {}), **linked_data}, now, source=source,
                    relation=relation, depth=depth)
    return {"id": linked.id, "number": linked.number, "process": linked.process_id, "relation": relation,
            "unit": linked.unit_code}


MAX_START_ITEMS = 20


def _start_items(call: dict[str, Any]) -> list[dict[str, Any]]:
    """start_case's ``items``: one linked case per item, each item's plain values joined to its data
    (问题交办: one per problem found, R-10.1). Without ``items``: one case."""
    if "items" not in call:
        return [{}]
    items = call["items"]
    if not isinstance(items, list) or len(items) > MAX_START_ITEMS or not all(isinstance(i, dict) for i in items):
        raise DomainError(f"start_case 的参数 items 应为至多 {MAX_START_ITEMS} 项的列表，每项是一个字典。")
    plain = (str, int, float, bool, type(None))
    for item in items:
        if not all(isinstance(k, str) and k.isidentifier() and not k.startswith("_") and isinstance(v, plain)
                   for k, v in item.items()):
            raise DomainError("start_case 的 items 每一项只能是“变量名: 文本/数字/是否”。")
    return items


def _link_source(db, case: CaseRecord, link_from: Any) -> CaseRecord:
    """start_case's ``link_from``: ``'this'`` (the default) links the new case from this case, ``'source'`` from
    the case this one was started from, when there is one (a problem a callback found belongs to the service
    case the callback was about, R-10.1)."""
    if link_from in (None, "", "this"):
        return case
    if link_from != "source":
        raise DomainError(f"start_case 的参数 link_from 只能是 'this' 或 'source'，不是 {link_from!r}。")
    source_id = db.scalar(select(CaseLink.from_case_id).where(CaseLink.to_case_id == case.id)
                          .order_by(CaseLink.id).limit(1))
    return load_case(db, source_id) if source_id is not None else case


def _record_complaint_finding(db, case: CaseRecord, call: dict[str, Any], actor: Actor, now: datetime) -> None:
    """The complaint diagram's record_complaint_finding: the finding, counted for the unit and the staff member
    the complaint is about (R-4.c, R-5.2); recorded again (a migrated case), the newest finding stands."""
    about = call.get("about_case") or None
    about_id = db.scalar(select(Case.id).where(Case.number == str(about)[:32])) if about else None
    values = dict(about_case_id=about_id, unit_code=(str(call["unit"])[:32] if call.get("unit") else None),
                  staff_username=(str(call["staff"])[:64] if call.get("staff") else None),
                  upheld=bool(call.get("upheld")), decided_by=actor.username, decided_at=now)
    table = ComplaintFinding.__table__
    if db.execute(update(table).where(table.c.case_id == case.id).values(**values)).rowcount == 0:
        db.execute(table.insert().values(case_id=case.id, **values))


def _due_at(value: Any) -> datetime | None:
    """case_due_at as the diagrams write it (ISO 8601 with offset, add_working_days' answer); None otherwise."""
    if not isinstance(value, str):
        return None
    try:
        parsed = datetime.fromisoformat(value)
    except ValueError:
        return None
    return parsed if parsed.tzinfo is not None else None


def _note_source_case(db, case: CaseRecord, call: dict[str, Any], actor: Actor, now: datetime) -> None:
    """The diagram's note_source_case: a line in the history of the case this one was started from (a problem
    report and its answer show on the case they are about, R-6.4.2), by whoever's step wrote it."""
    source_id = db.scalar(select(CaseLink.from_case_id).where(CaseLink.to_case_id == case.id)
                          .order_by(CaseLink.id).limit(1))
    if source_id is None:
        return  # started on its own: there is no case to write to
    audit(db, now, actor.username, "case_note", case_id=source_id, detail={
        "label": str(call.get("label"))[:40], "title": str(call.get("text"))[:4000],
        "from_case": case.number, "from_process": case.process_id})


def ledger_entry(session, case: CaseRecord, step: str, title: str, actor: Actor, now: datetime, data: dict[str, Any],
                 unit: str | None = None) -> None:
    """One row of the 台账 (R-9.1.3.5, R-9.2.1): a step of a case, by whom, where, with what."""
    _INSERT_LEDGER.execute(session, dict(
        case_id=case.id, case_number=case.number or "", process_id=case.process_id, unit_code=unit or case.unit_code,
        matter_code=case.matter_code, applicant_name=case.applicant_name, step=step, title=title,
        actor=actor.username, actor_role=None if actor in (SYSTEM, PUBLIC) else actor.role, at=now, data=data,
    ))


def record_step(session, case: CaseRecord, row, step: CompletedStep, actor: Actor, now: datetime) -> None:
    db = session.connection()
    audit(db, now, actor.username, "task_completed", case_id=case.id, task_id=step.id, element=step.name,
          detail={"title": step.title, "data": step.data})
    if case.process_id in LEDGER_PROCESSES:
        ledger_entry(db, case, step.name, step.title, actor, now, step.data, unit=row.unit_code)


# --- reading ----------------------------------------------------------------------------------------

def _visible(system: System, session, actor: Actor):
    return access.visible_case_condition(system, session, actor)


def load_visible_case(system: System, session, actor: Actor, case_id: int) -> Case:
    """The case ``case_id`` if ``actor`` may see it. "Absent" and "not yours" are one answer, the same 404, so
    that ids cannot be probed for which cases exist (R-6.2 不得泄露服务对象的相关信息)."""
    case = session.get(Case, case_id) if 0 < case_id <= MAX_ROW_ID else None
    if case is None or not access.may_see_case(system, session, actor, case_id):
        raise NotFound(f"办件 {case_id} 不存在，或不在您可查看的范围内。")
    return case


def case_summary(system: System, case: Case) -> dict[str, Any]:
    return {
        "id": case.id, "number": case.number, "process": case.process_id, "version": case.version,
        "status": case.status, "unit": case.unit_code, "matter_code": case.matter_code,
        "applicant_name": case.applicant_name, "applicant_type": case.applicant_type, "channel": case.channel,
        "started_by": case.started_by, "started_at": case.started_at, "updated_at": case.updated_at,
        "completed_at": case.completed_at, "provisional": case.provisional, "breaches": case.breaches,
        "due_at": case.due_at, "closure": case.closure,
        "closure_label": CLOSURE_REASONS.get(case.closure) if case.closure else None,
    }


def task_view(row: HumanTask, now: datetime | None = None) -> dict[str, Any]:
    return {
        "id": row.id, "case_id": row.case_id, "process": row.process_id, "name": row.name, "title": row.title,
        "role": row.role, "unit": row.unit_code, "assignee": row.assignee, "status": row.status,
        "form": row.form, "due_at": row.due_at, "created_at": row.created_at, "completed_at": row.completed_at,
        "completed_by": row.completed_by,
        "overdue": bool(now and row.status == "ready" and row.due_at and row.due_at < now),
        "provisional": bool(getattr(row, "provisional", False)),
    }


def case_view(system: System, session, case: Case, actor: Actor) -> dict[str, Any]:
    now = system.clock.now()
    tasks = session.scalars(select(HumanTask).where(HumanTask.case_id == case.id).order_by(HumanTask.created_at)).all()
    timers = session.scalars(select(PendingTimer).where(PendingTimer.case_id == case.id).order_by(PendingTimer.due_at)).all()
    history = session.scalars(select(AuditEvent).where(AuditEvent.case_id == case.id).order_by(AuditEvent.id)).all()
    links_out = session.execute(select(CaseLink, Case).join(Case, Case.id == CaseLink.to_case_id)
                                .where(CaseLink.from_case_id == case.id).order_by(CaseLink.id)).all()
    links_in = session.execute(select(CaseLink, Case).join(Case, Case.id == CaseLink.from_case_id)
                               .where(CaseLink.to_case_id == case.id).order_by(CaseLink.id)).all()
    return case_summary(system, case) | {
        "applicant_phone": case.applicant_phone,
        "tasks": [task_view(t, now) for t in tasks if t.status == "ready"],
        "completed_tasks": [task_view(t, now) for t in tasks if t.status == "completed"],
        "timers": [{"id": t.id, "task": t.name, "title": t.title, "attached_to": t.attached_to, "due_at": t.due_at}
                   for t in timers],
        "history": [{"at": e.at, "actor": e.actor, "action": e.action, "element": e.element, "detail": e.detail}
                    for e in history],
        "linked_cases": [{"id": c.id, "number": c.number, "process": c.process_id, "relation": link.relation,
                          "direction": "to", "status": c.status} for link, c in links_out]
        + [{"id": c.id, "number": c.number, "process": c.process_id, "relation": link.relation,
            "direction": "from", "status": c.status} for link, c in links_in],
        "relays": _relays_of(system, session, case.id),
        "rating": _rating_of(session, case.id) if case.process_id in SERVICE_PROCESSES else None,
    }


def _rating_of(session, case_id: int) -> dict[str, Any] | None:
    """The case's rating of record (一事一评), as the API shows it."""
    row = session.execute(select(Evaluation.source, Evaluation.satisfaction, Evaluation.bad, Evaluation.at)
                          .where(Evaluation.case_id == case_id, Evaluation.of_record)).first()
    return dict(row._mapping) if row else None


def _relays_of(system: System, session, case_id: int) -> list[dict[str, Any]]:
    from .relays import case_relays  # relays builds on this module: imported when a case is shown
    return case_relays(system, session, case_id)


def get_case(system: System, actor: Actor, case_id: int) -> dict[str, Any]:
    with system.db.unit_of_work(write=False) as session:
        return case_view(system, session, load_visible_case(system, session, actor, case_id), actor)


def list_cases(system: System, actor: Actor, process: str | None = None, status: str | None = None,
               page: int = 1, per_page: int = 50) -> dict[str, Any]:
    with system.db.unit_of_work(write=False) as session:
        query = select(Case)
        condition = _visible(system, session, actor)
        if condition is not None:
            query = query.where(condition)
        if process:
            query = query.where(Case.process_id == process)
        if status:
            query = query.where(Case.status == status)
        total = session.scalar(select(func.count()).select_from(query.subquery()))
        rows = session.scalars(query.order_by(Case.id.desc()).limit(per_page).offset((page - 1) * per_page)).all()
        return {"items": [case_summary(system, c) for c in rows], "total": total, "page": page, "per_page": per_page}
