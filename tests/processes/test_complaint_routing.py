"""Complaints reach whom they are about (R-4.c, R-5.2): the case and/or staff member a complaint names are
checked, the chief officer who directs that unit handles it (a chief officer complained about: the centre
office), and the finding counts in the unit's and the staff member's figures."""

from __future__ import annotations

from datetime import date, datetime, timezone

import pytest
import time_machine
from sqlalchemy import func, select

from bdd_workflow.db.models import Case, ComplaintFinding
from bdd_workflow.errors import FormInvalid
from bdd_workflow.services import accountability, metrics

T0 = datetime(2025, 11, 3, 1, 0, tzinfo=timezone.utc)  # Monday


def served(desk, form, by="gaohongxia", matter="GR-002"):
    case = desk.start("assist", by=by, matter_code=matter)
    desk.do(case["id"], "guide_materials", form("guide_materials", materials_complete=True))
    return case


def complain(desk, form, **about):
    case = desk.start("complaint", by="zhaolina", channel="phone", complaint_text="窗口人员态度生硬", **about)
    desk.do(case["id"], "record_complaint", form("record_complaint"))
    return case


def count_cases(desk) -> int:
    with desk.system.db.unit_of_work(write=False) as session:
        return session.scalar(select(func.count()).select_from(Case))


def test_r_4_c_an_unknown_case_number_is_refused_beside_the_field(desk, form):
    """R-4.c: a complaint about case BB20990101999999, which does not exist, starts nothing."""
    before = count_cases(desk)
    with pytest.raises(FormInvalid) as refused:
        desk.start("complaint", by="zhaolina", channel="phone", complaint_text="态度差",
                   about_case_number="BB20990101999999")
    assert refused.value.errors == {"about_case_number": ["没有编号为 BB20990101999999 的办件，请核对办件编号。"]}
    with pytest.raises(FormInvalid) as refused:
        desk.start("complaint", by="zhaolina", channel="phone", complaint_text="态度差", about_staff="nobody")
    assert list(refused.value.errors) == ["about_staff"]
    assert count_cases(desk) == before


def test_r_4_c_a_complaint_about_a_case_of_the_civil_affairs_bureau_goes_to_who_directs_it(desk, form):
    """R-4.c R-6.4.1: 民政局 has no chief officer; the county chief officer directs it and handles the complaint."""
    case = served(desk, form)
    complaint = complain(desk, form, about_case_number=case["number"])
    task = desk.task(complaint["id"], "handle_complaint")
    assert (task.role, task.unit_code) == ("chief_officer", "CA")


def test_r_4_c_a_complaint_about_a_village_case_goes_to_its_township_chief_officer(desk, form):
    """R-4.c R-3.3: a case of 东关社区 is directed by 成安镇's chief officer, who handles the complaint; the
    county's consultation centre that recorded it does not."""
    case = served(desk, form, by="luxuemei", matter="GR-007")
    complaint = complain(desk, form, about_case_number=case["number"])
    task = desk.task(complaint["id"], "handle_complaint")
    assert (task.role, task.unit_code) == ("chief_officer", "CA-T01")
    desk.do(complaint["id"], "handle_complaint", form("handle_complaint"), by="wangjianjun")
    assert desk.ready_names(complaint["id"]) == ["reply_to_complainant"]


def test_r_4_c_a_complaint_about_a_staff_member_goes_to_who_directs_their_unit(desk, form):
    """R-4.c: the township assistant 李娜 is complained about: 成安镇's chief officer handles it."""
    complaint = complain(desk, form, about_staff="lina")
    task = desk.task(complaint["id"], "handle_complaint")
    assert (task.role, task.unit_code) == ("chief_officer", "CA-T01")


def test_r_4_c_a_complaint_about_a_chief_officer_goes_to_the_centre_office(desk, form):
    """R-4.c R-5.2: 王建军 is 成安镇's chief officer; the centre office handles a complaint about him."""
    complaint = complain(desk, form, about_staff="wangjianjun")
    assert desk.ready_names(complaint["id"]) == ["handle_complaint_office"]
    task = desk.task(complaint["id"], "handle_complaint_office")
    assert (task.role, task.unit_code) == ("supervisor", "CA")
    desk.do(complaint["id"], "handle_complaint_office", form("handle_complaint", complaint_substantiated=False),
            by="wangxiuying")
    assert desk.ready_names(complaint["id"]) == ["reply_to_complainant"]


def test_r_5_2_the_finding_counts_for_the_unit_and_the_staff_member(desk, form):
    """R-5.2 R-4.c: an upheld complaint about 高红霞's case counts for 民政局 and for her; one not upheld counts as
    decided only; the quality report shows both per unit and per staff member."""
    with time_machine.travel(T0, tick=False):
        case = served(desk, form)
        upheld = complain(desk, form, about_case_number=case["number"], about_staff="gaohongxia")
        desk.do(upheld["id"], "handle_complaint", form("handle_complaint", complaint_substantiated=True), by="zhangwei")
        cleared = complain(desk, form, about_staff="gaohongxia")
        desk.do(cleared["id"], "handle_complaint", form("handle_complaint", complaint_substantiated=False), by="zhangwei")
    with desk.system.db.unit_of_work(write=False) as session:
        rows = session.execute(select(ComplaintFinding.case_id, ComplaintFinding.about_case_id, ComplaintFinding.unit_code,
                                      ComplaintFinding.staff_username, ComplaintFinding.upheld)
                               .order_by(ComplaintFinding.case_id)).all()
        assert [tuple(r) for r in rows] == [(upheld["id"], case["id"], "CA-MZ", "gaohongxia", True),
                                            (cleared["id"], None, "CA-MZ", "gaohongxia", False)]
        start, end = metrics.local_period(desk.system, date(2025, 11, 1), date(2025, 11, 30))
        by_unit, by_staff = accountability.complaint_findings(session, start, end, None)
    assert by_unit == {"CA-MZ": [1, 2]} and by_staff == {"gaohongxia": [1, 2]}
    start, end = metrics.local_period(desk.system, date(2025, 11, 1), date(2025, 11, 30))
    report = metrics.quality(desk.system, desk.actor("wangxiuying"), start, end)
    civil = next(u for u in report["by_unit"] if u["unit"] == "CA-MZ")
    assert (civil["complaints_upheld"], civil["complaints"]) == (1, 2)
    her = next(p for p in report["by_staff"] if p["username"] == "gaohongxia")
    assert (her["complaints_upheld"], her["complaints"]) == (1, 2)
    # A township chief officer's figures do not include the county's complaints.
    township = metrics.quality(desk.system, desk.actor("wangjianjun"), start, end)
    assert all(u["complaints"] == 0 for u in township["by_unit"])
