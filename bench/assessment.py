"""Staff assessment latency: GET /assessment (a unit's staff) and /assessment/staff/<username> over 100,000 cases.

Set-up: the quality dashboard bench's data and runner (dashboard.py: common.py's ``build``, then a fifth of the
cases completed with their task done by a staff member of its role and unit, ratings for 60 % of the completed
service cases, callbacks, breaches). The Flask test client, logged in, renders each view R times; the script
prints p50, p95 and max in milliseconds, wall clock and CPU. Target: p95 < 500 ms.

    .venv/bin/python bench/assessment.py --cases 100000 --runs 30
    .venv/bin/python bench/assessment.py --reuse /tmp/bdd-dash-xxxx   # a database kept by dashboard.py --keep
"""

from __future__ import annotations

import sys
from datetime import datetime, timedelta, timezone
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parent))

import dashboard  # noqa: E402

TODAY = datetime.now(timezone.utc).astimezone(timezone(timedelta(hours=8))).date()
MONTH = {"start": (TODAY - timedelta(days=30)).isoformat(), "end": TODAY.isoformat()}
VIEWS = [  # (label, user, path, query string)
    ("office, 30 days, the whole county", "wangxiuying", "/assessment", MONTH),
    ("office, 30 days, unit CA-MZ", "wangxiuying", "/assessment", {**MONTH, "unit": "CA-MZ"}),
    ("county chief, 30 days, all he directs", "zhangwei", "/assessment", MONTH),
    ("office, 30 days, county, steps done opened", "wangxiuying", "/assessment",
     {**MONTH, "figure": "steps", "part": "done"}),
    ("township chief (CA-T02), 30 days", "liuhongtao", "/assessment", MONTH),
    ("office, 30 days, one staff member", "wangxiuying", "/assessment/staff/gaohongxia", MONTH),
    ("the staff member's own page, 30 days", "gaohongxia", "/assessment/staff/gaohongxia", MONTH),
    ("office, 30 days, unit CA-MZ, Excel", "wangxiuying", "/assessment/export.xlsx", {**MONTH, "unit": "CA-MZ"}),
]

if __name__ == "__main__":
    dashboard.main(VIEWS, __doc__, "bdd-assess-", runs=30)
