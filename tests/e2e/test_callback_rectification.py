"""Every completed case gets a phone callback with eight scores; a bad rating makes the responsible unit
explain and rectify (R-10.1, R-10.2)."""

from __future__ import annotations

import re

from e2e_flows import choose, claim_here, complete_assist_case, group, label, submit, unique_phone
from playwright.sync_api import expect

SCORES = ["服务态度", "服务质量", "办事效率", "廉洁自律", "规范服务", "政务公开", "限时办结", "一次性告知"]


def test_bad_callback_rating_starts_rectification_for_the_responsible_unit(person):
    """R-10.1: a completed 帮办 case of 民政局 appears at the consultation centre's callback desk; the
    consultant records the eight scores (service attitude, quality, efficiency, integrity, standard service,
    openness, completion in time, one-time notice) and the overall grade 不满意. R-10.2: a bad rating starts a
    rectification about the assist case: 民政局 has no chief officer, so its assistant finds 提交书面说明和整改措施
    in her group inbox, with a deadline and the rating beside the form."""
    assistant = person("民政局帮办员 高红霞")
    assistant.login("gaohongxia", shot="assistant-signed-in-inbox")
    case_id, number = complete_assist_case(assistant, "孙凤英", unique_phone(41))
    a = assistant.page
    a.goto(f"/cases/{case_id}")
    expect(a.get_by_role("heading", level=1)).to_contain_text("已办结")
    expect(a.get_by_role("listitem").filter(has_text="回访")).to_contain_text("由本件发起")
    assistant.snap("assistant-assist-case-completed")

    consultant = person("咨询中心 赵丽娜")
    consultant.login("zhaolina", shot="consultant-signed-in-inbox")
    page = consultant.page
    page.get_by_role("navigation", name="主导航").get_by_role("link", name="回访台").click()
    page.wait_for_url("**/callbacks")
    row = page.get_by_role("row").filter(has_text=number)
    expect(row).to_have_count(1)
    expect(row).to_contain_text("孙凤英")
    expect(row).to_contain_text("成安县民政局")
    expect(row).to_contain_text("高龄津贴申领")
    consultant.snap("consultant-callback-desk")
    row.get_by_role("link", name="去回访").click()
    page.wait_for_url(re.compile(r"/tasks/[^/]+$"))
    expect(page.get_by_role("heading", level=1)).to_contain_text("电话回访评价")
    expect(page.get_by_role("link", name=number)).to_be_visible()  # the case being followed up
    consultant.snap("consultant-open-callback")
    claim_here(consultant, "电话回访评价")

    for topic, score in zip(SCORES, ["2分", "3分", "2分", "5分", "3分", "4分", "2分", "3分"]):
        choose(page, topic, score)
    choose(page, "总体评价", "不满意")
    # each problem found is listed by category; it will be handed over.
    choose(page, "回访中是否发现问题", "发现问题（逐条列出，将交办处理）")
    page.locator('select[name="problems.0.category"]').select_option("one_time_notice")
    page.locator('[name="problems.0.description"]').fill("材料退回两次，一次性告知不够清楚。")
    label(page, "回访记录").fill("服务对象反映材料退回两次，告知不够清楚，等待时间较长。")
    label(page, "向政务服务中心办公室反馈").fill("已交办民政局说明情况并整改。")
    for topic in SCORES:
        expect(group(page, topic).get_by_role("radio", checked=True)).to_have_count(1)
    consultant.snap("consultant-eight-scores-dissatisfied")
    submit(consultant, "consultant-callback-recorded")

    # The callback case is closed; the rectification is about the rated assist case: linked from it.
    page.goto("/cases?process=callback")
    callback_row = page.get_by_role("row").filter(has_text="孙凤英")
    expect(callback_row).to_contain_text("已办结")
    consultant.snap("consultant-callback-cases")

    # the problem found on the callback waits, with its deadline, for the county's chief officer, who
    # directs 民政局 (问题交办).
    chief = person("县首席服务专员 张伟")
    chief.login("zhangwei", shot="county-chief-signed-in-inbox")
    c = chief.page
    c.goto("/?scope=group&process=handover")
    handover = c.get_by_role("row").filter(has_text="孙凤英").filter(has_text="处理回访发现的问题")
    expect(handover).to_have_count(1)
    expect(handover.locator("[data-due]")).to_have_text(re.compile(r"^剩余 \d+天"))

    # 民政局 has no chief officer of its own: its assistant, who handled the case, writes the explanation.
    a.goto(f"/cases/{case_id}")
    rectification = a.get_by_role("listitem").filter(has_text="差评整改")
    expect(rectification.get_by_role("link", name=re.compile(r"^ZG\d+$"))).to_be_visible()
    assistant.snap("assistant-assist-case-with-rectification")
    a.goto("/?scope=group&process=rectification")
    task = a.get_by_role("row").filter(has_text="孙凤英").filter(has_text="提交书面说明和整改措施")
    expect(task).to_have_count(1)
    expect(task.get_by_role("link", name=re.compile(r"^ZG\d+$"))).to_be_visible()
    expect(task.locator("[data-due]")).to_have_text(re.compile(r"^剩余 \d+天"))  # to be done by a deadline
    assistant.snap("assistant-group-inbox-rectification")
    task.get_by_role("link", name="提交书面说明和整改措施").click()
    a.wait_for_url(re.compile(r"/tasks/[^/]+$"))
    expect(a.get_by_role("heading", level=1)).to_contain_text("提交书面说明和整改措施")
    expect(a.locator("#rating")).to_contain_text("不满意")
    expect(a.locator("#rating")).to_contain_text("电话回访")
    expect(label(a, "书面情况说明")).to_be_visible()
    expect(label(a, "整改措施")).to_be_visible()
    assistant.snap("assistant-rectification-task")
