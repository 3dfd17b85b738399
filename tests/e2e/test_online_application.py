"""An applicant without an account applies online for 上门办 and follows the case with its number and
phone (R-9.1.2, R-9.3.1)."""

from __future__ import annotations

import re

from e2e_flows import unique_phone
from playwright.sync_api import expect


def test_applicant_applies_online_for_onsite_service_and_looks_the_case_up(person):
    """R-9.1.2: an applicant applies online through the public form, no login. R-9.3.1: 上门办 needs an
    address: without one the form says so next to the address field and keeps what was typed; with one the
    case is recorded and its number shown. The status lookup answers a wrong phone exactly as an unknown
    case number (nothing leaks), and with the right phone shows 办理中 and the current step."""
    applicant = person("服务对象（网上）")
    page = applicant.page
    phone = unique_phone(21)
    page.goto("/public/apply")
    expect(page.get_by_role("heading", name="网上申请帮办 · 代办 · 上门办")).to_be_visible()
    applicant.snap("applicant-apply-form")

    form = page.locator("form[data-apply-form]")
    form.get_by_label("上门办", exact=True).check()
    form.get_by_label("个人", exact=True).check()
    page.get_by_label("办理事项").select_option("GR-007")  # 高龄津贴申领
    page.get_by_label("姓名或企业名称").fill("李秀兰")
    page.get_by_label("联系电话").fill(phone)
    address = page.get_by_label("上门地址")
    expect(address).to_be_visible()  # asked for as soon as 上门办 is chosen
    expect(address).to_have_value("")
    applicant.snap("applicant-onsite-without-address")
    page.get_by_role("button", name="提交申请").click()

    # Refused: the message sits in the address field; everything else is kept.
    address_field = page.locator(".field", has=address)
    expect(address_field.get_by_role("alert")).to_have_text("上门办需要填写上门地址。")
    expect(address).to_be_visible()
    expect(form.get_by_label("上门办", exact=True)).to_be_checked()
    expect(form.get_by_label("个人", exact=True)).to_be_checked()
    expect(page.get_by_label("办理事项")).to_have_value("GR-007")
    expect(page.get_by_label("姓名或企业名称")).to_have_value("李秀兰")
    expect(page.get_by_label("联系电话")).to_have_value(phone)
    assert page.get_by_role("alert").count() == 1, "only the address is wrong"
    applicant.snap("applicant-address-required-error")

    address.fill("成安县成安镇北关村幸福街 18 号")
    applicant.snap("applicant-onsite-with-address")
    page.get_by_role("button", name="提交申请").click()
    expect(page.get_by_role("heading", name="您的上门办申请已提交")).to_be_visible()
    number = page.locator("[data-case-number]").inner_text().strip()
    assert re.fullmatch(r"SM\d{14}", number), number
    qr = page.get_by_role("img", name=f"办件 {number} 的查询二维码")
    expect(qr).to_be_visible()
    assert qr.get_attribute("src").startswith("data:image/svg+xml")
    applicant.snap("applicant-applied-case-number")

    # The lookup: a wrong phone and an unknown number get the same polite answer.
    page.get_by_role("navigation", name="办事服务").get_by_role("link", name="办件查询").click()
    page.wait_for_url("**/public/status")
    applicant.snap("applicant-status-lookup-form")
    page.get_by_label("办件编号").fill(number)
    page.get_by_label("手机号").fill("13111112222")
    page.get_by_role("button", name="查询").click()
    wrong_phone = page.get_by_role("alert")
    expect(wrong_phone).to_have_text("没有找到这个办件：请核对办件编号和手机号。")
    expect(page.get_by_text("办理中")).to_have_count(0)
    applicant.snap("applicant-wrong-phone-polite-message")

    page.get_by_label("办件编号").fill("SM20000101999999")
    page.get_by_label("手机号").fill(phone)
    page.get_by_role("button", name="查询").click()
    expect(page.get_by_role("alert")).to_have_text("没有找到这个办件：请核对办件编号和手机号。")
    applicant.snap("applicant-unknown-number-same-message")

    page.get_by_label("办件编号").fill(number.lower())  # as typed on a phone: the number is not case-sensitive
    page.get_by_label("手机号").fill(phone)
    page.get_by_role("button", name="查询").click()
    expect(page.get_by_role("heading", name=f"办件 {number}")).to_be_visible()
    expect(page.locator(".status-line")).to_contain_text("办理中")
    expect(page.locator(".status-line")).to_contain_text("上门办 · 高龄津贴申领")
    expect(page.get_by_role("heading", name="当前环节")).to_be_visible()
    expect(page.get_by_role("listitem").filter(has_text="上门受理并核对材料")).to_be_visible()
    expect(page.get_by_text("成安县民政局")).to_be_visible()  # routed to the matter's department
    expect(page.get_by_role("heading", name="请为本次服务评价（好差评）")).to_have_count(0)  # not before completion
    applicant.snap("applicant-status-in-progress")
