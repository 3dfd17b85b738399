"""Issue 16, item 7: logins tell who exists and can be flooded. Exactly one password-hash
computation whether or not the user exists; one answer for every failed login; throttling per
client address and per account (429 with Retry-After and a Chinese message); a lockout keyed by
account and client address, so a stranger elsewhere cannot lock a colleague out."""

from __future__ import annotations

import os
import uuid

import pytest
import werkzeug.security
from securityhelpers import API, PASSWORD, api_login, form_login

from bdd_workflow.app import create_app
from bdd_workflow.config import Settings
from bdd_workflow.services import identity, registry
from bdd_workflow.system import System
from bdd_workflow.views.throttle import ThrottleMisconfigured

ADMIN = "chenguodong"


@pytest.fixture
def hashes(monkeypatch):
    """Counts password-hash computations (werkzeug's one internal function behind both hashing and checking)."""
    counted = {"n": 0}
    real = werkzeug.security._hash_internal

    def counting(*args, **kwargs):
        counted["n"] += 1
        return real(*args, **kwargs)

    monkeypatch.setattr(werkzeug.security, "_hash_internal", counting)
    return counted


def lock_out(client, username: str) -> None:
    for _ in range(identity.MAX_FAILED_LOGINS):
        assert api_login(client, username, "wrong-password").status_code == 401


def test_every_login_computes_exactly_one_password_hash(system, desk, client_at, hashes):
    registry.set_staff_active(system, desk.actor(ADMIN), "guomin", False, "调离")
    locked = client_at("10.2.0.9")
    lock_out(locked, "xuzhiqiang")
    attempts = [
        (client_at("10.2.0.1"), "lijianhua", PASSWORD, 200),        # right password
        (client_at("10.2.0.2"), "lijianhua", "wrong-password", 401),  # wrong password
        (client_at("10.2.0.3"), "no_such_user", "wrong-password", 401),  # unknown user
        (client_at("10.2.0.4"), "guomin", PASSWORD, 401),           # deactivated
        (locked, "xuzhiqiang", PASSWORD, 401),                      # locked at this address
    ]
    for client, username, password, status in attempts:
        hashes["n"] = 0
        assert api_login(client, username, password).status_code == status
        assert hashes["n"] == 1, (username, password, hashes["n"])


def test_every_failed_login_gets_one_and_the_same_answer(system, desk, client_at):
    registry.set_staff_active(system, desk.actor(ADMIN), "guomin", False, "调离")
    locked = client_at("10.3.0.9")
    lock_out(locked, "lijianhua")
    answers = [api_login(client_at("10.3.0.1"), "lijianhua", "wrong-password"),
               api_login(client_at("10.3.0.2"), "no_such_user", "wrong-password"),
               api_login(client_at("10.3.0.3"), "guomin", PASSWORD),
               api_login(locked, "lijianhua", PASSWORD)]
    assert {a.status_code for a in answers} == {401}
    assert len({a.get_data(as_text=True) for a in answers}) == 1, [a.get_json() for a in answers]
    pages = [form_login(client_at("10.3.0.1"), "lijianhua", "wrong-password"),
             form_login(client_at("10.3.0.2"), "no_such_user", "wrong-password"),
             form_login(client_at("10.3.0.3"), "guomin", PASSWORD),
             form_login(locked, "lijianhua", PASSWORD)]
    assert {p.status_code for p in pages} == {401}
    messages = {p.get_data(as_text=True).split('role="alert">', 1)[1].split("<", 1)[0] for p in pages}
    assert messages == {answers[0].get_json()["message"]}


def test_a_stranger_at_another_address_cannot_lock_a_colleague_out(client_at):
    stranger, colleague = client_at("10.4.0.66"), client_at("10.4.0.5")
    lock_out(stranger, "lijianhua")
    assert api_login(stranger, "lijianhua").status_code == 401  # the stranger's address is locked out ...
    assert api_login(colleague, "lijianhua").status_code == 200  # ... the colleague's is not
    assert form_login(colleague, "lijianhua").status_code == 302


def test_a_flood_from_one_address_gets_429_with_retry_after_and_costs_no_hash(system, client_at, hashes):
    system.settings.login_rate_per_address = "5 per minute"
    flood, other = client_at("10.5.0.66"), client_at("10.5.0.7")
    for n in range(5):
        assert api_login(flood, f"user{n}", "wrong-password").status_code == 401
    hashes["n"] = 0
    answer = api_login(flood, "lijianhua")
    assert answer.status_code == 429
    assert int(answer.headers["Retry-After"]) > 0
    message = answer.get_json()["message"]
    assert "频繁" in message and "秒后再试" in message
    assert hashes["n"] == 0  # refused before any password work
    page = form_login(flood, "lijianhua")
    assert page.status_code == 429 and "秒后再试" in page.get_data(as_text=True)
    assert "Retry-After" in page.headers
    welcome = api_login(other, "lijianhua")
    assert welcome.status_code == 200 and "Retry-After" not in welcome.headers  # everyone else logs in as before


def test_failed_passwords_for_one_account_from_many_addresses_are_throttled(system, client_at):
    system.settings.login_rate_per_account = "3 per minute"
    for n in range(3):
        assert api_login(client_at(f"10.6.0.{n + 1}"), "lijianhua", "wrong-password").status_code == 401
    answer = api_login(client_at("10.6.0.99"), "LiJianHua", "wrong-password")
    assert answer.status_code == 429 and int(answer.headers["Retry-After"]) > 0
    assert api_login(client_at("10.6.0.99"), "guomin").status_code == 200  # other accounts are not held up


def test_successful_logins_do_not_count_against_the_account(system, client_at):
    system.settings.login_rate_per_account = "3 per minute"
    for n in range(6):
        assert api_login(client_at(f"10.7.0.{n + 1}"), "lijianhua").status_code == 200


def test_429_is_documented_for_the_token_request(client):
    spec = client.get(f"{API}/openapi.json").get_json()
    assert "429" in spec["paths"]["/auth/token"]["post"]["responses"]


def test_the_administrator_lifts_every_lock_on_an_account(system, desk, client_at):
    stranger = client_at("10.8.0.66")
    lock_out(stranger, "lijianhua")
    assert registry.staff_page(system, desk.actor(ADMIN), "lijianhua")["staff"]["locked_until"] is not None
    assert registry.unlock_staff(system, desk.actor(ADMIN), "lijianhua")["was_locked"] is True
    assert api_login(stranger, "lijianhua").status_code == 200


REDIS_URL = os.environ.get("BDD_TEST_REDIS_URL", "redis://127.0.0.1:6379/15")


def test_with_redis_storage_two_server_processes_share_the_count(system):
    """BDD_RATELIMIT_STORAGE_URI=redis://...: the throttle counts across server processes."""
    redis = pytest.importorskip("redis")
    try:
        redis.Redis.from_url(REDIS_URL, socket_connect_timeout=0.5).ping()
    except redis.exceptions.ConnectionError:
        pytest.skip(f"no Redis at {REDIS_URL}")
    address = f"10.9.{uuid.uuid4().int % 250}.{uuid.uuid4().int % 250}"
    first_settings = Settings(**{**vars(system.settings), "ratelimit_storage_uri": REDIS_URL,
                                 "login_rate_per_address": "2 per minute"})
    first = System(first_settings)
    second = System(Settings(**vars(first_settings)))
    try:
        one = create_app(system=first).test_client()
        one.environ_base["REMOTE_ADDR"] = address
        assert api_login(one, f"nobody-{uuid.uuid4().hex[:8]}", "x").status_code == 401
        two = create_app(system=second).test_client()
        two.environ_base["REMOTE_ADDR"] = address
        assert api_login(two, f"nobody-{uuid.uuid4().hex[:8]}", "x").status_code == 401
        assert api_login(one, "lijianhua").status_code == 429
    finally:
        first.db.dispose()
        second.db.dispose()


@pytest.mark.parametrize("field, value, variable", [
    ("login_rate_per_address", "twenty a minute", "BDD_LOGIN_RATE_PER_ADDRESS"),
    ("login_rate_per_account", "", "BDD_LOGIN_RATE_PER_ACCOUNT"),
    ("ratelimit_storage_uri", "mongo-ish://nowhere", "BDD_RATELIMIT_STORAGE_URI"),
])
def test_a_throttle_setting_that_cannot_work_stops_the_server_with_a_clear_message(system, field, value, variable):
    setattr(system.settings, field, value)
    with pytest.raises(ThrottleMisconfigured) as refused:
        create_app(system=system)
    assert variable in str(refused.value) and "Traceback" not in str(refused.value)
