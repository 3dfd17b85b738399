"""Web-level fixtures: the Flask test client over the demo county (tests/conftest.py's ``system``),
and a bearer header per demo user."""

from __future__ import annotations

import sys
from collections.abc import Callable
from pathlib import Path

import pytest
from sqlalchemy import select

from bdd_workflow.db.models import Staff
from bdd_workflow.services.identity import actor_of, issue_token

# The test modules import webhelpers.py beside this file, whatever pytest's import mode.
sys.path.insert(0, str(Path(__file__).resolve().parent))


@pytest.fixture
def client(app):
    return app.test_client()


@pytest.fixture
def auth(system) -> Callable[[str], dict[str, str]]:
    """``auth("lijianhua")`` -> ``{"Authorization": "Bearer ..."}``.

    The token is the one POST /api/v1/auth/token issues for that user (test_web_auth.py logs in
    over HTTP); signing it here skips the deliberately slow password hash, keeping the suite fast.
    """
    tokens: dict[str, str] = {}

    def header(username: str) -> dict[str, str]:
        if username not in tokens:
            with system.db.unit_of_work(write=False) as session:
                staff = session.scalars(select(Staff).where(Staff.username == username)).one()
                tokens[username] = issue_token(system, actor_of(staff))
        return {"Authorization": f"Bearer {tokens[username]}"}

    return header
