"""Quality dashboard latency: GET /quality over 100,000 cases, rendered by Flask, trends included.

Set-up: common.py's ``build`` (as the inbox bench's) (a fresh SQLite database with the demo county, 100,000 cases
started over the last 30 days, one task each, every case row as large as a real one), then what the
dashboard counts: a fifth of the cases completed between an hour and twelve days after they started
(their task completed by a staff member of its role and unit; a service case with its promised deadline,
4 % of them closed for the applicant's reason or converted to proxy), a tenth breached (a ``breach`` row of
the matching kind), a rating for 60 % of the completed service cases (8 % bad, three channels), a
completed callback case linked to 70 % of them, and two to four ledger entries per service case
(1 % without the applicant's name). The Flask test client, logged in, renders each view R times and
the script prints p50, p95 and max in milliseconds, wall clock and CPU (see common.py's ``measure``). Target:
p95 < 500 ms.

    .venv/bin/python bench/dashboard.py --cases 100000 --runs 50
    .venv/bin/python bench/dashboard.py --keep            # prints the database's folder ...
    .venv/bin/python bench/dashboard.py --reuse /tmp/bdd-dash-xxxx   # ... and measures it again
"""

from __future__ import annotations

import random
import sys
import time
from datetime import datetime, timedelta, timezone
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))
sys.path.insert(0, str(ROOT / "bench"))

from sqlalchemy import bindparam, func, insert, select, update  # noqa: E402

from bdd_workflow.app import create_app  # noqa: E402
from bdd_workflow.db.models import (  # noqa: E402
    Breach, Case, CaseLink, Evaluation, HumanTask, LedgerEntry, OrgUnit, Staff)
from bdd_workflow.services import definitions  # noqa: E402
from bdd_workflow.system import System  # noqa: E402
from common import arguments, bench_database, build, print_machine, print_views  # noqa: E402

CHINA = timezone(timedelta(hours=8))
TODAY = datetime.now(timezone.utc).astimezone(CHINA).date()
FIRST = (TODAY - timedelta(days=30)).isoformat()
VIEWS = [  # (label, user, query string)
    ("county chief, 30 days, by week", "zhangwei", {"start": FIRST, "end": TODAY.isoformat(), "trend": "week"}),
    ("county chief, 30 days, by month", "zhangwei", {"start": FIRST, "end": TODAY.isoformat(), "trend": "month"}),
    ("office, 30 days, unit CA-MZ, by week", "wangxiuying", {"start": FIRST, "end": TODAY.isoformat(),
                                                             "unit": "CA-MZ", "trend": "week"}),
    ("office, 30 days, by week, R-4.a cases", "wangxiuying", {"start": FIRST, "end": TODAY.isoformat(),
                                                              "trend": "week", "figure": "R-4.a"}),
    ("office, 30 days, by week, each staff member", "wangxiuying", {"start": FIRST, "end": TODAY.isoformat(),
                                                                    "trend": "week", "staff": "1"}),
    ("office, this month (default)", "wangxiuying", {}),
    ("township chief (CA-T02), 30 days, by week", "liuhongtao", {"start": FIRST, "end": TODAY.isoformat(),
                                                                 "trend": "week"}),
]
SERVICE = ("assist", "proxy", "onsite")
BREACH_KIND = {"consultation": ("contact_overdue", "联系时限 30 分钟"), "complaint": ("deadline_overdue", "投诉处理时限"),
               "rectification": ("deadline_overdue", "整改时限"), "callback": ("deadline_overdue", "回访时限")}


def add_quality_data(system: System, seed: int) -> None:
    """Completions, breaches, ratings, callbacks and ledger entries on top of ``build``'s open cases."""
    rng = random.Random(seed + 1)
    now = datetime.now(timezone.utc)
    with system.db.unit_of_work(write=False) as session:
        cases = session.execute(select(Case.id, Case.number, Case.process_id, Case.unit_code, Case.matter_code,
                                       Case.applicant_name, Case.started_at, Case.definition_id, Case.state_json)
                                .where(Case.number.like("%BENCH%"))).all()
        staff = session.execute(select(Staff.username, Staff.role, OrgUnit.code)
                                .join(OrgUnit, OrgUnit.id == Staff.unit_id)).all()
        task_of = dict(session.execute(select(HumanTask.case_id, HumanTask.role)).all())
        next_id = session.scalar(select(func.max(Case.id))) + 1
    by_role_unit: dict[tuple[str, str], list[str]] = {}
    for s in staff:
        by_role_unit.setdefault((s.role, s.code), []).append(s.username)
    everyone = [s.username for s in staff]
    with system.db.unit_of_work(write=False) as session:
        callback_def = {d.process_id: d for d in definitions.latest_definitions(session)}["callback"]
    completions, task_updates, breaches, ratings, links, callbacks, ledger = [], [], [], [], [], [], []
    for c in cases:
        started = c.started_at
        who = rng.choice(by_role_unit.get((task_of.get(c.id), c.unit_code)) or everyone)
        if c.id % 10 == 3:
            fired = min(now, started + timedelta(minutes=rng.uniform(30, 5 * 24 * 60)))
            timer, title = BREACH_KIND.get(c.process_id, ("deadline_overdue", "承诺办结时限"))
            breaches.append(dict(case_id=c.id, process_id=c.process_id, timer=timer, title=title, attached_to=None,
                                 unit_code=c.unit_code, due_at=fired, fired_at=fired))
        if c.id % 5 == 1:
            done = min(now, started + timedelta(minutes=rng.uniform(60, 12 * 24 * 60)))
            # the promised deadline written at acceptance (R-4.a reads it); a few closed for the applicant's reason
            # or converted to proxy, which R-4.a leaves out
            service = c.process_id in SERVICE
            closure = (rng.choice(("withdrawn", "abandoned", "overdue", "converted_to_proxy"))
                       if service and rng.random() < 0.04 else None)
            completions.append({"b_id": c.id, "b_done": done, "b_closure": closure,
                                "b_due": started + timedelta(days=rng.choice((1, 3, 5, 10, 20))) if service else None})
            task_updates.append({"b_case": c.id, "b_done": done, "b_who": who})
            if c.process_id in SERVICE:
                if rng.random() < 0.6:
                    bad = rng.random() < 0.08
                    ratings.append(dict(case_id=c.id, source=rng.choice(("callback", "window", "online")),
                                        satisfaction="dissatisfied" if bad else "satisfied", bad=bad, scores={},
                                        comment=None, unit_code=c.unit_code, recorded_by="system", of_record=True,
                                        at=min(now, done + timedelta(hours=rng.uniform(1, 48)))))
                if rng.random() < 0.7:
                    at = min(now, done + timedelta(hours=rng.uniform(1, 48)))
                    callbacks.append(dict(
                        id=next_id, number=f"HFBENCH{next_id:08d}", process_id="callback",
                        definition_id=callback_def.id, version=callback_def.version, status="completed",
                        state_json=c.state_json, lock_version=1, unit_code="CA-ZX", started_unit="CA-ZX",
                        matter_code=c.matter_code, applicant_name=c.applicant_name, applicant_phone=None,
                        applicant_type="personal", channel="phone", started_by="system", started_at=done,
                        updated_at=at, completed_at=at, provisional=False, breaches=0))
                    links.append(dict(from_case_id=c.id, to_case_id=next_id, relation="callback", created_at=done))
                    next_id += 1
        if c.process_id in SERVICE:
            for step in range(rng.randint(2, 4)):
                at = min(now, started + timedelta(hours=step * rng.uniform(1, 30)))
                ledger.append(dict(case_id=c.id, case_number=c.number, process_id=c.process_id, unit_code=c.unit_code,
                                   matter_code=c.matter_code,
                                   applicant_name=None if rng.random() < 0.01 else c.applicant_name,
                                   step=f"step_{step}", title=f"环节 {step}", actor=who, actor_role=None, at=at,
                                   data={}))
    with system.db.unit_of_work() as session:
        session.execute(update(Case.__table__).where(Case.__table__.c.id == bindparam("b_id"))
                        .values(status="completed", completed_at=bindparam("b_done"), updated_at=bindparam("b_done"),
                                due_at=bindparam("b_due"), closure=bindparam("b_closure")),
                        completions)
        task = HumanTask.__table__
        session.execute(update(task).where(task.c.case_id == bindparam("b_case"))
                        .values(status="completed", completed_at=bindparam("b_done"),
                                completed_by=bindparam("b_who")), task_updates)
        session.execute(update(Case).where(Case.id % 10 == 3, Case.number.like("%BENCH%")).values(breaches=1))
        for table, rows in ((Breach, breaches), (Evaluation, ratings), (Case, callbacks), (CaseLink, links),
                            (LedgerEntry, ledger)):
            for i in range(0, len(rows), 5000):
                session.execute(insert(table.__table__), rows[i:i + 5000])


def main(views: list[tuple[str, str, str, dict]] | None = None, doc: str = __doc__, prefix: str = "bdd-dash-",
         runs: int = 50) -> None:
    """Build (or reuse) the data and measure ``views`` (label, user, path, query): the dashboard's by default."""
    views = views or [(label, user, "/quality", query) for label, user, query in VIEWS]
    parser = arguments(doc, "cases", runs=runs)
    parser.add_argument("--reuse", type=Path, help="measure a database kept by an earlier --keep run")
    parser.add_argument("--only", help="measure only the views whose label contains this text")
    args = parser.parse_args()

    with bench_database(prefix, keep=args.keep, reuse=args.reuse) as (instance, system):
        began = time.perf_counter()
        if not args.reuse:
            build(system, args.cases, args.seed)
            add_quality_data(system, args.seed)
        with system.db.unit_of_work(write=False) as session:
            counts = {name: session.scalar(select(func.count()).select_from(model)) for name, model in (
                ("cases", Case), ("ledger entries", LedgerEntry), ("ratings", Evaluation), ("breaches", Breach))}
        size = (instance / "bdd.sqlite3").stat().st_size / 1e6
        print("set-up: " + ", ".join(f"{n} {k}" for k, n in counts.items())
              + f"; {size:.0f} MB SQLite, in {time.perf_counter() - began:.1f} s")
        app = create_app(system=system)
        print_machine(args.runs)
        print_views(app, system, views, args.runs, args.only)
        if args.keep or args.reuse:
            print(f"database kept: {instance}")

if __name__ == "__main__":
    main()
