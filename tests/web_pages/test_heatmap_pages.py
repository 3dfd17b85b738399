"""The heatmap page and its JSON (issue 5 item 4), and migrating a suspended case from its diagram page
(item 7): what a supervisor sees and does in the browser, with CSRF and clear messages."""

from __future__ import annotations

import re
from datetime import datetime, timedelta, timezone

import time_machine
from sqlalchemy import select

from bdd_workflow.db.models import AuditEvent, Case
from bdd_workflow.services import case_admin, definitions
from bdd_workflow.services.identity import SYSTEM

T0 = datetime(2026, 3, 3, 1, 0, tzinfo=timezone.utc)  # a Tuesday, 09:00 in Cheng'an
GUIDED = {"guidance": "您好，请按一次性告知单准备材料。", "materials_complete": True}


def table_row(html: str, title: str) -> list[str]:
    """The cells of the heatmap table's row for one element, as text."""
    row = next(r for r in re.findall(r"<tr>.*?</tr>", html, re.S) if title in r)
    return [re.sub(r"<[^>]+>", "", cell).strip() for cell in re.findall(r"<td[^>]*>(.*?)</td>", row, re.S)]


def guided_cases(desk, hours=(1, 2, 4)):
    for h in hours:
        with time_machine.travel(T0, tick=False):
            case = desk.start("assist", by="gaohongxia", matter_code="GR-002")
        with time_machine.travel(T0 + timedelta(hours=h), tick=False):
            desk.do(case["id"], "guide_materials", GUIDED)


def test_a_supervisor_sees_the_heatmap_with_its_table_and_legend(client, login, desk):
    """R-4: counts and median per element on the page, the diagram drawn by heatmap.js, no inline script."""
    guided_cases(desk)
    login("wangxiuying")
    page = client.get("/supervise/heatmap?process=assist&from=2026-03-03&to=2026-03-03")
    html = page.get_data(as_text=True)
    assert page.status_code == 200
    assert "流程热力图" in html and "帮办服务" in html
    cells = table_row(html, "指导准备申报材料")
    assert cells[2:6] == ["3", "3", "2 小时", "4 小时"]  # passages, cases, median, p90
    assert table_row(html, "陪同递交办理")[7] == "3"  # ready there now
    assert "hm-swatch hm-5" in html  # the legend and the busiest element's swatch
    assert 'data-heatmap-url="/supervise/heatmap.json?' in html and "heatmap.js" in html and "heatmap.css" in html
    assert "<script>" not in html


def test_the_json_carries_the_diagram_and_the_numbers(client, login, desk):
    guided_cases(desk)
    login("zhangwei")
    data = client.get("/supervise/heatmap.json?process=assist&version=1&from=2026-03-03&to=2026-03-03").get_json()
    assert "<bpmn:definitions" in data["xml"]
    guide = {e["id"]: e for e in data["elements"]}["guide_materials"]
    assert (guide["count"], guide["median_seconds"], guide["median_text"], guide["level"]) == (3, 7200.0, "2 小时", 5)
    bad = client.get("/supervise/heatmap.json?process=assist&from=2026-03-09&to=2026-03-01")
    assert bad.status_code == 422 and "早于" in bad.get_json()["errors"]["to"][0]
    assert client.get("/supervise/heatmap.json?process=nosuch").status_code == 404


def test_bad_parameters_are_shown_on_the_page_with_the_filters(client, login, desk):
    login("zhangwei")
    page = client.get("/supervise/heatmap?process=assist&from=2026-02-30&to=2026-03-03")
    html = page.get_data(as_text=True)
    assert page.status_code == 200
    assert "2026-02-30" in html and "格式不正确" in html and 'name="process"' in html
    missing = client.get("/supervise/heatmap?process=assist&version=9").get_data(as_text=True)
    assert "没有第 9 版" in missing


def test_the_default_is_the_newest_version_over_the_last_30_days(client, login, desk):
    login("zhangwei")
    html = client.get("/supervise/heatmap").get_data(as_text=True)
    assert "帮办服务" in html and "第 1 版" in html and 'type="date" name="from" value="' in html


def test_only_supervisors_see_the_heatmap(client, login, desk):
    login("gaohongxia")
    assert client.get("/supervise/heatmap").status_code == 403
    assert client.get("/supervise/heatmap.json?process=assist").status_code == 403
    client.get("/logout")


def test_a_township_chief_officer_sees_his_townships_cases_only(client, login, desk):
    """R-6.2: the county's cases elsewhere are not counted for CA-T02's chief officer."""
    guided_cases(desk, hours=(1,))
    login("liuhongtao")
    data = client.get("/supervise/heatmap.json?process=assist&from=2026-03-03&to=2026-03-03").get_json()
    assert {e["id"]: e for e in data["elements"]}["guide_materials"]["count"] == 0
    assert client.get("/supervise/heatmap.json?process=assist&unit=CA-MZ").status_code == 403


def _suspend_and_deploy(desk, system, xml: str):
    case = desk.start("assist", by="gaohongxia", matter_code="GR-002")
    case_admin.suspend_case(system, desk.actor("zhangwei"), case["id"], "等待新版流程上线")
    definitions.deploy(system, SYSTEM, xml.encode("utf-8"), "assist.bpmn")
    return case


def test_a_chief_officer_migrates_a_suspended_case_from_its_diagram_page(client, login, csrf, desk, system,
        migration_variants):
    case = _suspend_and_deploy(desk, system, migration_variants.assist_with_review_step())
    login("zhangwei")
    url = f"/cases/{case['id']}/diagram"
    html = client.get(url).get_data(as_text=True)
    assert f'action="/cases/{case["id"]}/migrate"' in html and "迁移到新版本" in html and '<option value="2">' in html
    response = client.post(f"/cases/{case['id']}/migrate", data={
        "csrf_token": csrf(client, url), "version": "2", "reason": "新增复核环节"})
    assert response.status_code == 302 and response.headers["Location"].endswith(url)
    after = client.get(url).get_data(as_text=True)
    assert "从第 1 版迁移到第 2 版" in after and "第 2 版流程" in after
    with system.db.unit_of_work(write=False) as session:
        assert session.get(Case, case["id"]).version == 2
        assert session.scalars(select(AuditEvent.action).where(AuditEvent.case_id == case["id"])).all()[-1] == \
            "case_migrated"


def test_a_refused_migration_is_flashed_naming_the_element(client, login, csrf, desk, system, migration_variants):
    case = _suspend_and_deploy(desk, system, migration_variants.assist_without_guidance())
    login("zhangwei")
    url = f"/cases/{case['id']}/diagram"
    response = client.post(f"/cases/{case['id']}/migrate", data={
        "csrf_token": csrf(client, url), "version": "2", "reason": "删除指导环节"}, follow_redirects=True)
    html = response.get_data(as_text=True)
    assert "不能迁移到第 2 版" in html and "指导准备申报材料" in html and "第 1 版流程" in html
    no_reason = client.post(f"/cases/{case['id']}/migrate", data={
        "csrf_token": csrf(client, url), "version": "2", "reason": ""}, follow_redirects=True)
    assert "迁移办件需要填写原因" in no_reason.get_data(as_text=True)


def test_migrating_needs_the_csrf_token_and_the_right_role(client, login, csrf, desk, system, migration_variants):
    case = _suspend_and_deploy(desk, system, migration_variants.assist_with_review_step())
    login("zhangwei")
    assert client.post(f"/cases/{case['id']}/migrate", data={"version": "2", "reason": "没有令牌"}).status_code == 400
    login("gaohongxia")
    url = f"/cases/{case['id']}/diagram"
    html = client.get(url).get_data(as_text=True)
    assert "/migrate" not in html
    token = re.search(r'name="csrf_token" value="([^"]+)"', client.get("/").get_data(as_text=True)).group(1)
    assert client.post(f"/cases/{case['id']}/migrate", data={"csrf_token": token, "version": "2",
                                                            "reason": "帮办员想迁移"}).status_code == 403
