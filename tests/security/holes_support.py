"""Helpers the regression tests of issue 16's holes share (exports, redirects, request limits, uploads,
public links, the error page). Test modules import it from beside them (no package, no conftest: other
files of tests/security come from elsewhere); the ``system`` fixture is tests/conftest.py's."""

from __future__ import annotations

import re

from flask import Flask
from sqlalchemy import select

from bdd_workflow.app import create_app
from bdd_workflow.db.models import Staff
from bdd_workflow.services.identity import actor_of, issue_token
from bdd_workflow.system import System
from bdd_workflow.views.web_common import new_session_values

PASSWORD = "demo1234"
PHONE = "13912345678"
_CSRF = re.compile(r'name="csrf_token"\s+value="([^"]+)"')


def make_app(system: System) -> Flask:
    app = create_app(system=system)
    app.config.update(TESTING=False)  # errors go through the app's own handlers, CSRF stays on
    return app


def text(response) -> str:
    return response.get_data(as_text=True)


def csrf(client, url: str) -> str:
    """The CSRF token of the first form of the page at ``url``, fetched as a browser would."""
    page = client.get(url)
    assert page.status_code == 200, (url, page.status_code)
    found = _CSRF.search(text(page))
    assert found, f"{url} has no form with a csrf_token"
    return found.group(1)


def signed_in(app: Flask, system: System, username: str):
    """A test client whose browser session belongs to ``username`` (a server-side session, as the login
    form starts one; the password hash is skipped to keep the suite fast)."""
    with system.db.unit_of_work(write=False) as session:
        actor = actor_of(session.scalars(select(Staff).where(Staff.username == username)).one())
    client = app.test_client()
    with client.session_transaction() as data:
        data.update(new_session_values(system, actor))
    return client


def bearer(system: System, username: str) -> dict[str, str]:
    """The Authorization header of the token POST /api/v1/auth/token would issue to ``username``."""
    with system.db.unit_of_work(write=False) as session:
        staff = session.scalars(select(Staff).where(Staff.username == username)).one()
        return {"Authorization": f"Bearer {issue_token(system, actor_of(staff))}"}


def apply_online(client, **fields):
    """An anonymous online application through /public/apply (the public form, with its CSRF token)."""
    form = {"csrf_token": csrf(client, "/public/apply"), "applicant_name": "李桂兰", "applicant_phone": PHONE,
            "applicant_type": "personal", "service": "assist", "matter_code": "GR-007", "address": ""}
    form.update(fields)
    return client.post("/public/apply", data=form)
