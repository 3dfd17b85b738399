"""一事一评 and 差评整改 across channels (R-7.2.1, R-10.1, R-10.2, R-4.d): a service case has one rating of
record, the first given online, at the window's rating device or by the callback; a bad one, from any channel,
starts one rectification written by the handling unit and reviewed by the centre office."""

from __future__ import annotations

from datetime import datetime, timedelta, timezone
from pathlib import Path

import pytest
import time_machine
from sqlalchemy import select

from bdd_workflow.db.models import Case, Evaluation
from bdd_workflow.errors import Conflict, DomainError, Forbidden, NotFound
from bdd_workflow.services import (definitions, evaluations, inbox, metrics, problems, public, publicity,
                                   rectifications, tasks)
from bdd_workflow.services.identity import SYSTEM
from bdd_workflow.services.timers import fire_due_timers

PHONE = "13812345678"
T0 = datetime(2025, 11, 3, 1, 0, tzinfo=timezone.utc)  # Monday 09:00 in Cheng'an
OLD_RECTIFICATION = Path(__file__).parent / "old_diagrams" / "rectification_before_issue_15.bpmn"


def completed_assist(desk, form, by="gaohongxia", matter="GR-002"):
    case = desk.start("assist", by=by, matter_code=matter)
    desk.do(case["id"], "guide_materials", form("guide_materials", materials_complete=True))
    desk.do(case["id"], "accompany_submission", form("accompany_submission"))
    desk.do(case["id"], "track_approval", form("track_approval", applicant_informed=True, approval_result="准予"))
    desk.do(case["id"], "hand_over_results", form("hand_over_results"))
    return desk.case(case["id"])


def completed_proxy(desk, form, by="xuzhiqiang", matter="GR-002"):
    case = desk.start("proxy", by=by, matter_code=matter)
    desk.do(case["id"], "record_entrustment", form("record_entrustment"))
    desk.do(case["id"], "submit_on_behalf", form("submit_on_behalf"))
    desk.do(case["id"], "track_approval", form("track_approval", needs_correction=False))
    desk.do(case["id"], "hand_over_results", form("hand_over_results"))
    desk.do(case["id"], "sign_completion_receipt", form("sign_completion_receipt", receipt_signed=True))
    return desk.case(case["id"])


def ratings(system, case_id):
    with system.db.unit_of_work(write=False) as session:
        return [(e.source, e.satisfaction, e.of_record) for e in session.scalars(
            select(Evaluation).where(Evaluation.case_id == case_id).order_by(Evaluation.id))]


def rectifications_of(desk, case_id):
    return [c for c in desk.case(case_id)["linked_cases"] if c["relation"] == "rectification" and c["direction"] == "to"]


def month(desk):
    start, end = metrics.local_period(desk.system, datetime(2025, 11, 1).date(), datetime(2025, 11, 30).date())
    return {f["key"]: f for f in metrics.quality(desk.system, desk.actor("wangxiuying"), start, end)["figures"]}


def test_r_7_2_1_r_4_d_three_channels_on_one_case_give_one_rating_of_record(desk, form, system):
    """R-7.2.1 一事一评, R-10.1, R-4.d: rated 满意 at the window first, the case refuses the online rating with the
    channel and time it was rated, and the callback still records its eight dimensions as its opinion only: its
    不满意 starts no rectification. R-4.d counts the case once, by the window's rating."""
    with time_machine.travel(T0, tick=False):
        case = completed_assist(desk, form)
        publicity.rate_at_window(system, desk.actor("gaohongxia"), case["number"], "satisfied")
    with time_machine.travel(T0 + timedelta(hours=1), tick=False):
        with pytest.raises(Conflict) as online:
            evaluations.rate(system, case["number"], PHONE, "very_dissatisfied", "太慢", "online", "applicant")
        assert online.value.message == ("这个办件已于 2025-11-03 09:00 通过窗口评价器评价为“满意”。"
                                        "一事一评，本次评价未记录，原评价不变。")
        with pytest.raises(Conflict, match="窗口评价器"):  # a second tap at the window is told the same
            publicity.counter_case(system, desk.actor("gaohongxia"), case["number"])
        looked_up = public.lookup(system, case["number"], PHONE)
        assert looked_up["can_rate"] is False and "通过窗口评价器评价为“满意”" in looked_up["rating"]["message"]
        callback = desk.linked(case["id"], "callback")
        page_rating = desk.task(callback["id"], "make_callback")
        result = desk.do(callback["id"], "make_callback", form("make_callback", satisfaction="dissatisfied"))
    assert page_rating.form == "callback_make_callback"
    assert result["case"]["status"] == "completed" and result["started_cases"] == []
    assert rectifications_of(desk, case["id"]) == []
    assert ratings(system, case["id"]) == [("window", "satisfied", True), ("callback", "dissatisfied", False)]
    with system.db.unit_of_work(write=False) as session:
        kept = session.scalars(select(Evaluation).where(Evaluation.source == "callback")).one()
        assert len(kept.scores) == 8  # the eight dimensions are asked and kept every time
    figures = month(desk)
    assert (figures["R-4.d"]["numerator"], figures["R-4.d"]["denominator"]) == (1, 1)
    assert figures["R-4.d"]["items"] == [case["id"]]


def test_r_10_1_the_callback_page_shows_the_rating_of_record(desk, form, system):
    """R-10.1 R-7.2.1: the consultant calling back a case already rated online sees that rating on the task."""
    case = completed_assist(desk, form)
    evaluations.rate(system, case["number"], PHONE, "very_satisfied", "很好", "online", "applicant")
    callback = desk.linked(case["id"], "callback")
    page = inbox.task_page(system, desk.actor("zhaolina"), desk.task(callback["id"], "make_callback").id)
    assert (page["rating"]["source_title"], page["rating"]["label"], page["rating"]["comment"]) == (
        "网上评价", "非常满意", "很好")


def test_r_10_1_a_callback_first_is_the_rating_of_record(desk, form, system):
    """R-10.1 R-7.2.1: the callback rates first; the online rating afterwards is refused and names the callback."""
    case = completed_assist(desk, form)
    callback = desk.linked(case["id"], "callback")
    desk.do(callback["id"], "make_callback", form("make_callback", satisfaction="very_satisfied"))
    with pytest.raises(Conflict, match="通过电话回访评价为“非常满意”"):
        evaluations.rate(system, case["number"], PHONE, "dissatisfied", None, "online", "applicant")
    assert ratings(system, case["id"]) == [("callback", "very_satisfied", True)]


def test_r_7_2_1_numbers_of_callback_rectification_complaint_and_problem_cases_cannot_be_rated(desk, form, system):
    """R-7.2.1: only a service case (帮办, 代办, 上门办) is rated; another case's number is refused plainly, also
    online with its applicant's phone, and nothing is recorded."""
    case = completed_assist(desk, form)
    callback = desk.linked(case["id"], "callback")
    desk.do(callback["id"], "make_callback", form("make_callback", satisfaction="dissatisfied"))
    rectification = desk.case(rectifications_of(desk, case["id"])[0]["id"])
    complaint = desk.start("complaint", by="zhaolina")
    running = desk.start("assist", by="gaohongxia", matter_code="GR-002")
    report = problems.report_problem(system, desk.actor("gaohongxia"), desk.ready(running["id"])[0].id,
                                     {"problem": "审批系统无法受理", "urgency": "normal"})
    for number, kind in ((callback["number"], "回访"), (rectification["number"], "差评整改"),
                         (complaint["number"], "投诉"), (report["number"], "问题上报")):
        with pytest.raises(DomainError, match=f"{number} 是{kind}办件的编号，不能评价"):
            evaluations.rate(system, number, PHONE, "very_dissatisfied", None, "online", "applicant")
        with pytest.raises(DomainError, match="不能评价"):
            publicity.rate_at_window(system, desk.actor("zhangwei"), number, "very_dissatisfied")
    with pytest.raises(DomainError, match="办件编号或手机号不正确"):  # a wrong phone learns nothing of the case
        evaluations.rate(system, callback["number"], "13900000000", "satisfied", None, "online", "applicant")
    with system.db.unit_of_work(write=False) as session:
        assert session.scalar(select(Evaluation.id).where(Evaluation.case_id != case["id"])) is None


@pytest.mark.parametrize("channel", ["window", "online"])
def test_r_10_2_a_bad_window_or_online_rating_starts_one_rectification_for_the_unit_s_assistant(
        desk, form, system, channel):
    """R-10.2: a bad rating at the window or online starts exactly one rectification, linked from the rated case;
    民政局 has no chief officer, so its assistant (the role that handled the assist case) writes it; a second
    attempt starts nothing."""
    case = completed_assist(desk, form)
    by = "gaohongxia" if channel == "window" else "applicant"
    result = evaluations.rate(system, case["number"], PHONE, "very_dissatisfied", None, channel, by)
    (link,) = rectifications_of(desk, case["id"])
    assert result["rectification"] == link["number"]
    rectification = desk.case(link["id"])
    (task,) = rectification["tasks"]
    assert (task["name"], task["role"], task["unit"], task["assignee"]) == (
        "submit_explanation_assistant", "assistant", "CA-MZ", None)
    assert task["due_at"] is not None
    with pytest.raises(Conflict):
        evaluations.rate(system, case["number"], PHONE, "dissatisfied", None, channel, by)
    assert len(rectifications_of(desk, case["id"])) == 1
    history = [(h["action"], h["detail"].get("title")) for h in desk.case(case["id"])["history"]
               if h["action"] in ("case_rated", "case_note")]
    channel_title = {"window": "窗口评价器", "online": "网上评价"}[channel]
    assert history == [("case_rated", f"{channel_title}：非常不满意"), ("case_note", "差评已转成安县民政局整改")]


def test_r_10_2_a_bad_online_rating_of_a_proxy_case_goes_to_the_proxy_agent(desk, form, system):
    """R-10.2: a proxy case's explanation is written by the handling unit's proxy agent."""
    case = completed_proxy(desk, form)
    evaluations.rate(system, case["number"], PHONE, "dissatisfied", "委托后没人联系", "online", "applicant")
    (link,) = rectifications_of(desk, case["id"])
    (task,) = desk.case(link["id"])["tasks"]
    assert (task["name"], task["role"], task["unit"]) == ("submit_explanation_proxy_agent", "proxy_agent", "CA-MZ")


def test_r_10_2_a_bad_callback_rating_of_a_township_case_goes_to_its_own_chief_officer(desk, form, system):
    """R-10.2: a unit with a chief officer of its own (成安镇) has its chief officer write the explanation."""
    case = completed_assist(desk, form, by="lina")
    assert case["unit"] == "CA-T01"
    callback = desk.linked(case["id"], "callback")
    result = desk.do(callback["id"], "make_callback", form("make_callback", satisfaction="very_dissatisfied"))
    (link,) = rectifications_of(desk, case["id"])
    assert [(c["number"], c["unit"]) for c in result["started_cases"]] == [(link["number"], "CA-T01")]
    (task,) = desk.case(link["id"])["tasks"]
    assert (task["name"], task["role"], task["unit"]) == ("submit_explanation", "chief_officer", "CA-T01")
    tasks.complete_task(system, desk.actor("wangjianjun"), task["id"], form("submit_explanation"))


def test_r_10_2_the_handling_unit_s_staff_write_it_and_the_office_sends_it_back_then_accepts(desk, form, system):
    """R-10.2: 民政局's assistant (no more 403) writes the explanation, the county chief officer cannot; the centre
    office sends it back with a reason to the writer, then accepts it; the printed explanation shows both rounds."""
    case = completed_assist(desk, form)
    publicity.rate_at_window(system, desk.actor("gaohongxia"), case["number"], "dissatisfied")
    rid = rectifications_of(desk, case["id"])[0]["id"]
    task = desk.task(rid, "submit_explanation_assistant")
    gao = desk.actor("gaohongxia")
    assert tasks.get_task(system, gao, task.id)["case"]["number"]  # visible to 民政局's own staff
    with pytest.raises(Forbidden):
        tasks.complete_task(system, desk.actor("zhangwei"), task.id, form("submit_explanation"))
    with pytest.raises(NotFound):  # another unit's assistant: the case is not theirs to see
        tasks.complete_task(system, desk.actor("songli"), task.id, form("submit_explanation"))
    tasks.complete_task(system, gao, task.id, form("submit_explanation", written_explanation="窗口解释不到位。"))
    review = desk.task(rid, "review_rectification")
    assert (review.role, review.unit_code) == ("supervisor", "CA")
    tasks.complete_task(system, desk.actor("wangxiuying"), review.id,
                        {"accepted": False, "review_opinion": "整改措施不具体，请写明培训时间和人员。"})
    again = desk.task(rid, "submit_explanation_assistant")
    assert again.assignee == "gaohongxia"  # back to the writer
    tasks.complete_task(system, gao, again.id, form("submit_explanation", rectification_measures="11月10日全员培训"))
    done = tasks.complete_task(system, desk.actor("wangxiuying"), desk.task(rid, "review_rectification").id,
                               {"accepted": True, "review_opinion": "整改到位。"})
    assert done["case"]["status"] == "completed"
    paper = rectifications.explanation(system, gao, rid)
    assert paper["rated"]["number"] == case["number"] and paper["rating"]["source_title"] == "窗口评价器"
    assert [(r["explanation"], r["review"]["accepted"], r["review"]["opinion"]) for r in paper["rounds"]] == [
        ("窗口解释不到位。", False, "整改措施不具体，请写明培训时间和人员。"),
        ("窗口人员解释不清，已批评教育。", True, "整改到位。")]
    with pytest.raises(NotFound):  # another unit's staff cannot read it: as absent as an unknown id
        rectifications.explanation(system, desk.actor("songli"), rid)


def test_r_10_2_the_dashboard_lists_open_and_overdue_rectifications_per_unit(desk, form, system):
    """R-10.2: the quality dashboard lists each unit's rectifications not yet accepted, and those overdue."""
    with time_machine.travel(T0, tick=False):
        first = completed_assist(desk, form)
        evaluations.rate(system, first["number"], PHONE, "dissatisfied", None, "online", "applicant")
    with time_machine.travel(datetime(2025, 11, 20, 2, 0, tzinfo=timezone.utc), tick=False):
        second = completed_assist(desk, form, by="songli", matter="GR-010")
        evaluations.rate(system, second["number"], PHONE, "dissatisfied", None, "online", "applicant")
        assert fire_due_timers(system) == 3  # 民政局's explanation, due 17 Nov, has gone up the whole ladder
        page = metrics.dashboard(system, desk.actor("wangxiuying"), datetime(2025, 11, 1).date(),
                                 datetime(2025, 11, 30).date())
        start, end = metrics.local_period(system, datetime(2025, 11, 1).date(), datetime(2025, 11, 30).date())
        api_report = metrics.quality(system, desk.actor("wangxiuying"), start, end)
    rows = {u["unit"]: (u["open"], u["overdue"]) for u in page["rectifications"]}
    assert rows == {"CA-MZ": (1, 1), "CA-RS": (1, 0)}
    assert api_report["rectifications"] == page["rectifications"]  # GET /api/v1/quality gives the same
    township = metrics.dashboard(system, desk.actor("wangjianjun"), datetime(2025, 11, 1).date(),
                                 datetime(2025, 11, 30).date())
    assert township["rectifications"] == []  # a township's chief officer sees his township only


def test_r_10_2_a_rectification_running_on_the_old_diagram_finishes_on_it(desk, form, system):
    """R-10.2: a rectification started before the new diagram was deployed stays on its version (its chief
    officer lane), while the next one starts on the new version and goes to the unit's assistant."""
    definitions.deploy(system, SYSTEM, OLD_RECTIFICATION.read_bytes(), "rectification.bpmn")
    case = completed_assist(desk, form)
    evaluations.rate(system, case["number"], PHONE, "dissatisfied", None, "online", "applicant")
    old_id = rectifications_of(desk, case["id"])[0]["id"]
    definitions.deploy(system, SYSTEM, (Path(__file__).parents[2] / "processes" / "rectification.bpmn").read_bytes(),
                       "rectification.bpmn")
    desk.do(old_id, "submit_explanation", form("submit_explanation"), by="zhangwei")
    done = desk.do(old_id, "review_rectification", form("review_rectification", accepted=True))
    assert done["case"]["status"] == "completed"
    newer = completed_assist(desk, form)
    evaluations.rate(system, newer["number"], PHONE, "dissatisfied", None, "online", "applicant")
    new_id = rectifications_of(desk, newer["id"])[0]["id"]
    with system.db.unit_of_work(write=False) as session:
        versions = dict(session.execute(select(Case.id, Case.version).where(Case.id.in_((old_id, new_id)))).all())
    assert versions[new_id] > versions[old_id]
    assert desk.ready_names(new_id) == ["submit_explanation_assistant"]


def test_r_7_2_1_r_10_2_ratings_through_the_api(app, desk, form, system):
    """R-7.2.1 R-10.2 through the API: the window's rating of a case (POST /cases/{id}/rating), the case showing its
    rating of record, a second rating refused with 409 saying when and how it was rated, a callback's number 422,
    another unit's staff 403, and the bad rating's rectification number in the answer."""
    client = app.test_client()

    def token(username):
        return {"Authorization": "Bearer " + client.post("/api/v1/auth/token", json={
            "username": username, "password": "demo1234"}).json["token"]}

    case = completed_assist(desk, form)
    callback = desk.linked(case["id"], "callback")
    gao = token("gaohongxia")
    refused = client.post(f"/api/v1/cases/{callback['id']}/rating", json={"satisfaction": "satisfied"},
                          headers=token("zhaolina"))
    assert refused.status_code == 422 and "不能评价" in refused.json["message"]
    other = client.post(f"/api/v1/cases/{case['id']}/rating", json={"satisfaction": "satisfied"}, headers=token("songli"))
    assert other.status_code == 404  # another unit's case: as absent as an unknown one
    bad_grade = client.post(f"/api/v1/cases/{case['id']}/rating", json={"satisfaction": "so-so"}, headers=gao)
    assert bad_grade.status_code == 422
    rated = client.post(f"/api/v1/cases/{case['id']}/rating", json={"satisfaction": "dissatisfied"}, headers=gao)
    assert rated.status_code == 201 and rated.json["label"] == "不满意"
    (link,) = rectifications_of(desk, case["id"])
    assert rated.json["rectification"] == link["number"]
    shown = client.get(f"/api/v1/cases/{case['id']}", headers=gao).json["rating"]
    assert (shown["source"], shown["satisfaction"], shown["bad"]) == ("window", "dissatisfied", True)
    again = client.post(f"/api/v1/cases/{case['id']}/rating", json={"satisfaction": "very_satisfied"}, headers=gao)
    assert again.status_code == 409 and "通过窗口评价器评价为“不满意”" in again.json["message"]
    # The callback completed through the API keeps its grades as its opinion only: no second rectification.
    task = desk.task(callback["id"], "make_callback")
    done = client.post(f"/api/v1/tasks/{task.id}/complete", headers=token("zhaolina"),
                       json={"data": form("make_callback", satisfaction="very_dissatisfied")})
    assert done.status_code == 200 and done.json["started_cases"] == []
    assert len(rectifications_of(desk, case["id"])) == 1
    assert ratings(system, case["id"]) == [("window", "dissatisfied", True), ("callback", "very_dissatisfied", False)]


def test_r_7_2_1_two_channels_at_the_same_moment_give_one_rating_and_a_conflict(desk, form, system):
    """R-7.2.1: should two channels record a rating of record at once (each having found none), the database keeps
    one (a unique index per case) and the other is a clear 409, nothing of it kept."""
    case = completed_assist(desk, form)
    evaluations.rate(system, case["number"], PHONE, "satisfied", None, "online", "applicant")
    now = system.clock.now()
    with pytest.raises(Conflict, match="刚刚在其他渠道评价过了"):
        with system.db.unit_of_work() as session:  # as the window would, had it read before the online commit
            evaluations.insert_rating(session, case["id"], "CA-MZ", "window", "very_dissatisfied", {}, None, "gaohongxia",
                                now, of_record=True)
    assert ratings(system, case["id"]) == [("online", "satisfied", True)]
