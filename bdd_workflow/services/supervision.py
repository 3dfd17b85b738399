"""Supervision: the searchable case list and the ledger completeness check (R-4.e), with Excel exports.

Only the supervising roles (chief officers, the centre office, administrators) use these; each is
limited to the units below its own unit (R-6.2, R-6.4.1), so a township's chief officer sees the
township and its villages. No query here loads a workflow's state: the case list selects explicit
columns, never ``Case.state_json``.
"""

from __future__ import annotations

import io
import math
import re
from collections.abc import Mapping
from datetime import date, datetime
from typing import Any

from sqlalchemy import func, or_, select
from sqlalchemy import case as sql_case

from ..db.models import Case, HumanTask, LedgerEntry, Matter, Staff
from ..errors import Forbidden
from ..roles import ROLE_TITLES
from ..system import System
from ..workdays import day_or_none
from . import access
from .identity import NON_STAFF_NAMES, SUPERVISING_ROLES, Actor
from .inbox import APPLICANT_TYPES, PROCESS_TITLES, STATUS_TITLES, unit_tree
from .metrics import LEDGER_REQUIRED, ledger_incomplete, local_period

PER_PAGE = 50
EXPORT_LIMIT = 50_000
STATUSES = ("running", "waiting", "suspended", "completed", "cancelled")
LATE_STATES = {"overdue": "当前超时（有待办已过期限）", "breached": "曾超时（有过超时记录）",
               "any": "当前超时或曾超时"}
PHONE = re.compile(r"\d{4,20}")
# Columns the list and the export show: a handful of short ones, never the workflow state.
CASE_COLUMNS = (Case.id, Case.number, Case.process_id, Case.status, Case.unit_code, Case.matter_code,
                Case.applicant_name, Case.applicant_type, Case.applicant_phone, Case.started_at,
                Case.completed_at, Case.breaches)
CASE_HEADERS = ("办件编号", "流程", "状态", "单位", "事项", "服务对象", "类型", "联系电话", "受理时间", "办结时间", "超时次数")
# The fields the 规范 wants in every ledger entry (R-4.e), named as a person reads them.
LEDGER_FIELD_TITLES = {"case_number": "办件编号", "process_id": "流程", "unit_code": "单位",
                       "applicant_name": "服务对象", "matter_code": "事项", "step": "环节", "actor": "办理人",
                       "at": "时间"}
LEDGER_HEADERS = ("时间", "办件编号", "流程", "单位", "事项", "服务对象", "环节", "办理人", "缺少字段")
FILTER_KEYS = ("process", "status", "unit", "matter", "applicant_type", "late", "start", "end", "name", "phone")


# --- who may look, and at what -------------------------------------------------------------------------

def require_supervisor(actor: Actor) -> None:
    if actor.role not in SUPERVISING_ROLES:
        raise Forbidden("只有首席服务专员、政务服务中心办公室和系统管理员可以查看督办页面。")




# --- filters -------------------------------------------------------------------------------------------

def clean_filters(raw: Mapping[str, Any]) -> dict[str, Any]:
    """Query-string values -> filters; anything not understood is dropped (a list, not a form)."""
    def text(name: str, limit: int = 64) -> str | None:
        value = str(raw.get(name) or "").strip()
        return value[:limit] or None

    filters: dict[str, Any] = {
        "process": text("process") if text("process") in PROCESS_TITLES else None,
        "status": text("status") if text("status") in STATUSES else None,
        "unit": text("unit", 32), "matter": text("matter", 32),
        "applicant_type": text("applicant_type") if text("applicant_type") in APPLICANT_TYPES else None,
        "late": text("late") if text("late") in LATE_STATES else None,
        "start": day_or_none(raw.get("start")), "end": day_or_none(raw.get("end")),
        "name": text("name", 50),
        "phone": None,
    }
    phone = re.sub(r"[\s-]", "", str(raw.get("phone") or ""))
    if PHONE.fullmatch(phone):
        filters["phone"] = phone
    if filters["start"] and filters["end"] and filters["end"] < filters["start"]:
        filters["start"], filters["end"] = filters["end"], filters["start"]
    return filters


def _case_conditions(system: System, session, actor: Actor, filters: Mapping[str, Any], ordered: bool = False) -> list:
    """The WHERE of the case list; ``ordered`` for the statement that reads a page newest first."""
    org = system.org(session)
    conditions = []
    scope = access.case_condition(access.figure_units(system, session, actor))
    if scope is not None:
        conditions.append(scope)
    if filters.get("process"):
        conditions.append(Case.process_id == filters["process"])
    if filters.get("status"):
        conditions.append(Case.status == filters["status"])
    if filters.get("unit"):
        # A unit's cases: those it handles and those its staff registered (handed on to a department).
        units = sorted(org.subtree(filters["unit"]) or {filters["unit"]})
        conditions.append(or_(Case.unit_code.in_(units), Case.started_unit.in_(units)))
    if filters.get("matter"):
        conditions.append(Case.matter_code == filters["matter"])
    if filters.get("applicant_type"):
        conditions.append(Case.applicant_type == filters["applicant_type"])
    late = filters.get("late")
    if late:
        # IN over the ready tasks past due (an index-only range of ix_task_status_due), not EXISTS per case row.
        # For a page, "id + 0" keeps the database from looking up every overdue case by id and sorting
        # them: it reads the newest cases in started_at order instead and stops at the page's end.
        overdue_ids = select(HumanTask.case_id).where(HumanTask.status == "ready", HumanTask.due_at < system.clock.now())
        overdue = ((Case.id + 0) if ordered else Case.id).in_(overdue_ids)
        breached = Case.breaches > 0
        conditions.append({"overdue": overdue, "breached": breached, "any": or_(overdue, breached)}[late])
    first, last = filters.get("start"), filters.get("end")
    if first or last:
        start, end = local_period(system, first or date(1970, 1, 1), last or date(9998, 12, 30))
        if first:
            conditions.append(Case.started_at >= start)
        if last:
            conditions.append(Case.started_at < end)
    # Part of a name, or a phone's last digits ("尾号 5678"), cannot use an index range; as a subquery
    # over (column, id) alone they scan the small index, not the case rows with their workflow state.
    if filters.get("name"):
        conditions.append(Case.id.in_(select(Case.id).where(
            Case.applicant_name.contains(filters["name"], autoescape=True))))
    if filters.get("phone"):
        phone = filters["phone"]
        if len(phone) >= 11:
            conditions.append(Case.applicant_phone == phone)  # the whole number: an index lookup
        else:
            conditions.append(Case.id.in_(select(Case.id).where(
                Case.applicant_phone.endswith(phone, autoescape=True))))
    return conditions


def _row(row) -> dict[str, Any]:
    return {"id": row.id, "number": row.number, "process": row.process_id, "status": row.status,
            "unit": row.unit_code, "matter_code": row.matter_code, "applicant_name": row.applicant_name,
            "applicant_type": row.applicant_type, "applicant_phone": row.applicant_phone,
            "started_at": row.started_at, "completed_at": row.completed_at, "breaches": row.breaches}


def _names(system: System, session) -> dict[str, dict[str, str]]:
    org = system.org(session)
    return {"unit": {code: u.name for code, u in org.by_code.items()},
            "matter": dict(session.execute(select(Matter.code, Matter.name)).all())}


def search_cases(system: System, actor: Actor, filters: Mapping[str, Any] | None = None, page: int = 1,
                 per_page: int = PER_PAGE) -> dict[str, Any]:
    """One page of the cases the actor supervises that match the filters, newest first, with the total."""
    require_supervisor(actor)
    filters = clean_filters(filters or {})
    page, per_page = max(1, int(page)), min(max(1, int(per_page)), 200)
    with system.db.unit_of_work(write=False) as session:
        conditions = _case_conditions(system, session, actor, filters)
        total = session.scalar(select(func.count(Case.id)).where(*conditions))
        ordered = _case_conditions(system, session, actor, filters, ordered=True)
        rows = session.execute(select(*CASE_COLUMNS).where(*ordered).order_by(Case.started_at.desc(), Case.id.desc())
                               .limit(per_page).offset((page - 1) * per_page)).all()
        units = access.figure_units(system, session, actor)
        root = actor.unit_code if units is not None else None
        return {"items": [_row(r) for r in rows], "total": total, "page": page, "per_page": per_page,
                "pages": max(1, math.ceil(total / per_page)), "filters": filters,
                "names": _names(system, session), "units": unit_tree(system, session, root),
                "matters": session.execute(select(Matter.code, Matter.name).order_by(Matter.code)).all(),
                "export_limit": EXPORT_LIMIT}


def _local(system: System, value: datetime | None) -> str:
    return value.astimezone(system.calendar.tz).strftime("%Y-%m-%d %H:%M") if value else ""


def _workbook(title: str, headers: tuple[str, ...], rows, note: str | None,
              more: tuple[tuple[str, tuple[str, ...], Any], ...] = ()) -> bytes:
    """Every Excel export goes through here. Each text cell is written with the string type, so a
    value someone typed (an applicant's name such as ``=HYPERLINK(...)``) stays data and never becomes
    a formula in the supervisor's spreadsheet; numbers stay numbers. ``more``: further sheets, each
    (title, headers, rows)."""
    from openpyxl import Workbook  # only the exports need it
    from openpyxl.cell import WriteOnlyCell

    book = Workbook(write_only=True)

    def cells(sheet, values) -> list:
        out = []
        for value in values:
            cell = WriteOnlyCell(sheet, value)
            if isinstance(value, str):
                cell.data_type = "s"  # openpyxl would otherwise make "=..." a formula
            out.append(cell)
        return out

    for name, head, body in ((title, headers, rows), *more):
        sheet = book.create_sheet(name)
        sheet.append(cells(sheet, head))
        for row in body:
            sheet.append(cells(sheet, row))
    if note:
        notes = book.create_sheet("说明")
        notes.append(cells(notes, [note]))
    out = io.BytesIO()
    book.save(out)
    return out.getvalue()


def export_cases_xlsx(system: System, actor: Actor, filters: Mapping[str, Any] | None = None) -> tuple[bytes, dict[str, Any]]:
    """The filtered list as an .xlsx with Chinese headers: at most EXPORT_LIMIT rows, newest first;
    returns (bytes, {"total", "exported", "truncated", "message"})."""
    require_supervisor(actor)
    filters = clean_filters(filters or {})
    with system.db.unit_of_work(write=False) as session:
        conditions = _case_conditions(system, session, actor, filters)
        total = session.scalar(select(func.count(Case.id)).where(*conditions))
        ordered = _case_conditions(system, session, actor, filters, ordered=True)
        rows = session.execute(select(*CASE_COLUMNS).where(*ordered).order_by(Case.started_at.desc(), Case.id.desc())
                               .limit(EXPORT_LIMIT)).all()
        names = _names(system, session)
    message = (f"符合条件的办件共 {total} 件，超过导出上限 {EXPORT_LIMIT} 件，只导出了最新的 {EXPORT_LIMIT} 件；"
               "请缩小筛选范围（例如受理日期）分批导出。") if total > EXPORT_LIMIT else None
    data = _workbook("办件", CASE_HEADERS, ([
        r.number or "", PROCESS_TITLES.get(r.process_id, r.process_id), STATUS_TITLES.get(r.status, r.status),
        names["unit"].get(r.unit_code or "", r.unit_code or ""),
        names["matter"].get(r.matter_code or "", r.matter_code or ""), r.applicant_name or "",
        APPLICANT_TYPES.get(r.applicant_type or "", r.applicant_type or ""), r.applicant_phone or "",
        _local(system, r.started_at), _local(system, r.completed_at), r.breaches or 0] for r in rows), message)
    return data, {"total": total, "exported": min(total, EXPORT_LIMIT), "truncated": message is not None,
                  "message": message}


# --- the ledger and its completeness (R-4.e) -------------------------------------------------------------

def missing_fields(entry) -> list[str]:
    """The required ledger fields this entry lacks, in Chinese (R-4.e)."""
    return [LEDGER_FIELD_TITLES[f] for f in LEDGER_REQUIRED
            if getattr(entry, f, None) is None or (isinstance(getattr(entry, f), str) and not getattr(entry, f).strip())]


def _incomplete_condition():
    return ledger_incomplete()


def _ledger_conditions(system: System, session, actor: Actor, unit: str | None, staff: str | None,
                       start: date | None, end: date | None, incomplete: bool) -> list:
    org = system.org(session)
    conditions = []
    scope = access.figure_units(system, session, actor)
    if scope is not None:
        conditions.append(LedgerEntry.unit_code.in_(sorted(scope)))
    if unit:
        conditions.append(LedgerEntry.unit_code.in_(sorted(org.subtree(unit) or {unit})))
    if staff:
        conditions.append(LedgerEntry.actor == staff)
    if start or end:
        first, last = local_period(system, start or date(1970, 1, 1), end or date(9998, 12, 30))
        if start:
            conditions.append(LedgerEntry.at >= first)
        if end:
            conditions.append(LedgerEntry.at < last)
    if incomplete:
        conditions.append(_incomplete_condition())
    return conditions


LEDGER_COLUMNS = (LedgerEntry.id, LedgerEntry.case_id, LedgerEntry.case_number, LedgerEntry.process_id,
                  LedgerEntry.unit_code, LedgerEntry.matter_code, LedgerEntry.applicant_name, LedgerEntry.step,
                  LedgerEntry.title, LedgerEntry.actor, LedgerEntry.actor_role, LedgerEntry.at)


def _staff_names(session) -> dict[str, str]:
    return {**NON_STAFF_NAMES, **dict(session.execute(select(Staff.username, Staff.name)).all())}


def ledger_completeness(system: System, actor: Actor, unit: str | None = None, staff: str | None = None,
                        start: date | None = None, end: date | None = None, incomplete: bool = False,
                        page: int = 1, per_page: int = PER_PAGE) -> dict[str, Any]:
    """Ledger entries (per unit with its sub-units, per staff member, per period), each with the
    required fields it lacks; with the count of incomplete entries and a per-unit, per-staff summary."""
    require_supervisor(actor)
    page, per_page = max(1, int(page)), min(max(1, int(per_page)), 200)
    unit, staff = (unit or "").strip()[:32] or None, (staff or "").strip()[:64] or None
    start, end = day_or_none(start), day_or_none(end)
    if start and end and end < start:
        start, end = end, start
    with system.db.unit_of_work(write=False) as session:
        conditions = _ledger_conditions(system, session, actor, unit, staff, start, end, incomplete)
        flag = sql_case((_incomplete_condition(), 1), else_=0)
        total, missing = session.execute(select(func.count(LedgerEntry.id), func.coalesce(func.sum(flag), 0))
                                         .where(*conditions)).one()
        rows = session.execute(select(*LEDGER_COLUMNS).where(*conditions)
                               .order_by(LedgerEntry.at.desc(), LedgerEntry.id.desc())
                               .limit(per_page).offset((page - 1) * per_page)).all()
        summary = session.execute(select(LedgerEntry.unit_code, LedgerEntry.actor, func.count(LedgerEntry.id),
                                         func.coalesce(func.sum(flag), 0)).where(*conditions)
                                  .group_by(LedgerEntry.unit_code, LedgerEntry.actor)
                                  .order_by(LedgerEntry.unit_code, LedgerEntry.actor).limit(500)).all()
        names = _names(system, session)
        people = _staff_names(session)
        scope = access.figure_units(system, session, actor)
        units = unit_tree(system, session, actor.unit_code if scope is not None else None)
    items = [{"id": r.id, "case_id": r.case_id, "case_number": r.case_number, "process": r.process_id,
              "unit": r.unit_code, "matter_code": r.matter_code, "applicant_name": r.applicant_name,
              "step": r.step, "title": r.title, "actor": r.actor,
              "actor_name": people.get(r.actor, r.actor),
              "actor_role": r.actor_role, "at": r.at, "missing": missing_fields(r)} for r in rows]
    return {"items": items, "total": total, "incomplete": int(missing), "page": page, "per_page": per_page,
            "pages": max(1, math.ceil(total / per_page)), "names": names, "units": units,
            "summary": [{"unit": u, "unit_name": names["unit"].get(u or "", u or "—"), "actor": a,
                         "actor_name": people.get(a, a), "entries": n,
                         "incomplete": int(m)} for u, a, n, m in summary],
            "filters": {"unit": unit, "staff": staff, "start": start, "end": end, "incomplete": incomplete},
            "role_titles": ROLE_TITLES}


def export_ledger_xlsx(system: System, actor: Actor, unit: str | None = None, staff: str | None = None,
                       start: date | None = None, end: date | None = None,
                       incomplete: bool = False) -> tuple[bytes, dict[str, Any]]:
    """The filtered ledger as an .xlsx with Chinese headers and each entry's missing fields."""
    require_supervisor(actor)
    start, end = day_or_none(start), day_or_none(end)
    with system.db.unit_of_work(write=False) as session:
        conditions = _ledger_conditions(system, session, actor, (unit or "").strip()[:32] or None,
                                        (staff or "").strip()[:64] or None, start, end, incomplete)
        total = session.scalar(select(func.count(LedgerEntry.id)).where(*conditions))
        rows = session.execute(select(*LEDGER_COLUMNS).where(*conditions)
                               .order_by(LedgerEntry.at.desc(), LedgerEntry.id.desc()).limit(EXPORT_LIMIT)).all()
        names = _names(system, session)
        people = _staff_names(session)
    message = (f"符合条件的台账记录共 {total} 条，超过导出上限 {EXPORT_LIMIT} 条，只导出了最新的 {EXPORT_LIMIT} 条；"
               "请缩小筛选范围分批导出。") if total > EXPORT_LIMIT else None
    data = _workbook("台账", LEDGER_HEADERS, ([
        _local(system, r.at), r.case_number or "", PROCESS_TITLES.get(r.process_id or "", r.process_id or ""),
        names["unit"].get(r.unit_code or "", r.unit_code or ""),
        names["matter"].get(r.matter_code or "", r.matter_code or ""), r.applicant_name or "", r.title or r.step or "",
        people.get(r.actor, r.actor or ""), "、".join(missing_fields(r))] for r in rows), message)
    return data, {"total": total, "exported": min(total, EXPORT_LIMIT), "truncated": message is not None,
                  "message": message}
