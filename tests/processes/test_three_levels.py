"""三级联动 (R-3.3, 8.1–8.2 就近办): where a case registered in a village, a township or the county is
handled, through the services and a real database, on the demo county's own catalog."""

from __future__ import annotations

import pytest
from sqlalchemy import select

from bdd_workflow.db.models import Case, LedgerEntry
from bdd_workflow.errors import Conflict, Forbidden, FormInvalid, NotFound
from bdd_workflow.services import public, registry, relays, tasks
from bdd_workflow.services.cases import get_case


def test_r_3_3_a_village_registers_and_handles_a_matter_the_village_offers(desk, form):
    """R-3.3: 高龄津贴 is offered at village level: the 东关社区 station that registered it handles it,
    its own assistant does every step, and she sees the case throughout."""
    case = desk.start("assist", by="luxuemei", matter_code="GR-007")
    assert case["unit"] == "CA-T01-V01"
    assert [(t["name"], t["role"], t["unit"]) for t in case["tasks"]] == [("guide_materials", "assistant", "CA-T01-V01")]
    desk.do(case["id"], "guide_materials", form("guide_materials", materials_complete=True), by="luxuemei")
    assert get_case(desk.system, desk.actor("luxuemei"), case["id"])["unit"] == "CA-T01-V01"


def test_r_3_3_a_village_case_goes_up_to_its_township_when_only_the_township_offers_it(desk):
    """R-3.3: 困难残疾人两项补贴 is offered at township level, not in villages: a case registered in 东关社区
    is handled by its own township, 成安镇, not by a county office; the village still sees what it registered."""
    case = desk.start("assist", by="luxuemei", matter_code="GR-009")
    assert case["unit"] == "CA-T01"
    assert case["tasks"][0]["unit"] == "CA-T01" and case["tasks"][0]["role"] == "assistant"
    assert get_case(desk.system, desk.actor("luxuemei"), case["id"])["number"] == case["number"]


def test_r_3_3_a_matter_offered_only_at_the_county_goes_to_its_responsible_unit(desk):
    """R-1, R-3.3: 残疾人证（新办） is a county matter: registered in a village, handled by the 残联."""
    case = desk.start("assist", by="luxuemei", matter_code="GR-003")
    assert case["unit"] == "CA-CL"


def test_r_1_an_enterprise_matter_registered_in_a_village_goes_to_the_approval_bureau(desk):
    """R-1: 涉企事项由行政审批局负责全过程代办, wherever it is registered."""
    case = desk.start("proxy", by="houjianmin", matter_code="QY-001", applicant_type="enterprise")
    assert case["unit"] == "CA-SPJ"
    assert case["tasks"][0]["unit"] == "CA-SPJ"


@pytest.mark.parametrize(("process", "by", "matter", "unit"), [
    ("proxy", "zhanglei", "GR-002", "CA-T01"),        # a township proxy agent: 低保 is handled in the township
    ("onsite", "lina", "GR-007", "CA-T01"),           # a township visit stays in the township
    ("proxy", "zhaoyanling", "GR-002", "CA-T01-V01"),  # and a village one in the village
    ("assist", "gaohongxia", "GR-007", "CA-MZ"),      # registered at the county department: handled there
])
def test_r_3_3_each_service_is_handled_at_the_nearest_level(desk, process, by, matter, unit):
    """R-3.3, 8.2 就近办 for all three services."""
    extra = {"address": "成安镇东关街 8 号"} if process == "onsite" else {}
    case = desk.start(process, by=by, matter_code=matter, **extra)
    assert case["unit"] == unit
    assert {t["unit"] for t in case["tasks"]} == {unit}


def test_r_3_3_an_online_application_goes_to_the_county_responsible_unit(system):
    """R-1, R-3.3: an online application has no registering unit: the matter's responsible unit handles it."""
    receipt = public.apply_online(system, "assist", {"applicant_name": "王芳", "applicant_phone": "13812345678",
                                                     "applicant_type": "personal", "matter_code": "GR-007"})
    with system.db.unit_of_work(write=False) as session:
        unit = session.scalar(select(Case.unit_code).where(Case.number == receipt["number"]))
    assert unit == "CA-MZ"


def test_r_3_3_a_converted_assist_case_stays_at_its_level(desk, form):
    """R-3.3, R-9.1.3.3: a village assist case converted to proxy continues with the village's proxy agent."""
    case = desk.start("assist", by="luxuemei", matter_code="GR-007")
    desk.do(case["id"], "guide_materials", form("guide_materials", materials_complete=False), by="luxuemei")
    desk.do(case["id"], "list_missing_materials", form("list_missing_materials", convert_to_proxy=True), by="luxuemei")
    proxy = desk.linked(case["id"], "converted_to_proxy")
    assert proxy["unit"] == "CA-T01-V01"
    assert [(t["role"], t["unit"]) for t in proxy["tasks"]] == [("proxy_agent", "CA-T01-V01")]


def test_r_6_2_a_village_does_not_see_another_village_s_case(desk):
    """R-6.2: the case of 商城村 is not 东关社区's business."""
    case = desk.start("assist", by="houjinfeng", matter_code="GR-007")
    assert case["unit"] == "CA-T02-V01"
    with pytest.raises(NotFound):
        get_case(desk.system, desk.actor("luxuemei"), case["id"])


# --- dispatch that always reaches someone (R-9.1.1.2, R-6.4.3) --------------------------------------------

def _unanswerable_consultation(desk, form):
    case = desk.start("consultation", by="zhaolina", channel="phone", matter_code="GR-002")
    desk.do(case["id"], "record_consultation", form("record_consultation", answerable=False))
    return case


def test_r_9_1_1_2_a_work_order_to_a_unit_without_an_assistant_is_refused(desk, form):
    """R-9.1.1.2 交办相关部门帮办员: 北关村 (CA-T01-V02) has a proxy agent but no assistant, so nobody could take
    the work order: refused on the field, the case still waits for the dispatch."""
    case = _unanswerable_consultation(desk, form)
    with pytest.raises(FormInvalid) as caught:
        desk.do(case["id"], "dispatch_work_order", form("dispatch_work_order", dispatch_unit="CA-T01-V02"))
    assert "没有在岗的帮办员" in caught.value.errors["dispatch_unit"][0]
    assert desk.ready_names(case["id"]) == ["dispatch_work_order"]
    desk.do(case["id"], "dispatch_work_order", form("dispatch_work_order", dispatch_unit="CA-T01-V01"))
    assert desk.task(case["id"], "contact_applicant").unit_code == "CA-T01-V01"


def test_r_9_1_1_2_a_unit_whose_only_assistant_left_takes_no_work_order(desk, form, system):
    """R-9.1.1.2: the assistant of 东关社区 is deactivated: the station takes no work order until someone is."""
    registry.set_staff_active(system, desk.actor("chenguodong"), "luxuemei", False, "调离")
    case = _unanswerable_consultation(desk, form)
    with pytest.raises(FormInvalid) as caught:
        desk.do(case["id"], "dispatch_work_order", form("dispatch_work_order", dispatch_unit="CA-T01-V01"))
    assert "dispatch_unit" in caught.value.errors


def test_r_6_4_3_a_relay_to_a_unit_without_a_proxy_agent_is_refused(desk, form, system):
    """R-6.4.3 互动接力 must reach someone: 南关村 (CA-T01-V03) has no proxy agent."""
    case = desk.start("proxy", by="xuzhiqiang", matter_code="GR-002")
    desk.do(case["id"], "record_entrustment", form("record_entrustment"))
    with pytest.raises(FormInvalid) as caught:
        relays.request_relay(system, desk.actor("xuzhiqiang"), case["id"], "CA-T01-V03", "需村里核实")
    assert "没有在岗的代办员" in caught.value.errors["to_unit"][0]
    assert desk.ready_names(case["id"]) == ["submit_on_behalf"] and desk.case(case["id"])["relays"] == []


# --- reassignment across the units a chief officer directs (R-6.4.1, R-7.1.1) ------------------------------

def test_r_6_4_1_a_township_chief_officer_reassigns_a_village_task_to_the_township(desk, system):
    """The task moves with its new holder to 成安镇, who can then do it; another township is out of reach."""
    case = desk.start("assist", by="luxuemei", matter_code="GR-007")
    task = desk.task(case["id"], "guide_materials")
    chief = desk.actor("wangjianjun")
    with pytest.raises(FormInvalid) as caught:
        tasks.reassign_task(system, chief, task.id, "zhaomin")  # 商城镇's assistant
    assert "不在您督办的单位" in caught.value.errors["assignee"][0]
    with pytest.raises(FormInvalid):
        tasks.reassign_task(system, chief, task.id, "zhanglei")  # 成安镇, but a proxy agent
    moved = tasks.reassign_task(system, chief, task.id, "lina")
    assert (moved["assignee"], moved["unit"]) == ("lina", "CA-T01")
    result = tasks.complete_task(system, desk.actor("lina"), task.id, {"guidance": "您好，请按告知单准备材料。",
                                                                     "materials_complete": True})
    assert result["case"]["status"] == "running"


def test_r_6_4_1_a_township_chief_officer_directs_no_task_of_another_township(desk, system):
    case = desk.start("assist", by="houjinfeng", matter_code="GR-007")  # 商城村
    task = desk.task(case["id"], "guide_materials")
    with pytest.raises(Forbidden):
        tasks.reassign_task(system, desk.actor("wangjianjun"), task.id, "lina")


# --- 互动接力 at any step, both ways (R-6.4.3, R-3.3) -----------------------------------------------------

def _relay_history(desk, case_id):
    return [(h["action"], h["detail"].get("from_unit"), h["detail"].get("to_unit"))
            for h in desk.case(case_id)["history"] if h["action"].startswith("relay_")]


def test_r_6_4_3_village_to_township_and_the_result_back_down(desk, form, system):
    """A village proxy case goes up to 成安镇 at its first step, the township agent accepts and works it, then
    relays it back down to the village, which hands the result to the applicant. Every hop is in the case
    history, in the ledger on both sides, and on the case (relays)."""
    case = desk.start("proxy", by="zhaoyanling", matter_code="GR-007")
    assert case["unit"] == "CA-T01-V01"
    up = relays.request_relay(system, desk.actor("zhaoyanling"), case["id"], "CA-T01", "需乡镇统一报送审批",
                              "代办服务委托书、身份证复印件")
    assert (up["direction"], up["status"], up["step"]) == ("up", "pending", "record_entrustment")
    assert [r["id"] for r in relays.pending_for(system, desk.actor("zhanglei"))] == [up["id"]]
    assert relays.pending_for(system, desk.actor("zhaoyanling")) == []
    relays.answer_relay(system, desk.actor("zhanglei"), up["id"], True, "材料已收到")
    view = desk.case(case["id"])
    assert view["unit"] == "CA-T01"
    assert [(t["name"], t["unit"], t["assignee"]) for t in view["tasks"]] == [("record_entrustment", "CA-T01", None)]
    desk.do(case["id"], "record_entrustment", form("record_entrustment"), by="zhanglei")
    desk.do(case["id"], "submit_on_behalf", form("submit_on_behalf"), by="zhanglei")
    assert desk.task(case["id"], "track_approval").unit_code == "CA-T01"  # later steps follow the handling unit
    down = relays.request_relay(system, desk.actor("zhanglei"), case["id"], "CA-T01-V01", "审批已办结，请向服务对象交付结果")
    assert down["direction"] == "down"
    relays.answer_relay(system, desk.actor("zhaoyanling"), down["id"], True)
    assert desk.task(case["id"], "track_approval").unit_code == "CA-T01-V01"
    desk.do(case["id"], "track_approval", form("track_approval", needs_correction=False), by="zhaoyanling")
    assert desk.task(case["id"], "hand_over_results").unit_code == "CA-T01-V01"
    assert _relay_history(desk, case["id"]) == [
        ("relay_requested", "CA-T01-V01", "CA-T01"), ("relay_accepted", "CA-T01-V01", "CA-T01"),
        ("relay_requested", "CA-T01", "CA-T01-V01"), ("relay_accepted", "CA-T01", "CA-T01-V01")]
    assert [(r["from_unit"], r["to_unit"], r["status"]) for r in desk.case(case["id"])["relays"]] == [
        ("CA-T01-V01", "CA-T01", "accepted"), ("CA-T01", "CA-T01-V01", "accepted")]
    with system.db.unit_of_work(write=False) as session:
        ledger = [(e.step, e.unit_code, e.actor) for e in session.scalars(
            select(LedgerEntry).where(LedgerEntry.case_id == case["id"], LedgerEntry.step.like("relay_%"))
            .order_by(LedgerEntry.id))]
    assert ledger == [("relay_requested", "CA-T01-V01", "zhaoyanling"), ("relay_accepted", "CA-T01", "zhanglei"),
                      ("relay_requested", "CA-T01", "zhanglei"), ("relay_accepted", "CA-T01-V01", "zhaoyanling")]
    # the village that passed the case on still sees it; the township that held it too
    assert get_case(system, desk.actor("luxuemei"), case["id"])["unit"] == "CA-T01-V01"
    assert get_case(system, desk.actor("lina"), case["id"])["id"] == case["id"]


def test_r_6_4_3_an_assist_case_is_relayed_too_and_can_be_sent_back(desk, system):
    """The receiver sends it back with a reason: nothing moves; the reason is on the case."""
    case = desk.start("assist", by="luxuemei", matter_code="GR-007")
    relay = relays.request_relay(system, desk.actor("luxuemei"), case["id"], "CA-T01", "申请人要求到镇里办理")
    with pytest.raises(FormInvalid) as caught:
        relays.answer_relay(system, desk.actor("lina"), relay["id"], False, "")
    assert "answer_note" in caught.value.errors
    returned = relays.answer_relay(system, desk.actor("lina"), relay["id"], False, "本事项村里即可办理，请继续办理")
    assert returned["status"] == "returned"
    view = desk.case(case["id"])
    assert view["unit"] == "CA-T01-V01" and view["tasks"][0]["unit"] == "CA-T01-V01"
    assert view["relays"][0]["answer_note"] == "本事项村里即可办理，请继续办理"
    with pytest.raises(Conflict):  # answered once
        relays.answer_relay(system, desk.actor("lina"), relay["id"], True)


@pytest.mark.parametrize(("to_unit", "words"), [
    ("", "请选择接力单位"),
    ("CA-NOWHERE", "不存在或已撤销"),
    ("CA-T01-V01", "不能接力给本单位"),
    ("CA-T01-V03", "没有在岗的帮办员"),  # 南关村 has no assistant
])
def test_r_6_4_3_a_relay_target_is_checked_and_nothing_changes(desk, system, to_unit, words):
    case = desk.start("assist", by="luxuemei", matter_code="GR-007")
    with pytest.raises(FormInvalid) as caught:
        relays.request_relay(system, desk.actor("luxuemei"), case["id"], to_unit, "试一下")
    assert words in caught.value.errors["to_unit"][0]
    assert desk.case(case["id"])["relays"] == []
    assert [h["action"] for h in desk.case(case["id"])["history"] if h["action"].startswith("relay")] == []


def test_r_1_an_enterprise_case_never_leaves_the_approval_bureau(desk, system):
    case = desk.start("proxy", by="yangfan", matter_code="QY-001", applicant_type="enterprise")
    with pytest.raises(FormInvalid) as caught:
        relays.request_relay(system, desk.actor("yangfan"), case["id"], "CA-T01", "企业在成安镇")
    assert "行政审批局负责全过程代办" in caught.value.errors["to_unit"][0]


def test_r_6_4_3_only_the_holder_relays_and_only_the_receiver_answers(desk, system):
    case = desk.start("assist", by="luxuemei", matter_code="GR-007")
    with pytest.raises(Forbidden):  # the station's proxy agent sees the case but does not hold the assistant's step
        relays.request_relay(system, desk.actor("zhaoyanling"), case["id"], "CA-T01", "我来办")
    for outsider in ("lina", "zhaomin"):  # the township's and another township's assistants do not even see it
        with pytest.raises(NotFound):
            relays.request_relay(system, desk.actor(outsider), case["id"], "CA-T02", "我来办")
    relay = relays.request_relay(system, desk.actor("luxuemei"), case["id"], "CA-T01", "需镇里办理")
    with pytest.raises(Conflict):  # one pending relay at a time
        relays.request_relay(system, desk.actor("luxuemei"), case["id"], "CA-MZ", "或者县里")
    with pytest.raises(Forbidden):  # the sender cannot accept for the receiver
        relays.answer_relay(system, desk.actor("luxuemei"), relay["id"], True)
    with pytest.raises(Forbidden):  # the receiving unit sees the case it is asked to take, but only the role answers
        relays.answer_relay(system, desk.actor("zhanglei"), relay["id"], True)


def test_r_6_4_3_consultations_are_not_relayed(desk, system):
    case = desk.start("consultation", by="zhaolina", channel="phone", matter_code="GR-002")
    with pytest.raises(Conflict):
        relays.request_relay(system, desk.actor("zhaolina"), case["id"], "CA-T01", "转给乡镇")


def test_r_6_4_3_village_to_township_to_county_and_the_result_back_down_to_the_village(desk, form, system):
    """R-6.4.3, R-3.3: a village proxy case climbs to 成安镇 and on to 民政局, which submits it; the result comes
    back down to the village in one hop, and the village agent hands it over."""
    case = desk.start("proxy", by="zhaoyanling", matter_code="GR-007")
    desk.do(case["id"], "record_entrustment", form("record_entrustment"), by="zhaoyanling")
    hops = [("zhaoyanling", "CA-T01", "zhanglei", "up"), ("zhanglei", "CA-MZ", "xuzhiqiang", "up")]
    for sender, target, receiver, direction in hops:
        relay = relays.request_relay(system, desk.actor(sender), case["id"], target, "需上级办理")
        assert relay["direction"] == direction
        relays.answer_relay(system, desk.actor(receiver), relay["id"], True)
    assert desk.task(case["id"], "submit_on_behalf").unit_code == "CA-MZ"
    desk.do(case["id"], "submit_on_behalf", form("submit_on_behalf"), by="xuzhiqiang")
    desk.do(case["id"], "track_approval", form("track_approval", needs_correction=False), by="xuzhiqiang")
    down = relays.request_relay(system, desk.actor("xuzhiqiang"), case["id"], "CA-T01-V01", "审批通过，请交付")
    assert down["direction"] == "down"
    relays.answer_relay(system, desk.actor("zhaoyanling"), down["id"], True)
    desk.do(case["id"], "hand_over_results", form("hand_over_results"), by="zhaoyanling")
    assert desk.task(case["id"], "sign_completion_receipt").unit_code == "CA-T01-V01"
    assert [(r["from_unit"], r["to_unit"]) for r in desk.case(case["id"])["relays"]] == [
        ("CA-T01-V01", "CA-T01"), ("CA-T01", "CA-MZ"), ("CA-MZ", "CA-T01-V01")]
    # every unit it passed through still sees it
    for viewer in ("zhaoyanling", "zhanglei", "xuzhiqiang"):
        assert get_case(system, desk.actor(viewer), case["id"])["id"] == case["id"]
