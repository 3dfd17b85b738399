"""回访与评价 (R-10.1, R-10.2): every completed case is called back; a bad rating owes a rectification."""

from __future__ import annotations

from datetime import datetime, timezone

import pytest
import time_machine

from bdd_workflow.services.timers import fire_due_timers

T0 = datetime(2025, 11, 3, 1, 0, tzinfo=timezone.utc)


def completed_assist(desk, form):
    case = desk.start("assist", by="gaohongxia", matter_code="GR-002")
    desk.do(case["id"], "guide_materials", form("guide_materials", materials_complete=True))
    desk.do(case["id"], "accompany_submission", form("accompany_submission"))
    desk.do(case["id"], "track_approval", form("track_approval", applicant_informed=True, approval_result="准予"))
    desk.do(case["id"], "hand_over_results", form("hand_over_results"))
    return case, desk.linked(case["id"], "callback")


def test_r_10_1_callback_records_the_eight_dimensions(desk, form):
    """R-10.1: the consultant records attitude, quality, efficiency, integrity, standard service, openness,
    completion in time and one-time notice; a good rating archives the case (R-10.2)."""
    case, callback = completed_assist(desk, form)
    assert callback["applicant_phone"] == "13812345678"  # the consultant needs the number to call
    result = desk.do(callback["id"], "make_callback", form("make_callback", satisfaction="satisfied"))
    assert result["case"]["status"] == "completed"
    recorded = [h for h in desk.case(callback["id"])["history"] if h["action"] == "task_completed"][0]["detail"]["data"]
    assert {k for k in recorded if k.startswith("score_")} == {
        "score_attitude", "score_quality", "score_efficiency", "score_integrity", "score_standard",
        "score_openness", "score_timeliness", "score_one_time_notice"}
    assert not [c for c in desk.case(callback["id"])["linked_cases"] if c["relation"] == "rectification"]


def test_r_10_1_the_callback_desk_opens_the_case_it_is_calling_about(desk, form):
    """R-10.1 R-6.2: the consultant making the callback reads the service case it follows up (its steps and
    who did them), and finds it in her case list; another unit's assistant still does not."""
    from bdd_workflow.errors import NotFound
    from bdd_workflow.services.cases import get_case, list_cases

    case, callback = completed_assist(desk, form)
    consultant = desk.actor("zhaolina")  # 咨询中心
    seen = get_case(desk.system, consultant, case["id"])
    assert seen["number"] == case["number"]
    assert {t["name"] for t in seen["completed_tasks"]} >= {"guide_materials", "hand_over_results"}
    assert case["id"] in {c["id"] for c in list_cases(desk.system, consultant, process="assist")["items"]}
    with pytest.raises(NotFound):
        get_case(desk.system, desk.actor("lijianhua"), case["id"])  # 行政审批局: not theirs


@pytest.mark.parametrize("grade", ["dissatisfied", "very_dissatisfied"])
def test_r_10_2_bad_rating_opens_a_rectification_for_the_responsible_unit(desk, form, grade):
    """R-10.2: a bad rating -> the responsible unit owes a written explanation and a fix."""
    case, callback = completed_assist(desk, form)
    desk.do(callback["id"], "make_callback", form("make_callback", satisfaction=grade, issues_found="等待时间过长"))
    # The rectification is about the rated service case (linked from it, as a window or online rating's is).
    rectification = desk.linked(case["id"], "rectification")
    assert not [c for c in desk.case(callback["id"])["linked_cases"] if c["relation"] == "rectification"]
    assert rectification["process"] == "rectification"
    task = rectification["tasks"][0]
    # 民政局 has no chief officer of its own: its assistant, who handled the assist case, writes it.
    assert (task["name"], task["role"], task["unit"]) == ("submit_explanation_assistant", "assistant", "CA-MZ")
    assert task["due_at"] is not None


def test_r_10_2_rejected_rectification_goes_back_then_accepted_ends(desk, form):
    """R-10.2: the centre office reviews the explanation; not accepted goes back to the unit."""
    case, callback = completed_assist(desk, form)
    desk.do(callback["id"], "make_callback", form("make_callback", satisfaction="dissatisfied"))
    rectification = desk.linked(case["id"], "rectification")
    desk.do(rectification["id"], "submit_explanation_assistant", form("submit_explanation"), by="gaohongxia")
    review = desk.task(rectification["id"], "review_rectification")
    assert review.role == "supervisor"
    desk.do(rectification["id"], "review_rectification", form("review_rectification", accepted=False))
    assert desk.ready_names(rectification["id"]) == ["submit_explanation_assistant"]
    # Sent back to whoever wrote it.
    assert desk.task(rectification["id"], "submit_explanation_assistant").assignee == "gaohongxia"
    desk.do(rectification["id"], "submit_explanation_assistant", form("submit_explanation"), by="gaohongxia")
    result = desk.do(rectification["id"], "review_rectification", form("review_rectification", accepted=True))
    assert result["case"]["status"] == "completed"


def test_r_10_2_missed_rectification_deadline_escalates_to_the_centre_office(desk, form):
    """R-10.2: no explanation by the deadline (10 working days by default) -> escalation, breach counted."""
    with time_machine.travel(T0, tick=False):
        case, callback = completed_assist(desk, form)
        desk.do(callback["id"], "make_callback", form("make_callback", satisfaction="very_dissatisfied"))
        rectification = desk.linked(case["id"], "rectification")
    due = desk.task(rectification["id"], "submit_explanation_assistant").due_at
    assert due.astimezone(desk.system.calendar.tz).isoformat() == "2025-11-17T17:30:00+08:00"
    with time_machine.travel(due.replace(minute=31), tick=False):
        assert fire_due_timers(desk.system) == 1
    assert desk.ready_names(rectification["id"]) == ["escalate_rectification_breach", "submit_explanation_assistant"]
    assert desk.case(rectification["id"])["breaches"] == 1


def test_r_10_2_r_6_4_1_an_explanation_still_missing_keeps_escalating(desk, form):
    """R-10.2 R-6.4.1–3: the explanation due 2025-11-17 17:30 still missing, the county chief officer is asked a
    working day after the centre office, the office again a day later; each is a breach; submitting it ends them."""
    from datetime import timedelta
    with time_machine.travel(T0, tick=False):
        case, callback = completed_assist(desk, form)
        desk.do(callback["id"], "make_callback", form("make_callback", satisfaction="very_dissatisfied"))
        rectification = desk.linked(case["id"], "rectification")
    ladder = [("rectification_overdue_assistant", "escalate_rectification_breach", datetime(2025, 11, 17, 9, 30, tzinfo=timezone.utc),
               "supervisor"),
              ("rectification_overdue_assistant_county", "escalate_rectification_breach_county",
               datetime(2025, 11, 18, 9, 30, tzinfo=timezone.utc), "chief_officer"),
              ("rectification_overdue_assistant_office", "escalate_rectification_breach_office",
               datetime(2025, 11, 19, 9, 30, tzinfo=timezone.utc), "supervisor")]
    rid = rectification["id"]
    assert {t["task"]: t["due_at"] for t in desk.case(rid)["timers"]} == {t: at for t, _, at, _ in ladder}
    expected = ["submit_explanation_assistant"]
    for timer, escalation, at, role in ladder:
        with time_machine.travel(at - timedelta(minutes=1), tick=False):
            assert fire_due_timers(desk.system) == 0
        with time_machine.travel(at + timedelta(minutes=1), tick=False):
            assert fire_due_timers(desk.system) == 1
            expected.append(escalation)
            assert desk.ready_names(rid) == sorted(expected)
            row = desk.task(rid, escalation)
            assert (row.role, row.unit_code, row.form) == (role, "CA", "rectification_escalate_breach")
    assert desk.case(rid)["breaches"] == 3
    with time_machine.travel(datetime(2025, 11, 20, 2, 0, tzinfo=timezone.utc), tick=False):
        desk.do(rid, "submit_explanation_assistant", form("submit_explanation"))
        assert desk.case(rid)["timers"] == []
        for _, escalation, _, _ in ladder:
            desk.do(rid, escalation, form("escalate_rectification_breach"))
        result = desk.do(rid, "review_rectification", form("review_rectification", accepted=True))
    assert result["case"]["status"] == "completed" and result["case"]["breaches"] == 3


def test_r_10_2_submitting_after_the_first_escalation_cancels_the_rest(desk, form):
    """R-10.2: submitted after the centre office was alerted, no further escalation comes."""
    with time_machine.travel(T0, tick=False):
        case, callback = completed_assist(desk, form)
        desk.do(callback["id"], "make_callback", form("make_callback", satisfaction="very_dissatisfied"))
        rid = desk.linked(case["id"], "rectification")["id"]
    with time_machine.travel(datetime(2025, 11, 17, 9, 31, tzinfo=timezone.utc), tick=False):
        assert fire_due_timers(desk.system) == 1
        desk.do(rid, "submit_explanation_assistant", form("submit_explanation"))
    with time_machine.travel(datetime(2025, 12, 15, 2, 0, tzinfo=timezone.utc), tick=False):
        assert fire_due_timers(desk.system) == 0
        assert desk.ready_names(rid) == ["escalate_rectification_breach", "review_rectification"]
    assert desk.case(rid)["breaches"] == 1
