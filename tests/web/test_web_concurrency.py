"""DESIGN.md, State: two people completing the same task at once give one success and one clear
conflict, never a lost update or a double step."""

from __future__ import annotations

import threading
from datetime import datetime, timedelta, timezone

import time_machine
from webhelpers import API, data_for, get_case, ready_task, start

from bdd_workflow.services.timers import fire_due_timers


def race(app, requests: list[tuple[str, dict, dict]]) -> list:
    """Send the requests from separate threads (one test client each), released together."""
    barrier = threading.Barrier(len(requests))
    results: list = [None] * len(requests)

    def send(index: int, url: str, payload: dict, headers: dict) -> None:
        client = app.test_client()
        barrier.wait()
        results[index] = client.post(url, json=payload, headers=headers)

    threads = [threading.Thread(target=send, args=(i, *r)) for i, r in enumerate(requests)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join(timeout=60)
    assert all(r is not None for r in results)
    return results


def test_two_assistants_completing_the_same_task_at_once(app, client, auth):
    case = start(client, auth, "lijianhua", "assist", matter_code="QY-002", applicant_type="enterprise")
    task = ready_task(case, "guide_materials")
    url = f"{API}/tasks/{task['id']}/complete"
    first = data_for(task, guidance="第一位帮办员的指导")
    second = data_for(task, guidance="第二位帮办员的指导", materials_complete=False)
    results = race(app, [(url, {"data": first}, auth("lijianhua")), (url, {"data": second}, auth("guomin"))])

    statuses = sorted(r.status_code for r in results)
    assert statuses == [200, 409], [r.get_json() for r in results]
    loser = next(r for r in results if r.status_code == 409)
    assert loser.mimetype == "application/json" and loser.get_json()["message"]

    after = get_case(client, auth, case["id"])
    completed = [h for h in after["history"] if h["action"] == "task_completed" and h["element"] == "guide_materials"]
    assert len(completed) == 1
    winner = 0 if results[0].status_code == 200 else 1
    expected_next = "accompany_submission" if winner == 0 else "list_missing_materials"
    assert [t["name"] for t in after["tasks"]] == [expected_next]
    assert completed[0]["actor"] == ("lijianhua", "guomin")[winner]


def test_the_same_user_double_submitting_from_two_tabs(app, client, auth):
    case = start(client, auth, "gaohongxia", "assist", matter_code="GR-002")
    task = ready_task(case, "guide_materials")
    url = f"{API}/tasks/{task['id']}/complete"
    payload = {"data": data_for(task)}
    results = race(app, [(url, payload, auth("gaohongxia"))] * 3)
    assert sorted(r.status_code for r in results) == [200, 409, 409]
    after = get_case(client, auth, case["id"])
    assert [h["element"] for h in after["history"] if h["action"] == "task_completed"] == ["guide_materials"]
    assert [t["name"] for t in after["tasks"]] == ["accompany_submission"]
    ledger = client.get(f"{API}/ledger?case_number={case['number']}", headers=auth("zhangwei")).get_json()
    assert sorted(e["step"] for e in ledger["items"]) == ["guide_materials", "opened"]


def test_two_claims_at_once_leave_one_assignee(app, client, auth):
    case = start(client, auth, "lijianhua", "assist", matter_code="QY-001", applicant_type="enterprise")
    task = ready_task(case, "guide_materials")
    url = f"{API}/tasks/{task['id']}/claim"
    results = race(app, [(url, {}, auth("lijianhua")), (url, {}, auth("guomin"))])
    assert sorted(r.status_code for r in results) == [200, 409]
    winner = next(r for r in results if r.status_code == 200).get_json()["assignee"]
    assert ready_task(get_case(client, auth, case["id"]), "guide_materials")["assignee"] == winner


def test_the_task_and_its_escalation_completed_at_once_lose_nothing(app, client, auth, system):
    """R-9.3.2.2: past the promised deadline an escalation goes to the chief officer while the assistant's
    task stays open; both done at the same moment must both count, or one must get a clear 409."""
    system.settings.token_ttl_seconds = 365 * 86400  # the tokens must outlive the weeks we travel
    start_at = datetime(2025, 6, 3, 9, 0, tzinfo=timezone(timedelta(hours=8)))  # a Tuesday
    with time_machine.travel(start_at, tick=False) as traveller:
        case = start(client, auth, "gaohongxia", "onsite", matter_code="GR-002", address="成安镇北关村 3 号")
        visit = ready_task(case, "visit_applicant")
        assert client.post(f"{API}/tasks/{visit['id']}/complete", headers=auth("gaohongxia"), json={
            "data": data_for(visit, materials_complete=False, fixable_on_site=False)}).status_code == 200
        accept = ready_task(get_case(client, auth, case["id"]), "accept_with_deficiencies")
        assert client.post(f"{API}/tasks/{accept['id']}/complete", headers=auth("gaohongxia"),
                           json={"data": data_for(accept)}).status_code == 200
        deadline = ready_task(get_case(client, auth, case["id"]), "complete_within_deadline")
        traveller.move_to(datetime.fromisoformat(deadline["due_at"]) + timedelta(minutes=1))
        assert fire_due_timers(system) == 1  # what the scheduler does

        case = get_case(client, auth, case["id"])
        assert case["breaches"] == 1
        escalate = ready_task(case, "escalate_deadline_breach")
        assert escalate["role"] == "chief_officer"
        results = race(app, [
            (f"{API}/tasks/{deadline['id']}/complete", {"data": data_for(deadline)}, auth("gaohongxia")),
            (f"{API}/tasks/{escalate['id']}/complete", {"data": data_for(escalate)}, auth("zhangwei")),
        ])

        assert all(r.status_code in (200, 409) for r in results), [r.get_json() for r in results]
        assert 200 in [r.status_code for r in results]
        case = get_case(client, auth, case["id"])
        done = [h["element"] for h in case["history"] if h["action"] == "task_completed"]
        ready = {t["name"] for t in case["tasks"]}
        for name, result in zip(("complete_within_deadline", "escalate_deadline_breach"), results):
            if result.status_code == 200:
                assert done.count(name) == 1, done
                assert name not in ready
            else:
                assert name not in done and name in ready
        if results[0].status_code == 200:
            assert "hand_over_results" in ready
