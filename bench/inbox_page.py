"""Inbox page latency: GET / (staff.inbox) over 100,000 open tasks, rendered by Flask for a logged-in user.

Set-up: a fresh SQLite database under a temporary directory with the demo county and its processes
deployed; one real assist case gives a state_json that every bulk case shares (the inbox never reads
it, but the rows are as large as real ones). Then N open tasks, one case each, are inserted directly
into `case` and `task`, spread over roles and units the way a county's work piles up: assistants and
proxy agents in the departments, townships and villages (departments busiest), consultants at the
consultation centre, chief officers' escalations at the county and township centres, a few for the
office. About 15 % are claimed by a staff member of their role and unit; deadlines are 10 % overdue,
5 % due later today, 60 % later, 25 % none. So the 民政局's assistant (gaohongxia) has a group of a
few thousand and a few hundred of her own.

Then the Flask test client, logged in as each user, renders GET / R times for each filter combination
and the script prints p50, p95 and max in milliseconds, with the number of tasks each view matches.
Target: p95 < 50 ms for an assistant's views.

    .venv/bin/python bench/inbox_page.py --tasks 100000 --runs 200
"""

from __future__ import annotations

import argparse
import os
import platform
import random
import re
import shutil
import statistics
import sys
import tempfile
import time
import uuid
from datetime import datetime, timedelta, timezone
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))

from sqlalchemy import func, insert, select  # noqa: E402

from bdd_workflow.app import create_app  # noqa: E402
from bdd_workflow.config import Settings  # noqa: E402
from bdd_workflow.db.migrate import upgrade  # noqa: E402
from bdd_workflow.db.models import Case, HumanTask, Matter, OrgUnit, Staff  # noqa: E402
from bdd_workflow.services import definitions, org  # noqa: E402
from bdd_workflow.services.cases import start_case  # noqa: E402
from bdd_workflow.services.identity import SYSTEM, authenticate  # noqa: E402
from bdd_workflow.system import System  # noqa: E402

PREFIX = {"consultation": "ZX", "assist": "BB", "proxy": "DB", "onsite": "SM", "callback": "HF",
          "rectification": "ZG", "complaint": "TS"}
# role -> (share of all tasks, processes its tasks come from)
ROLE_MIX = {
    "assistant": (0.60, ("assist", "onsite", "consultation")),
    "proxy_agent": (0.29, ("proxy",)),
    "consultant": (0.05, ("consultation", "callback", "complaint")),
    "chief_officer": (0.05, ("consultation", "onsite", "complaint", "rectification")),
    "supervisor": (0.01, ("complaint", "rectification")),
}
LEVEL_WEIGHT = {"department": 3.0, "approval_bureau": 3.0, "township_centre": 1.5, "village_station": 0.5}
# Without these the county's chief officer, whose 本组待办 is every open task, waits for a sort of all of
# them; with them every view is an index-ordered scan that stops after one page.
VIEWS = [  # (label, user, query string)
    ("assistant, mine", "gaohongxia", {}),
    ("assistant, group", "gaohongxia", {"scope": "group"}),
    ("assistant, group, overdue", "gaohongxia", {"scope": "group", "due": "overdue"}),
    ("assistant, group, assist, by created", "gaohongxia", {"scope": "group", "process": "assist", "sort": "created"}),
    ("assistant, group, one matter", "gaohongxia", {"scope": "group", "matter": "GR-002"}),
    ("assistant, group, page 20", "gaohongxia", {"scope": "group", "page": "20"}),
    ("consultant, group", "zhaolina", {"scope": "group"}),
    ("township chief officer, group", "liuhongtao", {"scope": "group"}),
    ("county chief officer, group (every task)", "zhangwei", {"scope": "group"}),
    ("county chief officer, group, overdue", "zhangwei", {"scope": "group", "due": "overdue"}),
]


def build(system: System, count: int, seed: int) -> None:
    rng = random.Random(seed)
    now = datetime.now(timezone.utc)
    template = start_case(system, authenticate(system, "gaohongxia", "demo1234"), "assist", {
        "applicant_name": "王芳", "applicant_phone": "13812345678", "applicant_type": "personal",
        "matter_code": "GR-002", "channel": "walk_in"})
    with system.db.unit_of_work(write=False) as session:
        state_json = session.scalar(select(Case.state_json).where(Case.id == template["id"]))
        defs = {d.process_id: d for d in definitions.latest_definitions(session)}
        units = session.execute(select(OrgUnit.code, OrgUnit.kind)).all()
        staff = session.execute(select(Staff.username, Staff.role, OrgUnit.code)
                                .join(OrgUnit, OrgUnit.id == Staff.unit_id)).all()
        matters = list(session.scalars(select(Matter.code)))
        first_id = session.scalar(select(func.max(Case.id))) + 1
    field_units = [(u.code, LEVEL_WEIGHT[u.kind]) for u in units if u.kind in LEVEL_WEIGHT]
    centres = [u.code for u in units if u.kind in ("county_centre", "township_centre")]
    by_role_unit: dict[tuple[str, str], list[str]] = {}
    for s in staff:
        by_role_unit.setdefault((s.role, s.code), []).append(s.username)
    tasks_of = {(p, t["role"]): t for p, d in defs.items() for t in d.user_tasks}
    roles = list(ROLE_MIX)
    weights = [ROLE_MIX[r][0] for r in roles]

    def unit_for(role: str) -> str:
        if role == "consultant":
            return "CA-ZX"
        if role == "supervisor":
            return "CA"
        if role == "chief_officer":
            return rng.choice(centres)
        return rng.choices([u for u, _ in field_units], [w for _, w in field_units])[0]

    def due_for() -> datetime | None:
        roll = rng.random()
        if roll < 0.10:
            return now - timedelta(minutes=rng.uniform(1, 10 * 24 * 60))
        if roll < 0.15:
            return now + timedelta(minutes=rng.uniform(1, 120))
        if roll < 0.75:
            return now + timedelta(days=rng.uniform(1, 30))
        return None

    batch = 5000
    for start in range(0, count, batch):
        cases, tasks = [], []
        for n in range(start, min(count, start + batch)):
            role = rng.choices(roles, weights)[0]
            process = rng.choice([p for p in ROLE_MIX[role][1] if (p, role) in tasks_of])
            spec = tasks_of[(process, role)]
            unit = unit_for(role)
            case_id = first_id + n
            created = now - timedelta(minutes=rng.uniform(0, 30 * 24 * 60))
            holders = by_role_unit.get((role, unit), [])
            cases.append(dict(
                id=case_id, number=f"{PREFIX[process]}BENCH{case_id:08d}", process_id=process,
                definition_id=defs[process].id, version=defs[process].version, status="running",
                state_json=state_json, lock_version=1, unit_code=unit, started_unit=unit,
                matter_code=rng.choice(matters), applicant_name=rng.choice("王李张刘陈杨赵黄周吴") + rng.choice(
                    ("芳", "伟", "秀英", "敏", "静", "强", "磊", "军", "洋", "艳")),
                applicant_phone=f"138{rng.randrange(10**8):08d}", applicant_type="personal", channel="walk_in",
                started_by="system", started_at=created, updated_at=created, completed_at=None,
                provisional=False, breaches=0))
            tasks.append(dict(
                id=str(uuid.uuid4()), case_id=case_id, process_id=process, name=spec["name"], title=spec["title"],
                role=role, unit_code=unit, form=spec["form"], instructions=None,
                assignee=rng.choice(holders) if holders and rng.random() < 0.15 else None, status="ready",
                due_at=due_for(), provisional=False, created_at=created, claimed_at=None, completed_at=None,
                completed_by=None))
        with system.db.unit_of_work() as session:
            session.execute(insert(Case.__table__), cases)
            session.execute(insert(HumanTask.__table__), tasks)


def measure(app, system: System, username: str, query: dict, runs: int, path: str = "/") -> tuple[list[float], int]:
    """Render ``path`` as ``username`` ``runs`` times (after a warm-up); sorted ms and the pager's total."""
    with system.db.unit_of_work(write=False) as session:
        staff_id = session.scalar(select(Staff.id).where(Staff.username == username))
    client = app.test_client()
    with client.session_transaction() as session:
        session["staff_id"] = staff_id
    for _ in range(5):  # warm-up: caches, compiled statements, templates
        response = client.get(path, query_string=query)
        assert response.status_code == 200, response.status_code
    found = re.search(r"共 (\d+) 条", response.get_data(as_text=True))  # the pager's count
    total = int(found.group(1)) if found else -1
    timings = []
    for _ in range(runs):
        began = time.perf_counter()
        response = client.get(path, query_string=query)
        timings.append((time.perf_counter() - began) * 1000)
        assert response.status_code == 200
    return sorted(timings), total


def demo_system(prefix: str) -> tuple[Path, System]:
    """A fresh SQLite database under a temporary folder: migrated, the demo county, the processes deployed."""
    instance = Path(tempfile.mkdtemp(prefix=prefix))
    settings = Settings(instance_dir=instance, processes_dir=ROOT / "processes", forms_dir=ROOT / "forms",
                        secret_key="bench", embedded_scheduler=False)
    system = System(settings)
    upgrade(system.db)
    org.load_demo(system, "demo1234", SYSTEM)
    definitions.deploy_directory(system, SYSTEM, settings.processes_dir)
    return instance, system


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--tasks", type=int, default=100_000)
    parser.add_argument("--runs", type=int, default=200)
    parser.add_argument("--seed", type=int, default=7)
    parser.add_argument("--keep", action="store_true", help="keep the database (its path is printed)")
    parser.add_argument("--analyze", action="store_true", help="run ANALYZE after loading (a fresh install has not)")
    args = parser.parse_args()

    instance, system = demo_system("bdd-inbox-")
    try:
        began = time.perf_counter()
        build(system, args.tasks, args.seed)
        if args.analyze:
            with system.db.engine.connect() as conn:
                conn.exec_driver_sql("ANALYZE")
        with system.db.unit_of_work(write=False) as session:
            open_tasks = session.scalar(select(func.count()).select_from(HumanTask).where(HumanTask.status == "ready"))
            cases = session.scalar(select(func.count()).select_from(Case))
        size = (instance / "bdd.sqlite3").stat().st_size / 1e6
        print(f"set-up: {open_tasks} open tasks, {cases} cases, {size:.0f} MB SQLite, "
              f"in {time.perf_counter() - began:.1f} s")
        app = create_app(system=system)
        print(f"machine: {platform.machine()}, {os.cpu_count()} cores, Python {platform.python_version()}; "
              f"{args.runs} renders per view")
        print(f"{'view':44} {'tasks':>7} {'p50 ms':>8} {'p95 ms':>8} {'max ms':>8}")
        for label, user, query in VIEWS:
            timings, total = measure(app, system, user, query, args.runs)
            p95 = timings[min(len(timings) - 1, int(len(timings) * 0.95))]
            print(f"{label:44} {total:>7} {statistics.median(timings):8.1f} {p95:8.1f} {timings[-1]:8.1f}")
        if args.keep:
            print(f"database kept: {instance / 'bdd.sqlite3'}")
    finally:
        system.db.dispose()
        if not args.keep:
            shutil.rmtree(instance, ignore_errors=True)


if __name__ == "__main__":
    main()
