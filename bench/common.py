"""What the page benches share: a fresh demo database (or one kept by an earlier run), the bulk open
cases and tasks of ``build``, a Flask test client logged in as a demo user, and the timing of its
requests (wall clock and CPU, after a warm-up). Used by inbox_page.py, case_list.py, heatmap.py and
dashboard.py; not a bench of its own."""

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
from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import dataclass
from datetime import datetime, timedelta, timezone
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))

from sqlalchemy import func, insert, select  # noqa: E402

from bdd_workflow.config import Settings  # noqa: E402
from bdd_workflow.db.migrate import upgrade  # noqa: E402
from bdd_workflow.db.models import Case, HumanTask, Matter, OrgUnit, Staff  # noqa: E402
from bdd_workflow.services import definitions, org  # noqa: E402
from bdd_workflow.services.cases import start_case  # noqa: E402
from bdd_workflow.services.identity import SYSTEM, actor_by_id, authenticate  # noqa: E402
from bdd_workflow.system import System  # noqa: E402
from bdd_workflow.views.web_common import new_session_values  # noqa: E402

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


def arguments(doc: str, size: str, runs: int) -> argparse.ArgumentParser:
    """The options every page bench has: ``--<size>`` (how many rows to build), --runs per view, --seed
    and --keep; a bench adds its own."""
    parser = argparse.ArgumentParser(description=doc.splitlines()[0])
    parser.add_argument(f"--{size}", type=int, default=100_000)
    parser.add_argument("--runs", type=int, default=runs)
    parser.add_argument("--seed", type=int, default=7)
    parser.add_argument("--keep", action="store_true", help="keep the database (where it is, is printed)")
    return parser


def open_system(instance: Path) -> System:
    """The system on the SQLite database in ``instance`` (as demo_system made it; nothing is changed)."""
    settings = Settings(instance_dir=instance, processes_dir=ROOT / "processes", forms_dir=ROOT / "forms",
                        secret_key="bench", embedded_scheduler=False)
    return System(settings)


def demo_system(prefix: str) -> tuple[Path, System]:
    """A fresh SQLite database under a temporary folder: migrated, the demo county, the processes deployed."""
    instance = Path(tempfile.mkdtemp(prefix=prefix))
    system = open_system(instance)
    upgrade(system.db)
    org.load_demo(system, "demo1234", SYSTEM)
    definitions.deploy_directory(system, SYSTEM, system.settings.processes_dir)
    return instance, system


@contextmanager
def bench_database(prefix: str, keep: bool = False, reuse: Path | None = None) -> Iterator[tuple[Path, System]]:
    """demo_system(prefix), or the database kept in ``reuse``; afterwards its connections are closed and a
    fresh database's folder is removed unless ``keep``."""
    instance, system = (reuse, open_system(reuse)) if reuse else demo_system(prefix)
    try:
        yield instance, system
    finally:
        system.db.dispose()
        if not keep and not reuse:
            shutil.rmtree(instance, ignore_errors=True)


def analyze(system: System) -> None:
    """SQLite's ANALYZE (a fresh install has not run it)."""
    with system.db.engine.connect() as conn:
        conn.exec_driver_sql("ANALYZE")
        conn.commit()


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


def logged_in_client(app, system: System, username: str):
    """A Flask test client whose session is signed in as ``username``."""
    with system.db.unit_of_work(write=False) as session:
        staff_id = session.scalar(select(Staff.id).where(Staff.username == username))
    client = app.test_client()
    with client.session_transaction() as session:
        session.update(new_session_values(system, actor_by_id(system, staff_id)))
    return client


@dataclass
class Timings:
    wall: list[float]  # sorted milliseconds: what the person waits
    cpu: list[float]  # sorted milliseconds of this process's CPU (Flask, SQLAlchemy and SQLite together):
    # what a request costs when other programs share the machine
    response: object  # the last warm-up response, for what the view counted

    def p95(self, values: list[float]) -> float:
        return values[min(len(values) - 1, int(len(values) * 0.95))]


def measure(app, system: System, username: str, path: str, query: dict, runs: int, warm_up: int = 5) -> Timings:
    """GET ``path`` as ``username`` ``runs`` times after ``warm_up`` requests (caches, compiled statements,
    templates); every answer must be 200."""
    client = logged_in_client(app, system, username)
    for _ in range(warm_up):
        response = client.get(path, query_string=query)
        assert response.status_code == 200, (path, response.status_code, response.get_data(as_text=True)[:300])
    wall, cpu = [], []
    for _ in range(runs):
        began, used = time.perf_counter(), time.process_time()
        answer = client.get(path, query_string=query)
        wall.append((time.perf_counter() - began) * 1000)
        cpu.append((time.process_time() - used) * 1000)
        assert answer.status_code == 200
    return Timings(sorted(wall), sorted(cpu), response)


def print_views(app, system: System, views: list[tuple[str, str, str, dict]], runs: int, only: str | None = None) -> None:
    """Measure each (label, user, path, query) view and print its p50, p95 and max, wall clock and CPU."""
    print(f"{'view':46} {'p50 ms':>8} {'p95 ms':>8} {'max ms':>8} {'cpu p50':>8} {'cpu p95':>8}")
    for label, user, path, query in views:
        if only and only not in label:
            continue
        timed = measure(app, system, user, path, query, runs, warm_up=3)
        wall, cpu = timed.wall, timed.cpu
        print(f"{label:46} {statistics.median(wall):8.1f} {timed.p95(wall):8.1f} {wall[-1]:8.1f} "
              f"{statistics.median(cpu):8.1f} {timed.p95(cpu):8.1f}", flush=True)


def pager_total(response) -> int:
    """The pager's count on a list page (共 N 条), -1 without one."""
    found = re.search(r"共 (\d+) 条", response.get_data(as_text=True))
    return int(found.group(1)) if found else -1


def print_machine(runs: int, what: str = "renders") -> None:
    print(f"machine: {platform.machine()}, {os.cpu_count()} cores, Python {platform.python_version()}; "
          f"{runs} {what} per view")
