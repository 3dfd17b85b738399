"""上门办 (R-9.3): on-the-spot completion, or acceptance with deficiencies within the promised deadline."""

from __future__ import annotations

from datetime import datetime, timezone

import time_machine

from bdd_workflow.config import PROJECT_ROOT
from bdd_workflow.services.timers import fire_due_timers

ADDRESS = "成安县商城镇西庄村18号"
PROCESSES = PROJECT_ROOT / "processes"


def start_onsite(desk, matter="GR-007"):
    return desk.start("onsite", by="gaohongxia", matter_code=matter, address=ADDRESS)


def started_with(case):
    """What the case was started with, as its history keeps it."""
    assert case["history"][0]["action"] == "case_started"
    return case["history"][0]["detail"]["data"]


def test_r_9_3_1_onsite_application_needs_an_address(desk):
    """R-9.3.1: an onsite application carries the address to visit; the start event's form says so."""
    import pytest

    from bdd_workflow.errors import FormInvalid

    for address in ({}, {"address": ""}, {"address": "  \t"}):
        with pytest.raises(FormInvalid) as refused:
            desk.start("onsite", by="gaohongxia", matter_code="GR-007", **address)
        assert refused.value.errors == {"address": ["上门办需要填写上门地址。"]}
    with pytest.raises(FormInvalid) as refused:  # the matter and the address, both said at once
        desk.start("onsite", by="gaohongxia", matter_code="GR-006")
    assert set(refused.value.errors) == {"matter_code", "address"}
    case = start_onsite(desk)
    assert [t["name"] for t in case["tasks"]] == ["visit_applicant"]
    assert started_with(desk.case(case["id"]))["address"] == ADDRESS


def test_r_9_3_1_what_an_onsite_start_asks_for_is_the_diagrams_and_its_forms(desk, system):
    """R-9.3.1: the address rule lives in the diagram (the start event names forms/onsite_apply.json), so an
    administrator changes it by editing the form, or by deploying a diagram whose start names none."""
    import pytest

    from bdd_workflow.errors import FormInvalid
    from bdd_workflow.services import definitions
    from bdd_workflow.services.identity import SYSTEM

    desk.add_field("onsite_apply", "floor", {"type": "integer", "title": "楼层", "minimum": 1}, required=True)
    with pytest.raises(FormInvalid) as refused:
        start_onsite(desk)
    assert refused.value.errors == {"floor": ["此项为必填项。"]}
    case = desk.start("onsite", by="gaohongxia", matter_code="GR-007", address=ADDRESS, floor=3)
    assert started_with(desk.case(case["id"]))["floor"] == 3

    xml = (PROCESSES / "onsite.bpmn").read_text(encoding="utf-8")
    without = xml.replace('<spiffworkflow:property name="form" value="onsite_apply"/>', "")
    # the visit deadline reads the start form's appointment: without the form, the script does without it
    without = without.replace("add_working_days(appointment_at, 0) if appointment_at else ", "")
    assert without.count("appointment_at") == 0 and without != xml
    deployed = definitions.deploy(system, SYSTEM, without.encode("utf-8"), "onsite.bpmn")
    assert [(d["process"], d["start_form"]) for d in deployed["processes"]] == [("onsite", None)]
    case = desk.start("onsite", by="gaohongxia", matter_code="GR-007")
    assert [t["name"] for t in case["tasks"]] == ["visit_applicant"]
    with pytest.raises(FormInvalid) as refused:  # a field no start form declares is still refused
        desk.start("onsite", by="gaohongxia", matter_code="GR-007", floor=3)
    assert refused.value.errors == {"floor": ["“上门办服务”不收这个字段。"]}


def test_r_9_3_2_1_complete_materials_completed_on_the_spot(desk, form):
    """R-9.3.2.1, R-9.3.3: complete materials are completed on the spot, handed over, and called back."""
    case = start_onsite(desk)
    desk.do(case["id"], "visit_applicant", form("visit_applicant", materials_complete=True, fixable_on_site=False))
    assert desk.ready_names(case["id"]) == ["complete_on_site"]
    desk.do(case["id"], "complete_on_site", form("complete_on_site"))
    result = desk.do(case["id"], "hand_over_results", form("hand_over_results"))
    assert result["case"]["status"] == "completed"
    assert desk.linked(case["id"], "callback")["tasks"][0]["name"] == "make_callback"


def test_r_9_3_2_1_fixable_on_the_spot_is_also_completed_there(desk, form):
    """R-9.3.2.1: materials that can be fixed on the spot do not need 容缺."""
    case = start_onsite(desk)
    desk.do(case["id"], "visit_applicant", form("visit_applicant", materials_complete=False, fixable_on_site=True))
    assert desk.ready_names(case["id"]) == ["complete_on_site"]


def test_r_9_3_2_2_accept_with_deficiencies_is_due_by_the_promised_working_days(desk, form):
    """R-9.3.2.2: accepted on 2025-09-30 with 10 promised working days, the case is due at the close of 2025-10-21.

    1–8 October 2025 were holidays and Saturday 11 October a make-up working day: the working days
    after acceptance are 9, 10, 11, 13, 14, 15, 16, 17, 20 and 21 October."""
    with time_machine.travel(datetime(2025, 9, 30, 2, 0, tzinfo=timezone.utc), tick=False):
        case = desk.start("onsite", by="gaohongxia", matter_code="GR-007", address=ADDRESS)
        desk.do(case["id"], "visit_applicant", form("visit_applicant", materials_complete=False, fixable_on_site=False))
        desk.do(case["id"], "accept_with_deficiencies", form("accept_with_deficiencies"))
    # GR-007 promises 10 working days; the deadline counts working days only.
    task = desk.task(case["id"], "complete_within_deadline")
    due_local = task.due_at.astimezone(desk.system.calendar.tz)
    expected, _ = desk.system.calendar.add_working_days(datetime(2025, 9, 30, 2, 0, tzinfo=timezone.utc), 10)
    assert due_local == expected
    assert due_local.isoformat() == "2025-10-21T17:30:00+08:00"
    timers = sorted(desk.case(case["id"])["timers"], key=lambda t: t["due_at"])
    # the deadline, then the further escalations one and two working days later (R-6.4.1, below)
    # on the whole handling after acceptance (R-4.a): the case's own deadline, the column R-4.a reads
    assert [(t["task"], t["attached_to"]) for t in timers] == [
        ("deadline_overdue", "handle_case"), ("deadline_overdue_county", "handle_case"),
        ("deadline_overdue_office", "handle_case")]
    assert timers[0]["due_at"] == task.due_at == desk.case(case["id"])["due_at"]


def test_r_9_3_2_2_missed_promised_deadline_escalates_and_the_task_stays_open(desk, form):
    """R-9.3.2.2: past the promised deadline the chief officer gets an escalation; the work stays open."""
    with time_machine.travel(datetime(2025, 9, 30, 2, 0, tzinfo=timezone.utc), tick=False):
        case = start_onsite(desk)
        desk.do(case["id"], "visit_applicant", form("visit_applicant", materials_complete=False, fixable_on_site=False))
        desk.do(case["id"], "accept_with_deficiencies", form("accept_with_deficiencies"))
        assert fire_due_timers(desk.system) == 0
    with time_machine.travel(datetime(2025, 10, 22, 2, 0, tzinfo=timezone.utc), tick=False):  # the day after
        assert fire_due_timers(desk.system) == 1
        assert fire_due_timers(desk.system) == 0  # firing again does nothing again
        assert desk.ready_names(case["id"]) == ["complete_within_deadline", "escalate_deadline_breach"]
        escalation = desk.task(case["id"], "escalate_deadline_breach")
        assert escalation.role == "chief_officer" and escalation.unit_code == "CA-MZ"
        view = desk.case(case["id"])
        assert view["breaches"] == 1
        assert sorted(t["task"] for t in view["timers"]) == ["deadline_overdue_county", "deadline_overdue_office"]
        assert [h["element"] for h in view["history"] if h["action"] == "timer_fired"] == ["deadline_overdue"]
        desk.do(case["id"], "escalate_deadline_breach", form("escalate_deadline_breach"))
        desk.do(case["id"], "complete_within_deadline", form("complete_within_deadline"))
        result = desk.do(case["id"], "hand_over_results", form("hand_over_results"))
        assert desk.case(case["id"])["timers"] == []  # completed: the further escalations are cancelled
    assert result["case"]["status"] == "completed"
    with time_machine.travel(datetime(2025, 11, 28, 2, 0, tzinfo=timezone.utc), tick=False):
        assert fire_due_timers(desk.system) == 0
    assert desk.case(case["id"])["breaches"] == 1


def test_r_9_3_1_a_start_form_gone_from_forms_stops_starts_with_a_reason(system, desk, tmp_path):
    """R-9.3.1: the address rule is onsite's start form; if the file is taken out of forms/ after the deploy,
    an onsite start is refused, saying which form and what to do, rather than started unchecked."""
    import dataclasses
    import shutil

    import pytest

    from bdd_workflow.config import PROJECT_ROOT
    from bdd_workflow.errors import Conflict
    from bdd_workflow.system import System

    forms = tmp_path / "forms"
    shutil.copytree(PROJECT_ROOT / "forms", forms)
    (forms / "onsite_apply.json").unlink()
    bare = System(dataclasses.replace(system.settings, forms_dir=forms))
    try:
        with pytest.raises(Conflict) as refused:
            type(desk)(bare).start("onsite", by="gaohongxia", matter_code="GR-007", address=ADDRESS)
        assert "forms/onsite_apply.json 不存在" in refused.value.message and "管理员" in refused.value.message
        assert type(desk)(bare).start("assist", by="gaohongxia", matter_code="GR-007")["status"] == "running"
    finally:
        bare.db.dispose()


# Escalation that keeps asking (issue 14): the 容缺 deadline of 2025-10-21 17:30, then one working day at a time.
DEADLINE_LADDER = [
    ("deadline_overdue", "escalate_deadline_breach", datetime(2025, 10, 21, 9, 30, tzinfo=timezone.utc), "chief_officer", "CA-MZ"),
    ("deadline_overdue_county", "escalate_deadline_breach_county", datetime(2025, 10, 22, 9, 30, tzinfo=timezone.utc),
     "chief_officer", "CA"),
    ("deadline_overdue_office", "escalate_deadline_breach_office", datetime(2025, 10, 23, 9, 30, tzinfo=timezone.utc),
     "supervisor", "CA"),
]


def accepted_with_deficiencies(desk, form):
    with time_machine.travel(datetime(2025, 9, 30, 2, 0, tzinfo=timezone.utc), tick=False):
        case = start_onsite(desk)
        desk.do(case["id"], "visit_applicant", form("visit_applicant", materials_complete=False, fixable_on_site=False))
        desk.do(case["id"], "accept_with_deficiencies", form("accept_with_deficiencies"))
    return case


def test_r_9_3_2_2_r_6_4_1_unfinished_deficiency_case_escalates_up_three_levels(desk, form):
    """R-9.3.2.2 R-6.4.1–3 R-4.a: past the promised deadline the unit's chief officer, a working day later the
    county chief officer, a working day after that the centre office; each escalation is a breach."""
    from datetime import timedelta
    case = accepted_with_deficiencies(desk, form)
    due = {t["task"]: t["due_at"] for t in desk.case(case["id"])["timers"]}
    assert due == {timer: at for timer, _, at, _, _ in DEADLINE_LADDER}
    expected = ["complete_within_deadline"]
    for timer, escalation, at, role, unit in DEADLINE_LADDER:
        with time_machine.travel(at - timedelta(minutes=1), tick=False):
            assert fire_due_timers(desk.system) == 0
        with time_machine.travel(at + timedelta(minutes=1), tick=False):
            assert fire_due_timers(desk.system) == 1
            expected.append(escalation)
            assert desk.ready_names(case["id"]) == sorted(expected)
            row = desk.task(case["id"], escalation)
            assert (row.role, row.unit_code, row.form) == (role, unit, "onsite_escalate_deadline_breach")
    view = desk.case(case["id"])
    assert view["breaches"] == 3 and view["timers"] == []
    assert [h["element"] for h in view["history"] if h["action"] == "timer_fired"] == [t for t, *_ in DEADLINE_LADDER]
    with time_machine.travel(datetime(2025, 10, 24, 2, 0, tzinfo=timezone.utc), tick=False):
        desk.do(case["id"], "escalate_deadline_breach_office", form("escalate_deadline_breach"), by="wangxiuying")
        desk.do(case["id"], "escalate_deadline_breach_county", form("escalate_deadline_breach"), by="zhangwei")
        desk.do(case["id"], "complete_within_deadline", form("complete_within_deadline"))
        desk.do(case["id"], "escalate_deadline_breach", form("escalate_deadline_breach"))
        result = desk.do(case["id"], "hand_over_results", form("hand_over_results"))
    assert result["case"]["status"] == "completed" and result["case"]["breaches"] == 3


def test_r_9_3_2_2_finishing_after_the_county_escalation_cancels_the_last(desk, form):
    """R-9.3.2.2 R-6.4.1–3: finished after the second escalation, the centre office is never asked."""
    case = accepted_with_deficiencies(desk, form)
    with time_machine.travel(datetime(2025, 10, 22, 10, 0, tzinfo=timezone.utc), tick=False):
        assert fire_due_timers(desk.system) == 2  # the deadline and the county escalation, both passed
        desk.do(case["id"], "complete_within_deadline", form("complete_within_deadline"))
        desk.do(case["id"], "hand_over_results", form("hand_over_results"))
        assert desk.case(case["id"])["timers"] == []
    with time_machine.travel(datetime(2025, 12, 1, 2, 0, tzinfo=timezone.utc), tick=False):
        assert fire_due_timers(desk.system) == 0
        assert desk.ready_names(case["id"]) == ["escalate_deadline_breach", "escalate_deadline_breach_county"]
    assert desk.case(case["id"])["breaches"] == 2
