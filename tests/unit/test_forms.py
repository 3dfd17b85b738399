"""forms/*.json: every form loads, every user task names one, and submissions are checked field by field."""

from __future__ import annotations

import json
import re

import pytest
from lxml import etree

from bdd_workflow.errors import FormInvalid
from bdd_workflow.forms import FormRegistry, bind, notice_given, validate_form

from .support import FORMS, PROCESSES, VALID, ref_exists

NS = {"bpmn": "http://www.omg.org/spec/BPMN/20100524/MODEL",
      "spiffworkflow": "http://spiffworkflow.org/bpmn/schema/1.0/core"}
CJK = re.compile(r"[\u4e00-\u9fff]")


def user_task_forms() -> list[tuple[str, str, str | None]]:
    found = []
    for path in sorted(PROCESSES.glob("*.bpmn")):
        root = etree.parse(str(path)).getroot()
        for task in root.iterfind(".//bpmn:userTask", NS):
            forms = task.xpath(".//spiffworkflow:property[@name='form']/@value", namespaces=NS)
            found.append((path.name, task.get("id"), forms[0] if forms else None))
    return found


def errors_of(forms: FormRegistry, name: str, data, ref=ref_exists) -> dict[str, list[str]]:
    with pytest.raises(FormInvalid) as caught:
        forms.validate(name, data, ref)
    errors = caught.value.errors
    for field, messages in errors.items():
        assert messages, field
        for message in messages:
            assert CJK.search(message), f"{field}: message {message!r} is not in Chinese"
    return errors


def test_every_form_loads(forms):
    assert forms.problems == {}
    assert len(forms.forms) == len(list(FORMS.glob("*.json")))


def test_every_form_forbids_fields_it_does_not_ask_for(forms):
    """forms/README.md: additionalProperties false on every form."""
    assert [name for name, form in forms.forms.items() if form.schema.get("additionalProperties") is not False] == []


@pytest.mark.parametrize(("diagram", "task", "form"), user_task_forms(), ids=lambda v: str(v))
def test_every_user_task_names_an_existing_form(forms, diagram, task, form):
    assert form, f"{diagram}: user task {task} has no form property"
    assert forms.exists(form), f"{diagram}: user task {task} names forms/{form}.json, which does not exist"


def test_every_diagram_has_user_tasks():
    assert {d for d, _, _ in user_task_forms()} == {p.name for p in PROCESSES.glob("*.bpmn")}


def test_valid_submission_passes(forms):
    data = dict(VALID[("consultation", "record_consultation")], answerable=True, related_matter="MZ-001")
    assert forms.validate("consultation_record", data, ref_exists) == data


DECISIONS = {
    ("consultation", "record_consultation"): {"answerable": True},
    ("assist", "guide_materials"): {"materials_complete": True},
    ("assist", "list_missing_materials"): {"convert_to_proxy": False},
    ("proxy", "track_approval"): {"needs_correction": False},
    ("proxy", "sign_completion_receipt"): {"receipt_signed": True},
    ("onsite", "visit_applicant"): {"materials_complete": True, "fixable_on_site": False},
    ("callback", "make_callback"): {"satisfaction": "satisfied"},
    ("rectification", "review_rectification"): {"accepted": True},
}


def test_every_user_task_has_a_valid_sample_submission(forms):
    """The samples the engine walks submit cover every user task and are valid for its form."""
    tasks = {(d.removesuffix(".bpmn"), t): f for d, t, f in user_task_forms()}
    assert set(VALID) == set(tasks)
    for key, data in VALID.items():
        forms.validate(tasks[key], {**data, **DECISIONS.get(key, {})}, ref_exists)


def test_required_field_missing_is_reported_on_that_field(forms):
    errors = errors_of(forms, "consultation_record", {"question": "低保怎么办？"})
    assert errors == {"answerable": ["此项为必填项。"]}


def test_const_true_must_be_confirmed(forms):
    data = {"submitted": False, "approval_department": "成安县民政局", "submission_date": "2025-10-10"}
    errors = errors_of(forms, "assist_accompany_submission", data)
    assert list(errors) == ["submitted"]
    assert errors["submitted"] == ["必须确认此项后才能提交。"]


def test_choice_outside_the_options_is_refused(forms):
    data = {**VALID[("complaint", "reply_to_complainant")], "reply_method": "carrier_pigeon"}
    errors = errors_of(forms, "complaint_reply", data)
    assert list(errors) == ["reply_method"]
    assert "请从给定的选项中选择。" in errors["reply_method"]


def test_enum_outside_the_list_is_refused(tmp_path):
    (tmp_path / "pick_channel.json").write_text(
        '{"title": "渠道", "schema": {"type": "object", "properties": {"channel": {"type": "string",'
        ' "enum": ["phone", "walk_in", "online"]}}, "required": ["channel"], "additionalProperties": false}}',
        encoding="utf-8")
    registry = FormRegistry(tmp_path)
    assert registry.problems == {}
    assert registry.validate("pick_channel", {"channel": "phone"}, ref_exists) == {"channel": "phone"}
    assert errors_of(registry, "pick_channel", {"channel": "fax"}) == {"channel": ["请从给定的选项中选择。"]}


def test_a_field_words_its_own_messages(tmp_path):
    """x-messages: a field may say, in its own words, what a check that failed means to the person filling it."""
    (tmp_path / "visit.json").write_text(json.dumps({"title": "上门", "schema": {
        "type": "object", "additionalProperties": False, "required": ["address"],
        "properties": {"address": {"type": "string", "title": "上门地址", "pattern": "\\S", "maxLength": 10,
                                   "x-messages": {"required": "上门办需要填写上门地址。", "pattern": "地址不能只有空格。"}}}}}),
        encoding="utf-8")
    registry = FormRegistry(tmp_path)
    assert registry.problems == {}
    assert errors_of(registry, "visit", {}) == {"address": ["上门办需要填写上门地址。"]}
    assert errors_of(registry, "visit", {"address": "   "}) == {"address": ["地址不能只有空格。"]}
    assert errors_of(registry, "visit", {"address": "成安镇北关村十二号院三楼"}) == {"address": ["最多 10 个字。"]}


@pytest.mark.parametrize(("messages", "said"), [
    ("请填写", "x-messages 应为一个对象"),
    ({}, "x-messages 应为一个对象"),
    ({"required": ""}, "x-messages 应为一个对象"),
    ({"requird": "请填写地址。"}, "x-messages 不认识校验项 requird"),
])
def test_x_messages_that_say_nothing_usable_are_refused_by_name(messages, said):
    from bdd_workflow.forms import check_definition

    schema = {"type": "object", "additionalProperties": False,
              "properties": {"address": {"type": "string", "title": "上门地址", "x-messages": messages}}}
    problems = check_definition("上门", schema, {})
    assert [p.text() for p in problems if said in p.text()], [p.text() for p in problems]


def test_wrong_type_is_reported_on_that_field(forms):
    data = {"guidance": "您好，请准备材料。", "materials_complete": "yes"}
    errors = errors_of(forms, "assist_guide_materials", data)
    assert errors == {"materials_complete": ["应为是/否。"]}


def test_field_the_form_does_not_ask_for_is_refused(forms):
    data = {**VALID[("consultation", "record_consultation")], "answerable": True, "handling_unit": "CA-SPJ"}
    errors = errors_of(forms, "consultation_record", data)
    assert errors == {"handling_unit": ["表单中没有这个字段。"]}


def test_several_errors_are_reported_together(forms):
    errors = errors_of(forms, "proxy_record_entrustment", {"entrustment_signed": True, "entrustment_signed_date": "昨天",
                                                           "entrusted_items": 5})
    assert set(errors) == {"entrusted_items", "entrustment_number", "entrustment_signed_date"}


ROWS_FORM = {"title": "材料", "schema": {"type": "object", "additionalProperties": False, "properties": {"rows": {
    "type": "array", "title": "材料", "items": {"type": "object", "additionalProperties": False, "required": ["name", "note"],
                                              "properties": {"name": {"type": "string", "title": "名称"},
                                                             "note": {"type": "string", "title": "说明", "x-applicant-text": True}}}}}}}


def test_error_inside_an_array_item_names_the_item(tmp_path):
    (tmp_path / "rows.json").write_text(json.dumps(ROWS_FORM), encoding="utf-8")
    errors = errors_of(FormRegistry(tmp_path), "rows", {"rows": [{"name": "收入证明"}]})
    assert errors == {"rows.0.note": ["此项为必填项。"]}


def test_submission_that_is_not_an_object_is_refused(forms):
    assert errors_of(forms, "consultation_record", ["answerable"]) == {"_form": ["提交的数据应为一个对象（JSON object）。"]}


def test_forbidden_phrase_in_applicant_text_is_refused_naming_it(forms):
    """R-6.3.2: text staff write to an applicant is checked; the phrase is named."""
    data = {"guidance": "我不知道，你去问民政局吧。", "materials_complete": True}
    errors = errors_of(forms, "assist_guide_materials", data)
    assert list(errors) == ["guidance"]
    (message,) = errors["guidance"]
    assert "第1条" in message and "我不知道，你去问 xxx" in message and "请改用文明用语" in message


def test_forbidden_phrase_inside_an_array_is_refused(tmp_path):
    """R-6.3.2: applicant text inside the rows of a list is checked too, and named by its row."""
    (tmp_path / "rows.json").write_text(json.dumps(ROWS_FORM), encoding="utf-8")
    data = {"rows": [{"name": "户口簿", "note": "派出所开具"}, {"name": "收入证明", "note": "不归我管，问别人去"}]}
    errors = errors_of(FormRegistry(tmp_path), "rows", data)
    assert list(errors) == ["rows.1.note"]
    assert "不归我管" in errors["rows.1.note"][0]
    assert "第2条" in errors["rows.1.note"][0]


def test_forbidden_phrase_in_ordinary_internal_notes_is_not_checked(forms):
    """Only x-applicant-text fields are applicant text; an internal note quoting a complaint is fine."""
    data = {"complaint_text": "服务对象反映窗口人员说“不归我管，问别人去”。"}
    assert forms.validate("complaint_record", data, ref_exists) == data


@pytest.mark.parametrize(("form", "field", "data"), [
    ("proxy_record_entrustment", "entrusted_items", {"entrustment_signed": True, "entrustment_number": "WT-1",
                                                     "entrustment_signed_date": "2025-10-09"}),
    ("assist_hand_over_results", "handover_note", {"handed_over_documents": ["审批结果"], "all_handed_over": True}),
    ("onsite_hand_over_results", "handover_note", {"handed_over_documents": ["审批结果"], "all_handed_over": True}),
    ("proxy_hand_over_results", "handover_note", {"handed_over_documents": ["审批结果"], "all_handed_over": True}),
])
def test_r_6_3_2_text_printed_on_papers_the_applicant_signs_is_applicant_text(forms, form, field, data):
    """R-6.3.2: the 委托书's 委托内容 and the 办结单's 移交说明 are printed for the applicant: checked too."""
    errors = errors_of(forms, form, {**data, field: "材料都给你了，有意见你投诉去"})
    assert list(errors) == [field] and "第16条" in errors[field][0]


def test_x_ref_uses_the_callback_and_refuses_an_unknown_unit(forms):
    asked = []

    def ref(kind, value):
        asked.append((kind, value))
        return value == "CA-MZ"

    good = {"dispatch_unit": "CA-MZ", "work_order_summary": "低保政策咨询"}
    assert forms.validate("consultation_dispatch_work_order", good, ref) == good
    # x-staffed-by: the unit must exist, and have an assistant on duty (R-9.1.1.2)
    assert asked == [("unit", "CA-MZ"), ("unit:assistant", "CA-MZ")]
    errors = errors_of(forms, "consultation_dispatch_work_order", {**good, "dispatch_unit": "CA-NOWHERE"}, ref)
    assert errors == {"dispatch_unit": ["单位编码 CA-NOWHERE 不存在。"]}


def test_r_9_1_1_2_x_staffed_by_refuses_a_unit_nobody_of_the_role_works_in(forms):
    good = {"dispatch_unit": "CA-T01-V02", "work_order_summary": "低保政策咨询"}
    errors = errors_of(forms, "consultation_dispatch_work_order", good, lambda kind, value: kind == "unit")
    assert errors == {"dispatch_unit": ["单位 CA-T01-V02 没有在岗的帮办员，交过去没有人能接收：请选择有帮办员的单位。"]}


def test_x_staffed_by_names_a_role_on_a_unit_field():
    from bdd_workflow.forms import check_definition
    problems = check_definition("t", {"type": "object", "properties": {
        "a": {"type": "string", "x-staffed-by": "assistant"},
        "b": {"type": "string", "x-ref": "unit", "x-staffed-by": "janitor"}}}, {})
    messages = " ".join(p.message for p in problems)
    assert "只能用于 x-ref 为 unit 的字段" in messages and "x-staffed-by 的值应为一个角色" in messages


def test_x_ref_staff_and_matter(forms):
    errors = errors_of(forms, "complaint_record", {"complaint_text": "态度生硬", "about_staff": "nobody"})
    assert errors == {"about_staff": ["工作人员编码 nobody 不存在。"]}
    errors = errors_of(forms, "consultation_record", {"question": "？", "answerable": True, "related_matter": "XX-999"})
    assert errors == {"related_matter": ["事项编码 XX-999 不存在。"]}


def test_empty_optional_x_ref_is_allowed(forms):
    data = {"question": "低保怎么办？", "answerable": True, "related_matter": ""}
    assert forms.validate("consultation_record", data, lambda kind, value: False) == data


# --- x-options-from / x-matter-notice: the one-time notice from the catalog (R-5.4, R-9.1.3.3, R-9.1.1.2) ------

MATTER = {"code": "GR-002", "name": "最低生活保障申请", "fee": "不收费", "window": "社会救助窗口", "promised_days": 20,
          "legal_days": None, "department": "民政局",
          "notice": {"materials": [{"name": "户口簿", "how_to_obtain": "本人持有"},
                                   {"name": "收入证明", "how_to_obtain": "村委会开具"}],
                     "conditions": ["家庭人均收入低于标准"], "steps": ["申请", "审核"], "time_limit": "20个工作日",
                     "cautions": ["如实申报"]}}


def test_r_9_1_3_3_a_check_list_binds_to_the_case_s_matter(forms):
    form = forms.get("assist_list_missing_materials")
    bound = bind(form, MATTER)["properties"]["missing_materials"]["items"]["oneOf"]
    assert bound == [{"const": "户口簿", "title": "户口簿", "description": "本人持有"},
                     {"const": "收入证明", "title": "收入证明", "description": "村委会开具"}]
    ok = {"missing_materials": ["收入证明"], "convert_to_proxy": False}
    assert validate_form(form, ok, ref_exists, MATTER) == ok
    with pytest.raises(FormInvalid) as refused:
        validate_form(form, {"missing_materials": ["营业执照"], "convert_to_proxy": False}, ref_exists, MATTER)
    assert refused.value.errors == {"missing_materials": ["“营业执照”不在本事项一次性告知的材料清单中，请从清单中勾选。"]}
    notice = notice_given(form, ok, MATTER)
    assert notice["materials"] == [{"name": "收入证明", "copies": None, "how_to_obtain": "村委会开具",
                                    "fixable_on_site": None, "required": None}]
    assert (notice["fee"], notice["window"], notice["time_limit"]) == ("不收费", "社会救助窗口", "20个工作日")


def test_r_9_1_1_2_a_matter_s_notice_replaces_the_free_text(forms):
    form = forms.get("consultation_one_time_notice")
    assert "notice_text" not in bind(form, MATTER)["properties"]
    assert "notice_text" in bind(form, None)["properties"]
    data = {"notice_complete": True, "result": "已告知"}
    assert validate_form(form, data, ref_exists, MATTER) == data
    assert list(errors_of_bound(form, data, None)) == ["notice_text"]
    assert notice_given(form, data, MATTER)["scope"] == "full"
    assert notice_given(form, data, None) is None


def errors_of_bound(form, data, matter):
    with pytest.raises(FormInvalid) as caught:
        validate_form(form, data, ref_exists, matter)
    return caught.value.errors
