"""The forms editor in the browser (issue 5, item 8): an administrator creates a form, types its JSON Schema
and sees the preview change as the task page would render it, is told exactly where a typo is, saves, and
tries the form out with 试填校验. It creates a new form (e2e_visit_note) that no diagram and no other test
uses. Takes the README's forms-editor.png."""

from __future__ import annotations

import json
import re

from e2e_flows import flash
from e2e_support import readme_picture
from playwright.sync_api import expect


NAME = "e2e_visit_note"
SCHEMA = {
    "type": "object",
    "properties": {
        "visit_date": {"type": "string", "title": "走访日期", "format": "date"},
        "visitor": {"type": "string", "title": "走访人", "x-ref": "staff"},
        "findings": {"type": "string", "title": "走访记录", "minLength": 5, "maxLength": 500, "x-applicant-text": True},
        "follow_up": {"type": "boolean", "title": "是否需要再次走访"},
    },
    "required": ["visit_date", "findings", "follow_up"],
    "additionalProperties": False,
}
UI = {"ui:order": ["visit_date", "visitor", "findings", "follow_up"], "findings": {"ui:widget": "textarea",
      "ui:help": "记录服务对象的诉求和办理进展"}, "follow_up": {"ui:widget": "radio"}}


def test_an_administrator_edits_a_form_with_a_live_preview(person):
    """Issue 5 item 8: edit a form's JSON Schema and UI schema with a live preview of the rendered form;
    invalid JSON is refused with the reason (line and column); the saved version is listed with its tasks."""
    admin = person("系统管理员 陈国栋")
    admin.login("chenguodong")
    page = admin.page
    page.goto("/admin/forms")
    expect(page.locator("tr[data-form=assist_guide_materials]")).to_contain_text("指导准备申报材料")
    admin.snap("forms-list")

    page.fill("input[name=name]", NAME)
    page.get_by_role("button", name="新建表单").click()
    page.wait_for_url(re.compile(f"/admin/forms/{NAME}$"))
    expect(page.locator("[data-forms-editor][data-ready='1']")).to_have_count(1)
    preview = page.locator("[data-preview]")
    expect(preview).to_contain_text("办理意见")  # the starting point of a new form
    admin.snap("new-form")

    # Type the schema: the preview follows within a moment, rendered by the server as the task page is.
    page.fill("input[name=title]", "走访记录")
    schema_area = page.locator("#fe-schema")
    starter = json.loads(schema_area.input_value())
    with_note = {**SCHEMA, "properties": {**starter["properties"], **SCHEMA["properties"]}}
    schema_area.fill(json.dumps(with_note, ensure_ascii=False, indent=2))
    expect(preview).to_contain_text("走访记录")
    expect(preview).to_contain_text("是否需要再次走访")
    expect(preview).to_contain_text("办理意见")
    expect(preview.locator("select[name=visitor] option")).not_to_have_count(0)  # staff from the directory
    admin.snap("schema-typed")
    page.locator("#fe-ui").fill(json.dumps(UI, ensure_ascii=False, indent=2))
    schema_area.fill(json.dumps(SCHEMA, ensure_ascii=False, indent=2))
    expect(preview).not_to_contain_text("办理意见")
    expect(preview.locator("textarea[name=findings]")).to_have_count(1)
    expect(preview).to_contain_text("记录服务对象的诉求和办理进展")

    # A typo: the preview keeps its last state and says where the mistake is.
    schema_area.click()
    schema_area.press("Control+End")
    schema_area.type(",")
    errors = page.locator("[data-preview-errors]")
    expect(errors).to_contain_text("草稿有误")
    expect(errors).to_contain_text(re.compile(r"JSON Schema 第 \d+ 行第 \d+ 列"))
    expect(page.locator("[data-preview-state]")).to_have_text("草稿有误")
    admin.snap("typo-reported")
    schema_area.press("Backspace")
    expect(page.locator("[data-preview-state]")).to_have_text("已更新")
    expect(errors).to_be_empty()

    # Line numbers and 格式化.
    expect(page.locator("[data-lines=schema]")).to_contain_text("30")
    schema_area.fill(json.dumps(SCHEMA, ensure_ascii=False))
    page.locator("[data-format=schema]").click()
    expect(schema_area).to_have_value(json.dumps(SCHEMA, ensure_ascii=False, indent=2))

    # 试填校验: fill the preview badly; each field gets its error, as on the task page.
    preview.locator("textarea[name=findings]").fill("这件事不归我管。")
    page.get_by_role("button", name="试填校验").click()
    expect(page.locator("[data-preview-state]")).to_have_text("校验未通过")
    expect(preview.locator("[data-field=findings] .field-error")).to_contain_text("服务禁忌用语")
    expect(preview.locator("[data-field=visit_date] .field-error")).to_contain_text("此项为必填项")
    admin.snap("check-filled-data")
    readme_picture(page, "forms-editor")

    page.get_by_role("button", name="保存为新版本").click()
    expect(flash(page)).to_contain_text(f"表单 {NAME} 已保存为第 1 版")
    expect(page.locator("h1")).to_contain_text("第 1 版")
    expect(page.locator(".fe-versions")).to_contain_text("chenguodong")
    admin.snap("saved")

    # A second version, then the first one restored from the history (a new version again).
    page.fill("input[name=title]", "走访记录（修订）")
    page.get_by_role("button", name="保存为新版本").click()
    expect(flash(page)).to_contain_text("已保存为第 2 版")
    page.locator(".fe-versions").get_by_role("link", name="第 1 版").click()
    expect(page.locator("h1")).to_contain_text("走访记录")
    expect(page.locator(".fe-preview")).to_contain_text("是否需要再次走访")
    admin.snap("old-version")
    page.get_by_role("button", name="恢复此版本").click()
    expect(flash(page)).to_contain_text("已将第 1 版恢复为第 3 版")
    expect(page.locator("input[name=title]")).to_have_value("走访记录")

    # A UI schema naming a field the schema lacks is refused, and nothing changes.
    page.locator("#fe-ui").fill(json.dumps({**UI, "visit_time": {"ui:widget": "date"}}, ensure_ascii=False, indent=2))
    page.get_by_role("button", name="保存为新版本").click()
    expect(page.locator("#form-problems")).to_contain_text("JSON Schema 中没有字段 visit_time")
    page.locator("#form-problems [data-goto]").first.click()
    expect(page.locator("#fe-ui")).to_be_focused()
    admin.snap("refused")
    page.goto("/admin/forms")
    expect(page.locator(f"tr[data-form={NAME}]")).to_contain_text("第 3 版")
