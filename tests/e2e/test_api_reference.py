"""The API reference page (/api/docs) for the developers of other clients: Swagger UI, served from
web/node_modules under the app's own Content-Security-Policy, draws every operation of the OpenAPI
document and each form's task data (TaskData.<form name>)."""

from __future__ import annotations

import re

from playwright.sync_api import expect


def test_the_api_reference_draws_every_operation_and_the_task_data_of_each_form(person):
    developer = person("对接系统的开发人员")
    page = developer.page
    refused = []
    page.on("console", lambda message: refused.append(message.text)
            if message.type == "error" and "Content Security Policy" in message.text else None)
    failed = []
    page.on("response", lambda response: failed.append(response.url) if response.status >= 400 else None)
    page.goto("/api/docs")
    expect(page.get_by_role("heading", name="API 接口文档")).to_be_visible()
    operations = page.locator(".opblock")
    expect(operations.first).to_be_visible()
    assert operations.count() >= 24
    complete = operations.filter(has_text="/tasks/{task_id}/complete")
    expect(complete).to_contain_text("办理（提交表单）")
    complete.locator(".opblock-summary").click()
    expect(complete.get_by_text("422").first).to_be_visible()
    developer.snap("complete-operation")

    schemas = page.locator("section.models")
    schemas.get_by_role("button", name="Schemas").click()
    # Swagger UI draws the schema list as the reader scrolls (virtualized): scroll until the form's appears.
    guide = schemas.get_by_text("指导准备申报材料（assist_guide_materials）", exact=True)
    schemas.scroll_into_view_if_needed()
    for _ in range(60):
        if guide.count():
            break
        page.mouse.wheel(0, 600)
        page.wait_for_timeout(100)
    expect(guide).to_be_visible()
    guide.scroll_into_view_if_needed()
    guide.click()
    expect(schemas).to_contain_text("materials_complete")
    developer.snap("task-data-of-a-form")
    assert refused == [], refused  # nothing blocked by the Content-Security-Policy
    assert [url for url in failed if not re.search(r"/favicon\.ico$", url)] == []
