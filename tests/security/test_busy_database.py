"""Issue 16 item 8: one held SQLite write lock. A write waits at most BDD_DB_BUSY_SECONDS, then answers
503 with Retry-After and a Chinese message, having changed nothing; reads go on meanwhile."""

from __future__ import annotations

import dataclasses
import sqlite3

import pytest
from sqlalchemy import func, select

from bdd_workflow.db.models import Case
from bdd_workflow.system import System
from holes_support import PASSWORD, bearer, make_app, text

START = {"process": "consultation", "data": {"applicant_name": "王芳", "applicant_phone": "13812345678",
                                             "applicant_type": "personal", "channel": "phone",
                                             "question": "社保卡补办需要什么材料？"}}


@pytest.fixture
def busy(system, tmp_path):
    """The demo county with a one-second wait for the write lock, and a lock someone else holds."""
    quick = System(dataclasses.replace(system.settings, db_busy_seconds=1))
    holder = sqlite3.connect(tmp_path / "bdd.sqlite3", isolation_level=None)
    yield quick, holder
    holder.close()
    quick.db.dispose()


def cases(system) -> int:
    with system.db.unit_of_work(write=False) as session:
        return session.scalar(select(func.count()).select_from(Case))


@pytest.mark.parametrize("system", ["sqlite"], indirect=True)  # SQLite's one write lock; PostgreSQL locks rows
def test_a_write_behind_a_held_lock_is_a_503_with_retry_after_and_changes_nothing(busy):
    quick, holder = busy
    app = make_app(quick)
    client = app.test_client()
    headers = bearer(quick, "zhaolina")
    before = cases(quick)

    holder.execute("BEGIN IMMEDIATE")
    refused = client.post("/api/v1/cases", headers=headers, json=START)
    assert refused.status_code == 503
    assert refused.headers["Retry-After"] == "1"
    assert refused.get_json()["error"] == "database_busy"
    assert "秒后再试" in refused.get_json()["message"] and "未做任何更改" in refused.get_json()["message"]

    # Reads do not queue behind the writer: the inbox and the case list answer while the lock is held.
    assert client.get("/api/v1/tasks", headers=headers).status_code == 200
    assert client.get("/api/v1/cases", headers=headers).status_code == 200

    # A page that writes (the login form starts a server-side session) says the same in the browser.
    page = client.post("/login", data={"username": "zhaolina", "password": PASSWORD})
    if page.status_code == 400:  # CSRF first: fetch the form as a browser would, then post again
        from holes_support import csrf

        page = client.post("/login", data={"username": "zhaolina", "password": PASSWORD,
                                           "csrf_token": csrf(client, "/login")})
    assert page.status_code == 503
    assert page.headers["Retry-After"] == "1"
    assert "系统正忙" in text(page) and "Traceback" not in text(page)

    holder.execute("ROLLBACK")
    assert cases(quick) == before, "the refused start left nothing behind"
    assert client.post("/api/v1/cases", headers=headers, json=START).status_code == 201
    assert cases(quick) == before + 1
