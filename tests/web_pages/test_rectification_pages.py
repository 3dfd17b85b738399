"""差评整改 and 一事一评 on the staff pages (R-10.2, R-7.2.1): the handling unit's assistant opens and submits the
explanation from the task page (no 403), the callback page shows an earlier rating, the explanation prints, and
the quality dashboard lists the open rectification."""

from __future__ import annotations

from lxml import html as lxml_html

from bdd_workflow.services import evaluations

PHONE = "13812345678"


def completed_assist(desk):
    case = desk.start("assist", by="gaohongxia", matter_code="GR-002")
    desk.do(case["id"], "guide_materials", {"guidance": "您好，请按一次性告知单准备材料。", "materials_complete": True})
    desk.do(case["id"], "accompany_submission", {"submitted": True, "approval_department": "成安县民政局",
                                                 "submission_date": "2025-10-10"})
    desk.do(case["id"], "track_approval", {"tracking_notes": "已与审批科室沟通。", "applicant_informed": True,
                                           "approval_result": "准予"})
    desk.do(case["id"], "hand_over_results", {"handed_over_documents": ["审批决定书"], "all_handed_over": True})
    return case


def test_r_10_2_the_unit_s_assistant_writes_the_explanation_from_the_task_page(client, login, csrf, desk, system):
    """R-10.2 R-6.2: 民政局's assistant sees the rating on the task and submits; the printed explanation shows it;
    the county chief officer may look but has no form to submit; the dashboard lists the rectification."""
    case = completed_assist(desk)
    evaluations.rate(system, case["number"], PHONE, "very_dissatisfied", "排队太久", "online", "applicant")
    (link,) = [c for c in desk.case(case["id"])["linked_cases"] if c["relation"] == "rectification"]
    task = desk.task(link["id"], "submit_explanation_assistant")

    login("zhangwei")
    looked = client.get(f"/tasks/{task.id}")
    assert looked.status_code == 200 and "您可以查看，不能提交" in looked.get_data(as_text=True)

    login("gaohongxia")
    shown = client.get(f"/tasks/{task.id}")
    assert shown.status_code == 200
    token = csrf(client, f"/tasks/{task.id}")
    card = lxml_html.fromstring(shown.get_data(as_text=True)).xpath('//section[@id="rating"]')[0].text_content()
    assert "非常不满意" in card and "网上评价" in card and "排队太久" in card
    done = client.post(f"/tasks/{task.id}", data={"csrf_token": token,
                                                  "written_explanation": "高峰时段窗口人手不足。",
                                                  "rectification_measures": "增设高峰时段引导员。"})
    assert done.status_code == 302
    paper = client.get(f"/documents/cases/{link['id']}/rectification")
    text = paper.get_data(as_text=True)
    assert paper.status_code == 200 and "差评整改书面情况说明" in text
    assert "高峰时段窗口人手不足。" in text and "待政务服务中心办公室审核" in text and case["number"] in text

    login("songli")  # 人社局's assistant: not their unit's case (R-6.2)
    assert client.get(f"/documents/cases/{link['id']}/rectification").status_code == 404

    login("wangxiuying")
    quality = lxml_html.fromstring(client.get("/quality").get_data(as_text=True))
    rows = quality.xpath('//table[@class="rectifications"]/tbody/tr')
    assert [(r.get("data-unit"), r.xpath('./td[@class="open"]')[0].text_content()) for r in rows] == [("CA-MZ", "1")]


def test_r_10_1_the_callback_page_says_the_case_was_already_rated(client, login, desk, system):
    """R-10.1 R-7.2.1: rated at the window first, the consultant's callback page shows that rating and says the
    callback's grades are kept as its opinion only."""
    case = completed_assist(desk)
    evaluations.rate(system, case["number"], "", "satisfied", None, "window", "gaohongxia")
    callback = desk.linked(case["id"], "callback")
    task = desk.task(callback["id"], "make_callback")
    login("zhaolina")
    desk_page = lxml_html.fromstring(client.get("/callbacks").get_data(as_text=True))
    [row] = [r for r in desk_page.xpath("//tbody/tr") if case["number"] in r.text_content()]
    assert "已评价 窗口评价器：满意" in " ".join(row.xpath('.//*[contains(@class, "already-rated")]')[0].text_content().split())
    text = client.get(f"/tasks/{task.id}").get_data(as_text=True)
    assert "窗口评价器" in text and "作为回访意见存档，不再计入满意率，也不再启动整改" in text
