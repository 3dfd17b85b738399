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


# Escalation that keeps asking (issue 14): the time limit of 2025-11-10 17:30, then one working day at a time.
COMPLAINT_LADDER = [
    ("complaint_overdue", "escalate_complaint_breach", datetime(2025, 11, 10, 9, 30, tzinfo=timezone.utc), "supervisor"),
    ("complaint_overdue_county", "escalate_complaint_breach_county", datetime(2025, 11, 11, 9, 30, tzinfo=timezone.utc),
     "chief_officer"),
    ("complaint_overdue_office", "escalate_complaint_breach_office", datetime(2025, 11, 12, 9, 30, tzinfo=timezone.utc),
     "supervisor"),
]


def test_r_4_c_r_6_4_1_unhandled_complaint_keeps_escalating(desk, form):
    """R-4.c R-6.4.1–3: still not handled, the complaint goes to the county chief officer a working day after
    the centre office was alerted, and to the centre office again a day later; each escalation is a breach,
    R-4.c counts the complaint once as not handled in time."""
    from datetime import timedelta
    with time_machine.travel(T0, tick=False):
        case = start_complaint(desk)
        desk.do(case["id"], "record_complaint", form("record_complaint"))
    assert {t["task"]: t["due_at"] for t in desk.case(case["id"])["timers"]} == {
        timer: at for timer, _, at, _ in COMPLAINT_LADDER}
    expected = ["handle_complaint"]
    for timer, escalation, at, role in COMPLAINT_LADDER:
        with time_machine.travel(at - timedelta(minutes=1), tick=False):
            assert fire_due_timers(desk.system) == 0
        with time_machine.travel(at + timedelta(minutes=1), tick=False):
            assert fire_due_timers(desk.system) == 1
            expected.append(escalation)
            assert desk.ready_names(case["id"]) == sorted(expected)
            row = desk.task(case["id"], escalation)
            assert (row.role, row.unit_code, row.form) == (role, "CA", "complaint_escalate_breach")
    assert desk.case(case["id"])["breaches"] == 3
    with time_machine.travel(datetime(2025, 11, 13, 2, 0, tzinfo=timezone.utc), tick=False):
        for _, escalation, _, _ in COMPLAINT_LADDER:
            desk.do(case["id"], escalation, form("escalate_complaint_breach"))
        desk.do(case["id"], "handle_complaint", form("handle_complaint"))
        result = desk.do(case["id"], "reply_to_complainant", form("reply_to_complainant"))
    assert result["case"]["status"] == "completed" and result["case"]["breaches"] == 3


def test_r_4_c_handling_the_complaint_after_the_first_escalation_cancels_the_rest(desk, form):
    """R-4.c: handled after the centre office was alerted, no county or second office escalation follows."""
    with time_machine.travel(T0, tick=False):
        case = start_complaint(desk)
        desk.do(case["id"], "record_complaint", form("record_complaint"))
    with time_machine.travel(datetime(2025, 11, 10, 9, 31, tzinfo=timezone.utc), tick=False):
        assert fire_due_timers(desk.system) == 1
        desk.do(case["id"], "handle_complaint", form("handle_complaint"))
        assert desk.case(case["id"])["timers"] == []
    with time_machine.travel(datetime(2025, 12, 1, 2, 0, tzinfo=timezone.utc), tick=False):
        assert fire_due_timers(desk.system) == 0
        assert desk.ready_names(case["id"]) == ["escalate_complaint_breach", "reply_to_complainant"]
    assert desk.case(case["id"])["breaches"] == 1
