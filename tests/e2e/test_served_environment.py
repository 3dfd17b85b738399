"""`bdd serve` under granian: what the process environment holds never reaches a request as if the
client had sent it (granian copies the environment into every WSGI environ)."""

from __future__ import annotations

import urllib.error
import urllib.request

from itsdangerous import URLSafeTimedSerializer

from e2e_support import api, running_server

SECRET = "e2e-environment-secret"


def _status(url: str, headers: dict[str, str] | None = None) -> int:
    try:
        with urllib.request.urlopen(urllib.request.Request(url, headers=headers or {}), timeout=10) as response:
            return response.status
    except urllib.error.HTTPError as error:
        return error.code


def test_a_header_named_in_the_environment_is_not_a_header_of_every_request(tmp_path_factory):
    # A token that would be valid: staff 1, signed with the server's own key. Set as HTTP_AUTHORIZATION
    # in the server's environment, granian's copy made every anonymous call arrive logged in.
    token = URLSafeTimedSerializer(SECRET, salt="bdd-api-token").dumps({"u": 1})
    env = {"BDD_SECRET_KEY": SECRET, "HTTP_AUTHORIZATION": f"Bearer {token}", "BDD_SERVER": "granian"}
    with running_server(tmp_path_factory, "e2e-environment-instance", env=env) as url:
        assert _status(url + "/api/v1/processes") == 401
        # Clients that log in are served as before.
        login = api(url, "/api/v1/auth/token", {"username": "gaohongxia", "password": "demo1234"})
        processes = api(url, "/api/v1/processes", token=login["token"])
        assert {"assist", "proxy", "onsite", "callback"} <= {p["process"] for p in processes}
