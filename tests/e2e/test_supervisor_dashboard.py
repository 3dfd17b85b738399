"""The centre office supervises (issue 5): 王秀英 (wangxiuying) finds the overdue cases on 办件督查, opens
one and sees it on its diagram in colour, then reads the 服务质量 dashboard — the five figures of
section 4 with their weekly and monthly trend charts (R-4.a–R-4.e, R-10.1, R-6.4.1).

The server of this module has a month of history: before it starts, the four weeks before this one
are played through the services with the clock moved (cases on time and late, answered and breached
consultations, callbacks, good and bad ratings). The hotline's contact limit is 5 seconds here
(BDD_CONTACT_SLA), so a work order dispatched during the test is overdue moments later, on the real
clock of the real server."""

from __future__ import annotations

import re
import time
from collections.abc import Iterator
from datetime import date, datetime, timedelta, timezone

import pytest
import time_machine
from playwright.sync_api import expect

from bdd_workflow.config import PROJECT_ROOT, Settings
from bdd_workflow.services import evaluations
from bdd_workflow.services.timers import fire_due_timers
from bdd_workflow.system import System

from e2e_support import api, readme_picture, running_server

CHINA = timezone(timedelta(hours=8))


def local(day: date, hour: int, minute: int = 0) -> datetime:
    return datetime(day.year, day.month, day.day, hour, minute, tzinfo=CHINA)


def first_monday() -> date:
    """The Monday four weeks before this week's: the history starts there."""
    today = datetime.now(CHINA).date()
    return today - timedelta(days=today.weekday() + 28)


def play_the_month(instance) -> None:
    """The four weeks before this one, through the services, the clock moved to each moment."""
    from tests.conftest import Desk
    from tests.processes.conftest import valid

    system = System(Settings(instance_dir=instance, database_url=f"sqlite:///{instance / 'bdd.sqlite3'}",
                             secret_key="e2e-secret", processes_dir=PROJECT_ROOT / "processes",
                             forms_dir=PROJECT_ROOT / "forms", contact_sla="PT30M", embedded_scheduler=False))
    desk = Desk(system)
    monday = first_monday()

    def assist(matter: str, start: datetime, done: datetime) -> dict:
        with time_machine.travel(start, tick=False):
            case = desk.start("assist", by="gaohongxia", matter_code=matter)
        with time_machine.travel(done, tick=False):
            for step in ("guide_materials", "accompany_submission", "track_approval", "hand_over_results"):
                data = {"materials_complete": True} if step == "guide_materials" else {}
                if step == "track_approval":
                    data = {"applicant_informed": True, "approval_result": "准予"}
                desk.do(case["id"], step, valid(step, **data))
            for name in desk.ready_names(case["id"]):  # a late case: the chief officer acknowledges the escalation
                desk.do(case["id"], name, valid(name))
        return case

    def consultation(start: datetime, answerable: bool) -> None:
        with time_machine.travel(start, tick=False):
            case = desk.start("consultation", by="zhaolina", matter_code="GR-002")
            desk.do(case["id"], "record_consultation", valid("record_consultation", answerable=answerable))
            step = "give_one_time_notice" if answerable else "dispatch_work_order"
            desk.do(case["id"], step, valid(step))

    for week in range(4):
        on_time = [assist("GR-002", local(monday, 9, n), local(monday, 15, n)) for n in range(2 + week % 2)]
        late = assist("GR-001", local(monday, 10), local(monday + timedelta(days=2), 10)) if week % 2 else None
        for n in range(3):
            consultation(local(monday, 11, n), answerable=n != 0 or week % 2 == 1)
        with time_machine.travel(local(monday, 12), tick=False):
            fire_due_timers(system)  # an unanswered work order's 30 minutes are long past
        with time_machine.travel(local(monday + timedelta(days=2), 16), tick=False):
            callback = desk.linked(on_time[0]["id"], "callback")
            desk.do(callback["id"], "make_callback", valid("make_callback", satisfaction="satisfied"))
            for case in on_time[1:] + ([late] if late else []):
                grade = "dissatisfied" if case is late else "very_satisfied"
                evaluations.rate(system, case["number"], "13812345678", grade, None, "online", "applicant")
        monday += timedelta(days=7)
    system.db.dispose()


@pytest.fixture(scope="module")
def server(tmp_path_factory, chromium_path) -> Iterator[str]:
    """`bdd serve` with the demo county, a month of history and a 5-second hotline contact limit."""
    with running_server(tmp_path_factory, "e2e-supervision", env={"BDD_CONTACT_SLA": "PT5S"},
                        prepare=play_the_month) as url:
        yield url


def overdue_work_order(server: str) -> dict:
    """A hotline question for 民政局 dispatched as a work order; nobody calls back within 5 seconds."""
    token = api(server, "/api/v1/auth/token", {"username": "zhaolina", "password": "demo1234"})["token"]
    case = api(server, "/api/v1/cases", {"process": "consultation", "data": {
        "applicant_name": "督查测试", "applicant_phone": "13900002222", "applicant_type": "personal",
        "matter_code": "GR-002", "channel": "phone"}}, token)
    step = api(server, f"/api/v1/tasks/{case['tasks'][0]['id']}/complete",
               {"data": {"question": "低保怎么申请？", "answerable": False}}, token)
    api(server, f"/api/v1/tasks/{step['next_tasks'][0]['id']}/complete",
        {"data": {"dispatch_unit": "CA-MZ", "work_order_summary": "政策咨询，需民政局答复"}}, token)
    deadline = time.monotonic() + 30
    while time.monotonic() < deadline:  # the scheduler fires the contact limit: an escalation appears
        detail = api(server, f"/api/v1/cases/{case['id']}", token=token)
        if any(t["name"] == "escalate_contact_breach" for t in detail["tasks"]):
            return detail
        time.sleep(0.5)
    raise AssertionError("the 5-second contact limit never fired")


def test_the_office_finds_overdue_cases_sees_one_on_its_diagram_and_reads_the_dashboard(server, person):
    """R-4.c, R-6.4.1, R-9.1.1.2: an overdue work order is found by the 当前超时 filter and shown on its
    diagram (done steps, the open ones); the dashboard shows the figures with a chart per figure, by week
    and by month, each bar a link to the cases behind it."""
    case = overdue_work_order(server)
    office = person("政务服务中心办公室")
    office.login("wangxiuying")
    page = office.page

    page.get_by_role("link", name="办件督查").click()
    page.select_option("select[name=late]", "overdue")
    page.get_by_role("button", name="筛选").click()
    page.wait_for_url(re.compile(r"late=overdue"))
    row = page.locator(f'tr[data-case="{case["number"]}"]')
    expect(row).to_be_visible()
    expect(row).to_contain_text("咨询")
    expect(row.locator(".badge.bad")).to_have_text("1")  # its fired deadline
    office.snap("overdue-cases", page.locator("main"))

    row.get_by_role("link", name=case["number"]).click()
    page.get_by_role("link", name="流程图与督办").click()
    page.wait_for_url(f"**/cases/{case['id']}/diagram")
    expect(page.locator("#case-diagram .djs-element").first).to_be_visible()
    expect(page.locator('.djs-element.cd-completed[data-element-id="record_consultation"]')).to_have_count(1)
    expect(page.locator('.djs-element.cd-active[data-element-id="contact_applicant"]')).to_have_count(1)
    expect(page.locator('.djs-element.cd-active[data-element-id="escalate_contact_breach"]')).to_have_count(1)
    office.snap("overdue-case-on-its-diagram")

    page.get_by_role("link", name="服务质量").click()
    expect(page.locator("h1")).to_contain_text("服务质量")
    page.fill("input[name=start]", first_monday().isoformat())  # the month of history and this week
    page.get_by_role("button", name="查看").click()
    page.wait_for_url(re.compile(r"start="))
    for key in ("R-4.a", "R-4.b", "R-4.c", "R-4.d", "R-4.e", "R-10.1"):
        expect(page.locator(f"#figure-{key.replace('.', '-')} .figure-count")).to_have_text(re.compile(r"^\d+ / [1-9]\d*$"))
    expect(page.locator("#figure-R-4-b .figure-count")).to_have_text("19 / 19")
    charts = page.locator("svg.trend")
    expect(charts).to_have_count(7)
    expect(page.locator("#trend-R-4-a a.trend-point").first).to_be_visible()
    weeks = page.locator("#trend-R-4-a a.trend-point").count()
    assert weeks == 5  # the four weeks of history and this one, a bar each
    expect(page.locator("table.trend-table tbody tr")).to_have_count(weeks)
    expect(page.locator(".segmented a.current")).to_have_text("按周")
    office.snap("dashboard-by-week")
    # The README's picture: the figures and the charts.
    top, trends = page.locator("main").bounding_box(), page.locator("#trends .trend-charts").bounding_box()
    readme_picture(page, "dashboard", full_page=True, clip={
        "x": top["x"], "y": top["y"], "width": top["width"], "height": trends["y"] + trends["height"] - top["y"]})

    page.locator(".segmented").get_by_role("link", name="按月").click()
    expect(page.locator(".segmented a.current")).to_have_text("按月")
    assert page.locator("#trend-R-4-a a.trend-point").count() in (2, 3)  # the months those five weeks touch
    office.snap("dashboard-by-month", page.locator("#trends"))

    # A bar is a link to the cases behind it: this month's R-4.c list, the late ones marked.
    page.locator("#trend-R-4-c a.trend-point").first.click()
    expect(page.locator("#cases h2")).to_contain_text("咨询投诉及时处理率")
    expect(page.locator("#cases li").first).to_be_visible()
    expect(page.locator("#cases .badge.bad").first).to_have_text("未达标")
    office.snap("dashboard-cases-behind-a-bar", page.locator("#cases"))
