"""投诉 (R-4.c): complaints are handled within their time limit, or escalated and counted."""

from __future__ import annotations

from datetime import datetime, timezone

import time_machine

from bdd_workflow.services.timers import fire_due_timers

T0 = datetime(2025, 11, 3, 1, 0, tzinfo=timezone.utc)  # Monday


def start_complaint(desk):
    return desk.start("complaint", by="zhaolina", channel="phone", complaint_text="窗口人员态度生硬")


def test_r_4_c_complaint_handled_in_time_and_replied(desk, form):
    """R-4.c: recorded by the consultant, handled by the chief officer within 5 working days, replied to."""
    with time_machine.travel(T0, tick=False):
        case = start_complaint(desk)
        desk.do(case["id"], "record_complaint", form("record_complaint"))
    handle = desk.task(case["id"], "handle_complaint")
    assert handle.role == "chief_officer"
    assert handle.due_at.astimezone(desk.system.calendar.tz).isoformat() == "2025-11-10T17:30:00+08:00"
    desk.do(case["id"], "handle_complaint", form("handle_complaint"))
    result = desk.do(case["id"], "reply_to_complainant", form("reply_to_complainant"))
    assert result["case"]["status"] == "completed" and result["case"]["breaches"] == 0


def test_r_4_c_late_complaint_escalates_to_the_centre_office(desk, form):
    """R-4.c: past the time limit the centre office is alerted and the breach is counted."""
    with time_machine.travel(T0, tick=False):
        case = start_complaint(desk)
        desk.do(case["id"], "record_complaint", form("record_complaint"))
    with time_machine.travel(datetime(2025, 11, 10, 9, 31, tzinfo=timezone.utc), tick=False):
        assert fire_due_timers(desk.system) == 1
    assert desk.ready_names(case["id"]) == ["escalate_complaint_breach", "handle_complaint"]
    assert desk.task(case["id"], "escalate_complaint_breach").role == "supervisor"
    assert desk.case(case["id"])["breaches"] == 1
