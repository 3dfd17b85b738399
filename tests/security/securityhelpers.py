"""Helpers shared by the security tests (plain functions; the fixtures are in conftest.py)."""

from __future__ import annotations

import re

PASSWORD = "demo1234"  # the demo password (tests/conftest.py)
API = "/api/v1"
_CSRF = re.compile(r'name="csrf_token"\s+value="([^"]+)"')


def api_login(client, username: str, password: str = PASSWORD):
    return client.post(f"{API}/auth/token", json={"username": username, "password": password})


def bearer(token: str) -> dict[str, str]:
    return {"Authorization": f"Bearer {token}"}


def token_of(client, username: str, password: str = PASSWORD) -> str:
    response = api_login(client, username, password)
    assert response.status_code == 200, response.get_data(as_text=True)
    return response.get_json()["token"]


def form_login(client, username: str, password: str = PASSWORD):
    """Log in through the login form, with its CSRF token, as a browser does."""
    page = client.get("/login")
    token = _CSRF.search(page.get_data(as_text=True)).group(1)
    return client.post("/login", data={"csrf_token": token, "username": username, "password": password})


def logged_in(client) -> bool:
    """What a person sees: the inbox (200), or a redirect to the login page."""
    response = client.get("/")
    if response.status_code == 302:
        assert "/login" in response.headers["Location"]
        return False
    assert response.status_code == 200, response.status_code
    return True
