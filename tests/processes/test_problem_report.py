"""问题上报 (R-6.4.1–3): staff report a problem met on a task to the chief officer who directs their unit; the
answer comes back to the reporter's inbox and into the source case's history; a late answer escalates."""

from __future__ import annotations

from datetime import datetime, timezone

import pytest
import time_machine

from bdd_workflow.errors import Forbidden, FormInvalid, TaskNotReady
from bdd_workflow.services import access, problems, tasks
from bdd_workflow.services.cases import start_case
from bdd_workflow.services.timers import fire_due_timers

T0 = datetime(2025, 11, 3, 1, 0, tzinfo=timezone.utc)  # Monday 09:00 in Cheng'an
PROBLEM = {"problem": "民政局审批系统无法受理，申请人已在窗口等候。", "urgency": "normal", "needs": "请协调审批科"}
ANSWER = {"answer": "已联系审批科，系统下午恢复，请先收件登记。", "actions_taken": "协调审批科当天优先审核"}


def assist_case(desk, by="gaohongxia", matter="GR-002"):
    case = desk.start("assist", by=by, matter_code=matter)
    return case, desk.ready(case["id"])[0]


def report(desk, task, by, **data):
    return problems.report_problem(desk.system, desk.actor(by), task.id, {**PROBLEM, **data})


def test_r_6_4_2_a_reported_problem_reaches_the_chief_officer_and_the_answer_comes_back(desk):
    """R-6.4.2: an assistant reports; the county chief officer answers; the reporter reads the answer in their
    own inbox; both the report and the answer are in the source case's history; the source task stays open."""
    with time_machine.travel(T0, tick=False):
        case, task = assist_case(desk)
        reported = report(desk, task, "gaohongxia")
    assert reported["chief_unit"] == "CA"  # 民政局 is directed by the county centre's chief officer
    report_case = desk.linked(case["id"], "problem_report")
    assert report_case["number"].startswith("WT") and report_case["unit"] == "CA-MZ"
    answer_task = desk.task(report_case["id"], "answer_problem")
    assert answer_task.role == "chief_officer" and answer_task.unit_code == "CA"
    # 一般: one working day, to the close of Tuesday.
    assert answer_task.due_at.astimezone(desk.system.calendar.tz).isoformat() == "2025-11-04T17:30:00+08:00"
    zhangwei = desk.actor("zhangwei")
    inbox = tasks.list_tasks(desk.system, zhangwei, scope="group")
    assert answer_task.id in [t["id"] for t in inbox["items"]]

    desk.do(report_case["id"], "answer_problem", ANSWER, by="zhangwei")
    read = desk.task(report_case["id"], "read_answer_assistant")
    assert read.assignee == "gaohongxia" and read.unit_code == "CA-MZ"
    mine = tasks.list_tasks(desk.system, desk.actor("gaohongxia"), scope="mine")
    assert read.id in [t["id"] for t in mine["items"]]
    done = desk.do(report_case["id"], "read_answer_assistant", {"answer_read": True}, by="gaohongxia")
    assert done["case"]["status"] == "completed" and done["case"]["breaches"] == 0

    source = desk.case(case["id"])
    notes = [e for e in source["history"] if e["action"] == "case_note"]
    assert [n["detail"]["label"] for n in notes] == ["问题上报", "问题答复"]
    assert PROBLEM["problem"] in notes[0]["detail"]["title"] and notes[0]["actor"] == "gaohongxia"
    assert ANSWER["answer"] in notes[1]["detail"]["title"] and notes[1]["actor"] == "zhangwei"
    assert task.id in [t["id"] for t in source["tasks"]]  # the work itself goes on


def test_r_6_4_1_a_village_problem_goes_to_the_township_chief_officer(desk):
    """R-6.4.1, R-3.3: the nearest chief officer up the levels answers; the county's may too."""
    case, task = assist_case(desk, by="luxuemei", matter="GR-001")
    assert task.unit_code == "CA-T01-V01"
    reported = report(desk, task, "luxuemei")
    assert reported["chief_unit"] == "CA-T01"
    answer = desk.task(reported["id"], "answer_problem")
    for chief in ("wangjianjun", "zhangwei"):
        assert answer.id in [t["id"] for t in tasks.list_tasks(desk.system, desk.actor(chief), scope="group")["items"]]
    desk.do(reported["id"], "answer_problem", ANSWER, by="wangjianjun")
    assert desk.task(reported["id"], "read_answer_assistant").assignee == "luxuemei"


def test_r_6_4_3_a_proxy_agent_reads_the_answer_in_their_own_lane(desk):
    """R-6.4.3: a proxy agent's report comes back to the proxy agent."""
    case = desk.start("proxy", by="xuzhiqiang", matter_code="GR-002")
    task = desk.ready(case["id"])[0]
    reported = report(desk, task, "xuzhiqiang", urgency="urgent")
    desk.do(reported["id"], "answer_problem", ANSWER, by="zhangwei")
    assert desk.ready_names(reported["id"]) == ["read_answer_proxy_agent"]
    assert desk.task(reported["id"], "read_answer_proxy_agent").assignee == "xuzhiqiang"


def test_r_6_4_2_an_urgent_problem_is_due_in_hours_and_a_late_answer_escalates(desk):
    """R-6.4.2, R-6.4.1: urgent means two hours; past it the centre office is alerted, the answer stays open."""
    with time_machine.travel(T0, tick=False):
        case, task = assist_case(desk)
        reported = report(desk, task, "gaohongxia", urgency="urgent")
    answer = desk.task(reported["id"], "answer_problem")
    assert answer.due_at.astimezone(desk.system.calendar.tz).isoformat() == "2025-11-03T11:00:00+08:00"
    with time_machine.travel(datetime(2025, 11, 3, 3, 1, tzinfo=timezone.utc), tick=False):
        assert fire_due_timers(desk.system) == 1
    assert desk.ready_names(reported["id"]) == ["answer_problem", "escalate_answer_breach"]
    assert desk.task(reported["id"], "escalate_answer_breach").role == "supervisor"
    assert desk.case(reported["id"])["breaches"] == 1


def test_r_6_4_2_bad_reports_change_nothing(desk):
    """R-6.4.2, R-6.2: empty text, someone who may not work the task, a finished task: refused, nothing started."""
    case, task = assist_case(desk)
    with pytest.raises(FormInvalid) as empty:
        report(desk, task, "gaohongxia", problem="   ")
    assert empty.value.errors["problem"] == ["请写明遇到的问题。"]
    with pytest.raises(FormInvalid) as no_urgency:
        problems.report_problem(desk.system, desk.actor("gaohongxia"), task.id, {"problem": "系统故障"})
    assert "urgency" in no_urgency.value.errors
    with pytest.raises(Forbidden):
        report(desk, task, "lijianhua")  # an assistant of another unit
    with pytest.raises(Forbidden):
        report(desk, task, "xuzhiqiang")  # a proxy agent of the same unit: not their task
    desk.do(case["id"], task.name, {"guidance": "您好，请按一次性告知单准备材料。", "materials_complete": True},
            by="gaohongxia")
    with pytest.raises(TaskNotReady):
        report(desk, task, "gaohongxia")
    assert [c for c in desk.case(case["id"])["linked_cases"] if c["relation"] == "problem_report"] == []


def test_r_6_4_2_a_report_is_only_started_from_a_task(desk):
    """R-6.4.2: a problem report is about a task; it cannot be started on its own."""
    with pytest.raises(Forbidden):
        start_case(desk.system, desk.actor("zhangwei"), "problem_report", {**PROBLEM})


def test_r_6_4_1_the_nearest_unit_with_a_chief_officer(desk):
    """R-6.4.1: whoever directs a unit is found at it or above it."""
    with desk.system.db.unit_of_work(write=False) as session:
        assert access.directing_unit(desk.system, session, "CA-T01-V01") == "CA-T01"
        assert access.directing_unit(desk.system, session, "CA-MZ") == "CA"
        assert access.directing_unit(desk.system, session, "CA") == "CA"
        assert access.directing_unit(desk.system, session, None) is None


def test_r_6_4_1_r_6_4_2_an_unanswered_village_problem_climbs_to_the_county(desk):
    """R-6.4.1 R-6.4.2: the township chief officer's answer due 2025-11-04 17:30 still missing, the centre office
    is alerted, a working day later the county chief officer who directs the township, a day after that the
    office again; each escalation is a breach; answering ends the ladder."""
    from datetime import timedelta
    with time_machine.travel(T0, tick=False):
        _case, task = assist_case(desk, by="luxuemei", matter="GR-002")  # GR-002: its own deadline (20 working days) stays out of the way
        reported = report(desk, task, "luxuemei")
    rid = reported["id"]
    ladder = [("answer_overdue", "escalate_answer_breach", datetime(2025, 11, 4, 9, 30, tzinfo=timezone.utc), "supervisor"),
              ("answer_overdue_county", "escalate_answer_breach_county", datetime(2025, 11, 5, 9, 30, tzinfo=timezone.utc),
               "chief_officer"),
              ("answer_overdue_office", "escalate_answer_breach_office", datetime(2025, 11, 6, 9, 30, tzinfo=timezone.utc),
               "supervisor")]
    assert {t["task"]: t["due_at"] for t in desk.case(rid)["timers"]} == {t: at for t, _, at, _ in ladder}
    expected = ["answer_problem"]
    for timer, escalation, at, role in ladder:
        with time_machine.travel(at - timedelta(minutes=1), tick=False):
            assert fire_due_timers(desk.system) == 0
        with time_machine.travel(at + timedelta(minutes=1), tick=False):
            assert fire_due_timers(desk.system) == 1
            expected.append(escalation)
            assert desk.ready_names(rid) == sorted(expected)
            row = desk.task(rid, escalation)
            assert (row.role, row.unit_code, row.form) == (role, "CA", "problem_report_escalate_breach")
    assert desk.case(rid)["breaches"] == 3
    with time_machine.travel(datetime(2025, 11, 7, 2, 0, tzinfo=timezone.utc), tick=False):
        desk.do(rid, "escalate_answer_breach_county", {"acknowledged": True, "measures_taken": "已督促成安镇首席服务专员答复"},
                by="zhangwei")
        desk.do(rid, "answer_problem", ANSWER, by="wangjianjun")
        assert desk.case(rid)["timers"] == []
    assert desk.case(rid)["breaches"] == 3


def test_r_6_4_2_answering_after_the_first_escalation_cancels_the_rest(desk):
    """R-6.4.2: an urgent problem answered after the centre office was alerted escalates no further."""
    with time_machine.travel(T0, tick=False):
        _case, task = assist_case(desk)
        reported = report(desk, task, "gaohongxia", urgency="urgent")
    rid = reported["id"]
    with time_machine.travel(datetime(2025, 11, 3, 3, 1, tzinfo=timezone.utc), tick=False):
        assert fire_due_timers(desk.system) == 1
        desk.do(rid, "answer_problem", ANSWER)
        assert desk.case(rid)["timers"] == []
    with time_machine.travel(datetime(2025, 11, 20, 2, 0, tzinfo=timezone.utc), tick=False):
        assert fire_due_timers(desk.system) == 0
        assert desk.ready_names(rid) == ["escalate_answer_breach", "read_answer_assistant"]
    assert desk.case(rid)["breaches"] == 1
