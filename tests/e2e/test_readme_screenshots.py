"""The two pictures of the README: an assistant's inbox with several tasks, and a task page with the
one-time notice as a material check list (R-5.4, R-9.1.3.3)."""

from __future__ import annotations

import re

from e2e_flows import choose, claim_here, flash, intake, label, open_step, unique_phone, work_step
from e2e_support import readme_picture
from playwright.sync_api import expect


def test_readme_inbox_and_task_with_notice_checklist(person):
    """R-9.1.2 offline applications recorded by 民政局's assistant fill her group inbox (several tasks,
    claimable, with their matters); R-5.4 / R-9.1.3.3 the task page lists the matter's materials as a check
    list and shows, live, which are still missing as boxes are ticked. Takes the README's readme-inbox.png
    and readme-task.png."""
    # A hotline work order for 民政局, due within half an hour: the inbox shows its countdown.
    consultant = person("咨询中心 刘静")
    consultant.login("liujing", shot="consultant-signed-in-inbox")
    order, order_number = intake(consultant, "consultant-intake-consultation", "咨询", "宋国华", unique_phone(62),
                                 channel="电话", question="残疾人两项补贴今年的标准是多少？")

    def record(p):
        label(p, "咨询内容").fill("残疾人两项补贴今年的标准是多少？")
        choose(p, "能否直接解答", "否")

    def dispatch(p):
        label(p, "接单部门").select_option("CA-MZ")
        label(p, "工单摘要").fill("请民政局帮办员答复残疾人两项补贴标准。")

    work_step(consultant, order, "登记咨询", record, ("consultant-open-record", "consultant-fill-record", "consultant-recorded"))
    work_step(consultant, order, "派发工单", dispatch, ("consultant-open-dispatch", "consultant-fill-dispatch", "consultant-dispatched"),
              next_step="半小时内联系服务对象")

    assistant = person("民政局帮办员 高红霞")
    assistant.login("gaohongxia", shot="assistant-signed-in-inbox")
    page = assistant.page
    cases = [("帮办", "GR-002", "陈淑珍", None), ("帮办", "GR-007", "马长青", None), ("帮办", "GR-009", "杨春梅", None),
             ("上门办", "GR-007", "韩玉清", "成安县商城镇西庄村 6 组 12 号")]
    numbers = []
    for index, (process, matter, name, address) in enumerate(cases):
        case_id, number = intake(assistant, f"assistant-intake-{index + 1}", process, name, unique_phone(61), matter=matter,
                                 address=address)
        numbers.append((case_id, number))
    first_case = numbers[0][0]

    # Claim one of them from the group inbox; the rest wait for whoever in the group takes them.
    page.goto("/?scope=group")
    row = page.get_by_role("row").filter(has_text=numbers[1][1])
    expect(row).to_have_count(1)
    assistant.snap("assistant-group-inbox-before-claim")
    row.get_by_role("button", name="认领", exact=True).click()
    expect(flash(page)).to_contain_text("已认领“指导准备申报材料”")
    rows = page.locator("tr[data-task-row]")
    assert rows.count() >= 4
    for _, number in numbers:
        expect(page.get_by_role("row").filter(has_text=number)).to_have_count(1)
    expect(page.get_by_role("row").filter(has_text=numbers[3][1])).to_contain_text("上门受理并核对材料")
    expect(page.get_by_role("row").filter(has_text=order_number).locator("[data-due]")).to_have_text(re.compile("^剩余"))
    expect(page.get_by_role("row").filter(has_text=numbers[1][1]).get_by_role("cell", name="高红霞")).to_be_visible()
    readme_picture(page, "readme-inbox", full_page=True)
    assistant.snap("assistant-group-inbox-several-tasks")

    # The task with the one-time notice as a check list.
    open_step(assistant, first_case, "指导准备申报材料", "assistant-open-guide-materials")
    claim_here(assistant, "指导准备申报材料")
    checklist = page.locator("[data-checklist]")
    expect(checklist.get_by_role("heading", name=re.compile("一次性告知"))).to_be_visible()
    boxes = checklist.get_by_role("checkbox")
    total = boxes.count()
    assert total >= 3, "最低生活保障申请 lists several materials"
    missing = checklist.locator("[data-missing-count]")
    expect(missing).to_have_text(str(total))
    boxes.nth(0).check()
    boxes.nth(1).check()
    expect(missing).to_have_text(str(total - 2))  # updated as the boxes are ticked
    first = boxes.nth(0).get_attribute("data-name")
    third = boxes.nth(2).get_attribute("data-name")
    missing_list = checklist.locator("[data-missing-list]")
    expect(missing_list).not_to_contain_text(first)
    expect(missing_list).to_contain_text(third)
    expect(checklist.get_by_role("button", name="打印一次性告知单")).to_be_visible()
    readme_picture(page, "readme-task", full_page=True)
    assistant.snap("assistant-task-notice-checklist")
