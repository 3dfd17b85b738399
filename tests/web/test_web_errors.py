"""Whatever goes wrong, an API client gets JSON with a message: never an HTML page or a stack trace."""

from __future__ import annotations

import json

import pytest
from webhelpers import API


def assert_json(response, status: int) -> dict:
    assert response.status_code == status
    assert response.mimetype == "application/json"
    text = response.get_data(as_text=True)
    assert "<html" not in text.lower() and "Traceback" not in text
    body = response.get_json()
    assert body["error"] and body["message"]
    return body


@pytest.mark.parametrize("path", ["/nothing-here", "/cases/abc", "/tasks/x/y/z", "/cases/1/delete", ""])
def test_unknown_url_under_the_api_is_404_json(client, auth, path):
    assert_json(client.get(f"{API}{path}", headers=auth("zhangwei")), 404)


def test_unknown_url_without_a_token_is_still_404_json(client):
    assert_json(client.get(f"{API}/nothing-here"), 404)


@pytest.mark.parametrize(("method", "path"), [
    ("delete", "/cases"), ("put", "/cases/1"), ("get", "/auth/token"), ("get", "/tasks/x/complete"),
    ("patch", "/processes"), ("delete", "/units"), ("post", "/openapi.json"),
])
def test_wrong_method_is_405_json(client, auth, method, path):
    response = getattr(client, method)(f"{API}{path}", headers=auth("zhangwei"))
    body = assert_json(response, 405)
    assert body["error"] == "method_not_allowed"


def test_405_says_which_methods_are_allowed(client, auth):
    """RFC 9110 15.5.6: a 405 response MUST carry an Allow header listing the supported methods."""
    response = client.delete(f"{API}/cases", headers=auth("zhangwei"))
    assert response.status_code == 405
    assert {"GET", "POST"} <= {m.strip() for m in response.headers.get("Allow", "").split(",")}


def test_an_unexpected_failure_is_a_500_json_without_internals(app, client, auth, monkeypatch):
    from bdd_workflow.services import org

    def broken(_system):
        raise RuntimeError("secret internal detail /work/main/bdd_workflow")

    monkeypatch.setattr(org, "list_matters", broken)
    response = client.get(f"{API}/matters", headers=auth("zhangwei"))
    body = assert_json(response, 500)
    assert "secret internal detail" not in response.get_data(as_text=True)
    assert body["error"] == "internal_error"


def test_a_json_body_over_the_size_limit_is_413_json(client, auth, system):
    note = "x" * (system.settings.max_upload_bytes + 128 * 1024)
    response = client.post(f"{API}/cases", json={"process": "assist", "data": {"note": note}}, headers=auth("zhangwei"))
    assert_json(response, 413)


def test_a_case_number_beyond_any_case_is_404_not_a_crash(client, auth):
    assert_json(client.get(f"{API}/cases/123456789", headers=auth("zhangwei")), 404)
    assert_json(client.get(f"{API}/cases/99999999999999999999999", headers=auth("zhangwei")), 404)


@pytest.mark.parametrize("path", ["/cases", "/tasks", "/ledger"])
def test_an_absurd_page_number_is_refused_not_a_crash(client, auth, path):
    response = client.get(f"{API}{path}?page=100000000000000000000", headers=auth("zhangwei"))
    assert response.status_code in (200, 422), response.get_data(as_text=True)
    assert response.mimetype == "application/json"
    if response.status_code == 200:
        assert response.get_json()["items"] == []


HUGE = "1921374522104543182848"  # found by schemathesis: beyond SQLite's 64-bit integers


@pytest.mark.parametrize("path", [f"/attachments/{HUGE}", f"/cases/{HUGE}"])
def test_an_id_beyond_any_row_is_404_json_on_every_api_route(client, auth, path):
    assert_json(client.get(f"{API}{path}", headers=auth("chenguodong")), 404)
    # An id in range still reaches the service, which names what it did not find.
    assert "办件 123456789 不存在" in client.get(f"{API}/cases/123456789", headers=auth("chenguodong")).get_json()["message"]



def test_a_date_outside_any_service_period_is_422_naming_the_range(client, auth):
    """Found by the fuzzed test: year 1 at +08:00 overflowed the UTC conversion (500)."""
    for path in ("/quality?start=0001-01-01&end=0001-01-01", "/quality?start=2026-01-01&end=9999-12-31",
                 "/processes/assist/heatmap?start=0001-01-01"):
        body = assert_json(client.get(f"{API}{path}", headers=auth("zhangwei")), 422)
        assert "2000-01-01 至 2099-12-31" in str(body["errors"]), path


def test_a_nul_character_anywhere_is_refused_before_the_database_sees_it(client, auth):
    """Found by the fuzzed test on PostgreSQL, which refuses NUL in text and JSON (a 500 before)."""
    login = client.post(f"{API}/auth/token", json={"username": "gao\x00hongxia", "password": "demo1234"})
    assert_json(login, 400)
    assert "空字符" in login.get_json()["message"]
    headers = auth("gaohongxia")
    started = client.post(f"{API}/cases", json={"process": "assist", "data": {
        "applicant_name": "王\x00芳", "applicant_phone": "13812345678", "applicant_type": "personal",
        "matter_code": "GR-002", "channel": "walk_in"}}, headers=headers)
    assert_json(started, 400)
    assert_json(client.get(f"{API}/cases?process=assist%00", headers=headers), 400)
    assert_json(client.get(f"{API}/tasks/abc%00def", headers=headers), 404)
    assert client.get(f"{API}/cases", headers=headers).get_json()["total"] == 0  # nothing was started


def test_a_nul_in_a_utf16_body_is_refused_and_a_written_out_backslash_u0000_is_text(client, auth):
    """The NUL guard skips the walk for UTF-8 bodies without an escaped NUL; JSON in UTF-16 (which
    Flask decodes too) is still walked, and the six characters \\u0000 typed as text are kept."""
    headers = auth("gaohongxia")
    data = {"applicant_name": "王\x00芳", "applicant_phone": "13812345678", "applicant_type": "personal",
            "matter_code": "GR-002", "channel": "walk_in"}
    utf16 = json.dumps({"process": "assist", "data": data}).encode("utf-16")
    assert_json(client.post(f"{API}/cases", data=utf16, content_type="application/json", headers=headers), 400)
    assert client.get(f"{API}/cases", headers=headers).get_json()["total"] == 0
    started = client.post(f"{API}/cases", json={"process": "assist", "data": {**data, "applicant_name": "王\\u0000芳"}},
                          headers=headers)
    assert started.status_code == 201, started.get_json()
    assert started.get_json()["applicant_name"] == "王\\u0000芳"
