"""R-6.3.2 服务禁忌语言 in a real browser: 民政局's assistant writes "不能办" as 办事指导 and is stopped beside the
field with item 4 of 6.3.2 and what to write instead; the centre office registers "你自己看着办吧" at
/admin/registry/phrases and the assistant's next submission with it is refused too, naming the registered
alternative; the office deactivates it (the shared server's other tests never see it) and the civil text goes
through."""

from __future__ import annotations

from playwright.sync_api import expect

from e2e_flows import choose, claim_here, flash, intake, label, open_step, submit, unique_phone

GUIDE = "指导准备申报材料"


def test_r_6_3_2_a_forbidden_phrase_is_refused_with_a_civil_alternative_and_the_office_adds_one(person):
    assistant = person("民政局帮办员 高红霞")
    assistant.login("gaohongxia")
    case_id, _ = intake(assistant, "assistant-intake", "帮办", "钱秀珍", unique_phone(81), matter="GR-007")
    open_step(assistant, case_id, GUIDE, "assistant-open-guide")
    claim_here(assistant, GUIDE)
    a = assistant.page
    label(a, "办事指导").fill("材料不全，不能办。")
    choose(a, "申报材料是否齐全", "是")
    a.get_by_role("button", name="提交", exact=True).click()
    error = a.locator('[data-field="guidance"] .field-error')
    expect(error).to_contain_text("6.3.2 服务禁忌语言第4条")
    expect(error).to_contain_text("请稍等，我帮您问一下")
    assistant.snap("assistant-refused-with-alternative")

    office = person("政务服务中心办公室 王秀英")
    office.login("wangxiuying")
    o = office.page
    o.goto("/admin/registry/phrases")
    expect(o.locator('tr[data-item="16"]')).to_contain_text("有本事，你随便告。有意见投诉去")
    label(o, "禁忌用语").fill("你自己看着办吧")
    label(o, "其他说法（选填，每行一条）").fill("看着办吧")
    label(o, "改用的文明用语").fill("请您放心，我来帮您办。")
    o.get_by_role("button", name="登记").click()
    expect(flash(o)).to_contain_text("已添加禁忌用语“你自己看着办吧”")
    row = o.locator("tr[data-phrase]", has_text="你自己看着办吧")
    expect(row).to_contain_text("在用")
    office.snap("office-phrase-added")

    label(a, "办事指导").fill("材料的事，您看着办吧。")
    a.get_by_role("button", name="提交", exact=True).click()
    expect(error).to_contain_text("你自己看着办吧")
    expect(error).to_contain_text("请您放心，我来帮您办。")
    assistant.snap("assistant-refused-by-added-phrase")

    row.get_by_role("button", name="停用").click()
    expect(o.locator("tr[data-phrase]", has_text="你自己看着办吧")).to_contain_text("已停用")
    office.snap("office-phrase-deactivated")

    label(a, "办事指导").fill("材料齐全后即可办理，我们陪同您到窗口递交。")
    submit(assistant, "assistant-civil-text-submitted", "陪同递交办理")
