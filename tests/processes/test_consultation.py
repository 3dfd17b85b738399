"""咨询与工单 (R-9.1.1): answer with the one-time notice, or dispatch a work order with a 30-minute contact SLA."""

from __future__ import annotations

from datetime import datetime, timedelta, timezone

import time_machine

from bdd_workflow.services.timers import fire_due_timers

T0 = datetime(2025, 11, 3, 1, 0, tzinfo=timezone.utc)  # Monday 09:00 in Cheng'an


def start_consultation(desk, channel="phone"):
    return desk.start("consultation", by="zhaolina", channel=channel, matter_code="GR-002")


def test_r_9_1_1_1_consultant_records_calls_and_visits(desk):
    """R-9.1.1.1: a consultant records a call (7212345), a visit or an online question."""
    for channel in ("phone", "walk_in", "online"):
        case = start_consultation(desk, channel)
        assert case["channel"] == channel
        assert [(t["name"], t["role"], t["unit"]) for t in case["tasks"]] == [("record_consultation", "consultant", "CA-ZX")]


def test_r_9_1_1_2_answerable_question_gets_the_one_time_notice_and_ends(desk, form):
    """R-9.1.1.2: answerable -> one-time notice, name, contact and result recorded; the consultation ends."""
    case = start_consultation(desk)
    desk.do(case["id"], "record_consultation", form("record_consultation", answerable=True, related_matter="GR-002"))
    assert desk.ready_names(case["id"]) == ["give_one_time_notice"]
    result = desk.do(case["id"], "give_one_time_notice", form("give_one_time_notice"))
    assert result["case"]["status"] == "completed"
    view = desk.case(case["id"])
    assert view["applicant_name"] == "王芳" and view["applicant_phone"] == "13812345678"
    completed = [h for h in view["history"] if h["action"] == "task_completed"]
    assert completed[-1]["detail"]["data"]["result"] == "已一次性告知"


def test_r_9_1_1_2_unanswerable_question_becomes_a_work_order_for_the_departments_assistant(desk, form):
    """R-9.1.1.2: not answerable -> a work order to the department's assistant, due within 30 minutes."""
    with time_machine.travel(T0, tick=False):
        case = start_consultation(desk)
        desk.do(case["id"], "record_consultation", form("record_consultation", answerable=False))
        desk.do(case["id"], "dispatch_work_order", form("dispatch_work_order"))
    contact = desk.task(case["id"], "contact_applicant")
    assert (contact.role, contact.unit_code) == ("assistant", "CA-MZ")
    assert contact.due_at == T0 + timedelta(minutes=30)
    timers = desk.case(case["id"])["timers"]
    assert [(t["task"], t["due_at"]) for t in timers] == [("contact_overdue", T0 + timedelta(minutes=30))]
    with time_machine.travel(T0 + timedelta(minutes=10), tick=False):
        desk.do(case["id"], "contact_applicant", form("contact_applicant"))
        assert desk.case(case["id"])["timers"] == []  # contacted in time: the timer is gone
    result = desk.do(case["id"], "resolve_work_order", form("resolve_work_order"))
    assert result["case"]["status"] == "completed"
    assert result["case"]["breaches"] == 0


def test_r_9_1_1_2_missed_30_minute_contact_escalates_to_the_chief_officer(desk, form):
    """R-9.1.1.2: no contact within 30 minutes -> escalation to the chief officer, breach counted, task stays open."""
    with time_machine.travel(T0, tick=False):
        case = start_consultation(desk)
        desk.do(case["id"], "record_consultation", form("record_consultation", answerable=False))
        desk.do(case["id"], "dispatch_work_order", form("dispatch_work_order"))
    with time_machine.travel(T0 + timedelta(minutes=29), tick=False):
        assert fire_due_timers(desk.system) == 0
    with time_machine.travel(T0 + timedelta(minutes=31), tick=False):
        assert fire_due_timers(desk.system) == 1
    assert desk.ready_names(case["id"]) == ["contact_applicant", "escalate_contact_breach"]
    escalation = desk.task(case["id"], "escalate_contact_breach")
    assert escalation.role == "chief_officer"
    view = desk.case(case["id"])
    assert view["breaches"] == 1
    desk.do(case["id"], "escalate_contact_breach", form("escalate_contact_breach"), by="zhangwei")
    desk.do(case["id"], "contact_applicant", form("contact_applicant"))
    result = desk.do(case["id"], "resolve_work_order", form("resolve_work_order"))
    assert result["case"]["status"] == "completed"


def test_r_9_1_1_2_a_dispatched_work_order_belongs_to_the_department_and_its_matter(desk, form):
    """The work order moves to the unit it was dispatched to, with the matter the consultant named."""
    case = desk.start("consultation", by="zhaolina", channel="phone")
    desk.do(case["id"], "record_consultation", form("record_consultation", answerable=False, related_matter="GR-007"))
    desk.do(case["id"], "dispatch_work_order", form("dispatch_work_order"))
    view = desk.case(case["id"])
    assert (view["unit"], view["matter_code"]) == ("CA-MZ", "GR-007")
