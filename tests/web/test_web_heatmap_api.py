"""The API for the heatmap and for migrating a suspended case (issue 5 items 4 and 7)."""

from __future__ import annotations


from bdd_workflow.services import case_admin, definitions
from bdd_workflow.services.identity import SYSTEM


def test_heatmap_over_the_api(client, auth, desk):
    case = desk.start("assist", by="gaohongxia", matter_code="GR-002")
    desk.do(case["id"], "guide_materials", {"guidance": "您好，请按一次性告知单准备材料。", "materials_complete": True})
    response = client.get("/api/v1/processes/assist/heatmap", headers=auth("zhangwei"))
    assert response.status_code == 200
    data = response.get_json()
    guide = {e["id"]: e for e in data["elements"]}["guide_materials"]
    assert guide["count"] == 1 and guide["median_seconds"] is not None
    assert {e["id"]: e for e in data["elements"]}["accompany_submission"]["active_now"] == {"tasks": 1, "timers": 0}
    assert data["version"] == 1 and "xml" not in data

    bad = client.get("/api/v1/processes/assist/heatmap?start=2026-03-09&end=2026-03-01", headers=auth("zhangwei"))
    assert bad.status_code == 422 and bad.get_json()["errors"]["to"]
    assert client.get("/api/v1/processes/assist/heatmap?version=0", headers=auth("zhangwei")).status_code == 422
    assert client.get("/api/v1/processes/assist/heatmap?colour=red", headers=auth("zhangwei")).status_code == 422
    assert client.get("/api/v1/processes/nosuch/heatmap", headers=auth("zhangwei")).status_code == 404
    assert client.get("/api/v1/processes/assist/heatmap", headers=auth("gaohongxia")).status_code == 403
    assert client.get("/api/v1/processes/assist/heatmap").status_code == 401


def test_migrate_over_the_api(client, auth, desk, system, migration_variants):
    case = desk.start("assist", by="gaohongxia", matter_code="GR-002")
    case_admin.suspend_case(system, desk.actor("zhangwei"), case["id"], "等待新版流程上线")
    definitions.deploy(system, SYSTEM, migration_variants.assist_with_review_step().encode("utf-8"), "assist.bpmn")
    url = f"/api/v1/cases/{case['id']}/migrate"
    assert client.post(url, json={"version": 2, "reason": "帮办员想迁移"}, headers=auth("gaohongxia")).status_code == 403
    assert client.post(url, json={"version": 2}, headers=auth("zhangwei")).status_code == 422
    not_newer = client.post(url, json={"version": 1, "reason": "迁移到旧版本"}, headers=auth("zhangwei"))
    assert not_newer.status_code == 422 and "不比" in not_newer.get_json()["errors"]["version"][0]
    other = client.post(url, json={"version": 2, "reason": "迁移到别的流程", "process": "proxy"}, headers=auth("zhangwei"))
    assert other.status_code == 422 and "proxy" in other.get_json()["errors"]["process"][0]
    moved = client.post(url, json={"version": 2, "reason": "新增复核环节"}, headers=auth("zhangwei"))
    assert moved.status_code == 200, moved.get_json()
    body = moved.get_json()
    assert (body["from_version"], body["version"], body["status"]) == (1, 2, "suspended")
    assert client.get(f"/api/v1/cases/{case['id']}", headers=auth("zhangwei")).get_json()["version"] == 2


def test_a_refused_migration_is_a_409_naming_the_element(client, auth, desk, system, migration_variants):
    case = desk.start("assist", by="gaohongxia", matter_code="GR-002")
    case_admin.suspend_case(system, desk.actor("zhangwei"), case["id"], "等待新版流程上线")
    definitions.deploy(system, SYSTEM, migration_variants.assist_without_guidance().encode("utf-8"), "assist.bpmn")
    refused = client.post(f"/api/v1/cases/{case['id']}/migrate", json={"version": 2, "reason": "删除指导环节"},
                          headers=auth("chenguodong"))
    assert refused.status_code == 409 and "guide_materials" in refused.get_json()["message"]


def test_the_openapi_document_describes_both(client):
    paths = client.get("/api/v1/openapi.json").get_json()["paths"]
    assert "get" in paths["/processes/{process_id}/heatmap"]
    assert "409" in paths["/cases/{case_id}/migrate"]["post"]["responses"]
