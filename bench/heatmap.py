"""Heatmap latency: GET /supervise/heatmap.json (and the page) over 100,000 cases and their element visits.

Set-up as in inbox_page.py (common.py's ``demo_system`` and ``build``): a fresh SQLite database with
the demo county and its processes deployed, N cases spread over the processes, roles and units the way a
county's work piles up, one open task each. Then every case gets the element visits a real run would have
written, starting at a moment spread evenly over the last 365 days: it walks its process's elements in
the diagram's order from its start event for a random number of steps, events and gateways taking no
time and every other element a log-normal time (median about two hours, a long tail of days). With
100,000 cases that is about 730,000 visits, some 150,000 of them for the assist process: a 30-day view
counts about 12,000 passages, a 365-day view all of them (the longest period the heatmap allows). A year's
cases are mostly done: nine in ten are marked completed with their task, leaving 10,000 open cases and
ready tasks for the "now" counts.

The Flask test client, logged in, fetches each view R times and the script prints p50, p95 and max in
milliseconds with the number of passages the view counted. Target: p95 < 500 ms.

    .venv/bin/python bench/heatmap.py --cases 100000 --runs 40
"""

from __future__ import annotations

import math
import random
import statistics
import sys
import time
from datetime import datetime, timedelta, timezone
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))
sys.path.insert(0, str(ROOT / "bench"))

from sqlalchemy import func, insert, select, update  # noqa: E402

from bdd_workflow.app import create_app  # noqa: E402
from bdd_workflow.db.models import Case, ElementVisit, HumanTask  # noqa: E402
from bdd_workflow.services import definitions  # noqa: E402
from bdd_workflow.system import System  # noqa: E402
from common import analyze, arguments, bench_database, build, measure, print_machine  # noqa: E402

TODAY = datetime.now(timezone.utc).astimezone(timezone(timedelta(hours=8))).date()


def period(days: int) -> dict[str, str]:
    return {"from": (TODAY - timedelta(days=days - 1)).isoformat(), "to": TODAY.isoformat()}


VIEWS = [  # (label, user, path, query string)
    ("county chief, assist, 30 days (json)", "zhangwei", "/supervise/heatmap.json", {"process": "assist", **period(30)}),
    ("county chief, assist, 30 days (page)", "zhangwei", "/supervise/heatmap", {"process": "assist", **period(30)}),
    ("county chief, assist, 90 days (json)", "zhangwei", "/supervise/heatmap.json", {"process": "assist", **period(90)}),
    ("county chief, assist, 365 days (json)", "zhangwei", "/supervise/heatmap.json", {"process": "assist", **period(365)}),
    ("county chief, proxy, 7 days (json)", "zhangwei", "/supervise/heatmap.json", {"process": "proxy", **period(7)}),
    ("county chief, assist, unit CA-T01 (json)", "zhangwei", "/supervise/heatmap.json",
     {"process": "assist", "unit": "CA-T01", **period(30)}),
    ("office, consultation, 30 days (json)", "wangxiuying", "/supervise/heatmap.json",
     {"process": "consultation", **period(30)}),
    ("township chief (CA-T02), assist, 30 days (json)", "liuhongtao", "/supervise/heatmap.json",
     {"process": "assist", **period(30)}),
    ("township chief (CA-T02), assist, 365 days (json)", "liuhongtao", "/supervise/heatmap.json",
     {"process": "assist", **period(365)}),
]


def _walk(spec) -> list[tuple[str, bool]]:
    """The process's elements from its start event in breadth-first order: (bpmn id, takes time)."""
    start = next(s for s in spec.task_specs.values() if type(s).__name__ == "StartEvent")
    order, queue, seen = [], [start], set()
    while queue:
        task_spec = queue.pop(0)
        if task_spec.name in seen:
            continue
        seen.add(task_spec.name)
        if getattr(task_spec, "bpmn_id", None):
            kind = type(task_spec).__name__
            order.append((task_spec.bpmn_id, not ("Gateway" in kind or "Event" in kind)))
        queue.extend(task_spec.outputs)
    return order


def add_visits(system: System, seed: int) -> int:
    """Element visits for every case, in its process's latest version; returns the number of rows."""
    rng = random.Random(seed)
    with system.db.unit_of_work(write=False) as session:
        defs = {d.process_id: d for d in definitions.latest_definitions(session)}
        paths = {p: _walk(system.spec_for(session, d.id)[0]) for p, d in defs.items()}
        cases = session.execute(select(Case.id, Case.process_id, Case.version)).all()
    now = datetime.now(timezone.utc)
    rows, total = [], 0
    for case in cases:
        path = paths.get(case.process_id)
        if not path:
            continue
        moment = now - timedelta(days=rng.uniform(0, 365))
        for element, takes_time in path[:rng.randint(2, len(path))]:
            seconds = rng.lognormvariate(math.log(7200), 1.2) if takes_time else 0.0
            rows.append(dict(case_id=case.id, process_id=case.process_id, version=case.version, element=element,
                             entered_at=moment, left_at=moment + timedelta(seconds=seconds), seconds=seconds))
            moment += timedelta(seconds=seconds)
        if len(rows) >= 20_000:
            with system.db.unit_of_work() as session:
                session.execute(insert(ElementVisit.__table__), rows)
            total, rows = total + len(rows), []
    if rows:
        with system.db.unit_of_work() as session:
            session.execute(insert(ElementVisit.__table__), rows)
        total += len(rows)
    return total


def passages(response) -> int:
    """The passages a JSON view counted (-1 for the page)."""
    return sum(e["count"] for e in response.get_json()["elements"]) if response.is_json else -1


def main() -> None:
    parser = arguments(__doc__, "cases", runs=40)
    parser.add_argument("--analyze", action="store_true", help="run ANALYZE after loading")
    args = parser.parse_args()

    with bench_database("bdd-heatmap-", keep=args.keep) as (instance, system):
        began = time.perf_counter()
        build(system, args.cases, args.seed)
        visits = add_visits(system, args.seed)
        with system.db.unit_of_work() as session:
            session.execute(update(Case).where(Case.id % 10 != 0).values(status="completed",
                                                                          completed_at=Case.updated_at))
            session.execute(update(HumanTask).where(HumanTask.case_id % 10 != 0).values(status="completed"))
        if args.analyze:
            analyze(system)
        with system.db.unit_of_work(write=False) as session:
            cases = session.scalar(select(func.count()).select_from(Case))
        size = (instance / "bdd.sqlite3").stat().st_size / 1e6
        print(f"set-up: {cases} cases, {visits} element visits, {size:.0f} MB SQLite, "
              f"in {time.perf_counter() - began:.1f} s")
        app = create_app(system=system)
        print_machine(args.runs, "requests")
        print(f"{'view':52} {'passages':>9} {'p50 ms':>8} {'p95 ms':>8} {'max ms':>8}")
        for label, user, path, query in VIEWS:
            timed = measure(app, system, user, path, query, args.runs, warm_up=3)
            timings, counted = timed.wall, passages(timed.response)
            shown = "" if counted < 0 else str(counted)
            print(f"{label:52} {shown:>9} {statistics.median(timings):8.1f} {timed.p95(timings):8.1f} "
                  f"{timings[-1]:8.1f}")
        if args.keep:
            print(f"database kept: {instance / 'bdd.sqlite3'}")

if __name__ == "__main__":
    main()
