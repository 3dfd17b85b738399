"""Issue 16, finding B: ``next`` sends a browser only to a path of this site. Whatever a link carries
(tabs, newlines, backslashes, a second slash, a scheme, encoded or not), a browser following the
answer stays on this host; a doubtful value falls back to the inbox, and none is a 500."""

from __future__ import annotations

import re
import sys
from pathlib import Path
from urllib.parse import quote, urljoin, urlsplit

import pytest

sys.path.insert(0, str(Path(__file__).resolve().parent))
from holes_support import PASSWORD, csrf, make_app, signed_in  # noqa: E402

HOST = "localhost"
# Each is written as it would travel in the query string of a link (percent-encoded where a link must be).
REFUSED = [
    "/%09/evil.example/phish", "/%0d%0a/x", "/%0d%0aSet-Cookie:%20a=b", "/%0a/evil.example", "%09//evil.example",
    "//evil.example", "///evil.example", "////evil.example/a", "/%5Cevil.example", "%5C%5Cevil.example",
    "/%5C/evil.example", "%5C/evil.example", "https://evil.example", "http:evil.example", "http:/evil.example",
    "HTTPS://evil.example/x", "javascript:alert(1)", "JaVaScRiPt%3Aalert(1)", "data:text/html,%3Cscript%3E",
    "evil.example", "%20//evil.example", "/%20/evil.example", "/%E3%80%80/evil.example", "/%E2%80%8B/evil.example",
    "/%C2%A0/evil.example", "/%2F/evil.example", "/%2f%2fevil.example", "/%5c%5cevil.example", "/%7F/evil.example",
    "/%0B/evil.example", "/%0C/evil.example", "/%1F/evil.example", "/" + "a" * 5000,
]
KEPT = ["/supervise/cases?name=%E7%8E%8B%20x", "/cases/1", "/supervise/ledger?unit=CA-MZ&incomplete=1"]


def browser_target(location: str) -> str:
    """Where a browser goes for this Location (the WHATWG URL parser's leniencies: it drops tabs and
    newlines, trims leading control characters and spaces, and reads a backslash as a slash)."""
    cleaned = re.sub(r"[\t\n\r]", "", location).strip("\x00\x01\x02\x03\x04\x05\x06\x07\x08\x0b\x0c\x0e\x0f"
                                                      "\x10\x11\x12\x13\x14\x15\x16\x17\x18\x19\x1a\x1b\x1c"
                                                      "\x1d\x1e\x1f ").replace("\\", "/")
    return urljoin(f"http://{HOST}/login", cleaned)


@pytest.fixture
def app(system):
    # Dozens of real logins from one test client: as many as a whole office behind one address makes.
    system.settings.login_rate_per_address = "600 per minute"
    system.settings.login_rate_per_account = "600 per minute"
    return make_app(system)


def _login(client, query: str):
    token = csrf(client, "/login")
    return client.post(f"/login?next={query}", data={"csrf_token": token, "username": "gaohongxia",
                                                     "password": PASSWORD})


def _landing(response) -> tuple[str, str, str]:
    """(host, path, query) where a browser following ``response`` ends up."""
    assert response.status_code in (302, 303), response.status_code
    location = response.headers["Location"]
    assert "\r" not in location and "\n" not in location
    target = urlsplit(browser_target(location))
    return target.netloc, target.path, target.query


def test_a_login_link_sends_staff_only_to_a_page_of_this_site(app):
    wrong = {}
    for query in REFUSED:
        response = _login(app.test_client(), query)
        if response.status_code not in (302, 303):
            wrong[query] = response.status_code
        elif _landing(response) != (HOST, "/", "") or "evil.example" in response.headers["Location"]:
            wrong[query] = response.headers["Location"]
    assert wrong == {}, "these next= values were followed off the inbox or failed"

    # a link to a page of this site (encoded as the login redirect encodes it) still lands there
    for page in KEPT:
        response = _login(app.test_client(), quote(page, safe=""))
        host, path, query = _landing(response)
        assert (host, path, query) == (HOST, *page.split("?", 1)) if "?" in page else (HOST, page, ""), page

    # and a page behind the login comes back after it
    client = app.test_client()
    asked = client.get("/supervise/cases?name=%E7%8E%8B")
    assert asked.status_code == 302
    token = csrf(client, "/login")
    done = client.post(asked.headers["Location"], data={"csrf_token": token, "username": "zhangwei",
                                                        "password": PASSWORD})
    assert _landing(done) == (HOST, "/supervise/cases", "name=%E7%8E%8B")


def test_a_forms_next_field_cannot_send_staff_elsewhere_either(app, system, desk):
    case = desk.start("assist", by="gaohongxia", matter_code="GR-007")
    task = desk.ready(case["id"])[0]
    worker = desk.staff_for(task.role, task.unit_code)
    client = signed_in(app, system, worker.username)  # claimed once, then refused as claimed: redirected each time
    token = csrf(client, "/")
    landed = {}
    for value in ["/\t/evil.example", "/\r\n/x", "//evil.example", "\\\\evil.example", "/\\evil.example",
                  "https://evil.example/", "/\u3000/evil.example", " //evil.example", "/%09/evil.example"]:
        response = client.post(f"/tasks/{task.id}/claim", data={"csrf_token": token, "next": value})
        landed[value] = _landing(response)[:2] if response.status_code in (302, 303) else response.status_code
    assert landed == {value: (HOST, "/") for value in landed}
