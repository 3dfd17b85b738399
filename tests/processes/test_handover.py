"""问题交办 (R-10.1): each problem a callback finds is handed over as tracked work with a deadline, to the chief
officer who directs the handling unit (廉洁自律: the centre office), and its outcome is fed back to the centre
office and written into the service case's history."""

from __future__ import annotations

from datetime import date, datetime, timedelta, timezone

import pytest
import time_machine

from bdd_workflow.errors import FormInvalid, Forbidden, NotFound
from bdd_workflow.services import metrics
from bdd_workflow.services.cases import get_case, start_case
from bdd_workflow.services.timers import fire_due_timers

T0 = datetime(2025, 11, 3, 1, 0, tzinfo=timezone.utc)  # Monday 09:00 in Cheng'an
GIFT = "办事员收了服务对象礼品"


def served_case(desk, form, by="gaohongxia", matter="GR-002"):
    """An assist case run to its end; returns it and its callback."""
    case = desk.start("assist", by=by, matter_code=matter)
    desk.do(case["id"], "guide_materials", form("guide_materials", materials_complete=True))
    desk.do(case["id"], "accompany_submission", form("accompany_submission"))
    desk.do(case["id"], "track_approval", form("track_approval", applicant_informed=True, approval_result="准予"))
    desk.do(case["id"], "hand_over_results", form("hand_over_results"))
    return case, desk.linked(case["id"], "callback")


def call_back(desk, form, callback, *problems, satisfaction="satisfied"):
    listed = [{"category": c, "description": d} for c, d in problems]
    return desk.do(callback["id"], "make_callback", form(
        "make_callback", satisfaction=satisfaction, problems_found="found" if listed else "none",
        **({"problems": listed} if listed else {})))


def handovers(desk, case_id):
    return [desk.case(c["id"]) for c in desk.case(case_id)["linked_cases"] if c["relation"] == "handover"]


def notes(desk, case_id):
    return [(h["detail"]["label"], h["detail"]["title"]) for h in desk.case(case_id)["history"]
            if h["action"] == "case_note"]


def test_r_10_1_a_gift_found_on_the_callback_goes_to_the_centre_office(desk, form):
    """R-10.1: "办事员收了服务对象礼品" (廉洁自律) no longer closes as archived with nothing happening: it becomes
    a task for the centre office with a deadline, and the service case's history says so."""
    with time_machine.travel(T0, tick=False):
        case, callback = served_case(desk, form)
        call_back(desk, form, callback, ("integrity", GIFT))
    [handover] = handovers(desk, case["id"])
    assert handover["process"] == "handover" and handover["number"].startswith("JB")
    [task] = handover["tasks"]
    assert (task["name"], task["role"], task["unit"]) == ("handle_integrity_problem", "supervisor", "CA")
    assert task["due_at"].astimezone(desk.system.calendar.tz).isoformat() == "2025-11-10T17:30:00+08:00"
    assert notes(desk, case["id"]) == [("问题交办", f"回访发现廉洁自律问题，已交办处理：{GIFT}")]
    assert desk.case(callback["id"])["status"] == "completed"
    assert [c["number"] for c in desk.case(callback["id"])["linked_cases"] if c["relation"] == "handover"] == [
        handover["number"]]  # the callback lists what it handed over
    assert [(c["number"], c["direction"]) for c in handover["linked_cases"]] == [
        (case["number"], "from"), (callback["number"], "from")]


def test_r_10_1_an_attitude_problem_goes_to_the_chief_officer_directing_the_handling_unit(desk, form):
    """R-10.1 R-6.4.1: 民政局 has no chief officer of its own; the county chief officer, who directs it, gets the
    problem; the outcome is written into the service case and fed back to the centre office."""
    case, callback = served_case(desk, form)
    assert case["unit"] == "CA-MZ"
    call_back(desk, form, callback, ("attitude", "窗口人员态度生硬"), ("efficiency", "等候时间过长"))
    found = handovers(desk, case["id"])
    assert len(found) == 2
    assert {(t["name"], t["role"], t["unit"]) for h in found for t in h["tasks"]} == {
        ("handle_problem", "chief_officer", "CA")}
    first = found[0]
    desk.do(first["id"], "handle_problem", form("handle_problem", actions_taken="已约谈窗口人员并批评教育"), by="zhangwei")
    feedback = desk.task(first["id"], "receive_feedback")
    assert (feedback.role, feedback.unit_code) == ("supervisor", "CA")
    assert ("交办问题处理结果", "服务态度问题处理结果：已约谈窗口人员并批评教育") in notes(desk, case["id"])
    result = desk.do(first["id"], "receive_feedback", form("receive_feedback"), by="wangxiuying")
    assert result["case"]["status"] == "completed"


def test_r_10_1_a_village_case_s_problem_goes_to_its_township_chief_officer(desk, form):
    """R-10.1 R-3.3: a case handled by the 东关社区 station is directed by 成安镇's chief officer."""
    case, callback = served_case(desk, form, by="luxuemei", matter="GR-007")
    assert case["unit"] == "CA-T01-V01"
    call_back(desk, form, callback, ("standard", "未按规定公示办事流程"))
    [handover] = handovers(desk, case["id"])
    [task] = handover["tasks"]
    assert (task["role"], task["unit"]) == ("chief_officer", "CA-T01")
    desk.do(handover["id"], "handle_problem", form("handle_problem"), by="wangjianjun")
    assert desk.ready_names(handover["id"]) == ["receive_feedback"]


def test_r_10_1_the_integrity_problem_handled_by_the_office_closes_with_the_outcome_on_the_case(desk, form):
    """R-10.1: the centre office handles the 廉洁 problem itself; its result is on the service case."""
    case, callback = served_case(desk, form)
    call_back(desk, form, callback, ("integrity", GIFT))
    [handover] = handovers(desk, case["id"])
    result = desk.do(handover["id"], "handle_integrity_problem", form("handle_integrity_problem"), by="wangxiuying")
    assert result["case"]["status"] == "completed"
    assert notes(desk, case["id"])[-1] == ("交办问题处理结果", "廉洁自律问题处理结果：已约谈当事人，退还礼品并通报批评。")


HANDOVER_LADDER = [
    ("handover_overdue", "escalate_handover_breach", datetime(2025, 11, 10, 9, 30, tzinfo=timezone.utc), "supervisor"),
    ("handover_overdue_county", "escalate_handover_breach_county", datetime(2025, 11, 11, 9, 30, tzinfo=timezone.utc),
     "chief_officer"),
    ("handover_overdue_office", "escalate_handover_breach_office", datetime(2025, 11, 12, 9, 30, tzinfo=timezone.utc),
     "supervisor"),
]


def test_r_10_1_a_late_handover_keeps_escalating_until_it_is_handled(desk, form):
    """R-10.1 R-6.4.1: past the deadline the centre office is alerted, then the county chief officer, then the
    office again; each is a breach; handling the problem stops the ladder."""
    with time_machine.travel(T0, tick=False):
        case, callback = served_case(desk, form)
        call_back(desk, form, callback, ("timeliness", "超过承诺时限才办结"))
    [handover] = handovers(desk, case["id"])
    assert {t["task"]: t["due_at"] for t in handover["timers"]} == {timer: at for timer, _, at, _ in HANDOVER_LADDER}
    expected = ["handle_problem"]
    for timer, escalation, at, role in HANDOVER_LADDER[:2]:
        with time_machine.travel(at - timedelta(minutes=1), tick=False):
            assert fire_due_timers(desk.system) == 0
        with time_machine.travel(at + timedelta(minutes=1), tick=False):
            assert fire_due_timers(desk.system) == 1
        expected.append(escalation)
        assert desk.ready_names(handover["id"]) == sorted(expected)
        row = desk.task(handover["id"], escalation)
        assert (row.role, row.unit_code, row.form) == (role, "CA", "handover_escalate_breach")
    with time_machine.travel(datetime(2025, 11, 11, 10, 0, tzinfo=timezone.utc), tick=False):
        desk.do(handover["id"], "handle_problem", form("handle_problem"), by="zhangwei")
    with time_machine.travel(datetime(2025, 12, 1, 2, 0, tzinfo=timezone.utc), tick=False):
        assert fire_due_timers(desk.system) == 0
    assert desk.case(handover["id"])["breaches"] == 2


def test_r_10_1_no_problem_is_an_explicit_choice_and_starts_nothing(desk, form):
    """R-10.1: "未发现问题" starts no handover; "发现问题" without a problem listed is refused on the field."""
    case, callback = served_case(desk, form)
    with pytest.raises(FormInvalid) as refused:
        desk.do(callback["id"], "make_callback", form("make_callback", satisfaction="satisfied", problems_found="found"))
    assert list(refused.value.errors) == ["problems"]
    without = {k: v for k, v in form("make_callback", satisfaction="satisfied").items() if k != "problems_found"}
    with pytest.raises(FormInvalid) as refused:
        desk.do(callback["id"], "make_callback", without)
    assert list(refused.value.errors) == ["problems_found"]
    call_back(desk, form, callback)
    assert handovers(desk, case["id"]) == [] and desk.case(callback["id"])["status"] == "completed"


def test_r_10_1_a_handover_cannot_be_started_by_hand(desk):
    """R-10.1: a 问题交办 comes from a callback's problem, never from the start page."""
    with pytest.raises(Forbidden):
        start_case(desk.system, desk.actor("zhangwei"), "handover", {})


def test_r_10_1_r_6_2_the_handling_unit_sees_the_handover_of_its_case(desk, form):
    """R-6.2: the handover is a case of the unit it is about; the township does not see a county one."""
    case, callback = served_case(desk, form)
    call_back(desk, form, callback, ("attitude", "窗口人员态度生硬"))
    [handover] = handovers(desk, case["id"])
    assert get_case(desk.system, desk.actor("gaohongxia"), handover["id"])["number"] == handover["number"]
    with pytest.raises(NotFound):  # another township: not theirs to see, as absent as an unknown id
        get_case(desk.system, desk.actor("wangjianjun"), handover["id"])


def test_r_10_1_the_dashboard_counts_open_and_overdue_handovers_per_unit(desk, form):
    """R-10.1 R-5.2: 民政局 has two problems handed over; past the deadline both are overdue; one dealt with
    leaves one open and overdue; a village's problem counts for the village station."""
    with time_machine.travel(T0, tick=False):
        case, callback = served_case(desk, form)
        call_back(desk, form, callback, ("attitude", "态度生硬"), ("integrity", GIFT))
        village, village_callback = served_case(desk, form, by="luxuemei", matter="GR-007")
        call_back(desk, form, village_callback, ("efficiency", "等候时间过长"))

    def counts(at):
        with time_machine.travel(at, tick=False):
            start, end = metrics.local_period(desk.system, date(2025, 11, 1), date(2025, 11, 30))
            report = metrics.quality(desk.system, desk.actor("wangxiuying"), start, end)
        return {u["unit"]: (u["handovers_open"], u["handovers_overdue"]) for u in report["by_unit"]
                if u["handovers_open"]}

    assert counts(T0 + timedelta(hours=1)) == {"CA-MZ": (2, 0), "CA-T01-V01": (1, 0)}
    late = datetime(2025, 11, 10, 9, 31, tzinfo=timezone.utc)
    assert counts(late) == {"CA-MZ": (2, 2), "CA-T01-V01": (1, 1)}  # past the due time, before any timer fires
    [integrity] = [h for h in handovers(desk, case["id"]) if h["tasks"][0]["name"] == "handle_integrity_problem"]
    with time_machine.travel(late, tick=False):
        desk.do(integrity["id"], "handle_integrity_problem", form("handle_integrity_problem"), by="wangxiuying")
    assert counts(late) == {"CA-MZ": (1, 1), "CA-T01-V01": (1, 1)}
