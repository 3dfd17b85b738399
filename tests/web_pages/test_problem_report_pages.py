"""问题上报 on the task page (R-6.4.2): the form beside the task's own, errors beside the field, the report going
to the chief officer, the answer shown on the reporter's task and in the source case's history."""

from __future__ import annotations

from lxml import html as lxml_html

from bdd_workflow.services import problems


def page(response):
    return lxml_html.fromstring(response.get_data(as_text=True))


def report_csrf(response) -> str:
    return page(response).xpath('//form[@data-report-form]//input[@name="csrf_token"]/@value')[0]


def test_r_6_4_2_staff_report_a_problem_from_the_task_page_and_read_the_answer(client, login, desk):
    """R-6.4.2: an empty problem is refused beside its field and starts nothing; a filled one goes to the chief
    officer, whose answer appears on the reporter's task and in the source case's history."""
    case = desk.start("assist", by="gaohongxia", matter_code="GR-002")
    task = desk.task(case["id"], "guide_materials")
    login("gaohongxia")
    shown = client.get(f"/tasks/{task.id}")
    assert "向首席服务专员报告问题" in shown.get_data(as_text=True)

    refused = client.post(f"/tasks/{task.id}/report", data={"csrf_token": report_csrf(shown), "problem": " ",
                                                            "urgency": "normal"})
    assert refused.status_code == 422
    errors = page(refused).xpath('//form[@data-report-form]//*[contains(@class, "field-error")]//text()')
    assert "请写明遇到的问题。" in " ".join(errors)
    assert [c for c in desk.case(case["id"])["linked_cases"] if c["relation"] == "problem_report"] == []

    sent = client.post(f"/tasks/{task.id}/report", data={"csrf_token": report_csrf(shown),
                                                         "problem": "低保系统无法录入收入证明。", "urgency": "urgent"},
                       follow_redirects=True)
    assert sent.status_code == 200
    assert "已向成安县政务服务中心的首席服务专员报告问题" in sent.get_data(as_text=True)
    report_case = desk.linked(case["id"], "problem_report")

    login("zhangwei")
    answer = desk.task(report_case["id"], "answer_problem")
    chief_page = client.get(f"/tasks/{answer.id}").get_data(as_text=True)
    assert "低保系统无法录入收入证明。" in chief_page and "紧急" in chief_page
    assert "向首席服务专员报告问题" not in chief_page  # chief officers direct; they do not report
    desk.do(report_case["id"], "answer_problem", {"answer": "请先纸质收件，明日系统恢复后补录。",
                                                  "actions_taken": "已通知民政局信息科修复"}, by="zhangwei")

    login("gaohongxia")
    inbox = client.get("/").get_data(as_text=True)
    assert "阅知问题答复" in inbox
    read = desk.task(report_case["id"], "read_answer_assistant")
    read_page = client.get(f"/tasks/{read.id}").get_data(as_text=True)
    assert "请先纸质收件，明日系统恢复后补录。" in read_page
    history = client.get(f"/cases/{case['id']}").get_data(as_text=True)
    assert "问题上报" in history and "低保系统无法录入收入证明。" in history
    assert "问题答复" in history and "请先纸质收件，明日系统恢复后补录。" in history


def test_r_6_4_2_the_report_form_is_offered_only_to_whoever_may_work_the_task(client, login, desk):
    """R-6.2: someone who may not work the task neither sees the form nor gets through by posting."""
    case = desk.start("assist", by="gaohongxia", matter_code="GR-002")
    task = desk.task(case["id"], "guide_materials")
    login("xuzhiqiang")  # a proxy agent of the same unit: sees the case, does not work this task
    shown = client.get(f"/tasks/{task.id}")
    assert "向首席服务专员报告问题" not in shown.get_data(as_text=True)
    token = page(shown).xpath('//input[@name="csrf_token"]/@value')[0]
    refused = client.post(f"/tasks/{task.id}/report", data={"csrf_token": token, "problem": "x", "urgency": "normal"})
    assert refused.status_code == 403 and "不能办理这个任务" in refused.get_data(as_text=True)
    assert problems.PROCESS not in [c["process"] for c in desk.case(case["id"])["linked_cases"]]
