"""Section 4 of the 规范: the five quality figures, computed live from the data (R-4.a–R-4.e).

Each figure is a fraction with its numerator, denominator and the ids of the cases (or matters,
ledger entries) behind it, so a supervisor can check any number by hand.

- R-4.a 按时办结率: service cases (assist, proxy, onsite) completed in the period whose completion
  came no later than the promised deadline (the matter's promised working days after the case
  started) and without a fired deadline.
- R-4.b 信息公开透明度: active matters whose one-time notice is complete (materials each with how to
  obtain them, conditions, steps, time limit, cautions) / active matters.
- R-4.c 咨询投诉及时处理率: consultations and complaints started in the period with no fired deadline
  / consultations and complaints started in the period.
- R-4.d 满意率: good ratings (any channel: callback, window, online) in the period / ratings.
- R-4.e 台账完整: ledger entries of the period that have every required field / entries.
"""

from __future__ import annotations

from collections import defaultdict
from datetime import date, datetime, time, timedelta
from typing import Any

from sqlalchemy import select

from ..db.models import Breach, Case, CaseLink, Evaluation, HumanTask, LedgerEntry, Matter, Staff
from ..system import System
from .cases import SERVICE_PROCESSES
from .identity import SUPERVISING_ROLES, Actor, require_role

LEDGER_REQUIRED = ("case_number", "process_id", "unit_code", "applicant_name", "matter_code", "step", "actor", "at")
NOTICE_PARTS = ("materials", "conditions", "steps", "time_limit", "cautions")


def _rate(numerator: int, denominator: int) -> float | None:
    return round(numerator / denominator, 4) if denominator else None


def _figure(key: str, title: str, good: list, all_: list) -> dict[str, Any]:
    return {"key": key, "title": title, "numerator": len(good), "denominator": len(all_),
            "rate": _rate(len(good), len(all_)), "target": 1.0, "items": all_, "good": good}


def notice_complete(notice: dict[str, Any] | None) -> bool:
    """R-5.4: materials (each with how to obtain it), conditions, steps, time limit and cautions."""
    if not notice or any(not notice.get(part) for part in NOTICE_PARTS):
        return False
    return all(m.get("name") and m.get("how_to_obtain") for m in notice["materials"])


def local_period(system: System, first: date, last: date) -> tuple[datetime, datetime]:
    """[first 00:00, the day after last 00:00) in the county's time zone."""
    tz = system.calendar.tz
    return (datetime.combine(first, time.min, tz), datetime.combine(last + timedelta(days=1), time.min, tz))


def quality(system: System, actor: Actor, start: datetime, end: datetime, unit: str | None = None) -> dict[str, Any]:
    """The five figures for [start, end), for the whole county or one unit and the units below it."""
    require_role(actor, *SUPERVISING_ROLES)
    with system.db.unit_of_work(write=False) as session:
        org = system.org(session)
        units = org.subtree(unit) if unit else None

        def in_units(code: str | None) -> bool:
            return units is None or code in units

        matters = {m.code: m for m in session.scalars(select(Matter))}
        completed = [c for c in session.scalars(select(Case).where(
            Case.process_id.in_(SERVICE_PROCESSES), Case.status == "completed",
            Case.completed_at >= start, Case.completed_at < end)) if in_units(c.unit_code)]
        on_time = []
        for case in completed:
            matter = matters.get(case.matter_code or "")
            due = system.calendar.add_working_days(case.started_at, matter.promised_days)[0] if matter else None
            if case.breaches == 0 and (due is None or case.completed_at <= due):
                on_time.append(case.id)
        active = [m for m in matters.values() if m.active]
        public = [m.code for m in active if notice_complete(m.notice)]
        handled = [c for c in session.scalars(select(Case).where(
            Case.process_id.in_(("consultation", "complaint")), Case.started_at >= start, Case.started_at < end))
            if in_units(c.unit_code)]
        ratings = [e for e in session.scalars(select(Evaluation).where(Evaluation.at >= start, Evaluation.at < end))
                   if in_units(e.unit_code)]
        entries = [e for e in session.scalars(select(LedgerEntry).where(LedgerEntry.at >= start, LedgerEntry.at < end))
                   if in_units(e.unit_code)]
        complete_entries = [e.id for e in entries if all(getattr(e, f) for f in LEDGER_REQUIRED)]

        by_unit: dict[str, dict[str, list[int]]] = defaultdict(lambda: defaultdict(list))
        for case in completed:
            by_unit[case.unit_code or ""]["completed"].append(case.id)
            if case.id in on_time:
                by_unit[case.unit_code or ""]["on_time"].append(case.id)
        for e in ratings:
            by_unit[e.unit_code or ""]["ratings"].append(e.id)
            if not e.bad:
                by_unit[e.unit_code or ""]["good"].append(e.id)
        # SLA breaches by kind: the process and the timer that fired (R-4.a, R-4.c, R-9.1.1.2, R-10.2).
        kinds: dict[tuple[str, str], dict[str, Any]] = {}
        for breach in session.scalars(select(Breach).where(Breach.fired_at >= start, Breach.fired_at < end)):
            if in_units(breach.unit_code):
                kind = kinds.setdefault((breach.process_id, breach.timer), {
                    "process": breach.process_id, "timer": breach.timer, "title": breach.title, "cases": []})
                kind["cases"].append(breach.case_id)
        # Callback coverage (R-10.1: every completed case is called back): callbacks done / cases completed.
        called = set(session.scalars(select(CaseLink.from_case_id).join(Case, Case.id == CaseLink.to_case_id).where(
            CaseLink.relation == "callback", Case.status == "completed",
            CaseLink.from_case_id.in_([c.id for c in completed] or [-1]))))
        # Each staff member's work (R-5.2): steps done, and how many after their due time.
        by_staff: dict[str, dict[str, int]] = defaultdict(lambda: {"done": 0, "late": 0})
        for task in session.scalars(select(HumanTask).where(
                HumanTask.status == "completed", HumanTask.completed_at >= start, HumanTask.completed_at < end)):
            if in_units(task.unit_code) and task.completed_by:
                by_staff[task.completed_by]["done"] += 1
                if task.due_at and task.completed_at > task.due_at:
                    by_staff[task.completed_by]["late"] += 1
        staff_names = dict(session.execute(select(Staff.username, Staff.name)).all())
        return {
            "breaches": sorted(({**k, "count": len(k["cases"])} for k in kinds.values()), key=lambda k: -k["count"]),
            "callback_coverage": _figure("R-10.1", "回访覆盖率", sorted(called), [c.id for c in completed]),
            "by_staff": [{"username": u, "name": staff_names.get(u, u), **v,
                          "on_time_rate": _rate(v["done"] - v["late"], v["done"])}
                         for u, v in sorted(by_staff.items(), key=lambda kv: -kv[1]["done"])],
            "period": {"start": start, "end": end}, "unit": unit, "unit_name": org.name(unit) if unit else "全县",
            "figures": [
                _figure("R-4.a", "按时办结率", on_time, [c.id for c in completed]),
                _figure("R-4.b", "信息公开透明度", public, [m.code for m in active]),
                _figure("R-4.c", "咨询投诉及时处理率", [c.id for c in handled if c.breaches == 0], [c.id for c in handled]),
                _figure("R-4.d", "满意率", [e.case_id for e in ratings if not e.bad], [e.case_id for e in ratings]),
                _figure("R-4.e", "台账完整", complete_entries, [e.id for e in entries]),
            ],
            "by_unit": [{"unit": code, "unit_name": org.name(code) or code,
                         "on_time_rate": _rate(len(v["on_time"]), len(v["completed"])), "completed": len(v["completed"]),
                         "satisfaction_rate": _rate(len(v["good"]), len(v["ratings"])), "ratings": len(v["ratings"])}
                        for code, v in sorted(by_unit.items())],
        }
