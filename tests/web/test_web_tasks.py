"""Working on a task over the API: its form and notice, claiming, and submitting the form."""

from __future__ import annotations

from datetime import datetime, timedelta, timezone

import pytest
import time_machine
from webhelpers import API, VALID_DATA, complete, get_case, ready_task, start


@pytest.fixture
def guide(client, auth):
    """An enterprise assist case at the approval bureau (two assistants: lijianhua, guomin)."""
    case = start(client, auth, "lijianhua", "assist", matter_code="QY-001", applicant_type="enterprise")
    return case, ready_task(case, "guide_materials")


def completed_steps(case: dict) -> list[str]:
    return [h["element"] for h in case["history"] if h["action"] == "task_completed"]


def test_task_detail_has_the_form_schema_and_the_matters_one_time_notice(client, auth, guide):
    """R-5.4: the assistant sees the matter's complete one-time notice next to the form."""
    case, task = guide
    response = client.get(f"{API}/tasks/{task['id']}", headers=auth("guomin"))
    assert response.status_code == 200
    detail = response.get_json()
    assert detail["name"] == "guide_materials" and detail["case"]["id"] == case["id"]
    assert detail["form_name"] == "assist_guide_materials"
    assert detail["form"]["type"] == "object"
    assert {"guidance", "materials_complete"} <= set(detail["form"]["properties"])
    assert detail["form"]["required"] == ["guidance", "materials_complete"]
    assert detail["instructions"]
    assert detail["matter"]["code"] == "QY-001"
    notice = detail["notice"]
    assert notice["materials"] and all(m for m in notice["materials"])
    for part in ("conditions", "steps", "time_limit", "cautions"):
        assert notice.get(part), part


def test_unknown_task_is_404(client, auth):
    assert client.get(f"{API}/tasks/no-such-task", headers=auth("lijianhua")).status_code == 404
    response = client.post(f"{API}/tasks/no-such-task/complete", json={"data": {}}, headers=auth("lijianhua"))
    assert response.status_code == 404
    assert response.get_json()["message"]


def test_claimed_task_cannot_be_completed_by_a_colleague(client, auth, guide):
    case, task = guide
    claim = client.post(f"{API}/tasks/{task['id']}/claim", headers=auth("lijianhua"))
    assert claim.status_code == 200
    assert claim.get_json()["assignee"] == "lijianhua"
    mine = client.get(f"{API}/tasks", headers=auth("lijianhua")).get_json()["items"]
    assert task["id"] in {t["id"] for t in mine}

    response = complete(client, auth, task, user="guomin")
    assert response.status_code == 409
    assert "lijianhua" in response.get_json()["message"]
    assert client.post(f"{API}/tasks/{task['id']}/claim", headers=auth("guomin")).status_code == 409
    assert completed_steps(get_case(client, auth, case["id"])) == []
    assert complete(client, auth, task, user="lijianhua").status_code == 200


@pytest.mark.parametrize(("data", "fields"), [
    ({}, {"guidance", "materials_complete"}),
    ({"guidance": "", "materials_complete": True}, {"guidance"}),
    ({"guidance": "请带身份证", "materials_complete": "yes"}, {"materials_complete"}),
    ({"guidance": "请带身份证", "materials_complete": True, "bribe": 100}, {"bribe"}),
    ({"guidance": "x" * 2001, "materials_complete": True}, {"guidance"}),
])
def test_invalid_data_is_422_per_field_and_changes_nothing(client, auth, guide, data, fields):
    case, task = guide
    response = complete(client, auth, task, data, user="lijianhua")
    assert response.status_code == 422
    body = response.get_json()
    assert fields <= set(body["errors"]), body
    assert all(body["errors"][f] for f in fields)
    after = get_case(client, auth, case["id"])
    assert [t["id"] for t in after["tasks"]] == [task["id"]]
    assert after["tasks"][0]["status"] == "ready"
    assert completed_steps(after) == []
    assert after["status"] == "running"


@pytest.mark.parametrize("payload", [{"data": "text"}, {"data": [1]}, {}, {"data": {}, "extra": 1}])
def test_complete_body_of_the_wrong_shape_is_422(client, auth, guide, payload):
    _, task = guide
    response = client.post(f"{API}/tasks/{task['id']}/complete", json=payload, headers=auth("lijianhua"))
    assert response.status_code == 422
    assert response.get_json()["errors"]


def test_valid_data_completes_the_task_and_the_next_one_appears(client, auth, guide):
    """R-9.1.3.1–2: materials complete -> the assistant accompanies the submission."""
    case, task = guide
    response = complete(client, auth, task, user="lijianhua")
    assert response.status_code == 200, response.get_json()
    body = response.get_json()
    assert body["task"]["status"] == "completed" and body["task"]["completed_by"] == "lijianhua"
    assert [t["name"] for t in body["next_tasks"]] == ["accompany_submission"]
    after = get_case(client, auth, case["id"])
    assert [t["name"] for t in after["tasks"]] == ["accompany_submission"]
    assert completed_steps(after) == ["guide_materials"]
    completed = [h for h in after["history"] if h["action"] == "task_completed"][0]
    assert completed["actor"] == "lijianhua"
    assert completed["detail"]["data"] == VALID_DATA["assist_guide_materials"]
    assert [t["name"] for t in after["completed_tasks"]] == ["guide_materials"]


def test_completing_the_same_task_twice_is_409(client, auth, guide):
    case, task = guide
    assert complete(client, auth, task, user="lijianhua").status_code == 200
    again = complete(client, auth, task, user="lijianhua")
    assert again.status_code == 409
    assert again.get_json()["message"]
    assert completed_steps(get_case(client, auth, case["id"])) == ["guide_materials"]
    assert client.post(f"{API}/tasks/{task['id']}/claim", headers=auth("guomin")).status_code == 409


@pytest.mark.parametrize(("text", "phrase"), [
    ("这个事不归我管，问别人去", "不归我管"),
    ("别废话，把资料和证件拿过来", "别废话"),
    ("我不知道，你去问窗口", "我不知道"),
    ("快点，我要下班", "快点"),
])
def test_forbidden_phrase_in_applicant_text_is_refused_naming_the_phrase(client, auth, guide, text, phrase):
    """R-6.3.2: text staff write to the applicant must not use the forbidden phrases."""
    case, task = guide
    response = complete(client, auth, task, {"guidance": text, "materials_complete": True}, user="lijianhua")
    assert response.status_code == 422
    message = " ".join(response.get_json()["errors"]["guidance"])
    assert phrase in message and "6.3.2 服务禁忌语言" in message and "请改用文明用语" in message
    assert completed_steps(get_case(client, auth, case["id"])) == []


def test_forbidden_phrase_in_internal_notes_is_not_an_applicant_text(client, auth, guide):
    """Only fields marked x-applicant-text are checked: a tracking note may quote what someone said."""
    case, task = guide
    assert complete(client, auth, task, user="lijianhua").status_code == 200
    accompany = ready_task(get_case(client, auth, case["id"]), "accompany_submission")
    assert complete(client, auth, accompany, user="lijianhua").status_code == 200
    track = ready_task(get_case(client, auth, case["id"]), "track_approval")
    data = {**VALID_DATA["assist_track_approval"], "tracking_notes": "审批科室称“不归我管”，已向首席服务专员汇报。"}
    assert complete(client, auth, track, data, user="lijianhua").status_code == 200


def test_work_order_to_an_unknown_unit_is_refused(client, auth):
    case = start(client, auth, "zhaolina", "consultation", question="问一下")
    assert complete(client, auth, ready_task(case, "record_consultation"),
                    {"question": "问一下", "answerable": False}).status_code == 200
    dispatch = ready_task(get_case(client, auth, case["id"]), "dispatch_work_order")
    response = complete(client, auth, dispatch, {"dispatch_unit": "CA-XX", "work_order_summary": "摘要"})
    assert response.status_code == 422
    assert "CA-XX" in response.get_json()["errors"]["dispatch_unit"][0]


def test_contact_deadline_is_half_an_hour_and_an_overdue_task_comes_first(client, auth):
    """R-9.1.1.2: the assistant must contact the applicant within 30 minutes of the work order."""
    start_at = datetime(2025, 6, 3, 9, 0, tzinfo=timezone(timedelta(hours=8)))  # a Tuesday morning

    def work_order() -> dict:
        case = start(client, auth, "zhaolina", "consultation", question="问一下")
        assert complete(client, auth, ready_task(case, "record_consultation"),
                        {"question": "问一下", "answerable": False}).status_code == 200
        dispatch = ready_task(get_case(client, auth, case["id"]), "dispatch_work_order")
        assert complete(client, auth, dispatch, {"dispatch_unit": "CA-T01", "work_order_summary": "摘要"}).status_code == 200
        return ready_task(get_case(client, auth, case["id"]), "contact_applicant")

    with time_machine.travel(start_at, tick=False) as traveller:
        first = work_order()
        due = datetime.fromisoformat(first["due_at"])
        assert due - datetime.fromisoformat(first["created_at"]) == timedelta(minutes=30)
        traveller.shift(timedelta(minutes=20))
        second = work_order()
        inbox = client.get(f"{API}/tasks?scope=group", headers=auth("lina")).get_json()["items"]
        assert [t["id"] for t in inbox] == [first["id"], second["id"]]
        assert not any(t["overdue"] for t in inbox)
        traveller.shift(timedelta(minutes=15))  # 35 minutes after the first work order
        inbox = client.get(f"{API}/tasks?scope=group", headers=auth("lina")).get_json()["items"]
        assert [(t["id"], t["overdue"]) for t in inbox] == [(first["id"], True), (second["id"], False)]
