"""Each procedure run end to end over the API only, each task done by a staff member of the role and
unit the task names; service cases end with a callback for the consultation centre (R-10.1)."""

from __future__ import annotations

from datetime import datetime, timedelta, timezone
from typing import Any

import pytest
import time_machine
from webhelpers import API, complete, data_for, get_case, staff_of, start

from bdd_workflow.services.timers import fire_due_timers


def run_to_completion(client, auth, case: dict[str, Any], choices: dict[str, dict[str, Any]] | None = None,
                      max_steps: int = 15, stop_at: str | None = None) -> tuple[dict[str, Any], list[tuple[str, str]]]:
    """Do the ready task until the case completes (or ``stop_at`` is ready); returns the case and
    [(task, who did it)]."""
    choices = choices or {}
    done: list[tuple[str, str]] = []
    for _ in range(max_steps):
        case = get_case(client, auth, case["id"])
        if case["status"] == "completed" or stop_at in {t["name"] for t in case["tasks"]}:
            return case, done
        assert case["tasks"], f"case {case['number']} is {case['status']} with no ready task"
        task = case["tasks"][0]
        user = staff_of(task["role"], task["unit"])
        detail = client.get(f"{API}/tasks/{task['id']}", headers=auth(user))
        assert detail.status_code == 200, (user, detail.get_json())
        assert detail.get_json()["form"]["properties"]
        response = complete(client, auth, task, data_for(task, **choices.get(task["name"], {})), user=user)
        assert response.status_code == 200, (task["name"], user, response.get_json())
        done.append((task["name"], user))
    raise AssertionError(f"case {case['number']} not completed after {max_steps} steps: {done}")


def callback_of(client, auth, case: dict[str, Any]) -> dict[str, Any]:
    links = [c for c in case["linked_cases"] if c["relation"] == "callback" and c["direction"] == "to"]
    assert len(links) == 1, case["linked_cases"]
    assert links[0]["process"] == "callback"
    callback = get_case(client, auth, links[0]["id"])
    assert [(t["name"], t["role"], t["unit"]) for t in callback["tasks"]] == [("make_callback", "consultant", "CA-ZX")]
    assert callback["applicant_name"] == case["applicant_name"] and callback["matter_code"] == case["matter_code"]
    assert {"id": case["id"], "number": case["number"], "process": case["process"], "relation": "callback",
            "direction": "from", "status": "completed"} in callback["linked_cases"]
    return callback


def test_assist_runs_to_completion_and_starts_a_callback(client, auth):
    """R-9.1.3.1–2, R-9.1.3.4–5, R-9.1.5, R-10.1."""
    case = start(client, auth, "gaohongxia", "assist", matter_code="GR-002")
    case, done = run_to_completion(client, auth, case)
    assert done == [("guide_materials", "gaohongxia"), ("accompany_submission", "gaohongxia"),
                    ("track_approval", "gaohongxia"), ("hand_over_results", "gaohongxia")]
    assert case["status"] == "completed" and case["completed_at"] and case["tasks"] == []
    callback = callback_of(client, auth, case)
    # the consultant makes the callback; a good rating archives it
    callback, done = run_to_completion(client, auth, callback)
    assert done == [("make_callback", "zhaolina")]
    assert [c for c in callback["linked_cases"] if c["direction"] == "to"] == []


def test_assist_with_missing_materials_lists_them_then_rechecks(client, auth):
    """R-9.1.3.3: list every missing material at once; after they are supplied, check again."""
    case = start(client, auth, "gaohongxia", "assist", matter_code="GR-007")
    first = get_case(client, auth, case["id"])["tasks"][0]
    assert complete(client, auth, first, data_for(first, materials_complete=False)).status_code == 200
    case, done = run_to_completion(client, auth, case)
    assert [name for name, _ in done] == ["list_missing_materials", "materials_await", "guide_materials",
                                          "accompany_submission", "track_approval", "hand_over_results"]
    callback_of(client, auth, case)


def test_assist_converted_to_proxy_links_a_proxy_case(client, auth):
    """R-9.1.3.3: the applicant finds it too hard -> a linked proxy case for the same matter."""
    case = start(client, auth, "gaohongxia", "assist", matter_code="GR-002")
    case, done = run_to_completion(client, auth, case, {
        "guide_materials": {"materials_complete": False}, "list_missing_materials": {"convert_to_proxy": True}})
    assert [name for name, _ in done] == ["guide_materials", "list_missing_materials"]
    links = [c for c in case["linked_cases"] if c["direction"] == "to"]
    assert [(c["process"], c["relation"]) for c in links] == [("proxy", "converted_to_proxy")]
    proxy = get_case(client, auth, links[0]["id"])
    assert [(t["name"], t["role"], t["unit"]) for t in proxy["tasks"]] == [("record_entrustment", "proxy_agent", "CA-MZ")]
    assert client.get(f"{API}/cases/{proxy['id']}", headers=auth("xuzhiqiang")).status_code == 200


def test_proxy_runs_to_completion_and_starts_a_callback(client, auth):
    """R-9.2.1, R-9.2.2.1–3, R-9.2.3, R-10.1; an enterprise matter is the approval bureau's (R-1)."""
    case = start(client, auth, "yangfan", "proxy", matter_code="QY-001", applicant_type="enterprise")
    assert case["unit"] == "CA-SPJ"
    case, done = run_to_completion(client, auth, case)
    assert done == [(name, "yangfan") for name in ("record_entrustment", "submit_on_behalf", "track_approval",
                                                   "hand_over_results", "sign_completion_receipt")]
    callback_of(client, auth, case)


def test_proxy_with_correction_relay_and_an_unsigned_receipt(client, auth):
    """R-9.2.2.2 correction loop, R-6.4.3 relay to a township, R-9.2.3 no end without the signed receipt."""
    case = start(client, auth, "xuzhiqiang", "proxy", matter_code="GR-002")
    tracks = iter([{"needs_correction": True}, {}])
    receipts = iter([{"receipt_signed": False, "not_signed_reason": "服务对象不在家"}, {}])
    done: list[tuple[str, str]] = []
    for _ in range(16):
        case = get_case(client, auth, case["id"])
        if case["status"] == "completed":
            break
        task = case["tasks"][0]
        if task["name"] == "track_approval" and task["unit"] == "CA-MZ" and ("contact_for_correction", "xuzhiqiang") in done:
            # corrected and resubmitted: 成安镇 takes the tracking over (互动接力)
            asked = client.post(f"{API}/cases/{case['id']}/relays", json={"to_unit": "CA-T01", "reason": "需乡镇入户调查"},
                                headers=auth("xuzhiqiang"))
            assert asked.status_code == 201, asked.get_json()
            accepted = client.post(f"{API}/relays/{asked.get_json()['id']}/accept", json={}, headers=auth("zhanglei"))
            assert accepted.status_code == 200, accepted.get_json()
            done.append(("relay", "zhanglei"))
            continue
        override = next(tracks) if task["name"] == "track_approval" else (
            next(receipts) if task["name"] == "sign_completion_receipt" else {})
        user = staff_of(task["role"], task["unit"])
        response = complete(client, auth, task, data_for(task, **override), user=user)
        assert response.status_code == 200, (task["name"], response.get_json())
        done.append((task["name"], user))
    assert case["status"] == "completed", done
    assert done == [
        ("record_entrustment", "xuzhiqiang"), ("submit_on_behalf", "xuzhiqiang"), ("track_approval", "xuzhiqiang"),
        ("contact_for_correction", "xuzhiqiang"), ("submit_on_behalf", "xuzhiqiang"), ("relay", "zhanglei"),
        ("track_approval", "zhanglei"), ("hand_over_results", "zhanglei"),
        ("sign_completion_receipt", "zhanglei"), ("receipt_await", "zhanglei"), ("sign_completion_receipt", "zhanglei"),
    ]
    assert case["unit"] == "CA-T01"
    callback_of(client, auth, case)


def test_onsite_completed_on_the_spot_and_starts_a_callback(client, auth):
    """R-9.3.1, R-9.3.2.1, R-9.3.3, R-10.1, R-3.3: a township assistant records a county matter (不动产转移登记),
    the 不动产登记中心 handles it."""
    case = start(client, auth, "lina", "onsite", matter_code="GR-004", address="成安镇东关村 12 号")
    assert case["unit"] == "CA-BDC"
    case, done = run_to_completion(client, auth, case)
    assert done == [("visit_applicant", "huxiaodong"), ("complete_on_site", "huxiaodong"),
                    ("hand_over_results", "huxiaodong")]
    callback_of(client, auth, case)


def test_onsite_accepted_with_deficiencies_has_a_deadline_and_a_timer(client, auth):
    """R-9.3.2.2: 容缺受理, completed within the promised working days (a timer guards it)."""
    case = start(client, auth, "gaohongxia", "onsite", matter_code="GR-002", address="成安镇北关村 3 号")
    visit = get_case(client, auth, case["id"])["tasks"][0]
    assert complete(client, auth, visit, data_for(visit, materials_complete=False, fixable_on_site=False)).status_code == 200
    accept = get_case(client, auth, case["id"])["tasks"][0]
    assert accept["name"] == "accept_with_deficiencies"
    assert complete(client, auth, accept).status_code == 200
    case = get_case(client, auth, case["id"])
    deadline = case["tasks"][0]
    assert deadline["name"] == "complete_within_deadline" and deadline["due_at"]
    # the deadline and the further escalations guarding the same task, each later than the last
    timers = {t["task"]: t["due_at"] for t in case["timers"]}
    assert sorted(timers) == ["deadline_overdue", "deadline_overdue_county", "deadline_overdue_office"]
    assert timers["deadline_overdue"] == deadline["due_at"]
    assert timers["deadline_overdue"] < timers["deadline_overdue_county"] < timers["deadline_overdue_office"]
    case, done = run_to_completion(client, auth, case)
    assert [name for name, _ in done] == ["complete_within_deadline", "hand_over_results"]
    assert case["timers"] == []
    callback_of(client, auth, case)


def test_consultation_answered_directly(client, auth):
    """R-9.1.1.1–2: answerable -> one-time notice, end."""
    case = start(client, auth, "zhaolina", "consultation", channel="phone", question="低保怎么申请？")
    case, done = run_to_completion(client, auth, case)
    assert done == [("record_consultation", "zhaolina"), ("give_one_time_notice", "zhaolina")]
    assert case["linked_cases"] == []


def test_consultation_dispatched_as_a_work_order(client, auth):
    """R-9.1.1.2: not answerable -> work order to the department, contacted within 30 minutes."""
    case = start(client, auth, "liujing", "consultation", channel="walk_in", question="低保标准是多少？")
    case, done = run_to_completion(client, auth, case, {
        "record_consultation": {"answerable": False, "related_matter": "GR-002"},
        "dispatch_work_order": {"dispatch_unit": "CA-MZ"}})
    assert done == [("record_consultation", "zhaolina"), ("dispatch_work_order", "zhaolina"),
                    ("contact_applicant", "gaohongxia"), ("resolve_work_order", "gaohongxia")]
    assert case["timers"] == []
    assert case["breaches"] == 0


def test_complaint_runs_to_completion(client, auth):
    """R-4.c: a complaint is recorded, handled by the chief officer in time, and answered."""
    case = start(client, auth, "zhaolina", "complaint", channel="phone", complaint_text="窗口人员态度不好")
    assert case["number"].startswith("TS")
    case, done = run_to_completion(client, auth, case)
    assert done == [("record_complaint", "zhaolina"), ("handle_complaint", "zhangwei"),
                    ("reply_to_complainant", "zhaolina")]
    assert case["timers"] == []


def test_a_bad_callback_rating_starts_a_rectification(client, auth):
    """R-10.2: a bad rating -> the responsible unit explains and rectifies; the centre reviews."""
    case = start(client, auth, "gaohongxia", "assist", matter_code="GR-002")
    case, _ = run_to_completion(client, auth, case)
    callback = callback_of(client, auth, case)
    callback, _ = run_to_completion(client, auth, callback, {"make_callback": {"satisfaction": "dissatisfied"}})
    assert not [c for c in callback["linked_cases"] if c["direction"] == "to"]
    # The rectification is about the rated service case: linked from it.
    links = [c for c in get_case(client, auth, case["id"])["linked_cases"] if c["relation"] == "rectification"]
    assert [(c["process"], c["direction"]) for c in links] == [("rectification", "to")]
    rectification = get_case(client, auth, links[0]["id"])
    task = rectification["tasks"][0]
    assert (task["name"], task["role"], task["unit"]) == ("submit_explanation_assistant", "assistant", "CA-MZ")
    assert task["due_at"]
    rectification, done = run_to_completion(client, auth, rectification)
    assert [name for name, _ in done] == ["submit_explanation_assistant", "review_rectification"]


@pytest.mark.parametrize("process", ["assist", "proxy", "onsite"])
def test_every_completed_service_case_gets_exactly_one_callback(client, auth, process):
    """R-10.1: 100% of completed cases are called back."""
    starter = {"assist": "gaohongxia", "proxy": "xuzhiqiang", "onsite": "gaohongxia"}[process]
    extra = {"address": "成安镇南关村 8 号"} if process == "onsite" else {}  # onsite's start form asks for it
    case = start(client, auth, starter, process, matter_code="GR-009", **extra)
    case, _ = run_to_completion(client, auth, case)
    callback_of(client, auth, case)
    callbacks = client.get(f"{API}/cases?process=callback", headers=auth("zhaolina")).get_json()
    assert callbacks["total"] == 1
    inbox = client.get(f"{API}/tasks?scope=group", headers=auth("sunxiaoyan")).get_json()["items"]
    assert [t["name"] for t in inbox] == ["make_callback"]


def test_a_work_order_not_contacted_in_30_minutes_is_escalated_and_counted(client, auth, system):
    """R-9.1.1.2: the contact deadline passes -> the township's chief officer is told, the breach is counted,
    and the assistant's task stays open until it is done."""
    start_at = datetime(2025, 6, 3, 9, 0, tzinfo=timezone(timedelta(hours=8)))  # a Tuesday morning
    with time_machine.travel(start_at, tick=False) as traveller:
        case = start(client, auth, "zhaolina", "consultation", channel="phone", question="养老保险怎么交？")
        case, _ = run_to_completion(client, auth, case, {
            "record_consultation": {"answerable": False}, "dispatch_work_order": {"dispatch_unit": "CA-T01"}},
            stop_at="contact_applicant")
        traveller.shift(timedelta(minutes=31))
        assert fire_due_timers(system) == 1  # what the scheduler does
        case = get_case(client, auth, case["id"])
        assert case["breaches"] == 1
        assert sorted((t["name"], t["role"], t["unit"]) for t in case["tasks"]) == [
            ("contact_applicant", "assistant", "CA-T01"), ("escalate_contact_breach", "chief_officer", "CA-T01")]
        assert "timer_fired" in [h["action"] for h in case["history"]]
        inbox = client.get(f"{API}/tasks?scope=group", headers=auth("wangjianjun")).get_json()["items"]
        assert [t["name"] for t in inbox] == ["escalate_contact_breach"]
        case, done = run_to_completion(client, auth, case)
    assert sorted(done) == [("contact_applicant", "lina"), ("escalate_contact_breach", "wangjianjun"),
                            ("resolve_work_order", "lina")]
    assert case["breaches"] == 1
