"""The quality dashboard counted by hand (R-4.a–R-4.e, R-10.1): a small fixed November 2025, built
through the services, whose every number — for the month, per ISO week, per unit and per staff
member — is worked out in the comments below and then read back from the service and the page.

The month, in Cheng'an time (weeks run Monday to Sunday; 1–2 November are the tail of week 44):

week 45 (3–9 Nov)
  A1  帮办 GR-002 (民政局, 20 working days), started Mon 3 Nov 09:00, done the same day   -> on time
  A2  帮办 GR-001 (人社局, 1 working day),    started Mon 3 Nov 09:30, done Wed 5 Nov 10:00;
      due at the close of Tue 4 Nov (17:30): its deadline fires when work resumes on 5 Nov (a breach,
      acknowledged at once by the county chief officer 张伟, who directs 人社局)               -> late
  C1  咨询, answered at once                                                            -> in time
  C2  咨询 at 09:00, a work order nobody contacts within 30 minutes: fired at 09:30      -> breach
  A1's callback is made on Wed 5 Nov: rated 满意                                         -> a good rating
week 46 (10–16 Nov)
  A3  帮办 GR-002 (民政局), started Mon 10 Nov 09:00, done the same day                  -> on time
  C3  咨询, answered at once                                                            -> in time
  Wed 12 Nov online ratings: A2 不满意 (bad), A3 满意 (good)
week 47 (17–23 Nov)
  A4  帮办 GR-002, started Mon 17 Nov 09:00, converted to proxy at 09:10 (the applicant finds it too hard)
  P4  its 代办 case (民政局's proxy agent 徐志强), accepted and done Tue 18 Nov 10:00    -> on time
      P4's callback on Wed 19 Nov: 满意                                                  -> a good rating
      A4 and P4 are one service: R-4.a and R-10.1 count P4 only (A4 closed by conversion)
  A5  帮办 GR-002, started Mon 17 Nov 09:30, materials missing at 10:00; the reminder falls due at the
      close of Thu 20 Nov (3 working days) and is done Fri 21 Nov 09:30; the applicant withdraws at 10:00
      -> closed 服务对象撤回: not in R-4.a (listed apart), called back (R-10.1), not called yet

So:
  R-4.a 按时办结率      3 of 4 (A1, A3, P4; not A2)    week 45: 1 of 2   week 46: 1 of 1   week 47: 1 of 1
  closed for the applicant's reason: 1 (A5, 服务对象撤回), outside R-4.a
  R-4.c 咨询投诉及时处理率 2 of 3 (C1, C3; not C2)     week 45: 1 of 2   week 46: 1 of 1
  R-4.d 满意率          3 of 4 ratings                  week 45: 1 of 1   week 46: 1 of 2   week 47: 1 of 1
  R-10.1 回访覆盖率     2 of 5 (A1, P4 called back; A2, A3, A5 not; A4 is P4's service)
                                                       week 45: 1 of 2   week 46: 0 of 1   week 47: 1 of 2
  fired deadlines      2 (C2's contact limit, A2's promised deadline; A5's reminder is no breach)
                                                       week 45: 2        week 46: 0        week 47: 0
  R-4.b 信息公开透明度  19 of 19 demo matters
  R-4.e 台账完整        every entry the system writes is complete: 35 of 35 — five per 帮办 case done
                        (受理登记 and its four steps), A2's fired deadline and its escalation, C2's fired
                        deadline; A4's 受理登记, two steps and its closure (转为代办); P4's 受理登记 and five
                        steps; A5's 受理登记, two steps, the reminder due, the reminder, the withdrawal and
                        its closure; week 45: 13, week 46: 5, week 47: 17
  weeks 44 and 48 have nothing: no data (—), not 0 %.
A2's bad online rating started one rectification, written by 人社局's assistant (人社局 has no chief officer):
open on 28 Nov and overdue since its deadline, ten working days after 12 Nov (26 Nov 17:30).
Multi-channel (一事一评, its own test): on Thu 13 Nov A3's window rating is refused and A3's callback records
不满意 as its opinion only; R-4.d stays 3 of 4 (week 46: 1 of 2), while R-10.1 becomes 3 of 5.
By unit: 民政局 (CA-MZ) completed A1, A3 and P4, all on time, rated three times, all good (100 %, 100 %);
人社局 (CA-RS) completed A2, late, rated once, bad (0 %, 0 %).
By staff member (steps carry no due time in 帮办 and 代办, so no step is late):
  gaohongxia (民政局) did A1's and A3's 8 steps, A4's 2 and A5's 4 (14): R-4.a 2 of 2 (A4 and A5 are not
      counted), R-4.d 2 of 2, and wrote 21 ledger entries (those 14, the 受理登记 of A1, A2, A3, A4 and A5, and
      the closures of A4 and A5, written by whoever closed them): R-4.e 21 of 21; no consultation;
  songli (人社局's assistant) did A2's 4 steps: R-4.a 0 of 1, R-4.d 0 of 1, R-4.e 4 of 4;
  zhangwei (county chief officer) acknowledged A2's escalation: 1 step, R-4.a 0 of 1, R-4.e 1 of 1;
  xuzhiqiang (民政局's proxy agent) did P4's 5 steps: R-4.a 1 of 1, R-4.d 1 of 1, R-4.e 5 of 5;
  zhaolina (consultant) did 2 steps of each consultation and A1's and P4's callbacks, 8 steps: R-4.c 2 of 3.
"""

from __future__ import annotations

import re
from datetime import date, datetime, timezone

import pytest
import time_machine
from lxml import html

from bdd_workflow.app import create_app
from bdd_workflow.db.models import Staff
from bdd_workflow.errors import Conflict, DomainError
from bdd_workflow.services import evaluations, metrics, publicity
from bdd_workflow.services.identity import actor_by_id
from bdd_workflow.services.timers import fire_case_timers, fire_due_timers
from bdd_workflow.views.web_common import new_session_values

NOV = (date(2025, 11, 1), date(2025, 11, 30))


def at(day: int, hour: int, minute: int = 0) -> datetime:
    """``day`` November 2025, ``hour``:``minute`` in Cheng'an (UTC+8)."""
    return datetime(2025, 11, day, hour - 8, minute, tzinfo=timezone.utc)


def assist(desk, form, matter: str, start: datetime, done: datetime) -> dict:
    with time_machine.travel(start, tick=False):
        case = desk.start("assist", by="gaohongxia", matter_code=matter)
    with time_machine.travel(done, tick=False):
        desk.do(case["id"], "guide_materials", form("guide_materials", materials_complete=True))
        desk.do(case["id"], "accompany_submission", form("accompany_submission"))
        desk.do(case["id"], "track_approval", form("track_approval", applicant_informed=True, approval_result="准予"))
        desk.do(case["id"], "hand_over_results", form("hand_over_results"))
        for name in desk.ready_names(case["id"]):  # a late case: its chief officer has acknowledged the escalation
            desk.do(case["id"], name, form(name))
    return case


def consultation(desk, form, start: datetime, answerable: bool) -> dict:
    with time_machine.travel(start, tick=False):
        case = desk.start("consultation", by="zhaolina", matter_code="GR-002")
        desk.do(case["id"], "record_consultation", form("record_consultation", answerable=answerable))
        if answerable:
            desk.do(case["id"], "give_one_time_notice", form("give_one_time_notice"))
        else:
            desk.do(case["id"], "dispatch_work_order", form("dispatch_work_order"))
    return case


@pytest.fixture
def november(desk, form, system):
    """The month of the module docstring, built through the services."""
    a1 = assist(desk, form, "GR-002", at(3, 9), at(3, 11))
    c1 = consultation(desk, form, at(3, 9, 5), answerable=True)
    c2 = consultation(desk, form, at(3, 9), answerable=False)
    with time_machine.travel(at(3, 10), tick=False):
        assert fire_due_timers(system) == 1  # C2's 30-minute contact limit, and nothing else
    a2 = assist(desk, form, "GR-001", at(3, 9, 30), at(5, 10))
    with time_machine.travel(at(5, 15), tick=False):
        callback = desk.linked(a1["id"], "callback")
        desk.do(callback["id"], "make_callback", form("make_callback", satisfaction="satisfied"))
    a3 = assist(desk, form, "GR-002", at(10, 9), at(10, 16))
    c3 = consultation(desk, form, at(10, 9, 30), answerable=True)
    with time_machine.travel(at(12, 10), tick=False):
        evaluations.rate(system, a2["number"], "13812345678", "dissatisfied", "太慢", "online", "applicant")
        evaluations.rate(system, a3["number"], "13812345678", "satisfied", None, "online", "applicant")
    # week 47: an assist case converted to proxy, its proxy case, and an assist case the applicant withdraws
    with time_machine.travel(at(17, 9), tick=False):
        a4 = desk.start("assist", by="gaohongxia", matter_code="GR-002")
    with time_machine.travel(at(17, 9, 10), tick=False):
        desk.do(a4["id"], "guide_materials", form("guide_materials", materials_complete=False))
        desk.do(a4["id"], "list_missing_materials", form("list_missing_materials", convert_to_proxy=True,
                                                         difficulty_reason="服务对象年老行动不便"))
        p4 = desk.linked(a4["id"], "converted_to_proxy")
    with time_machine.travel(at(18, 10), tick=False):
        for name in ("record_entrustment", "submit_on_behalf"):
            desk.do(p4["id"], name, form(name))
        desk.do(p4["id"], "track_approval", form("track_approval", needs_correction=False))
        desk.do(p4["id"], "hand_over_results", form("hand_over_results"))
        desk.do(p4["id"], "sign_completion_receipt", form("sign_completion_receipt", receipt_signed=True))
    with time_machine.travel(at(19, 10), tick=False):
        callback = desk.linked(p4["id"], "callback")
        desk.do(callback["id"], "make_callback", form("make_callback", satisfaction="satisfied"))
    with time_machine.travel(at(17, 9, 30), tick=False):
        a5 = desk.start("assist", by="gaohongxia", matter_code="GR-002")
    with time_machine.travel(at(17, 10), tick=False):
        desk.do(a5["id"], "guide_materials", form("guide_materials", materials_complete=False))
        desk.do(a5["id"], "list_missing_materials", form("list_missing_materials", convert_to_proxy=False))
    with time_machine.travel(at(21, 9), tick=False):
        # A5's reminder, due at the close of Thu 20 Nov (C2's further escalations are left out of this month)
        assert fire_case_timers(system, a5["id"]) == 1
    with time_machine.travel(at(21, 9, 30), tick=False):
        desk.do(a5["id"], "materials_await_reminder", form("materials_await_reminder"))
    with time_machine.travel(at(21, 10), tick=False):
        desk.do(a5["id"], "materials_await", form("materials_await", applicant_response="withdrawn"))
    return {"A1": a1, "A2": a2, "A3": a3, "C1": c1, "C2": c2, "C3": c3, "A4": a4, "P4": p4, "A5": a5}


def report_of(desk, trend="week", unit=None):
    start, end = metrics.local_period(desk.system, *NOV)
    with time_machine.travel(at(28, 12), tick=False):
        return metrics.quality(desk.system, desk.actor("wangxiuying"), start, end, unit, trend=trend)


def fraction(f):
    return (f["numerator"], f["denominator"])


def test_r_4_every_number_of_the_month_matches_the_hand_count(desk, november):
    """R-4.a, R-4.b, R-4.c, R-4.d, R-4.e and R-10.1 for November, as counted in the module docstring."""
    report = report_of(desk)
    found = {f["key"]: f for f in report["figures"]}
    ids = {name: case["id"] for name, case in november.items()}
    assert fraction(found["R-4.a"]) == (3, 4) and found["R-4.a"]["rate"] == 0.75
    assert sorted(found["R-4.a"]["good"]) == sorted([ids["A1"], ids["A3"], ids["P4"]])
    assert sorted(found["R-4.a"]["items"]) == sorted([ids["A1"], ids["A2"], ids["A3"], ids["P4"]])
    # the applicant's withdrawal is listed apart, by reason; the conversion is P4's service
    closures = report["closures"]
    assert (closures["count"], closures["items"]) == (1, [ids["A5"]])
    assert [(r["title"], r["count"]) for r in closures["by_reason"]] == [("服务对象撤回", 1), ("服务对象放弃", 0),
                                                                         ("逾期未补正", 0)]
    assert fraction(found["R-4.b"]) == (19, 19)
    assert fraction(found["R-4.c"]) == (2, 3)
    assert sorted(found["R-4.c"]["good"]) == sorted([ids["C1"], ids["C3"]])
    assert fraction(found["R-4.d"]) == (3, 4)
    assert fraction(found["R-4.e"]) == (35, 35)
    coverage = report["callback_coverage"]
    assert fraction(coverage) == (2, 5) and coverage["good"] == [ids["A1"], ids["P4"]]
    assert sorted(coverage["items"]) == sorted(ids[k] for k in ("A1", "A2", "A3", "P4", "A5"))
    assert [(b["process"], b["timer"], b["count"], b["cases"]) for b in report["breaches"]] == [
        ("assist", "deadline_overdue", 1, [ids["A2"]]), ("consultation", "contact_overdue", 1, [ids["C2"]])]


def test_r_4_d_r_7_2_1_a_case_rated_on_three_channels_counts_once(desk, form, system, november):
    """R-4.d R-7.2.1 R-10.1: A3, rated 满意 online on 12 Nov, is refused at the window on 13 Nov and its callback's
    不满意 is kept as the callback's opinion: R-4.d stays 3 of 4 (A1, A2, A3, P4; week 46: 1 of 2), no
    rectification starts for 民政局, and the callback still counts for R-10.1 (3 of 5: A1's, P4's and now A3's)."""
    a3 = november["A3"]
    with time_machine.travel(at(13, 9), tick=False):
        with pytest.raises(Conflict, match="2025-11-12 10:00 通过网上评价评价为“满意”"):
            publicity.rate_at_window(system, desk.actor("gaohongxia"), a3["number"], "very_dissatisfied")
        callback = desk.linked(a3["id"], "callback")
        result = desk.do(callback["id"], "make_callback", form("make_callback", satisfaction="dissatisfied"))
    assert result["started_cases"] == []
    report = report_of(desk)
    found = {f["key"]: f for f in report["figures"]}
    assert fraction(found["R-4.d"]) == (3, 4)
    assert sorted(found["R-4.d"]["items"]) == sorted([november["A1"]["id"], november["A2"]["id"], a3["id"],
                                                      november["P4"]["id"]])
    series = {s["key"]: s for s in report["trends"]["series"]}
    assert [(p["numerator"], p["denominator"]) for p in series["R-4.d"]["points"]][2] == (1, 2)
    assert fraction(report["callback_coverage"]) == (3, 5)
    units = {u["unit"]: u for u in report["by_unit"]}
    assert (units["CA-MZ"]["ratings"], units["CA-MZ"]["satisfaction_rate"]) == (3, 1.0)


def test_r_10_2_the_month_s_bad_rating_left_one_overdue_rectification_at_人社局(desk, november):
    """R-10.2: A2's bad online rating started exactly one rectification, for 人社局's assistant; on 28 Nov it is
    open and overdue on the dashboard, and counts in no R-4 figure."""
    links = [c for c in desk.case(november["A2"]["id"])["linked_cases"] if c["relation"] == "rectification"]
    assert len(links) == 1
    (task,) = desk.case(links[0]["id"])["tasks"]
    assert (task["name"], task["role"], task["unit"]) == ("submit_explanation_assistant", "assistant", "CA-RS")
    with time_machine.travel(at(28, 12), tick=False):
        page = metrics.dashboard(desk.system, desk.actor("wangxiuying"), *NOV)
    assert [(u["unit"], u["open"], u["overdue"], u["cases"]) for u in page["rectifications"]] == [
        ("CA-RS", 1, 1, [links[0]["id"]])]


def test_r_4_the_weekly_trend_matches_the_hand_count(desk, november):
    """Each figure per ISO week of November (44 clipped to 1–2 Nov, then 45 to 48), as counted by hand."""
    trends = report_of(desk)["trends"]
    assert trends["by"] == "week"
    series = {s["key"]: s for s in trends["series"]}
    assert [p["label"] for p in series["R-4.a"]["points"]] == ["2025-W44", "2025-W45", "2025-W46", "2025-W47",
                                                               "2025-W48"]
    assert [(p["first"], p["last"]) for p in series["R-4.a"]["points"]][:2] == [
        (date(2025, 11, 1), date(2025, 11, 2)), (date(2025, 11, 3), date(2025, 11, 9))]

    def weeks(key):
        return [(p["numerator"], p["denominator"]) for p in series[key]["points"]]

    assert weeks("R-4.a") == [(0, 0), (1, 2), (1, 1), (1, 1), (0, 0)]
    assert weeks("R-4.c") == [(0, 0), (1, 2), (1, 1), (0, 0), (0, 0)]
    assert weeks("R-4.d") == [(0, 0), (1, 1), (1, 2), (1, 1), (0, 0)]
    assert weeks("R-4.e") == [(0, 0), (13, 13), (5, 5), (17, 17), (0, 0)]
    assert weeks("R-10.1") == [(0, 0), (1, 2), (0, 1), (1, 2), (0, 0)]
    assert [p["count"] for p in series["breaches"]["points"]] == [0, 2, 0, 0, 0]
    assert [p["rate"] for p in series["R-4.a"]["points"]] == [None, 0.5, 1.0, 1.0, None]  # no data is not 0 %


def test_r_4_the_monthly_trend_is_the_month(desk, november):
    trends = report_of(desk, trend="month")
    series = {s["key"]: s for s in trends["trends"]["series"]}
    assert [p["label"] for p in series["R-4.a"]["points"]] == ["2025-11"]
    assert [(p["numerator"], p["denominator"]) for p in series["R-4.d"]["points"]] == [(3, 4)]


def test_r_4_by_unit_and_by_staff_member_match_the_hand_count(desk, november):
    """The same figures per unit (R-4.a, R-4.d) and per staff member (R-5.2: steps done and late)."""
    report = report_of(desk)
    units = {u["unit"]: u for u in report["by_unit"]}
    mz = units["CA-MZ"]
    assert (mz["completed"], mz["on_time_rate"], mz["ratings"], mz["satisfaction_rate"]) == (3, 1.0, 3, 1.0)
    rs = units["CA-RS"]
    assert (rs["completed"], rs["on_time_rate"], rs["ratings"], rs["satisfaction_rate"]) == (1, 0.0, 1, 0.0)
    staff = {s["username"]: s for s in report["by_staff"]}
    assert set(staff) == {"gaohongxia", "songli", "zhaolina", "zhangwei", "xuzhiqiang"}
    gao, song, zhao = staff["gaohongxia"], staff["songli"], staff["zhaolina"]
    assert (gao["done"], gao["late"], gao["R-4.a"], gao["R-4.c"], gao["R-4.d"], gao["R-4.e"]) == (
        14, 0, [2, 2], [0, 0], [2, 2], [21, 21])
    assert (staff["zhangwei"]["done"], staff["zhangwei"]["R-4.a"], staff["zhangwei"]["R-4.e"]) == (1, [0, 1], [1, 1])
    xu = staff["xuzhiqiang"]
    assert (xu["done"], xu["R-4.a"], xu["R-4.d"], xu["R-4.e"]) == (5, [1, 1], [1, 1], [5, 5])
    assert gao["rates"] == {"R-4.a": 1.0, "R-4.c": None, "R-4.d": 1.0, "R-4.e": 1.0}  # no consultation: no rate
    assert (song["done"], song["R-4.a"], song["R-4.d"], song["R-4.e"]) == (4, [0, 1], [0, 1], [4, 4])
    assert (zhao["done"], zhao["R-4.c"], zhao["rates"]["R-4.c"]) == (8, [2, 3], round(2 / 3, 4))
    # Only CA-MZ's cases, with its figures, when the unit is chosen.
    only = {f["key"]: f for f in report_of(desk, unit="CA-MZ")["figures"]}
    assert fraction(only["R-4.a"]) == (3, 3) and fraction(only["R-4.d"]) == (3, 3)


def test_r_4_the_dashboard_page_shows_the_hand_counted_numbers(desk, november):
    """The /quality page: the month's fractions, the weekly table under the charts, a bar per week that
    links to that week's cases, and that week's list showing the late case as 未达标."""
    app = create_app(system=desk.system)
    client = app.test_client()
    with desk.system.db.unit_of_work(write=False) as session:
        staff_id = session.query(Staff.id).filter(Staff.username == "wangxiuying").scalar()
    query = {"start": "2025-11-01", "end": "2025-11-30", "trend": "week"}
    with time_machine.travel(at(28, 12), tick=False):  # the session cookie is signed at the travelled time
        with client.session_transaction() as session:
            session.update(new_session_values(desk.system, actor_by_id(desk.system, staff_id)))
        page = html.fromstring(client.get("/quality", query_string=query).get_data(as_text=True))

    def cell(key, part):
        return page.xpath(f'//tr[@id="figure-{key.replace(".", "-")}"]/td[@class="{part}"]')[0].text_content().strip()

    assert (cell("R-4.a", "figure-count"), cell("R-4.a", "figure-rate")) == ("3 / 4", "75.0%")
    assert (cell("R-4.c", "figure-count"), cell("R-4.d", "figure-count")) == ("2 / 3", "3 / 4")
    assert (cell("R-4.e", "figure-count"), cell("R-10.1", "figure-count")) == ("35 / 35", "2 / 5")
    # the applicant's closures, apart from R-4.a, with their reasons and cases
    closures = page.xpath('//section[@id="closures"]')[0].text_content()
    assert "服务对象原因结案 1 件" in closures and "服务对象撤回 1" in closures
    assert november["A5"]["number"] in closures
    assert len(page.xpath('//svg[@class="trend"]')) == 7  # five figures, callbacks, fired deadlines
    rows = {r.xpath("./th/text()")[0].strip(): [td.text_content().split()[0] for td in r.xpath("./td")]
            for r in page.xpath('//table[@class="trend-table"]/tbody/tr')}
    # columns: R-4.a, R-4.b, R-4.c, R-4.d, R-4.e, R-10.1, fired deadlines
    assert rows["2025-W45"] == ["50.0%", "100.0%", "50.0%", "100.0%", "100.0%", "50.0%", "2"]
    assert rows["2025-W46"] == ["100.0%", "100.0%", "100.0%", "50.0%", "100.0%", "0.0%", "0"]
    assert rows["2025-W47"] == ["100.0%", "100.0%", "—", "100.0%", "100.0%", "50.0%", "0"]
    assert rows["2025-W48"][0] == "—"
    # The R-4.a bar of week 45 is a link to that week's cases behind the number.
    [bar] = [a for a in page.xpath('//figure[@id="trend-R-4-a"]//*[local-name()="a"]')
             if "2025-W45" in a.text_content()]
    href = bar.get("href")
    assert "start=2025-11-03" in href and "end=2025-11-09" in href and "figure=R-4.a" in href
    with time_machine.travel(at(28, 12), tick=False):
        week = html.fromstring(client.get(href).get_data(as_text=True))
    listed = week.xpath('//section[@id="cases"]//li')
    numbers = {november["A1"]["number"]: "达标", november["A2"]["number"]: "未达标"}
    assert {li.xpath(".//a")[0].text_content(): li.xpath('.//span[contains(@class, "badge")]')[0].text_content()
            for li in listed} == numbers
    assert re.search(r"50\.0%：达标 1 项 / 共 2 项", week.xpath('//section[@id="cases"]')[0].text_content())
    # The fired deadlines and the matters behind R-4.b are listed the same way.
    with time_machine.travel(at(28, 12), tick=False):
        fired = html.fromstring(client.get("/quality", query_string={**query, "figure": "breaches"}).get_data(as_text=True))
        matters = html.fromstring(client.get("/quality", query_string={**query, "figure": "R-4.b"}).get_data(as_text=True))
    assert sorted(a.text_content() for a in fired.xpath('//section[@id="cases"]//li/a')) == sorted(
        [november["C2"]["number"], november["A2"]["number"]])
    assert len(matters.xpath('//section[@id="cases"]//li[.//span[text()="达标"]]')) == 19
    # Each staff member: steps on the dashboard, their four figures one link away.
    [link] = page.xpath('//a[contains(., "查看每人的按时办结率")]')
    with time_machine.travel(at(28, 12), tick=False):
        people = html.fromstring(client.get(link.get("href")).get_data(as_text=True))
    staff = {r.xpath("./td")[0].text_content(): [td.text_content().strip() for td in r.xpath("./td")[1:]]
             for r in people.xpath('//table[@class="by-staff"]/tbody/tr')}
    assert staff["高红霞"] == ["14", "0", "100.0%", "100.0% (2/2)", "—", "100.0% (2/2)", "100.0% (21/21)", "0 / 0"]
    assert staff["宋丽"][3] == "0.0% (0/1)" and staff["赵丽娜"][4] == "66.7% (2/3)"


def test_r_4_the_api_gives_the_same_trend(desk, november):
    """GET /api/v1/quality?trend=week carries the hand-counted weeks, with ISO dates."""
    client = create_app(system=desk.system).test_client()
    with time_machine.travel(at(28, 12), tick=False):
        token = client.post("/api/v1/auth/token", json={"username": "wangxiuying", "password": "demo1234"}).json["token"]
        body = client.get("/api/v1/quality", query_string={"start": "2025-11-01", "end": "2025-11-30", "trend": "week"},
                          headers={"Authorization": f"Bearer {token}"}).json
        refused = client.get("/api/v1/quality", query_string={"start": "2025-11-01", "end": "2025-11-30",
                                                              "trend": "day"}, headers={"Authorization": f"Bearer {token}"})
    series = {s["key"]: s for s in body["trends"]["series"]}
    assert [(p["first"], p["numerator"], p["denominator"]) for p in series["R-4.a"]["points"]][1:3] == [
        ("2025-11-03", 1, 2), ("2025-11-10", 1, 1)]
    assert [p["count"] for p in series["breaches"]["points"]] == [0, 2, 0, 0, 0]
    assert refused.status_code == 422 and "按周" in refused.get_data(as_text=True)


def test_r_6_2_a_township_sees_only_its_own_and_an_unknown_unit_is_named(desk, november):
    """R-6.2: 柳洪涛 (chief officer of CA-T02) counts only his township's cases and may not pick another
    unit; a unit code that does not exist is refused with a message saying so."""
    from bdd_workflow.errors import Forbidden, NotFound

    start, end = metrics.local_period(desk.system, *NOV)
    township = metrics.quality(desk.system, desk.actor("liuhongtao"), start, end)
    assert [f["denominator"] for f in township["figures"] if f["key"] != "R-4.b"] == [0, 0, 0, 0]
    with pytest.raises(Forbidden):
        metrics.quality(desk.system, desk.actor("liuhongtao"), start, end, "CA-MZ")
    with pytest.raises(NotFound, match="CA-XX"):
        metrics.quality(desk.system, desk.actor("wangxiuying"), start, end, "CA-XX")


def test_a_period_of_more_than_ten_years_is_refused_with_a_reason(desk):
    start, end = metrics.local_period(desk.system, date(1990, 1, 1), date(9999, 12, 31))
    with pytest.raises(DomainError, match="最长 10 年"):
        metrics.quality(desk.system, desk.actor("wangxiuying"), start, end)
