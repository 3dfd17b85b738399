"""A 代办 case from the signed entrustment to the signed completion receipt, relayed from 民政局 to
成安镇 on the way (R-9.2.1, R-6.4.3, R-9.2.3)."""

from __future__ import annotations

import re

from e2e_flows import (TODAY, accept_relay, choose, claim_here, dark_pixels, draw_signature, flash, intake, label,
                       open_step, relay_case, submit, unique_phone, work_step)
from playwright.sync_api import expect


def sign_paper(person, case_id: int, number: str, slug: str, title: str, shots: tuple[str, str, str]) -> None:
    """Open the paper, have the applicant sign it on screen with the mouse, save; the paper then shows the
    signature (printed view too) and the QR code of the case."""
    page = person.page
    page.goto(f"/documents/cases/{case_id}/{slug}")
    expect(page.get_by_role("heading", name=title, level=1)).to_be_visible()
    expect(page.get_by_text("服务对象尚未签名")).to_be_visible()
    person.snap(shots[0])
    draw_signature(page, page.get_by_label("签名区"))
    page.get_by_role("button", name="保存手写签名").click()
    page.wait_for_url(f"**/documents/cases/{case_id}/{slug}")
    expect(flash(page)).to_have_text("服务对象的签名已保存。")
    expect(page.get_by_text("服务对象签名已存档")).to_be_visible()
    signature = page.get_by_role("img", name="服务对象签名")
    expect(signature).to_be_visible()
    assert dark_pixels(signature) > 200, "the saved signature should show the strokes drawn on the pad"
    qr = page.get_by_role("img", name=f"办件 {number} 查询二维码")
    expect(qr).to_be_visible()
    assert qr.get_attribute("src").startswith("data:image/svg+xml")
    expect(page.locator(".doc-foot")).to_contain_text(f"/public/cases/{number}")  # where the QR code leads
    person.snap(shots[1])
    page.emulate_media(media="print")  # what comes out of the printer: the paper, signed, with its QR code
    expect(signature).to_be_visible()
    expect(qr).to_be_visible()
    expect(page.get_by_role("button", name="保存手写签名")).to_be_hidden()
    person.snap(shots[2])
    page.emulate_media(media="screen")


def test_proxy_case_entrusted_relayed_and_closed_with_signed_receipt(person):
    """R-9.2.1: a 代办 case starts with the applicant's signed 代办服务委托书, drawn on screen and printed with
    the signature and the case's QR code; the steps go into the ledger. R-6.4.3: at 跟踪协调审批 the proxy
    agent of 民政局 relays the case to 成安镇 with a hand-over note and 成安镇's proxy agent accepts it.
    R-9.2.3: materials handed over, the applicant signs the 办结单, only then the case is 已办结 and a 回访
    case starts. The ledger holds the steps of both units."""
    agent = person("民政局代办员 徐志强")
    agent.login("xuzhiqiang", shot="mz-agent-signed-in-inbox")
    page = agent.page
    case_id, number = intake(agent, "mz-agent-intake-proxy-gr002", "代办", "赵桂芝", unique_phone(31), matter="GR-002")
    assert number.startswith("DB")
    expect(page.get_by_role("heading", level=1)).to_contain_text("代办")

    # 代办服务委托书: signed on screen, printed with signature and QR code.
    sign_paper(agent, case_id, number, "entrustment", "代办服务委托书",
               ("mz-agent-entrustment-unsigned", "mz-agent-entrustment-signed", "mz-agent-entrustment-printed"))
    expect(page.locator(".applicant-name")).to_have_text("赵桂芝")
    expect(page.get_by_text("最低生活保障申请（GR-002，个人事项）")).to_be_visible()

    open_step(agent, case_id, "签订代办服务委托书", "mz-agent-open-record-entrustment")
    expect(page.locator("#signature").get_by_text("已签名")).to_be_visible()  # the signature is on file for the step
    claim_here(agent, "签订代办服务委托书")
    choose(page, "服务对象是否自愿签订《代办服务委托书》", "是")
    label(page, "委托书编号").fill("MZ-WT-2025-018")
    label(page, "签订日期").fill(TODAY)
    label(page, "委托代办内容").fill("代为申请最低生活保障，递交材料并跟踪审批。")
    agent.snap("mz-agent-fill-record-entrustment")
    submit(agent, "mz-agent-submitted-entrustment", next_step="代理递交材料")

    def submit_on_behalf(p):
        label(p, "已代理服务对象向审批部门递交材料").check()
        label(p, "审批部门").fill("成安县民政局")
        label(p, "递交日期").fill(TODAY)
        label(p, "受理编号").fill("MZ-SL-0418")

    work_step(agent, case_id, "代理递交材料", submit_on_behalf,
              ("mz-agent-open-submit-on-behalf", "mz-agent-fill-submit-on-behalf", "mz-agent-submitted-on-behalf"),
              next_step="跟踪协调审批")

    # 跟踪协调审批: relayed down to 成安镇 with the reason and the materials (互动接力).
    relay_note = "申请人户籍在成安镇北关村，入户调查和民主评议需由成安镇办理。"
    relay_case(agent, case_id, "跟踪协调审批", "向下接力 · [乡镇] 成安镇行政综合服务中心", relay_note,
               "低保申请材料原件 5 份、代办服务委托书", ("mz-agent-open-track-approval", "mz-agent-relay-to-chengan-town"))

    # 成安镇's proxy agent takes the relay over from the top of the inbox.
    town = person("成安镇代办员 张磊")
    town.login("zhanglei", shot="town-agent-signed-in-inbox")
    t = town.page
    accept_relay(town, case_id, relay_note, ("town-agent-inbox-relay", "town-agent-accepted-relay"))
    expect(t.locator("section#relays")).to_contain_text("低保申请材料原件 5 份、代办服务委托书")  # the materials travel with it

    def track(p):
        label(p, "跟踪协调记录").fill("入户调查、民主评议完成，县民政局审批通过。")
        choose(p, "材料是否需要补正", "否")

    work_step(town, case_id, "跟踪协调审批", track,
              ("town-agent-open-track-approval", "town-agent-fill-track-approval", "town-agent-approval-done"),
              next_step="移交资料和审批文件")

    def hand_over(p):
        p.get_by_label("已移交的资料和审批文件 第1项").fill("最低生活保障审批决定书")
        p.get_by_label("已移交的资料和审批文件 第2项").fill("申请材料原件")
        label(p, "全部资料已移交服务对象").check()

    work_step(town, case_id, "移交资料和审批文件", hand_over,
              ("town-agent-open-hand-over", "town-agent-fill-hand-over", "town-agent-handed-over"),
              next_step="签字确认办结单")

    # 办结单: the applicant signs; then the step is completed with receipt signed.
    sign_paper(town, case_id, number, "completion-receipt", "办结单",
               ("town-agent-receipt-unsigned", "town-agent-receipt-signed", "town-agent-receipt-printed"))
    expect(t.get_by_role("listitem").filter(has_text="最低生活保障审批决定书")).to_be_visible()
    open_step(town, case_id, "签字确认办结单", "town-agent-open-sign-receipt")
    expect(t.locator("#signature").get_by_text("已签名")).to_be_visible()
    claim_here(town, "签字确认办结单")
    choose(t, "服务对象已在《办结单》签字确认", "是")
    label(t, "办结单编号").fill("CAZ-BJ-0731")
    town.snap("town-agent-fill-sign-receipt")
    submit(town, "town-agent-receipt-submitted")

    t.goto(f"/cases/{case_id}")
    heading = t.get_by_role("heading", level=1)
    expect(heading).to_contain_text("已办结")
    expect(t.get_by_text("办件已办结。")).to_be_visible()
    links = t.locator("section.card", has=t.get_by_role("heading", name="关联办件"))
    callback = links.get_by_role("listitem").filter(has_text="回访")
    expect(callback).to_have_count(1)
    expect(callback.get_by_role("link", name=re.compile(r"^HF\d+$"))).to_be_visible()
    expect(callback).to_contain_text("由本件发起")
    town.snap("town-agent-case-completed-with-callback")

    # The ledger (台账): steps of both units, seen by the county's chief officer who directs every case.
    chief = person("县首席服务专员 张伟")
    chief.login("zhangwei", shot="county-chief-signed-in-inbox")
    c = chief.page
    c.get_by_role("navigation", name="主导航").get_by_role("link", name="台账").click()
    c.wait_for_url("**/ledger")
    chief.snap("county-chief-ledger")
    c.get_by_label("办件编号").fill(number)
    c.get_by_role("button", name="筛选").click()
    c.wait_for_url(re.compile(r"case_number="))
    rows = c.get_by_role("row").filter(has_text=number)

    def in_unit(unit):  # the 单位 column, not a unit named in the recorded data
        return c.get_by_role("cell", name=unit, exact=True)

    for step, unit in [("受理登记", "成安县民政局"), ("签订代办服务委托书", "成安县民政局"), ("代理递交材料", "成安县民政局"),
                       ("互动接力（发出）", "成安县民政局"), ("互动接力（接收）", "成安镇行政综合服务中心"),
                       ("移交资料和审批文件", "成安镇行政综合服务中心"),
                       ("签字确认办结单", "成安镇行政综合服务中心")]:
        expect(rows.filter(has_text=step).filter(has=in_unit(unit)).first).to_be_visible()
    tracked = rows.filter(has_text="跟踪协调审批")
    expect(tracked.filter(has=in_unit("成安镇行政综合服务中心"))).to_have_count(1)
    expect(rows.filter(has_text="互动接力（发出）")).to_contain_text(relay_note)
    chief.snap("county-chief-ledger-both-units")

    # Each unit's own agent keeps its own part of the ledger.
    t.goto(f"/ledger?case_number={number}")
    expect(t.get_by_role("row").filter(has_text="互动接力（接收）")).to_have_count(1)
    town.snap("town-agent-own-ledger")
