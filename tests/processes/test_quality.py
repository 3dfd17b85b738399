"""Section 4 quality figures (R-4.a–R-4.e), checked against a hand count on a fixed set of cases."""

from __future__ import annotations

from datetime import date, datetime, timezone

import pytest
import time_machine

from bdd_workflow.errors import Forbidden
from bdd_workflow.services import evaluations, metrics
from bdd_workflow.services.timers import fire_due_timers

MONDAY = datetime(2025, 11, 3, 1, 0, tzinfo=timezone.utc)  # 09:00 in Cheng'an


def run_assist(desk, form):
    case = desk.start("assist", by="gaohongxia", matter_code="GR-002")
    desk.do(case["id"], "guide_materials", form("guide_materials", materials_complete=True))
    desk.do(case["id"], "accompany_submission", form("accompany_submission"))
    desk.do(case["id"], "track_approval", form("track_approval", applicant_informed=True, approval_result="准予"))
    desk.do(case["id"], "hand_over_results", form("hand_over_results"))
    return case


def figures(desk, unit=None):
    start, end = metrics.local_period(desk.system, date(2025, 11, 1), date(2025, 11, 30))
    report = metrics.quality(desk.system, desk.actor("wangxiuying"), start, end, unit)
    return {f["key"]: f for f in report["figures"]}, report


def test_r_4_the_five_figures_match_a_hand_count(desk, form, system):
    with time_machine.travel(MONDAY, tick=False):
        on_time = run_assist(desk, form)                      # completed the same day: on time
        late = desk.start("onsite", by="gaohongxia", matter_code="GR-007", address="成安镇北关村 3 号")
        desk.do(late["id"], "visit_applicant", form("visit_applicant", materials_complete=False, fixable_on_site=False))
        desk.do(late["id"], "accept_with_deficiencies", form("accept_with_deficiencies"))
        quick = desk.start("consultation", by="zhaolina", matter_code="GR-002")
        desk.do(quick["id"], "record_consultation", form("record_consultation", answerable=True))
        desk.do(quick["id"], "give_one_time_notice", form("give_one_time_notice"))
        slow = desk.start("consultation", by="zhaolina", matter_code="GR-002")
        desk.do(slow["id"], "record_consultation", form("record_consultation", answerable=False))
        desk.do(slow["id"], "dispatch_work_order", form("dispatch_work_order"))
    with time_machine.travel(datetime(2025, 11, 18, 2, 0, tzinfo=timezone.utc), tick=False):
        # GR-007's 10 working days, and the contact SLA at all three levels: the unit's chief officer, a working
        # day later the county chief officer, a day after that the centre office (R-6.4.1, the work order is
        # still not contacted)
        assert fire_due_timers(system) == 4
        desk.do(late["id"], "escalate_deadline_breach", form("escalate_deadline_breach"))
        desk.do(late["id"], "complete_within_deadline", form("complete_within_deadline"))
        desk.do(late["id"], "hand_over_results", form("hand_over_results"))
        evaluations.rate(system, on_time["number"], "13812345678", "very_satisfied", None, "online", "applicant")
        evaluations.rate(system, late["number"], "13812345678", "dissatisfied", "太慢", "online", "applicant")
        found, report = figures(desk)

    # R-4.a: two service cases completed in November, one of them after a fired deadline.
    assert (found["R-4.a"]["numerator"], found["R-4.a"]["denominator"]) == (1, 2)
    assert found["R-4.a"]["good"] == [on_time["id"]] and found["R-4.a"]["rate"] == 0.5
    # R-4.b: every demo matter publishes a complete notice.
    assert found["R-4.b"]["numerator"] == found["R-4.b"]["denominator"] == 19
    # R-4.c: two consultations, one breached its 30-minute contact limit: a case, however often it escalated.
    assert (found["R-4.c"]["numerator"], found["R-4.c"]["denominator"]) == (1, 2)
    assert found["R-4.c"]["good"] == [quick["id"]]
    # R-4.d: one good, one bad online rating.
    assert (found["R-4.d"]["numerator"], found["R-4.d"]["denominator"]) == (1, 2)
    # R-4.e: every ledger entry the system wrote has its required fields.
    assert found["R-4.e"]["numerator"] == found["R-4.e"]["denominator"] > 0
    # SLA breaches by kind: the onsite promised deadline and the work order's 30-minute contact, each escalation
    # of it a breach of its own kind (超时督办次数 counts escalations; R-4.a and R-4.c count cases).
    assert sorted((b["process"], b["timer"], b["count"]) for b in report["breaches"]) == [
        ("consultation", "contact_overdue", 1), ("consultation", "contact_overdue_county", 1),
        ("consultation", "contact_overdue_office", 1), ("onsite", "deadline_overdue", 1)]
    assert all(b["cases"] == [slow["id"]] for b in report["breaches"] if b["process"] == "consultation")
    # both completed service cases got a callback case, none has been made yet.
    assert (report["callback_coverage"]["numerator"], report["callback_coverage"]["denominator"]) == (0, 2)
    staff = {s["username"]: s for s in report["by_staff"]}
    assert staff["gaohongxia"]["done"] >= 6 and staff["gaohongxia"]["late"] == 1  # the late onsite step
    mz = [u for u in report["by_unit"] if u["unit"] == "CA-MZ"][0]
    assert (mz["completed"], mz["on_time_rate"], mz["ratings"], mz["satisfaction_rate"]) == (2, 0.5, 2, 0.5)


def test_r_4_a_figures_for_another_unit_count_nothing_of_this_one(desk, form):
    with time_machine.travel(MONDAY, tick=False):
        run_assist(desk, form)
        found, _ = figures(desk, unit="CA-T01")
    assert found["R-4.a"]["denominator"] == 0 and found["R-4.a"]["rate"] is None


def test_r_5_2_only_supervising_roles_see_the_figures(desk):
    start, end = metrics.local_period(desk.system, date(2025, 11, 1), date(2025, 11, 30))
    with pytest.raises(Forbidden):
        metrics.quality(desk.system, desk.actor("gaohongxia"), start, end)


def test_a_notice_missing_how_to_obtain_a_material_is_not_complete():
    notice = {"materials": [{"name": "身份证", "how_to_obtain": ""}], "conditions": ["x"], "steps": ["x"],
              "time_limit": "3个工作日", "cautions": ["x"]}
    assert metrics.notice_complete(notice) is False
    notice["materials"][0]["how_to_obtain"] = "申请人自备"
    assert metrics.notice_complete(notice) is True
