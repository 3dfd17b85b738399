"""The API side of the modeler (issue 5, items 7 and 10): a process's versions with the cases on each,
and validating a diagram without deploying it, every problem named by its element."""

from __future__ import annotations

import re

import pytest
from webhelpers import API, read_process, start, upload

from bdd_workflow.config import PROJECT_ROOT

ADMIN = "chenguodong"
MIWG = PROJECT_ROOT.parent / "shared" / "bpmn-corpus" / "miwg"  # the shared_dir fixture's folder
MIWG_FILES = sorted(p.name for p in MIWG.glob("*.bpmn")) if MIWG.is_dir() else ["(corpus absent)"]


def deploy(client, auth, data: bytes, filename: str):
    return client.post(f"{API}/processes", data=upload(data, filename), headers=auth(ADMIN),
                       content_type="multipart/form-data")


def validate(client, auth, data: bytes, filename: str = "assist.bpmn", user: str = ADMIN):
    return client.post(f"{API}/processes/validate", data=upload(data, filename), headers=auth(user),
                       content_type="multipart/form-data")


def test_versions_of_a_process_with_who_when_and_cases(client, auth):
    start(client, auth, "gaohongxia", "assist", matter_code="GR-002")
    changed = read_process("assist.bpmn").decode("utf-8").replace("确定承办单位", "确定承办单位（修订）", 1)
    assert deploy(client, auth, changed.encode("utf-8"), "assist.bpmn").status_code == 201
    response = client.get(f"{API}/processes/assist/versions", headers=auth("zhangwei"))
    assert response.status_code == 200, response.get_json()
    versions = response.get_json()
    assert [v["version"] for v in versions] == [2, 1]
    assert (versions[0]["deployed_by"], versions[0]["deployed_by_name"]) == ("chenguodong", "陈国栋")
    assert versions[1]["deployed_by_name"] == "系统"
    assert (versions[0]["open_cases"], versions[1]["open_cases"]) == (0, 1)
    assert versions[1]["completed_cases"] == 0
    assert re.fullmatch(r"[0-9a-f]{64}", versions[0]["checksum"]) and versions[0]["deployed_at"].endswith("+08:00")


def test_versions_are_for_supervising_roles_and_unknown_processes_are_404(client, auth):
    assert client.get(f"{API}/processes/assist/versions", headers=auth("gaohongxia")).status_code == 403
    assert client.get(f"{API}/processes/assist/versions", headers=auth("wangxiuying")).status_code == 200
    missing = client.get(f"{API}/processes/nosuch/versions", headers=auth(ADMIN))
    assert missing.status_code == 404 and missing.get_json()["message"]
    assert client.get(f"{API}/processes/assist/versions").status_code == 401


def test_validate_a_good_file_finds_nothing_and_stores_nothing(client, auth):
    before = client.get(f"{API}/processes?versions=all", headers=auth(ADMIN)).get_json()
    response = validate(client, auth, read_process("assist.bpmn").replace("确定承办单位".encode(), "改了".encode(), 1))
    assert response.status_code == 200, response.get_json()
    assert response.get_json() == {"valid": True, "problems": []}
    assert client.get(f"{API}/processes?versions=all", headers=auth(ADMIN)).get_json() == before


def test_validate_takes_the_xml_as_the_body_too(client, auth):
    broken = read_process("assist.bpmn").replace(b'value="assist_track_approval"', b'value="no_such_form"', 1)
    response = client.post(f"{API}/processes/validate", data=broken, content_type="application/xml", headers=auth(ADMIN))
    assert response.status_code == 200
    body = response.get_json()
    assert body["valid"] is False
    assert [(p["element"], p["source"], p["severity"]) for p in body["problems"]] == [("track_approval", "check", "error")]
    assert "forms/no_such_form.json" in body["problems"][0]["message"]


@pytest.mark.parametrize("spiff_refuses_too", [False, True])
def test_validate_names_a_start_event_whose_start_form_is_missing(client, auth, spiff_refuses_too):
    """R-9.3.1: the onsite start's form carries the address rule; naming a form forms/ lacks is an error on the
    start event, whether SpiffWorkflow parses the rest of the diagram or refuses it too."""
    source = read_process("onsite.bpmn").decode("utf-8").replace('value="onsite_apply"', 'value="no_such_form"', 1)
    if spiff_refuses_too:  # a service task with no operator: SpiffWorkflow refuses the process, our own checks go on
        source = re.sub(r"<spiffworkflow:serviceTaskOperator .*?</spiffworkflow:serviceTaskOperator>", "", source,
                        count=1, flags=re.S)
    body = validate(client, auth, source.encode("utf-8")).get_json()
    assert body["valid"] is False
    start = [p for p in body["problems"] if p["element"] == "onsite_applied"]
    assert [p["severity"] for p in start] == ["error"], body["problems"]
    assert "发起表单 forms/no_such_form.json 不存在" in start[0]["message"]
    if spiff_refuses_too:
        assert any(p["source"] == "spiffworkflow" for p in body["problems"]), body["problems"]


def test_validate_lists_several_problems_each_with_its_element(client, auth):
    source = read_process("assist.bpmn").decode("utf-8")
    broken = (source.replace('value="assist_track_approval"', 'value="no_such_form"', 1)
              .replace('<bpmn:lane id="Lane_assistant" name="帮办员">', '<bpmn:lane id="Lane_assistant" name="门卫">', 1)
              .replace("R-9.1.5 帮办服务结束", "R-99.3 帮办服务结束", 1))
    body = validate(client, auth, broken.encode("utf-8")).get_json()
    elements = {p["element"] for p in body["problems"] if p["severity"] == "error"}
    assert {"track_approval", "guide_materials", "assist_completed"} <= elements, body


def test_validate_a_decision_table(client, auth):
    dmn = read_process("handling_unit_routing.dmn").decode("utf-8")
    assert validate(client, auth, dmn.encode("utf-8"), "handling_unit_routing.dmn").get_json()["valid"] is True
    broken = dmn.replace("<text>responsible_unit</text>", "<text>__import__('os')</text>", 1)
    body = validate(client, auth, broken.encode("utf-8"), "handling_unit_routing.dmn").get_json()
    assert body["valid"] is False and body["problems"][0]["element"]


@pytest.mark.parametrize("data", [b"<definitions", b"", b'<?xml version="1.0"?><!DOCTYPE x [<!ENTITY e SYSTEM "file:///etc/passwd">]><x>&e;</x>'],
                         ids=["malformed", "empty", "xxe"])
def test_validate_reports_unreadable_input_as_a_problem(client, auth, data):
    response = validate(client, auth, data)
    assert response.status_code == 200
    body = response.get_json()
    assert body["valid"] is False and body["problems"][0]["message"] and "root:" not in response.get_data(as_text=True)


@pytest.mark.parametrize("user", ["zhangwei", "gaohongxia"])
def test_only_administrators_validate(client, auth, user):
    response = validate(client, auth, read_process("assist.bpmn"), user=user)
    assert response.status_code == 403 and response.get_json()["message"]


def test_validate_too_large_is_413(client, auth, system):
    response = validate(client, auth, b"<x>" + b"a" * (system.settings.max_upload_bytes + 10) + b"</x>")
    assert response.status_code == 413 and response.mimetype == "application/json"


def test_the_openapi_document_describes_both_routes(client):
    paths = client.get(f"{API}/openapi.json").get_json()["paths"]
    assert "get" in paths["/processes/{process_id}/versions"]
    assert paths["/processes/{process_id}/versions"]["get"]["parameters"][0]["name"] == "process_id"
    validate_doc = paths["/processes/validate"]["post"]
    assert "multipart/form-data" in validate_doc["requestBody"]["content"] and "200" in validate_doc["responses"]


@pytest.mark.parametrize("name", MIWG_FILES)
def test_miwg_diagram_validates_to_its_processes_or_problems_naming_elements(client, auth, shared_dir, name):
    """bpmn-corpus/README.md: a diagram from another tool is accepted or refused naming the element."""
    folder = shared_dir / "bpmn-corpus" / "miwg"
    if not folder.is_dir():
        pytest.skip(f"the MIWG corpus is not at {folder} (it lives in ../shared, outside the project)")
    data = (folder / name).read_bytes()
    response = validate(client, auth, data, name)
    assert response.status_code == 200, response.get_data(as_text=True)
    body = response.get_json()
    errors = [p for p in body["problems"] if p["severity"] == "error"]
    deployed = deploy(client, auth, data, name)
    assert deployed.status_code in (201, 422)
    if deployed.status_code == 422:  # refused by deploy: validate said why, naming elements
        assert errors and any(p["element"] for p in errors), body
    if not errors:
        assert deployed.status_code == 201 and deployed.get_json()["processes"]
