"""Timer firing lag: 10,000 timers due within the same minute, `bdd scheduler` as its own process.

Set-up: a fresh SQLite database with the demo county; one consultation is dispatched so that its
30-minute contact timer waits (R-9.1.1.2); that case is cloned N times (fresh ids, every
SpiffWorkflow task id replaced) and the clones' timers are spread at random over one minute that
starts a little after the scheduler does. Then `bdd scheduler` runs alone and the script waits
until nothing is due. Lag = when the firing unit of work began minus the due time, per timer,
from the breach rows the firing wrote. Prints p50, p99, max and the counts due and fired.
"""

from __future__ import annotations

import argparse
import os
import platform
import random
import re
import shutil
import signal
import statistics
import subprocess
import sys
import tempfile
import time
import uuid
from datetime import datetime, timedelta, timezone
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))

from sqlalchemy import func, insert, select  # noqa: E402

from bdd_workflow.config import Settings  # noqa: E402
from bdd_workflow.db.migrate import upgrade  # noqa: E402
from bdd_workflow.db.models import Breach, Case, HumanTask, PendingTimer  # noqa: E402
from bdd_workflow.services import definitions, org  # noqa: E402
from bdd_workflow.services.cases import start_case  # noqa: E402
from bdd_workflow.services.identity import SYSTEM, actor_by_id, authenticate  # noqa: E402
from bdd_workflow.services.tasks import complete_task  # noqa: E402
from bdd_workflow.system import System  # noqa: E402

UUID = re.compile(r"[0-9a-f]{8}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{12}")
EVENT_VALUE = re.compile(r'"event_value":"[^"]*"')


def template_case(system: System) -> int:
    consultant = authenticate(system, "zhaolina", "demo1234")
    case = start_case(system, consultant, "consultation", {
        "applicant_name": "王芳", "applicant_phone": "13812345678", "applicant_type": "personal",
        "matter_code": "GR-002", "channel": "phone"})
    actor = actor_by_id(system, consultant.staff_id)
    record = case["tasks"][0]["id"]
    step = complete_task(system, actor, record, {"question": "低保怎么办？", "answerable": False})
    complete_task(system, actor, step["next_tasks"][0]["id"], {"dispatch_unit": "CA-MZ", "work_order_summary": "政策咨询"})
    return case["id"]


def clone(system: System, case_id: int, count: int, window_start: datetime, window_seconds: float) -> None:
    with system.db.unit_of_work() as session:
        case = session.execute(select(Case.__table__).where(Case.id == case_id)).one()._mapping
        tasks = [dict(r._mapping) for r in session.execute(
            select(HumanTask.__table__).where(HumanTask.case_id == case_id, HumanTask.status == "ready"))]
        timers = [dict(r._mapping) for r in session.execute(
            select(PendingTimer.__table__).where(PendingTimer.case_id == case_id))]
        next_id = session.scalar(select(func.max(Case.id))) + 1
        cases, task_rows, timer_rows = [], [], []
        for n in range(count):
            mapping: dict[str, str] = {}

            def fresh(match: re.Match) -> str:
                return mapping.setdefault(match.group(0), str(uuid.uuid4()))

            due = window_start + timedelta(seconds=random.uniform(0, window_seconds))
            # The workflow's own due time moves with the row, so the case is exactly as if started then.
            state = EVENT_VALUE.sub(f'"event_value":"{due.isoformat()}"', UUID.sub(fresh, case["state_json"]))
            new_id = next_id + n
            cases.append({**case, "id": new_id, "number": f"ZXBENCH{new_id:08d}", "state_json": state})
            task_rows += [{**t, "id": mapping[t["id"]], "case_id": new_id} for t in tasks]
            timer_rows += [{**t, "id": mapping[t["id"]], "case_id": new_id, "due_at": due} for t in timers]
        session.execute(insert(Case.__table__), cases)
        session.execute(insert(HumanTask.__table__), task_rows)
        session.execute(insert(PendingTimer.__table__), timer_rows)


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--timers", type=int, default=10_000)
    parser.add_argument("--window", type=float, default=60.0, help="seconds over which the timers fall due")
    parser.add_argument("--lead", type=float, default=10.0, help="seconds between scheduler start and the window")
    args = parser.parse_args()

    instance = Path(tempfile.mkdtemp(prefix="bdd-timers-"))
    settings = Settings(instance_dir=instance, processes_dir=ROOT / "processes", forms_dir=ROOT / "forms")
    system = System(settings)
    try:
        upgrade(system.db)
        org.load_demo(system, "demo1234", SYSTEM)
        definitions.deploy_directory(system, SYSTEM, settings.processes_dir)
        template = template_case(system)
        began = time.perf_counter()
        window_start = datetime.now(timezone.utc) + timedelta(seconds=args.lead + args.timers / 2000)
        clone(system, template, args.timers, window_start, args.window)
        with system.db.unit_of_work() as session:  # the template's own timer is not part of the run
            session.execute(PendingTimer.__table__.delete().where(PendingTimer.case_id == template))
        print(f"set-up: {args.timers} pending timers in {time.perf_counter() - began:.1f} s")

        env = dict(os.environ, BDD_INSTANCE_DIR=str(instance), BDD_DATABASE_URL=settings.database_url,
                   BDD_SECRET_KEY=settings.secret_key)
        scheduler = subprocess.Popen([sys.executable, "-m", "bdd_workflow.cli", "scheduler", "--poll", "1"],
                                     env=env, stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)
        try:
            end = window_start + timedelta(seconds=args.window + 120)
            while datetime.now(timezone.utc) < end:
                time.sleep(1)
                with system.db.unit_of_work(write=False) as session:
                    left = session.scalar(select(func.count()).select_from(PendingTimer))
                if left == 0 and datetime.now(timezone.utc) > window_start + timedelta(seconds=args.window):
                    break
        finally:
            scheduler.send_signal(signal.SIGTERM)
            scheduler.wait(timeout=30)

        with system.db.unit_of_work(write=False) as session:
            rows = session.execute(select(Breach.due_at, Breach.fired_at)).all()
            left = session.scalar(select(func.count()).select_from(PendingTimer))
        lags = sorted((fired - due).total_seconds() for due, fired in rows)
        print(f"machine: {platform.machine()}, {os.cpu_count()} cores, Python {platform.python_version()}")
        print(f"timers due: {args.timers} within {args.window:.0f} s; fired: {len(lags)}; still pending: {left}")
        if lags:
            p99 = lags[min(len(lags) - 1, int(len(lags) * 0.99))]
            print(f"firing lag: p50 {statistics.median(lags) * 1000:.0f} ms, p99 {p99 * 1000:.0f} ms, "
                  f"max {lags[-1] * 1000:.0f} ms, min {lags[0] * 1000:.0f} ms")
    finally:
        system.db.dispose()
        shutil.rmtree(instance, ignore_errors=True)


if __name__ == "__main__":
    main()
