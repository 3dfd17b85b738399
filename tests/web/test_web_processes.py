"""Deploying diagrams over the API: administrators only, versions, and refusals that store nothing."""

from __future__ import annotations

import pytest
from webhelpers import API, SHIPPED_PROCESSES, read_process, start_body, upload

ADMIN = "chenguodong"


def deploy(client, auth, data: bytes, filename: str, user: str = ADMIN):
    return client.post(f"{API}/processes", data=upload(data, filename), headers=auth(user),
                       content_type="multipart/form-data")


def all_versions(client, auth) -> list[tuple[str, int]]:
    response = client.get(f"{API}/processes?versions=all", headers=auth(ADMIN))
    assert response.status_code == 200
    return sorted((p["process"], p["version"]) for p in response.get_json())


def latest(client, auth) -> dict[str, int]:
    response = client.get(f"{API}/processes", headers=auth("zhangwei"))
    assert response.status_code == 200
    return {p["process"]: p["version"] for p in response.get_json()}


def assert_refused(response, *needles: str) -> dict:
    assert response.status_code == 422, response.get_data(as_text=True)
    assert response.mimetype == "application/json"
    body = response.get_json()
    assert body["message"]
    assert "Traceback" not in response.get_data(as_text=True)
    for needle in needles:
        assert needle in response.get_data(as_text=True), (needle, body)
    return body


def test_the_shipped_processes_are_listed_at_version_1(client, auth):
    response = client.get(f"{API}/processes", headers=auth("lijianhua"))
    assert response.status_code == 200
    processes = response.get_json()
    assert {p["process"] for p in processes} == SHIPPED_PROCESSES
    assert all(p["version"] == 1 for p in processes)
    assert all(p["name"] and p["user_tasks"] for p in processes)
    assist = next(p for p in processes if p["process"] == "assist")
    assert "assistant" in assist["starter_roles"]
    assert "guide_materials" in {t["name"] for t in assist["user_tasks"]}
    # what a start asks for beyond the applicant is the start event's form
    assert {p["process"]: p["start_form"] for p in processes} == {**{p: None for p in SHIPPED_PROCESSES}, "onsite": "onsite_apply", "consultation": "consultation_start",
                                                                   "complaint": "complaint_start", "problem_report": "problem_report_start"}


@pytest.mark.parametrize("user", ["lijianhua", "zhangwei", "wangxiuying", "zhaolina"])
def test_only_an_administrator_may_deploy(client, auth, user):
    before = all_versions(client, auth)
    changed = read_process("assist.bpmn").replace("指导准备申报材料".encode(), "指导材料".encode(), 1)
    response = deploy(client, auth, changed, "assist.bpmn", user=user)
    assert response.status_code == 403
    assert response.get_json()["message"]
    assert all_versions(client, auth) == before


@pytest.mark.parametrize("content", [
    b"<bpmn:definitions", b"this is not xml at all", b"", b"<?xml version='1.0'?><a><b></a>",
    b'<definitions xmlns="http://example.com/not-bpmn"/>',
    b'<bpmn:definitions xmlns:bpmn="http://www.omg.org/spec/BPMN/20100524/MODEL" id="d"/>',
], ids=["unclosed", "text", "empty", "mismatched-tags", "foreign-root", "no-process"])
def test_malformed_file_is_422_with_a_message_and_nothing_new_is_listed(client, auth, content):
    before = all_versions(client, auth)
    assert_refused(deploy(client, auth, content, "broken.bpmn"))
    assert all_versions(client, auth) == before


def test_xml_with_a_doctype_entity_is_refused_and_never_read(client, auth):
    """XXE: the server must not resolve an external entity (DESIGN.md, Security)."""
    before = all_versions(client, auth)
    evil = (b'<?xml version="1.0"?>\n<!DOCTYPE x [<!ENTITY e SYSTEM "file:///etc/passwd">]>\n'
            b'<bpmn:definitions xmlns:bpmn="http://www.omg.org/spec/BPMN/20100524/MODEL" id="d">'
            b'<bpmn:process id="xxe" name="xxe" isExecutable="true"><bpmn:documentation>&e;</bpmn:documentation>'
            b'<bpmn:startEvent id="s"/></bpmn:process></bpmn:definitions>')
    response = deploy(client, auth, evil, "xxe.bpmn")
    body = assert_refused(response, "DOCTYPE")
    assert "root:" not in response.get_data(as_text=True)
    assert "/bin/" not in response.get_data(as_text=True)
    assert body["error"] == "definition_invalid"
    assert all_versions(client, auth) == before


def test_billion_laughs_is_refused_quickly(client, auth):
    lol = (b'<?xml version="1.0"?><!DOCTYPE lolz [<!ENTITY lol "lol">'
           b'<!ENTITY lol2 "&lol;&lol;&lol;&lol;&lol;&lol;&lol;&lol;&lol;&lol;">'
           b'<!ENTITY lol3 "&lol2;&lol2;&lol2;&lol2;&lol2;&lol2;&lol2;&lol2;&lol2;&lol2;">]>'
           b'<bpmn:definitions xmlns:bpmn="http://www.omg.org/spec/BPMN/20100524/MODEL"><x>&lol3;</x></bpmn:definitions>')
    assert_refused(deploy(client, auth, lol, "lol.bpmn"))


CONTACT_TIMER = '<bpmn:timeDate xsi:type="bpmn:tFormalExpression">add_duration(now(), sla("contact"))</bpmn:timeDate>'


@pytest.mark.parametrize("timer", [
    '<bpmn:timeDate xsi:type="bpmn:tFormalExpression">PT10M</bpmn:timeDate>',
    '<bpmn:timeDuration xsi:type="bpmn:tFormalExpression">PT10M</bpmn:timeDuration>',
], ids=["timeDate", "timeDuration"])
def test_timer_with_an_unquoted_duration_is_422_naming_the_timer(client, auth, timer):
    source = read_process("consultation.bpmn").decode("utf-8")
    assert CONTACT_TIMER in source
    before = all_versions(client, auth)
    body = assert_refused(deploy(client, auth, source.replace(CONTACT_TIMER, timer).encode("utf-8"), "consultation.bpmn"),
                          "contact_overdue", "PT10M")
    assert body["element"] == "contact_overdue"
    assert all_versions(client, auth) == before


DISPATCH_SCRIPT = "handling_unit = dispatch_unit"  # consultation's dispatch_work_order postScript


@pytest.mark.parametrize("script", ["import os", "from os import system"])
def test_script_with_an_import_is_refused_at_deploy(client, auth, script):
    """processes/README.md: scripts run restricted, no imports; a deploy must refuse them up front."""
    source = read_process("consultation.bpmn").decode("utf-8")
    assert DISPATCH_SCRIPT in source
    before = all_versions(client, auth)
    evil = source.replace(DISPATCH_SCRIPT, f"{script}\n{DISPATCH_SCRIPT}").encode("utf-8")
    body = assert_refused(deploy(client, auth, evil, "consultation.bpmn"), "dispatch_work_order")
    assert body["element"] == "dispatch_work_order"
    assert all_versions(client, auth) == before


def test_script_reaching_dunder_attributes_is_refused_at_deploy(client, auth):
    source = read_process("consultation.bpmn").decode("utf-8")
    before = all_versions(client, auth)
    evil = source.replace(DISPATCH_SCRIPT, f"x = ().__class__.__mro__\n{DISPATCH_SCRIPT}")
    assert_refused(deploy(client, auth, evil.encode("utf-8"), "consultation.bpmn"), "dispatch_work_order")
    assert all_versions(client, auth) == before


def test_changed_diagram_becomes_version_2_and_running_cases_stay_on_version_1(client, auth):
    old = client.post(f"{API}/cases", json=start_body("assist", matter_code="GR-002"), headers=auth("gaohongxia"))
    assert old.status_code == 201 and old.get_json()["version"] == 1

    changed = read_process("assist.bpmn").replace("指导准备申报材料".encode(), "指导准备申报材料（修订）".encode(), 1)
    response = deploy(client, auth, changed, "assist.bpmn")
    assert response.status_code == 201, response.get_json()
    deployed = response.get_json()["processes"]
    assert [(p["process"], p["version"], p["unchanged"]) for p in deployed] == [("assist", 2, False)]
    assert latest(client, auth)["assist"] == 2
    assert ("assist", 1) in all_versions(client, auth)

    case = client.get(f"{API}/cases/{old.get_json()['id']}", headers=auth("gaohongxia")).get_json()
    assert case["version"] == 1
    assert case["tasks"][0]["title"] == "指导准备申报材料"
    new = client.post(f"{API}/cases", json=start_body("assist", matter_code="GR-002"), headers=auth("gaohongxia"))
    assert new.get_json()["version"] == 2
    assert new.get_json()["tasks"][0]["title"] == "指导准备申报材料（修订）"


def test_redeploying_an_unchanged_file_creates_no_new_version(client, auth):
    before = all_versions(client, auth)
    response = deploy(client, auth, read_process("assist.bpmn"), "assist.bpmn")
    assert response.status_code in (200, 201)
    assert [(p["process"], p["version"], p["unchanged"]) for p in response.get_json()["processes"]] == [("assist", 1, True)]
    assert all_versions(client, auth) == before


def test_post_without_a_file_field_is_refused_with_a_message(client, auth):
    before = all_versions(client, auth)
    for response in (
        client.post(f"{API}/processes", data={}, headers=auth(ADMIN), content_type="multipart/form-data"),
        client.post(f"{API}/processes", data={"other": (upload(b"<x/>", "a.bpmn")["file"])}, headers=auth(ADMIN),
                    content_type="multipart/form-data"),
        client.post(f"{API}/processes", json={"file": "<bpmn/>"}, headers=auth(ADMIN)),
    ):
        assert response.status_code in (400, 422)
        assert response.mimetype == "application/json"
        assert "file" in response.get_json()["message"]
    assert all_versions(client, auth) == before


def test_far_oversized_upload_is_413_json(client, auth, system):
    before = all_versions(client, auth)
    big = b"<a>" + b" " * (system.settings.max_upload_bytes + 256 * 1024) + b"</a>"
    response = deploy(client, auth, big, "big.bpmn")
    assert response.status_code == 413
    assert response.mimetype == "application/json"
    assert response.get_json()["message"]
    assert all_versions(client, auth) == before


def test_upload_just_over_the_limit_is_also_413(client, auth, system):
    """The OpenAPI document promises 413 for a file that is too large, whatever the margin."""
    before = all_versions(client, auth)
    big = b"<a>" + b" " * (system.settings.max_upload_bytes + 1) + b"</a>"
    response = deploy(client, auth, big, "big.bpmn")
    assert response.status_code == 413, response.get_json()
    assert response.mimetype == "application/json"
    assert all_versions(client, auth) == before


def test_a_version_1_case_keeps_running_after_version_2_is_deployed(client, auth):
    old = client.post(f"{API}/cases", json=start_body("assist", matter_code="GR-002"), headers=auth("gaohongxia")).get_json()
    changed = read_process("assist.bpmn").replace("陪同递交办理".encode(), "陪同递交（修订）".encode(), 1)
    assert deploy(client, auth, changed, "assist.bpmn").status_code == 201
    task = old["tasks"][0]
    response = client.post(f"{API}/tasks/{task['id']}/complete", headers=auth("gaohongxia"), json={"data": {
        "guidance": "请携带身份证和户口簿。", "materials_complete": True}})
    assert response.status_code == 200, response.get_json()
    case = client.get(f"{API}/cases/{old['id']}", headers=auth("gaohongxia")).get_json()
    assert case["version"] == 1
    assert [(t["name"], t["title"]) for t in case["tasks"]] == [("accompany_submission", "陪同递交办理")]


def test_changing_the_routing_decision_routes_new_cases_by_the_new_rule(client, auth):
    """R-1: routing is a DMN rule an administrator can change; the callers get new versions, old cases stay."""
    old = client.post(f"{API}/cases", json=start_body("assist", matter_code="GR-002"), headers=auth("gaohongxia")).get_json()
    dmn = read_process("handling_unit_routing.dmn").decode("utf-8")
    changed = dmn.replace("<text>responsible_unit</text>", '<text>unit_of_kind("approval_bureau")</text>')
    assert changed != dmn
    response = deploy(client, auth, changed.encode("utf-8"), "handling_unit_routing.dmn")
    assert response.status_code == 201, response.get_json()
    assert response.get_json()["decisions"][0]["version"] == 2
    assert {p["process"] for p in response.get_json()["processes"]} == {"assist", "proxy", "onsite"}
    assert {k: v for k, v in latest(client, auth).items() if v == 2} == {"assist": 2, "proxy": 2, "onsite": 2}

    new = client.post(f"{API}/cases", json=start_body("assist", matter_code="GR-002"), headers=auth("gaohongxia"))
    assert new.status_code == 201
    assert (new.get_json()["version"], new.get_json()["unit"]) == (2, "CA-SPJ")
    assert client.get(f"{API}/cases/{old['id']}", headers=auth("gaohongxia")).get_json()["unit"] == "CA-MZ"


@pytest.mark.parametrize(("find", "replace", "element"), [
    ('<spiffworkflow:property name="form" value="assist_track_approval"/>',
     '<spiffworkflow:property name="form" value="no_such_form"/>', "track_approval"),
    ('<bpmn:lane id="Lane_assistant" name="帮办员">', '<bpmn:lane id="Lane_assistant" name="门卫">', "guide_materials"),
    ("<bpmn:conditionExpression xsi:type=\"bpmn:tFormalExpression\">materials_complete == True</bpmn:conditionExpression>",
     "<bpmn:conditionExpression xsi:type=\"bpmn:tFormalExpression\">materials_complete ==</bpmn:conditionExpression>",
     "materials_gateway"),
    ("<spiffworkflow:parameter id=\"process\" type=\"str\" value=\"'callback'\"/>",
     "<spiffworkflow:parameter id=\"process\" type=\"str\" value=\"__import__('os')\"/>", "start_callback"),
], ids=["missing-form", "lane-not-a-role", "condition-syntax", "dunder-parameter"])
def test_diagram_that_cannot_run_here_is_refused_naming_the_element(client, auth, find, replace, element):
    source = read_process("assist.bpmn").decode("utf-8")
    assert find in source
    before = all_versions(client, auth)
    body = assert_refused(deploy(client, auth, source.replace(find, replace, 1).encode("utf-8"), "assist.bpmn"), element)
    assert element in {p["element"] for p in body["problems"]}
    assert all_versions(client, auth) == before


@pytest.mark.parametrize(("name", "encoding"), [("assist.bpmn", "GB18030"), ("handling_unit_routing.dmn", "GB18030")])
def test_a_diagram_saved_in_a_chinese_legacy_encoding_is_deployed_or_refused_never_a_500(client, auth, name, encoding):
    """Modelers on Chinese Windows save GB18030 with an encoding declaration; the XML is well formed."""
    source = read_process(name).decode("utf-8")
    source = source.replace('encoding="UTF-8"', f'encoding="{encoding}"') if 'encoding="UTF-8"' in source else \
        f'<?xml version="1.0" encoding="{encoding}"?>\n' + source
    source = source.replace("确定承办单位", "确定承办单位（修订）", 1)
    before = all_versions(client, auth)
    response = deploy(client, auth, source.encode(encoding.lower()), name)
    assert response.status_code in (201, 422), response.get_data(as_text=True)
    assert response.mimetype == "application/json" and response.get_json()
    if response.status_code == 422:
        assert response.get_json()["message"]
        assert all_versions(client, auth) == before


ENTERPRISE_ENTRY = '<text>"enterprise"</text>'
PERSONAL_OUTPUT = "<text>responsible_unit</text>"


@pytest.mark.parametrize(("find", "replace"), [
    (ENTERPRISE_ENTRY, "<text>(</text>"),
    (PERSONAL_OUTPUT, "<text>responsible_unit +</text>"),
    (PERSONAL_OUTPUT, "<text>__import__('os').getcwd()</text>"),
], ids=["input-syntax", "output-syntax", "output-dunder"])
def test_a_routing_decision_with_a_broken_expression_is_refused_at_deploy(client, auth, find, replace):
    """R-1 routing is a rule an administrator can change; a rule that cannot run must not go live,
    or every new assist, proxy and onsite case fails at route_matter."""
    dmn = read_process("handling_unit_routing.dmn").decode("utf-8")
    assert find in dmn
    before = all_versions(client, auth)
    response = deploy(client, auth, dmn.replace(find, replace, 1).encode("utf-8"), "handling_unit_routing.dmn")
    assert_refused(response)
    assert all_versions(client, auth) == before
    started = client.post(f"{API}/cases", json=start_body("assist", matter_code="GR-002"), headers=auth("gaohongxia"))
    assert started.status_code == 201, started.get_json()
    assert started.get_json()["unit"] == "CA-MZ"


def test_the_api_refuses_what_the_modeler_refuses_naming_every_element(client, auth):
    """Process administrators deploy through the modeler or a script; the rules are the same: an
    unknown requirement ID and a lane that is no role are refused, each with its element, and nothing
    is stored."""
    source = read_process("assist.bpmn").decode("utf-8")
    broken = (source.replace("R-9.1.5 帮办服务结束", "R-99.3 帮办服务结束", 1)
              .replace('<bpmn:lane id="Lane_assistant" name="帮办员">', '<bpmn:lane id="Lane_assistant" name="门卫">', 1))
    before = all_versions(client, auth)
    body = assert_refused(deploy(client, auth, broken.encode("utf-8"), "assist.bpmn"), "R-99.3")
    errors = {p["element"] for p in body["problems"] if p["severity"] == "error"}
    assert {"assist_completed", "guide_materials"} <= errors, body
    assert all_versions(client, auth) == before


def test_a_deploy_through_the_api_reports_the_validation_warnings(client, auth):
    """An element that cites no requirement ID does not stop a deploy, but the administrator is told,
    in the same words as POST /processes/validate."""
    changed = read_process("assist.bpmn").replace("R-9.1.5 帮办服务结束".encode("utf-8"), "帮办服务结束".encode("utf-8"), 1)
    response = deploy(client, auth, changed, "assist.bpmn")
    assert response.status_code == 201, response.get_data(as_text=True)
    body = response.get_json()
    assert body["processes"][0]["version"] == 2
    assert [p["element"] for p in body["warnings"]] == ["assist_completed"]
    validated = client.post(f"{API}/processes/validate", data=changed, content_type="application/xml",
                            headers=auth(ADMIN)).get_json()
    assert body["warnings"] == validated["problems"]
