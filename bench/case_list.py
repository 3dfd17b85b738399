"""Supervisor case list latency: GET /supervise/cases over 100,000 cases, rendered by Flask.

Set-up as in inbox_page.py (common.py's ``build``): a fresh SQLite database with the demo county,
one real case's state_json shared by every bulk case (the list never reads it, but the rows are as
large as real ones), one open task per case. Then 10 % of the cases are marked breached and 20 %
completed, so those filters select something. The Flask test client, logged in, renders each view R
times and the script prints p50, p95 and max in milliseconds with the number of cases matched, and
the CPU time of a render (p50, p95): on a machine others share, the steadier measure. Target: p95 < 100 ms.

    .venv/bin/python bench/case_list.py --cases 100000 --runs 200
    .venv/bin/python bench/case_list.py --only overdue      # one view (here: the overdue filter)
"""

from __future__ import annotations

import statistics
import sys
import time
from datetime import datetime, timedelta, timezone
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))
sys.path.insert(0, str(ROOT / "bench"))

from sqlalchemy import func, select, update  # noqa: E402

from bdd_workflow.app import create_app  # noqa: E402
from bdd_workflow.db.models import Case  # noqa: E402
from common import arguments, bench_database, build, measure, pager_total, print_machine  # noqa: E402

TODAY = datetime.now(timezone.utc).astimezone(timezone(timedelta(hours=8))).date()
VIEWS = [  # (label, user, query string)
    ("county chief, no filter", "zhangwei", {}),
    ("county chief, no filter, page 50", "zhangwei", {"page": "50"}),
    ("county chief, assist + running", "zhangwei", {"process": "assist", "status": "running"}),
    ("county chief, unit CA-T01 (with villages)", "zhangwei", {"unit": "CA-T01"}),
    ("county chief, matter + personal", "zhangwei", {"matter": "GR-002", "applicant_type": "personal"}),
    ("county chief, breached", "zhangwei", {"late": "breached"}),
    ("county chief, overdue", "zhangwei", {"late": "overdue"}),
    ("county chief, last 7 days", "zhangwei", {"start": (TODAY - timedelta(days=7)).isoformat(), "end": TODAY.isoformat()}),
    ("county chief, applicant name", "zhangwei", {"name": "秀英"}),
    ("county chief, phone suffix", "zhangwei", {"phone": "5678"}),
    ("office, proxy + breached + 30 days", "wangxiuying", {"process": "proxy", "late": "breached",
                                                           "start": (TODAY - timedelta(days=30)).isoformat()}),
    ("township chief (CA-T02), no filter", "liuhongtao", {}),
    ("township chief (CA-T02), phone suffix", "liuhongtao", {"phone": "5678"}),
]


def main() -> None:
    parser = arguments(__doc__, "cases", runs=200)
    parser.add_argument("--analyze", action="store_true", help="run ANALYZE after loading")
    parser.add_argument("--index", action="append", default=[], help="extra CREATE INDEX statement to try")
    parser.add_argument("--only", help="measure only the views whose label contains this text")
    args = parser.parse_args()

    with bench_database("bdd-cases-", keep=args.keep) as (instance, system):
        began = time.perf_counter()
        build(system, args.cases, args.seed)
        with system.db.unit_of_work() as session:
            session.execute(update(Case).where(Case.id % 10 == 3).values(breaches=1))
            session.execute(update(Case).where(Case.id % 5 == 1).values(status="completed",
                                                                          completed_at=Case.updated_at))
        with system.db.engine.connect() as conn:
            for statement in args.index:
                conn.exec_driver_sql(statement)
            if args.analyze:
                conn.exec_driver_sql("ANALYZE")
            conn.commit()
        with system.db.unit_of_work(write=False) as session:
            cases = session.scalar(select(func.count()).select_from(Case))
        size = (instance / "bdd.sqlite3").stat().st_size / 1e6
        print(f"set-up: {cases} cases, {size:.0f} MB SQLite, in {time.perf_counter() - began:.1f} s"
              + (f"; extra indexes: {args.index}" if args.index else ""))
        app = create_app(system=system)
        print_machine(args.runs)
        print(f"{'view':44} {'cases':>7} {'p50 ms':>8} {'p95 ms':>8} {'max ms':>8} {'cpu p50':>8} {'cpu p95':>8}")
        for label, user, query in VIEWS:
            if args.only and args.only not in label:
                continue
            timed = measure(app, system, user, "/supervise/cases", query, args.runs)
            timings, cpu = timed.wall, timed.cpu
            print(f"{label:44} {pager_total(timed.response):>7} {statistics.median(timings):8.1f} "
                  f"{timed.p95(timings):8.1f} {timings[-1]:8.1f} {statistics.median(cpu):8.1f} {timed.p95(cpu):8.1f}",
                  flush=True)
        if args.keep:
            print(f"database kept: {instance / 'bdd.sqlite3'}")

if __name__ == "__main__":
    main()
