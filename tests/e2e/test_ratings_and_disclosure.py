"""The public 五公开 page (R-7.1.2 b) and 好差评: at the window's rating device (R-7.2.1) and online, once
per case."""

from __future__ import annotations

import re

from e2e_flows import complete_assist_case, unique_phone
from playwright.sync_api import expect


def test_disclosure_page_shows_staff_duties_matters_diagrams_and_supervision_phone(person):
    """R-7.1.2 b: without logging in, anyone sees the chief officers, assistants and proxy agents, their
    duties, the matter catalog with each matter's one-time notice, every procedure as a BPMN diagram drawn by
    bpmn-js, and the supervision phone."""
    visitor = person("公众")
    page = visitor.page
    page.goto("/public/")
    expect(page.get_by_role("heading", name="帮办代办上门办 · 五公开")).to_be_visible()

    staff = page.locator("#staff")
    for name, role, unit in [("张伟", "首席服务专员", "成安县政务服务中心"), ("高红霞", "帮办员", "成安县民政局"),
                             ("徐志强", "代办员", "成安县民政局"), ("张磊", "代办员", "成安镇行政综合服务中心")]:
        expect(staff.get_by_role("row").filter(has_text=name).filter(has_text=role).filter(has_text=unit)).to_have_count(1)
    expect(staff.get_by_role("row").filter(has_text="赵丽娜")).to_have_count(0)  # the list is of the three service roles

    duties = page.locator("#duties")
    expect(duties.get_by_text("负责对帮办代办上门办事项进行全程指导、协调、督办。")).to_be_visible()
    expect(duties.get_by_text(re.compile("负责委托代办服务.*互动接力方式实现代办"))).to_be_visible()
    expect(duties.get_by_text(re.compile("负责告知服务对象办事流程及办事指南"))).to_be_visible()

    matters = page.locator("#matters")
    gr002 = matters.get_by_role("row").filter(has_text="GR-002")
    expect(gr002.first).to_contain_text("最低生活保障申请")
    expect(gr002.first).to_contain_text("20 个工作日")
    expect(matters.get_by_role("row").filter(has_text="QY-001").first).to_contain_text("企业设立登记")
    notice = matters.locator("details").filter(has_text="一次性告知：最低生活保障申请")
    notice.locator("summary").click()
    expect(notice.get_by_role("heading", name="一、申请材料")).to_be_visible()
    expect(notice.get_by_role("row").nth(1)).to_be_visible()  # at least one material listed

    supervision = page.locator("#supervision")
    expect(supervision.get_by_role("heading", name="五、帮代办监督电话")).to_be_visible()
    expect(supervision.get_by_text("0310-7212345")).to_be_visible()

    # 四、办理流程: each procedure drawn by bpmn-js.
    processes = page.locator("#processes")
    expect(processes.get_by_text("流程图查看器未安装")).to_have_count(0)
    assist = page.locator("#process-assist")
    expect(assist.locator(".bpmn-canvas svg").first).to_be_visible()
    expect(assist.locator(".djs-element").nth(5)).to_be_attached()
    assert assist.locator(".djs-element").count() > 5
    expect(assist.locator(".bpmn-canvas")).to_contain_text("指导准备申报材料")
    expect(page.get_by_text("流程图加载失败")).to_have_count(0)
    visitor.snap("public-disclosure-assist-diagram")

    processes.get_by_role("tab", name="代办").click()
    proxy = page.locator("#process-proxy")
    expect(proxy).to_be_visible()
    expect(assist).to_be_hidden()
    expect(proxy.locator(".bpmn-canvas svg").first).to_be_visible()
    expect(proxy.locator(".djs-element").nth(5)).to_be_attached()
    assert proxy.locator(".djs-element").count() > 5
    expect(proxy.locator(".bpmn-canvas")).to_contain_text("签订代办服务委托书")
    visitor.snap("public-disclosure-proxy-diagram")
    visitor.snap("public-disclosure-proxy-diagram-close-up", part=proxy)

    processes.get_by_role("tab", name="回访").click()
    callback = page.locator("#process-callback")
    expect(callback.locator(".bpmn-canvas")).to_contain_text("电话回访评价")
    assert callback.locator(".djs-element").count() > 5
    visitor.snap("public-disclosure-callback-diagram")


def test_window_rating_device_and_one_online_rating_per_case(person):
    """R-7.2.1: at the window, the assistant who closed the case turns the tablet (评价器) to the applicant,
    who taps 满意 and sees the thank-you screen; the case then shows as rated. 一事一评: the applicant looking the
    case up online is told it was rated at the window, and no second rating form is offered."""
    assistant = person("民政局帮办员 高红霞")
    assistant.login("gaohongxia", shot="assistant-signed-in-inbox")
    phone = unique_phone(51)
    _, number = complete_assist_case(assistant, "周德明", phone)

    page = assistant.page
    page.get_by_role("navigation", name="主导航").get_by_role("link", name="评价器").click()
    page.wait_for_url("**/documents/counter")
    row = page.get_by_role("row").filter(has_text=number)
    expect(row).to_contain_text("周德明")
    expect(row).to_contain_text("帮办")
    assistant.snap("assistant-counter-recent-cases")
    row.get_by_role("button", name="评价", exact=True).click()

    expect(page.get_by_role("heading", name="请您为本次服务评价")).to_be_visible()
    expect(page.get_by_text(f"办件 {number}")).to_be_visible()
    for grade in ("非常满意", "满意", "基本满意", "不满意", "非常不满意"):
        expect(page.get_by_role("button", name=grade, exact=True)).to_be_visible()
    assistant.snap("applicant-counter-tablet-grades")
    page.get_by_role("button", name="满意", exact=True).click()
    expect(page.get_by_role("heading", name="感谢您的评价！")).to_be_visible()
    expect(page.get_by_text("您的评价“满意”已记录，感谢您的评价！")).to_be_visible()
    assistant.snap("applicant-counter-thank-you")
    page.get_by_role("link", name="立即返回").click()
    page.wait_for_url("**/documents/counter")
    rated = page.get_by_role("row").filter(has_text=number)
    expect(rated.get_by_text("已评价")).to_be_visible()
    expect(rated.get_by_role("button", name="评价", exact=True)).to_have_count(0)
    assistant.snap("assistant-counter-case-rated")

    # Online, 一事一评: the case was rated at the window, so the status page says so plainly and offers no form.
    applicant = person("服务对象 周德明")
    a = applicant.page
    a.goto("/public/status")
    a.get_by_label("办件编号").fill(number)
    a.get_by_label("手机号").fill(phone)
    applicant.snap("applicant-status-lookup")
    a.get_by_role("button", name="查询").click()
    expect(a.get_by_role("heading", name=f"办件 {number}")).to_be_visible()
    expect(a.locator(".status-line")).to_contain_text("已办结")
    expect(a.get_by_role("listitem").filter(has_text="移交资料和审批文件")).to_be_visible()
    rating = a.locator("#rate")
    expect(rating).to_contain_text("通过窗口评价器评价为“满意”")
    expect(rating).to_contain_text("一事一评")
    expect(rating.get_by_role("button", name="提交评价")).to_have_count(0)
    applicant.snap("applicant-status-already-rated")
