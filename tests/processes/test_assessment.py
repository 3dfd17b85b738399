"""工作考核 counted by hand (R-5.2 培训考核; 10.2 评价结果作为绩效考核的依据): a small November 2025 for 民政局
(CA-MZ), built through the services, whose every number — per staff member and for the unit — is worked out
here and read back from the service, the page (each number opening exactly its cases), the Excel export and
the API.

In Cheng'an time:
  A4  帮办 GR-002 by 高红霞 (gaohongxia), done Tue 28 Oct           -> her 4 steps fall outside November
      rated 满意 online on Sun 2 Nov                                -> a good rating in November (her case)
  A1  帮办 GR-002 by 高红霞, started Mon 3 Nov 09:00, done 11:00    -> 4 steps, none with a due time
      called back on Wed 5 Nov, rated 不满意                        -> a bad rating, and a rectification R1
  C2  咨询 at 09:00 Mon 3 Nov, work order to 民政局: 高红霞 contacts the applicant at 10:00 (due 09:30)
      and answers it                                               -> 2 steps, 1 of them late
  A3  帮办 GR-002 by 高红霞, Mon 10 Nov, done the same day           -> 4 steps; rated 满意 online Wed 12 Nov
  K1  投诉 on Thu 20 Nov naming 高红霞 and A1, found 属实             -> a complaint, upheld
  K2  投诉 on Fri 21 Nov naming 高红霞 only, found 不属实             -> a complaint, not upheld
  A2  帮办 GR-001 by 宋丽 (songli, 人社局), Mon 3 Nov, rated 不满意 online: 人社局's, not 民政局's

So 高红霞 in November: steps 10 (A1 4, A3 4, C2 2), late 1 (C2); ratings good 2 (A3, A4), bad 1 (A1);
complaints 2 (K1, K2), upheld 1 (K1); rectifications 1 (R1). 徐志强 (xuzhiqiang, 民政局's proxy agent) did nothing:
a row of zeros. 民政局's total is 高红霞's. The callback of A1 also found a problem (办事效率): H1, a 问题交办 about A1,
so 高红霞 has 1 problem handed over.
"""

from __future__ import annotations

import io
from datetime import date, datetime, timezone

import pytest
import time_machine
from lxml import html
from openpyxl import load_workbook

from bdd_workflow.app import create_app
from bdd_workflow.db.models import Staff
from bdd_workflow.errors import Forbidden, NotFound
from bdd_workflow.services import assessment, evaluations
from bdd_workflow.services.identity import actor_by_id
from bdd_workflow.views.web_common import new_session_values

NOV = (date(2025, 11, 1), date(2025, 11, 30))
QUERY = {"start": "2025-11-01", "end": "2025-11-30"}


def at(month: int, day: int, hour: int, minute: int = 0) -> datetime:
    """``day`` ``month`` 2025, ``hour``:``minute`` in Cheng'an (UTC+8)."""
    return datetime(2025, month, day, hour - 8, minute, tzinfo=timezone.utc)


def assist(desk, form, by: str, matter: str, start: datetime, done: datetime) -> dict:
    with time_machine.travel(start, tick=False):
        case = desk.start("assist", by=by, matter_code=matter)
    with time_machine.travel(done, tick=False):
        desk.do(case["id"], "guide_materials", form("guide_materials", materials_complete=True), by=by)
        desk.do(case["id"], "accompany_submission", form("accompany_submission"), by=by)
        desk.do(case["id"], "track_approval", form("track_approval", applicant_informed=True, approval_result="准予"),
                by=by)
        desk.do(case["id"], "hand_over_results", form("hand_over_results"), by=by)
    return case


def complaint(desk, form, when: datetime, upheld: bool, about_case: str | None = None) -> dict:
    with time_machine.travel(when, tick=False):
        case = desk.start("complaint", by="zhaolina", channel="phone", complaint_text="窗口人员态度生硬")
        about = {"about_staff": "gaohongxia", **({"about_case_number": about_case} if about_case else {})}
        desk.do(case["id"], "record_complaint", form("record_complaint", **about))
        desk.do(case["id"], "handle_complaint", form("handle_complaint", complaint_substantiated=upheld))
    return case


@pytest.fixture
def november(desk, form, system):
    a4 = assist(desk, form, "gaohongxia", "GR-002", at(10, 28, 9), at(10, 28, 11))
    with time_machine.travel(at(11, 2, 10), tick=False):
        evaluations.rate(system, a4["number"], "13812345678", "satisfied", None, "online", "applicant")
    a1 = assist(desk, form, "gaohongxia", "GR-002", at(11, 3, 9), at(11, 3, 11))
    with time_machine.travel(at(11, 3, 9), tick=False):
        c2 = desk.start("consultation", by="zhaolina", matter_code="GR-002")
        desk.do(c2["id"], "record_consultation", form("record_consultation", answerable=False))
        desk.do(c2["id"], "dispatch_work_order", form("dispatch_work_order"))
    with time_machine.travel(at(11, 3, 10), tick=False):
        desk.do(c2["id"], "contact_applicant", form("contact_applicant"), by="gaohongxia")
        desk.do(c2["id"], "resolve_work_order", form("resolve_work_order"), by="gaohongxia")
    a2 = assist(desk, form, "songli", "GR-001", at(11, 3, 9, 30), at(11, 3, 16))
    with time_machine.travel(at(11, 5, 15), tick=False):
        callback = desk.linked(a1["id"], "callback")
        desk.do(callback["id"], "make_callback", form("make_callback", satisfaction="dissatisfied",
                                                      issues_found="材料讲解不清", problems_found="found",
                                                      problems=[{"category": "efficiency",
                                                                 "description": "材料讲解不清，来回跑了两次"}]))
    r1 = desk.linked(a1["id"], "rectification")
    h1 = desk.linked(a1["id"], "handover")  # the problem the callback found, linked from the service case  # a bad rating's rectification is linked from the rated case
    a3 = assist(desk, form, "gaohongxia", "GR-002", at(11, 10, 9), at(11, 10, 16))
    with time_machine.travel(at(11, 12, 10), tick=False):
        evaluations.rate(system, a2["number"], "13812345678", "dissatisfied", "太慢", "online", "applicant")
        evaluations.rate(system, a3["number"], "13812345678", "satisfied", None, "online", "applicant")
    k1 = complaint(desk, form, at(11, 20, 10), True, about_case=a1["number"])
    k2 = complaint(desk, form, at(11, 21, 10), False)
    return {"A1": a1, "A2": a2, "A3": a3, "A4": a4, "C2": c2, "R1": r1, "H1": h1, "K1": k1, "K2": k2}


# (figure, part) -> the cases behind 高红霞's number in November, by the names of the fixture
EXPECTED = {("steps", "done"): ["A1", "A3", "C2"], ("steps", "late"): ["C2"], ("ratings", "good"): ["A3", "A4"],
            ("ratings", "bad"): ["A1"], ("complaints", "all"): ["K1", "K2"], ("complaints", "upheld"): ["K1"],
            ("rectifications", "all"): ["R1"], ("handovers", "all"): ["H1"]}
COUNTS = {("steps", "done"): 10, ("steps", "late"): 1, ("ratings", "good"): 2, ("ratings", "bad"): 1,
          ("complaints", "all"): 2, ("complaints", "upheld"): 1, ("rectifications", "all"): 1, ("handovers", "all"): 1}
COLUMNS = ["办理环节", "超期办理", "好评", "差评", "被投诉", "投诉属实", "差评整改", "问题交办"]


def ids(cases: dict, names: list[str]) -> tuple[int, ...]:
    return tuple(sorted(cases[n]["id"] for n in names))


def figures(result) -> dict:
    return {f.key: f for f in result.figures}


def test_r_5_2_a_staff_member_and_the_unit_match_the_hand_count(desk, november):
    """R-5.2: 高红霞's and 民政局's numbers for November, each with exactly its cases; 徐志强 is listed with zeros."""
    unit = assessment.report(desk.system, desk.actor("wangxiuying"), *NOV, unit="CA-MZ")
    person = assessment.report(desk.system, desk.actor("wangxiuying"), *NOV, username="gaohongxia")
    for result, who in ((unit, "gaohongxia"), (unit, None), (person, "gaohongxia")):
        found = figures(result)
        for (key, part), names in EXPECTED.items():
            cell = found[key].cell(who, part)
            assert (cell.count, cell.cases) == (COUNTS[(key, part)], ids(november, names)), (key, part, who)
    assert [p.username for p in unit.people] == ["gaohongxia", "xuzhiqiang"]
    assert all(f.cell("xuzhiqiang", part).count == 0 for f in unit.figures for part in f.parts)
    assert figures(unit)["handovers"].available is True
    assert [title for _, _, title in unit.columns] == COLUMNS
    # 人社局's bad rating is 宋丽's and 人社局's, not 民政局's.
    rs = figures(assessment.report(desk.system, desk.actor("wangxiuying"), *NOV, unit="CA-RS"))
    assert rs["ratings"].cell("songli", "bad").cases == ids(november, ["A2"])
    assert (rs["steps"].total("done").count, rs["complaints"].total("all").count) == (4, 0)


def client_as(desk, username: str):
    client = create_app(system=desk.system).test_client()
    with desk.system.db.unit_of_work(write=False) as session:
        staff_id = session.query(Staff.id).filter(Staff.username == username).scalar()
    with client.session_transaction() as session:
        session.update(new_session_values(desk.system, actor_by_id(desk.system, staff_id)))
    return client


def test_r_5_2_each_number_on_the_page_opens_exactly_its_cases(desk, november):
    """R-5.2: the unit page shows the hand-counted numbers; each is a link listing exactly its cases."""
    numbers = {name: case["number"] for name, case in november.items()}
    with time_machine.travel(at(11, 28, 12), tick=False):
        client = client_as(desk, "wangxiuying")
        page = html.fromstring(client.get("/assessment", query_string={**QUERY, "unit": "CA-MZ"}).get_data(as_text=True))
        headers = [th.text_content().strip() for th in page.xpath('//table[@id="assessment"]/thead/tr/th')]
        assert headers == ["工作人员", "单位", *COLUMNS]
        for who in ("gaohongxia", ""):
            row = page.xpath(f'//table[@id="assessment"]//tr[@data-staff="{who}"]')[0]
            for (key, part), count in COUNTS.items():
                [cell] = row.xpath(f'./td[@data-column="{key}-{part}"]')
                assert cell.text_content().strip() == str(count)
                listed = html.fromstring(client.get(cell.xpath(".//a")[0].get("href")).get_data(as_text=True))
                shown = sorted(li.get("data-case") for li in listed.xpath('//section[@id="cases"]//li'))
                assert shown == sorted(numbers[n] for n in EXPECTED[(key, part)]), (who, key, part)
        zeros = page.xpath('//tr[@data-staff="xuzhiqiang"]/td[@data-column]')
        assert [td.text_content().strip() for td in zeros] == ["0"] * len(COLUMNS) and not zeros[0].xpath(".//a")
        # The staff member's own page shows the same numbers.
        own = html.fromstring(client.get("/assessment/staff/gaohongxia", query_string=QUERY).get_data(as_text=True))
        assert [td.text_content().strip() for td in own.xpath('//tr[@data-staff="gaohongxia"]/td[@data-column]')] == [
            str(COUNTS[k]) for k in COUNTS]


def test_r_5_2_the_excel_export_has_the_same_numbers(desk, november):
    """R-5.2: the export's rows carry the page's numbers, as data (no formula), and list each number's cases."""
    with time_machine.travel(at(11, 28, 12), tick=False):
        client = client_as(desk, "wangxiuying")
        response = client.get("/assessment/export.xlsx", query_string={**QUERY, "unit": "CA-MZ"})
        own = client.get("/assessment/staff/gaohongxia/export.xlsx", query_string=QUERY)
    assert response.status_code == 200 and own.status_code == 200
    book = load_workbook(io.BytesIO(response.data))
    sheet = book["工作考核"]
    rows = [[c.value for c in r] for r in sheet.iter_rows()]
    assert rows[0] == ["工作人员", "用户名", "单位", *COLUMNS]
    expected = list(COUNTS.values())
    assert rows[1] == ["高红霞", "gaohongxia", "成安县民政局", *expected]
    assert rows[2][:2] == ["徐志强", "xuzhiqiang"] and rows[2][3:] == [0] * len(COLUMNS)
    assert rows[3][0] == "合计" and rows[3][3:] == expected
    assert not [c for r in sheet.iter_rows() for c in r if c.data_type == "f"]
    listed = {(r[1], r[2]) for r in list(book["办件明细"].iter_rows(values_only=True))[1:] if r[0] == "高红霞"}
    assert listed == {(COLUMNS[i], november[n]["number"]) for i, k in enumerate(COUNTS) for n in EXPECTED[k]}
    mine = [[c.value for c in r] for r in load_workbook(io.BytesIO(own.data))["工作考核"].iter_rows()]
    assert mine[1] == ["高红霞", "gaohongxia", "成安县民政局", *expected] and len(mine) == 2


def test_r_5_2_r_6_2_who_may_see_whose_assessment(desk, november):
    """R-5.2, R-6.2: a chief officer sees only the staff of the units they direct; a clerk only their own page."""
    system = desk.system
    with pytest.raises(Forbidden):
        assessment.report(system, desk.actor("liuhongtao"), *NOV, username="gaohongxia")  # CA-T02's chief officer
    with pytest.raises(Forbidden):
        assessment.report(system, desk.actor("liuhongtao"), *NOV, unit="CA-MZ")
    with pytest.raises(Forbidden):
        assessment.report(system, desk.actor("songli"), *NOV, username="gaohongxia")
    with pytest.raises(NotFound):
        assessment.report(system, desk.actor("wangxiuying"), *NOV, username="nobody")
    county = assessment.report(system, desk.actor("zhangwei"), *NOV, username="gaohongxia")  # the county's chief
    assert figures(county)["steps"].cell("gaohongxia", "done").count == 10
    own = assessment.report(system, desk.actor("gaohongxia"), *NOV, username="gaohongxia")
    assert figures(own)["ratings"].cell("gaohongxia", "good").count == 2
    with time_machine.travel(at(11, 28, 12), tick=False):
        township = client_as(desk, "liuhongtao")
        assert township.get("/assessment/staff/gaohongxia", query_string=QUERY).status_code == 403
        assert township.get("/assessment/staff/gaohongxia/export.xlsx", query_string=QUERY).status_code == 403
        assert township.get("/assessment", query_string={**QUERY, "unit": "CA-MZ"}).status_code == 403
        assert township.get("/assessment", query_string=QUERY).status_code == 200  # CA-T02's own staff
        clerk = client_as(desk, "songli")
        assert clerk.get("/assessment/staff/gaohongxia", query_string=QUERY).status_code == 403
        assert clerk.get("/assessment", query_string=QUERY).status_code == 403
        assert clerk.get("/assessment/staff/songli", query_string=QUERY).status_code == 200
        mine = clerk.get("/assessment/mine", query_string=QUERY)
        assert mine.status_code == 302 and "/assessment/staff/songli" in mine.headers["Location"]
        assert client_as(desk, "wangxiuying").get("/assessment/staff/nobody").status_code == 404


def test_r_5_2_the_api_gives_the_same_numbers_with_their_cases(desk, november):
    """GET /api/v1/assessment and /api/v1/assessment/staff/{username}: the hand-counted numbers with their case ids."""
    client = create_app(system=desk.system).test_client()
    with time_machine.travel(at(11, 28, 12), tick=False):
        def token(user):
            answer = client.post("/api/v1/auth/token", json={"username": user, "password": "demo1234"})
            return {"Authorization": f"Bearer {answer.json['token']}"}
        office, township = token("wangxiuying"), token("liuhongtao")
        unit = client.get("/api/v1/assessment", query_string={**QUERY, "unit": "CA-MZ"}, headers=office).json
        person = client.get("/api/v1/assessment/staff/gaohongxia", query_string=QUERY, headers=office).json
        refused = client.get("/api/v1/assessment/staff/gaohongxia", query_string=QUERY, headers=township)
        no_unit = client.get("/api/v1/assessment/staff/gaohongxia", query_string={**QUERY, "unit": "CA-MZ"},
                             headers=office)
    assert unit["period"] == {"start": "2025-11-01", "end": "2025-11-30"} and person["staff"] == "gaohongxia"
    gao = next(p for p in unit["people"] if p["username"] == "gaohongxia")
    for numbers in (gao["numbers"], unit["total"], person["people"][0]["numbers"]):
        for (key, part), names in EXPECTED.items():
            assert numbers[key][part] == {"count": COUNTS[(key, part)], "cases": list(ids(november, names))}
    assert {f["key"]: f["available"] for f in unit["figures"]}["handovers"] is True
    assert refused.status_code == 403 and no_unit.status_code == 422


def test_r_5_2_the_assessment_is_reached_from_the_quality_page_the_registry_and_the_navigation(desk, november):
    """R-5.2: 服务质量's staff and unit tables, the registry's staff list and unit page, and the navigation lead here."""
    with time_machine.travel(at(11, 28, 12), tick=False):
        client = client_as(desk, "wangxiuying")
        quality = html.fromstring(client.get("/quality", query_string={**QUERY, "trend": "week"}).get_data(as_text=True))
        [person] = quality.xpath('//table[@class="by-staff"]//a[text()="高红霞"]')
        assert person.get("href").startswith("/assessment/staff/gaohongxia?") and "start=2025-11-01" in person.get("href")
        [unit] = [a for a in quality.xpath('//table[@class="by-unit"]//a[text()="人员考核"]') if "CA-MZ" in a.get("href")]
        page = html.fromstring(client.get(unit.get("href")).get_data(as_text=True))
        assert page.xpath('//tr[@data-staff="gaohongxia"]/td[@data-column="steps-done"]')[0].text_content().strip() == "10"
        staff_list = html.fromstring(client.get("/admin/registry/staff").get_data(as_text=True))
        assert staff_list.xpath('//tr[@data-staff="gaohongxia"]//a[@href="/assessment/staff/gaohongxia"]')
        units = html.fromstring(client.get("/admin/registry/units").get_data(as_text=True))
        assert units.xpath('//tr[@data-unit="CA-MZ"]//a[@href="/assessment?unit=CA-MZ"]')
        assert quality.xpath('//nav[@class="mainnav"]//a[@href="/assessment" and text()="工作考核"]')
        clerk = html.fromstring(client_as(desk, "gaohongxia").get("/").get_data(as_text=True))
        assert clerk.xpath('//nav[@class="mainnav"]//a[@href="/assessment/mine" and text()="我的考核"]')
        assert not clerk.xpath('//nav[@class="mainnav"]//a[@href="/assessment"]')
