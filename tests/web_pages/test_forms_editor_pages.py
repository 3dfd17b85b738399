"""The forms editor (/admin/forms): administrators edit a form's JSON Schema and UI schema with a live
preview; a saved version changes what the task page shows and what a completion accepts; a broken one is
refused with the reason and changes nothing; every save is audited and can be undone from the history."""

from __future__ import annotations

import copy
import dataclasses
import json
import re

import pytest
from sqlalchemy import event, func, select

from bdd_workflow.db.models import AuditEvent, FormDefinition
from bdd_workflow.errors import DefinitionInvalid, FormInvalid
from bdd_workflow.services import definitions, forms_admin, tasks
from bdd_workflow.services.identity import SYSTEM
from bdd_workflow.system import System

ADMIN = "chenguodong"
FORM = "assist_guide_materials"
EDITOR = f"/admin/forms/{FORM}"


def shipped(system, name: str = FORM) -> dict:
    form = system.forms.files[name]
    return {"title": form.title, "schema": copy.deepcopy(form.schema), "ui": copy.deepcopy(form.ui)}


def with_visit_count(system) -> dict:
    """The shipped guidance form plus a required 接待次数 (integer, at least 1)."""
    form = shipped(system)
    form["schema"]["properties"]["visit_count"] = {"type": "integer", "title": "接待次数", "minimum": 1}
    form["schema"]["required"].append("visit_count")
    form["ui"]["ui:order"].append("visit_count")
    form["ui"]["visit_count"] = {"ui:help": "本次是第几次接待服务对象"}
    form["title"] = "指导准备申报材料（含接待次数）"
    return form


def saved_versions(system, name: str = FORM) -> int:
    with system.db.unit_of_work(write=False) as session:
        return session.scalar(select(func.count()).select_from(FormDefinition).where(FormDefinition.name == name))


def audited(system, action: str = "form_saved") -> list[dict]:
    with system.db.unit_of_work(write=False) as session:
        return [e.detail for e in session.scalars(select(AuditEvent).where(AuditEvent.action == action).order_by(AuditEvent.id))]


@pytest.fixture
def admin(client, login):
    assert login(ADMIN).status_code == 302
    return client


def post_form(client, csrf, url: str, form: dict, base_version, **extra):
    token = csrf(client, EDITOR if url.startswith(EDITOR) else url)
    data = {"csrf_token": token, "title": form["title"], "schema": form["schema"] if isinstance(form["schema"], str)
            else json.dumps(form["schema"], ensure_ascii=False, indent=2),
            "ui": form["ui"] if isinstance(form["ui"], str) else json.dumps(form["ui"], ensure_ascii=False, indent=2),
            "base_version": "" if base_version is None else str(base_version), **extra}
    return client.post(url, data=data)


def preview(client, csrf, schema, ui, values=None, check=False):
    token = csrf(client, EDITOR)
    body = {"schema": schema if isinstance(schema, str) else json.dumps(schema, ensure_ascii=False),
            "ui": ui if isinstance(ui, str) else json.dumps(ui, ensure_ascii=False), "check": check}
    if values is not None:
        body["values"] = values
    return client.post("/admin/forms/preview", json=body, headers={"X-CSRFToken": token})


def preview_fields(html: str) -> str:
    """The fields of a preview (what the task page's form_fields macro made), whitespace normalised."""
    inner = html.split("data-preview-fields>", 1)[1].rsplit("</div>", 1)[0]
    return re.sub(r"\s+", " ", inner).strip()


# --- the list and the editor --------------------------------------------------------------------------

def test_the_list_names_each_form_its_tasks_and_version(admin):
    """Issue 5 item 8: the forms list: name, title, which user tasks of which processes use it, version."""
    page = admin.get("/admin/forms")
    assert page.status_code == 200
    html = page.get_data(as_text=True)
    row = re.search(r'<tr data-form="assist_guide_materials">.*?</tr>', html, re.S).group(0)
    assert "指导准备申报材料" in row and "第 0 版" in row and "（随系统提供）" in row
    assert "指导准备申报材料" in row and "帮办" in row  # the assist process's task that uses it
    assert "新建表单" in html
    assert html.count("<tr data-form=") == 42
    # a start form is listed as used by its process's start (R-9.3.1: the onsite address)
    start = re.search(r'<tr data-form="onsite_apply">.*?</tr>', html, re.S).group(0)
    assert "上门办" in start and "发起申请时填写（开始事件）" in start


def test_the_editor_shows_both_schemas_and_a_server_rendered_preview(admin):
    html = admin.get(EDITOR).get_data(as_text=True)
    assert 'name="schema"' in html and 'name="ui"' in html and "格式化" in html and "试填校验" in html
    assert "&#34;materials_complete&#34;" in html or '"materials_complete"' in html
    assert 'data-field="guidance"' in html and "办事指导" in html  # the preview, before any JavaScript
    assert "forms-editor.js" in html and "<script>" not in html  # CSP: no inline script


@pytest.mark.parametrize("username", ["gaohongxia", "zhangwei", "wangxiuying"])
def test_only_administrators_may_open_or_save_forms(client, login, csrf, system, username):
    """R-6.2 spirit: editing what staff must fill in is the administrator's right only; others get a 403 and
    change nothing."""
    login(username)
    assert client.get("/admin/forms").status_code == 403
    assert client.get(EDITOR).status_code == 403
    token = csrf(client, "/")
    response = client.post(EDITOR, data={"csrf_token": token, "title": "x", "schema": "{}", "ui": "{}"})
    assert response.status_code == 403 and "无权" in response.get_data(as_text=True)
    assert client.post("/admin/forms/preview", json={"schema": "{}", "ui": "{}"},
                       headers={"X-CSRFToken": token}).status_code == 403
    assert saved_versions(system) == 0


def test_signed_out_visitors_are_sent_to_login(client):
    response = client.get("/admin/forms")
    assert response.status_code == 302 and "/login" in response.headers["Location"]


def test_saving_without_the_csrf_token_changes_nothing(admin, system):
    form = with_visit_count(system)
    response = admin.post(EDITOR, data={"title": form["title"], "schema": json.dumps(form["schema"]),
                                        "ui": json.dumps(form["ui"]), "base_version": "0"})
    assert response.status_code == 400
    assert "CSRF" in response.get_data(as_text=True)
    assert saved_versions(system) == 0 and audited(system) == []


# --- refusals: the reason, and nothing saved ----------------------------------------------------------

def test_malformed_json_is_refused_with_line_and_column(admin, csrf, system):
    form = shipped(system)
    text = json.dumps(form["schema"], ensure_ascii=False, indent=2)
    broken = text.replace('"minLength": 1,', '"minLength": 1', 1)  # a comma lost on line 7
    response = post_form(admin, csrf, EDITOR, {**form, "schema": broken}, 0)
    assert response.status_code == 422
    html = response.get_data(as_text=True)
    assert "表单定义有误，没有保存" in html
    line = broken.splitlines().index('      "minLength": 1') + 2  # the error is where the next member starts
    assert f"JSON Schema 第 {line} 行第 7 列：缺少逗号" in html
    assert f'data-line="{line}"' in html  # clickable: the editor jumps to the line
    assert '"minLength": 1\n' in html.replace("&#34;", '"')  # what was typed is kept
    assert saved_versions(system) == 0 and audited(system) == []


def test_chinese_punctuation_is_named(admin, csrf, system):
    form = shipped(system)
    text = json.dumps(form["schema"], ensure_ascii=False, indent=2).replace('"maxLength": 2000,', '"maxLength"：2000,')
    html = post_form(admin, csrf, EDITOR, {**form, "schema": text}, 0).get_data(as_text=True)
    assert "是中文标点" in html
    assert saved_versions(system) == 0


def test_a_schema_json_schema_rejects_is_refused_with_its_path(admin, csrf, system):
    form = shipped(system)
    form["schema"]["properties"]["materials_complete"]["type"] = "bool"
    response = post_form(admin, csrf, EDITOR, form, 0)
    assert response.status_code == 422
    html = response.get_data(as_text=True)
    assert "$.properties.materials_complete.type" in html and "type 的值 &#34;bool&#34; 无效" in html
    assert re.search(r"JSON Schema 第 \d+ 行第 \d+ 列 \$\.properties\.materials_complete\.type", html)
    assert saved_versions(system) == 0


@pytest.mark.parametrize("change, reason", [
    (lambda f: f["schema"]["properties"]["guidance"].update({"x-ref": "department"}), "x-ref 的值 &#34;department&#34; 无效"),
    (lambda f: f["schema"]["properties"]["materials_complete"].update({"x-ref": "unit"}), "x-ref 只能用于 type 为 string 的字段"),
    (lambda f: f["schema"]["properties"]["guidance"].update({"x-signature": {"required": True}}), "x-signature 只能写在 schema 顶层"),
    (lambda f: f["schema"].update({"x-signature": {"when": "guidance"}}), "x-signature 的 when 应指向一个是/否（boolean）字段"),
    (lambda f: f["schema"]["properties"]["guidance"].update({"x-aplicant-text": True}), "不认识的扩展 x-aplicant-text"),
    (lambda f: f["schema"]["required"].append("note"), "必填字段 note 在 properties 中没有定义"),
    (lambda f: f["schema"].pop("additionalProperties"), "additionalProperties"),
    (lambda f: f["ui"]["ui:order"].append("applicant_mood"), "ui:order 中的 applicant_mood 在 JSON Schema 中没有这个字段"),
    (lambda f: f["ui"].update({"guidence": {"ui:widget": "textarea"}}), "UI schema 第 13 行第 3 列 $.guidence：JSON Schema 中没有字段 guidence"),
    (lambda f: f["ui"]["guidance"].update({"ui:widget": "richtext"}), "不认识的控件 &#34;richtext&#34;"),
    (lambda f: f.update({"title": "  "}), "表单标题不能为空"),
])
def test_misused_extensions_unknown_ui_fields_and_a_missing_title_are_refused(admin, csrf, system, change, reason):
    """forms/README.md's rules (x-ref kinds, x-signature on the schema, additionalProperties false), a UI
    schema naming fields the schema lacks, a form without a title: refused with the reason, nothing saved."""
    form = shipped(system)
    change(form)
    response = post_form(admin, csrf, EDITOR, form, 0)
    assert response.status_code == 422
    assert reason in response.get_data(as_text=True)
    assert saved_versions(system) == 0 and audited(system) == []


# --- a saved version is what staff get ----------------------------------------------------------------

def test_a_saved_form_changes_the_task_page_and_what_a_completion_accepts(admin, csrf, desk, system, client, login):
    """Issue 5 item 8: the newest saved version is rendered on the task page and validates completions
    (through the same task services); the save is audited as form_saved."""
    case = desk.start("assist", by="gaohongxia", matter_code="GR-002")
    task = desk.task(case["id"], "guide_materials")
    form = with_visit_count(system)
    response = post_form(admin, csrf, EDITOR, form, 0)
    assert response.status_code == 302
    assert "已保存为第 1 版" in admin.get(EDITOR).get_data(as_text=True)
    assert audited(system)[-1].items() >= {"form": FORM, "version": 1, "previous_version": 0, "dropped_fields": []}.items()

    login("gaohongxia")
    page = client.get(f"/tasks/{task.id}").get_data(as_text=True)
    assert "接待次数" in page and "本次是第几次接待服务对象" in page and "指导准备申报材料（含接待次数）" in page

    assistant = desk.actor("gaohongxia")
    answer = {"guidance": "请携带户口簿和身份证原件。", "materials_complete": True}
    with pytest.raises(FormInvalid) as refused:
        tasks.complete_task(system, assistant, task.id, answer)
    assert refused.value.errors == {"visit_count": ["此项为必填项。"]}
    with pytest.raises(FormInvalid) as refused:
        tasks.complete_task(system, assistant, task.id, answer | {"visit_count": 0})
    assert refused.value.errors == {"visit_count": ["不能小于 1。"]}
    done = tasks.complete_task(system, assistant, task.id, answer | {"visit_count": 2})
    assert [t["name"] for t in done["next_tasks"]] == ["accompany_submission"]


def test_the_task_page_posts_through_the_new_version_too(admin, csrf, desk, system, client, login):
    case = desk.start("assist", by="gaohongxia", matter_code="GR-002")
    task = desk.task(case["id"], "guide_materials")
    assert post_form(admin, csrf, EDITOR, with_visit_count(system), 0).status_code == 302
    login("gaohongxia")
    token = csrf(client, f"/tasks/{task.id}")
    response = client.post(f"/tasks/{task.id}", data={"csrf_token": token, "guidance": "请携带户口簿。",
                                                      "materials_complete": "true"})
    assert response.status_code == 422
    page = response.get_data(as_text=True)
    assert re.search(r'data-field="visit_count".*?此项为必填项', page, re.S)
    response = client.post(f"/tasks/{task.id}", data={"csrf_token": token, "guidance": "请携带户口簿。",
                                                      "materials_complete": "true", "visit_count": "1"})
    assert response.status_code == 302


def test_the_preview_renders_the_same_html_as_the_task_page(admin, csrf, desk, system, client, login):
    """What the administrator sees is what staff get: the preview's fields are the task page's fields."""
    case = desk.start("assist", by="gaohongxia", matter_code="GR-002")
    task = desk.task(case["id"], "guide_materials")
    form = with_visit_count(system)
    result = preview(admin, csrf, form["schema"], form["ui"]).get_json()
    assert "errors" not in result, result
    assert post_form(admin, csrf, EDITOR, form, 0).status_code == 302
    login("gaohongxia")
    task_page = client.get(f"/tasks/{task.id}").get_data(as_text=True)
    fields = preview_fields(result["html"])
    assert fields.startswith('<div class="field') and 'data-field="visit_count"' in fields
    assert fields in re.sub(r"\s+", " ", task_page)
    assert 'data-field="visit_count"' in result["html"]


def test_the_preview_checks_filled_data_as_a_completion_would(admin, csrf, system):
    form = with_visit_count(system)
    result = preview(admin, csrf, form["schema"], form["ui"], check=True, values=[
        ["guidance", "这事不归我管"], ["materials_complete", "true"], ["visit_count", "0"]]).get_json()
    assert result["checked"] and not result["valid"]
    assert set(result["field_errors"]) == {"guidance", "visit_count"}
    assert "服务禁忌用语" in result["field_errors"]["guidance"][0]
    assert re.search(r'data-field="visit_count".*?不能小于 1', result["html"], re.S)
    assert 'value="0"' in result["html"]  # the values are kept
    ok = preview(admin, csrf, form["schema"], form["ui"], check=True, values=[
        ["guidance", "请携带户口簿。"], ["materials_complete", "true"], ["visit_count", "3"]]).get_json()
    assert ok["valid"] and "通过校验" in ok["html"] and ok["data"]["visit_count"] == 3
    assert saved_versions(system) == 0  # a preview saves nothing


def test_a_broken_draft_previews_as_its_reasons(admin, csrf):
    result = preview(admin, csrf, '{"type": "object", "properties": {"a": {"type": "string"}}', "{}").get_json()
    assert result["errors"][0]["part"] == "schema" and result["errors"][0]["line"] == 1
    assert "缺少逗号" in result["errors"][0]["message"] or "缺少" in result["errors"][0]["message"]
    result = preview(admin, csrf, {"type": "object", "properties": {"a": {"type": "string"}}, "additionalProperties": False},
                     {"b": {}}).get_json()
    assert result["errors"][0]["text"].startswith("UI schema")


# --- history, restore, confirmation, conflicts -----------------------------------------------------------

def test_history_shows_old_versions_and_restoring_saves_a_new_one(admin, csrf, system):
    first = with_visit_count(system)
    assert post_form(admin, csrf, EDITOR, first, 0).status_code == 302
    second = copy.deepcopy(first)
    second["title"] = "指导准备申报材料（第二稿）"
    assert post_form(admin, csrf, EDITOR, second, 1).status_code == 302
    assert system.forms.get(FORM).version == 2

    html = admin.get(EDITOR).get_data(as_text=True)
    assert "第 2 版" in html and "第 1 版" in html and "第 0 版" in html and ADMIN in html
    old = admin.get(f"{EDITOR}/versions/0")
    assert old.status_code == 200
    old_html = old.get_data(as_text=True)
    assert "恢复此版本" in old_html and "随系统提供" in old_html and 'data-field="guidance"' in old_html
    assert "visit_count" not in old_html
    assert admin.get(f"{EDITOR}/versions/9").status_code == 404

    token = csrf(admin, f"{EDITOR}/versions/0")
    response = admin.post(f"{EDITOR}/versions/0/restore", data={"csrf_token": token, "base_version": "2"})
    assert response.status_code == 302
    current = system.forms.get(FORM)
    assert current.version == 3 and "visit_count" not in current.schema["properties"]
    assert current.schema == system.forms.files[FORM].schema and current.title == "指导准备申报材料"
    assert audited(system)[-1]["restored_from"] == 0 and audited(system)[-1]["version"] == 3
    assert "已将第 0 版恢复为第 3 版" in admin.get(EDITOR).get_data(as_text=True)


def test_saving_the_same_form_again_stores_no_new_version(admin, csrf, system):
    response = post_form(admin, csrf, EDITOR, shipped(system), 0)
    assert response.status_code == 302 and saved_versions(system) == 0
    assert "没有改动" in admin.get(EDITOR).get_data(as_text=True)


def test_dropping_a_field_a_gateway_reads_needs_confirmation(admin, csrf, system):
    """The assist diagram's gateway reads materials_complete: removing it from the form is warned about and
    saved only when the administrator confirms."""
    form = shipped(system)
    del form["schema"]["properties"]["materials_complete"]
    form["schema"]["required"].remove("materials_complete")
    form["ui"]["ui:order"].remove("materials_complete")
    del form["ui"]["materials_complete"]
    response = post_form(admin, csrf, EDITOR, form, 0)
    assert response.status_code == 409
    html = response.get_data(as_text=True)
    assert "materials_complete" in html and "网关条件" in html and "materials_complete == True" in html
    assert "我已了解上述影响，仍然保存" in html
    assert saved_versions(system) == 0
    response = post_form(admin, csrf, EDITOR, form, 0, confirm="1")
    assert response.status_code == 302 and saved_versions(system) == 1
    assert audited(system)[-1]["dropped_fields"] == ["materials_complete"]
    assert audited(system)[-1]["confirmed_warnings"]


def test_a_save_on_a_stale_version_is_a_conflict(admin, csrf, system):
    """Two administrators editing at once: the second save, made on the version both opened, changes nothing."""
    assert post_form(admin, csrf, EDITOR, with_visit_count(system), 0).status_code == 302
    other = shipped(system)
    other["title"] = "另一位管理员的修改"
    response = post_form(admin, csrf, EDITOR, other, 0)
    assert response.status_code == 409
    html = response.get_data(as_text=True)
    assert f"刚刚被{ADMIN}保存为第 1 版" in html and "另一位管理员的修改" in html
    assert system.forms.get(FORM).version == 1


# --- a brand-new form, and the registry's cache -------------------------------------------------------------

NEW_FORM = {"title": "加办核查", "schema": {"type": "object", "properties": {
    "checked": {"type": "boolean", "title": "已核查"}, "note": {"type": "string", "title": "核查意见", "maxLength": 200}},
    "required": ["checked"], "additionalProperties": False}, "ui": {"ui:order": ["checked", "note"]}}


def test_a_new_form_exists_only_in_the_database_and_a_diagram_may_name_it(admin, csrf, system):
    """The deploy check "each user task's form exists" accepts a form saved in the editor (no file)."""
    xml = (system.settings.processes_dir / "assist.bpmn").read_text(encoding="utf-8")
    xml = xml.replace('value="assist_guide_materials"', 'value="assist_extra_check"')
    with pytest.raises(DefinitionInvalid) as refused:
        definitions.deploy(system, SYSTEM, xml.encode("utf-8"), "assist.bpmn")
    assert "assist_extra_check" in refused.value.message + json.dumps(refused.value.problems, ensure_ascii=False)

    assert admin.get("/admin/forms/new?name=assist_extra_check").headers["Location"].endswith("/admin/forms/assist_extra_check")
    page = admin.get("/admin/forms/assist_extra_check").get_data(as_text=True)
    assert "尚未保存" in page
    response = post_form(admin, csrf, "/admin/forms/assist_extra_check", NEW_FORM, None)
    assert response.status_code == 302
    assert system.forms.get("assist_extra_check").version == 1
    deployed = definitions.deploy(system, SYSTEM, xml.encode("utf-8"), "assist.bpmn")
    assert deployed["processes"][0]["version"] == 2
    listing = admin.get("/admin/forms").get_data(as_text=True)
    assert 'data-form="assist_extra_check"' in listing


def test_bad_form_names_are_refused(admin):
    response = admin.get("/admin/forms/new?name=Bad-Name", follow_redirects=True)
    assert "表单名" in response.get_data(as_text=True)
    assert admin.get("/admin/forms/Bad-Name").status_code == 404


def test_other_workers_see_a_save_within_the_cache_time(admin, csrf, system):
    """A second process (another web worker) keeps its cached forms for at most CACHE_SECONDS."""
    now = [100.0]
    other = System(system.settings)
    other.forms.monotonic = lambda: now[0]
    try:
        assert other.forms.get(FORM).version == 0
        assert post_form(admin, csrf, EDITOR, with_visit_count(system), 0).status_code == 302
        assert system.forms.get(FORM).version == 1  # the saving process: at once
        assert other.forms.get(FORM).version == 0
        now[0] += other.forms.cache_seconds + 0.1
        assert other.forms.get(FORM).version == 1
        assert "visit_count" in other.forms.get(FORM).schema["properties"]
    finally:
        other.db.dispose()


def test_a_completion_does_not_query_the_forms_table_while_cached(desk, system):
    case = desk.start("assist", by="gaohongxia", matter_code="GR-002")
    system.forms.get(FORM)  # warm
    statements: list[str] = []

    def seen(conn, cursor, statement, *args):
        statements.append(statement)

    event.listen(system.db.engine, "before_cursor_execute", seen)
    try:
        desk.do(case["id"], "guide_materials", {"guidance": "请携带户口簿。", "materials_complete": True})
    finally:
        event.remove(system.db.engine, "before_cursor_execute", seen)
    assert statements and not [s for s in statements if "form_definition" in s]


def test_without_a_database_the_files_are_used(system, tmp_path):
    """`bdd check` before `bdd init`: no table, the forms of forms/ all the same."""
    bare = System(dataclasses.replace(system.settings, database_url=f"sqlite:///{tmp_path / 'missing' / 'none.sqlite3'}"))
    assert bare.forms.get(FORM).version == 0 and len(bare.forms.forms) == 42
    assert bare.forms.exists("assist_guide_materials") and not bare.forms.exists("assist_extra_check")


def test_service_refusals_carry_each_problem(system):
    """The service's reasons are data too (the API and pages show them): part, JSON path, line, column."""
    with pytest.raises(forms_admin.FormDefinitionInvalid) as refused:
        forms_admin.read_definition("x", '{\n  "type": "object",\n  "properties": {"a": {"type": "strin"}},\n'
                                         '  "additionalProperties": false\n}', "{}")
    problem = refused.value.problems[0]
    assert problem["part"] == "schema" and problem["path"] == "$.properties.a.type"
    assert (problem["line"], problem["column"]) == (3, 24)


def test_a_stored_version_that_no_longer_loads_falls_back_to_the_file_and_can_be_fixed(admin, csrf, system):
    """A version saved before a rule existed (here written straight to the table) is not used: the task
    page keeps the shipped file, the list and the editor say why, and saving a fix on it works."""
    broken = shipped(system)
    broken["schema"]["properties"]["guidance"]["x-ref"] = "department"
    with system.db.unit_of_work() as session:
        session.add(FormDefinition(name=FORM, version=1, title=broken["title"], schema=broken["schema"], ui=broken["ui"],
                                   saved_by=ADMIN, saved_at=system.clock.now()))
    system.forms.invalidate()
    assert system.forms.get(FORM).version == 0
    assert "x-ref" in system.forms.saved_problems[FORM]
    assert "x-ref 的值" in admin.get("/admin/forms").get_data(as_text=True)
    editor = admin.get(EDITOR).get_data(as_text=True)
    assert "当前保存的版本无法使用" in editor and 'name="base_version" value="1"' in editor
    assert "department" in editor  # the broken version is what is shown, to be fixed
    response = post_form(admin, csrf, EDITOR, with_visit_count(system), 1)
    assert response.status_code == 302
    assert system.forms.get(FORM).version == 2 and FORM not in system.forms.saved_problems


def test_every_shipped_form_previews(system, desk):
    """The preview renders each form of forms/ (the same data the task page gets)."""
    admin = desk.actor(ADMIN)
    for name, form in system.forms.files.items():
        result = forms_admin.preview(system, admin, json.dumps(form.schema, ensure_ascii=False),
                                     json.dumps(form.ui, ensure_ascii=False))
        assert result["form"].fields, name


def test_a_start_form_cannot_ask_for_the_applicants_signature(system, desk):
    """R-9.3.1: onsite_apply is what an onsite start asks for; a start has no task to upload a signature to,
    so the editor refuses x-signature on it (saving nothing), as the deploy refuses a start event naming
    a form that asks for one."""
    import json

    form = system.forms.get("onsite_apply")
    schema = json.loads(json.dumps(form.schema)) | {"x-signature": {"required": True}}
    with pytest.raises(forms_admin.FormDefinitionInvalid) as refused:
        forms_admin.save_form(system, desk.actor("chenguodong"), "onsite_apply", form.title,
                              json.dumps(schema, ensure_ascii=False, indent=2), json.dumps(form.ui), base_version=0)
    problem = refused.value.problems[0]
    assert problem["path"] == "$[\"x-signature\"]" and problem["line"] and "onsite 的发起表单" in problem["message"]
    assert system.forms.get("onsite_apply").version == 0
