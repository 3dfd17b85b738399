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

import statistics
import sys
import time
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))
sys.path.insert(0, str(ROOT / "bench"))

from sqlalchemy import func, select  # noqa: E402

from bdd_workflow.app import create_app  # noqa: E402
from bdd_workflow.db.models import Case, HumanTask  # noqa: E402
from common import analyze, arguments, bench_database, build, measure, pager_total, print_machine  # noqa: E402

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


def main() -> None:
    parser = arguments(__doc__, "tasks", runs=200)
    parser.add_argument("--analyze", action="store_true", help="run ANALYZE after loading (a fresh install has not)")
    args = parser.parse_args()

    with bench_database("bdd-inbox-", keep=args.keep) as (instance, system):
        began = time.perf_counter()
        build(system, args.tasks, args.seed)
        if args.analyze:
            analyze(system)
        with system.db.unit_of_work(write=False) as session:
            open_tasks = session.scalar(select(func.count()).select_from(HumanTask).where(HumanTask.status == "ready"))
            cases = session.scalar(select(func.count()).select_from(Case))
        size = (instance / "bdd.sqlite3").stat().st_size / 1e6
        print(f"set-up: {open_tasks} open tasks, {cases} cases, {size:.0f} MB SQLite, "
              f"in {time.perf_counter() - began:.1f} s")
        app = create_app(system=system)
        print_machine(args.runs)
        print(f"{'view':44} {'tasks':>7} {'p50 ms':>8} {'p95 ms':>8} {'max ms':>8}")
        for label, user, query in VIEWS:
            timed = measure(app, system, user, "/", query, args.runs)
            timings = timed.wall
            print(f"{label:44} {pager_total(timed.response):>7} {statistics.median(timings):8.1f} "
                  f"{timed.p95(timings):8.1f} {timings[-1]:8.1f}")
        if args.keep:
            print(f"database kept: {instance / 'bdd.sqlite3'}")

if __name__ == "__main__":
    main()
