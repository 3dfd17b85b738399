"""Fixtures for the server-rendered pages (staff and public): the Flask app over the demo county
(tests/conftest.py's ``system``), a browser-like test client, logging in through the real login form,
and reading a page's CSRF token. Keep them generic: several test modules share them."""

from __future__ import annotations

import re
from collections.abc import Callable

import pytest


PASSWORD = "demo1234"  # the demo password (tests/conftest.py)
_CSRF = re.compile(r'name="csrf_token"\s+value="([^"]+)"')


def csrf_token_of(html: str) -> str:
    """The CSRF token of the first form in a page."""
    found = _CSRF.search(html)
    assert found, "the page has no form with a csrf_token"
    return found.group(1)


@pytest.fixture
def client(app):
    return app.test_client()


@pytest.fixture
def csrf() -> Callable:
    """``csrf(client, "/login")`` -> the CSRF token of the page at that URL (GET, as a browser would)."""

    def token(client, url: str) -> str:
        response = client.get(url)
        assert response.status_code == 200, (url, response.status_code)
        return csrf_token_of(response.get_data(as_text=True))

    return token


@pytest.fixture
def login(client, csrf) -> Callable:
    """``login("gaohongxia")`` logs ``client`` in through the login form (with its CSRF token) and
    returns the response to the POST; ``login(name, password)`` tries another password."""

    def log_in(username: str, password: str = PASSWORD, follow: bool = False):
        with client.session_transaction() as session:
            session.clear()  # whoever was logged in before: /login shows the form again
        token = csrf(client, "/login")
        return client.post("/login", data={"csrf_token": token, "username": username, "password": password},
                           follow_redirects=follow)

    return log_in
