"""R-6.2: staff see and act only on the cases and tasks of their own unit (and the units below it)."""

from __future__ import annotations

from webhelpers import API, complete, get_case, ready_task, start, staff_of


def township_work_order(client, auth, township: str = "CA-T01") -> tuple[dict, dict]:
    """A consultation whose work order the consultation centre dispatches to a township's assistants."""
    case = start(client, auth, "zhaolina", "consultation", channel="phone", question="村里养老保险怎么交？")
    record = ready_task(case, "record_consultation")
    assert complete(client, auth, record, {"question": "村里养老保险怎么交？", "answerable": False}).status_code == 200
    dispatch = ready_task(get_case(client, auth, case["id"]), "dispatch_work_order")
    response = complete(client, auth, dispatch, {"dispatch_unit": township, "work_order_summary": "养老保险缴费咨询"})
    assert response.status_code == 200, response.get_json()
    case = get_case(client, auth, case["id"])
    contact = ready_task(case, "contact_applicant")
    assert (contact["role"], contact["unit"]) == ("assistant", township)
    return case, contact


def visible_ids(client, auth, user: str) -> set[int]:
    response = client.get(f"{API}/cases?per_page=200", headers=auth(user))
    assert response.status_code == 200
    return {c["id"] for c in response.get_json()["items"]}


def test_a_township_case_is_hidden_from_another_townships_assistant(client, auth):
    case, _ = township_work_order(client, auth, "CA-T01")
    lina, zhaomin = "lina", "zhaomin"  # assistants of CA-T01 and CA-T02
    assert staff_of("assistant", "CA-T02") == zhaomin

    assert client.get(f"{API}/cases/{case['id']}", headers=auth(lina)).status_code == 200
    assert case["id"] in visible_ids(client, auth, lina)

    response = client.get(f"{API}/cases/{case['id']}", headers=auth(zhaomin))
    assert response.status_code == 404
    assert "不存在，或不在您可查看的范围内" in response.get_json()["message"]  # absent and not yours alike
    assert case["id"] not in visible_ids(client, auth, zhaomin)


def test_the_county_chief_officer_sees_every_case(client, auth):
    case, _ = township_work_order(client, auth, "CA-T01")
    assert client.get(f"{API}/cases/{case['id']}", headers=auth("zhangwei")).status_code == 200
    assert case["id"] in visible_ids(client, auth, "zhangwei")
    assert case["id"] in visible_ids(client, auth, "wangxiuying")  # the office supervises every case


def test_a_village_assistant_does_not_see_the_township_case_above_them(client, auth):
    case, _ = township_work_order(client, auth, "CA-T01")
    assert client.get(f"{API}/cases/{case['id']}", headers=auth("luxuemei")).status_code == 404  # CA-T01-V01


def test_group_inbox_lists_the_task_for_the_right_units_assistant_only(client, auth):
    case, contact = township_work_order(client, auth, "CA-T01")
    mine = client.get(f"{API}/tasks?scope=group", headers=auth("lina")).get_json()["items"]
    listed = [t for t in mine if t["id"] == contact["id"]]
    assert len(listed) == 1
    task = listed[0]
    assert task["role"] == "assistant" and task["unit"] == "CA-T01" and task["case_id"] == case["id"]
    assert task["due_at"] and task["due_at"].endswith("+08:00")  # R-9.1.1.2: contact within half an hour
    assert task["overdue"] is False

    others = client.get(f"{API}/tasks?scope=group", headers=auth("zhaomin")).get_json()["items"]
    assert contact["id"] not in {t["id"] for t in others}
    # a different role in the same unit does not get it either
    agents = client.get(f"{API}/tasks?scope=group", headers=auth("zhanglei")).get_json()["items"]
    assert contact["id"] not in {t["id"] for t in agents}


def test_another_units_assistant_cannot_read_claim_or_complete_the_task(client, auth):
    case, contact = township_work_order(client, auth, "CA-T01")
    assert client.get(f"{API}/tasks/{contact['id']}", headers=auth("zhaomin")).status_code == 404
    assert client.post(f"{API}/tasks/{contact['id']}/claim", headers=auth("zhaomin")).status_code == 404
    response = complete(client, auth, contact, user="zhaomin")
    assert response.status_code == 404
    assert response.get_json()["message"]
    after = get_case(client, auth, case["id"])
    assert ready_task(after, "contact_applicant")["id"] == contact["id"]
    assert "contact_applicant" not in [h["element"] for h in after["history"] if h["action"] == "task_completed"]
    # the right assistant can
    assert complete(client, auth, contact, user="lina").status_code == 200


def test_a_case_started_in_a_township_is_visible_there_and_in_the_handling_department(client, auth):
    """An assist case recorded at CA-T01 for a county 人社局 matter (R-3.3: no township offers 失业保险金):
    the township and CA-RS see it, CA-T02 does not."""
    case = start(client, auth, "lina", "assist", matter_code="GR-010")
    assert case["unit"] == "CA-RS"
    assert client.get(f"{API}/cases/{case['id']}", headers=auth("lina")).status_code == 200
    assert client.get(f"{API}/cases/{case['id']}", headers=auth("songli")).status_code == 200
    assert client.get(f"{API}/cases/{case['id']}", headers=auth("zhaomin")).status_code == 404
    assert client.get(f"{API}/cases/{case['id']}", headers=auth("lijianhua")).status_code == 404
    # the township assistant sees the case but may not do the department's task
    task = ready_task(case, "guide_materials")
    assert complete(client, auth, task, user="lina").status_code == 403
    assert complete(client, auth, task, user="pengtao").status_code == 403  # CA-RS, but a proxy agent


def test_a_chief_officer_cannot_do_an_assistants_task(client, auth):
    case = start(client, auth, "gaohongxia", "assist", matter_code="GR-002")
    response = complete(client, auth, ready_task(case, "guide_materials"), user="zhangwei")
    assert response.status_code == 403


def test_a_township_chief_officers_group_inbox_lists_only_tasks_they_may_do(client, auth):
    """A complaint naming no case or staff member goes to the chief officer directing the consultation centre
    that recorded it, the county's; the chief officer of 商城镇 (CA-T02) may not even see it (404), so it must not
    sit in their group inbox either."""
    case = start(client, auth, "zhaolina", "complaint", channel="phone", complaint_text="窗口人员态度不好")
    assert complete(client, auth, ready_task(case, "record_complaint")).status_code == 200
    handle = ready_task(get_case(client, auth, case["id"]), "handle_complaint")
    assert (handle["role"], handle["unit"]) == ("chief_officer", "CA")

    county = client.get(f"{API}/tasks?scope=group", headers=auth("zhangwei")).get_json()["items"]
    assert handle["id"] in {t["id"] for t in county}

    assert complete(client, auth, handle, user="liuhongtao").status_code == 404
    township = client.get(f"{API}/tasks?scope=group", headers=auth("liuhongtao")).get_json()
    assert handle["id"] not in {t["id"] for t in township["items"]}, township
