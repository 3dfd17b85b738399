"""问题交办 and complaints on the staff pages (R-10.1, R-4.c): the callback form lists the problems found, each is
handed over and shown on the case page, the quality page counts open handovers and upheld complaints."""

from __future__ import annotations

from lxml import html as lxml_html
from sqlalchemy import func, select

from bdd_workflow.db.models import Case

from tests.processes.conftest import valid as form
from tests.web_pages.conftest import csrf_token_of

SCORES = {f"score_{d}": "5" for d in ("attitude", "quality", "efficiency", "integrity", "standard", "openness",
                                       "timeliness", "one_time_notice")}


def page(response):
    return lxml_html.fromstring(response.get_data(as_text=True))


def complaints(desk) -> int:
    with desk.system.db.unit_of_work(write=False) as session:
        return session.scalar(select(func.count()).select_from(Case).where(Case.process_id == "complaint"))


def served_callback(desk):
    case = desk.start("assist", by="gaohongxia", matter_code="GR-002")
    for name, data in (("guide_materials", form("guide_materials", materials_complete=True)),
                       ("accompany_submission", form("accompany_submission")),
                       ("track_approval", form("track_approval", applicant_informed=True, approval_result="准予")),
                       ("hand_over_results", form("hand_over_results"))):
        desk.do(case["id"], name, data)
    return case, desk.linked(case["id"], "callback")


def test_r_10_1_the_callback_page_hands_over_a_gift_and_the_case_page_shows_it(client, login, desk):
    """R-10.1: "发现问题" with no problem listed is refused beside the list; a 廉洁自律 problem listed on the page
    becomes a handover shown on the service case's page, with the problem in its history."""
    case, callback = served_callback(desk)
    task = desk.task(callback["id"], "make_callback")
    login("zhaolina")
    shown = client.get(f"/tasks/{task.id}")
    assert 'name="problems.0.category"' in shown.get_data(as_text=True)
    token = csrf_token_of(shown.get_data(as_text=True))
    base = {"csrf_token": token, **SCORES, "satisfaction": "satisfied"}
    refused = client.post(f"/tasks/{task.id}", data={**base, "problems_found": "found"})
    assert refused.status_code == 422
    assert "发现了问题，请逐条列出。" in refused.get_data(as_text=True)
    done = client.post(f"/tasks/{task.id}", data={**base, "problems_found": "found", "problems.0.category": "integrity",
                                                  "problems.0.description": "办事员收了服务对象礼品"},
                       follow_redirects=True)
    assert done.status_code == 200 and "已启动问题交办办件" in done.get_data(as_text=True)
    login("wangxiuying")
    case_page = client.get(f"/cases/{case['id']}").get_data(as_text=True)
    assert "问题交办" in case_page and "回访发现廉洁自律问题，已交办处理：办事员收了服务对象礼品" in case_page
    handover = desk.linked(case["id"], "handover")
    assert handover["number"] in case_page
    callback_page = client.get(f"/cases/{callback['id']}")
    assert callback_page.status_code == 200 and handover["number"] in callback_page.get_data(as_text=True)
    assert "办事员收了服务对象礼品" in callback_page.get_data(as_text=True)


def test_r_10_1_r_5_2_the_quality_page_counts_open_handovers_and_upheld_complaints(client, login, desk):
    """R-10.1 R-5.2: 民政局's row shows one open handover and one upheld complaint of one decided."""
    case, callback = served_callback(desk)
    desk.do(callback["id"], "make_callback", form("make_callback", satisfaction="satisfied", problems_found="found",
                                                  problems=[{"category": "attitude", "description": "态度生硬"}]))
    complaint = desk.start("complaint", by="zhaolina", channel="phone", complaint_text="态度生硬",
                           about_case_number=case["number"], about_staff="gaohongxia")
    desk.do(complaint["id"], "record_complaint", form("record_complaint"))
    desk.do(complaint["id"], "handle_complaint", form("handle_complaint"), by="zhangwei")
    login("wangxiuying")
    shown = page(client.get("/quality?staff=1"))
    row = shown.xpath('//table[contains(@class, "by-unit")]//tr[td/a[contains(., "民政局")]]')[0]
    assert row.xpath('string(td[@class="complaints"])').strip() == "1 / 1"
    assert row.xpath('string(td[@class="handovers"])').strip() == "1 / 0"
    her = shown.xpath('//table[contains(@class, "by-staff")]//tr[td[1][contains(., "高红霞")]]')[0]
    assert her.xpath('string(td[@class="complaints"])').strip() == "1 / 1"


def test_r_4_c_the_intake_desk_refuses_an_unknown_case_number_beside_its_field(client, login, desk):
    """R-4.c: a complaint taken at the intake desk naming case BB20990101999999 is refused with the error beside
    that field and nothing started; naming a real case and a staff member from the list, it reaches the chief
    officer who directs that case's unit."""
    case = desk.start("assist", by="luxuemei", matter_code="GR-007")  # 东关社区, directed by 成安镇
    login("zhaolina")
    shown = client.get("/intake")
    intake = page(shown)
    assert intake.xpath('//input[@name="about_case_number"]') and intake.xpath('//select[@name="about_staff"]')
    fields = {"csrf_token": csrf_token_of(shown.get_data(as_text=True)), "process": "complaint",
              "applicant_name": "赵先生", "applicant_phone": "13812345678", "applicant_type": "personal",
              "channel": "phone", "complaint_text": "窗口人员态度生硬"}
    refused = client.post("/intake", data={**fields, "about_case_number": "BB20990101999999"})
    assert refused.status_code == 422
    box = page(refused).xpath('//*[@data-field="about_case_number"]')[0]
    assert "没有编号为 BB20990101999999 的办件" in box.text_content()
    assert complaints(desk) == 0
    started = client.post("/intake", data={**fields, "about_case_number": case["number"], "about_staff": "luxuemei"})
    assert started.status_code == 302
    complaint_id = int(started.headers["Location"].rsplit("/", 1)[1])
    desk.do(complaint_id, "record_complaint", form("record_complaint"))
    task = desk.task(complaint_id, "handle_complaint")
    assert (task.role, task.unit_code) == ("chief_officer", "CA-T01")
