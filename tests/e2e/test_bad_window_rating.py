"""A bad rating at the window's tablet (评价器) becomes a rectification that the handling unit writes and the centre
office reviews (R-7.2.1, R-10.2), in the browser: 民政局's own assistant writes the 书面情况说明 (no 403), the office
sends it back once with a reason, the assistant rewrites it, the office accepts it, and it prints."""

from __future__ import annotations

import re

from e2e_flows import choose, claim_here, complete_assist_case, label, submit, unique_phone
from playwright.sync_api import expect


def open_from_inbox(person, scope: str, title: str, applicant: str):
    """Open ``title`` of ``applicant``'s case from the inbox (我的待办 or 本组待办); returns the task page's URL."""
    page = person.page
    page.goto(f"/?scope={scope}&process=rectification")
    row = page.get_by_role("row").filter(has_text=applicant).filter(has_text=title)
    expect(row).to_have_count(1)
    person.snap(f"{person_slug(person)}-inbox-{scope}")
    row.get_by_role("link", name=title).click()
    page.wait_for_url(re.compile(r"/tasks/[^/]+$"))
    expect(page.get_by_role("heading", level=1)).to_contain_text(title)
    return page.url


def person_slug(person) -> str:
    return "assistant" if "帮办员" in person.name else "office"


def test_a_bad_window_rating_is_explained_by_the_unit_and_reviewed_by_the_office(person):
    """R-7.2.1: the applicant taps 非常不满意 on the tablet. R-10.2: the rectification waits in 民政局's assistants'
    group inbox with the rating beside the form; the office sends the explanation back with a reason, which the
    writer sees on the task returned to her own inbox; the rewritten one is accepted; the printed explanation shows
    both rounds and the dashboard no longer lists the rectification as open."""
    assistant = person("民政局帮办员 高红霞")
    assistant.login("gaohongxia", shot="assistant-signed-in")
    _, number = complete_assist_case(assistant, "钱秀兰", unique_phone(61))

    # The window's tablet: the applicant taps 非常不满意.
    page = assistant.page
    page.get_by_role("navigation", name="主导航").get_by_role("link", name="评价器").click()
    page.wait_for_url("**/documents/counter")
    page.get_by_role("row").filter(has_text=number).get_by_role("button", name="评价", exact=True).click()
    expect(page.get_by_role("heading", name="请您为本次服务评价")).to_be_visible()
    assistant.snap("applicant-tablet-grades")
    page.get_by_role("button", name="非常不满意", exact=True).click()
    expect(page.get_by_text("您的评价“非常不满意”已记录，感谢您的评价！")).to_be_visible()
    assistant.snap("applicant-tablet-thank-you")

    # 民政局's assistant: the rectification in her group inbox, the window's rating beside the form.
    open_from_inbox(assistant, "group", "提交书面说明和整改措施", "钱秀兰")
    rating = page.locator("#rating")
    expect(rating).to_contain_text("非常不满意")
    expect(rating).to_contain_text("窗口评价器")
    expect(page.get_by_text("这个任务由")).to_have_count(0)  # hers to do: no "you may only look" note, no 403
    claim_here(assistant, "提交书面说明和整改措施")
    label(page, "书面情况说明").fill("办结时未向服务对象讲清领取时间，服务对象多跑一次。")
    label(page, "整改措施").fill("加强业务培训。")
    assistant.snap("assistant-explanation-filled")
    submit(assistant, "assistant-explanation-submitted", next_step="审核整改情况")

    # The centre office: sends it back once, with a reason.
    office = person("政务服务中心办公室 王秀英")
    office.login("wangxiuying", shot="office-signed-in")
    o = office.page
    o.goto("/quality")
    rectifications = o.locator("table.rectifications tr[data-unit='CA-MZ']")
    expect(rectifications.locator("td.open")).to_have_text("1")
    office.snap("office-dashboard-open-rectification")
    open_from_inbox(office, "group", "审核整改情况", "钱秀兰")
    expect(o.locator("section.steps-done")).to_contain_text("办结时未向服务对象讲清领取时间")
    claim_here(office, "审核整改情况")
    choose(o, "整改是否通过", "否")
    label(o, "审核意见").fill("整改措施过于笼统，请写明培训时间、参加人员和告知领取时间的具体做法。")
    office.snap("office-send-back")
    submit(office, "office-sent-back", next_step="提交书面说明和整改措施")

    # Back to the writer: in her own inbox, with the office's reason on the task page.
    open_from_inbox(assistant, "mine", "提交书面说明和整改措施", "钱秀兰")
    expect(page.locator("section.steps-done")).to_contain_text("整改措施过于笼统")
    expect(page.get_by_role("button", name="提交", exact=True)).to_be_enabled()  # already hers: no claim needed
    label(page, "书面情况说明").fill("办结时未向服务对象讲清领取时间，服务对象多跑一次。")
    label(page, "整改措施").fill("11月起每周一下午全体帮办员培训；办结时当面告知并在办结单上写明领取时间。")
    assistant.snap("assistant-explanation-rewritten")
    submit(assistant, "assistant-explanation-resubmitted", next_step="审核整改情况")

    # The office accepts it; the rectification is done and its paper prints both rounds.
    open_from_inbox(office, "group", "审核整改情况", "钱秀兰")
    claim_here(office, "审核整改情况")
    choose(o, "整改是否通过", "是")
    label(o, "审核意见").fill("整改措施具体可行，同意。")
    submit(office, "office-accepted")
    o.goto("/quality")
    expect(o.locator("table.rectifications tr[data-unit='CA-MZ']")).to_have_count(0)
    office.snap("office-dashboard-no-open-rectification")
    o.goto("/cases?process=rectification")
    o.get_by_role("row").filter(has_text="钱秀兰").get_by_role("link", name=re.compile(r"^ZG\d+$")).click()
    o.wait_for_url(re.compile(r"/cases/\d+$"))
    expect(o.get_by_role("heading", level=1)).to_contain_text("已办结")
    o.get_by_role("link", name="差评整改书面情况说明").click()
    o.wait_for_url(re.compile(r"/documents/cases/\d+/rectification$"))
    paper = o.locator("article.document")
    expect(paper).to_contain_text(number)
    expect(paper).to_contain_text("窗口评价器")
    expect(paper.locator("section.explanation-round")).to_have_count(2)
    expect(paper).to_contain_text("不通过，退回重写")
    expect(paper).to_contain_text("整改措施具体可行，同意。")
    office.snap("office-printed-explanation")
