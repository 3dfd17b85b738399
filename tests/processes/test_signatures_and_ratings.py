"""Signatures on the entrustment and the receipt (R-9.2.1, R-9.2.3), ratings from every channel
(R-10.1, R-7.2.1, 一事一评), online applications (R-9.1.2, R-9.3.1), reassignment (R-6.4.1)."""

from __future__ import annotations

import pytest
from sqlalchemy import select

from bdd_workflow.db.models import Evaluation
from bdd_workflow.errors import Conflict, DomainError, Forbidden, FormInvalid, NotFound
from bdd_workflow.services import attachments, evaluations, public, tasks


def test_r_9_2_1_the_entrustment_needs_the_applicants_signature_on_file(desk, form):
    case = desk.start("proxy", by="xuzhiqiang", matter_code="GR-002")
    with pytest.raises(FormInvalid) as refused:
        desk.do(case["id"], "record_entrustment", form("record_entrustment"), sign=False)
    assert "signature" in refused.value.errors
    assert desk.ready_names(case["id"]) == ["record_entrustment"]
    desk.do(case["id"], "record_entrustment", form("record_entrustment"))  # signed first
    assert desk.ready_names(case["id"]) == ["submit_on_behalf"]


def test_r_9_2_3_an_unsigned_receipt_needs_no_signature_a_signed_one_does(desk, form):
    case = desk.start("proxy", by="xuzhiqiang", matter_code="GR-002")
    for name in ("record_entrustment", "submit_on_behalf"):
        desk.do(case["id"], name, form(name))
    desk.do(case["id"], "track_approval", form("track_approval", needs_correction=False))
    desk.do(case["id"], "hand_over_results", form("hand_over_results"))
    desk.do(case["id"], "sign_completion_receipt", {"receipt_signed": False, "not_signed_reason": "外出"}, sign=False)
    desk.do(case["id"], "receipt_await", form("receipt_await"))  # back, ready to sign (R-4.a: the wait)
    with pytest.raises(FormInvalid) as refused:
        desk.do(case["id"], "sign_completion_receipt", form("sign_completion_receipt", receipt_signed=True), sign=False)
    assert "signature" in refused.value.errors


def test_attachments_are_checked_and_kept_per_case(desk, system):
    case = desk.start("assist", by="gaohongxia", matter_code="GR-002")
    staff = desk.actor("gaohongxia")
    with pytest.raises(FormInvalid):
        attachments.add(system, staff, case["id"], "photo", b"MZ\x90\x00 not an image", "x.exe", "application/x-msdownload")
    with pytest.raises(FormInvalid):
        attachments.add(system, staff, case["id"], "photo", b"not really a png", "p.png", "image/png")
    png = desk.SIGNATURE_PNG
    kept = attachments.add(system, staff, case["id"], "photo", png, "../../etc/现场.png", "image/png")
    assert kept["filename"] == "现场.png"
    meta, data = attachments.content(system, staff, kept["id"])
    assert data == png and meta["kind"] == "photo"
    with pytest.raises(NotFound):  # another township's assistant may not read it
        attachments.content(system, desk.actor("zhaomin"), kept["id"])


def completed_assist(desk, form):
    case = desk.start("assist", by="gaohongxia", matter_code="GR-002")
    desk.do(case["id"], "guide_materials", form("guide_materials", materials_complete=True))
    desk.do(case["id"], "accompany_submission", form("accompany_submission"))
    desk.do(case["id"], "track_approval", form("track_approval", applicant_informed=True, approval_result="准予"))
    desk.do(case["id"], "hand_over_results", form("hand_over_results"))
    return case


def test_r_10_1_the_callbacks_rating_counts_for_the_case_it_follows_up(desk, form, system):
    case = completed_assist(desk, form)
    callback = desk.linked(case["id"], "callback")
    desk.do(callback["id"], "make_callback", form("make_callback", satisfaction="dissatisfied", issues_found="等待太久"))
    with system.db.unit_of_work(write=False) as session:
        rating = session.scalars(select(Evaluation)).one()
    assert (rating.case_id, rating.source, rating.satisfaction, rating.bad) == (case["id"], "callback", "dissatisfied", True)
    assert rating.scores["score_attitude"] == 5 and rating.unit_code == "CA-MZ"


def test_r_7_2_1_online_and_window_ratings_one_per_case(desk, form, system):
    case = completed_assist(desk, form)
    with pytest.raises(DomainError):
        evaluations.rate(system, case["number"], "13900000000", "satisfied", None, "online", "applicant")
    evaluations.rate(system, case["number"], "13812345678", "very_satisfied", "很好", "online", "applicant")
    with pytest.raises(Conflict):  # 一事一评
        evaluations.rate(system, case["number"], "13812345678", "satisfied", None, "online", "applicant")
    with pytest.raises(Conflict, match="通过网上评价评价为“非常满意”"):  # 一事一评: any channel
        evaluations.rate(system, case["number"], "", "satisfied", None, "window", "gaohongxia")
    with system.db.unit_of_work(write=False) as session:
        sources = sorted(session.scalars(select(Evaluation.source)))
    assert sources == ["online"]


def test_r_9_1_2_an_applicant_applies_online_and_looks_the_case_up(desk, system):
    applied = public.apply_online(system, "onsite", {
        "applicant_name": "李强", "applicant_phone": "13911112222", "applicant_type": "personal",
        "matter_code": "GR-007", "address": "成安县成安镇北关村 8 号"})
    assert applied["number"].startswith("SM")
    found = public.lookup(system, applied["number"].lower(), "13911112222")
    assert found["status_title"] == "办理中" and found["matter"] == "高龄津贴申领"
    assert len(found["current_steps"]) == 1 and found["unit"] == "成安县民政局"
    with pytest.raises(DomainError):  # a wrong phone gets the same answer as a wrong number
        public.lookup(system, applied["number"], "13900000000")
    with pytest.raises(DomainError):  # online: assist, proxy or onsite only
        public.apply_online(system, "complaint", {"applicant_name": "李强"})


def test_r_6_4_1_the_chief_officer_reassigns_and_staff_unclaim(desk, system):
    case = desk.start("assist", by="gaohongxia", matter_code="GR-002")
    task = desk.task(case["id"], "guide_materials")
    tasks.claim_task(system, desk.actor("gaohongxia"), task.id)
    with pytest.raises(Forbidden):
        tasks.reassign_task(system, desk.actor("gaohongxia"), task.id, "lijianhua")
    with pytest.raises(FormInvalid):  # a proxy agent cannot do an assistant's task
        tasks.reassign_task(system, desk.actor("zhangwei"), task.id, "xuzhiqiang")
    with pytest.raises(Forbidden):  # 成安镇's chief officer does not direct 民政局
        tasks.reassign_task(system, desk.actor("wangjianjun"), task.id, "lina")
    moved = tasks.reassign_task(system, desk.actor("zhangwei"), task.id, "gaohongxia")
    assert moved["assignee"] == "gaohongxia"
    back = tasks.unclaim_task(system, desk.actor("gaohongxia"), task.id)
    assert back["assignee"] is None


def test_the_status_page_knows_a_case_was_already_rated_online(desk, form, system):
    case = completed_assist(desk, form)
    assert public.lookup(system, case["number"], "13812345678")["can_rate"] is True
    evaluations.rate(system, case["number"], "13812345678", "satisfied", None, "online", "applicant")
    after = public.lookup(system, case["number"], "13812345678")
    assert after["rated"] is True and after["can_rate"] is False


def test_completing_a_step_reports_the_linked_cases_it_started(desk, form):
    """The consultant is told that a bad rating started a rectification, and for which unit (R-10.2)."""
    case = completed_assist(desk, form)
    callback = desk.linked(case["id"], "callback")
    result = desk.do(callback["id"], "make_callback", form("make_callback", satisfaction="very_dissatisfied"))
    assert [(c["process"], c["relation"], c["unit"]) for c in result["started_cases"]] == [
        ("rectification", "rectification", "CA-MZ")]
