"""一次性告知 from the catalog on the staff pages (R-5.4, R-9.1.3.3, R-9.1.1.2): the missing materials are ticked
from the matter's notice, the notice given prints as the 一次性告知单, and a consultation that names a matter
shows and gives that matter's notice."""

from __future__ import annotations

import json

from lxml import html as lxml_html
from werkzeug.datastructures import MultiDict

from bdd_workflow.config import PROJECT_ROOT
from bdd_workflow.services import forms_admin

CATALOG = json.loads((PROJECT_ROOT / "bdd_workflow" / "demo" / "catalog.json").read_text(encoding="utf-8"))
LOW_INCOME = next(m for m in CATALOG["matters"] if m["code"] == "GR-002")


def page(response):
    return lxml_html.fromstring(response.get_data(as_text=True))


def words(element) -> str:
    return " ".join(element.text_content().split())


def submit(client, csrf, url: str, pairs: list[tuple[str, str]]):
    return client.post(url, data=MultiDict([("csrf_token", csrf(client, "/")), *pairs]))


def test_r_9_1_3_3_ticked_materials_print_as_the_one_time_notice_with_how_to_obtain_each(client, login, csrf, desk):
    case = desk.start("assist", by="gaohongxia", matter_code="GR-002")
    desk.do(case["id"], "guide_materials", {"guidance": "请准备材料。", "materials_complete": False}, by="gaohongxia")
    task = desk.task(case["id"], "list_missing_materials")
    login("gaohongxia")
    chosen = ["家庭经济状况核对授权书", "本人社会保障卡或银行账户信息"]
    refused = submit(client, csrf, f"/tasks/{task.id}", [("missing_materials", "营业执照"), ("convert_to_proxy", "false")])
    assert refused.status_code == 422
    assert desk.ready_names(case["id"]) == ["list_missing_materials"]
    done = submit(client, csrf, f"/tasks/{task.id}", [*(("missing_materials", n) for n in chosen),
                                                      ("convert_to_proxy", "false")])
    assert done.status_code == 302
    # The step shows what was told, and the completed task offers the paper.
    shown = page(client.get(f"/tasks/{task.id}"))
    assert shown.xpath('//a[contains(@href, "/documents/cases/%d/notice")]' % case["id"])

    sheet = client.get(f"/documents/cases/{case['id']}/notice")
    assert sheet.status_code == 200
    doc = page(sheet)
    rows = doc.xpath('//table[contains(@class, "given-materials")]/tbody/tr')
    how = {m["name"]: m["how_to_obtain"] for m in LOW_INCOME["notice"]["materials"]}
    in_catalog_order = [m["name"] for m in LOW_INCOME["notice"]["materials"] if m["name"] in chosen]
    assert [(words(r.xpath("td[2]")[0]), words(r.xpath("td[4]")[0])) for r in rows] == [
        (n, how[n]) for n in in_catalog_order]
    text = words(doc)
    assert "一次性告知单" in text and "尚缺的材料" in text and "高红霞" in text and "王芳" in text
    for part in (LOW_INCOME["notice"]["conditions"][0], LOW_INCOME["notice"]["steps"][0],
                 LOW_INCOME["notice"]["cautions"][0], LOW_INCOME["notice"]["time_limit"], LOW_INCOME["window"]):
        assert " ".join(part.split()) in text, part
    # Only what is missing is listed as missing: the other materials are not in the table.
    assert "最低生活保障申请书" not in words(doc.xpath('//table[contains(@class, "given-materials")]')[0])
    assert doc.xpath('//article[contains(@class, "document")]')  # the A4 print layout


def test_r_9_1_1_2_the_consultant_sees_and_gives_the_matter_s_notice(client, login, csrf, desk):
    case = desk.start("consultation", by="zhaolina", channel="phone")
    desk.do(case["id"], "record_consultation", {"question": "低保怎么申请？", "related_matter": "GR-002",
                                                "answerable": True})
    task = desk.task(case["id"], "give_one_time_notice")
    login("zhaolina")
    doc = page(client.get(f"/tasks/{task.id}"))
    [shown] = doc.xpath('//*[@data-catalog-notice]')
    assert all(m["name"] in words(shown) for m in LOW_INCOME["notice"]["materials"])
    assert LOW_INCOME["name"] in words(shown)
    assert not doc.xpath('//textarea[@name="notice_text"]')  # nothing to type instead of the catalog
    done = submit(client, csrf, f"/tasks/{task.id}", [("notice_complete", "true"), ("result", "已一次性告知")])
    assert done.status_code == 302
    sheet = words(page(client.get(f"/documents/cases/{case['id']}/notice")))
    assert "一次性告知单" in sheet and "赵丽娜" in sheet
    assert all(" ".join(m["how_to_obtain"].split()) in sheet for m in LOW_INCOME["notice"]["materials"])


def test_r_9_1_1_2_a_consultation_naming_no_matter_is_answered_in_free_text(client, login, desk):
    case = desk.start("consultation", by="zhaolina", channel="phone")
    desk.do(case["id"], "record_consultation", {"question": "中心几点下班？", "answerable": True})
    task = desk.task(case["id"], "give_one_time_notice")
    login("zhaolina")
    doc = page(client.get(f"/tasks/{task.id}"))
    assert doc.xpath('//textarea[@name="notice_text"]') and not doc.xpath('//*[@data-catalog-notice]')


def test_r_9_1_3_3_a_case_whose_materials_were_typed_still_renders_prints_and_goes_on(client, login, csrf, desk, system):
    """A case that passed 一次性列出缺少材料 when materials were typed row by row (an earlier form version)."""
    admin = desk.actor("chenguodong")
    current = system.forms.get("assist_list_missing_materials")
    schema = json.loads(json.dumps(current.schema))
    schema["properties"]["missing_materials"] = {"type": "array", "title": "缺少的材料", "minItems": 1, "items": {
        "type": "object", "additionalProperties": False, "required": ["name", "how_to_obtain"],
        "properties": {"name": {"type": "string", "title": "材料名称"}, "how_to_obtain": {"type": "string", "title": "补齐途径和方法"}}}}
    forms_admin.save_form(system, admin, current.name, current.title, json.dumps(schema), json.dumps(current.ui),
                          base_version=current.version)
    case = desk.start("assist", by="gaohongxia", matter_code="GR-002")
    desk.do(case["id"], "guide_materials", {"guidance": "请准备材料。", "materials_complete": False}, by="gaohongxia")
    desk.do(case["id"], "list_missing_materials", {"missing_materials": [{"name": "收入证明", "how_to_obtain": "村委会开具"}],
                                                   "convert_to_proxy": False}, by="gaohongxia")
    forms_admin.restore_version(system, admin, current.name, 0, base_version=system.forms.get(current.name).version)

    desk.do(case["id"], "materials_await", {"applicant_response": "resumed"}, by="gaohongxia")
    login("gaohongxia")
    task = desk.task(case["id"], "guide_materials")
    task_page = client.get(f"/tasks/{task.id}")
    assert task_page.status_code == 200 and "村委会开具" in words(page(task_page))
    case_page = client.get(f"/cases/{case['id']}")
    assert case_page.status_code == 200 and "收入证明" in words(page(case_page))
    rows = page(client.get(f"/documents/cases/{case['id']}/notice")).xpath('//table[contains(@class, "given-materials")]/tbody/tr')
    assert [[words(td) for td in r.xpath("td")][1:4:2] for r in rows] == [["收入证明", "村委会开具"]]
    done = submit(client, csrf, f"/tasks/{task.id}", [("guidance", "材料已补齐。"), ("materials_complete", "true")])
    assert done.status_code == 302 and desk.ready_names(case["id"]) == ["accompany_submission"]
