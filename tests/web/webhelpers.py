"""Helpers shared by the web tests (plain functions; the fixtures are in conftest.py)."""

from __future__ import annotations

import json
from datetime import date
from typing import Any

from bdd_workflow.config import PROJECT_ROOT

PASSWORD = "demo1234"  # the demo password, as in tests/conftest.py
API = "/api/v1"
FORMS_DIR = PROJECT_ROOT / "forms"
PROCESSES_DIR = PROJECT_ROOT / "processes"
CATALOG = json.loads((PROJECT_ROOT / "bdd_workflow" / "demo" / "catalog.json").read_text(encoding="utf-8"))
SHIPPED_PROCESSES = {"assist", "callback", "complaint", "consultation", "onsite", "proxy", "rectification", "problem_report",
                     "handover"}

BASE_APPLICANT = {"applicant_name": "王芳", "applicant_phone": "13812345678", "applicant_type": "personal",
                  "channel": "walk_in"}


def login(client, username: str, password: str = PASSWORD):
    return client.post(f"{API}/auth/token", json={"username": username, "password": password})


def staff_of(role: str, unit: str | None) -> str:
    """A demo staff member of ``role`` in ``unit``, or in the nearest unit above it."""
    parents = {u["code"]: u.get("parent") for u in CATALOG["units"]}
    code = unit
    while True:
        for person in CATALOG["staff"]:
            if person["role"] == role and (code is None or person.get("unit") == code):
                return person["username"]
        if code is None or parents.get(code) is None:
            raise LookupError(f"no {role} at or above {unit}")
        code = parents[code]


def start_body(process: str, **data: Any) -> dict[str, Any]:
    return {"process": process, "data": {**BASE_APPLICANT, **data}}


def read_process(name: str) -> bytes:
    return (PROCESSES_DIR / name).read_bytes()


def upload(data: bytes, filename: str) -> dict[str, Any]:
    import io

    return {"file": (io.BytesIO(data), filename)}


TODAY = date.today().isoformat()

# Valid submissions for every form of forms/, keyed by form name; ``choices`` override gateway variables.
VALID_DATA: dict[str, dict[str, Any]] = {
    "assist_guide_materials": {"guidance": "请携带户口簿、身份证和收入证明原件。", "materials_complete": True},
    "assist_list_missing_materials": {
        "missing_materials": ["本人社会保障卡或银行账户信息"], "convert_to_proxy": False},
    "assist_accompany_submission": {"submitted": True, "approval_department": "成安县民政局", "submission_date": TODAY},
    "assist_track_approval": {"tracking_notes": "已与审批科室沟通，审批已通过。", "applicant_informed": True,
                              "approval_result": "准予办理"},
    "assist_hand_over_results": {"handed_over_documents": ["审批决定书"], "all_handed_over": True},
    "proxy_record_entrustment": {"entrustment_signed": True, "entrustment_number": "WT-2025-001",
                                 "entrustment_signed_date": TODAY},
    "proxy_submit_on_behalf": {"submitted": True, "approval_department": "成安县民政局", "submission_date": TODAY},
    "proxy_track_approval": {"tracking_notes": "审批已办结。", "needs_correction": False},
    "proxy_contact_for_correction": {"materials_to_correct": ["本人社会保障卡或银行账户信息"], "applicant_contacted": True,
                                     "corrected_materials_received": True},
    "proxy_accept_relay": {"relay_accepted": True, "handover_note": "已接收全部材料。"},  # proxy version 1's relay
    "proxy_hand_over_results": {"handed_over_documents": ["审批决定书"], "all_handed_over": True},
    "proxy_sign_completion_receipt": {"receipt_signed": True, "receipt_number": "BJ-001"},
    "onsite_visit_applicant": {"visit_date": TODAY, "visit_note": "已上门核对材料。", "materials_complete": True,
                               "fixable_on_site": False},
    "onsite_apply": {"address": "成安县成安镇北关村 8 号"},
    "consultation_start": {"question": "低保怎么申请？"},
    "complaint_start": {"complaint_text": "窗口人员态度不好。"},
    "onsite_complete_on_site": {"completed_on_site": True, "result_note": "当场办结。"},
    "onsite_accept_with_deficiencies": {
        "accepted_with_deficiencies": True, "review_note": "先行受理。",
        "materials_to_supply": ["本人社会保障卡或银行账户信息"]},
    "onsite_complete_within_deadline": {"supplied_materials_received": True, "result_note": "已办结。"},
    "onsite_hand_over_results": {"handed_over_documents": ["审批决定书"], "all_handed_over": True},
    "callback_make_callback": {**{f"score_{k}": 5 for k in (
        "attitude", "quality", "efficiency", "integrity", "standard", "openness", "timeliness", "one_time_notice")},
        "satisfaction": "very_satisfied", "problems_found": "none"},
    "consultation_record": {"question": "低保怎么申请？", "answerable": True},
    "consultation_one_time_notice": {"notice_text": "请携带户口簿、身份证到民政局窗口申请。", "notice_complete": True,
                                     "result": "已一次性告知"},
    "consultation_dispatch_work_order": {"dispatch_unit": "CA-MZ", "work_order_summary": "咨询低保政策细节"},
    "consultation_contact_applicant": {"contacted": True, "contact_method": "phone", "contact_note": "已电话联系。"},
    "consultation_resolve_work_order": {"reply_to_applicant": "您的问题已答复，请按告知准备材料。",
                                        "work_order_result": "已解答"},
    "complaint_record": {"complaint_text": "窗口人员态度不好。"},
    "complaint_handle": {"investigation": "已调查核实。", "complaint_substantiated": True,
                         "handling_result": "已批评教育相关人员。"},
    "complaint_reply": {"reply_method": "phone", "reply_text": "您反映的问题已核实处理，感谢您的监督。"},
    "rectification_submit_explanation": {"written_explanation": "情况说明。", "rectification_measures": "加强培训。"},
    "rectification_review": {"accepted": True, "review_opinion": "整改到位。"},
    "problem_report_start": {"problem": "审批系统无法受理。", "urgency": "normal", "needs": "请协调审批科"},
    "problem_report_answer": {"answer": "已协调审批科优先审核。", "actions_taken": "电话协调审批科"},
    "problem_report_read_answer": {"answer_read": True},
    "handover_handle": {"problem_confirmed": True, "actions_taken": "已约谈当事人并通报批评。"},
    "handover_feedback": {"feedback_received": True},
    **{name: {"acknowledged": True, "measures_taken": "已督促承办人员当日办结。"} for name in (
        "onsite_escalate_deadline_breach", "consultation_escalate_contact_breach", "complaint_escalate_breach",
        "rectification_escalate_breach", "problem_report_escalate_breach", "handover_escalate_breach",
        "case_escalate_deadline_breach")},
    "applicant_wait": {"applicant_response": "resumed"},
    "applicant_reminder": {"reminder_method": "phone", "applicant_reached": True, "reminder_note": "已电话提醒。"},
}


def get_case(client, auth, case_id: int, user: str = "zhangwei") -> dict[str, Any]:
    response = client.get(f"{API}/cases/{case_id}", headers=auth(user))
    assert response.status_code == 200, response.get_json()
    return response.get_json()


def start(client, auth, user: str, process: str, **data: Any) -> dict[str, Any]:
    response = client.post(f"{API}/cases", json=start_body(process, **data), headers=auth(user))
    assert response.status_code == 201, response.get_json()
    return response.get_json()


def ready_task(case: dict[str, Any], name: str) -> dict[str, Any]:
    matches = [t for t in case["tasks"] if t["name"] == name]
    assert matches, f"{name} is not ready; ready: {[t['name'] for t in case['tasks']]}"
    return matches[0]


def data_for(task: dict[str, Any], **override: Any) -> dict[str, Any]:
    return {**VALID_DATA[task["form"]], **override}


# A 1x1 PNG, what a drawn signature is stored as.
SIGNATURE_PNG = bytes.fromhex(
    "89504e470d0a1a0a0000000d4948445200000001000000010806000000"
    "1f15c4890000000d49444154789c6360f8cfc0f01f0005000200ff9a5d6d0a0000000049454e44ae426082")


def sign(client, auth, task: dict[str, Any], user: str):
    """Upload the applicant's signature for a task, as staff do before the entrustment or the receipt."""
    import io

    return client.post(f"{API}/cases/{task['case_id']}/attachments", headers=auth(user),
                       data={"kind": "signature", "task_id": task["id"],
                             "file": (io.BytesIO(SIGNATURE_PNG), "signature.png", "image/png")},
                       content_type="multipart/form-data")


def complete(client, auth, task: dict[str, Any], data: dict[str, Any] | None = None, user: str | None = None,
             signed: bool = True):
    """Submit a task's form as ``user`` (default: a staff member of the task's role and unit); a form that
    needs the applicant's signature (x-signature) gets one uploaded first unless ``signed`` is False."""
    user = user or staff_of(task["role"], task["unit"])
    payload = data if data is not None else data_for(task)
    if signed:
        detail = client.get(f"{API}/tasks/{task['id']}", headers=auth(user))
        if detail.status_code == 200 and (detail.get_json().get("form") or {}).get("x-signature"):
            assert sign(client, auth, task, user).status_code == 201
    return client.post(f"{API}/tasks/{task['id']}/complete", json={"data": payload}, headers=auth(user))
