"""The registry pages (/admin/registry): the matter catalog with its notices edited as fields (R-5.3,
R-5.4), the org tree (R-3.3), the staff registry with each person's history (R-6.1); who may use them,
errors next to their fields, CSRF on every POST."""

from __future__ import annotations

import pytest
from lxml import html as lxml_html

NEW_MATTER = {
    "code": "GR-950", "name": "老年人优待证办理", "kind": "personal", "levels": ["county", "township"], "responsible_unit": "CA-MZ",
    "department": "", "service_types": ["assist", "onsite"], "promised_days": "10", "legal_days": "20", "fee": "不收费",
    "window": "社会救助窗口", "materials.0.name": "身份证", "materials.0.copies": "复印件1份",
    "materials.0.how_to_obtain": "申请人自备", "materials.0.required": "1",
    "materials.1.name": "", "materials.1.copies": "", "materials.1.how_to_obtain": "",
    "conditions": "年满80周岁", "steps": "申请\n审核\n发放", "cautions": "每年认证一次", "basis": "", "time_limit": "",
}


def doc(response):
    return lxml_html.fromstring(response.get_data(as_text=True))


def field_errors(response, name: str) -> str:
    """The error text shown with the field ``name`` (inside its label/fieldset or its table cell)."""
    page = doc(response)
    nodes = page.xpath(f'//*[@data-field="{name}"]//*[contains(@class, "field-error")]'
                       f' | //td[.//*[@name="{name}"]]/*[contains(@class, "field-error")]')
    return " ".join(n.text_content().strip() for n in nodes)


def post(client, csrf, url: str, data: dict, form_url: str | None = None, **kwargs):
    return client.post(url, data={"csrf_token": csrf(client, form_url or url), **data}, **kwargs)


@pytest.mark.parametrize("username, url, status", [
    ("zhaolina", "/admin/registry/matters", 403), ("gaohongxia", "/admin/registry/staff", 403),
    ("zhangwei", "/admin/registry/staff", 403), ("zhangwei", "/admin/registry/handover", 200),
    ("wangxiuying", "/admin/registry/matters", 200), ("wangxiuying", "/admin/registry/staff", 200),
    ("wangxiuying", "/admin/registry/units", 200), ("wangxiuying", "/admin/registry/units/new?parent=CA-T01", 403),
    ("chenguodong", "/admin/registry/units/new?parent=CA-T01", 200), ("chenguodong", "/admin/registry/staff/new", 200),
])
def test_r_6_1_who_may_use_the_registry(client, login, username, url, status):
    """R-6.1: the county centre (its office) registers staff and keeps the catalog; units are the
    administrators'; the chief officer only sees the tasks left by deactivated staff; others get 403."""
    login(username)
    response = client.get(url)
    assert response.status_code == status
    if status == 403:
        assert "无权" in response.get_data(as_text=True)


def test_r_5_3_a_matter_is_created_from_structured_fields(client, login, csrf):
    """R-5.3, R-5.4: the notice is typed as fields (materials rows, one line per condition or step);
    the matter then appears in the catalog with a complete notice."""
    login("wangxiuying")
    form = client.get("/admin/registry/matters/new").get_data(as_text=True)
    assert 'name="materials.0.name"' in form and 'name="conditions"' in form and "<script>" not in form
    response = post(client, csrf, "/admin/registry/matters/new", NEW_MATTER)
    assert response.status_code == 302 and response.headers["Location"].endswith("/admin/registry/matters/GR-950")
    listing = doc(client.get("/admin/registry/matters", query_string={"q": "优待证"}))
    row = listing.xpath('//tr[@data-matter="GR-950"]')[0].text_content()
    assert "老年人优待证办理" in row and "完整" in row and "10 / 20" in row
    edit = client.get("/admin/registry/matters/GR-950").get_data(as_text=True)
    assert 'value="身份证"' in edit and "承诺10个工作日（法定20个工作日）" in edit


def test_r_5_3_errors_are_shown_next_to_their_fields_and_the_input_is_kept(client, login, csrf):
    login("chenguodong")
    response = post(client, csrf, "/admin/registry/matters/new",
                    {**NEW_MATTER, "code": "GR-002", "promised_days": "30", "materials.0.name": ""},
                    form_url="/admin/registry/matters/new")
    assert response.status_code == 422
    assert "已被使用" in field_errors(response, "code")
    assert "不能长于法定时限" in field_errors(response, "promised_days")
    assert "请填写材料名称" in field_errors(response, "materials.0.name")
    page = doc(response)
    assert page.xpath('//input[@name="name"]/@value') == ["老年人优待证办理"]
    assert page.xpath('//input[@name="materials.0.how_to_obtain"]/@value') == ["申请人自备"]
    assert client.get("/admin/registry/matters/GR-950").status_code == 404  # nothing saved


def test_r_5_4_an_incomplete_notice_is_saved_only_when_confirmed(client, login, csrf):
    login("chenguodong")
    incomplete = {**NEW_MATTER, "cautions": "", "materials.0.how_to_obtain": ""}
    response = post(client, csrf, "/admin/registry/matters/new", incomplete)
    assert response.status_code == 422
    assert "获取途径" in field_errors(response, "materials.0.how_to_obtain")
    assert "注意事项" in field_errors(response, "cautions")
    assert doc(response).xpath('//input[@name="confirm_incomplete"]')
    response = post(client, csrf, "/admin/registry/matters/new", {**incomplete, "confirm_incomplete": "1"},
                    follow_redirects=True)
    assert response.status_code == 200 and "一次性告知不完整" in response.get_data(as_text=True)
    row = doc(client.get("/admin/registry/matters")).xpath('//tr[@data-matter="GR-950"]')[0].text_content()
    assert "不完整" in row


def test_r_5_3_an_existing_notice_is_edited_in_place_and_retired(client, login, csrf):
    login("chenguodong")
    page = doc(client.get("/admin/registry/matters/GR-002"))
    assert page.xpath('//input[@name="materials.0.name"]/@value') == ["最低生活保障申请书"]
    assert not page.xpath('//input[@name="code"]')  # the code never changes
    response = post(client, csrf, "/admin/registry/matters/GR-002/retire", {}, form_url="/admin/registry/matters/GR-002")
    assert response.status_code == 302
    assert "GR-002" not in client.get("/admin/registry/matters").get_data(as_text=True)
    assert 'data-matter="GR-002"' in client.get("/admin/registry/matters?state=retired").get_data(as_text=True)
    public = client.get("/public/").get_data(as_text=True)
    assert "最低生活保障申请" not in public


def test_posts_without_csrf_are_refused(client, login):
    login("chenguodong")
    response = client.post("/admin/registry/matters/GR-002/retire")
    assert response.status_code == 400 and "CSRF" in response.get_data(as_text=True)
    assert 'data-matter="GR-002"' in client.get("/admin/registry/matters").get_data(as_text=True)


def test_r_3_3_units_are_created_below_their_parent_and_retired_when_unused(client, login, csrf):
    """R-3.3: a village station below a township; CA-MZ cannot be retired (its numbers are named);
    the new empty station can, and it leaves the units API."""
    login("chenguodong")
    tree = doc(client.get("/admin/registry/units"))
    assert tree.xpath('//tr[@data-unit="CA-T01-V01"]') and tree.xpath('//tr[@data-unit="CA"]')
    bad = post(client, csrf, "/admin/registry/units/new?parent=CA-T01",
               {"kind": "village_station", "code": "CA-T02-V77", "name": "", "phone": "", "address": ""})
    assert bad.status_code == 422
    assert "CA-T01-" in field_errors(bad, "code") and "单位名称" in field_errors(bad, "name")
    good = post(client, csrf, "/admin/registry/units/new?parent=CA-T01",
                {"kind": "village_station", "code": "CA-T01-V77", "name": "新村综合服务站", "phone": "", "address": ""})
    assert good.status_code == 302
    row = doc(client.get("/admin/registry/units")).xpath('//tr[@data-unit="CA-T01-V77"]')[0].text_content()
    assert "新村综合服务站" in row and "村（社区）综合服务站" in row
    refused = post(client, csrf, "/admin/registry/units/CA-MZ/retire", {}, form_url="/admin/registry/units",
                   follow_redirects=True)
    text = refused.get_data(as_text=True)
    assert "不能撤销" in text and "名在岗工作人员" in text and "个在用事项" in text
    post(client, csrf, "/admin/registry/units/CA-T01-V77/retire", {}, form_url="/admin/registry/units")
    row = doc(client.get("/admin/registry/units")).xpath('//tr[@data-unit="CA-T01-V77"]')[0].text_content()
    assert "已撤销" in row
    token = client.post("/api/v1/auth/token", json={"username": "chenguodong", "password": "demo1234"}).get_json()["token"]
    units = client.get("/api/v1/units", headers={"Authorization": f"Bearer {token}"}).get_data(as_text=True)
    assert "CA-T01-V77" not in units and "CA-T01-V01" in units


def test_r_6_1_staff_registration_keeps_no_password_and_shows_errors_by_field(client, login, csrf):
    login("wangxiuying")
    data = {"username": "sunli", "name": "孙丽", "role": "assistant", "unit": "CA-T02", "phone": "13800001111",
            "duties": "帮办", "password": "secret-123", "password2": "secret-999"}
    response = post(client, csrf, "/admin/registry/staff/new", data)
    assert response.status_code == 422
    assert "不一致" in field_errors(response, "password2")
    assert "secret-123" not in response.get_data(as_text=True)
    assert doc(response).xpath('//input[@name="name"]/@value') == ["孙丽"]
    roles = doc(response).xpath('//select[@name="role"]/option/@value')
    assert "administrator" not in roles  # the office does not create administrators
    response = post(client, csrf, "/admin/registry/staff/new", {**data, "password2": "secret-123"})
    assert response.status_code == 302 and response.headers["Location"].endswith("/admin/registry/staff/sunli")
    page = doc(client.get("/admin/registry/staff/sunli"))
    assert [li.get("data-action") for li in page.xpath('//ol[@data-history]/li')] == ["registered"]


def test_r_6_1_a_person_s_page_shows_the_history_and_deactivation_needs_a_reason(client, login, csrf):
    """R-6.1: a transfer and a deactivation on gaohongxia's page, newest first, with who and why; she
    can no longer log in; the task she held is listed for the chief officer to reassign."""
    login("gaohongxia")
    case = client.post("/api/v1/auth/token", json={"username": "gaohongxia", "password": "demo1234"}).get_json()
    token = case["token"]
    started = client.post("/api/v1/cases", headers={"Authorization": f"Bearer {token}"}, json={
        "process": "assist", "data": {"applicant_name": "王芳", "applicant_phone": "13812345678",
                                      "applicant_type": "personal", "matter_code": "GR-002", "channel": "walk_in"}})
    task_id = started.get_json()["tasks"][0]["id"]
    client.post(f"/api/v1/tasks/{task_id}/claim", headers={"Authorization": f"Bearer {token}"})
    login("chenguodong")
    url = "/admin/registry/staff/gaohongxia"
    edit = {"name": "高红霞", "role": "assistant", "unit": "CA-MZ", "phone": "13800000000", "duties": "帮办", "reason": ""}
    response = post(client, csrf, url, edit)
    assert response.status_code == 302  # a phone change needs no reason
    response = post(client, csrf, url + "/deactivate", {"reason": ""}, form_url=url)
    assert response.status_code == 422 and "原因" in field_errors(response, "reason")
    response = post(client, csrf, url + "/deactivate", {"reason": "调离"}, form_url=url, follow_redirects=True)
    assert "已停用" in response.get_data(as_text=True) and "1 项待办" in response.get_data(as_text=True)
    page = doc(client.get(url))
    assert [li.get("data-action") for li in page.xpath('//ol[@data-history]/li')] == ["deactivated", "updated", "registered"]
    assert "原因：调离" in page.xpath('//ol[@data-history]/li')[0].text_content()
    assert "电话" in page.xpath('//ol[@data-history]/li')[1].text_content()
    assert page.xpath('//*[@data-held-tasks]')
    assert login("gaohongxia").status_code == 401
    login("zhangwei")
    handover = doc(client.get("/admin/registry/handover"))
    assert handover.xpath(f'//tr[@data-task="{task_id}"]')


def test_r_6_1_an_administrator_cannot_deactivate_or_demote_themself(client, login, csrf, system):
    login("chenguodong")
    url = "/admin/registry/staff/chenguodong"
    page = doc(client.get(url))
    assert not page.xpath('//form[@data-form="deactivate"]')
    response = post(client, csrf, url + "/deactivate", {"reason": "测试"}, form_url=url)
    assert response.status_code == 422 and "不能停用自己" in response.get_data(as_text=True)
    response = post(client, csrf, url, {"name": "陈国栋", "role": "consultant", "unit": "CA-ZX", "phone": "",
                                        "duties": "", "reason": "试试"})
    assert response.status_code == 422 and "自己的角色" in field_errors(response, "role")
    assert client.get(url).status_code == 200  # still an administrator


def test_r_6_1_a_locked_account_is_unlocked_and_a_password_reset(client, login, csrf):
    for _ in range(5):
        login("xuzhiqiang", "wrong-password")
    assert "锁定" in login("xuzhiqiang").get_data(as_text=True)
    login("chenguodong")
    url = "/admin/registry/staff/xuzhiqiang"
    assert "解除锁定" in client.get(url).get_data(as_text=True)
    response = post(client, csrf, url + "/password", {"password": "short", "password2": "short"}, form_url=url)
    assert response.status_code == 422 and "至少 8 位" in field_errors(response, "password")
    assert post(client, csrf, url + "/password", {"password": "new-secret-1", "password2": "new-secret-1"},
                form_url=url).status_code == 302
    assert login("xuzhiqiang", "new-secret-1").status_code == 302


def test_r_6_1_the_staff_list_filters_by_unit_and_role_and_shows_stability(client, login, csrf):
    login("wangxiuying")
    page = doc(client.get("/admin/registry/staff", query_string={"unit": "CA-MZ", "role": "proxy_agent"}))
    assert page.xpath('//tr[@data-staff="xuzhiqiang"]') and not page.xpath('//tr[@data-staff="gaohongxia"]')
    url = "/admin/registry/staff/xuzhiqiang"
    post(client, csrf, url, {"name": "徐志强", "role": "assistant", "unit": "CA-MZ", "phone": "", "duties": "",
                             "reason": "转岗"})
    cell = doc(client.get("/admin/registry/staff")).xpath('//tr[@data-stability="CA-MZ"]/td[@class="changes"]')
    assert cell and cell[0].text_content() == "1"
