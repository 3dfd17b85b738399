"""The staff pages as a browser uses them: the real login form, CSRF tokens, form posts, redirects.
Each test names the requirement it proves where there is one."""

from __future__ import annotations

import base64
import io
import json
from datetime import datetime, timedelta, timezone

import pytest
import time_machine
from lxml import html as lxml_html
from sqlalchemy import select
from werkzeug.datastructures import MultiDict

from bdd_workflow import formrender
from bdd_workflow.config import PROJECT_ROOT
from bdd_workflow.db.models import Attachment
from bdd_workflow.services import definitions

FORMS = sorted(p.stem for p in (PROJECT_ROOT / "forms").glob("*.json"))
SIGNATURE_PNG = bytes.fromhex(
    "89504e470d0a1a0a0000000d4948445200000001000000010806000000"
    "1f15c4890000000d49444154789c6360f8cfc0f01f0005000200ff9a5d6d0a0000000049454e44ae426082")
T0 = datetime(2025, 10, 13, 1, 0, tzinfo=timezone.utc)  # a Monday, 09:00 in Cheng'an


def page(response):
    return lxml_html.fromstring(response.get_data(as_text=True))


def text_of(response) -> str:
    return " ".join(page(response).text_content().split())


def field_box(doc, name: str):
    """The element that holds a form field, its help and its errors."""
    boxes = doc.xpath(f'//*[@data-field="{name}"]')
    assert boxes, f"no field {name}"
    return boxes[0]


def errors_in(element) -> list[str]:
    return [" ".join(e.text_content().split()) for e in element.xpath('.//*[contains(@class, "field-error")]')]


def inbox_rows(client, **params) -> list[dict]:
    response = client.get("/", query_string=params)
    assert response.status_code == 200
    rows = []
    for tr in page(response).xpath('//table[contains(@class, "inbox")]/tbody/tr[@data-task-row]'):
        link = tr.xpath(".//td[1]/a")[0]
        rows.append({"task": link.get("href").rsplit("/", 1)[1], "title": link.text_content().strip(),
                     "overdue": "overdue" in (tr.get("class") or ""), "text": " ".join(tr.text_content().split())})
    return rows


def post(client, csrf, url: str, data: dict, **kwargs):
    return client.post(url, data={"csrf_token": csrf(client, "/"), **data}, **kwargs)


def flashes(response) -> str:
    return " ".join(" ".join(e.text_content().split()) for e in page(response).xpath('//*[contains(@class, "flash")]'))


@pytest.fixture
def assist_mz(desk):
    """A 低保 assist case: its first task is with the 民政局's assistants (gaohongxia)."""
    case = desk.start("assist", by="gaohongxia", matter_code="GR-002")
    return case, desk.task(case["id"], "guide_materials")


@pytest.fixture
def assist_spj(desk):
    """An enterprise assist case: the 行政审批局's assistants (lijianhua, guomin) get it (R-1)."""
    case = desk.start("assist", by="lijianhua", matter_code="QY-001", applicant_type="enterprise",
                      applicant_name="成安县恒达商贸有限公司")
    return case, desk.task(case["id"], "guide_materials")


# --- logging in ----------------------------------------------------------------------------------------

def test_login_form_logs_in_and_a_wrong_password_shows_the_message(client, login):
    wrong = login("gaohongxia", "wrong-password")
    assert wrong.status_code == 401
    assert "用户名或密码错误" in text_of(wrong)
    assert client.get("/").status_code == 302  # still not logged in
    ok = login("gaohongxia")
    assert ok.status_code == 302 and ok.headers["Location"].endswith("/")
    assert "高红霞" in text_of(client.get("/"))


def test_five_wrong_passwords_lock_the_account(client, login):
    for _ in range(5):
        assert login("zhaomin", "wrong-password").status_code == 401
    locked = login("zhaomin")
    assert locked.status_code == 401
    assert "锁定" in text_of(locked)


def test_a_post_without_csrf_token_is_refused(client, login, assist_mz):
    login("gaohongxia")
    _, task = assist_mz
    response = client.post(f"/tasks/{task.id}/claim", data={})
    assert response.status_code == 400
    assert "CSRF" in text_of(response)
    assert inbox_rows(client, scope="mine") == []  # nothing was claimed


def test_pages_need_a_login(client):
    response = client.get("/cases")
    assert response.status_code == 302 and "/login" in response.headers["Location"]


# --- the inbox -----------------------------------------------------------------------------------------

def test_r_6_2_inbox_shows_a_task_to_its_unit_and_not_to_another(client, login, assist_mz, assist_spj):
    """R-6.2: the 民政局 assistant sees the 民政局's task, not the 行政审批局's."""
    login("gaohongxia")
    group = inbox_rows(client, scope="group")
    assert [r["task"] for r in group] == [assist_mz[1].id]
    assert "王芳" in group[0]["text"] and assist_mz[0]["number"] in group[0]["text"] and "帮办" in group[0]["text"]
    login("lijianhua")
    assert [r["task"] for r in inbox_rows(client, scope="group")] == [assist_spj[1].id]


def test_chief_officer_sees_every_role_below_and_a_township_chief_only_their_township(client, login, desk, assist_mz):
    """R-6.4.1: the county's chief officer directs every case; a township's chief officer their township."""
    proxy = desk.start("proxy", by="zhanglei", matter_code="QY-001", applicant_type="enterprise")
    login("zhangwei")
    ids = {r["task"] for r in inbox_rows(client, scope="group")}
    assert assist_mz[1].id in ids and desk.task(proxy["id"], "record_entrustment").id in ids
    login("liuhongtao")
    assert inbox_rows(client, scope="group") == []


def test_overdue_task_comes_first_and_is_marked(client, login, desk, assist_mz):
    """R-9.1.1.2: a work order not contacted within 30 minutes is overdue: red, on top, counting up."""
    with time_machine.travel(T0, tick=False) as traveller:
        first = _dispatch(desk)
        traveller.shift(timedelta(minutes=20))
        second = _dispatch(desk)
        traveller.shift(timedelta(minutes=15))  # first: 35 minutes ago, second: 15
        login("gaohongxia")
        rows = inbox_rows(client, scope="group")
    first_task = desk.task(first, "contact_applicant").id
    second_task = desk.task(second, "contact_applicant").id
    assert [r["task"] for r in rows] == [first_task, second_task, assist_mz[1].id]
    assert rows[0]["overdue"] and "已超时 5分" in rows[0]["text"] and "超时" in rows[0]["text"]
    assert not rows[1]["overdue"] and "剩余 15分" in rows[1]["text"]
    assert "无期限" in rows[2]["text"]


def _dispatch(desk) -> int:
    """A consultation the hotline could not answer, dispatched to the 民政局 (R-9.1.1.2)."""
    case = desk.start("consultation", by="zhaolina", channel="phone", matter_code="GR-002")
    desk.do(case["id"], "record_consultation", {"question": "低保怎么申请？", "answerable": False})
    desk.do(case["id"], "dispatch_work_order", {"dispatch_unit": "CA-MZ", "work_order_summary": "咨询低保政策"})
    return case["id"]


def test_inbox_filters_and_sort(client, login, desk, assist_mz):
    with time_machine.travel(T0, tick=False) as traveller:
        work_order = _dispatch(desk)
        elderly = desk.start("assist", by="gaohongxia", matter_code="GR-007")
        traveller.shift(timedelta(minutes=40))
        login("gaohongxia")
        contact = desk.task(work_order, "contact_applicant").id
        everything = {r["task"] for r in inbox_rows(client, scope="group")}
        assert contact in everything and assist_mz[1].id in everything
        assert [r["task"] for r in inbox_rows(client, scope="group", process="consultation")] == [contact]
        assert [r["task"] for r in inbox_rows(client, scope="group", due="overdue")] == [contact]
        assert contact not in {r["task"] for r in inbox_rows(client, scope="group", due="none")}
        assert inbox_rows(client, scope="group", due="today") == []
        assert [r["task"] for r in inbox_rows(client, scope="group", matter="GR-007")] == [
            desk.task(elderly["id"], "guide_materials").id]
        by_created = [r["task"] for r in inbox_rows(client, scope="group", sort="created")]
        assert by_created[0] == contact  # overdue stays on top
        # then oldest first: the 高龄津贴 case was started (at T0) before the fixture's case (now)
        assert by_created[1:] == [desk.task(elderly["id"], "guide_materials").id, assist_mz[1].id]
        filtered = client.get("/", query_string={"scope": "group", "process": "consultation"})
        assert "共 1 条" in text_of(filtered)


def test_inbox_pages_by_fifty(client, login, desk):
    for _ in range(51):
        desk.start("assist", by="gaohongxia", matter_code="GR-002")
    login("gaohongxia")
    assert len(inbox_rows(client, scope="group")) == 50
    assert len(inbox_rows(client, scope="group", page=2)) == 1
    assert "第 1 / 2 页" in text_of(client.get("/", query_string={"scope": "group"}))


def test_inbox_never_reads_the_workflow_state_and_costs_a_fixed_number_of_queries(client, login, system, desk):
    """The inbox is derived rows only: no state_json, no query per row (DESIGN: an inbox query never
    deserializes a workflow)."""
    for _ in range(12):
        desk.start("assist", by="gaohongxia", matter_code="GR-002")
    login("zhangwei")
    statements: list[str] = []

    def record(conn, cursor, statement, params, context, executemany):
        statements.append(statement)

    from sqlalchemy import event

    event.listen(system.db.engine, "before_cursor_execute", record)
    try:
        response = client.get("/", query_string={"scope": "group"})
    finally:
        event.remove(system.db.engine, "before_cursor_execute", record)
    assert response.status_code == 200 and len(inbox_rows(client, scope="group")) == 12
    assert not [s for s in statements if "state_json" in s]
    # a chief officer's page also reads the peak alerts when its copy is stale: still a fixed number
    assert len([s for s in statements if s.lstrip().upper().startswith("SELECT")]) <= 9


def test_claim_and_unclaim_from_the_inbox(client, login, csrf, assist_mz):
    _, task = assist_mz
    login("gaohongxia")
    claimed = post(client, csrf, f"/tasks/{task.id}/claim", {"next": "/?scope=group"})
    assert claimed.status_code == 302 and claimed.headers["Location"] == "/?scope=group"
    assert "已认领" in flashes(client.get("/?scope=group"))
    mine = inbox_rows(client, scope="mine")
    assert [r["task"] for r in mine] == [task.id] and "高红霞" in mine[0]["text"]
    unclaimed = post(client, csrf, f"/tasks/{task.id}/unclaim", {"next": "/"})
    assert unclaimed.status_code == 302
    assert inbox_rows(client, scope="mine") == []
    assert "未认领" in inbox_rows(client, scope="group")[0]["text"]


def test_claiming_a_task_someone_else_holds_shows_the_message(client, login, csrf, desk, assist_spj):
    _, task = assist_spj
    login("lijianhua")
    post(client, csrf, f"/tasks/{task.id}/claim", {})
    login("guomin")
    response = post(client, csrf, f"/tasks/{task.id}/claim", {"next": "/?scope=group"}, follow_redirects=True)
    assert "lijianhua" in flashes(response)


def test_r_7_1_1_chief_officer_reassigns_a_task(client, login, csrf, assist_spj):
    """R-6.4.1, R-7.1.1: the chief officer hands a task to a named staff member of its role, its own unit's
    first, then those of the other units they direct (named with their unit)."""
    _, task = assist_spj
    login("zhangwei")
    doc = page(client.get("/", query_string={"scope": "group"}))
    options = doc.xpath(f'//form[@action="/tasks/{task.id}/reassign"]//option/@value')
    assert options[:3] == ["", "lijianhua", "guomin"]
    assert {"gaohongxia", "lina", "luxuemei"} <= set(options) and "yangfan" not in options  # assistants only
    labels = doc.xpath(f'//form[@action="/tasks/{task.id}/reassign"]//option[@value="luxuemei"]/text()')
    assert labels == ["路雪梅（东关社区综合服务站）"]
    response = post(client, csrf, f"/tasks/{task.id}/reassign", {"username": "guomin", "next": "/?scope=group"},
                    follow_redirects=True)
    assert "改派" in flashes(response)
    wrong = post(client, csrf, f"/tasks/{task.id}/reassign", {"username": "yangfan", "next": "/"},
                 follow_redirects=True)
    assert "不能办理这个任务" in flashes(wrong)
    login("guomin")
    assert [r["task"] for r in inbox_rows(client, scope="mine")] == [task.id]


def test_only_chief_officers_may_reassign(client, login, csrf, assist_spj):
    _, task = assist_spj
    login("lijianhua")
    assert not page(client.get("/?scope=group")).xpath('//form[contains(@class, "reassign")]')
    response = post(client, csrf, f"/tasks/{task.id}/reassign", {"username": "guomin"})
    assert response.status_code == 403
    assert "首席服务专员" in text_of(response)


# --- forms ---------------------------------------------------------------------------------------------

SAMPLE_REFS = formrender.Refs(
    units=[{"code": "CA", "name": "成安县政务服务中心", "level": "county", "depth": 0, "level_title": "县"},
           {"code": "CA-T01", "name": "成安镇行政综合服务中心", "level": "township", "depth": 1, "level_title": "乡镇"},
           {"code": "CA-T01-V01", "name": "东关社区综合服务站", "level": "village", "depth": 2, "level_title": "村"}],
    staff=[{"username": "zhangwei", "name": "张伟", "role": "chief_officer", "role_title": "首席服务专员",
            "unit": "CA", "unit_name": "成安县政务服务中心"}],
    matters=[{"code": "GR-002", "name": "最低生活保障申请"}])


@pytest.mark.parametrize("form_name", FORMS)
def test_every_form_renders_in_chinese_from_its_schema(app, system, form_name):
    """Each form of forms/ renders (empty and with errors) with every field labelled by its Chinese title."""
    form = system.forms.get(form_name)
    properties = form.schema["properties"]
    errors = {name: ["此项为必填项。"] for name in properties}
    rendered = formrender.render(form.schema, form.ui, {}, errors, SAMPLE_REFS)
    assert [f.name for f in rendered.fields] == [n for n in form.ui.get("ui:order", properties)]
    assert rendered.unplaced_errors == {}
    with app.test_request_context():
        template = app.jinja_env.get_template("forms/fields.html")
        markup = template.module.form_fields(rendered)
    doc = lxml_html.fromstring(f"<div>{markup}</div>")
    for name, prop in properties.items():
        box = field_box(doc, name)
        assert prop["title"] in box.text_content()
        assert errors_in(box) == ["此项为必填项。"]
        if name in form.schema.get("required", []):
            assert box.xpath('.//*[contains(@class, "req")]') or prop.get("const") is True
        if prop.get("const") is True:
            assert "必须勾选" in box.text_content()


def test_every_user_task_of_the_demo_has_a_form_that_renders(system):
    tasks = [t for d in definitions.list_definitions(system) for t in d["user_tasks"]]
    assert len(tasks) >= 30
    for task in tasks:
        form = system.forms.get(task["form"])
        assert formrender.render(form.schema, form.ui).fields


def test_formrender_widgets_for_choices_lists_references_help_and_placeholders(app):
    schema = {"type": "object", "required": ["kinds", "who"], "properties": {
        "kinds": {"type": "array", "title": "材料类别", "items": {"type": "string", "oneOf": [
            {"const": "id", "title": "身份证件"}, {"const": "income", "title": "收入证明"}]}},
        "docs": {"type": "array", "title": "移交文件", "items": {"type": "string"}},
        "who": {"type": "string", "title": "责任人员", "x-ref": "staff"},
        "where": {"type": "string", "title": "接力单位", "x-ref": "unit"},
        "channel": {"type": "string", "title": "方式", "enum": ["phone", "visit"]},
        "note": {"type": "string", "title": "说明"},
        "on": {"type": "string", "title": "日期", "format": "date"},
        "count": {"type": "integer", "title": "份数", "minimum": 1, "maximum": 9},
    }}
    ui = {"note": {"ui:widget": "textarea", "ui:help": "写清楚", "ui:placeholder": "例如：已电话告知"},
          "channel": {"ui:widget": "radio"}}
    rendered = formrender.render(schema, ui, {"kinds": ["income"], "docs": ["决定书"], "who": "zhangwei"},
                                 {"docs.1": ["最多 200 个字。"]}, SAMPLE_REFS)
    widgets = {f.name: f.widget for f in rendered.fields}
    assert widgets == {"kinds": "checkboxes", "docs": "textlist", "who": "select", "where": "select",
                       "channel": "radio", "note": "textarea", "on": "date", "count": "number"}
    with app.test_request_context():
        markup = app.jinja_env.get_template("forms/fields.html").module.form_fields(rendered)
    doc = lxml_html.fromstring(f"<div>{markup}</div>")
    assert doc.xpath('//input[@type="checkbox"][@name="kinds"][@value="income"]/@checked')
    assert not doc.xpath('//input[@type="checkbox"][@name="kinds"][@value="id"]/@checked')
    assert doc.xpath('//input[@name="docs.0"]/@value') == ["决定书"] and len(doc.xpath('//input[starts-with(@name, "docs.")][not(ancestor::template)]')) == 3
    assert errors_in(doc.xpath('//input[@name="docs.1"]/..')[0]) == ["最多 200 个字。"]
    assert doc.xpath('//select[@name="who"]/optgroup/@label') == ["成安县政务服务中心"]
    assert doc.xpath('//select[@name="who"]//option[@selected]/@value') == ["zhangwei"]
    assert doc.xpath('//textarea[@name="note"]/@placeholder') == ["例如：已电话告知"]
    assert "写清楚" in field_box(doc, "note").text_content()
    assert doc.xpath('//input[@name="on"]/@type') == ["date"]
    assert doc.xpath('//input[@name="count"]/@min') == ["1"] and doc.xpath('//input[@name="count"]/@max') == ["9"]


def test_formrender_reads_a_posted_form_back_into_typed_json():
    from werkzeug.datastructures import MultiDict

    schema = {"type": "object", "properties": {
        "ok": {"type": "boolean"}, "sure": {"type": "boolean", "const": True}, "maybe": {"type": "boolean"},
        "score": {"type": "integer", "oneOf": [{"const": 1, "title": "1分"}, {"const": 2, "title": "2分"}]},
        "count": {"type": "integer"}, "amount": {"type": "number"}, "when": {"type": "string", "format": "date"},
        "unit": {"type": "string", "x-ref": "unit"}, "note": {"type": "string"},
        "kinds": {"type": "array", "items": {"type": "string", "enum": ["a", "b", "c"]}},
        "docs": {"type": "array", "items": {"type": "string"}},
        "rows": {"type": "array", "items": {"type": "object", "properties": {
            "name": {"type": "string"}, "how": {"type": "string"}, "done": {"type": "boolean"}}}},
        "address": {"type": "object", "properties": {"town": {"type": "string"}, "floor": {"type": "integer"}}},
    }}
    posted = MultiDict([
        ("ok", "false"), ("sure", "false"), ("sure", "true"), ("maybe", "false"), ("score", "2"), ("count", "12"),
        ("amount", "3.5"), ("when", "2025-10-13"), ("unit", ""), ("note", "  "), ("kinds", "a"), ("kinds", "c"),
        ("docs.0", "决定书"), ("docs.1", ""), ("docs.2", "证照"),
        ("rows.0.name", "收入证明"), ("rows.0.how", "村委会开具"), ("rows.0.done", "false"),
        ("rows.1.name", ""), ("rows.1.how", ""), ("rows.1.done", "false"),
        ("rows.2.name", "户口簿"), ("rows.2.done", "false"), ("rows.2.done", "true"),
        ("address.town", "成安镇"), ("address.floor", "abc"), ("csrf_token", "x"), ("unknown", "y"),
    ])
    assert formrender.parse(schema, posted) == {
        "ok": False, "sure": True, "maybe": False, "score": 2, "count": 12, "amount": 3.5, "when": "2025-10-13",
        "unit": "", "kinds": ["a", "c"], "docs": ["决定书", "证照"],
        "rows": [{"name": "收入证明", "how": "村委会开具", "done": False}, {"name": "户口簿", "done": True}],
        "address": {"town": "成安镇", "floor": "abc"},  # not a number: the validator names the field
    }


def test_task_page_renders_for_every_reachable_form(client, login, desk):
    """A walk through the assist and proxy procedures: each task page renders its form for its staff."""
    case = desk.start("assist", by="gaohongxia", matter_code="GR-002")
    login("gaohongxia")
    steps = [("guide_materials", {"guidance": "请准备材料。", "materials_complete": False}),
             ("list_missing_materials", {"missing_materials": ["本人社会保障卡或银行账户信息"], "convert_to_proxy": False}),
             ("materials_await", {"applicant_response": "resumed"}),
             ("guide_materials", {"guidance": "材料齐了。", "materials_complete": True}),
             ("accompany_submission", {"submitted": True, "approval_department": "成安县民政局", "submission_date": "2025-10-13"}),
             ("track_approval", {"tracking_notes": "审批通过。", "applicant_informed": True, "approval_result": "准予"}),
             ("hand_over_results", {"handed_over_documents": ["决定书"], "all_handed_over": True})]
    for name, data in steps:
        task = desk.task(case["id"], name)
        response = client.get(f"/tasks/{task.id}")
        assert response.status_code == 200, name
        doc = page(response)
        form = desk.system.forms.get(task.form)
        for prop in form.schema["properties"].values():
            assert prop["title"] in doc.text_content(), (name, prop["title"])
        desk.do(case["id"], name, data, by="gaohongxia")


def test_r_6_4_3_relay_targets_name_their_level_and_direction(client, login, desk):
    """R-6.4.3: at 跟踪协调审批 the county agent picks a township or village unit to relay to, each named with
    its level and the direction; units without a proxy agent are not offered (南关村)."""
    case = desk.start("proxy", by="xuzhiqiang", matter_code="GR-002")
    desk.do(case["id"], "record_entrustment", {"entrustment_signed": True, "entrustment_number": "WT-1",
                                               "entrustment_signed_date": "2025-10-13"}, by="xuzhiqiang")
    desk.do(case["id"], "submit_on_behalf", {"submitted": True, "approval_department": "民政局",
                                             "submission_date": "2025-10-13"}, by="xuzhiqiang")
    task = desk.task(case["id"], "track_approval")
    login("xuzhiqiang")
    doc = page(client.get(f"/tasks/{task.id}"))
    options = {o.get("value"): o.text_content() for o in doc.xpath('//section[@id="relay"]//select[@name="to_unit"]/option')}
    assert options["CA-T01"] == "向下接力 · [乡镇] 成安镇行政综合服务中心"
    assert options["CA-T01-V02"] == "向下接力 · [村] 北关村综合服务站"
    assert options["CA-SPJ"] == "平级接力 · [县] 成安县行政审批局"
    assert "CA-T01-V03" not in options and "CA-MZ" not in options and "CA-ZX" not in options


# --- completing a task ------------------------------------------------------------------------------------

def test_invalid_submission_shows_each_error_next_to_its_field_and_keeps_the_input(client, login, csrf, desk):
    """R-9.1.3.3: a material the matter's notice does not list is refused next to the check list, with the
    answer still missing next to its own field; what was ticked and typed stays; nothing saved."""
    case = desk.start("assist", by="gaohongxia", matter_code="GR-002")
    desk.do(case["id"], "guide_materials", {"guidance": "请准备。", "materials_complete": False}, by="gaohongxia")
    task = desk.task(case["id"], "list_missing_materials")
    login("gaohongxia")
    response = client.post(f"/tasks/{task.id}", data=MultiDict([
        ("csrf_token", csrf(client, "/")), ("missing_materials", "最低生活保障申请书"), ("missing_materials", "收入证明"),
        ("on_site_fixes", "当场填写了申请书")]))
    assert response.status_code == 422
    doc = page(response)
    assert errors_in(field_box(doc, "missing_materials")) == ["“收入证明”不在本事项一次性告知的材料清单中，请从清单中勾选。"]
    assert errors_in(field_box(doc, "convert_to_proxy")) == ["此项为必填项。"]
    assert doc.xpath('//input[@name="missing_materials"][@checked]/@value') == ["最低生活保障申请书", "收入证明"]
    assert doc.xpath('//textarea[@name="on_site_fixes"]')[0].text_content() == "当场填写了申请书"
    assert not errors_in(field_box(doc, "on_site_fixes"))
    assert desk.ready_names(case["id"]) == ["list_missing_materials"]


def test_r_6_3_2_forbidden_phrase_is_named_next_to_the_field(client, login, csrf, assist_mz):
    """R-6.3.2: text written to the applicant with a forbidden phrase is refused with the phrase named."""
    _, task = assist_mz
    login("gaohongxia")
    response = post(client, csrf, f"/tasks/{task.id}", {"guidance": "这个不归我管，问别人去。", "materials_complete": "true"})
    assert response.status_code == 422
    doc = page(response)
    [message] = errors_in(field_box(doc, "guidance"))
    assert "服务禁忌用语" in message and "不归我管，问别人去" in message
    assert doc.xpath('//textarea[@name="guidance"]')[0].text_content() == "这个不归我管，问别人去。"
    assert doc.xpath('//input[@name="materials_complete"][@value="true"]/@checked')


def test_valid_submission_moves_the_case_on_and_names_the_next_step(client, login, csrf, desk, assist_mz):
    case, task = assist_mz
    login("gaohongxia")
    response = post(client, csrf, f"/tasks/{task.id}", {"guidance": "请携带户口簿和身份证。", "materials_complete": "true"})
    assert response.status_code == 302 and response.headers["Location"] == "/"
    message = flashes(client.get("/"))
    assert "已提交" in message and "下一步：陪同递交办理" in message and "成安县民政局" in message
    assert desk.ready_names(case["id"]) == ["accompany_submission"]
    again = post(client, csrf, f"/tasks/{task.id}", {"guidance": "再提交一次", "materials_complete": "true"})
    assert again.status_code == 409
    assert "已经办理过" in text_of(again)


def test_const_true_checkbox_must_be_ticked(client, login, csrf, desk, assist_mz):
    case, task = assist_mz
    desk.do(case["id"], "guide_materials", {"guidance": "请准备。", "materials_complete": True}, by="gaohongxia")
    accompany = desk.task(case["id"], "accompany_submission")
    login("gaohongxia")
    response = post(client, csrf, f"/tasks/{accompany.id}", {"submitted": "false", "approval_department": "民政局",
                                                            "submission_date": "2025-10-13"})
    assert response.status_code == 422
    assert errors_in(field_box(page(response), "submitted")) == ["必须确认此项后才能提交。"]


def test_someone_else_s_task_is_shown_without_a_usable_form(client, login, csrf, assist_mz):
    _, task = assist_mz
    login("xuzhiqiang")  # a proxy agent of the same unit: sees the case, may not do an assistant's task
    response = client.get(f"/tasks/{task.id}")
    assert response.status_code == 200
    assert page(response).xpath('//form[@data-task-form]//fieldset[@disabled]')
    refused = post(client, csrf, f"/tasks/{task.id}", {"guidance": "x", "materials_complete": "true"})
    assert refused.status_code == 403


# --- the one-time notice (R-5.4, R-9.1.3.3) ---------------------------------------------------------------

def test_r_9_1_3_3_notice_sheet_lists_exactly_the_unticked_materials_with_how_to_obtain(client, login, system, assist_mz):
    _, task = assist_mz
    catalog = json.loads((PROJECT_ROOT / "bdd_workflow" / "demo" / "catalog.json").read_text(encoding="utf-8"))
    materials = next(m for m in catalog["matters"] if m["code"] == "GR-002")["notice"]["materials"]
    login("gaohongxia")
    response = client.get(f"/tasks/{task.id}/notice", query_string=[("have", 0), ("have", 2)])
    assert response.status_code == 200
    doc = page(response)
    rows = doc.xpath('//table[contains(@class, "missing-materials")]/tbody/tr')
    listed = [(r.xpath("td[2]")[0].text_content(), r.xpath("td[4]")[0].text_content()) for r in rows]
    expected = [(m["name"], m["how_to_obtain"]) for i, m in enumerate(materials) if i not in (0, 2)]
    assert listed == expected
    assert "一次性告知单" in doc.text_content() and "王芳" in doc.text_content()
    assert doc.xpath('//article[contains(@class, "document")]')  # the A4 print layout


def test_r_9_1_3_3_the_missing_materials_are_a_check_list_of_the_matter_s_notice(client, login, desk):
    """R-9.1.3.3: the task's form lists every material of the matter's notice with how to obtain it, to tick
    the missing ones; no text box to type a material in, and the side panel does not ask a second time."""
    case = desk.start("assist", by="gaohongxia", matter_code="GR-002")
    desk.do(case["id"], "guide_materials", {"guidance": "请准备。", "materials_complete": False}, by="gaohongxia")
    task = desk.task(case["id"], "list_missing_materials")
    catalog = json.loads((PROJECT_ROOT / "bdd_workflow" / "demo" / "catalog.json").read_text(encoding="utf-8"))
    materials = next(m for m in catalog["matters"] if m["code"] == "GR-002")["notice"]["materials"]
    login("gaohongxia")
    doc = page(client.get(f"/tasks/{task.id}"))
    box = field_box(doc, "missing_materials")
    assert box.xpath('.//input[@type="checkbox"]/@value') == [m["name"] for m in materials]
    assert [" ".join(li.text_content().split()) for li in box.xpath(".//li")] == [
        f"{m['name']}获取途径：{m['how_to_obtain']}" for m in materials]
    assert not doc.xpath('//input[starts-with(@name, "missing_materials.")]')
    assert not doc.xpath('//*[@data-checklist]//input[@name="have"]')


# --- signatures (R-9.2.1) ---------------------------------------------------------------------------------

def _entrustment(desk):
    case = desk.start("proxy", by="xuzhiqiang", matter_code="GR-002")
    return case, desk.task(case["id"], "record_entrustment")


ENTRUSTMENT = {"entrustment_signed": "true", "entrustment_number": "WT-2025-009", "entrustment_signed_date": "2025-10-13"}


def test_r_9_2_1_entrustment_needs_the_signature_drawn_on_screen(client, login, csrf, desk):
    case, task = _entrustment(desk)
    login("xuzhiqiang")
    doc = page(client.get(f"/tasks/{task.id}"))
    assert doc.xpath('//form[@data-signature-form]//canvas') and "未签名" in doc.text_content()
    unsigned = post(client, csrf, f"/tasks/{task.id}", ENTRUSTMENT)
    assert unsigned.status_code == 422
    assert "签名" in " ".join(errors_in(page(unsigned).xpath('//*[@id="signature"]')[0]))
    drawn = "data:image/png;base64," + base64.b64encode(SIGNATURE_PNG).decode()
    saved = post(client, csrf, f"/tasks/{task.id}/signature", {"signature_data": drawn})
    assert saved.status_code == 302 and saved.headers["Location"] == f"/tasks/{task.id}"
    signed = client.get(f"/tasks/{task.id}")
    assert "已签名" in text_of(signed)
    done = post(client, csrf, f"/tasks/{task.id}", ENTRUSTMENT)
    assert done.status_code == 302
    assert desk.ready_names(case["id"]) == ["submit_on_behalf"]
    with desk.system.db.unit_of_work(write=False) as session:
        files = session.execute(select(Attachment.kind, Attachment.task_id, Attachment.content_type)
                                .where(Attachment.case_id == case["id"])).all()
    assert [tuple(f) for f in files] == [("signature", task.id, "image/png")]


def test_signature_can_be_an_uploaded_scan_and_a_bad_file_is_refused(client, login, csrf, desk):
    case, task = _entrustment(desk)
    login("xuzhiqiang")
    bad = post(client, csrf, f"/tasks/{task.id}/signature",
               {"file": (io.BytesIO(b"not a picture"), "scan.png", "image/png")},
               content_type="multipart/form-data", follow_redirects=True)
    assert "文件内容与类型不符" in flashes(bad)
    ok = post(client, csrf, f"/tasks/{task.id}/signature",
              {"file": (io.BytesIO(b"%PDF-1.4 signed entrustment"), "委托书.pdf", "application/pdf")},
              content_type="multipart/form-data", follow_redirects=True)
    assert "已签名" in text_of(ok)
    assert post(client, csrf, f"/tasks/{task.id}", ENTRUSTMENT).status_code == 302


def test_signature_is_refused_for_a_form_that_needs_none(client, login, csrf, assist_mz):
    _, task = assist_mz
    login("gaohongxia")
    response = post(client, csrf, f"/tasks/{task.id}/signature",
                    {"signature_data": "data:image/png;base64," + base64.b64encode(SIGNATURE_PNG).decode()},
                    follow_redirects=True)
    assert "不需要服务对象签名" in flashes(response)


# --- cases ----------------------------------------------------------------------------------------------

def test_case_page_shows_steps_with_their_data_links_and_attachments(client, login, csrf, desk, assist_mz):
    case, task = assist_mz
    desk.do(case["id"], "guide_materials", {"guidance": "请携带户口簿。", "materials_complete": True}, by="gaohongxia")
    login("gaohongxia")
    uploaded = post(client, csrf, f"/cases/{case['id']}/attachments",
                    {"kind": "material", "note": "身份证复印件", "file": (io.BytesIO(SIGNATURE_PNG), "身份证.png", "image/png")},
                    content_type="multipart/form-data")
    assert uploaded.status_code == 302
    response = client.get(f"/cases/{case['id']}")
    assert response.status_code == 200
    doc = page(response)
    body = " ".join(doc.text_content().split())
    assert case["number"] in body and "王芳" in body and "最低生活保障申请" in body and "成安县民政局" in body
    assert "指导准备申报材料" in body and "请携带户口簿。" in body and "申报材料是否齐全 是" in body
    assert doc.xpath(f'//a[@href="/tasks/{desk.task(case["id"], "accompany_submission").id}"]')
    [link] = doc.xpath('//a[starts-with(@href, "/attachments/")]')
    download = client.get(link.get("href"))
    assert download.status_code == 200 and download.data == SIGNATURE_PNG
    assert download.headers["Content-Disposition"].startswith("attachment")


def test_a_scan_larger_than_the_default_request_limit_can_be_uploaded(client, login, csrf, assist_mz):
    case, task = assist_mz
    login("gaohongxia")
    scan = b"%PDF-1.4\n" + b"0" * (3 * 1024 * 1024)
    response = post(client, csrf, f"/cases/{case['id']}/attachments",
                    {"kind": "material", "task_id": task.id, "next": f"/tasks/{task.id}",
                     "file": (io.BytesIO(scan), "户口簿.pdf", "application/pdf")},
                    content_type="multipart/form-data", follow_redirects=True)
    assert response.status_code == 200
    assert "已上传申请材料：户口簿.pdf" in flashes(response)
    assert "户口簿.pdf" in text_of(response)  # back on the task page, in its list of files


def test_r_6_2_case_of_a_foreign_unit_is_as_absent_as_an_unknown_one(client, login, assist_spj):
    """Another unit's case and its task answer the same 404 as an id that does not exist: ids tell nothing."""
    case, _ = assist_spj
    login("gaohongxia")
    response = client.get(f"/cases/{case['id']}")
    assert response.status_code == 404
    assert "不存在，或不在您可查看的范围内" in text_of(response)
    assert client.get("/cases/999999").status_code == 404
    assert text_of(client.get("/cases/999999")).replace("999999", str(case["id"])) == text_of(response)
    assert client.get(f"/tasks/{assist_spj[1].id}").status_code == 404


def test_case_list_shows_visible_cases_with_filters(client, login, desk, assist_mz, assist_spj):
    consultation = desk.start("consultation", by="zhaolina", channel="phone")
    login("zhangwei")
    body = text_of(client.get("/cases"))
    assert all(c["number"] in body for c in (assist_mz[0], assist_spj[0], consultation))
    only = text_of(client.get("/cases", query_string={"process": "consultation"}))
    assert consultation["number"] in only and assist_mz[0]["number"] not in only
    login("gaohongxia")
    mine = text_of(client.get("/cases"))
    assert assist_mz[0]["number"] in mine and assist_spj[0]["number"] not in mine


# --- intake (R-9.1.2, R-9.3.1) ------------------------------------------------------------------------------

def test_intake_records_an_offline_application_and_opens_the_case(client, login, csrf, desk):
    login("gaohongxia")
    form = page(client.get("/intake"))
    assert {"assist", "onsite"} == set(form.xpath('//input[@name="process"]/@value'))
    response = post(client, csrf, "/intake", {
        "process": "onsite", "applicant_name": "李桂兰", "applicant_phone": "13912345678",
        "applicant_type": "personal", "matter_code": "GR-007", "channel": "phone", "address": "成安镇北关村 12 号"})
    assert response.status_code == 302
    case_id = int(response.headers["Location"].rsplit("/", 1)[1])
    shown = client.get(response.headers["Location"])
    number = desk.case(case_id)["number"]
    assert f"办件编号 {number}" in flashes(shown)
    assert "成安镇北关村 12 号" in text_of(shown)
    assert desk.ready_names(case_id) == ["visit_applicant"]


def test_intake_shows_errors_next_to_the_fields(client, login, csrf):
    login("gaohongxia")
    response = post(client, csrf, "/intake", {
        "process": "onsite", "applicant_name": "李桂兰", "applicant_phone": "12345",
        "applicant_type": "personal", "matter_code": "", "channel": "walk_in", "address": ""})
    assert response.status_code == 422
    doc = page(response)
    phone = doc.xpath('//input[@name="applicant_phone"]/..')[0]
    assert "手机号" in " ".join(errors_in(phone))
    assert doc.xpath('//input[@name="applicant_name"]/@value') == ["李桂兰"]
    fixed = post(client, csrf, "/intake", {
        "process": "onsite", "applicant_name": "李桂兰", "applicant_phone": "13912345678",
        "applicant_type": "personal", "matter_code": "QY-003", "channel": "walk_in", "address": ""})
    doc = page(fixed)
    assert "不提供上门办服务" in " ".join(errors_in(doc.xpath('//select[@name="matter_code"]/..')[0]))
    # R-9.3.1: the address comes from the onsite diagram's start form, its error said beside it at the same time
    address = doc.xpath('//fieldset[@data-start-form="onsite"]//input[@name="address"]/..')[0]
    assert errors_in(address) == ["上门办需要填写上门地址。"]


def test_intake_shows_what_the_start_form_asks_for_as_the_forms_editor_left_it(client, login, csrf, desk):
    """R-9.3.1: an administrator adds a field to the onsite start form; the desk asks for it and keeps it."""
    desk.add_field("onsite_apply", "floor", {"type": "integer", "title": "楼层", "minimum": 1})
    login("gaohongxia")
    doc = page(client.get("/intake"))
    fieldset = doc.xpath('//fieldset[@data-start-form="onsite"]')[0]
    assert fieldset.xpath("./legend")[0].text_content().strip() == "上门办申请"
    assert fieldset.xpath(".//input/@name") == ["address", "appointment_at", "floor"]
    response = post(client, csrf, "/intake", {
        "process": "onsite", "applicant_name": "李桂兰", "applicant_phone": "13912345678", "applicant_type": "personal",
        "matter_code": "GR-007", "channel": "phone", "address": "成安镇北关村 12 号", "floor": "0"})
    assert response.status_code == 422
    floor = page(response).xpath('//input[@name="floor"]/..')[0]
    assert errors_in(floor) == ["不能小于 1。"]
    response = post(client, csrf, "/intake", {
        "process": "onsite", "applicant_name": "李桂兰", "applicant_phone": "13912345678", "applicant_type": "personal",
        "matter_code": "GR-007", "channel": "phone", "address": "成安镇北关村 12 号", "floor": "3"})
    assert response.status_code == 302
    case_id = int(response.headers["Location"].rsplit("/", 1)[1])
    assert desk.case(case_id)["history"][0]["detail"]["data"]["floor"] == 3
    # the case page and the next step's page show it under the start form's own label
    for url in (f"/cases/{case_id}", f"/tasks/{desk.ready(case_id)[0].id}"):
        doc = page(client.get(url))
        shown = {dt.text_content().strip(): dt.getnext().text_content().strip() for dt in doc.xpath("//dl[@class='facts']/dt")}
        assert shown["上门地址"] == "成安镇北关村 12 号" and shown["楼层"] == "3", (url, shown)


def test_r_9_3_1_intake_takes_an_agreed_visit_time_and_refuses_one_already_past(client, login, csrf, desk):
    """R-9.3.1 R-4.a: the desk records the visit time agreed with the applicant (a date-and-time field); one
    already past is refused beside the field, nothing started; an agreed one makes the visit due that day."""
    base = {"process": "onsite", "applicant_name": "李桂兰", "applicant_phone": "13912345678",
            "applicant_type": "personal", "matter_code": "GR-007", "channel": "phone", "address": "成安镇北关村 12 号"}
    with time_machine.travel(datetime(2025, 11, 3, 1, 0, tzinfo=timezone.utc), tick=False):  # the session's time too
        login("gaohongxia")
        doc = page(client.get("/intake"))
        [picker] = doc.xpath('//fieldset[@data-start-form="onsite"]//input[@name="appointment_at"]')
        assert picker.get("type") == "datetime-local"
        refused = post(client, csrf, "/intake", {**base, "appointment_at": "2025-11-02T10:00"})
        assert refused.status_code == 422
        field = page(refused).xpath('//input[@name="appointment_at"]/..')[0]
        assert errors_in(field) == ["约定上门时间不能早于现在，请重新约定。"]
        response = post(client, csrf, "/intake", {**base, "appointment_at": "2025-11-07T10:00"})
    assert response.status_code == 302
    case_id = int(response.headers["Location"].rsplit("/", 1)[1])
    assert desk.task(case_id, "visit_applicant").due_at == datetime(2025, 11, 7, 9, 30, tzinfo=timezone.utc)


def test_intake_of_a_hotline_consultation_by_the_consultation_centre(client, login, csrf, desk):
    """R-9.1.1.1: the consultant records a call; the case opens with its first step at the centre."""
    login("zhaolina")
    form = page(client.get("/intake"))
    assert set(form.xpath('//input[@name="process"]/@value')) == {"consultation", "complaint"}
    response = post(client, csrf, "/intake", {
        "process": "consultation", "applicant_name": "赵先生", "applicant_phone": "0310-7212345",
        "applicant_type": "personal", "channel": "phone", "matter_code": "", "question": "高龄津贴怎么申领？",
        "address": "不该带上的地址"})
    assert response.status_code == 302
    case_id = int(response.headers["Location"].rsplit("/", 1)[1])
    body = text_of(client.get(response.headers["Location"]))
    assert "高龄津贴怎么申领？" in body and "不该带上的地址" not in body
    assert desk.ready_names(case_id) == ["record_consultation"]


def test_intake_is_refused_to_a_role_that_starts_nothing(client, login):
    login("wangxiuying")
    assert client.get("/intake").status_code == 403


# --- the callback desk (R-10.1) and the ledger --------------------------------------------------------------

def _completed_assist(desk) -> dict:
    case = desk.start("assist", by="gaohongxia", matter_code="GR-002")
    for name, data in [("guide_materials", {"guidance": "请准备材料。", "materials_complete": True}),
                       ("accompany_submission", {"submitted": True, "approval_department": "民政局",
                                                 "submission_date": "2025-10-13"}),
                       ("track_approval", {"tracking_notes": "通过。", "applicant_informed": True, "approval_result": "准予"}),
                       ("hand_over_results", {"handed_over_documents": ["决定书"], "all_handed_over": True})]:
        desk.do(case["id"], name, data, by="gaohongxia")
    return case


def test_r_10_1_callback_desk_lists_the_callback_of_a_completed_case(client, login, csrf, desk):
    case = _completed_assist(desk)
    callback = desk.linked(case["id"], "callback")
    login("zhaolina")
    response = client.get("/callbacks")
    assert response.status_code == 200
    body = text_of(response)
    assert case["number"] in body and "王芳" in body and "13812345678" in body and "最低生活保障申请" in body
    [go] = page(response).xpath('//a[text()="去回访"]')
    task_page = client.get(go.get("href"))
    assert "服务态度（1-5分）" in text_of(task_page)
    scores = {f"score_{k}": "5" for k in ("attitude", "quality", "efficiency", "integrity", "standard",
                                          "openness", "timeliness", "one_time_notice")}
    done = post(client, csrf, go.get("href"), {**scores, "satisfaction": "satisfied", "problems_found": "none"})
    assert done.status_code == 302
    assert desk.case(callback["id"])["status"] == "completed"
    assert case["number"] not in text_of(client.get("/callbacks"))
    login("gaohongxia")
    assert client.get("/callbacks").status_code == 403


def test_ledger_lists_every_step_and_filters_by_case_number(client, login, desk, assist_mz, assist_spj):
    case, _ = assist_mz
    desk.do(case["id"], "guide_materials", {"guidance": "请携带户口簿。", "materials_complete": True}, by="gaohongxia")
    login("gaohongxia")
    body = text_of(client.get("/ledger"))
    assert case["number"] in body and "受理登记" in body and "指导准备申报材料" in body and "请携带户口簿。" in body
    assert assist_spj[0]["number"] not in body  # R-6.2
    login("zhangwei")
    only = text_of(client.get("/ledger", query_string={"case_number": assist_spj[0]["number"]}))
    assert assist_spj[0]["number"] in only and case["number"] not in only


def test_r_4_the_supervisor_sees_the_quality_figures_and_staff_do_not(client, login, desk):
    """Section 4 figures for the centre office, each with its cases one click away; an assistant gets 403."""
    case = desk.start("assist", by="gaohongxia", matter_code="GR-002")
    login("wangxiuying")
    page = client.get("/quality")
    body = page.get_data(as_text=True)
    assert page.status_code == 200
    for title in ("按时办结率", "信息公开透明度", "咨询投诉及时处理率", "满意率", "台账完整"):
        assert title in body
    assert "19 / 19" in body  # every demo matter publishes a complete one-time notice (R-4.b)
    client.post("/logout", data={"csrf_token": _csrf_of(client)})
    login("gaohongxia")
    assert client.get("/quality").status_code == 403
    assert case["number"]


def _csrf_of(client):
    import re

    return re.search(r'name="csrf_token" value="([^"]+)"', client.get("/").get_data(as_text=True)).group(1)
