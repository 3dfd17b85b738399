"""代办 (R-9.2): entrustment first, correction loop, cross-level relay, signed receipt, callback."""

from __future__ import annotations

from sqlalchemy import select

from bdd_workflow.db.models import LedgerEntry
from bdd_workflow.services import relays


def start_proxy(desk, by="xuzhiqiang", matter="GR-002", **data):
    return desk.start("proxy", by=by, matter_code=matter, **data)


def through_submission(desk, form, case_id):
    desk.do(case_id, "record_entrustment", form("record_entrustment"))
    desk.do(case_id, "submit_on_behalf", form("submit_on_behalf"))


def test_r_9_2_1_proxy_starts_with_the_signed_entrustment_and_opens_a_ledger(desk, form, system):
    """R-9.2.1: nothing is done on the applicant's behalf before the entrustment; a ledger entry is opened."""
    case = start_proxy(desk)
    assert [t["name"] for t in case["tasks"]] == ["record_entrustment"]
    with system.db.unit_of_work(write=False) as session:
        steps = session.scalars(select(LedgerEntry.step).where(LedgerEntry.case_id == case["id"])).all()
    assert steps == ["opened"]
    desk.do(case["id"], "record_entrustment", form("record_entrustment"))
    assert desk.ready_names(case["id"]) == ["submit_on_behalf"]


def test_r_9_2_1_an_entrustment_not_yet_given_waits_for_the_applicant(desk, form):
    """R-9.2.1: proxy begins only with a signed entrustment: a signed one needs its number and date (refused
    without, nothing changed); an applicant who does not entrust yet is waited for, and nothing is accepted."""
    import pytest

    from bdd_workflow.errors import FormInvalid

    case = start_proxy(desk)
    with pytest.raises(FormInvalid) as refused:
        desk.do(case["id"], "record_entrustment", {"entrustment_signed": True})
    assert {"entrustment_number", "entrustment_signed_date"} <= set(refused.value.errors)
    assert desk.ready_names(case["id"]) == ["record_entrustment"]
    desk.do(case["id"], "record_entrustment", {"entrustment_signed": False, "not_entrusted_reason": "需与家人商量"},
            sign=False)
    assert desk.ready_names(case["id"]) == ["entrustment_await"]
    assert desk.case(case["id"])["due_at"] is None  # not accepted: no promised deadline yet (R-4.a)
    desk.do(case["id"], "entrustment_await", form("entrustment_await"))
    assert desk.ready_names(case["id"]) == ["record_entrustment"]
    desk.do(case["id"], "record_entrustment", form("record_entrustment"))
    assert desk.ready_names(case["id"]) == ["submit_on_behalf"]
    assert desk.case(case["id"])["due_at"] is not None


def test_r_9_2_2_2_correction_loop_returns_to_submission(desk, form):
    """R-9.2.2.2: when materials must be corrected, the agent contacts the applicant and resubmits."""
    case = start_proxy(desk)
    through_submission(desk, form, case["id"])
    desk.do(case["id"], "track_approval", form("track_approval", needs_correction=True, correction_items="补充收入证明"))
    assert desk.ready_names(case["id"]) == ["contact_for_correction"]
    desk.do(case["id"], "contact_for_correction", form("contact_for_correction"))
    assert desk.ready_names(case["id"]) == ["submit_on_behalf"]


def test_r_6_4_3_relay_moves_the_case_between_levels_and_the_ledger_records_both_sides(desk, form, system):
    """R-6.4.3, R-9.2.2.3: at 跟踪协调审批 the county department's agent relays the proxy case down to 成安镇, whose
    agent accepts it and goes on tracking; the ledger has both sides."""
    case = start_proxy(desk)
    through_submission(desk, form, case["id"])
    relay = relays.request_relay(system, desk.actor("xuzhiqiang"), case["id"], "CA-T01", "需乡镇核实家庭情况")
    assert relay["direction"] == "down" and relay["step"] == "track_approval"
    assert desk.task(case["id"], "track_approval").unit_code == "CA-MZ"  # until 成安镇 accepts
    relays.answer_relay(system, desk.actor("zhanglei"), relay["id"], True, "已接收材料原件")
    assert desk.case(case["id"])["unit"] == "CA-T01"
    desk.do(case["id"], "track_approval", form("track_approval", needs_correction=False), by="zhanglei")
    with system.db.unit_of_work(write=False) as session:
        entries = session.scalars(select(LedgerEntry).where(LedgerEntry.case_id == case["id"]).order_by(LedgerEntry.id)).all()
    sides = [(e.step, e.unit_code, e.actor) for e in entries if e.step in ("track_approval", "relay_requested", "relay_accepted")]
    assert sides == [("relay_requested", "CA-MZ", "xuzhiqiang"), ("relay_accepted", "CA-T01", "zhanglei"),
                     ("track_approval", "CA-T01", "zhanglei")]


def test_r_9_2_3_case_cannot_end_without_the_signed_completion_receipt(desk, form):
    """R-9.2.3: an unsigned receipt keeps the case open; the signed one ends it and starts the callback."""
    case = start_proxy(desk)
    through_submission(desk, form, case["id"])
    desk.do(case["id"], "track_approval", form("track_approval", needs_correction=False))
    desk.do(case["id"], "hand_over_results", form("hand_over_results"))
    desk.do(case["id"], "sign_completion_receipt", {"receipt_signed": False, "not_signed_reason": "服务对象外出"})
    assert desk.ready_names(case["id"]) == ["receipt_await"]  # waiting for the applicant (R-4.a: not for ever)
    assert desk.case(case["id"])["status"] == "running"
    desk.do(case["id"], "receipt_await", form("receipt_await"))
    assert desk.ready_names(case["id"]) == ["sign_completion_receipt"]
    result = desk.do(case["id"], "sign_completion_receipt", form("sign_completion_receipt", receipt_signed=True))
    assert result["case"]["status"] == "completed"
    callback = desk.linked(case["id"], "callback")
    assert [t["name"] for t in callback["tasks"]] == ["make_callback"]


def test_r_1_enterprise_proxy_is_handled_by_the_approval_bureau(desk, form):
    """R-1: the 行政审批局 proxies enterprise matters end to end."""
    case = start_proxy(desk, by="yangfan", matter="QY-004", applicant_type="enterprise")
    assert case["unit"] == "CA-SPJ"
    assert desk.task(case["id"], "record_entrustment").unit_code == "CA-SPJ"
