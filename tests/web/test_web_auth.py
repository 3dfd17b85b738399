"""Logging in to the API and what happens with bad credentials or tokens (R-6.1, R-6.2)."""

from __future__ import annotations

from datetime import datetime, timedelta, timezone

import pytest
import time_machine
from webhelpers import API, PASSWORD, login

from bdd_workflow.app import create_app


def assert_json_error(response, status: int) -> dict:
    """A client always gets JSON with a Chinese message; never an HTML page or a Python traceback."""
    assert response.status_code == status, response.get_data(as_text=True)
    assert response.mimetype == "application/json"
    text = response.get_data(as_text=True)
    assert "<html" not in text.lower() and "Traceback" not in text
    body = response.get_json()
    assert body["message"] and any("\u4e00" <= ch <= "\u9fff" for ch in body["message"])
    return body


def test_valid_credentials_give_a_bearer_token_that_opens_the_api(client):
    response = login(client, "lijianhua")
    assert response.status_code == 200
    body = response.get_json()
    assert body["token"] and body["expires_in"] > 0
    assert body["user"] == {"username": "lijianhua", "name": body["user"]["name"], "role": "assistant", "unit": "CA-SPJ"}
    assert "password" not in response.get_data(as_text=True)
    me = client.get(f"{API}/tasks", headers={"Authorization": f"Bearer {body['token']}"})
    assert me.status_code == 200


def test_wrong_password_is_401_with_a_chinese_message_and_no_token(client):
    body = assert_json_error(login(client, "lijianhua", "wrong-password"), 401)
    assert "token" not in body
    assert "用户名或密码错误" in body["message"]


def test_unknown_user_gets_the_same_401_as_a_wrong_password(client):
    wrong_password = assert_json_error(login(client, "lijianhua", "wrong-password"), 401)
    unknown = assert_json_error(login(client, "no_such_user", "wrong-password"), 401)
    assert "token" not in unknown
    assert unknown == wrong_password  # no hint that the username exists


def test_five_wrong_passwords_lock_the_account_even_for_the_right_password(client):
    for _ in range(5):
        assert_json_error(login(client, "guomin", "wrong-password"), 401)
    locked = assert_json_error(login(client, "guomin", PASSWORD), 401)
    assert "锁定" in locked["message"]
    assert "token" not in locked
    # another account is not affected
    assert login(client, "lijianhua").status_code == 200


def test_login_body_that_is_not_json_or_lacks_fields_is_refused_with_a_message(client):
    form_post = client.post(f"{API}/auth/token", data="username=a&password=b",
                            content_type="application/x-www-form-urlencoded")
    assert_json_error(form_post, form_post.status_code)
    assert form_post.status_code in (400, 415, 422)
    assert "token" not in form_post.get_json()
    body = client.post(f"{API}/auth/token", json={"username": "lijianhua"})
    assert body.status_code == 422
    assert "password" in body.get_json()["errors"]


def test_missing_bearer_token_is_401(client):
    body = assert_json_error(client.get(f"{API}/cases"), 401)
    assert "令牌" in body["message"]
    assert client.get(f"{API}/cases").headers.get("WWW-Authenticate", "").startswith("Bearer")


@pytest.mark.parametrize("header", [
    "Bearer not-a-token", "Bearer eyJ1Ijo3fQ.awj7gg.AAAAAAAAAAAAAAAAAAAAAAAAAAA", "Basic bGlqaWFuaHVhOmRlbW8xMjM0",
    "Bearer ", "Bearer\u00a0\u00a0", "bearer <script>alert(1)</script>",
])
def test_garbled_or_foreign_bearer_token_is_401(client, header):
    assert_json_error(client.get(f"{API}/cases", headers={"Authorization": header}), 401)


def test_a_token_with_a_tampered_signature_is_401(client):
    token = login(client, "lijianhua").get_json()["token"]
    tampered = token[:-2] + ("AA" if not token.endswith("AA") else "BB")
    assert_json_error(client.get(f"{API}/cases", headers={"Authorization": f"Bearer {tampered}"}), 401)


def test_expired_token_is_401_with_a_message_to_log_in_again(client, system):
    token = login(client, "lijianhua").get_json()["token"]
    later = datetime.now(timezone.utc) + timedelta(seconds=system.settings.token_ttl_seconds + 120)
    with time_machine.travel(later, tick=False):
        body = assert_json_error(client.get(f"{API}/cases", headers={"Authorization": f"Bearer {token}"}), 401)
    assert "过期" in body["message"]


def test_token_ttl_comes_from_the_settings(system):
    system.settings.token_ttl_seconds = 5
    app = create_app(system=system)
    client = app.test_client()
    response = login(client, "lijianhua")
    assert response.get_json()["expires_in"] == 5
    token = response.get_json()["token"]
    assert client.get(f"{API}/cases", headers={"Authorization": f"Bearer {token}"}).status_code == 200
    with time_machine.travel(datetime.now(timezone.utc) + timedelta(seconds=60), tick=False):
        assert_json_error(client.get(f"{API}/cases", headers={"Authorization": f"Bearer {token}"}), 401)


def test_a_token_signed_with_another_secret_is_401(client, system):
    from itsdangerous import URLSafeTimedSerializer

    forged = URLSafeTimedSerializer("not-the-secret", salt="bdd-api-token").dumps({"u": 1})
    assert_json_error(client.get(f"{API}/cases", headers={"Authorization": f"Bearer {forged}"}), 401)


def test_the_lock_lifts_after_a_quarter_of_an_hour(client):
    for _ in range(5):
        login(client, "guomin", "wrong-password")
    assert login(client, "guomin").status_code == 401
    with time_machine.travel(datetime.now(timezone.utc) + timedelta(minutes=16), tick=False):
        assert login(client, "guomin").status_code == 200


def test_a_successful_login_resets_the_count_of_failures(client):
    for _ in range(4):
        assert login(client, "guomin", "wrong-password").status_code == 401
    assert login(client, "guomin").status_code == 200
    for _ in range(4):
        assert login(client, "guomin", "wrong-password").status_code == 401
    assert login(client, "guomin").status_code == 200
