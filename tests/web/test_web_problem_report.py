"""问题上报 over the API (R-6.4.2): POST /tasks/<id>/report, its refusals, and the answer coming back."""

from __future__ import annotations

from webhelpers import API, complete, get_case, ready_task, start

PROBLEM = {"problem": "审批系统无法受理，申请人在窗口等候。", "urgency": "urgent", "needs": "请协调审批科"}


def guide_task(client, auth):
    case = start(client, auth, "lijianhua", "assist", matter_code="QY-001", applicant_type="enterprise")
    return case, ready_task(case, "guide_materials")


def report(client, auth, user, task_id, data):
    return client.post(f"{API}/tasks/{task_id}/report", json={"data": data}, headers=auth(user))


def test_r_6_4_2_report_over_the_api_reaches_the_chief_officer_and_the_answer_comes_back(client, auth):
    """R-6.4.2: 201 with the report case and its due time; the chief officer's group inbox has it; the answer
    lands in the reporter's own inbox and both show in the source case's history."""
    case, task = guide_task(client, auth)
    response = report(client, auth, "lijianhua", task["id"], PROBLEM)
    assert response.status_code == 201, response.get_json()
    body = response.get_json()
    assert body["number"].startswith("WT") and body["chief_unit"] == "CA" and body["due_at"]
    assert body["source_case"]["number"] == case["number"]
    chief = client.get(f"{API}/tasks?scope=group", headers=auth("zhangwei")).get_json()["items"]
    answer = next(t for t in chief if t["case_id"] == body["id"])
    assert answer["name"] == "answer_problem"
    done = client.post(f"{API}/tasks/{answer['id']}/complete", headers=auth("zhangwei"), json={"data": {
        "answer": "已协调审批科优先审核。", "actions_taken": "电话协调审批科"}})
    assert done.status_code == 200, done.get_json()
    mine = client.get(f"{API}/tasks?scope=mine", headers=auth("lijianhua")).get_json()["items"]
    read = next(t for t in mine if t["case_id"] == body["id"])
    assert read["name"] == "read_answer_assistant" and read["assignee"] == "lijianhua"
    # Another assistant of the same unit sees whose it is but cannot complete it.
    other = client.post(f"{API}/tasks/{read['id']}/complete", headers=auth("guomin"), json={"data": {"answer_read": True}})
    assert other.status_code == 409
    assert complete(client, auth, read, {"answer_read": True}, user="lijianhua").status_code == 200
    history = get_case(client, auth, case["id"], user="lijianhua")["history"]
    notes = [h["detail"] for h in history if h["action"] == "case_note"]
    assert [n["label"] for n in notes] == ["问题上报", "问题答复"] and "已协调审批科优先审核" in notes[1]["title"]


def test_r_6_4_2_bad_reports_are_refused_in_chinese_and_change_nothing(client, auth):
    """R-6.4.2, R-6.2: empty text 422 on the field; another unit's staff 403; a finished task 409; no task 404;
    a chief officer does not report to themselves (403); a report is not started on its own (403)."""
    case, task = guide_task(client, auth)
    empty = report(client, auth, "lijianhua", task["id"], {"problem": "", "urgency": "normal"})
    assert empty.status_code == 422 and empty.get_json()["errors"]["problem"] == ["请写明遇到的问题。"]
    bad_urgency = report(client, auth, "lijianhua", task["id"], {"problem": "系统故障", "urgency": "soon"})
    assert bad_urgency.status_code == 422 and "urgency" in bad_urgency.get_json()["errors"]
    stranger = report(client, auth, "gaohongxia", task["id"], PROBLEM)
    assert stranger.status_code == 403 and "不能办理这个任务" in stranger.get_json()["message"]
    assert report(client, auth, "zhangwei", task["id"], PROBLEM).status_code == 403
    assert report(client, auth, "lijianhua", "no-such-task", PROBLEM).status_code == 404
    assert client.post(f"{API}/tasks/{task['id']}/report", json=PROBLEM, headers=auth("lijianhua")).status_code == 422
    direct = client.post(f"{API}/cases", headers=auth("zhangwei"), json={"process": "problem_report", "data": {
        "applicant_name": "王芳", "applicant_phone": "13812345678", "applicant_type": "personal", "channel": "walk_in",
        **PROBLEM}})
    assert direct.status_code == 403
    assert complete(client, auth, task, {"guidance": "您好，请按一次性告知单准备材料。", "materials_complete": True},
                    user="lijianhua").status_code == 200
    finished = report(client, auth, "lijianhua", task["id"], PROBLEM)
    assert finished.status_code == 409 and "不能再就它上报问题" in finished.get_json()["message"]
    links = get_case(client, auth, case["id"])["linked_cases"]
    assert [link for link in links if link["relation"] == "problem_report"] == []


def test_the_openapi_document_describes_the_report(client):
    """The report's data is the problem report's start form; every status it answers is documented."""
    doc = client.get(f"{API}/openapi.json").get_json()
    operation = doc["paths"]["/tasks/{task_id}/report"]["post"]
    assert {"201", "401", "403", "404", "409", "422"} <= set(operation["responses"])
    data = doc["components"]["schemas"]["ReportProblemRequest"]["properties"]["data"]
    assert data == {"$ref": "#/components/schemas/StartData.problem_report_start"}
    start_form = doc["components"]["schemas"]["StartData.problem_report_start"]
    assert start_form["required"] == ["problem", "urgency"]
