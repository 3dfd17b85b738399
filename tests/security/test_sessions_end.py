"""Issue 16, item 1: sessions outlive the password. A password reset, a role or unit change,
deactivation and reactivation end every token and browser session issued before, in every server
process at once; logging out ends the session on the server; a session has an absolute lifetime
(a working day) as well as an idle one."""

from __future__ import annotations

from datetime import datetime, timedelta, timezone

import pytest
import time_machine
from securityhelpers import API, bearer, form_login, logged_in, token_of

from bdd_workflow.app import create_app
from bdd_workflow.config import Settings
from bdd_workflow.services import registry
from bdd_workflow.system import System

ADMIN = "chenguodong"
STAFF_DATA = {"username": "gaohongxia", "name": "高红霞", "role": "assistant", "unit": "CA-MZ", "phone": "15000003115",
              "duties": "帮办", "reason": ""}


def sessions_of(client_at, username: str):
    """An API token and a logged-in browser, both issued to ``username`` now."""
    api, browser = client_at("10.1.0.1"), client_at("10.1.0.2")
    token = token_of(api, username)
    assert form_login(browser, username).status_code == 302
    assert api.get(f"{API}/tasks", headers=bearer(token)).status_code == 200
    assert logged_in(browser)
    return api, token, browser


def assert_ended(api, token, browser) -> None:
    answer = api.get(f"{API}/tasks", headers=bearer(token))
    assert answer.status_code == 401
    assert "重新登录" in answer.get_json()["message"]
    assert not logged_in(browser)


def test_a_password_reset_ends_the_old_token_and_the_old_browser_session(system, desk, client_at):
    api, token, browser = sessions_of(client_at, "gaohongxia")
    registry.reset_password(system, desk.actor(ADMIN), "gaohongxia", "new-pass-1", "new-pass-1")
    assert_ended(api, token, browser)
    assert api.get(f"{API}/tasks", headers=bearer(token_of(api, "gaohongxia", "new-pass-1"))).status_code == 200


@pytest.mark.parametrize("change", [{"unit": "CA-RS"}, {"role": "proxy_agent"}])
def test_a_role_or_unit_change_ends_the_old_token_and_browser_session(system, desk, client_at, change):
    api, token, browser = sessions_of(client_at, "gaohongxia")
    registry.update_staff(system, desk.actor(ADMIN), "gaohongxia", {**STAFF_DATA, **change, "reason": "工作需要调整"})
    assert_ended(api, token, browser)
    assert token_of(api, "gaohongxia")  # the person logs in again, with the new role or unit


def test_a_change_of_phone_number_ends_nothing(system, desk, client_at):
    api, token, browser = sessions_of(client_at, "gaohongxia")
    registry.update_staff(system, desk.actor(ADMIN), "gaohongxia", {**STAFF_DATA, "phone": "13000000000"})
    assert api.get(f"{API}/tasks", headers=bearer(token)).status_code == 200
    assert logged_in(browser)


def test_deactivating_and_reactivating_does_not_bring_the_old_sessions_back(system, desk, client_at):
    api, token, browser = sessions_of(client_at, "gaohongxia")
    registry.set_staff_active(system, desk.actor(ADMIN), "gaohongxia", False, "调离")
    registry.set_staff_active(system, desk.actor(ADMIN), "gaohongxia", True, "返岗")
    assert_ended(api, token, browser)
    assert token_of(api, "gaohongxia")


def test_a_revocation_in_another_server_process_holds_there_at_once(system, desk, client_at):
    """Two server processes over one database: a reset made through one ends the token in the other
    on its very next request, though the other had just checked that token."""
    api, token, browser = sessions_of(client_at, "gaohongxia")
    other_process = System(Settings(**{**vars(system.settings)}))
    try:
        other = create_app(system=other_process).test_client()
        assert other.get(f"{API}/tasks", headers=bearer(token)).status_code == 200
        registry.reset_password(other_process, desk.actor(ADMIN), "gaohongxia", "new-pass-1", "new-pass-1")
    finally:
        other_process.db.dispose()
    assert_ended(api, token, browser)


def test_logging_out_ends_the_session_for_a_copy_of_the_cookie_too(client_at, app):
    browser = client_at("10.1.0.2")
    form_login(browser, "gaohongxia")
    cookie = browser.get_cookie("session").value
    thief = client_at("10.66.0.1")
    thief.set_cookie("session", cookie)
    assert logged_in(thief)
    page = browser.get("/")
    token = page.get_data(as_text=True).split('name="csrf_token" value="', 1)[1].split('"', 1)[0]
    assert browser.post("/logout", data={"csrf_token": token}).status_code == 302
    assert not logged_in(browser)
    thief.set_cookie("session", cookie)  # the copy taken before the logout
    assert not logged_in(thief)


def test_a_session_in_constant_use_still_ends_a_working_day_after_the_login(system, client_at):
    start = datetime.now(timezone.utc)
    with time_machine.travel(start, tick=False) as clock:
        browser = client_at("10.1.0.2")
        form_login(browser, "gaohongxia")
        for _hour in range(9):  # a page every hour: never idle
            clock.shift(timedelta(minutes=59))
            assert logged_in(browser)
        clock.shift(timedelta(minutes=10))  # 9 h 1 min after the login
        assert not logged_in(browser)


def test_a_session_left_idle_ends(system, client_at):
    start = datetime.now(timezone.utc)
    with time_machine.travel(start, tick=False) as clock:
        browser = client_at("10.1.0.2")
        form_login(browser, "gaohongxia")
        clock.shift(timedelta(seconds=system.settings.session_idle_seconds - 60))
        assert logged_in(browser)  # the idle time counts from the last request ...
        clock.shift(timedelta(seconds=system.settings.session_idle_seconds - 60))
        assert logged_in(browser)
        clock.shift(timedelta(seconds=system.settings.session_idle_seconds + 60))
        assert not logged_in(browser)  # ... and a page after longer than it finds the session over


def test_the_lifetimes_come_from_the_environment(monkeypatch, tmp_path):
    monkeypatch.setenv("BDD_SESSION_MAX_SECONDS", "3600")
    monkeypatch.setenv("BDD_SESSION_IDLE_SECONDS", "600")
    settings = Settings(instance_dir=tmp_path, secret_key="x")
    assert (settings.session_max_seconds, settings.session_idle_seconds) == (3600, 600)
    monkeypatch.delenv("BDD_SESSION_MAX_SECONDS")
    monkeypatch.delenv("BDD_SESSION_IDLE_SECONDS")
    assert Settings(instance_dir=tmp_path, secret_key="x").session_max_seconds == 9 * 3600
