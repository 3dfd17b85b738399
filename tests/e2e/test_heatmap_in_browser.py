"""A supervisor opens the process heatmap: the diagram coloured by how many cases passed each element,
a badge "N 件 · 中位 …" on each, what waits there now, and the same numbers in the table (issue 5 item 4)."""

from __future__ import annotations

from playwright.sync_api import expect

from e2e_support import api


def assist_numbers(page) -> dict[str, dict]:
    """The assist heatmap's numbers per element now (other scenarios of the session server add cases)."""
    response = page.request.get("/supervise/heatmap.json?process=assist")
    assert response.ok, response.status
    return {e["id"]: e for e in response.json()["elements"]}


def test_a_supervisor_sees_the_heatmap_of_the_assist_process(server, person):
    office = person("政务服务中心办公室")
    office.login("wangxiuying")
    page = office.page
    before = assist_numbers(page)
    token = api(server, "/api/v1/auth/token", {"username": "gaohongxia", "password": "demo1234"})["token"]
    for name in ("秦月", "韩雪", "冯涛"):
        case = api(server, "/api/v1/cases", {"process": "assist", "data": {
            "applicant_name": name, "applicant_phone": "13900001111", "applicant_type": "personal",
            "matter_code": "GR-002", "channel": "walk_in"}}, token)
        api(server, f"/api/v1/tasks/{case['tasks'][0]['id']}/complete",
            {"data": {"guidance": "您好，请按一次性告知单准备材料。", "materials_complete": True}}, token)

    page.goto("/supervise/heatmap?process=assist")
    expect(page.locator("#heatmap-diagram[data-heatmap-drawn]")).to_have_count(1)
    expect(page.locator("#heatmap-diagram .hm-5").first).to_be_visible()
    passed = before["guide_materials"]["cases"] + 3
    waiting = before["accompany_submission"]["active_now"]["tasks"] + 3
    badge = page.locator(".hm-badge", has_text=f"{passed} 件")
    expect(badge.first).to_be_visible()
    expect(page.locator(".hm-now", has_text=f"当前待办 {waiting}")).to_have_count(1)
    expect(page.locator("table.heatmap-table")).to_contain_text("指导准备申报材料")
    office.shot("heatmap-01-assist")
