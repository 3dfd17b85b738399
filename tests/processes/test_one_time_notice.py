"""一次性告知 from the catalog (R-5.4): missing materials are ticked from the matter's notice, all at once
(R-9.1.3.3 帮办, R-9.2.2.1–3 代办补正, R-9.3.2.2 容缺), and a consultation that names a matter gives that matter's
notice (R-9.1.1.2), through the services on the real diagrams and forms."""

from __future__ import annotations

import copy
import json

import pytest
from sqlalchemy import func, select

from bdd_workflow.db.models import AuditEvent, Case, LedgerEntry, Matter
from bdd_workflow.errors import FormInvalid
from bdd_workflow.services import forms_admin, inbox, publicity, tasks

LOW_INCOME = "GR-002"  # 最低生活保障申请
ELDERLY = "GR-007"  # 高龄津贴申领


def catalog(system, code: str) -> Matter:
    with system.db.unit_of_work(write=False) as session:
        matter = session.scalars(select(Matter).where(Matter.code == code)).one()
        session.expunge(matter)
        return matter


def how(matter: Matter) -> dict[str, str]:
    return {m["name"]: m["how_to_obtain"] for m in matter.notice["materials"]}


def step_data(system, case_id: int, element: str) -> dict:
    with system.db.unit_of_work(write=False) as session:
        detail = session.scalars(select(AuditEvent.detail).where(
            AuditEvent.case_id == case_id, AuditEvent.action == "task_completed", AuditEvent.element == element)
            .order_by(AuditEvent.id.desc())).first()
    return detail["data"]


def snapshot(system, case_id: int) -> tuple:
    """What a refused submission must leave as it was: the case row, its audit trail and its ledger."""
    with system.db.unit_of_work(write=False) as session:
        case = session.get(Case, case_id)
        return (case.lock_version, case.status,
                session.scalar(select(func.count()).select_from(AuditEvent).where(AuditEvent.case_id == case_id)),
                session.scalar(select(func.count()).select_from(LedgerEntry).where(LedgerEntry.case_id == case_id)))


def assist_at_missing_materials(desk):
    case = desk.start("assist", by="gaohongxia", matter_code=LOW_INCOME)
    desk.do(case["id"], "guide_materials", {"guidance": "请准备材料。", "materials_complete": False}, by="gaohongxia")
    return case


# --- R-9.1.3.3 帮办：一次性列出缺少的材料 -----------------------------------------------------------------

def test_r_9_1_3_3_a_material_not_in_the_matter_s_notice_is_a_field_error_and_nothing_changes(desk, system):
    case = assist_at_missing_materials(desk)
    before = snapshot(system, case["id"])
    with pytest.raises(FormInvalid) as refused:
        desk.do(case["id"], "list_missing_materials", {"missing_materials": ["最低生活保障申请书", "收入证明"],
                                                       "convert_to_proxy": False}, by="gaohongxia")
    assert refused.value.errors == {"missing_materials": ["“收入证明”不在本事项一次性告知的材料清单中，请从清单中勾选。"]}
    assert snapshot(system, case["id"]) == before
    assert desk.ready_names(case["id"]) == ["list_missing_materials"]


def test_r_9_1_3_3_materials_are_chosen_never_typed(desk):
    """The old free-text rows (name + how to obtain) are no longer accepted: a material is a choice."""
    case = assist_at_missing_materials(desk)
    with pytest.raises(FormInvalid) as refused:
        desk.do(case["id"], "list_missing_materials", {
            "missing_materials": [{"name": "收入证明", "how_to_obtain": "村委会开具"}], "convert_to_proxy": False},
            by="gaohongxia")
    assert list(refused.value.errors) == ["missing_materials.0"]
    with pytest.raises(FormInvalid) as nothing:
        desk.do(case["id"], "list_missing_materials", {"missing_materials": [], "convert_to_proxy": False}, by="gaohongxia")
    assert nothing.value.errors == {"missing_materials": ["请对照事项清单勾选服务对象缺少的全部材料（至少一项）。"]}


def test_r_9_1_3_3_several_missing_materials_give_a_notice_listing_each_with_how_to_obtain_it(desk, system):
    case = assist_at_missing_materials(desk)
    matter = catalog(system, LOW_INCOME)
    chosen = ["本人社会保障卡或银行账户信息", "家庭经济状况核对授权书", "最低生活保障申请书"]
    desk.do(case["id"], "list_missing_materials", {"missing_materials": chosen, "convert_to_proxy": False},
            by="gaohongxia")
    notice = step_data(system, case["id"], "list_missing_materials")["one_time_notice"]
    # All at once, in the catalog's order, each with how to obtain it (9.1.3.3 一次性列出…补齐材料的途径和方法).
    catalog_order = [m["name"] for m in matter.notice["materials"] if m["name"] in chosen]
    assert [m["name"] for m in notice["materials"]] == catalog_order
    assert all(m["how_to_obtain"] == how(matter)[m["name"]] for m in notice["materials"])
    # with the matter's conditions, steps, time limit, fee, window and cautions.
    assert notice["matter_code"] == LOW_INCOME and notice["scope"] == "missing"
    assert notice["conditions"] == matter.notice["conditions"] and notice["steps"] == matter.notice["steps"]
    assert notice["cautions"] == matter.notice["cautions"] and notice["time_limit"] == matter.notice["time_limit"]
    assert (notice["fee"], notice["window"]) == (matter.fee, matter.window)
    # Kept in the ledger too (R-9.1.3.5); the case then waits for the applicant to bring them (issue 15's waits).
    with system.db.unit_of_work(write=False) as session:
        entry = session.scalars(select(LedgerEntry).where(LedgerEntry.case_id == case["id"],
                                                          LedgerEntry.step == "list_missing_materials")).one()
    assert [m["name"] for m in entry.data["one_time_notice"]["materials"]] == catalog_order
    assert desk.ready_names(case["id"]) == ["materials_await"]


def test_r_9_1_3_3_the_printed_notice_lists_the_chosen_materials(desk, system):
    """The 一次性告知单 of the case is the notice the step gave, not the whole catalog entry."""
    case = assist_at_missing_materials(desk)
    chosen = ["家庭经济状况核对授权书", "最低生活保障申请书"]
    desk.do(case["id"], "list_missing_materials", {"missing_materials": chosen, "convert_to_proxy": False},
            by="gaohongxia")
    doc = publicity.document(system, desk.actor("gaohongxia"), case["id"], "notice")
    assert sorted(m["name"] for m in doc["given"]["materials"]) == sorted(chosen)
    assert doc["given_by"]["name"] == "高红霞"


def test_r_5_4_the_task_s_form_offers_the_case_s_matter_materials(desk, system):
    """The task's form (as the API and the page get it) carries the concrete choices for this case."""
    case = assist_at_missing_materials(desk)
    task = desk.task(case["id"], "list_missing_materials")
    detail = tasks.get_task(system, desk.actor("gaohongxia"), task.id)
    options = detail["form"]["properties"]["missing_materials"]["items"]["oneOf"]
    matter = catalog(system, LOW_INCOME)
    assert [(o["const"], o["description"]) for o in options] == [
        (m["name"], m["how_to_obtain"]) for m in matter.notice["materials"]]
    assert detail["form"]["properties"]["missing_materials"]["x-options-from"] == "matter_materials"
    # The shipped form itself stays generic: the choices are the case's.
    assert "oneOf" not in system.forms.get("assist_list_missing_materials").schema["properties"]["missing_materials"]["items"]


def test_r_9_1_3_3_a_matter_without_materials_says_so_on_the_field(desk, system):
    case = assist_at_missing_materials(desk)
    with system.db.unit_of_work() as session:
        matter = session.scalars(select(Matter).where(Matter.code == LOW_INCOME)).one()
        matter.notice = {**matter.notice, "materials": []}
    with pytest.raises(FormInvalid) as refused:
        desk.do(case["id"], "list_missing_materials", {"missing_materials": ["最低生活保障申请书"],
                                                       "convert_to_proxy": False}, by="gaohongxia")
    assert "没有列出申请材料" in refused.value.errors["missing_materials"][0]


# --- R-9.2.2.1–3 代办补正，R-9.3.2.2 容缺受理 -------------------------------------------------------------

def test_r_9_2_2_the_correction_lists_materials_from_the_notice(desk, system, form):
    case = desk.start("proxy", by="xuzhiqiang", matter_code=ELDERLY)
    desk.do(case["id"], "record_entrustment", form("record_entrustment"))
    desk.do(case["id"], "submit_on_behalf", form("submit_on_behalf"))
    desk.do(case["id"], "track_approval", form("track_approval", needs_correction=True))
    with pytest.raises(FormInvalid) as refused:
        desk.do(case["id"], "contact_for_correction", form("contact_for_correction", materials_to_correct=["营业场所证明"]))
    assert list(refused.value.errors) == ["materials_to_correct"]
    chosen = ["高龄津贴申请表", "申请人居民身份证、居民户口簿"]
    desk.do(case["id"], "contact_for_correction", form("contact_for_correction", materials_to_correct=chosen))
    notice = step_data(system, case["id"], "contact_for_correction")["one_time_notice"]
    matter = catalog(system, ELDERLY)
    assert sorted(m["name"] for m in notice["materials"]) == sorted(chosen)
    assert all(m["how_to_obtain"] == how(matter)[m["name"]] for m in notice["materials"])


def test_r_9_3_2_2_accepting_with_deficiencies_lists_the_materials_to_supply(desk, system, form):
    case = desk.start("onsite", by="gaohongxia", matter_code=ELDERLY, address="成安镇北关村 8 号")
    desk.do(case["id"], "visit_applicant", form("visit_applicant", materials_complete=False, fixable_on_site=False))
    with pytest.raises(FormInvalid) as refused:
        desk.do(case["id"], "accept_with_deficiencies", form("accept_with_deficiencies", materials_to_supply=["收入证明"]))
    assert list(refused.value.errors) == ["materials_to_supply"]
    desk.do(case["id"], "accept_with_deficiencies", form("accept_with_deficiencies", materials_to_supply=["高龄津贴申请表"]))
    notice = step_data(system, case["id"], "accept_with_deficiencies")["one_time_notice"]
    assert [m["name"] for m in notice["materials"]] == ["高龄津贴申请表"]
    assert notice["time_limit"]  # the promised deadline the applicant is told (R-9.3.2.2)


# --- R-9.1.1.2 咨询：能直接解答的一次性告知 ----------------------------------------------------------------

def test_r_9_1_1_2_a_consultation_that_names_a_matter_gives_its_notice_from_the_catalog(desk, system):
    case = desk.start("consultation", by="zhaolina", channel="phone")
    desk.do(case["id"], "record_consultation", {"question": "高龄津贴怎么申领？", "related_matter": ELDERLY,
                                                "answerable": True})
    task = desk.task(case["id"], "give_one_time_notice")
    detail = tasks.get_task(system, desk.actor("zhaolina"), task.id)
    # Shown to the consultant: the matter's notice; no free text to write instead.
    assert detail["matter"]["code"] == ELDERLY and detail["notice"]["materials"]
    assert "notice_text" not in detail["form"]["properties"]
    assert inbox.task_page(system, desk.actor("zhaolina"), task.id)["catalog_notice"] is True
    with pytest.raises(FormInvalid) as typed:
        desk.do(case["id"], "give_one_time_notice", {"notice_text": "自己写的告知", "notice_complete": True,
                                                     "result": "已告知"})
    assert typed.value.errors == {"notice_text": ["表单中没有这个字段。"]}
    desk.do(case["id"], "give_one_time_notice", {"notice_complete": True, "result": "已一次性告知，服务对象满意"})
    notice = step_data(system, case["id"], "give_one_time_notice")["one_time_notice"]
    matter = catalog(system, ELDERLY)
    assert notice["scope"] == "full"
    assert [(m["name"], m["how_to_obtain"]) for m in notice["materials"]] == [
        (m["name"], m["how_to_obtain"]) for m in matter.notice["materials"]]
    assert notice["conditions"] == matter.notice["conditions"] and notice["window"] == matter.window
    # Stored with the case: the case is about that matter, and its 一次性告知单 prints that notice.
    assert desk.case(case["id"])["matter_code"] == ELDERLY
    doc = publicity.document(system, desk.actor("zhaolina"), case["id"], "notice")
    assert doc["given"]["scope"] == "full" and doc["given"]["matter_name"] == matter.name


def test_r_9_1_1_2_a_consultation_that_names_no_matter_keeps_a_free_text_answer(desk, system):
    case = desk.start("consultation", by="zhaolina", channel="phone")
    desk.do(case["id"], "record_consultation", {"question": "政务服务中心几点下班？", "answerable": True})
    task = desk.task(case["id"], "give_one_time_notice")
    assert "notice_text" in tasks.get_task(system, desk.actor("zhaolina"), task.id)["form"]["properties"]
    with pytest.raises(FormInvalid) as empty:
        desk.do(case["id"], "give_one_time_notice", {"notice_complete": True, "result": "已告知"})
    assert list(empty.value.errors) == ["notice_text"]
    desk.do(case["id"], "give_one_time_notice", {"notice_text": "您好，中心工作日 8:30—17:30 办公。",
                                                 "notice_complete": True, "result": "已告知"})
    data = step_data(system, case["id"], "give_one_time_notice")
    assert data["notice_text"] == "您好，中心工作日 8:30—17:30 办公。" and "one_time_notice" not in data


# --- cases that passed these steps before the materials came from the catalog ------------------------------

def _as_before(form) -> tuple[dict, dict]:
    """The form as it was: material rows typed by hand (name, how to obtain)."""
    schema, ui = copy.deepcopy(form.schema), copy.deepcopy(form.ui)
    rows = {"type": "array", "title": "缺少的材料", "minItems": 1, "items": {
        "type": "object", "additionalProperties": False, "required": ["name", "how_to_obtain"],
        "properties": {"name": {"type": "string", "title": "材料名称"},
                       "how_to_obtain": {"type": "string", "title": "补齐途径和方法", "x-applicant-text": True}}}}
    schema["properties"]["missing_materials"] = rows
    ui["missing_materials"] = {"ui:help": "一次性列出全部缺少的材料"}
    return schema, ui


def test_r_9_1_3_3_a_case_with_typed_materials_still_shows_prints_and_completes(desk, system, form):
    admin = desk.actor("chenguodong")
    current = system.forms.get("assist_list_missing_materials")
    schema, ui = _as_before(current)
    forms_admin.save_form(system, admin, current.name, current.title, json.dumps(schema), json.dumps(ui),
                          base_version=current.version)
    case = assist_at_missing_materials(desk)
    desk.do(case["id"], "list_missing_materials", {"missing_materials": [{"name": "收入证明", "how_to_obtain": "村委会开具"}],
                                                   "convert_to_proxy": False}, by="gaohongxia")
    forms_admin.restore_version(system, admin, current.name, 0, base_version=system.forms.get(current.name).version)
    assert "x-options-from" in system.forms.get(current.name).schema["properties"]["missing_materials"]

    # The next step's page shows what was typed then, row by row, under the form as it is now.
    desk.do(case["id"], "materials_await", {"applicant_response": "resumed"}, by="gaohongxia")
    task = desk.task(case["id"], "guide_materials")
    page = inbox.task_page(system, desk.actor("gaohongxia"), task.id)
    [listed] = [s for step in page["steps"] for s in step["shown"] if s.label == "缺少的材料"]
    assert [[(c.label, c.text) for c in row] for row in listed.rows] == [[("材料名称", "收入证明"), ("补齐途径和方法", "村委会开具")]]
    inbox.case_page(system, desk.actor("gaohongxia"), case["id"])
    doc = publicity.document(system, desk.actor("gaohongxia"), case["id"], "notice")
    assert doc["given"]["materials"] == [{"name": "收入证明", "how_to_obtain": "村委会开具"}]
    # And the case completes.
    desk.do(case["id"], "guide_materials", form("guide_materials", materials_complete=True), by="gaohongxia")
    desk.do(case["id"], "accompany_submission", form("accompany_submission"), by="gaohongxia")
    desk.do(case["id"], "track_approval", form("track_approval", applicant_informed=True, approval_result="准予"),
            by="gaohongxia")
    assert desk.do(case["id"], "hand_over_results", form("hand_over_results"), by="gaohongxia")["case"]["status"] == "completed"
