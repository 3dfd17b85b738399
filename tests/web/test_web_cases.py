"""Starting cases over the API: what a valid request gives back, and each way a request is refused."""

from __future__ import annotations

import pytest
from webhelpers import API, start_body


def case_count(client, auth) -> int:
    response = client.get(f"{API}/cases", headers=auth("zhangwei"))
    assert response.status_code == 200
    return response.get_json()["total"]


def test_assistant_starts_an_assist_case_and_gets_the_whole_case_back(client, auth):
    """R-9.1.2: an assist application is recorded; R-1: a personal matter goes to its department."""
    response = client.post(f"{API}/cases", json=start_body("assist", matter_code="GR-002"), headers=auth("gaohongxia"))
    assert response.status_code == 201, response.get_json()
    case = response.get_json()
    assert response.headers["Location"].endswith(f"/api/v1/cases/{case['id']}")
    assert isinstance(case["id"], int)
    assert case["number"].startswith("BB")
    assert (case["process"], case["version"], case["status"]) == ("assist", 1, "running")
    assert case["unit"] == "CA-MZ" and case["matter_code"] == "GR-002"
    assert [t["name"] for t in case["tasks"]] == ["guide_materials"]
    task = case["tasks"][0]
    assert (task["role"], task["unit"], task["status"], task["form"]) == ("assistant", "CA-MZ", "ready", "assist_guide_materials")
    # the promised deadline from registration on the whole handling, and its two further escalations (R-4.a)
    assert [(t["task"], t["attached_to"]) for t in case["timers"]] == [
        ("deadline_overdue", "handle_case"), ("deadline_overdue_county", "handle_case"),
        ("deadline_overdue_office", "handle_case")]
    assert [h["action"] for h in case["history"]] == ["case_started"]
    assert case["history"][0]["actor"] == "gaohongxia" and case["history"][0]["at"]
    assert case["linked_cases"] == []
    assert case["started_at"].endswith("+08:00")
    # the case reads back the same
    again = client.get(f"{API}/cases/{case['id']}", headers=auth("gaohongxia")).get_json()
    assert again["number"] == case["number"] and again["tasks"] == case["tasks"]


def test_enterprise_matter_is_routed_to_the_approval_bureau(client, auth):
    """R-1: 涉企事项由行政审批局负责."""
    response = client.post(f"{API}/cases", json=start_body("assist", matter_code="QY-001", applicant_type="enterprise"),
                           headers=auth("lijianhua"))
    assert response.status_code == 201
    assert response.get_json()["unit"] == "CA-SPJ"
    assert response.get_json()["tasks"][0]["unit"] == "CA-SPJ"


def test_unknown_process_is_404_with_a_message(client, auth):
    before = case_count(client, auth)
    response = client.post(f"{API}/cases", json=start_body("no_such_process", matter_code="GR-002"),
                           headers=auth("gaohongxia"))
    assert response.status_code == 404
    assert "no_such_process" in response.get_json()["message"]
    assert case_count(client, auth) == before


def test_missing_applicant_name_is_422_naming_the_field(client, auth):
    body = start_body("assist", matter_code="GR-002")
    del body["data"]["applicant_name"]
    response = client.post(f"{API}/cases", json=body, headers=auth("gaohongxia"))
    assert response.status_code == 422
    assert response.get_json()["errors"]["data.applicant_name"]


@pytest.mark.parametrize("phone", ["12345", "138123456789", "phone", "1381234567a", ""])
def test_bad_phone_is_422_naming_the_field(client, auth, phone):
    before = case_count(client, auth)
    response = client.post(f"{API}/cases", json=start_body("assist", matter_code="GR-002", applicant_phone=phone),
                           headers=auth("gaohongxia"))
    assert response.status_code == 422
    assert response.get_json()["errors"]["data.applicant_phone"]
    assert case_count(client, auth) == before


@pytest.mark.parametrize("phone", ["13812345678", "0310-7521234", "7521234"])
def test_mobile_and_landline_numbers_are_accepted(client, auth, phone):
    response = client.post(f"{API}/cases", json=start_body("assist", matter_code="GR-002", applicant_phone=phone),
                           headers=auth("gaohongxia"))
    assert response.status_code == 201, response.get_json()


def test_unknown_field_is_422(client, auth):
    inner = client.post(f"{API}/cases", json=start_body("assist", matter_code="GR-002", favourite_colour="red"),
                        headers=auth("gaohongxia"))
    assert inner.status_code == 422
    assert inner.get_json()["errors"] == {"favourite_colour": ["“帮办服务”不收这个字段。"]}
    # an address belongs to onsite's start form, not to an assist start
    misplaced = client.post(f"{API}/cases", json=start_body("assist", matter_code="GR-002", address="成安镇北关村 3 号"),
                            headers=auth("gaohongxia"))
    assert misplaced.status_code == 422 and misplaced.get_json()["errors"] == {"address": ["“帮办服务”不收这个字段。"]}
    outer = client.post(f"{API}/cases", json={**start_body("assist", matter_code="GR-002"), "priority": 1},
                        headers=auth("gaohongxia"))
    assert outer.status_code == 422
    assert "priority" in outer.get_json()["errors"]


def test_matter_that_does_not_offer_the_service_is_422_on_matter_code(client, auth):
    """R-5.3: GR-008 (身份证换领) offers assist and onsite, not proxy."""
    before = case_count(client, auth)
    response = client.post(f"{API}/cases", json=start_body("proxy", matter_code="GR-008"), headers=auth("tianzhenhua"))
    assert response.status_code == 422
    assert "代办" in response.get_json()["errors"]["matter_code"][0]
    assert case_count(client, auth) == before


@pytest.mark.parametrize("matter", [None, "XX-999"])
def test_service_case_without_a_known_matter_is_422_on_matter_code(client, auth, matter):
    data = {} if matter is None else {"matter_code": matter}
    response = client.post(f"{API}/cases", json=start_body("assist", **data), headers=auth("gaohongxia"))
    assert response.status_code == 422
    assert response.get_json()["errors"]["matter_code"]


@pytest.mark.parametrize("address", [None, "", "   "])
def test_onsite_without_an_address_is_422(client, auth, address):
    """R-9.3: 上门办 needs the address to visit."""
    data = {"matter_code": "GR-002"} | ({} if address is None else {"address": address})
    response = client.post(f"{API}/cases", json=start_body("onsite", **data), headers=auth("gaohongxia"))
    assert response.status_code == 422
    assert response.get_json()["errors"] == {"address": ["上门办需要填写上门地址。"]}


def test_a_field_the_start_form_declares_goes_into_the_case_and_is_checked_by_the_form(client, auth, desk):
    """R-9.3.1: an administrator adds a field to the onsite start form; the API takes it, typed by the form."""
    desk.add_field("onsite_apply", "floor", {"type": "integer", "title": "楼层", "minimum": 1})
    body = start_body("onsite", matter_code="GR-002", address="成安镇北关村 3 号", floor=0)
    before = case_count(client, auth)
    response = client.post(f"{API}/cases", json=body, headers=auth("gaohongxia"))
    assert response.status_code == 422 and response.get_json()["errors"] == {"floor": ["不能小于 1。"]}
    assert case_count(client, auth) == before
    response = client.post(f"{API}/cases", json=body | {"data": body["data"] | {"floor": 2}}, headers=auth("gaohongxia"))
    assert response.status_code == 201
    assert response.get_json()["history"][0]["detail"]["data"]["floor"] == 2


@pytest.mark.parametrize(("user", "process", "matter"), [
    ("zhaolina", "proxy", "GR-002"),      # consultant may not start a proxy case
    ("yangfan", "assist", "QY-001"),      # proxy agent may not start an assist case
    ("lijianhua", "consultation", None),  # assistant may not record a consultation
    ("wangxiuying", "assist", "GR-002"),  # supervisor
])
def test_role_not_allowed_to_start_the_process_is_403(client, auth, user, process, matter):
    before = case_count(client, auth)
    data = {"matter_code": matter} if matter else {}
    response = client.post(f"{API}/cases", json=start_body(process, **data), headers=auth(user))
    assert response.status_code == 403
    assert response.get_json()["message"]
    assert case_count(client, auth) == before


@pytest.mark.parametrize(("data", "content_type"), [
    ("not json", "application/json"),
    ("process=assist", "application/x-www-form-urlencoded"),
    ('{"process": "assist", ', "application/json"),
    ("", "application/json"),
])
def test_body_that_is_not_json_is_refused_with_a_message(client, auth, data, content_type):
    response = client.post(f"{API}/cases", data=data, content_type=content_type, headers=auth("gaohongxia"))
    assert response.status_code in (400, 415, 422)
    assert response.mimetype == "application/json"
    assert "JSON" in response.get_json()["message"]


@pytest.mark.parametrize("payload", [[1, 2], "assist", 42, {"process": "assist", "data": "x"}, {"process": "assist"}])
def test_json_of_the_wrong_shape_is_422(client, auth, payload):
    response = client.post(f"{API}/cases", json=payload, headers=auth("gaohongxia"))
    assert response.status_code == 422
    assert response.get_json()["errors"]


def test_consultant_records_a_consultation_without_a_matter(client, auth):
    response = client.post(f"{API}/cases", json=start_body("consultation", channel="phone", question="低保怎么申请？"),
                           headers=auth("zhaolina"))
    assert response.status_code == 201, response.get_json()
    case = response.get_json()
    assert case["number"].startswith("ZX")
    assert [(t["name"], t["role"], t["unit"]) for t in case["tasks"]] == [("record_consultation", "consultant", "CA-ZX")]


def test_case_list_pages_and_filters(client, auth):
    for _ in range(3):
        assert client.post(f"{API}/cases", json=start_body("assist", matter_code="GR-002"),
                           headers=auth("gaohongxia")).status_code == 201
    page = client.get(f"{API}/cases?process=assist&per_page=2", headers=auth("gaohongxia")).get_json()
    assert page["total"] == 3 and len(page["items"]) == 2 and page["per_page"] == 2
    assert client.get(f"{API}/cases?process=proxy", headers=auth("gaohongxia")).get_json()["total"] == 0
    assert client.get(f"{API}/cases?per_page=0", headers=auth("gaohongxia")).status_code == 422
    assert client.get(f"{API}/cases?colour=red", headers=auth("gaohongxia")).status_code == 422


def test_unknown_case_is_404(client, auth):
    response = client.get(f"{API}/cases/999999", headers=auth("zhangwei"))
    assert response.status_code == 404
    assert response.get_json()["message"]


def test_a_consultation_the_county_chief_officer_records_reaches_the_consultation_centre(client, auth):
    """R-6.4.1 lets the chief officer start any case (starter_roles include chief_officer); R-9.1.1.1 has
    the consultation centre record it. The first task must be one a consultant can actually do."""
    response = client.post(f"{API}/cases", json=start_body("consultation", channel="phone", question="低保怎么申请？"),
                           headers=auth("zhangwei"))
    assert response.status_code == 201
    task = response.get_json()["tasks"][0]
    assert (task["name"], task["role"]) == ("record_consultation", "consultant")
    assert task["unit"] == "CA-ZX"
    done = client.post(f"{API}/tasks/{task['id']}/complete", headers=auth("zhaolina"),
                       json={"data": {"question": "低保怎么申请？", "answerable": True}})
    assert done.status_code == 200, done.get_json()
