"""A chief officer opens a running case on its diagram: done steps, the open task and its waiting
timer in their own colours, the path taken drawn; clicking a step shows who did it (issue 5, R-6.4.1)."""

from __future__ import annotations

from e2e_support import api
from playwright.sync_api import expect


def test_a_chief_officer_sees_a_case_on_its_diagram_in_colour(server, person):
    token = api(server, "/api/v1/auth/token", {"username": "zhaolina", "password": "demo1234"})["token"]
    case = api(server, "/api/v1/cases", {"process": "consultation", "data": {
        "applicant_name": "秦月", "applicant_phone": "13900001111", "applicant_type": "personal",
        "matter_code": "GR-002", "channel": "phone"}}, token)
    record = case["tasks"][0]
    step = api(server, f"/api/v1/tasks/{record['id']}/complete",
               {"data": {"question": "低保怎么申请？", "answerable": False}}, token)
    api(server, f"/api/v1/tasks/{step['next_tasks'][0]['id']}/complete",
        {"data": {"dispatch_unit": "CA-MZ", "work_order_summary": "政策咨询"}}, token)

    chief = person("首席服务专员")
    chief.login("zhangwei")
    page = chief.page
    page.goto(f"/cases/{case['id']}")
    page.get_by_role("link", name="流程图与督办").click()
    page.wait_for_url(f"**/cases/{case['id']}/diagram")
    expect(page.locator("#case-diagram .djs-element").first).to_be_visible()
    expect(page.locator(".cd-completed").first).to_be_visible()
    expect(page.locator(".cd-active")).not_to_have_count(0)
    expect(page.locator(".cd-waiting")).not_to_have_count(0)
    chief.shot("case-diagram-01-coloured")
    page.locator('[data-element-id="record_consultation"]').first.click()
    expect(page.locator("[data-case-diagram-panel]")).to_contain_text("登记咨询")
    chief.shot("case-diagram-02-step-detail")
