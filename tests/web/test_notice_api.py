"""一次性告知 from the catalog over the API (R-5.4, R-9.1.3.3, R-9.1.1.2): the task's form carries the case's
choices, a material the matter's notice does not list is a 422 on the field, and the notice given is kept
with the case."""

from __future__ import annotations

import json

from webhelpers import API, complete, get_case, ready_task, start

from bdd_workflow.config import PROJECT_ROOT

CATALOG = json.loads((PROJECT_ROOT / "bdd_workflow" / "demo" / "catalog.json").read_text(encoding="utf-8"))
LOW_INCOME = next(m for m in CATALOG["matters"] if m["code"] == "GR-002")


def _at_missing_materials(client, auth):
    case = start(client, auth, "gaohongxia", "assist", matter_code="GR-002")
    response = complete(client, auth, ready_task(case, "guide_materials"),
                        {"guidance": "请准备材料。", "materials_complete": False}, user="gaohongxia")
    assert response.status_code == 200, response.get_json()
    case = get_case(client, auth, case["id"])
    return case, ready_task(case, "list_missing_materials")


def _given(case: dict, element: str) -> dict:
    [event] = [h for h in case["history"] if h["action"] == "task_completed" and h["element"] == element]
    return event["detail"]["data"]["one_time_notice"]


def test_r_5_4_the_task_s_form_in_the_api_carries_the_matter_s_materials(client, auth):
    _, task = _at_missing_materials(client, auth)
    detail = client.get(f"{API}/tasks/{task['id']}", headers=auth("gaohongxia")).get_json()
    field = detail["form"]["properties"]["missing_materials"]
    assert field["x-options-from"] == "matter_materials" and field["uniqueItems"] is True
    assert [(o["const"], o["description"]) for o in field["items"]["oneOf"]] == [
        (m["name"], m["how_to_obtain"]) for m in LOW_INCOME["notice"]["materials"]]


def test_r_9_1_3_3_a_material_not_in_the_notice_is_422_on_the_field_and_changes_nothing(client, auth):
    case, task = _at_missing_materials(client, auth)
    response = complete(client, auth, task, {"missing_materials": ["最低生活保障申请书", "营业执照"],
                                             "convert_to_proxy": False}, user="gaohongxia")
    assert response.status_code == 422
    assert response.get_json()["errors"] == {"missing_materials": ["“营业执照”不在本事项一次性告知的材料清单中，请从清单中勾选。"]}
    after = get_case(client, auth, case["id"])
    assert [t["name"] for t in after["tasks"]] == ["list_missing_materials"]
    assert len(after["history"]) == len(case["history"])


def test_r_9_1_3_3_several_materials_give_a_notice_listing_each_with_how_to_obtain_it(client, auth):
    case, task = _at_missing_materials(client, auth)
    chosen = ["最低生活保障申请书", "残疾、重病等特殊情况证明"]
    response = complete(client, auth, task, {"missing_materials": chosen, "convert_to_proxy": False}, user="gaohongxia")
    assert response.status_code == 200, response.get_json()
    notice = _given(get_case(client, auth, case["id"]), "list_missing_materials")
    how = {m["name"]: m["how_to_obtain"] for m in LOW_INCOME["notice"]["materials"]}
    assert [(m["name"], m["how_to_obtain"]) for m in notice["materials"]] == [(n, how[n]) for n in chosen]
    assert notice["window"] == LOW_INCOME["window"] and notice["cautions"] == LOW_INCOME["notice"]["cautions"]


def test_r_9_1_1_2_a_consultation_naming_a_matter_gets_the_catalog_notice(client, auth):
    case = start(client, auth, "zhaolina", "consultation", channel="phone", question="低保怎么申请？")
    assert complete(client, auth, ready_task(case, "record_consultation"),
                    {"question": "低保怎么申请？", "related_matter": "GR-002", "answerable": True},
                    user="zhaolina").status_code == 200
    task = ready_task(get_case(client, auth, case["id"]), "give_one_time_notice")
    detail = client.get(f"{API}/tasks/{task['id']}", headers=auth("zhaolina")).get_json()
    assert "notice_text" not in detail["form"]["properties"]
    assert detail["notice"]["materials"] == LOW_INCOME["notice"]["materials"]
    typed = complete(client, auth, task, {"notice_text": "请带户口簿。", "notice_complete": True, "result": "已告知"},
                     user="zhaolina")
    assert typed.status_code == 422 and list(typed.get_json()["errors"]) == ["notice_text"]
    assert complete(client, auth, task, {"notice_complete": True, "result": "已告知"}, user="zhaolina").status_code == 200
    after = get_case(client, auth, case["id"])
    assert after["status"] == "completed" and after["matter_code"] == "GR-002"
    notice = _given(after, "give_one_time_notice")
    assert [m["name"] for m in notice["materials"]] == [m["name"] for m in LOW_INCOME["notice"]["materials"]]
