"""The WSGI environ a request reaches Flask with under granian: the request's own keys, not the
process environment granian copies into it."""

from __future__ import annotations

from bdd_workflow.serving import WithoutProcessEnvironment

PROCESS = {"BDD_SECRET_KEY": "s3cret", "BDD_DATABASE_URL": "postgresql://bdd:pw@db/bdd", "PATH": "/usr/bin",
           "HTTP_PROXY": "http://proxy:3128", "HTTP_AUTHORIZATION": "Bearer leaked", "CONTENT_TYPE": "text/plain"}


def _seen(request_keys: dict) -> dict:
    seen = {}

    def inner(environ, start_response):
        seen.update(environ)
        return [b""]

    WithoutProcessEnvironment(inner, PROCESS)(PROCESS | request_keys, lambda *a: None)
    return seen


def test_the_process_environment_is_taken_out_of_the_request():
    seen = _seen({"REQUEST_METHOD": "GET", "PATH_INFO": "/api/v1/processes", "wsgi.url_scheme": "http"})
    assert not {"BDD_SECRET_KEY", "BDD_DATABASE_URL", "PATH", "HTTP_PROXY", "HTTP_AUTHORIZATION"} & set(seen)
    assert seen["REQUEST_METHOD"] == "GET" and seen["PATH_INFO"] == "/api/v1/processes"


def test_headers_and_request_keys_the_client_did_send_stay():
    seen = _seen({"REQUEST_METHOD": "POST", "HTTP_AUTHORIZATION": "Bearer mine", "CONTENT_TYPE": "application/json",
                  "HTTP_PROXY": "http://client-said"})
    assert seen["HTTP_AUTHORIZATION"] == "Bearer mine"
    assert seen["HTTP_PROXY"] == "http://client-said"
    assert seen["CONTENT_TYPE"] == "application/json"
