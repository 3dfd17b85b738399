"""Valid submissions for every form, so scenarios state only the decision that matters."""

from __future__ import annotations

from typing import Any

import pytest

HAND_OVER = {"handed_over_documents": ["审批决定书", "全部申请材料原件"], "all_handed_over": True}
ACK = {"acknowledged": True, "measures_taken": "已电话督促承办人立即处理，并记录在案。"}
# A wait on the applicant (forms/applicant_wait.json): the applicant came back; and its reminder.
RESUMED = {"applicant_response": "resumed"}
REMINDED = {"reminder_method": "phone", "applicant_reached": False, "reminder_note": "电话无人接听，已发短信提醒。"}
WAITS = ("materials_await", "entrustment_await", "receipt_await", "contact_await", "supply_await")

VALID: dict[str, dict[str, Any]] = {
    "record_consultation": {"question": "办理低保需要哪些材料？"},
    # A consultation that names a matter gives the catalog's notice (R-9.1.1.2); without one, add notice_text.
    "give_one_time_notice": {"notice_complete": True, "result": "已一次性告知"},
    "dispatch_work_order": {"dispatch_unit": "CA-MZ", "work_order_summary": "咨询低保政策细节，需民政局帮办员答复"},
    "contact_applicant": {"contacted": True, "contact_method": "phone", "contact_note": "已电话联系并约定到窗口办理"},
    "resolve_work_order": {"reply_to_applicant": "您好，已为您核实政策，请按告知单准备材料。", "work_order_result": "已解答"},
    "escalate_contact_breach": ACK,
    "guide_materials": {"guidance": "您好，请按一次性告知单准备材料。"},
    # Chosen from the matter's notice (R-9.1.3.3); this material is in 低保 (GR-002) and 高龄津贴 (GR-007).
    "list_missing_materials": {"missing_materials": ["本人社会保障卡或银行账户信息"]},
    "accompany_submission": {"submitted": True, "approval_department": "成安县民政局", "submission_date": "2025-10-10"},
    "track_approval": {"tracking_notes": "已与审批科室沟通，材料在审核中。"},
    "hand_over_results": HAND_OVER,
    "record_entrustment": {"entrustment_signed": True, "entrustment_number": "WT-2025-001", "entrustment_signed_date": "2025-10-09"},
    "submit_on_behalf": {"submitted": True, "approval_department": "成安县行政审批局", "submission_date": "2025-10-10"},
    "contact_for_correction": {"materials_to_correct": ["本人社会保障卡或银行账户信息"], "applicant_contacted": True,
                               "corrected_materials_received": True},
    "sign_completion_receipt": {"receipt_number": "BJ-2025-001"},
    "visit_applicant": {"visit_date": "2025-10-10", "visit_note": "已上门核验材料"},
    "complete_on_site": {"completed_on_site": True, "result_note": "当场办结"},
    "accept_with_deficiencies": {"accepted_with_deficiencies": True, "review_note": "主要材料齐全",
                                 "materials_to_supply": ["本人社会保障卡或银行账户信息"]},
    "complete_within_deadline": {"supplied_materials_received": True, "result_note": "已补齐并办结"},
    "escalate_deadline_breach": ACK,
    "make_callback": {**{f"score_{d}": 5 for d in ("attitude", "quality", "efficiency", "integrity", "standard",
                                                   "openness", "timeliness", "one_time_notice")}, "problems_found": "none"},
    "submit_explanation": {"written_explanation": "窗口人员解释不清，已批评教育。", "rectification_measures": "组织业务培训"},
    "submit_explanation_assistant": {"written_explanation": "窗口人员解释不清，已批评教育。", "rectification_measures": "组织业务培训"},
    "submit_explanation_proxy_agent": {"written_explanation": "窗口人员解释不清，已批评教育。", "rectification_measures": "组织业务培训"},
    "review_rectification": {"review_opinion": "整改到位"},
    "escalate_rectification_breach": ACK,
    "record_complaint": {"complaint_text": "窗口人员态度生硬"},
    "handle_complaint": {"investigation": "调取录像核实", "complaint_substantiated": True, "handling_result": "已约谈当事人"},
    "reply_to_complainant": {"reply_method": "phone", "reply_text": "您好，您反映的问题已核实处理，感谢监督。"},
    "escalate_complaint_breach": ACK,
    "handle_problem": {"problem_confirmed": True, "actions_taken": "已约谈当事人，退还礼品并通报批评。"},
    "handle_integrity_problem": {"problem_confirmed": True, "actions_taken": "已约谈当事人，退还礼品并通报批评。"},
    "receive_feedback": {"feedback_received": True},
    "escalate_handover_breach": ACK,
    **{wait: RESUMED for wait in WAITS},
    **{f"{wait}_reminder": REMINDED for wait in WAITS},
    "escalate_deadline_breach_county": ACK,
    "escalate_deadline_breach_office": ACK,
}


def valid(name: str, **decisions: Any) -> dict[str, Any]:
    return {**VALID[name], **decisions}


@pytest.fixture
def form():
    return valid
