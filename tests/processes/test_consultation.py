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
    # the 30-minute contact, then the further escalations a working day apart (see the ladder below)
    assert [(t["task"], t["due_at"]) for t in timers][0] == ("contact_overdue", T0 + timedelta(minutes=30))
    assert sorted(t["task"] for t in timers) == ["contact_overdue", "contact_overdue_county", "contact_overdue_office"]
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


# Escalation that keeps asking (issue 14): a work order still not contacted escalates again every
# sla("escalation_interval_days") (1 working day), one level up each time, until the contact is made.
CONTACT_DUE = T0 + timedelta(minutes=30)                             # Mon 09:30 in Cheng'an
COUNTY_DUE = datetime(2025, 11, 4, 9, 30, tzinfo=timezone.utc)        # Tue 17:30: one working day later
OFFICE_DUE = datetime(2025, 11, 5, 9, 30, tzinfo=timezone.utc)        # Wed 17:30: two working days later
LADDER = [("contact_overdue", "escalate_contact_breach"), ("contact_overdue_county", "escalate_contact_breach_county"),
          ("contact_overdue_office", "escalate_contact_breach_office")]


def dispatched_work_order(desk, form):
    with time_machine.travel(T0, tick=False):
        case = start_consultation(desk)
        desk.do(case["id"], "record_consultation", form("record_consultation", answerable=False))
        desk.do(case["id"], "dispatch_work_order", form("dispatch_work_order"))
    return case


def breach_timers(desk, case_id):
    from sqlalchemy import select
    from bdd_workflow.db.models import Breach
    with desk.system.db.unit_of_work(write=False) as session:
        return list(session.scalars(select(Breach.timer).where(Breach.case_id == case_id).order_by(Breach.id)))


def test_r_9_1_1_2_r_6_4_1_uncontacted_work_order_escalates_up_three_levels(desk, form):
    """R-9.1.1.2 R-6.4.1–3 R-4.c: the unit's chief officer at 30 minutes, the county chief officer one working
    day later, the centre office a working day after that; each escalation is a breach; the task stays open."""
    case = dispatched_work_order(desk, form)
    timers = desk.case(case["id"])["timers"]
    assert sorted((t["task"], t["due_at"]) for t in timers) == sorted(
        [("contact_overdue", CONTACT_DUE), ("contact_overdue_county", COUNTY_DUE), ("contact_overdue_office", OFFICE_DUE)])
    expected = ["contact_applicant"]
    for (timer, escalation), due, role, unit in zip(LADDER, (CONTACT_DUE, COUNTY_DUE, OFFICE_DUE),
                                                    ("chief_officer", "chief_officer", "supervisor"),
                                                    ("CA-MZ", "CA", "CA")):
        with time_machine.travel(due - timedelta(minutes=1), tick=False):
            assert fire_due_timers(desk.system) == 0
        with time_machine.travel(due + timedelta(minutes=1), tick=False):
            assert fire_due_timers(desk.system) == 1
        expected.append(escalation)
        assert desk.ready_names(case["id"]) == sorted(expected)
        row = desk.task(case["id"], escalation)
        assert (row.role, row.unit_code, row.form) == (role, unit, "consultation_escalate_contact_breach")
        assert desk.task(case["id"], "contact_applicant").status == "ready"
    view = desk.case(case["id"])
    assert view["breaches"] == 3 and view["timers"] == []
    assert breach_timers(desk, case["id"]) == [timer for timer, _ in LADDER]
    desk.do(case["id"], "escalate_contact_breach_county", form("escalate_contact_breach"), by="zhangwei")
    desk.do(case["id"], "escalate_contact_breach_office", form("escalate_contact_breach"), by="wangxiuying")
    desk.do(case["id"], "escalate_contact_breach", form("escalate_contact_breach"))
    desk.do(case["id"], "contact_applicant", form("contact_applicant"))
    result = desk.do(case["id"], "resolve_work_order", form("resolve_work_order"))
    assert result["case"]["status"] == "completed" and result["case"]["breaches"] == 3


def test_r_9_1_1_2_contact_after_the_first_escalation_cancels_the_later_ones(desk, form):
    """R-9.1.1.2 R-4.c: completing the guarded task cancels its boundary timers: no further escalation, one breach."""
    case = dispatched_work_order(desk, form)
    with time_machine.travel(CONTACT_DUE + timedelta(minutes=1), tick=False):
        assert fire_due_timers(desk.system) == 1
        desk.do(case["id"], "contact_applicant", form("contact_applicant"))
    assert desk.case(case["id"])["timers"] == []
    with time_machine.travel(OFFICE_DUE + timedelta(days=7), tick=False):
        assert fire_due_timers(desk.system) == 0
    assert desk.ready_names(case["id"]) == ["escalate_contact_breach", "resolve_work_order"]
    assert desk.case(case["id"])["breaches"] == 1
    assert breach_timers(desk, case["id"]) == ["contact_overdue"]


def test_r_9_1_1_2_the_escalation_interval_is_a_setting(desk, form):
    """sla("escalation_interval_days") (BDD_ESCALATION_INTERVAL_DAYS) spaces the further escalations."""
    desk.system.settings.escalation_interval_days = 2
    case = dispatched_work_order(desk, form)
    due = {t["task"]: t["due_at"] for t in desk.case(case["id"])["timers"]}
    assert due["contact_overdue_county"] == OFFICE_DUE                         # Wed 17:30: two working days
    assert due["contact_overdue_office"] == datetime(2025, 11, 7, 9, 30, tzinfo=timezone.utc)  # Fri 17:30
