"""The API of peak alerts and moving several tasks at once (R-7.1.1), and the to-reassign list (R-9.1.1.2):
GET /api/v1/alerts, POST /api/v1/tasks/reassign, and both in the OpenAPI document."""

from __future__ import annotations

from bdd_workflow.services import registry

from webhelpers import API, ready_task, start


def _village_pile(client, auth, system, desk, n: int = 4) -> list[str]:
    """东关社区 with its own threshold of 2 open tasks per active staff member, and ``n`` open tasks."""
    registry.update_unit(system, desk.actor("chenguodong"), "CA-T01-V01",
                         {"name": "东关社区综合服务站", "phone": "", "address": "", "peak_load": "2", "peak_overdue": ""})
    return [ready_task(start(client, auth, "luxuemei", "assist", matter_code="GR-007"), "guide_materials")["id"]
            for _ in range(n)]


def test_r_7_1_1_alerts_name_the_unit_with_its_figures_and_clear_after_a_bulk_move(client, auth, system, desk):
    ids = _village_pile(client, auth, system, desk)
    response = client.get(f"{API}/alerts", headers=auth("wangjianjun"))
    assert response.status_code == 200
    report = response.get_json()
    assert [(a["unit"], a["open"], a["active_staff"], a["load"], a["overdue"], a["threshold_load"], a["overloaded"])
            for a in report["items"]] == [("CA-T01-V01", 4, 2, 2.0, 0, 2, True)]
    assert report["default_load"] == 10 and report["default_overdue"] == 5
    assert report["to_reassign"] == [] and report["to_reassign_total"] == 0
    assert client.get(f"{API}/alerts", headers=auth("liuhongtao")).get_json()["items"] == []

    moved = client.post(f"{API}/tasks/reassign", json={"task_ids": ids[:2], "assignee": "lina"},
                        headers=auth("wangjianjun"))
    assert moved.status_code == 200, moved.get_json()
    body = moved.get_json()
    assert body["count"] == 2 and body["assignee_name"] == "李娜"
    assert {(t["unit"], t["assignee"]) for t in body["tasks"]} == {("CA-T01", "lina")}
    assert client.get(f"{API}/alerts", headers=auth("wangjianjun")).get_json()["items"] == []


def test_r_7_1_1_a_bulk_move_that_cannot_all_move_is_a_422_with_every_reason(client, auth, system, desk):
    ids = _village_pile(client, auth, system, desk, n=2)
    proxy = start(client, auth, "zhaoyanling", "proxy", matter_code="GR-007")["tasks"][0]["id"]
    refused = client.post(f"{API}/tasks/reassign", json={"task_ids": [*ids, proxy, "no-such-task"], "assignee": "lina"},
                          headers=auth("wangjianjun"))
    assert refused.status_code == 422
    reasons = refused.get_json()["errors"]["task_ids"]
    assert len(reasons) == 2 and "须由代办员办理" in reasons[0] and "no-such-task" in reasons[1]
    assert "未改派任何任务" in refused.get_json()["message"]
    for task_id in ids:
        task = client.get(f"{API}/tasks/{task_id}", headers=auth("luxuemei")).get_json()
        assert (task["unit"], task["assignee"]) == ("CA-T01-V01", None)
    assert client.post(f"{API}/tasks/reassign", json={"task_ids": ids, "assignee": "lina"},
                       headers=auth("luxuemei")).status_code == 403
    assert client.post(f"{API}/tasks/reassign", json={"task_ids": [], "assignee": "lina"},
                       headers=auth("wangjianjun")).status_code == 422
    assert client.get(f"{API}/alerts", headers=auth("luxuemei")).status_code == 403


def test_r_9_1_1_2_the_alerts_carry_a_leaver_s_task_with_who_may_take_it(client, auth, system, desk):
    task_id = ready_task(start(client, auth, "luxuemei", "assist", matter_code="GR-007"), "guide_materials")["id"]
    assert client.post(f"{API}/tasks/{task_id}/claim", headers=auth("luxuemei")).status_code == 200
    registry.set_staff_active(system, desk.actor("chenguodong"), "luxuemei", False, "调离")
    report = client.get(f"{API}/alerts", headers=auth("wangjianjun")).get_json()
    assert [(t["id"], t["assignee"], t["assignee_state"]) for t in report["to_reassign"]] == [(task_id, "luxuemei", "已停用")]
    assert [c["username"] for c in report["to_reassign"][0]["candidates"]] == ["lina"]
    assert client.post(f"{API}/tasks/reassign", json={"task_ids": [task_id], "assignee": "lina"},
                       headers=auth("wangjianjun")).status_code == 200
    assert client.get(f"{API}/alerts", headers=auth("wangjianjun")).get_json()["to_reassign_total"] == 0


def test_the_openapi_document_describes_alerts_and_the_bulk_move(client):
    doc = client.get(f"{API}/openapi.json").get_json()
    paths = doc["paths"]
    assert {"200", "401", "403"} <= set(paths["/alerts"]["get"]["responses"])
    bulk = paths["/tasks/reassign"]["post"]
    assert {"200", "401", "403", "409", "422"} <= set(bulk["responses"])
    assert bulk["requestBody"]["content"]["application/json"]["schema"]["$ref"].endswith("/ReassignTasksRequest")
    request = doc["components"]["schemas"]["ReassignTasksRequest"]
    assert set(request["required"]) == {"task_ids", "assignee"}
    alert = doc["components"]["schemas"]["PeakAlert"]["properties"]
    assert {"open", "active_staff", "load", "overdue", "threshold_load", "threshold_overdue"} <= set(alert)
