"""The heatmap: for one deployed version of a process, how many cases passed each element in a period
and how long they stayed there (median, 90th percentile), with what waits at each element now.

The passages are the derived rows ``element_visit`` (one per element a case left, written in the same
transaction as every engine run); what waits now are the ready inbox rows and the pending timers. No
workflow state is loaded. The period's passages are read as three short columns through the index on
(process, left_at) and ranked in Python: exact medians and 90th percentiles, faster on SQLite than SQL
window functions (see bench/heatmap.py). Scope as every supervision query: the cases of the units below
the actor's own (R-6.2, R-6.4.1).
"""

from __future__ import annotations

import math
from collections import defaultdict
from datetime import date, timedelta
from typing import Any

from sqlalchemy import and_, func, or_, select

from ..db.fast import plain_rows
from ..db.models import Case, ElementVisit, HumanTask, PendingTimer, ProcessDefinition
from ..errors import Forbidden, FormInvalid, NotFound, ProcessNotFound
from ..system import System
from .definitions import latest_definitions
from .identity import Actor
from ..workdays import DAY_RANGE_MESSAGE, in_day_range
from .inbox import unit_tree
from .metrics import local_period
from . import access
from .supervision import require_supervisor

LEVELS = 5
MAX_DAYS = 366
DEFAULT_DAYS = 30
OPEN_STATUSES = ("running", "waiting", "suspended")
TASK_STATUSES = ("ready", "completed", "cancelled")


def default_period(system: System) -> tuple[date, date]:
    """The last 30 local days, today included."""
    today = system.clock.now().astimezone(system.calendar.tz).date()
    return today - timedelta(days=DEFAULT_DAYS - 1), today


def parse_date(value: Any, field: str) -> date | None:
    """A local date from a query string: empty is None, anything else not a date is a clear error."""
    if value is None or isinstance(value, date):
        return value
    text = str(value).strip()
    if not text:
        return None
    try:
        day = date.fromisoformat(text)
    except ValueError:
        raise FormInvalid({field: [f"日期“{text[:20]}”格式不正确，应为 YYYY-MM-DD（例如 2026-03-01）。"]}) from None
    if not in_day_range(day):
        raise FormInvalid({field: [DAY_RANGE_MESSAGE]})
    return day


def parse_version(value: Any) -> int | None:
    if value is None or isinstance(value, int):
        return value
    text = str(value).strip()
    if not text:
        return None
    if not text.isdigit() or not 0 < int(text) < 2**31:
        raise FormInvalid({"version": [f"版本“{text[:20]}”应为正整数。"]})
    return int(text)


def _definition(session, process_id: str, version: int | None):
    versions = list(session.scalars(select(ProcessDefinition.version).where(ProcessDefinition.process_id == process_id)
                                    .order_by(ProcessDefinition.version)))
    if not versions:
        raise ProcessNotFound(f"流程 {process_id} 不存在或尚未部署。")
    if version is None:
        version = versions[-1]
    elif version not in versions:
        raise NotFound(f"流程 {process_id} 没有第 {version} 版（已部署: {'、'.join(map(str, versions))}）。")
    definition = session.execute(select(ProcessDefinition.id, ProcessDefinition.name, ProcessDefinition.version)
                                 .where(ProcessDefinition.process_id == process_id,
                                        ProcessDefinition.version == version)).one()
    return definition, versions


def _elements(system: System, session, definition_id: int) -> list[dict[str, Any]]:
    """The diagram's elements in the file's order, from the cached spec (no XML parsed per request)."""
    spec, subprocess_specs = system.spec_for(session, definition_id)
    seen, elements = set(), []
    specs = [*spec.task_specs.values(), *(t for sub in subprocess_specs.values() for t in sub.task_specs.values())]
    for task_spec in specs:
        bpmn_id = getattr(task_spec, "bpmn_id", None)
        if not bpmn_id or bpmn_id in seen:
            continue  # SpiffWorkflow's own bookkeeping specs, or an element met twice
        seen.add(bpmn_id)
        elements.append({"id": bpmn_id, "title": getattr(task_spec, "bpmn_name", None) or bpmn_id,
                         "kind": _kind(task_spec)})
    return elements


def _kind(task_spec) -> str:
    name = type(task_spec).__name__
    for marker, title in (("UserTask", "人工环节"), ("ManualTask", "人工环节"), ("SubWorkflow", "子流程"),
                          ("CallActivity", "调用流程"), ("Gateway", "网关"), ("Event", "事件"), ("Task", "自动环节")):
        if marker in name:
            return title
    return "环节"


EMPTY = {"count": 0, "cases": 0, "median_seconds": None, "p90_seconds": None, "max_seconds": None}


def _stats(ordered: list[float], cases: int) -> dict[str, Any]:
    """Count, distinct cases, median, nearest-rank 90th percentile and maximum of sorted durations."""
    n = len(ordered)
    middle = (ordered[(n - 1) // 2] + ordered[n // 2]) / 2
    return {"count": n, "cases": cases, "median_seconds": round(middle, 1),
            "p90_seconds": round(ordered[(9 * n + 9) // 10 - 1], 1), "max_seconds": round(ordered[-1], 1)}




def _case_filter(system: System, session, actor: Actor, unit: str | None):
    """The cases the actor supervises, narrowed to one unit and the units below it; None means all."""
    org = system.org(session)
    scope = access.figure_units(system, session, actor)
    conditions = []
    if scope is not None:
        conditions.append(access.case_condition(scope))
    if unit:
        if unit not in org.by_code:
            raise FormInvalid({"unit": [f"单位编码 {unit} 不存在。"]})
        if scope is not None and unit not in scope:
            raise Forbidden(f"单位“{org.name(unit)}”不在您督办的范围内（R-6.2）。")
        units = sorted(org.subtree(unit))
        conditions.append(or_(Case.unit_code.in_(units), Case.started_unit.in_(units)))
    if not conditions:
        return None
    return and_(*conditions)


def heatmap(system: System, actor: Actor, process_id: str, version: int | None, start: date | None,
            end: date | None, unit: str | None = None, include_xml: bool = False) -> dict[str, Any]:
    """Per element of one version: passages left in [start, end] (local days), distinct cases, median and
    90th-percentile seconds spent there, and the ready tasks and waiting timers there now; with
    ``include_xml`` the version's BPMN XML for the viewer."""
    require_supervisor(actor)
    process_id = (process_id or "").strip()[:100]
    if not process_id:
        raise FormInvalid({"process": ["请选择流程。"]})
    unit = (unit or "").strip()[:32] or None
    version = parse_version(version)
    start, end = parse_date(start, "from"), parse_date(end, "to")
    if start is None or end is None:
        first, last = default_period(system)
        start, end = start or (end - timedelta(days=DEFAULT_DAYS - 1) if end else first), end or last
    if end < start:
        raise FormInvalid({"to": [f"结束日期 {end} 早于开始日期 {start}，请调换。"]})
    if (end - start).days + 1 > MAX_DAYS:
        raise FormInvalid({"from": [f"统计期间最长 {MAX_DAYS} 天（一年），当前为 {(end - start).days + 1} 天，请缩短。"]})
    first, last = local_period(system, start, end)

    with system.db.unit_of_work(write=False) as session:
        definition, versions = _definition(session, process_id, version)
        elements = _elements(system, session, definition.id)
        cases = _case_filter(system, session, actor, unit)

        visit_conditions = [ElementVisit.process_id == process_id, ElementVisit.version == definition.version,
                            ElementVisit.left_at >= first, ElementVisit.left_at < last]
        if cases is not None:
            visit_conditions.append(ElementVisit.case_id.in_(select(Case.id).where(cases)))
        # The period's passages come back as three short columns and are ranked here: on SQLite this is
        # about three times faster than ROW_NUMBER()/COUNT() windows over the same rows (bench/heatmap.py),
        # and PostgreSQL returns them as fast. Exact: the median is the middle passage or the mean of the
        # middle two; the 90th percentile the nearest rank, ceil(0.9 n).
        # As the driver's tuples (no Row objects: half the time of a year's view went into them).
        by_element: dict[str, list[float]] = defaultdict(list)
        cases_of: dict[str, set[int]] = defaultdict(set)
        for element, case_id, seconds in plain_rows(session, select(
                ElementVisit.element, ElementVisit.case_id, ElementVisit.seconds).where(*visit_conditions)):
            by_element[element].append(seconds)
            cases_of[element].add(case_id)

        open_cases = [Case.process_id == process_id, Case.version == definition.version,
                      Case.status.in_(OPEN_STATUSES)]
        if cases is not None:
            open_cases.append(cases)
        # From the version's open cases to their ready tasks (ix_case_process_status, then ix_task_case),
        # not from every ready task of the county to its case.
        ready = dict(session.execute(
            select(HumanTask.name, func.count())
            .where(HumanTask.status == "ready", HumanTask.process_id == process_id,
                   HumanTask.case_id.in_(select(Case.id).where(*open_cases)))
            .group_by(HumanTask.name)).all())
        waiting = dict(session.execute(
            select(PendingTimer.name, func.count()).join(Case, Case.id == PendingTimer.case_id)
            .where(*open_cases).group_by(PendingTimer.name)).all())
        org = system.org(session)
        xml = session.scalar(select(ProcessDefinition.bpmn_xml).where(ProcessDefinition.id == definition.id)) \
            if include_xml else None

    stats = {element: _stats(sorted(values), len(cases_of[element])) for element, values in by_element.items()}
    known = {e["id"] for e in elements}
    # An element passed in this version but not drawn in it cannot happen; shown by its id if it does.
    elements += [{"id": element, "title": element, "kind": "环节"} for element in sorted(set(stats) - known)]
    items = []
    for element in elements:
        stat = stats.get(element["id"], EMPTY)
        items.append({
            **element, **stat,
            "median_text": human_duration(stat["median_seconds"]), "p90_text": human_duration(stat["p90_seconds"]),
            "max_text": human_duration(stat["max_seconds"]),
            "active_now": {"tasks": int(ready.get(element["id"], 0)), "timers": int(waiting.get(element["id"], 0))},
        })
    most = max((i["count"] for i in items), default=0)
    for item in items:  # the heat scale: 0 for none, then five steps up to the busiest element
        item["level"] = math.ceil(item["count"] * LEVELS / most) if item["count"] else 0
    return {
        "process": process_id, "name": definition.name, "version": definition.version, "versions": versions,
        "definition_id": definition.id, "period": {"start": start.isoformat(), "end": end.isoformat()},
        "unit": unit, "unit_name": org.name(unit) if unit else None,
        "passages": sum(i["count"] for i in items), "max_count": most,
        "elements": items,
    } | ({"xml": xml} if include_xml else {})


def heatmap_page(system: System, actor: Actor, process_id: str | None, version: Any, start: Any, end: Any,
                 unit: str | None = None) -> dict[str, Any]:
    """The page: the choices for its filters (processes, versions, units) and the heatmap, or the reason
    the parameters were refused, so the filters stay on screen to be corrected."""
    require_supervisor(actor)
    with system.db.unit_of_work(write=False) as session:
        processes = [(d.process_id, d.name) for d in latest_definitions(session)]
        scope = access.figure_units(system, session, actor)
        units = unit_tree(system, session, actor.unit_code if scope is not None else None)
    known = [p for p, _ in processes]
    process_id = (process_id or "").strip() or ("assist" if "assist" in known else (known[0] if known else ""))
    page = {"processes": processes, "units": units, "process": process_id, "unit": (unit or "").strip() or None,
            "version": version, "start": start, "end": end, "result": None, "error": None, "errors": {}}
    try:
        page["result"] = heatmap(system, actor, process_id, version, start, end, unit)
    except (FormInvalid, NotFound, Forbidden) as exc:  # the role itself was checked above
        page["error"] = exc.message if not isinstance(exc, FormInvalid) else "；".join(
            m for messages in exc.errors.values() for m in messages)
        page["errors"] = getattr(exc, "errors", {})
    return page


def human_duration(seconds: float | None) -> str:
    """2.5 小时 / 35 分钟 / 12 秒 / 3.2 天: one unit, a person reads it at a glance."""
    if seconds is None:
        return "—"
    if seconds < 60:
        return f"{seconds:.0f} 秒"
    if seconds < 3600:
        return f"{seconds / 60:.0f} 分钟"
    if seconds < 86400:
        return f"{seconds / 3600:.1f} 小时".replace(".0 ", " ")
    return f"{seconds / 86400:.1f} 天".replace(".0 ", " ")
