"""A hotline consultation that cannot be answered becomes a work order for 民政局's assistant, who must
contact the applicant within half an hour (R-9.1.1.1, R-9.1.1.2)."""

from __future__ import annotations

import re
from datetime import datetime, timedelta, timezone

from e2e_flows import choose, claim_here, flash, group, intake, label, open_step, submit, unique_phone
from playwright.sync_api import expect


def test_consultant_dispatches_a_work_order_and_the_assistant_contacts_the_applicant(person):
    """R-9.1.1.1: the consultant records a phone consultation at the intake desk and 登记咨询.
    R-9.1.1.2: not answerable, so 派发工单 to 成安县民政局 (CA-MZ); its assistant finds 半小时内联系服务对象
    in her group inbox due about 30 minutes ahead with a countdown, claims it, is told what is missing when the
    form is incomplete (the error next to the field, her other answers kept), and on a valid form the work
    order moves on to 办理工单并答复."""
    consultant = person("咨询中心 赵丽娜")
    consultant.login("zhaolina", shot="consultant-signed-in-inbox")
    question = "老人户口在成安镇，想问低保申请需要哪些收入证明，家里有残疾人能否加分？"
    case_id, number = intake(consultant, "consultant-intake-phone-consultation", "咨询", "王建国", unique_phone(11),
                             channel="电话", question=question)
    assert number.startswith("ZX")
    page = consultant.page
    expect(page.get_by_role("heading", level=1)).to_contain_text(number)
    expect(page.get_by_text(question)).to_be_visible()  # 咨询内容 on the case card

    # 登记咨询: cannot be answered directly.
    open_step(consultant, case_id, "登记咨询", "consultant-open-record-consultation")
    claim_here(consultant, "登记咨询")
    label(page, "咨询内容").fill(question)
    label(page, "涉及事项").select_option("GR-002")
    choose(page, "能否直接解答", "否")
    consultant.snap("consultant-record-not-answerable")
    submit(consultant, "consultant-recorded-next-dispatch", next_step="派发工单")

    # 派发工单 to 民政局.
    open_step(consultant, case_id, "派发工单", "consultant-open-dispatch-work-order")
    claim_here(consultant, "派发工单")
    label(page, "接单部门").select_option("CA-MZ")
    label(page, "工单摘要").fill("服务对象咨询低保申请的收入证明和残疾家庭成员认定，请民政局帮办员联系解答。")
    consultant.snap("consultant-dispatch-work-order")
    submit(consultant, "consultant-dispatched", next_step="半小时内联系服务对象（帮办员 · 成安县民政局）")

    # The assistant of 民政局: the work order is in her group inbox, due in about 30 minutes.
    assistant = person("民政局帮办员 高红霞")
    assistant.login("gaohongxia", shot="assistant-signed-in-inbox")
    a = assistant.page
    tabs = a.get_by_role("navigation", name="待办范围")
    tabs.get_by_role("link", name=re.compile("^本组待办")).click()
    a.wait_for_url(re.compile(r"scope=group"))
    row = a.get_by_role("row").filter(has_text=number).filter(has_text="半小时内联系服务对象")
    expect(row).to_have_count(1)
    expect(row.get_by_role("cell", name="未认领")).to_be_visible()
    countdown = row.locator("[data-due]")
    expect(countdown).to_have_text(re.compile(r"^剩余 (29|30)分$"))
    due = datetime.fromisoformat(row.locator("time").get_attribute("datetime"))
    left = due - datetime.now(timezone.utc)
    assert timedelta(minutes=28) < left <= timedelta(minutes=30, seconds=5), left
    assistant.snap("assistant-group-inbox-work-order-due-30-minutes")

    row.get_by_role("button", name="认领", exact=True).click()
    expect(flash(a)).to_contain_text("已认领“半小时内联系服务对象”")
    assistant.snap("assistant-claimed-work-order")
    tabs.get_by_role("link", name=re.compile("^我的待办")).click()
    mine = a.get_by_role("row").filter(has_text=number)
    expect(mine.get_by_role("cell", name="高红霞")).to_be_visible()
    assistant.snap("assistant-my-inbox")
    mine.get_by_role("link", name="半小时内联系服务对象").click()
    a.wait_for_url(re.compile(r"/tasks/[^/]+$"))
    expect(a.locator(".case-card").get_by_text(question)).to_be_visible()  # 登记内容: what was asked
    expect(a.locator(".task-state [data-due]")).to_have_text(re.compile(r"^剩余 (29|30)分$"))
    assistant.snap("assistant-contact-applicant-task")

    # Invalid first: the note left empty. The browser itself stops an empty required field ...
    label(a, "已联系服务对象").check()
    choose(a, "联系方式", "电话")
    note = label(a, "联系情况")
    a.get_by_role("button", name="提交", exact=True).click()
    assert note.evaluate("el => !el.validity.valid"), "an empty 联系情况 should not pass the browser's check"
    assert "/tasks/" in a.url
    # ... and blanks only get past the browser but not the server: the error sits next to that field.
    note.fill("   ")
    a.get_by_role("button", name="提交", exact=True).click()
    field = a.locator("[data-field=contact_note]")
    expect(field.get_by_role("alert")).to_have_text("此项为必填项。")
    expect(note).to_have_attribute("aria-invalid", "true")
    expect(label(a, "已联系服务对象")).to_be_checked()  # what she entered is kept
    expect(group(a, "联系方式").get_by_label("电话", exact=True)).to_be_checked()
    assistant.snap("assistant-contact-form-error-next-to-field")

    note.fill("已电话联系王建国，告知低保收入核算口径，约定明日到窗口面谈。")
    assistant.snap("assistant-contact-form-valid")
    submit(assistant, "assistant-contacted-next-step", next_step="办理工单并答复")

    # The next task appears for 民政局's assistants.
    a.goto("/?scope=group")
    expect(a.get_by_role("row").filter(has_text=number).filter(has_text="办理工单并答复")).to_have_count(1)
    expect(a.get_by_role("row").filter(has_text=number).filter(has_text="半小时内联系服务对象")).to_have_count(0)
    assistant.snap("assistant-group-inbox-next-task")
