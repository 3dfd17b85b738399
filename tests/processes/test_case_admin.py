"""The supervisors' case view: the diagram state of a case, and suspend / resume / cancel by the chief officer."""

from __future__ import annotations

from datetime import datetime, timezone

import pytest
import time_machine
from sqlalchemy import select

from bdd_workflow.db.models import AuditEvent, HumanTask, PendingTimer
from bdd_workflow.errors import Forbidden, FormInvalid, NotFound, TaskNotReady
from bdd_workflow.services import case_admin, tasks
from bdd_workflow.services.timers import fire_due_timers, next_due_at

ADDRESS = "成安县商城镇西庄村18号"
ACCEPTED = datetime(2025, 9, 30, 2, 0, tzinfo=timezone.utc)
PAST_DEADLINE = datetime(2025, 10, 22, 2, 0, tzinfo=timezone.utc)  # past 10-21 17:30, before the next escalation


def onsite_past_acceptance(desk, form):
    """An onsite case accepted with deficiencies: complete_within_deadline is open, its deadline timer waits."""
    with time_machine.travel(ACCEPTED, tick=False):
        case = desk.start("onsite", by="gaohongxia", matter_code="GR-007", address=ADDRESS)
        desk.do(case["id"], "visit_applicant", form("visit_applicant", materials_complete=False, fixable_on_site=False))
        desk.do(case["id"], "accept_with_deficiencies", form("accept_with_deficiencies"))
    return case


def actions(desk, case_id):
    with desk.system.db.unit_of_work(write=False) as session:
        return [(e.actor, e.action, e.detail) for e in session.scalars(
            select(AuditEvent).where(AuditEvent.case_id == case_id).order_by(AuditEvent.id))]


def test_diagram_state_of_a_proxy_case_after_a_few_steps(desk, form):
    case = desk.start("proxy", by="xuzhiqiang", matter_code="GR-002")
    desk.do(case["id"], "record_entrustment", form("record_entrustment"))
    desk.do(case["id"], "submit_on_behalf", form("submit_on_behalf"))
    state = case_admin.diagram_state(desk.system, desk.actor("zhangwei"), case["id"])

    assert "record_entrustment" in state["completed"] and "submit_on_behalf" in state["completed"]
    assert state["active"] == ["track_approval"]
    assert 'id="track_approval"' in state["xml"]
    # The flow into the first user task ran, the flow out of the active one has not.
    flows = case_admin._sequence_flows(state["xml"])
    into_active = [f["id"] for f in flows if f["target"] == "track_approval" and f["source"] == "submit_on_behalf"]
    out_of_active = [f["id"] for f in flows if f["source"] == "track_approval"]
    assert into_active and set(into_active) <= set(state["taken_flows"])
    assert not set(out_of_active) & set(state["taken_flows"])
    # Who did the step, when, with which data (from the audit trail).
    run = state["elements"]["record_entrustment"]["runs"][0]
    assert run["actor"] == "xuzhiqiang" and run["actor_name"]
    assert run["data"]["entrustment_number"] == "WT-2025-001"
    assert state["elements"]["track_approval"]["active"][0]["task_id"]
    assert state["can_direct"] is True


def test_diagram_state_shows_the_pending_deadline_timer(desk, form):
    case = onsite_past_acceptance(desk, form)
    state = case_admin.diagram_state(desk.system, desk.actor("zhangwei"), case["id"])
    assert {"visit_applicant", "accept_with_deficiencies"} <= set(state["completed"])
    assert state["active"] == ["complete_within_deadline"]
    # the deadline and the two further escalations that guard the same task
    assert state["waiting_timers"] == ["deadline_overdue", "deadline_overdue_county", "deadline_overdue_office"]
    assert "Flow_deficient" in state["taken_flows"] and "Flow_accept_to_deadline" in state["taken_flows"]
    assert "Flow_complete_or_fixable" not in state["taken_flows"]
    timer = state["elements"]["deadline_overdue"]["timers"][0]
    assert timer["attached_to"] == "handle_case"  # the whole handling after acceptance (R-4.a)
    assert timer["due_at"].startswith("2025-10-21T09:30")  # 17:30 in Cheng'an
    assert [t["name"] for t in state["pending_timers"]] == [
        "deadline_overdue", "deadline_overdue_county", "deadline_overdue_office"]
    json_state = case_admin.diagram_json(desk.system, desk.actor("zhangwei"), case["id"])
    assert json_state["waiting_timers"] == state["waiting_timers"]


def test_diagram_state_follows_visibility(desk, form):
    case = desk.start("proxy", by="xuzhiqiang", matter_code="GR-002")  # 民政局
    with pytest.raises(NotFound):
        case_admin.diagram_state(desk.system, desk.actor("lijianhua"), case["id"])  # 行政审批局
    assert case_admin.diagram_state(desk.system, desk.actor("gaohongxia"), case["id"])["can_direct"] is False


def test_suspend_blocks_work_and_timers_until_resumed(desk, form):
    case = onsite_past_acceptance(desk, form)
    chief = desk.actor("zhangwei")
    with pytest.raises(FormInvalid):
        case_admin.suspend_case(desk.system, chief, case["id"], "  ")
    with time_machine.travel(ACCEPTED, tick=False):
        assert case_admin.suspend_case(desk.system, chief, case["id"], "服务对象申请暂缓办理")["status"] == "suspended"

    row = desk.task(case["id"], "complete_within_deadline")
    worker = desk.staff_for(row.role, row.unit_code)
    with pytest.raises(TaskNotReady, match="办件已暂停"):
        tasks.claim_task(desk.system, worker, row.id)
    with pytest.raises(TaskNotReady, match="办件已暂停"):
        desk.do(case["id"], "complete_within_deadline", form("complete_within_deadline"))
    with time_machine.travel(PAST_DEADLINE, tick=False):
        assert next_due_at(desk.system) is None  # the scheduler does not spin on a suspended case
        assert fire_due_timers(desk.system) == 0
        assert desk.ready_names(case["id"]) == ["complete_within_deadline"]
        assert case_admin.resume_case(desk.system, chief, case["id"])["status"] == "running"
        assert fire_due_timers(desk.system) == 1  # fires after resume
        assert desk.ready_names(case["id"]) == ["complete_within_deadline", "escalate_deadline_breach"]
        desk.do(case["id"], "complete_within_deadline", form("complete_within_deadline"))

    done = [(actor, action) for actor, action, _ in actions(desk, case["id"])]
    assert ("zhangwei", "case_suspended") in done and ("zhangwei", "case_resumed") in done
    suspended = next(d for _, a, d in actions(desk, case["id"]) if a == "case_suspended")
    assert suspended["reason"] == "服务对象申请暂缓办理" and suspended["previous_status"] == "running"


def test_cancel_cancels_tasks_and_timers_and_needs_a_reason(desk, form):
    case = onsite_past_acceptance(desk, form)
    chief = desk.actor("zhangwei")
    with pytest.raises(FormInvalid) as refused:
        case_admin.cancel_case(desk.system, chief, case["id"], "撤销")
    assert "reason" in refused.value.errors
    result = case_admin.cancel_case(desk.system, chief, case["id"], "服务对象撤回申请")
    assert result["status"] == "cancelled"
    assert desk.ready(case["id"]) == []
    with desk.system.db.unit_of_work(write=False) as session:
        statuses = {t.name: t.status for t in session.scalars(select(HumanTask).where(HumanTask.case_id == case["id"]))}
        assert statuses["complete_within_deadline"] == "cancelled"
        assert session.scalars(select(PendingTimer).where(PendingTimer.case_id == case["id"])).all() == []
    state = case_admin.diagram_state(desk.system, chief, case["id"])
    assert state["active"] == [] and state["waiting_timers"] == []
    assert "accept_with_deficiencies" in state["completed"]
    cancelled = [d for _, a, d in actions(desk, case["id"]) if a == "case_cancelled"]
    assert cancelled and cancelled[0]["reason"] == "服务对象撤回申请"
    with time_machine.travel(PAST_DEADLINE, tick=False):
        assert fire_due_timers(desk.system) == 0


def test_an_assistant_may_not_suspend_resume_or_cancel(desk, form):
    case = onsite_past_acceptance(desk, form)
    assistant = desk.actor("gaohongxia")
    for act in (case_admin.suspend_case, case_admin.cancel_case):
        with pytest.raises(Forbidden):
            act(desk.system, assistant, case["id"], "没有理由的操作")
    case_admin.suspend_case(desk.system, desk.actor("chenguodong"), case["id"], "管理员暂停核查")  # administrator
    with pytest.raises(Forbidden):
        case_admin.resume_case(desk.system, assistant, case["id"])
    assert [a for _, a, _ in actions(desk, case["id"]) if a.startswith("case_")] == ["case_started", "case_suspended"]
