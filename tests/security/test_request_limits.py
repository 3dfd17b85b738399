"""Issue 16, finding C: a JSON body nested too deep is a 400 with a Chinese message (it was a
RecursionError and a 500, even on the unauthenticated token request), nothing is saved; a body over
the size limit is a 413 answered in JSON under /api/."""

from __future__ import annotations

import json
import sys
from pathlib import Path

import pytest
from sqlalchemy import func, select

from bdd_workflow.db.models import Case, FormDefinition

sys.path.insert(0, str(Path(__file__).resolve().parent))
from holes_support import bearer, csrf, make_app, signed_in, text  # noqa: E402

DEEP = 50_000


def nested_lists(depth: int) -> str:
    return "[" * depth + "]" * depth


def nested_objects(depth: int, key: str = "data") -> str:
    return f'{{"{key}":' * depth + "1" + "}" * depth


@pytest.fixture
def app(system):
    return make_app(system)


def cases(system) -> int:
    with system.db.unit_of_work(write=False) as session:
        return session.scalar(select(func.count(Case.id)))


def assert_too_deep(response) -> None:
    assert response.status_code == 400, response.status_code
    assert response.mimetype == "application/json"
    body = response.get_json()
    assert body["error"] == "json_too_deep"
    assert "嵌套" in body["message"] and "Traceback" not in response.get_data(as_text=True)


def test_a_deeply_nested_json_body_is_a_400_with_a_chinese_message(app, system):
    client = app.test_client()
    before = cases(system)
    for body in (nested_lists(DEEP), nested_objects(DEEP), "[" * DEEP, nested_objects(200), nested_lists(40)):
        # the token request needs no account: anyone can send this
        assert_too_deep(client.post("/api/v1/auth/token", data=body, content_type="application/json"))
        assert_too_deep(client.post("/api/v1/cases", data=body, content_type="application/json",
                                    headers=bearer(system, "gaohongxia")))
    # deep inside an otherwise valid start request
    start = {"process": "assist", "data": {"applicant_name": "王芳", "applicant_phone": "13812345678",
                                           "applicant_type": "personal", "matter_code": "GR-002", "channel": "walk_in"}}
    deep = json.dumps(start, ensure_ascii=False)[:-2] + ', "note": ' + nested_lists(DEEP) + "}}"
    assert_too_deep(client.post("/api/v1/cases", data=deep, content_type="application/json",
                                headers=bearer(system, "gaohongxia")))
    assert cases(system) == before  # nothing half-saved
    # what real clients send still works
    assert client.post("/api/v1/cases", json=start, headers=bearer(system, "gaohongxia")).status_code == 201


def test_a_deeply_nested_form_definition_is_refused_and_not_saved(app, system):
    admin = signed_in(app, system, "chenguodong")
    editor = "/admin/forms/assist_guide_materials"
    token = csrf(admin, editor)
    deep = '{"type": "object", "properties": {"x": ' + nested_objects(10_000, "items") + "}}"
    response = admin.post(editor, data={"csrf_token": token, "title": "指导准备申报材料", "schema": deep, "ui": "{}",
                                        "base_version": "0"})
    assert response.status_code == 422, response.status_code
    assert "嵌套" in text(response)
    with system.db.unit_of_work(write=False) as session:
        assert session.scalar(select(func.count()).select_from(FormDefinition)) == 0
    preview = admin.post("/admin/forms/preview", data=nested_lists(DEEP), content_type="application/json",
                         headers={"X-CSRFToken": token})
    assert preview.status_code == 400 and "嵌套" in text(preview)
    preview = admin.post("/admin/forms/preview", json={"schema": deep, "ui": "{}"}, headers={"X-CSRFToken": token})
    assert preview.status_code == 200  # the preview answers a bad definition with its problems
    assert any("嵌套" in problem["message"] for problem in preview.get_json()["errors"])


def test_an_api_body_over_the_size_limit_is_a_413_in_json(app, system):
    client = app.test_client()
    limit = app.config["MAX_CONTENT_LENGTH"]
    big = json.dumps({"username": "x" * (limit + 1024), "password": "demo1234"})
    for content_type in ("application/json", "text/plain", "application/x-www-form-urlencoded"):
        response = client.post("/api/v1/auth/token", data=big, content_type=content_type)
        assert response.status_code == 413, (content_type, response.status_code)
        assert response.mimetype == "application/json"
        body = response.get_json()
        assert body["error"] == "request_entity_too_large"
        assert "请求体太大" in body["message"] and f"{limit // 1024} KB" in body["message"]
