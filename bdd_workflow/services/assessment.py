"""Staff assessment (R-5.2 培训考核: supervisors see each staff member's work, timeliness and ratings as the basis
for training, supervision and assessment; 10.2 评价结果宜作为…绩效考核的重要依据).

For a period (local days, as the quality dashboard's), per staff member and per unit:

- ``steps``: steps (user tasks) they completed in the period, and those completed after their due time.
- ``ratings``: ratings of record (一事一评) given in the period, on any channel, to the cases in which they
  completed a step; good / bad.
- ``complaints``: complaints decided in the period that name them (and those found upheld).
- ``rectifications``: rectifications (差评整改) started in the period about a case in which they completed a step.
- ``handovers``: 问题交办 started in the period about such a case (shown once that procedure is deployed).

Each figure is ONE function below with the same signature, returning a :class:`Figure`: per staff member and per
unit the count of each part and the ids of the cases behind it. A figure's unit is where the work was done (the
step's unit), so a unit's page counts the steps done in it and the ratings, rectifications and handovers of the
cases worked in it; a complaint counts in the unit of the case it names, else of the staff member it names. The
unit's total counts each rating, complaint or case once however many of its staff worked on it.

When what is counted changes, only that figure's function changes.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from datetime import date, datetime
from typing import Any, Callable, Iterable

from sqlalchemy import and_, func, select
from sqlalchemy.orm import aliased

from ..db.fast import plain_rows
from ..db.models import Case, CaseLink, ComplaintFinding, Evaluation, HumanTask, OrgUnit, ProcessDefinition, Staff
from ..errors import DomainError, Forbidden, NotFound
from ..system import System
from . import access
from .identity import SUPERVISING_ROLES, Actor
from .metrics import MAX_DAYS, _flag, _scope, local_period

FOCUS_ITEMS = 1000  # case numbers listed under the number a person opens
TOTAL = ""  # the key of the unit's (or the page's) total in Figure.by_staff


@dataclass(frozen=True)
class Cell:
    """One number and the cases behind it (distinct case ids, ascending)."""

    count: int = 0
    cases: tuple[int, ...] = ()


EMPTY = Cell()


@dataclass
class Figure:
    """A figure's numbers: per staff member (username; TOTAL for the whole scope) and per unit, per part."""

    key: str
    title: str
    parts: dict[str, str]  # part -> its column title, in column order
    by_staff: dict[str, dict[str, Cell]] = field(default_factory=dict)
    by_unit: dict[str, dict[str, Cell]] = field(default_factory=dict)
    available: bool = True  # False: nothing can be counted yet (the procedure is not deployed)
    note: str | None = None  # said on the page and in the export next to the figure

    def cell(self, who: str | None, part: str) -> Cell:
        return self.by_staff.get(who or TOTAL, {}).get(part, EMPTY)

    def total(self, part: str) -> Cell:
        return self.cell(TOTAL, part)


# One counted thing: (who (None: nobody named), unit where, case id, item (the step, rating, complaint or case the
# count counts), the parts it belongs to).
Row = tuple[str | None, str | None, int, Any, tuple[str, ...]]


def _figure(key: str, title: str, parts: dict[str, str], rows: Iterable[Row]) -> Figure:
    """Counts and case ids per staff member, per unit and in total; each item counts once per group."""
    staff: dict[str, dict[str, tuple[set, set]]] = {}
    units: dict[str, dict[str, tuple[set, set]]] = {}

    def group(table: dict, name: str) -> dict[str, tuple[set, set]]:
        found = table.get(name)
        if found is None:
            found = table[name] = {p: (set(), set()) for p in parts}
        return found

    total = group(staff, TOTAL)
    for who, unit, case_id, item, in_parts in rows:
        groups = (total, group(units, unit or ""), group(staff, who)) if who else (total, group(units, unit or ""))
        for g in groups:
            for part in in_parts:
                items, cases = g[part]
                items.add(item)
                cases.add(case_id)

    def cells(table: dict) -> dict[str, dict[str, Cell]]:
        return {name: {p: Cell(len(items), tuple(sorted(cases))) for p, (items, cases) in counted.items()}
                for name, counted in table.items()}

    return Figure(key, title, parts, by_staff=cells(staff), by_unit=cells(units))


# --- the figures: one query each --------------------------------------------------------------------------------

@dataclass(frozen=True)
class Scope:
    """What is counted: the period [start, end), the units (None: all) and one staff member (None: all)."""

    start: datetime
    end: datetime
    units: set[str] | None
    who: str | None = None


def _in_units(column, scope: Scope) -> list:
    return [] if scope.units is None else [column.in_(sorted(scope.units))]


def _worked(scope: Scope) -> list:
    """A completed step of ``scope``'s staff member in ``scope``'s units (whenever it was done). Only a completed
    step has ``completed_by``; without a condition on the status, a join reaches the steps of a case by
    ``ix_task_case_done`` (case, who, unit: index-only) rather than reading every completed step."""
    return [HumanTask.completed_by.is_not(None), *_in_units(HumanTask.unit_code, scope),
            *([] if scope.who is None else [HumanTask.completed_by == scope.who])]


def steps(session, scope: Scope) -> Figure:
    """Steps completed in the period, and those completed after their due time (R-5.2 工作量、及时性)."""
    # Index-only on ix_task_completed; each row is one step (the row number stands for it).
    rows = plain_rows(session, select(HumanTask.completed_by, HumanTask.unit_code, HumanTask.case_id,
                                      _flag(HumanTask.completed_at > HumanTask.due_at))
                      .where(HumanTask.status == "completed", HumanTask.completed_at >= scope.start,
                             HumanTask.completed_at < scope.end, *_worked(scope)))
    late, done = ("done", "late"), ("done",)
    return _figure("steps", "办理环节", {"done": "办理环节", "late": "超期办理"},
                   ((r[0], r[1], r[2], i, late if r[3] else done) for i, r in enumerate(rows)))


def ratings(session, scope: Scope) -> Figure:
    """Ratings of record (一事一评: the first given, on any channel) given in the period to cases in which the staff
    member completed a step (R-4.d, 10.2); a callback's opinion on a case rated before is not counted."""
    rows = plain_rows(session, select(HumanTask.completed_by, HumanTask.unit_code, Evaluation.case_id, Evaluation.id,
                                      _flag(Evaluation.bad)).distinct()
                      .join(HumanTask, HumanTask.case_id == Evaluation.case_id)
                      .where(Evaluation.of_record, Evaluation.at >= scope.start, Evaluation.at < scope.end,
                             *_worked(scope)))
    bad, good = ("bad",), ("good",)
    return _figure("ratings", "评价", {"good": "好评", "bad": "差评"},
                   ((r[0], r[1], r[2], r[3], bad if r[4] else good) for r in rows))


COMPLAINT_NOTE = ("投诉在调查处理、认定是否属实时计入（认定日期在所选期间内）：计入投诉涉及的工作人员本人；"
                  "单位按投诉涉及的办件的承办单位，未涉及办件时按被投诉人所在单位。")


def complaints(session, scope: Scope) -> Figure:
    """Complaints decided in the period that name the staff member, and those found upheld (R-4.c, 5.2): the
    findings the complaint diagram records (``complaint_finding``), by their unit and staff member."""
    query = select(ComplaintFinding.staff_username, ComplaintFinding.unit_code, ComplaintFinding.case_id,
                   _flag(ComplaintFinding.upheld)).where(ComplaintFinding.decided_at >= scope.start,
                                                         ComplaintFinding.decided_at < scope.end)
    if scope.units is not None:
        query = query.where(ComplaintFinding.unit_code.in_(sorted(scope.units)))
    if scope.who is not None:
        query = query.where(ComplaintFinding.staff_username == scope.who)
    rows = ((who or None, unit, case_id, case_id, ("all", "upheld") if upheld else ("all",))
            for who, unit, case_id, upheld in plain_rows(session, query))
    figure = _figure("complaints", "投诉", {"all": "被投诉", "upheld": "投诉属实"}, rows)
    figure.note = COMPLAINT_NOTE
    return figure


def _follow_ups(session, scope: Scope, process: str, relation: str) -> list[Row]:
    """Cases of ``process`` started in the period, linked by ``relation`` from a case the staff member worked on,
    or from that case's callback (a rating found bad at the callback starts the follow-up from the callback)."""
    follow = aliased(Case)
    first, callback = aliased(CaseLink), aliased(CaseLink)
    subject = func.coalesce(callback.from_case_id, first.from_case_id)
    rows = plain_rows(session, select(HumanTask.completed_by, HumanTask.unit_code, follow.id).distinct()
                           .select_from(follow)
                           .join(first, and_(first.to_case_id == follow.id, first.relation == relation))
                           .outerjoin(callback, and_(callback.to_case_id == first.from_case_id,
                                                     callback.relation == "callback"))
                           .join(HumanTask, HumanTask.case_id == subject)
                           .where(follow.process_id == process, follow.started_at >= scope.start,
                                  follow.started_at < scope.end, *_worked(scope)))
    return [(r[0], r[1], r[2], r[2], ("all",)) for r in rows]


def rectifications(session, scope: Scope) -> Figure:
    """Rectifications (差评整改, 10.2) started in the period about cases in which the staff member completed a step."""
    return _figure("rectifications", "差评整改", {"all": "差评整改"},
                   _follow_ups(session, scope, "rectification", "rectification"))


HANDOVER_PROCESS = "handover"
HANDOVER_NOTE = "问题交办程序尚未启用：回访发现的问题交办后才计入此项。"


def handovers(session, scope: Scope) -> Figure:
    """问题交办 (10.1) started in the period about cases in which the staff member completed a step.

    The callback starts one ``handover`` per problem it found, linked by relation ``handover`` from the service
    case (and listed on the callback). An installation that has not deployed that procedure (an older diagram
    set) can count nothing here: the figure says so instead of showing zeros."""
    parts = {"all": "问题交办"}
    deployed = session.scalar(select(func.count(ProcessDefinition.id))
                              .where(ProcessDefinition.process_id == HANDOVER_PROCESS))
    if not deployed:
        return Figure("handovers", "问题交办", parts, available=False, note=HANDOVER_NOTE)
    return _figure("handovers", "问题交办", parts, _follow_ups(session, scope, HANDOVER_PROCESS, "handover"))


FIGURES: tuple[Callable[[Any, Scope], Figure], ...] = (steps, ratings, complaints, rectifications, handovers)


# --- who may see what ------------------------------------------------------------------------------------------

def _staff_scope(system: System, session, actor: Actor, username: str) -> tuple[Staff, set[str] | None]:
    """The staff member's record and the units their figures cover for ``actor``.

    A staff member sees their own page (their work in every unit); the centre office and administrators
    everyone's; a chief officer the staff of the units they direct, counted within those units (R-6.2)."""
    person = session.scalar(select(Staff).where(Staff.username == username)) if username else None
    if person is None:
        raise NotFound(f"没有用户名为“{username}”的工作人员。")
    if person.username == actor.username:
        return person, None
    if actor.role not in SUPERVISING_ROLES:
        raise Forbidden("只能查看本人的工作考核。")
    units = access.figure_units(system, session, actor)
    unit = session.scalar(select(OrgUnit.code).where(OrgUnit.id == person.unit_id)) if person.unit_id else None
    if units is not None and unit not in units:
        raise Forbidden("只能查看您督办单位的工作人员。")
    return person, units


def period(system: System, first: date, last: date) -> tuple[datetime, datetime]:
    if last < first:
        first, last = last, first
    if (last - first).days > MAX_DAYS:
        raise DomainError(f"统计期间最长 {MAX_DAYS // 365} 年：请缩短开始日期与结束日期之间的间隔。")
    return local_period(system, first, last)


# --- the report ------------------------------------------------------------------------------------------------

@dataclass
class Person:
    username: str
    name: str
    role: str | None
    unit: str | None
    unit_name: str | None


@dataclass
class Report:
    """The page: the figures of a unit's staff (or of one staff member) for a period."""

    first: date
    last: date
    unit: str | None  # the unit chosen (None: all the actor may see)
    unit_name: str
    person: Person | None  # a staff member's page
    figures: list[Figure]
    people: list[Person]  # the rows: the unit's staff and anyone who worked in it
    columns: list[tuple[Figure, str, str]]  # (figure, part, title) of the figures shown


def report(system: System, actor: Actor, first: date, last: date, unit: str | None = None,
           username: str | None = None) -> Report:
    """The assessment of the staff of ``unit`` (with its sub-units; all the actor may see without one), or of
    the staff member ``username``, for the local days [first, last]."""
    start, end = period(system, first, last)
    first, last = min(first, last), max(first, last)
    with system.db.unit_of_work(write=False) as session:
        org = system.org(session)
        person = None
        if username:
            staff, units = _staff_scope(system, session, actor, username)
            unit = None
        else:
            if actor.role not in SUPERVISING_ROLES:
                raise Forbidden("只有首席服务专员、政务服务中心办公室和系统管理员可以查看单位的工作考核。")
            units = _scope(system, session, actor, unit)
        scope = Scope(start, end, units, username)
        figures = [count(session, scope) for count in FIGURES]
        names = {r.username: r for r in session.execute(
            select(Staff.username, Staff.name, Staff.role, Staff.active, OrgUnit.code)
            .outerjoin(OrgUnit, OrgUnit.id == Staff.unit_id))}
    people = {who for f in figures for who in f.by_staff if who != TOTAL}
    if username:
        people = {username}
    else:  # the unit's active staff, with or without work in the period
        people |= {u for u, r in names.items() if r.active and r.code and (units is None or r.code in units)}

    def as_person(who: str) -> Person:
        r = names.get(who)
        return Person(who, r.name if r else who, r.role if r else None, r.code if r else None,
                      org.name(r.code) if r and r.code else None)

    rows = sorted((as_person(u) for u in people),
                  key=lambda p: (-figures[0].cell(p.username, "done").count, p.unit or "", p.username))
    if username:
        person = rows[0]
    columns = [(f, part, title) for f in figures if f.available for part, title in f.parts.items()]
    where = (org.name(unit) or unit) if unit else "全县" if units is None else (org.name(actor.unit_code) or "")
    return Report(first, last, unit, where, person, figures, rows, columns)


def focus(system: System, result: Report, key: str | None, part: str | None, who: str | None) -> dict[str, Any] | None:
    """The cases behind one number of the page (``who`` None: the total): their ids and numbers."""
    figure = next((f for f in result.figures if f.key == key), None)
    if figure is None or part not in figure.parts:
        return None
    if who and who not in {p.username for p in result.people}:
        return None
    cell = figure.cell(who, part)
    shown = list(cell.cases[:FOCUS_ITEMS])
    return {"figure": figure, "part": part, "title": figure.parts[part], "who": who, "cell": cell,
            "cases": case_rows(system, shown), "truncated": len(cell.cases) > len(shown)}


def case_rows(system: System, ids: list[int]) -> list[dict[str, Any]]:
    """Number, process and status of each case, in the order given."""
    found: dict[int, Any] = {}
    with system.db.unit_of_work(write=False) as session:
        for i in range(0, len(ids), 5000):
            chunk = ids[i:i + 5000]
            for r in session.execute(select(Case.id, Case.number, Case.process_id, Case.status, Case.unit_code)
                                     .where(Case.id.in_(chunk))):
                found[r.id] = r
    return [{"id": i, "number": found[i].number, "process": found[i].process_id, "status": found[i].status,
             "unit": found[i].unit_code} for i in ids if i in found]


def as_dict(result: Report) -> dict[str, Any]:
    """The JSON payload (schemas.AssessmentReport): each number with the ids of its cases."""
    def numbers(who: str | None) -> dict[str, Any]:
        return {f.key: {part: {"count": f.cell(who, part).count, "cases": list(f.cell(who, part).cases)}
                        for part in f.parts} for f in result.figures if f.available}

    return {
        "period": {"start": result.first, "end": result.last}, "unit": result.unit, "unit_name": result.unit_name,
        "staff": result.person.username if result.person else None,
        "figures": [{"key": f.key, "title": f.title, "parts": f.parts, "available": f.available, "note": f.note}
                    for f in result.figures],
        "people": [{"username": p.username, "name": p.name, "role": p.role, "unit": p.unit, "unit_name": p.unit_name,
                    "numbers": numbers(p.username)} for p in result.people],
        "total": numbers(None),
    }


def export_xlsx(system: System, result: Report) -> bytes:
    """The page as an .xlsx: a row per staff member and the total, each number as on the page; a sheet listing
    the cases behind every number; the notes. Written by supervision's workbook (data, never formulas)."""
    from .inbox import PROCESS_TITLES
    from .supervision import _workbook

    headers = ("工作人员", "用户名", "单位", *[title for _, _, title in result.columns])
    rows = [[p.name, p.username, p.unit_name or "", *[f.cell(p.username, part).count for f, part, _ in result.columns]]
            for p in result.people]
    if not result.person:
        rows.append(["合计", "", result.unit_name, *[f.total(part).count for f, part, _ in result.columns]])
    listed = [(p.name, f, part, title, f.cell(p.username, part).cases)
              for p in result.people for f, part, title in result.columns]
    numbers = {c["id"]: c for c in case_rows(system, sorted({i for *_, ids in listed for i in ids}))}
    cases = ([name, title, numbers[i]["number"] or "", PROCESS_TITLES.get(numbers[i]["process"], numbers[i]["process"])]
             for name, _, _, title, ids in listed for i in ids if i in numbers)
    notes = [f"统计期间：{result.first.isoformat()} 至 {result.last.isoformat()}（{result.unit_name}）。",
             *[f"{f.title}：{f.note}" for f in result.figures if f.note]]
    return _workbook("工作考核", headers, rows, None, more=(
        ("办件明细", ("工作人员", "指标", "办件编号", "流程"), cases), ("说明", ("说明",), ([n] for n in notes))))
