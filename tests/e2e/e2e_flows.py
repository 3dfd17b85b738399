"""What staff do again and again in the e2e scenarios, the way a person does it in the browser: record a
case at the intake desk, open a step from the case page, claim it, fill in its form, submit, draw a
signature. Every page visited is photographed through Person.snap (numbered per scenario).

Selectors are the visible Chinese labels, roles and names of the pages; nothing here reads the database."""

from __future__ import annotations

import itertools
import re
from datetime import date
from urllib.parse import urlparse

from playwright.sync_api import Locator, Page, expect

TODAY = date.today().isoformat()
_phones = itertools.count(1)


def unique_phone(seed: int) -> str:
    """A mobile number no other scenario of this run uses (the public lookup is by number and phone)."""
    return f"139{seed:04d}{next(_phones):04d}"


def label(page: Page, text: str) -> Locator:
    """The control whose label starts with ``text`` (labels carry a * or 必须勾选 after the words)."""
    return page.get_by_label(re.compile(r"^\s*" + re.escape(text)))


def group(page: Page, legend: str) -> Locator:
    """A fieldset (radio group) by its legend."""
    return page.get_by_role("group", name=re.compile(r"^\s*" + re.escape(legend)))


def choose(page: Page, legend: str, option: str) -> None:
    group(page, legend).get_by_label(option, exact=True).check()


def flash(page: Page) -> Locator:
    return page.locator(".flash").first


def at_inbox(page: Page) -> bool:
    return urlparse(page.url).path == "/"


# --- intake ---------------------------------------------------------------------------------------------------

def intake(person, shot: str, process: str, name: str, phone: str, matter: str | None = None,
           channel: str = "来访", question: str | None = None, address: str | None = None) -> tuple[int, str]:
    """Record a case at /intake (受理登记); returns (case id, case number) from the case page it opens."""
    page = person.page
    page.goto("/intake")
    expect(page.get_by_role("heading", name="受理登记")).to_be_visible()
    choose(page, "服务类型", process)
    label(page, "服务对象名称").fill(name)
    label(page, "联系电话").fill(phone)
    choose(page, "服务对象类型", "个人")
    choose(page, "受理渠道", channel)
    if matter:
        label(page, "办理事项").select_option(matter)
    if question is not None:
        label(page, "咨询内容").fill(question)
    if address is not None:
        label(page, "上门地址").fill(address)
    person.snap(shot)
    page.get_by_role("button", name="登记", exact=True).click()
    page.wait_for_url(re.compile(r"/cases/\d+$"))
    expect(flash(page)).to_contain_text("已受理登记，办件编号")
    number = re.search(r"办件编号 ([A-Z]{2}\d+)", flash(page).inner_text()).group(1)
    case_id = int(re.search(r"/cases/(\d+)$", page.url).group(1))
    expect(page.get_by_role("heading", level=1)).to_contain_text(number)
    person.snap(shot + "-case-recorded")
    return case_id, number


# --- tasks ----------------------------------------------------------------------------------------------------

def open_step(person, case_id: int, title: str, shot: str) -> str:
    """From the case page's 待办环节 to the step's task page; returns the task's URL path."""
    page = person.page
    page.goto(f"/cases/{case_id}")
    pending = page.locator("section.card", has=page.get_by_role("heading", name="待办环节"))
    link = pending.get_by_role("link", name=title, exact=True)
    expect(link).to_be_visible()
    person.snap(shot.replace("-open-", "-case-page-for-", 1) if "-open-" in shot else shot + "-case-page")
    link.click()
    page.wait_for_url(re.compile(r"/tasks/[^/]+$"))
    expect(page.get_by_role("heading", level=1)).to_contain_text(title)
    person.snap(shot)
    return urlparse(page.url).path


def claim_here(person, title: str) -> None:
    """认领此任务 on the task page; the page comes back with the form enabled."""
    page = person.page
    page.get_by_role("button", name="认领此任务").click()
    expect(flash(page)).to_contain_text(f"已认领“{title}”")
    expect(page.get_by_role("button", name="提交", exact=True)).to_be_enabled()


def submit(person, shot: str, next_step: str | None = None) -> str:
    """Press 提交; the inbox opens with the message saying what comes next. Returns that message."""
    page = person.page
    page.get_by_role("button", name="提交", exact=True).click()
    page.wait_for_url(lambda url: urlparse(url).path == "/")
    message = flash(page)
    expect(message).to_contain_text("已提交")
    if next_step:
        expect(message).to_contain_text(next_step)
    person.snap(shot)
    return message.inner_text()


def work_step(person, case_id: int, title: str, fill, shots: tuple[str, str, str], next_step: str | None = None) -> str:
    """Open a step from the case page, claim it, fill it in (``fill(page)``), submit it."""
    open_step(person, case_id, title, shots[0])
    claim_here(person, title)
    fill(person.page)
    person.snap(shots[1])
    return submit(person, shots[2], next_step)


# --- 互动接力 (R-6.4.3) ------------------------------------------------------------------------------------------

def relay_case(person, case_id: int, step: str, to_unit: str, reason: str, materials: str, shots: tuple[str, str]) -> None:
    """From the open step's task page, hand the case to ``to_unit`` (an option's visible label) with a reason and
    the materials; the inbox then says whose acceptance it waits for."""
    page = person.page
    open_step(person, case_id, step, shots[0])
    panel = page.locator("section#relay")
    expect(panel.get_by_role("heading", name="互动接力")).to_be_visible()
    panel.get_by_label("接力给").select_option(label=to_unit)
    panel.get_by_label("接力原因").fill(reason)
    panel.get_by_label("移交材料").fill(materials)
    panel.scroll_into_view_if_needed()
    person.snap(shots[1])
    panel.get_by_role("button", name="发出接力").click()
    page.wait_for_url(lambda url: urlparse(url).path == "/")
    expect(flash(page)).to_contain_text("已发出互动接力")


def accept_relay(person, case_id: int, reason: str, shots: tuple[str, str]) -> None:
    """The receiving unit finds the relay at the top of its inbox, with the reason, and accepts it; the case page
    then shows the hop."""
    page = person.page
    page.goto("/")
    item = page.locator("section#relays li.relay").filter(has=page.get_by_role("link", name=f"办件 {case_id}"))
    expect(item).to_have_count(1)
    expect(item).to_contain_text(reason)
    person.snap(shots[0])
    item.get_by_role("button", name="接收").click()
    page.wait_for_url(re.compile(rf"/cases/{case_id}$"))
    expect(flash(page)).to_contain_text("已接收互动接力")
    expect(page.locator("section#relays")).to_contain_text("已接收")
    person.snap(shots[1])


# --- signatures -----------------------------------------------------------------------------------------------

def draw_signature(page: Page, canvas: Locator) -> None:
    """Sign with the mouse: a few strokes across the pad, as a person would."""
    canvas.scroll_into_view_if_needed()
    box = canvas.bounding_box()
    assert box, "the signature pad is not on screen"
    x0, y0, w, h = box["x"], box["y"], box["width"], box["height"]
    strokes = [
        [(0.10, 0.70), (0.16, 0.25), (0.22, 0.70), (0.28, 0.30), (0.34, 0.65)],
        [(0.40, 0.40), (0.50, 0.40), (0.45, 0.20), (0.45, 0.80)],
        [(0.58, 0.30), (0.70, 0.30), (0.62, 0.55), (0.75, 0.55), (0.66, 0.80), (0.88, 0.72)],
    ]
    for stroke in strokes:
        page.mouse.move(x0 + stroke[0][0] * w, y0 + stroke[0][1] * h)
        page.mouse.down()
        for fx, fy in stroke[1:]:
            page.mouse.move(x0 + fx * w, y0 + fy * h, steps=8)
        page.mouse.up()


def dark_pixels(image: Locator) -> int:
    """How many dark pixels an <img> shows (0 for a blank signature): drawn into a canvas in the page."""
    return image.evaluate("""img => {
        if (!img.complete || !img.naturalWidth) return -1;
        const c = document.createElement('canvas');
        c.width = img.naturalWidth; c.height = img.naturalHeight;
        const g = c.getContext('2d');
        g.drawImage(img, 0, 0);
        const d = g.getImageData(0, 0, c.width, c.height).data;
        let n = 0;
        for (let i = 0; i < d.length; i += 4) { if (d[i + 3] > 128 && d[i] < 100) n++; }
        return n;
    }""")


# --- a whole assist case (帮办), for the scenarios that need a completed one -------------------------------------

def complete_assist_case(assistant, name: str, phone: str, matter: str = "GR-007") -> tuple[int, str]:
    """The assistant records an assist case for a personal matter of 民政局 and drives it to its end:
    指导准备申报材料 → 陪同递交办理 → 跟踪协调审批 → 移交资料和审批文件. Returns (case id, number)."""
    case_id, number = intake(assistant, "assistant-intake-assist", "帮办", name, phone, matter=matter)

    def guide(page):
        label(page, "办事指导").fill("请携带身份证、户口簿原件，按一次性告知单准备材料，我们陪同您到窗口递交。")
        choose(page, "申报材料是否齐全", "是")

    def accompany(page):
        label(page, "已陪同服务对象向审批部门递交材料").check()
        label(page, "审批部门").fill("成安县民政局")
        label(page, "递交日期").fill(TODAY)

    def track(page):
        label(page, "跟踪协调记录").fill("已与民政局审批股沟通，材料审核通过，进展已电话告知服务对象。")
        label(page, "已及时告知服务对象办理进展").check()
        label(page, "审批结果").fill("审批通过")

    def hand_over(page):
        page.get_by_label("已移交的资料和审批文件 第1项").fill("审批决定书")
        label(page, "全部资料已移交服务对象").check()

    steps = [("指导准备申报材料", guide, "guide-materials", "陪同递交办理"),
             ("陪同递交办理", accompany, "accompany-submission", "跟踪协调审批"),
             ("跟踪协调审批", track, "track-approval", "移交资料和审批文件"),
             ("移交资料和审批文件", hand_over, "hand-over-results", None)]
    for title, fill, slug, then in steps:
        work_step(assistant, case_id, title, fill,
                  (f"assistant-open-{slug}", f"assistant-fill-{slug}", f"assistant-submitted-{slug}"),
                  next_step=then)
    return case_id, number
