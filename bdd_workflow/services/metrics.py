"""Section 4 of the 规范: the five quality figures, computed live from the data (R-4.a–R-4.e).

Each figure is a fraction with its numerator, denominator and the ids of the cases (or matters,
ledger entries) behind it, so a supervisor can check any number by hand.

- R-4.a 按时办结率: service cases (assist, proxy, onsite) completed in the period whose completion
  came no later than their promised deadline (``Case.due_at``: the matter's promised working days
  from acceptance, the same deadline the diagrams' timers read) and without a fired deadline.
  Not counted: a case closed for the applicant's reason (撤回, 放弃, 逾期未补正: ``Case.closure``), which
  is not the unit's lateness and is listed apart (``closures``); an assist case converted to proxy,
  for which its proxy case stands (one service, counted once).
- R-4.b 信息公开透明度: active matters whose one-time notice is complete (materials each with how to
  obtain them, conditions, steps, time limit, cautions) / active matters.
- R-4.c 咨询投诉及时处理率: consultations and complaints started in the period with no fired deadline
  / consultations and complaints started in the period.
- R-4.d 满意率: good ratings of record in the period / ratings of record. 一事一评: a case counts once, by its
  rating of record, the first given on any channel (callback, window, online); later ones count nowhere.
- R-4.e 台账完整: ledger entries of the period that have every required field / entries.
- breaches 超时督办次数: fired deadlines by kind (process, timer). A deadline that keeps escalating while its
  task stays open (the diagrams' ``_county`` and ``_office`` timers, R-6.4.1) is one breach per level, so
  this counts escalations; R-4.a and R-4.c count cases (``Case.breaches == 0``), once however often.

Every figure is also given per ISO week or calendar month of the period (the trend), per unit and
per staff member. The database counts, grouped by (week or month, unit) in one statement per figure,
over indexes that hold every column it needs (migrations 0008, 0020), so no case row with its workflow
state is read and no row comes back to Python. R-4.a compares two columns of the case row, its completion
and its promised deadline, written when the case was accepted.
"""

from __future__ import annotations

from collections import defaultdict
from datetime import date, datetime, time, timedelta
from typing import Any

from sqlalchemy import and_, distinct, func, literal, literal_column, or_, select
from sqlalchemy import case as sql_case
from sqlalchemy.orm import aliased

from ..db.models import Breach, Case, CaseLink, Evaluation, HumanTask, LedgerEntry, Matter, Staff
from ..errors import DomainError, Forbidden, NotFound
from ..system import System
from .cases import APPLICANT_CLOSURES, CLOSURE_REASONS, SERVICE_PROCESSES
from . import access, accountability
from .identity import SUPERVISING_ROLES, Actor, require_role

LEDGER_REQUIRED = ("case_number", "process_id", "unit_code", "applicant_name", "matter_code", "step", "actor", "at")
NOTICE_PARTS = ("materials", "conditions", "steps", "time_limit", "cautions")
HANDLED_PROCESSES = ("consultation", "complaint")
TRENDS = {"week": "按周", "month": "按月"}
PAGE_ITEMS = 20  # ids listed under each number on the page ...
FOCUS_ITEMS = 1000  # ... and under the number a person opens
MAX_WEEKS = 60  # a longer period is shown by month
MAX_BUCKETS = 60  # and at most this many months (the latest)
MAX_DAYS = 3653  # the longest period counted: ten years
# The figures a trend point links to; "breaches" is the count of fired deadlines, not a rate.
FIGURE_TITLES = {"R-4.a": "按时办结率", "R-4.b": "信息公开透明度", "R-4.c": "咨询投诉及时处理率", "R-4.d": "满意率",
                 "R-4.e": "台账完整", "R-10.1": "回访覆盖率", "breaches": "超时督办次数"}


def _rate(numerator: int, denominator: int) -> float | None:
    return round(numerator / denominator, 4) if denominator else None


def _figure(key: str, title: str, good: list, all_: list, numerator: int | None = None,
            denominator: int | None = None) -> dict[str, Any]:
    numerator = len(good) if numerator is None else numerator
    denominator = len(all_) if denominator is None else denominator
    return {"key": key, "title": title, "numerator": numerator, "denominator": denominator,
            "rate": _rate(numerator, denominator), "target": 1.0, "items": all_, "good": good,
            "truncated": len(all_) < denominator}


def notice_complete(notice: dict[str, Any] | None) -> bool:
    """R-5.4: materials (each with how to obtain it), conditions, steps, time limit and cautions."""
    if not notice or any(not notice.get(part) for part in NOTICE_PARTS):
        return False
    return all(m.get("name") and m.get("how_to_obtain") for m in notice["materials"])


def ledger_incomplete():
    """SQL: a ledger entry lacking a required field (R-4.e): NULL, or only blanks."""
    parts = []
    for name in LEDGER_REQUIRED:
        column = getattr(LedgerEntry, name)
        parts.append(column.is_(None))
        if name != "at":
            parts.append(func.trim(column) == literal_column("''"))  # a constant: it matches the partial index
    return or_(*parts)


def local_period(system: System, first: date, last: date) -> tuple[datetime, datetime]:
    """[first 00:00, the day after last 00:00) in the county's time zone."""
    tz = system.calendar.tz
    last = min(last, date.max - timedelta(days=1))  # an open end (9999-12-31) still has a next day
    return (datetime.combine(first, time.min, tz), datetime.combine(last + timedelta(days=1), time.min, tz))


# --- trend buckets -----------------------------------------------------------------------------------------

def trend_buckets(system: System, first: date, last: date, by: str) -> tuple[str, list[dict[str, Any]]]:
    """The ISO weeks (Monday to Sunday) or calendar months of [first, last], clipped to it, in local time.

    A period longer than MAX_WEEKS weeks is given by month; at most MAX_BUCKETS months, the latest."""
    if by == "week" and (last - first).days // 7 + 1 > MAX_WEEKS:
        by = "month"
    buckets = []
    day = first
    while day <= last:
        if by == "week":
            end = min(last, day + timedelta(days=6 - day.weekday()))
            year, week, _ = day.isocalendar()
            label, sub = f"{year}-W{week:02d}", f"{day:%m-%d}–{end:%m-%d}"
        else:
            following = (day.replace(day=1) + timedelta(days=32)).replace(day=1)
            end = min(last, following - timedelta(days=1))
            label, sub = f"{day:%Y-%m}", f"{day:%m-%d}–{end:%m-%d}"
        start_at, end_at = local_period(system, day, end)
        buckets.append({"label": label, "range": sub, "first": day, "last": end, "start": start_at, "end": end_at})
        day = end + timedelta(days=1)
    return by, buckets[-MAX_BUCKETS:]


def _bucket(column, buckets: list[dict[str, Any]]):
    """SQL: the index of the bucket a time falls in (rows are already limited to the period)."""
    if len(buckets) <= 1:
        return literal(0)
    return sql_case(*[(column < b["end"], i) for i, b in enumerate(buckets[:-1])], else_=len(buckets) - 1)


def _grouped(session, columns: dict[str, Any], where: list, keys: tuple[str, ...], joins=None):
    """SELECT keys, sums FROM (SELECT columns WHERE ...) GROUP BY keys: grouping by the labels of a
    subquery, so PostgreSQL sees one expression for the bucket (its bound parameters differ otherwise)."""
    inner = select(*[c.label(n) for n, c in columns.items()])
    inner = (joins(inner) if joins else inner).where(*where).subquery()
    group = [inner.c[k] for k in keys]
    sums = [func.count().label("n")] + [func.coalesce(func.sum(inner.c[n]), 0).label(n)
                                         for n in columns if n not in keys]
    return session.execute(select(*group, *sums).group_by(*group)).all()


def _range_counts(session, model, parts: dict[Any, list]) -> dict[Any, int]:
    """COUNT(*) of ``model``'s rows matching each part's conditions, as scalar subqueries of one
    statement: each an index range count, where a GROUP BY would sort every row of the period."""
    if not parts:
        return {}
    keys = list(parts)
    row = session.execute(select(*[select(func.count()).select_from(model).where(*parts[k]).scalar_subquery()
                                   for k in keys])).one()
    return dict(zip(keys, row))


def _flag(condition):
    return sql_case((condition, 1), else_=0)


# --- the figures ----------------------------------------------------------------------------------------------

def _scope(system: System, session, actor: Actor, unit: str | None) -> set[str] | None:
    """The units counted: the chosen unit with the units below it, within the actor's own (R-6.2)."""
    org = system.org(session)
    mine = access.figure_units(system, session, actor)
    if unit:
        if unit not in org.by_code:
            raise NotFound(f"没有编码为“{unit}”的单位，请从列表中选择单位。")
        chosen = org.subtree(unit)
        if mine is not None and unit not in mine:
            raise Forbidden("只能查看本单位及下级单位的服务质量。")
        return chosen
    return mine


def _units_where(column, units: set[str] | None) -> list:
    return [] if units is None else [column.in_(sorted(units))]


def on_time():
    """SQL: a completed service case done by its promised deadline (none: no promise) with no fired deadline."""
    return and_(Case.breaches == 0, or_(Case.due_at.is_(None), Case.completed_at <= Case.due_at))


def counted_service():
    """SQL: a completed service case that R-4.a counts: not closed for the applicant's reason, nor converted."""
    return Case.closure.is_(None)


def called_service(model=Case):
    """SQL: a completed service case that should be called back (R-10.1): every one but an assist case converted
    to proxy (its proxy case is the service, and is called back)."""
    return or_(model.closure.is_(None), model.closure != "converted_to_proxy")


def quality(system: System, actor: Actor, start: datetime, end: datetime, unit: str | None = None,
            trend: str | None = None, items_limit: int | None = None, focus: str | None = None,
            staff_figures: bool = True) -> dict[str, Any]:
    """The five figures for [start, end), for the whole county or one unit and the units below it;
    by unit, by staff member, and per week or month (``trend``) of the period.

    ``items_limit`` keeps at most that many ids behind each number (the counts stay whole), and at
    most FOCUS_ITEMS for the ``focus`` figure (a page lists them); None gives every id. Without
    ``staff_figures`` each staff member has only steps done and done late (R-5.2)."""
    require_role(actor, *SUPERVISING_ROLES)
    tz = system.calendar.tz
    first, last = start.astimezone(tz).date(), (end - timedelta(microseconds=1)).astimezone(tz).date()
    if (last - first).days > MAX_DAYS:
        raise DomainError(f"统计期间最长 {MAX_DAYS // 365} 年：请缩短开始日期与结束日期之间的间隔。")
    by, buckets = trend_buckets(system, first, last, trend or "month")
    if not trend:  # one bucket: the whole period
        buckets = [{"label": "", "range": "", "first": first, "last": last, "start": start, "end": end}]

    def limit(key: str) -> int | None:
        return (None if items_limit is None else max(items_limit, FOCUS_ITEMS)) if key == focus else items_limit

    with system.db.unit_of_work(write=False) as session:
        org = system.org(session)
        units = _scope(system, session, actor, unit)
        counted = {key: [[0, 0] for _ in buckets] for key in ("R-4.a", "R-4.c", "R-4.d", "R-4.e", "R-10.1")}
        by_unit: dict[str, dict[str, int]] = defaultdict(lambda: defaultdict(int))

        def tally(key: str, when, unit_column, good, where: list, names: tuple[str, str], joins=None) -> None:
            """Count figure ``key`` per bucket of ``when`` (good ones of all) and per unit, as ``names``
            (all, good) in by_unit."""
            for r in _grouped(session, {"b": _bucket(when, buckets), "unit": unit_column, "good": _flag(good)},
                              where, ("b", "unit"), joins=joins):
                counted[key][r.b][0] += r.good
                counted[key][r.b][1] += r.n
                by_unit[r.unit or ""][names[0]] += r.n
                by_unit[r.unit or ""][names[1]] += r.good

        # R-4.a: completed service cases against their promised deadline, counted by the database; not those
        # closed for the applicant's reason (listed apart below) nor an assist case converted to proxy.
        served_where = _served(Case, start, end, units)
        completed_where = [*served_where, counted_service()]
        tally("R-4.a", Case.completed_at, Case.unit_code, on_time(), completed_where, ("completed", "on_time"))
        # The ids behind the numbers in index order (by time), so a limited list stops early.
        rows = session.execute(select(Case.id, _flag(on_time()).label("good"))
                               .where(*completed_where).order_by(Case.completed_at, Case.id)
                               .limit(limit("R-4.a"))).all()
        completed, in_time = [r.id for r in rows], [r.id for r in rows if r.good]
        # Closed for the applicant's reason (撤回, 放弃, 逾期未补正): by reason, with their cases.
        closed_where = [*served_where, Case.closure.in_(APPLICANT_CLOSURES)]
        closures = {reason: 0 for reason in APPLICANT_CLOSURES}
        for reason, n in session.execute(select(Case.closure, func.count()).where(*closed_where).group_by(Case.closure)):
            closures[reason] = n
        closed_ids = list(session.scalars(select(Case.id).where(*closed_where).order_by(Case.completed_at, Case.id)
                                          .limit(limit("closures"))))

        # R-4.b: the matter catalog as it is now (not a figure of time).
        matters = session.execute(select(Matter.code, Matter.notice).where(Matter.active).order_by(Matter.code)).all()
        public = [m.code for m in matters if notice_complete(m.notice)]

        # R-4.c: consultations and complaints started in the period, with no fired deadline.
        handled_where = [Case.process_id.in_(HANDLED_PROCESSES), Case.started_at >= start, Case.started_at < end,
                         *_units_where(Case.unit_code, units)]
        tally("R-4.c", Case.started_at, Case.unit_code, Case.breaches == 0, handled_where, ("handled", "handled_good"))
        handled_ids = session.execute(select(Case.id, Case.breaches).where(*handled_where)
                                      .order_by(Case.started_at, Case.id).limit(limit("R-4.c"))).all()

        # R-4.d: ratings of record in the period (one per case, whichever channel gave it first).
        rated_where = [Evaluation.at >= start, Evaluation.at < end, Evaluation.of_record,
                       *_units_where(Evaluation.unit_code, units)]
        tally("R-4.d", Evaluation.at, Evaluation.unit_code, Evaluation.bad == False, rated_where,  # noqa: E712
              ("ratings", "good"))
        rated_ids = session.execute(select(Evaluation.case_id, Evaluation.bad).where(*rated_where)
                                    .order_by(Evaluation.at, Evaluation.id).limit(limit("R-4.d"))).all()

        # R-4.e: ledger entries of the period with every required field.
        ledger_where = [LedgerEntry.at >= start, LedgerEntry.at < end, *_units_where(LedgerEntry.unit_code, units)]
        # The ledger is the largest table: its entries are counted by index range counts (per week or
        # month, per unit, per staff member; no row read, nothing sorted) and its incomplete entries,
        # few, on a partial index of their own.
        names = dict(session.execute(select(Staff.username, Staff.name)).all())
        codes = sorted(org.by_code if units is None else units)
        in_units = _units_where(LedgerEntry.unit_code, units)
        counts = _range_counts(session, LedgerEntry, {
            **{("b", i): [LedgerEntry.at >= b["start"], LedgerEntry.at < b["end"], *in_units]
               for i, b in enumerate(buckets)},
            **{("unit", code): [*ledger_where, LedgerEntry.unit_code == code] for code in codes},
            **{("who", who): [*ledger_where, LedgerEntry.actor == who] for who in (names if staff_figures else ())}})
        ledger_by_actor: dict[str, list[int]] = {}
        for (kind, key), n in counts.items():
            if kind == "b":
                counted["R-4.e"][key] = [n, n]
            elif kind == "unit" and n:
                by_unit[key]["entries"] = by_unit[key]["entries_complete"] = n
            elif kind == "who" and n:
                ledger_by_actor[key] = [n, n]
        unplaced = sum(n for n, _ in counted["R-4.e"]) - sum(n for (k, _), n in counts.items() if k == "unit")
        if unplaced:  # entries without a unit (or of a unit no longer known)
            by_unit[""]["entries"] = by_unit[""]["entries_complete"] = unplaced
        for r in _grouped(session, {"b": _bucket(LedgerEntry.at, buckets), "unit": LedgerEntry.unit_code,
                                    "who": LedgerEntry.actor}, [*ledger_where, ledger_incomplete()],
                          ("b", "unit", "who")):
            counted["R-4.e"][r.b][0] -= r.n
            by_unit[r.unit if r.unit in codes else ""]["entries_complete"] -= r.n
            if r.who in ledger_by_actor:
                ledger_by_actor[r.who][0] -= r.n
        entry_ids = list(session.scalars(select(LedgerEntry.id).where(*ledger_where)
                                         .order_by(LedgerEntry.at, LedgerEntry.id).limit(limit("R-4.e"))))
        incomplete_ids = set(session.scalars(select(LedgerEntry.id).where(
            *ledger_where, ledger_incomplete(), *([] if limit("R-4.e") is None else [LedgerEntry.id.in_(entry_ids)]))))

        # R-10.1: every completed case is called back: completed service cases with a completed callback. A case
        # closed for the applicant's reason is called back too; an assist case converted to proxy is not a
        # service of its own (its proxy case is), so one applicant served is one case to call back.
        done_callbacks = select(Case.id).where(Case.process_id == "callback", Case.status == "completed")
        served = aliased(Case)
        called_where = [CaseLink.relation == "callback", CaseLink.to_case_id.in_(done_callbacks),
                        *_served(served, start, end, units), called_service(served)]
        linked = lambda stmt: stmt.join(served, served.id == CaseLink.from_case_id)  # noqa: E731
        inner = linked(select(_bucket(served.completed_at, buckets).label("b"), CaseLink.from_case_id.label("case"))
                       .where(*called_where)).subquery()
        for b, n in session.execute(select(inner.c.b, func.count(distinct(inner.c.case))).group_by(inner.c.b)):
            counted["R-10.1"][b][0] += n  # a case with two callback links counts once
        covered_where = [*served_where, called_service()]
        for r in _grouped(session, {"b": _bucket(Case.completed_at, buckets)}, covered_where, ("b",)):
            counted["R-10.1"][r.b][1] = r.n
        served_ids = list(session.scalars(
            select(Case.id).where(*covered_where).order_by(Case.completed_at, Case.id).limit(limit("R-10.1"))))
        called = sorted(set(session.scalars(linked(select(CaseLink.from_case_id)).where(
            *called_where, CaseLink.from_case_id.in_(served_ids))))) if served_ids else []

        # Fired deadlines (breaches) by kind: the process and the timer that fired (R-4.a, R-4.c, R-9.1.1.2, R-10.2).
        breach_where = [Breach.fired_at >= start, Breach.fired_at < end, *_units_where(Breach.unit_code, units)]
        breach_rows = _grouped(session, {"b": _bucket(Breach.fired_at, buckets), "process": Breach.process_id,
                                         "timer": Breach.timer, "title": Breach.title},
                               breach_where, ("b", "process", "timer", "title"))
        fired = [0 for _ in buckets]
        kinds: dict[tuple[str, str], dict[str, Any]] = {}
        for r in breach_rows:
            fired[r.b] += r.n
            kind = kinds.setdefault((r.process, r.timer), {"process": r.process, "timer": r.timer, "title": r.title,
                                                           "count": 0, "cases": []})
            kind["count"] += r.n
        for r in session.execute(select(Breach.process_id, Breach.timer, Breach.case_id).where(*breach_where)
                                 .order_by(Breach.fired_at, Breach.id).limit(limit("breaches"))):
            kinds[(r.process_id, r.timer)]["cases"].append(r.case_id)

        staff = _by_staff(session, start, end, units, completed_where, handled_where, rated_where,
                          ledger_by_actor, staff_figures)
        rectifications = open_rectifications(system, session, units, system.clock.now())
        # R-5.2: complaints found upheld (R-4.c) and problems handed over and still open (R-10.1).
        complaints_by_unit, complaints_by_staff = accountability.complaint_findings(session, start, end, units)
        handovers = accountability.open_handovers(system, session, system.clock.now(), units)
        for code, (upheld, decided) in complaints_by_unit.items():
            by_unit[code]["complaints_upheld"], by_unit[code]["complaints"] = upheld, decided
        for code, counts in handovers.items():
            by_unit[code]["handovers_open"], by_unit[code]["handovers_overdue"] = counts["open"], counts["overdue"]
        for who, (upheld, decided) in complaints_by_staff.items():
            staff[who]["complaints_upheld"], staff[who]["complaints"] = upheld, decided

    def cut(ids: list, key: str) -> list:
        n = limit(key)
        return ids if n is None else ids[:n]

    totals = {k: [sum(b[0] for b in v), sum(b[1] for b in v)] for k, v in counted.items()}
    figures = [
        _figure("R-4.a", "按时办结率", cut(in_time, "R-4.a"), cut(completed, "R-4.a"), *totals["R-4.a"]),
        _figure("R-4.b", "信息公开透明度", public, [m.code for m in matters]),
        _figure("R-4.c", "咨询投诉及时处理率", [r.id for r in handled_ids if r.breaches == 0], [r.id for r in handled_ids],
                *totals["R-4.c"]),
        _figure("R-4.d", "满意率", [r.case_id for r in rated_ids if not r.bad], [r.case_id for r in rated_ids],
                *totals["R-4.d"]),
        _figure("R-4.e", "台账完整", [i for i in entry_ids if i not in incomplete_ids], entry_ids, *totals["R-4.e"]),
    ]
    # A good list may hold ids past the cut of its items: keep only those shown.
    for f in figures:
        if f["truncated"]:
            shown = set(f["items"])
            f["good"] = [i for i in f["good"] if i in shown]
    coverage = _figure("R-10.1", "回访覆盖率", called, served_ids, *totals["R-10.1"])
    return {
        # Service cases closed for the applicant's reason in the period, kept out of R-4.a (README §4).
        "closures": {"count": sum(closures.values()), "items": cut(closed_ids, "closures"),
                     "by_reason": [{"reason": r, "title": CLOSURE_REASONS[r], "count": closures[r]}
                                   for r in APPLICANT_CLOSURES]},
        "breaches": sorted(kinds.values(), key=lambda k: (-k["count"], k["process"], k["timer"])),
        "callback_coverage": coverage,
        "by_staff": [{"username": u, "name": names.get(u, u), "complaints_upheld": 0, "complaints": 0, **v,
                      "on_time_rate": _rate(v["done"] - v["late"], v["done"]),
                      "rates": {k: _rate(*v[k]) for k in ("R-4.a", "R-4.c", "R-4.d", "R-4.e")} if staff_figures else None}
                     for u, v in sorted(staff.items(), key=lambda kv: (-kv[1]["done"], kv[0]))],
        "period": {"start": start, "end": end}, "unit": unit, "unit_name": org.name(unit) if unit else "全县",
        "figures": figures,
        "by_unit": [{"unit": code, "unit_name": org.name(code) or code or "—",
                     "on_time_rate": _rate(v["on_time"], v["completed"]), "completed": v["completed"],
                     "satisfaction_rate": _rate(v["good"], v["ratings"]), "ratings": v["ratings"],
                     "handled_rate": _rate(v["handled_good"], v["handled"]), "handled": v["handled"],
                     "ledger_rate": _rate(v["entries_complete"], v["entries"]), "entries": v["entries"],
                     "complaints_upheld": v["complaints_upheld"], "complaints": v["complaints"],
                     "handovers_open": v["handovers_open"], "handovers_overdue": v["handovers_overdue"]}
                    for code, v in sorted(by_unit.items())],
        "trends": _trends(by if trend else None, buckets, counted, fired, figures[1]),
        "rectifications": rectifications,
    }


def _served(model, start: datetime, end: datetime, units: set[str] | None) -> list:
    return [model.status == "completed", model.completed_at >= start, model.completed_at < end,
            model.process_id.in_(SERVICE_PROCESSES), *_units_where(model.unit_code, units)]


def _trends(by: str | None, buckets: list[dict[str, Any]], counted: dict[str, list[list[int]]], fired: list[int],
            public: dict[str, Any]) -> dict[str, Any] | None:
    """One series per figure: a point per week or month with its numerator, denominator and rate."""
    if by is None:
        return None

    def point(b: dict[str, Any], numerator: int | None, denominator: int | None) -> dict[str, Any]:
        return {"label": b["label"], "range": b["range"], "first": b["first"], "last": b["last"],
                "numerator": numerator, "denominator": denominator,
                "rate": _rate(numerator, denominator) if denominator is not None else None}

    series = []
    for key in ("R-4.a", "R-4.b", "R-4.c", "R-4.d", "R-4.e", "R-10.1"):
        if key == "R-4.b":  # the catalog as it is today: the same for every point, said so on the page
            points = [point(b, public["numerator"], public["denominator"]) for b in buckets]
        else:
            points = [point(b, n, d) for b, (n, d) in zip(buckets, counted[key])]
        series.append({"key": key, "title": FIGURE_TITLES[key], "kind": "rate", "points": points})
    series.append({"key": "breaches", "title": FIGURE_TITLES["breaches"], "kind": "count",
                   "points": [point(b, n, None) | {"count": n} for b, n in zip(buckets, fired)]})
    return {"by": by, "title": TRENDS[by], "series": series}


def _by_staff(session, start: datetime, end: datetime, units: set[str] | None, completed_where: list,
              handled_where: list, rated_where: list, ledger_by_actor: dict[str, list[int]],
              figures: bool = True) -> dict[str, dict[str, Any]]:
    """Each staff member's work (R-5.2) and the figures of the cases they worked on.

    Steps done and done late; R-4.a, R-4.c and R-4.d over the cases in which they completed a step;
    R-4.e over the ledger entries they wrote. [numerator, denominator] pairs. Without ``figures``,
    only the steps."""
    staff: dict[str, dict[str, Any]] = defaultdict(lambda: {"done": 0, "late": 0, "R-4.a": [0, 0], "R-4.c": [0, 0],
                                                            "R-4.d": [0, 0], "R-4.e": [0, 0]})
    task_where = [HumanTask.status == "completed", HumanTask.completed_at >= start, HumanTask.completed_at < end,
                  HumanTask.completed_by.is_not(None), *_units_where(HumanTask.unit_code, units)]
    for r in _grouped(session, {"who": HumanTask.completed_by,
                                "late": _flag(HumanTask.completed_at > HumanTask.due_at)}, task_where, ("who",)):
        staff[r.who]["done"] += r.n
        staff[r.who]["late"] += r.late
    if not figures:
        return staff
    worked = [HumanTask.completed_by.is_not(None)]  # only a completed task has it
    for who, n, good in session.execute(
            select(HumanTask.completed_by, func.count(distinct(Case.id)),
                   func.count(distinct(sql_case((on_time(), Case.id))))).join(Case, Case.id == HumanTask.case_id)
            .where(*worked, *completed_where).group_by(HumanTask.completed_by)):
        staff[who]["R-4.a"] = [good, n]
    for who, n, good in session.execute(
            select(HumanTask.completed_by, func.count(distinct(Case.id)),
                   func.count(distinct(sql_case((Case.breaches == 0, Case.id)))))
            .join(Case, Case.id == HumanTask.case_id).where(*worked, *handled_where)
            .group_by(HumanTask.completed_by)):
        staff[who]["R-4.c"] = [good, n]
    for who, n, good in session.execute(
            select(HumanTask.completed_by, func.count(distinct(Evaluation.id)),
                   func.count(distinct(sql_case((Evaluation.bad == False, Evaluation.id)))))  # noqa: E712
            .join(HumanTask, HumanTask.case_id == Evaluation.case_id).where(*worked, *rated_where)
            .group_by(HumanTask.completed_by)):
        staff[who]["R-4.d"] = [good, n]
    for who, counts in ledger_by_actor.items():
        if who and who != "system":  # the system's own entries (timers) are no one's work
            staff[who]["R-4.e"] = counts
    return staff


# --- open rectifications (R-10.2) ----------------------------------------------------------------------------

def open_rectifications(system: System, session, units: set[str] | None, now: datetime) -> list[dict[str, Any]]:
    """Rectifications not yet accepted, per handling unit, as they stand now (10.2 差评…承办单位要…限期整改)."""
    return accountability.open_follow_ups(system, session, "rectification", units, now)


# --- the dashboard page -------------------------------------------------------------------------------------



def dashboard(system: System, actor: Actor, first: date, last: date, unit: str | None = None,
              trend: str = "week", focus: str | None = None, staff_figures: bool = False) -> dict[str, Any]:
    """The section-4 dashboard: the figures for a period with their trend and by unit, each staff
    member's steps (with ``staff_figures``: and their figures), the cases behind each number (up to
    FOCUS_ITEMS of them for the ``focus`` figure), the calendar warning."""
    from .inbox import unit_tree  # the unit picker as the other pages show it
    from .timers import calendar_status
    from . import workload

    trend = trend if trend in TRENDS else "week"
    focus = focus if focus in FIGURE_TITLES else None
    start, end = local_period(system, first, last)
    report = quality(system, actor, start, end, unit, trend=trend, items_limit=PAGE_ITEMS, focus=focus,
                     staff_figures=staff_figures)
    figures = {f["key"]: f for f in [*report["figures"], report["callback_coverage"]]}
    for f in figures.values():
        f["good_set"] = set(f["good"])
    focused = None
    if focus == "breaches":
        ids = [c for k in report["breaches"] for c in k["cases"]]
        focused = {"key": focus, "title": FIGURE_TITLES[focus], "items": ids[:FOCUS_ITEMS], "good_set": set(),
                   "denominator": sum(k["count"] for k in report["breaches"]), "kinds": report["breaches"]}
    elif focus:
        focused = dict(figures[focus], items=figures[focus]["items"][:FOCUS_ITEMS])
    for kind in report["breaches"]:
        kind["shown"] = kind["cases"][:20]
    with system.db.unit_of_work(write=False) as session:
        ids = {i for k in ("R-4.a", "R-4.c", "R-4.d", "R-10.1") for i in figures[k]["items"][:PAGE_ITEMS]}
        ids |= set(report["closures"]["items"])
        if focused and focus not in ("R-4.b", "R-4.e"):
            ids |= set(focused["items"])
        rectifications = report["rectifications"]
        ids |= {i for u in rectifications for i in u["cases"][:PAGE_ITEMS]}
        numbers = dict(session.execute(select(Case.id, Case.number).where(Case.id.in_(ids))).all()) if ids else {}
        scope = _scope(system, session, actor, None)
        units = unit_tree(system, session, actor.unit_code if scope is not None else None)
    alerts = workload.peak_alerts(system, actor)["items"]  # R-7.1.1: what piles up now, whatever the period
    return {"report": report, "numbers": numbers, "units": units, "first": first, "last": last, "unit": unit,
            "alerts": alerts, "rectifications": rectifications,
            "trend": trend, "focus": focused, "page_items": PAGE_ITEMS, "calendar": calendar_status(system),
            "staff_figures": staff_figures,
            "trend_titles": TRENDS}
