"""Promised deadlines on every service case, and closing a case the applicant abandons (issue 15, R-4.a).

November 2025 in Cheng'an (UTC+8): weekdays are working days, weekends are not. Each service case is due the
matter's promised working days after its acceptance (assist: registered; proxy: the entrustment signed;
onsite: the visit); the diagrams' deadline timers and R-4.a read that one deadline (case.due_at). A wait on
the applicant reminds the staff member after sla("applicant_reminder_days") working days (3) and closes the
case as 逾期未补正 after sla("applicant_closure_days") (10), or as the applicant says (撤回, 放弃); a closed case
is in the ledger with its reason, called back, and kept out of R-4.a.
"""

from __future__ import annotations

from datetime import date, datetime, timedelta, timezone

import pytest
import time_machine
from sqlalchemy import select

from bdd_workflow.db.models import LedgerEntry
from bdd_workflow.errors import FormInvalid
from bdd_workflow.services import metrics
from bdd_workflow.services.timers import fire_due_timers

ADDRESS = "成安县商城镇西庄村18号"


def at(day: int, hour: int, minute: int = 0) -> datetime:
    """``day`` November 2025, ``hour``:``minute`` in Cheng'an."""
    return datetime(2025, 11, day, hour - 8, minute, tzinfo=timezone.utc)


def close_of(day: int) -> datetime:
    """The close of the working day (17:30 in Cheng'an)."""
    return at(day, 17, 30)


def ledger(desk, case_id: int) -> list[LedgerEntry]:
    with desk.system.db.unit_of_work(write=False) as session:
        return list(session.scalars(select(LedgerEntry).where(LedgerEntry.case_id == case_id).order_by(LedgerEntry.id)))


def november(desk):
    start, end = metrics.local_period(desk.system, date(2025, 11, 1), date(2025, 11, 30))
    with time_machine.travel(at(30, 12), tick=False):
        return metrics.quality(desk.system, desk.actor("wangxiuying"), start, end)


def figure(report, key):
    return next(f for f in report["figures"] + [report["callback_coverage"]] if f["key"] == key)


def test_r_4_a_an_assist_case_is_due_by_its_promised_days_and_escalates_up_the_ladder(desk, form):
    """R-4.a R-6.4.1: 帮办 GR-007 (10 working days) registered Mon 3 Nov is due at the close of Mon 17 Nov; the
    deadline is on the whole handling, fires while the work stays open, then the county chief officer and the
    centre office a working day apart; R-4.a counts the case late against the same deadline."""
    with time_machine.travel(at(3, 9), tick=False):
        case = desk.start("assist", by="gaohongxia", matter_code="GR-007")
    view = desk.case(case["id"])
    assert view["due_at"] == close_of(17)
    assert sorted((t["task"], t["attached_to"], t["due_at"]) for t in view["timers"]) == [
        ("deadline_overdue", "handle_case", close_of(17)), ("deadline_overdue_county", "handle_case", close_of(18)),
        ("deadline_overdue_office", "handle_case", close_of(19))]
    with time_machine.travel(close_of(17) - timedelta(minutes=1), tick=False):
        assert fire_due_timers(desk.system) == 0
    with time_machine.travel(close_of(17) + timedelta(minutes=1), tick=False):
        assert fire_due_timers(desk.system) == 1
    assert desk.ready_names(case["id"]) == ["escalate_deadline_breach", "guide_materials"]
    escalation = desk.task(case["id"], "escalate_deadline_breach")
    assert (escalation.role, escalation.unit_code) == ("chief_officer", "CA-MZ")
    with time_machine.travel(close_of(18) + timedelta(minutes=1), tick=False):
        assert fire_due_timers(desk.system) == 1
        county = desk.task(case["id"], "escalate_deadline_breach_county")
        assert (county.role, county.unit_code) == ("chief_officer", "CA")
        for name in ("escalate_deadline_breach", "escalate_deadline_breach_county"):
            desk.do(case["id"], name, form(name))
        desk.do(case["id"], "guide_materials", form("guide_materials", materials_complete=True))
        desk.do(case["id"], "accompany_submission", form("accompany_submission"))
        desk.do(case["id"], "track_approval", form("track_approval", applicant_informed=True, approval_result="准予"))
        desk.do(case["id"], "hand_over_results", form("hand_over_results"))
        assert desk.case(case["id"])["timers"] == []  # done: the office is never asked
    view = desk.case(case["id"])
    assert (view["status"], view["breaches"], view["closure"]) == ("completed", 2, None)
    r_4_a = figure(november(desk), "R-4.a")
    assert case["id"] in r_4_a["items"] and case["id"] not in r_4_a["good"]


def test_r_4_a_a_proxy_case_is_due_from_the_signed_entrustment(desk, form):
    """R-4.a R-9.2.1: a proxy case is accepted when the entrustment is signed: an applicant who signs on Wed 5 Nov
    has the case due ten working days later, at the close of Wed 19 Nov, not counted from the registration."""
    with time_machine.travel(at(3, 9), tick=False):
        case = desk.start("proxy", by="xuzhiqiang", matter_code="GR-007")
        desk.do(case["id"], "record_entrustment", {"entrustment_signed": False, "not_entrusted_reason": "与家人商量"},
                sign=False)
    view = desk.case(case["id"])
    assert view["due_at"] is None and [t["task"] for t in view["timers"]] == [
        "entrustment_await_remind", "entrustment_await_expired"]
    with time_machine.travel(at(5, 10), tick=False):
        desk.do(case["id"], "entrustment_await", form("entrustment_await"))
        desk.do(case["id"], "record_entrustment", form("record_entrustment"))
    view = desk.case(case["id"])
    assert view["due_at"] == close_of(19)
    assert {t["task"]: t["due_at"] for t in view["timers"]}["deadline_overdue"] == close_of(19)


def test_r_9_3_1_the_visit_is_due_by_the_agreed_appointment_or_in_two_working_days(desk, form):
    """R-9.3.1 R-4.a: an applicant who agrees a visit on Fri 7 Nov has it due at that day's close; without an
    appointment it is due two working days after the application (Wed 5 Nov). A missed visit escalates to the
    handling unit's chief officer while the visit stays open; the visit is the acceptance, and the promised
    deadline runs from it."""
    with time_machine.travel(at(3, 9), tick=False):
        agreed = desk.start("onsite", by="gaohongxia", matter_code="GR-007", address=ADDRESS,
                            appointment_at="2025-11-07T10:00")
        plain = desk.start("onsite", by="gaohongxia", matter_code="GR-007", address=ADDRESS)
    assert desk.task(agreed["id"], "visit_applicant").due_at == close_of(7)
    assert desk.task(plain["id"], "visit_applicant").due_at == close_of(5)
    assert sorted((t["task"], t["attached_to"], t["due_at"]) for t in desk.case(agreed["id"])["timers"]) == [
        ("visit_overdue", "visit_applicant", close_of(7)), ("visit_overdue_county", "visit_applicant", close_of(10)),
        ("visit_overdue_office", "visit_applicant", close_of(11))]
    with time_machine.travel(at(6, 10), tick=False):
        assert fire_due_timers(desk.system) == 1  # only the visit without an appointment is late
        assert desk.ready_names(plain["id"]) == ["escalate_visit_breach", "visit_applicant"]
        row = desk.task(plain["id"], "escalate_visit_breach")
        assert (row.role, row.unit_code, row.form) == ("chief_officer", "CA-MZ", "case_escalate_deadline_breach")
        desk.do(plain["id"], "visit_applicant", form("visit_applicant", materials_complete=True, fixable_on_site=False))
    view = desk.case(plain["id"])
    assert view["breaches"] == 1 and view["due_at"] == close_of(20)  # ten working days from the visit on Thu 6 Nov
    assert desk.case(agreed["id"])["breaches"] == 0


def test_r_9_3_1_an_appointment_in_the_past_or_unreadable_is_refused(desk):
    """R-9.3.1: the agreed time is checked at the start: in the past, or not a date and time, the field says so
    and nothing is started."""
    with time_machine.travel(at(3, 9), tick=False):
        for value, message in (("2025-11-03T08:00", "约定上门时间不能早于现在，请重新约定。"),
                               ("下周三上午", "请填写有效的约定上门时间（日期和时间）。")):
            with pytest.raises(FormInvalid) as refused:
                desk.start("onsite", by="gaohongxia", matter_code="GR-007", address=ADDRESS, appointment_at=value)
            assert refused.value.errors == {"appointment_at": [message]}
        with desk.system.db.unit_of_work(write=False) as session:
            from bdd_workflow.db.models import Case
            assert session.scalars(select(Case)).all() == []


def test_r_4_a_materials_never_brought_remind_then_close_as_overdue_and_still_call_back(desk, form):
    """R-9.1.3.3 R-4.a R-10.1: an assist applicant who never brings the missing materials: after three working
    days the assistant is asked to remind them (no breach); after ten the case closes as 逾期未补正, in the ledger
    with its reason, the callback starts, and R-4.a leaves it out (listed apart)."""
    with time_machine.travel(at(3, 9), tick=False):
        case = desk.start("assist", by="gaohongxia", matter_code="GR-002")
    with time_machine.travel(at(3, 9, 30), tick=False):
        desk.do(case["id"], "guide_materials", form("guide_materials", materials_complete=False))
        desk.do(case["id"], "list_missing_materials", form("list_missing_materials", convert_to_proxy=False))
    due = {t["task"]: t["due_at"] for t in desk.case(case["id"])["timers"]}
    assert (due["materials_await_remind"], due["materials_await_expired"]) == (close_of(6), close_of(17))
    with time_machine.travel(at(7, 9), tick=False):
        assert fire_due_timers(desk.system) == 1
        assert desk.ready_names(case["id"]) == ["materials_await", "materials_await_reminder"]
        reminder = desk.task(case["id"], "materials_await_reminder")
        assert (reminder.role, reminder.unit_code, reminder.form) == ("assistant", "CA-MZ", "applicant_reminder")
        desk.do(case["id"], "materials_await_reminder", form("materials_await_reminder"))
    assert desk.case(case["id"])["breaches"] == 0  # a reminder is not a missed deadline
    with time_machine.travel(at(18, 9), tick=False):
        assert fire_due_timers(desk.system) == 1
    view = desk.case(case["id"])
    assert (view["status"], view["closure"], view["closure_label"], view["breaches"]) == (
        "completed", "overdue", "逾期未补正", 0)
    closure = [e for e in ledger(desk, case["id"]) if e.step == "closure"]
    assert [(e.title, e.data["closure_reason"], e.unit_code) for e in closure] == [
        ("结案: 逾期未补正", "overdue", "CA-MZ")]
    assert desk.linked(case["id"], "callback")["tasks"][0]["name"] == "make_callback"
    report = november(desk)
    assert case["id"] not in figure(report, "R-4.a")["items"]
    assert case["id"] in figure(report, "R-10.1")["items"]  # still called back: counted in the coverage
    assert report["closures"]["items"] == [case["id"]]
    assert {r["reason"]: r["count"] for r in report["closures"]["by_reason"]} == {
        "withdrawn": 0, "abandoned": 0, "overdue": 1}


def test_r_9_2_3_a_receipt_never_signed_closes_when_the_applicant_withdraws(desk, form):
    """R-9.2.3 R-4.a: the completion receipt not signed no longer loops: the agent waits on the applicant; the
    applicant withdraws, the case closes as 服务对象撤回 (ledger, callback), outside R-4.a."""
    with time_machine.travel(at(3, 9), tick=False):
        case = desk.start("proxy", by="xuzhiqiang", matter_code="GR-002")
        for name in ("record_entrustment", "submit_on_behalf"):
            desk.do(case["id"], name, form(name))
        desk.do(case["id"], "track_approval", form("track_approval", needs_correction=False))
        desk.do(case["id"], "hand_over_results", form("hand_over_results"))
        desk.do(case["id"], "sign_completion_receipt", {"receipt_signed": False, "not_signed_reason": "不认可结果"})
        assert desk.ready_names(case["id"]) == ["receipt_await"]
        desk.do(case["id"], "receipt_await", form("receipt_await", applicant_response="withdrawn",
                                                   response_note="服务对象表示不再办理"))
    view = desk.case(case["id"])
    assert (view["status"], view["closure"], view["closure_label"]) == ("completed", "withdrawn", "服务对象撤回")
    entry = [e for e in ledger(desk, case["id"]) if e.step == "closure"]
    assert [(e.title, e.actor) for e in entry] == [("结案: 服务对象撤回", "xuzhiqiang")]
    assert desk.linked(case["id"], "callback")["process"] == "callback"
    assert case["id"] not in figure(november(desk), "R-4.a")["items"]


def test_r_9_3_2_2_deficiency_materials_given_up_close_as_abandoned(desk, form):
    """R-9.3.2.2 R-4.a: after 容缺受理 the applicant does not bring the materials and gives up: 服务对象放弃."""
    with time_machine.travel(at(3, 9), tick=False):
        case = desk.start("onsite", by="gaohongxia", matter_code="GR-007", address=ADDRESS)
        desk.do(case["id"], "visit_applicant", form("visit_applicant", materials_complete=False, fixable_on_site=False))
        desk.do(case["id"], "accept_with_deficiencies", form("accept_with_deficiencies"))
        desk.do(case["id"], "complete_within_deadline", {"supplied_materials_received": False})
        assert desk.ready_names(case["id"]) == ["supply_await"]
        desk.do(case["id"], "supply_await", form("supply_await", applicant_response="abandoned"))
    view = desk.case(case["id"])
    assert (view["status"], view["closure"]) == ("completed", "abandoned")
    assert [e.title for e in ledger(desk, case["id"]) if e.step == "closure"] == ["结案: 服务对象放弃"]
    assert desk.linked(case["id"], "callback")["process"] == "callback"


def test_r_9_3_1_an_unreachable_applicant_is_waited_for_then_visited_again(desk, form):
    """R-9.3.1 R-4.a: nobody at home: the visit is recorded, the case waits on the applicant; when they answer, a
    new visit is due two working days later (Fri 7 Nov for an answer on Wed 5 Nov)."""
    with time_machine.travel(at(3, 9), tick=False):
        case = desk.start("onsite", by="gaohongxia", matter_code="GR-007", address=ADDRESS)
    with time_machine.travel(at(4, 9), tick=False):
        with pytest.raises(FormInvalid) as refused:  # reached: the materials must be judged
            desk.do(case["id"], "visit_applicant", {"visit_date": "2025-11-04", "visit_note": "已上门"})
        assert {"materials_complete", "fixable_on_site"} <= set(refused.value.errors)
        desk.do(case["id"], "visit_applicant", {"visit_date": "2025-11-04", "visit_note": "家中无人，电话未接",
                                                "applicant_reached": False})
    assert desk.ready_names(case["id"]) == ["contact_await"]
    with time_machine.travel(at(5, 10), tick=False):
        desk.do(case["id"], "contact_await", form("contact_await"))
    assert desk.task(case["id"], "visit_applicant").due_at == close_of(7)
    assert desk.case(case["id"])["breaches"] == 0


def test_r_4_a_cases_from_before_the_change_get_their_deadline_the_old_way(desk, form, system):
    """Migration 0020: a service case started before cases carried their promised deadline gets one computed as
    R-4.a used to (the matter's promised working days after the local day it started), and an assist case that
    was converted to proxy is marked as closed by conversion, so the figures go on counting them."""
    import importlib.util

    from sqlalchemy import update

    from bdd_workflow.config import PROJECT_ROOT
    from bdd_workflow.db.models import Case

    path = PROJECT_ROOT / "bdd_workflow" / "migrations" / "versions" / "0020_promised_deadline_and_closure_on_cases.py"
    loader = importlib.util.spec_from_file_location("migration_0020", path)
    MIGRATION = importlib.util.module_from_spec(loader)
    loader.loader.exec_module(MIGRATION)

    with time_machine.travel(at(3, 9), tick=False):
        kept = desk.start("assist", by="gaohongxia", matter_code="GR-007")
        converted = desk.start("assist", by="gaohongxia", matter_code="GR-002")
        desk.do(converted["id"], "guide_materials", form("guide_materials", materials_complete=False))
        desk.do(converted["id"], "list_missing_materials", form("list_missing_materials", convert_to_proxy=True,
                                                                difficulty_reason="行动不便"))
    with system.db.engine.begin() as connection:  # as an older installation has them: no deadline, no closure
        connection.execute(update(Case).values(due_at=None, closure=None))
        MIGRATION.backfill(connection)
    with system.db.unit_of_work(write=False) as session:
        rows = {c.id: c for c in session.scalars(select(Case))}
    assert rows[kept["id"]].due_at == close_of(17) and rows[kept["id"]].closure is None
    assert rows[converted["id"]].closure == "converted_to_proxy"
    proxy = desk.linked(converted["id"], "converted_to_proxy")
    assert rows[proxy["id"]].due_at == datetime(2025, 12, 1, 9, 30, tzinfo=timezone.utc)  # 20 working days from 3 Nov
