"""三级联动 in the browser (R-3.3, R-6.4.3): a village station registers an assist case, relays it up to its
township, the township's assistant accepts and works it and relays the result back down, and the village
hands it over to the applicant. The case diagram shows each hop (a README picture)."""

from __future__ import annotations

from e2e_flows import accept_relay, choose, intake, label, relay_case, unique_phone, work_step, TODAY
from e2e_support import readme_picture
from playwright.sync_api import expect


def test_r_3_3_a_village_case_goes_up_to_the_township_and_the_result_comes_back_down(person):
    village = person("东关社区帮办员 路雪梅")
    village.login("luxuemei", shot="village-assistant-inbox")
    case_id, number = intake(village, "village-intake-assist-gr007", "帮办", "刘桂兰", unique_phone(71), matter="GR-007")
    page = village.page
    # 就近办: 高龄津贴 is offered in villages, so the station that registered it handles it.
    expect(page.locator(".case-card")).to_contain_text("东关社区综合服务站")

    def guide(p):
        label(p, "办事指导").fill("请携带身份证、户口簿原件；80 周岁以上老人可申领高龄津贴。")
        choose(p, "申报材料是否齐全", "是")

    work_step(village, case_id, "指导准备申报材料", guide,
              ("village-open-guide", "village-fill-guide", "village-submitted-guide"), next_step="陪同递交办理")

    reason = "高龄津贴须由乡镇便民服务中心统一受理审核，请镇里陪同递交。"
    relay_case(village, case_id, "陪同递交办理", "向上接力 · [乡镇] 成安镇行政综合服务中心", reason,
               "身份证、户口簿复印件各 1 份", ("village-open-accompany", "village-relay-up"))

    town = person("成安镇帮办员 李娜")
    town.login("lina", shot="town-assistant-inbox-with-relay")
    accept_relay(town, case_id, reason, ("town-relay-in-inbox", "town-accepted-relay"))

    def accompany(p):
        label(p, "已陪同服务对象向审批部门递交材料").check()
        label(p, "审批部门").fill("成安县民政局")
        label(p, "递交日期").fill(TODAY)

    def track(p):
        label(p, "跟踪协调记录").fill("镇民政办审核通过，县民政局已批准，自下月起发放。")
        label(p, "已及时告知服务对象办理进展").check()
        label(p, "审批结果").fill("审批通过")

    work_step(town, case_id, "陪同递交办理", accompany,
              ("town-open-accompany", "town-fill-accompany", "town-submitted-accompany"), next_step="跟踪协调审批")
    work_step(town, case_id, "跟踪协调审批", track,
              ("town-open-track", "town-fill-track", "town-submitted-track"), next_step="移交资料和审批文件")

    back = "审批已通过，请东关社区向服务对象交付审批结果。"
    relay_case(town, case_id, "移交资料和审批文件", "向下接力 · [村] 东关社区综合服务站（受理单位）", back,
               "高龄津贴审批表", ("town-open-hand-over", "town-relay-down"))

    accept_relay(village, case_id, back, ("village-relay-back-in-inbox", "village-accepted-relay-back"))

    def hand_over(p):
        p.get_by_label("已移交的资料和审批文件 第1项").fill("高龄津贴审批表")
        label(p, "全部资料已移交服务对象").check()

    work_step(village, case_id, "移交资料和审批文件", hand_over,
              ("village-open-hand-over", "village-fill-hand-over", "village-submitted-hand-over"))

    # The village sees the result: the case is completed, with both hops on it.
    page.goto(f"/cases/{case_id}")
    expect(page.get_by_role("heading", level=1)).to_contain_text("已办结")
    hops = page.locator("section#relays li")
    expect(hops).to_have_count(2)
    expect(hops.nth(0)).to_contain_text("东关社区综合服务站 → 成安镇行政综合服务中心")
    expect(hops.nth(1)).to_contain_text("成安镇行政综合服务中心 → 东关社区综合服务站")
    village.snap("village-case-completed-with-relays")

    # The township's chief officer sees the case on its diagram, each hop on the step it was handed on from.
    chief = person("成安镇首席服务专员 王建军")
    chief.login("wangjianjun")
    c = chief.page
    c.goto(f"/cases/{case_id}/diagram")
    expect(c.locator("#case-diagram .djs-element").first).to_be_visible()
    badges = c.locator(".cd-relay")
    expect(badges).to_have_count(2)
    expect(badges.first).to_contain_text("接力")
    chief.snap("township-chief-case-diagram-with-relays")
    readme_picture(c.locator("#case-diagram"), "relayed-case-diagram")
