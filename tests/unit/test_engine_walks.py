"""Every procedure walked through the engine alone (parser + runner + serializer, no database).

Each walk runs twice, as SpiffWorkflow's own tests do: plainly, and with the case saved
(Serializer.dump_state) and restored (load_state, on a spec read back from dump_spec) between
every step. Both must show the same ready tasks at every step and end the same way.
"""

from __future__ import annotations

from datetime import datetime, timedelta, timezone

import pytest

from bdd_workflow.clock import FixedClock
from bdd_workflow.errors import TaskNotReady
from bdd_workflow.roles import ASSISTANT, CHIEF_OFFICER, CONSULTANT, PROXY_AGENT, SUPERVISOR

from .support import CALENDAR, UNITS_BY_KIND, Walk

CALLBACK = {"operation": "start_case", "process": "callback", "relation": "callback"}
TO_PROXY = {"operation": "start_case", "process": "proxy", "relation": "converted_to_proxy"}
SERVICE_CASE = "BB20251103000001"
RECTIFY = {"operation": "start_case", "process": "rectification", "relation": "rectification", "about": SERVICE_CASE}
# A rectification as a bad rating starts it: about an assist case of 民政局, which has no chief officer.
RATED_ASSIST = {"source_case_id": SERVICE_CASE, "source_process": "assist"}
STARTS = {"rectification": RATED_ASSIST}  # what a process's start carries beyond CASE_DATA
WRITER, ESCALATE = "submit_explanation_assistant", "escalate_rectification_breach"
# R-4.c: a complaint's finding, kept for the unit and staff member it is about (here: neither named).
FINDING = {"operation": "record_complaint_finding", "upheld": True, "about_case": None, "unit": None, "staff": None}
# 问题交办: one linked case per problem the callback found, linked from the service case.
HAND_OVER_NONE = {"operation": "start_case", "process": "handover", "relation": "handover", "link_from": "source",
                  "items": []}
PROBLEM = {"problem_category": "integrity", "problem_title": "廉洁自律", "problem_description": "办事员收了服务对象礼品"}
HAND_OVER_GIFT = {**HAND_OVER_NONE, "items": [PROBLEM]}
NOTE_HANDOVER = {"operation": "note_source_case", "label": "问题交办",
                 "text": "回访发现廉洁自律问题，已交办处理：办事员收了服务对象礼品"}

# A problem report as services/problems.py starts it: the start form's fields and who reported on what.
REPORT = {"problem": "审批系统无法受理", "urgency": "normal", "needs": "", "source_task_title": "指导准备材料",
          "reported_by": "gaohongxia", "reported_by_name": "高红霞", "reporter_unit": "CA-MZ", "chief_unit": "CA"}
NOTE_REPORT = {"operation": "note_source_case", "label": "问题上报",
               "text": "【一般】审批系统无法受理（办理“指导准备材料”时上报，高红霞）"}
NOTE_ANSWER = {"operation": "note_source_case", "label": "问题答复", "text": "已协调审批科优先审核。；处理措施：电话协调审批科"}

# (process, [(action, argument, decisions, ready task names afterwards)], service calls)
SCENARIOS = {
    **{f"problem_report_{role}": ("problem_report", [
        ("start", None, {**REPORT, "reporter_role": role}, ["answer_problem"]),
        ("do", "answer_problem", {}, [f"read_answer_{role}"]),
        ("do", f"read_answer_{role}", {}, []),
    ], [NOTE_REPORT, NOTE_ANSWER]) for role in ("assistant", "proxy_agent", "consultant")},
    "problem_report_breach": ("problem_report", [
        ("start", None, {**REPORT, "reporter_role": "assistant", "urgency": "urgent"}, ["answer_problem"]),
        ("fire", "answer_overdue", {}, ["answer_problem", "escalate_answer_breach"]),
        ("do", "escalate_answer_breach", {}, ["answer_problem"]),
        ("do", "answer_problem", {}, ["read_answer_assistant"]),
        ("do", "read_answer_assistant", {}, []),
    ], [{**NOTE_REPORT, "text": NOTE_REPORT["text"].replace("【一般】", "【紧急】")}, NOTE_ANSWER]),
    # : an answer still not given goes to the county chief officer and then the office again.
    "problem_report_breach_three_levels": ("problem_report", [
        ("start", None, {**REPORT, "reporter_role": "consultant"}, ["answer_problem"]),
        ("fire", "answer_overdue", {}, ["answer_problem", "escalate_answer_breach"]),
        ("fire", "answer_overdue_county", {}, ["answer_problem", "escalate_answer_breach", "escalate_answer_breach_county"]),
        ("fire", "answer_overdue_office", {}, ["answer_problem", "escalate_answer_breach", "escalate_answer_breach_county",
                                               "escalate_answer_breach_office"]),
        ("do", "answer_problem", {}, ["escalate_answer_breach", "escalate_answer_breach_county",
                                      "escalate_answer_breach_office", "read_answer_consultant"]),
        ("do", "read_answer_consultant", {}, ["escalate_answer_breach", "escalate_answer_breach_county",
                                              "escalate_answer_breach_office"]),
        ("do", "escalate_answer_breach", {}, ["escalate_answer_breach_county", "escalate_answer_breach_office"]),
        ("do", "escalate_answer_breach_county", {}, ["escalate_answer_breach_office"]),
        ("do", "escalate_answer_breach_office", {}, []),
    ], [NOTE_REPORT, NOTE_ANSWER]),
    "consultation_answered": ("consultation", [
        ("start", None, {}, ["record_consultation"]),
        ("do", "record_consultation", {"answerable": True}, ["give_one_time_notice"]),
        ("do", "give_one_time_notice", {}, []),
    ], []),
    "consultation_work_order": ("consultation", [
        ("start", None, {}, ["record_consultation"]),
        ("do", "record_consultation", {"answerable": False}, ["dispatch_work_order"]),
        ("do", "dispatch_work_order", {}, ["contact_applicant"]),
        ("do", "contact_applicant", {}, ["resolve_work_order"]),
        ("do", "resolve_work_order", {}, []),
    ], []),
    "consultation_contact_breach": ("consultation", [
        ("start", None, {}, ["record_consultation"]),
        ("do", "record_consultation", {"answerable": False}, ["dispatch_work_order"]),
        ("do", "dispatch_work_order", {}, ["contact_applicant"]),
        ("fire", "contact_overdue", {}, ["contact_applicant", "escalate_contact_breach"]),
        ("do", "escalate_contact_breach", {}, ["contact_applicant"]),
        ("do", "contact_applicant", {}, ["resolve_work_order"]),
        ("do", "resolve_work_order", {}, []),
    ], []),
    # Escalation that keeps asking (R-9.1.1.2 –3): still not contacted, the deadline escalates again,
    # to the county chief officer and then the centre office, while the contact task stays open.
    "consultation_contact_breach_three_levels": ("consultation", [
        ("start", None, {}, ["record_consultation"]),
        ("do", "record_consultation", {"answerable": False}, ["dispatch_work_order"]),
        ("do", "dispatch_work_order", {}, ["contact_applicant"]),
        ("fire", "contact_overdue", {}, ["contact_applicant", "escalate_contact_breach"]),
        ("fire", "contact_overdue_county", {}, ["contact_applicant", "escalate_contact_breach",
                                                "escalate_contact_breach_county"]),
        ("do", "escalate_contact_breach", {}, ["contact_applicant", "escalate_contact_breach_county"]),
        ("fire", "contact_overdue_office", {}, ["contact_applicant", "escalate_contact_breach_county",
                                                "escalate_contact_breach_office"]),
        ("do", "escalate_contact_breach_county", {}, ["contact_applicant", "escalate_contact_breach_office"]),
        ("do", "escalate_contact_breach_office", {}, ["contact_applicant"]),
        ("do", "contact_applicant", {}, ["resolve_work_order"]),
        ("do", "resolve_work_order", {}, []),
    ], []),
    "assist_complete": ("assist", [
        ("start", None, {}, ["guide_materials"]),
        ("do", "guide_materials", {"materials_complete": True}, ["accompany_submission"]),
        ("do", "accompany_submission", {}, ["track_approval"]),
        ("do", "track_approval", {}, ["hand_over_results"]),
        ("do", "hand_over_results", {}, []),
    ], [CALLBACK]),
    "assist_missing_then_complete": ("assist", [
        ("start", None, {}, ["guide_materials"]),
        ("do", "guide_materials", {"materials_complete": False}, ["list_missing_materials"]),
        ("do", "list_missing_materials", {"convert_to_proxy": False}, ["materials_await"]),
        ("do", "materials_await", {}, ["guide_materials"]),
        ("do", "guide_materials", {"materials_complete": True}, ["accompany_submission"]),
        ("do", "accompany_submission", {}, ["track_approval"]),
        ("do", "track_approval", {}, ["hand_over_results"]),
        ("do", "hand_over_results", {}, []),
    ], [CALLBACK]),
    "assist_converted_to_proxy": ("assist", [
        ("start", None, {}, ["guide_materials"]),
        ("do", "guide_materials", {"materials_complete": False}, ["list_missing_materials"]),
        ("do", "list_missing_materials", {"convert_to_proxy": True, "difficulty_reason": "年事已高，往返不便"}, []),
    ], [TO_PROXY]),
    "proxy_plain": ("proxy", [
        ("start", None, {}, ["record_entrustment"]),
        ("do", "record_entrustment", {}, ["submit_on_behalf"]),
        ("do", "submit_on_behalf", {}, ["track_approval"]),
        ("do", "track_approval", {"needs_correction": False}, ["hand_over_results"]),
        ("do", "hand_over_results", {}, ["sign_completion_receipt"]),
        ("do", "sign_completion_receipt", {"receipt_signed": True}, []),
    ], [CALLBACK]),
    "proxy_correction_unsigned": ("proxy", [
        ("start", None, {}, ["record_entrustment"]),
        ("do", "record_entrustment", {}, ["submit_on_behalf"]),
        ("do", "submit_on_behalf", {}, ["track_approval"]),
        ("do", "track_approval", {"needs_correction": True, "correction_items": "营业场所证明"}, ["contact_for_correction"]),
        ("do", "contact_for_correction", {}, ["submit_on_behalf"]),
        ("do", "submit_on_behalf", {}, ["track_approval"]),
        ("do", "track_approval", {"needs_correction": False}, ["hand_over_results"]),
        ("do", "hand_over_results", {}, ["sign_completion_receipt"]),
        ("do", "sign_completion_receipt", {"receipt_signed": False, "not_signed_reason": "本人外出"}, ["receipt_await"]),
        ("do", "receipt_await", {}, ["sign_completion_receipt"]),
        ("do", "sign_completion_receipt", {"receipt_signed": True}, []),
    ], [CALLBACK]),
    # R-4.a –3: the promised deadline is on the whole handling; still not done, up the ladder.
    "assist_deadline_three_levels": ("assist", [
        ("start", None, {}, ["guide_materials"]),
        ("fire", "deadline_overdue", {}, ["escalate_deadline_breach", "guide_materials"]),
        ("fire", "deadline_overdue_county", {}, ["escalate_deadline_breach", "escalate_deadline_breach_county",
                                                 "guide_materials"]),
        ("fire", "deadline_overdue_office", {}, ["escalate_deadline_breach", "escalate_deadline_breach_county",
                                                 "escalate_deadline_breach_office", "guide_materials"]),
        ("do", "escalate_deadline_breach", {}, ["escalate_deadline_breach_county", "escalate_deadline_breach_office",
                                                "guide_materials"]),
        ("do", "escalate_deadline_breach_county", {}, ["escalate_deadline_breach_office", "guide_materials"]),
        ("do", "escalate_deadline_breach_office", {}, ["guide_materials"]),
        ("do", "guide_materials", {"materials_complete": True}, ["accompany_submission"]),
        ("do", "accompany_submission", {}, ["track_approval"]),
        ("do", "track_approval", {}, ["hand_over_results"]),
        ("do", "hand_over_results", {}, []),
    ], [CALLBACK]),
    # R-9.1.3.3 R-4.a: the materials never come: a reminder, then the applicant gives up; still called back.
    "assist_abandoned_after_reminder": ("assist", [
        ("start", None, {}, ["guide_materials"]),
        ("do", "guide_materials", {"materials_complete": False}, ["list_missing_materials"]),
        ("do", "list_missing_materials", {"convert_to_proxy": False}, ["materials_await"]),
        ("fire", "materials_await_remind", {}, ["materials_await", "materials_await_reminder"]),
        ("do", "materials_await_reminder", {}, ["materials_await"]),
        ("do", "materials_await", {"applicant_response": "abandoned"}, []),
    ], [CALLBACK]),
    # R-4.a: an entrustment never given: a reminder, then closed as overdue; still called back.
    "proxy_entrustment_expired": ("proxy", [
        ("start", None, {}, ["record_entrustment"]),
        ("do", "record_entrustment", {"entrustment_signed": False}, ["entrustment_await"]),
        ("fire", "entrustment_await_remind", {}, ["entrustment_await", "entrustment_await_reminder"]),
        ("do", "entrustment_await_reminder", {}, ["entrustment_await"]),
        ("do", "entrustment_await", {}, ["record_entrustment"]),  # came back, still undecided
        ("do", "record_entrustment", {"entrustment_signed": False}, ["entrustment_await"]),
        ("fire", "entrustment_await_expired", {}, []),
    ], [CALLBACK]),
    # R-4.a –3: late, escalated up the ladder; then the receipt is never signed and withdrawn.
    "proxy_late_then_receipt_withdrawn": ("proxy", [
        ("start", None, {}, ["record_entrustment"]),
        ("do", "record_entrustment", {}, ["submit_on_behalf"]),
        ("fire", "deadline_overdue", {}, ["escalate_deadline_breach", "submit_on_behalf"]),
        ("fire", "deadline_overdue_county", {}, ["escalate_deadline_breach", "escalate_deadline_breach_county",
                                                 "submit_on_behalf"]),
        ("fire", "deadline_overdue_office", {}, ["escalate_deadline_breach", "escalate_deadline_breach_county",
                                                 "escalate_deadline_breach_office", "submit_on_behalf"]),
        ("do", "escalate_deadline_breach", {}, ["escalate_deadline_breach_county", "escalate_deadline_breach_office",
                                                "submit_on_behalf"]),
        ("do", "escalate_deadline_breach_county", {}, ["escalate_deadline_breach_office", "submit_on_behalf"]),
        ("do", "escalate_deadline_breach_office", {}, ["submit_on_behalf"]),
        ("do", "submit_on_behalf", {}, ["track_approval"]),
        ("do", "track_approval", {"needs_correction": False}, ["hand_over_results"]),
        ("do", "hand_over_results", {}, ["sign_completion_receipt"]),
        ("do", "sign_completion_receipt", {"receipt_signed": False}, ["receipt_await"]),
        ("fire", "receipt_await_remind", {}, ["receipt_await", "receipt_await_reminder"]),
        ("do", "receipt_await_reminder", {}, ["receipt_await"]),
        ("do", "receipt_await", {"applicant_response": "withdrawn"}, []),
    ], [CALLBACK]),
    # R-9.3.1 R-6.4.1–3: the visit is late (up the ladder), the applicant unreachable then back; 容缺 materials
    # never brought: a reminder, then closed as overdue; still called back.
    "onsite_visit_late_unreachable_and_not_supplied": ("onsite", [
        ("start", None, {}, ["visit_applicant"]),
        ("fire", "visit_overdue", {}, ["escalate_visit_breach", "visit_applicant"]),
        ("fire", "visit_overdue_county", {}, ["escalate_visit_breach", "escalate_visit_breach_county", "visit_applicant"]),
        ("fire", "visit_overdue_office", {}, ["escalate_visit_breach", "escalate_visit_breach_county",
                                              "escalate_visit_breach_office", "visit_applicant"]),
        ("do", "escalate_visit_breach", {}, ["escalate_visit_breach_county", "escalate_visit_breach_office",
                                             "visit_applicant"]),
        ("do", "escalate_visit_breach_county", {}, ["escalate_visit_breach_office", "visit_applicant"]),
        ("do", "escalate_visit_breach_office", {}, ["visit_applicant"]),
        ("do", "visit_applicant", {"applicant_reached": False}, ["contact_await"]),
        ("fire", "contact_await_remind", {}, ["contact_await", "contact_await_reminder"]),
        ("do", "contact_await_reminder", {}, ["contact_await"]),
        ("do", "contact_await", {}, ["visit_applicant"]),
        ("do", "visit_applicant", {"materials_complete": False, "fixable_on_site": False}, ["accept_with_deficiencies"]),
        ("do", "accept_with_deficiencies", {}, ["complete_within_deadline"]),
        ("do", "complete_within_deadline", {"supplied_materials_received": False}, ["supply_await"]),
        ("fire", "supply_await_remind", {}, ["supply_await", "supply_await_reminder"]),
        ("do", "supply_await_reminder", {}, ["supply_await"]),
        ("do", "supply_await", {}, ["complete_within_deadline"]),  # brought some, not all
        ("do", "complete_within_deadline", {"supplied_materials_received": False}, ["supply_await"]),
        ("fire", "supply_await_expired", {}, []),
    ], [CALLBACK]),
    "onsite_unreachable_withdrawn": ("onsite", [
        ("start", None, {}, ["visit_applicant"]),
        ("do", "visit_applicant", {"applicant_reached": False}, ["contact_await"]),
        ("do", "contact_await", {"applicant_response": "withdrawn"}, []),
    ], [CALLBACK]),
    "onsite_on_the_spot": ("onsite", [
        ("start", None, {}, ["visit_applicant"]),
        ("do", "visit_applicant", {"materials_complete": True, "fixable_on_site": False}, ["complete_on_site"]),
        ("do", "complete_on_site", {}, ["hand_over_results"]),
        ("do", "hand_over_results", {}, []),
    ], [CALLBACK]),
    "onsite_fixable_on_the_spot": ("onsite", [
        ("start", None, {}, ["visit_applicant"]),
        ("do", "visit_applicant", {"materials_complete": False, "fixable_on_site": True}, ["complete_on_site"]),
        ("do", "complete_on_site", {"on_site_fixes": "当场补填申请表"}, ["hand_over_results"]),
        ("do", "hand_over_results", {}, []),
    ], [CALLBACK]),
    "onsite_with_deficiencies": ("onsite", [
        ("start", None, {}, ["visit_applicant"]),
        ("do", "visit_applicant", {"materials_complete": False, "fixable_on_site": False}, ["accept_with_deficiencies"]),
        ("do", "accept_with_deficiencies", {}, ["complete_within_deadline"]),
        ("do", "complete_within_deadline", {}, ["hand_over_results"]),
        ("do", "hand_over_results", {}, []),
    ], [CALLBACK]),
    "onsite_deadline_breach": ("onsite", [
        ("start", None, {}, ["visit_applicant"]),
        ("do", "visit_applicant", {"materials_complete": False, "fixable_on_site": False}, ["accept_with_deficiencies"]),
        ("do", "accept_with_deficiencies", {}, ["complete_within_deadline"]),
        ("fire", "deadline_overdue", {}, ["complete_within_deadline", "escalate_deadline_breach"]),
        ("do", "escalate_deadline_breach", {}, ["complete_within_deadline"]),
        ("do", "complete_within_deadline", {}, ["hand_over_results"]),
        ("do", "hand_over_results", {}, []),
    ], [CALLBACK]),
    # R-9.3.2.2 –3: still not finished, the deadline escalates again, up to the centre office; finishing
    # the guarded task ends the ladder, and the escalations already open are worked off after it.
    "onsite_deadline_breach_three_levels": ("onsite", [
        ("start", None, {}, ["visit_applicant"]),
        ("do", "visit_applicant", {"materials_complete": False, "fixable_on_site": False}, ["accept_with_deficiencies"]),
        ("do", "accept_with_deficiencies", {}, ["complete_within_deadline"]),
        ("fire", "deadline_overdue", {}, ["complete_within_deadline", "escalate_deadline_breach"]),
        ("fire", "deadline_overdue_county", {}, ["complete_within_deadline", "escalate_deadline_breach",
                                                 "escalate_deadline_breach_county"]),
        ("fire", "deadline_overdue_office", {}, ["complete_within_deadline", "escalate_deadline_breach",
                                                 "escalate_deadline_breach_county", "escalate_deadline_breach_office"]),
        ("do", "complete_within_deadline", {}, ["escalate_deadline_breach", "escalate_deadline_breach_county",
                                                "escalate_deadline_breach_office", "hand_over_results"]),
        ("do", "hand_over_results", {}, ["escalate_deadline_breach", "escalate_deadline_breach_county",
                                         "escalate_deadline_breach_office"]),
        ("do", "escalate_deadline_breach", {}, ["escalate_deadline_breach_county", "escalate_deadline_breach_office"]),
        ("do", "escalate_deadline_breach_county", {}, ["escalate_deadline_breach_office"]),
        ("do", "escalate_deadline_breach_office", {}, []),
    ], [CALLBACK]),
    "callback_good_rating": ("callback", [
        ("start", None, {"source_case_id": SERVICE_CASE}, ["make_callback"]),
        ("do", "make_callback", {"satisfaction": "basically_satisfied"}, []),
    ], [HAND_OVER_NONE]),
    "callback_problem_found": ("callback", [
        ("start", None, {}, ["make_callback"]),
        ("do", "make_callback", {"satisfaction": "satisfied", "problems_found": "found",
                                 "problems": [{"category": "integrity", "description": "办事员收了服务对象礼品"}]}, []),
    ], [HAND_OVER_GIFT]),
    "callback_bad_rating": ("callback", [
        ("start", None, {"source_case_id": SERVICE_CASE}, ["make_callback"]),
        ("do", "make_callback", {"satisfaction": "very_dissatisfied", "issues_found": "等候时间过长"}, []),
    ], [HAND_OVER_NONE, RECTIFY]),
    # 一事一评: rated at the window first, the callback's bad grade is its opinion only: no rectification.
    "callback_rated_elsewhere": ("callback", [
        ("start", None, {"source_case_id": "BB20251103000009"}, ["make_callback"]),
        ("do", "make_callback", {"satisfaction": "very_dissatisfied"}, []),
    ], [HAND_OVER_NONE]),
    "handover_by_the_chief_officer": ("handover", [
        ("start", None, {**PROBLEM, "problem_category": "attitude", "problem_title": "服务态度"}, ["handle_problem"]),
        ("fire", "handover_overdue", {}, ["escalate_handover_breach", "handle_problem"]),
        ("fire", "handover_overdue_county", {}, ["escalate_handover_breach", "escalate_handover_breach_county",
                                                 "handle_problem"]),
        ("fire", "handover_overdue_office", {}, ["escalate_handover_breach", "escalate_handover_breach_county",
                                                 "escalate_handover_breach_office", "handle_problem"]),
        ("do", "escalate_handover_breach", {}, ["escalate_handover_breach_county", "escalate_handover_breach_office",
                                                "handle_problem"]),
        ("do", "escalate_handover_breach_county", {}, ["escalate_handover_breach_office", "handle_problem"]),
        ("do", "escalate_handover_breach_office", {}, ["handle_problem"]),
        ("do", "handle_problem", {}, ["receive_feedback"]),
        ("do", "receive_feedback", {}, []),
    ], [{**NOTE_HANDOVER, "text": "回访发现服务态度问题，已交办处理：办事员收了服务对象礼品"},
        {"operation": "note_source_case", "label": "交办问题处理结果", "text": "服务态度问题处理结果：已约谈当事人并通报批评。"}]),
    "handover_of_an_integrity_problem": ("handover", [
        ("start", None, PROBLEM, ["handle_integrity_problem"]),
        ("fire", "integrity_overdue", {}, ["escalate_integrity_breach_county", "handle_integrity_problem"]),
        ("fire", "integrity_overdue_office", {}, ["escalate_integrity_breach_county", "escalate_integrity_breach_office",
                                                  "handle_integrity_problem"]),
        ("do", "escalate_integrity_breach_county", {}, ["escalate_integrity_breach_office", "handle_integrity_problem"]),
        ("do", "escalate_integrity_breach_office", {}, ["handle_integrity_problem"]),
        ("do", "handle_integrity_problem", {}, []),
    ], [NOTE_HANDOVER, {"operation": "note_source_case", "label": "交办问题处理结果",
                        "text": "廉洁自律问题处理结果：已核查，退还礼品并通报批评。"}]),
    # the handling unit's own chief officer writes where it has one (a township centre) ...
    "rectification_by_chief_officer": ("rectification", [
        ("start", None, {**RATED_ASSIST, "handling_unit": "CA-T01"}, ["submit_explanation"]),
        ("do", "submit_explanation", {}, ["review_rectification"]),
        ("do", "review_rectification", {"accepted": True}, []),
    ], []),
    # ... else the role that handled the case: a proxy case's proxy agent, an assist or onsite case's assistant.
    "rectification_by_proxy_agent": ("rectification", [
        ("start", None, {**RATED_ASSIST, "source_process": "proxy"}, ["submit_explanation_proxy_agent"]),
        ("do", "submit_explanation_proxy_agent", {}, ["review_rectification"]),
        ("do", "review_rectification", {"accepted": True}, []),
    ], []),
    "rectification_accepted": ("rectification", [
        ("start", None, RATED_ASSIST, ["submit_explanation_assistant"]),
        ("do", "submit_explanation_assistant", {}, ["review_rectification"]),
        ("do", "review_rectification", {"accepted": True}, []),
    ], []),
    "rectification_redone": ("rectification", [
        ("start", None, RATED_ASSIST, ["submit_explanation_assistant"]),
        ("do", "submit_explanation_assistant", {}, ["review_rectification"]),
        ("do", "review_rectification", {"accepted": False, "review_opinion": "整改措施不具体"},
         ["submit_explanation_assistant"]),
        ("do", "submit_explanation_assistant", {}, ["review_rectification"]),
        ("do", "review_rectification", {"accepted": True}, []),
    ], []),
    "rectification_breach": ("rectification", [
        ("start", None, RATED_ASSIST, ["submit_explanation_assistant"]),
        ("fire", "rectification_overdue_assistant", {}, ["escalate_rectification_breach", "submit_explanation_assistant"]),
        ("do", "escalate_rectification_breach", {}, ["submit_explanation_assistant"]),
        ("do", "submit_explanation_assistant", {}, ["review_rectification"]),
        ("do", "review_rectification", {"accepted": True}, []),
    ], []),
    # R-10.2 R-6.4.1–3: the explanation still not submitted, the county chief officer and then the office again;
    # submitting it ends the ladder.
    "rectification_breach_three_levels": ("rectification", [
        ("start", None, RATED_ASSIST, [WRITER]),
        ("fire", "rectification_overdue_assistant", {}, [ESCALATE, WRITER]),
        ("fire", "rectification_overdue_assistant_county", {}, [ESCALATE, f"{ESCALATE}_county", WRITER]),
        ("fire", "rectification_overdue_assistant_office", {}, [ESCALATE, f"{ESCALATE}_county", f"{ESCALATE}_office",
                                                                WRITER]),
        ("do", ESCALATE, {}, [f"{ESCALATE}_county", f"{ESCALATE}_office", WRITER]),
        ("do", f"{ESCALATE}_county", {}, [f"{ESCALATE}_office", WRITER]),
        ("do", f"{ESCALATE}_office", {}, [WRITER]),
        ("do", WRITER, {}, ["review_rectification"]),
        ("do", "review_rectification", {"accepted": True}, []),
    ], []),
    "complaint_in_time": ("complaint", [
        ("start", None, {}, ["record_complaint"]),
        ("do", "record_complaint", {}, ["handle_complaint"]),
        ("do", "handle_complaint", {}, ["reply_to_complainant"]),
        ("do", "reply_to_complainant", {}, []),
    ], [FINDING]),
    "complaint_breach": ("complaint", [
        ("start", None, {}, ["record_complaint"]),
        ("do", "record_complaint", {}, ["handle_complaint"]),
        ("fire", "complaint_overdue", {}, ["escalate_complaint_breach", "handle_complaint"]),
        ("do", "escalate_complaint_breach", {}, ["handle_complaint"]),
        ("do", "handle_complaint", {}, ["reply_to_complainant"]),
        ("do", "reply_to_complainant", {}, []),
    ], [FINDING]),
    # R-4.c –3: the complaint still not handled, up the ladder; handled after the county escalation, the
    # office is not asked again.
    "complaint_breach_two_levels": ("complaint", [
        ("start", None, {}, ["record_complaint"]),
        ("do", "record_complaint", {}, ["handle_complaint"]),
        ("fire", "complaint_overdue", {}, ["escalate_complaint_breach", "handle_complaint"]),
        ("fire", "complaint_overdue_county", {}, ["escalate_complaint_breach", "escalate_complaint_breach_county",
                                                  "handle_complaint"]),
        ("do", "handle_complaint", {}, ["escalate_complaint_breach", "escalate_complaint_breach_county",
                                        "reply_to_complainant"]),
        ("do", "escalate_complaint_breach", {}, ["escalate_complaint_breach_county", "reply_to_complainant"]),
        ("do", "escalate_complaint_breach_county", {}, ["reply_to_complainant"]),
        ("do", "reply_to_complainant", {}, []),
    ], [FINDING]),
    "complaint_about_a_chief_officer": ("complaint", [
        ("start", None, {"about_staff": "zhangwei"}, ["record_complaint"]),
        ("do", "record_complaint", {}, ["handle_complaint_office"]),
        ("fire", "office_complaint_overdue", {}, ["escalate_office_complaint_county", "handle_complaint_office"]),
        ("fire", "office_complaint_overdue_office", {}, ["escalate_office_complaint_county",
                                                         "escalate_office_complaint_office", "handle_complaint_office"]),
        ("do", "escalate_office_complaint_county", {}, ["escalate_office_complaint_office", "handle_complaint_office"]),
        ("do", "escalate_office_complaint_office", {}, ["handle_complaint_office"]),
        ("do", "handle_complaint_office", {"complaint_substantiated": False}, ["reply_to_complainant"]),
        ("do", "reply_to_complainant", {}, []),
    ], [{**FINDING, "upheld": False, "unit": "CA", "staff": "zhangwei"}]),
    "complaint_breach_three_levels": ("complaint", [
        ("start", None, {}, ["record_complaint"]),
        ("do", "record_complaint", {}, ["handle_complaint"]),
        ("fire", "complaint_overdue", {}, ["escalate_complaint_breach", "handle_complaint"]),
        ("do", "escalate_complaint_breach", {}, ["handle_complaint"]),
        ("fire", "complaint_overdue_county", {}, ["escalate_complaint_breach_county", "handle_complaint"]),
        ("do", "escalate_complaint_breach_county", {}, ["handle_complaint"]),
        ("fire", "complaint_overdue_office", {}, ["escalate_complaint_breach_office", "handle_complaint"]),
        ("do", "escalate_complaint_breach_office", {}, ["handle_complaint"]),
        ("do", "handle_complaint", {}, ["reply_to_complainant"]),
        ("do", "reply_to_complainant", {}, []),
    ], [FINDING]),
}


def now_clock() -> FixedClock:
    """The one clock standing at the machine's present, so that no timer is due unless fired."""
    return FixedClock(datetime.now(timezone.utc).replace(microsecond=0))


def walk_scenario(parsed, forms, name: str, roundtrip: bool) -> Walk:
    process_id, steps, _ = SCENARIOS[name]
    walk = Walk(parsed[process_id], forms, now_clock(), roundtrip)
    for action, argument, decisions, expected in steps:
        if action == "start":
            walk.start(**decisions)
        elif action == "do":
            walk.do(argument, **decisions)
        else:
            walk.fire(argument)
        assert walk.ready_names == sorted(expected), f"after {action} {argument or ''}"
    return walk


@pytest.mark.parametrize("roundtrip", [False, True], ids=["plain", "roundtrip"])
@pytest.mark.parametrize("name", list(SCENARIOS))
def test_walk(parsed, forms, name, roundtrip):
    _, steps, service_calls = SCENARIOS[name]
    walk = walk_scenario(parsed, forms, name, roundtrip)
    assert walk.ready_history == [sorted(expected) for *_, expected in steps]
    assert walk.result.completed, f"{name} did not complete; ready: {walk.ready_names}"
    assert walk.result.timers == []
    assert walk.service_calls == service_calls


@pytest.mark.parametrize("name", list(SCENARIOS))
def test_roundtrip_changes_nothing(parsed, forms, name):
    plain = walk_scenario(parsed, forms, name, roundtrip=False)
    saved = walk_scenario(parsed, forms, name, roundtrip=True)
    assert plain.ready_history == saved.ready_history
    assert plain.service_calls == saved.service_calls
    assert plain.result.data == saved.result.data


def test_every_user_task_is_reached_by_some_walk(parsed):
    reached = {(SCENARIOS[n][0], argument) for n in SCENARIOS for action, argument, *_ in SCENARIOS[n][1] if action == "do"}
    every = {(pid, task["name"]) for pid, process in parsed.items() for task in process.user_tasks}
    assert every - reached == set()


# --- what the walks leave behind --------------------------------------------------------------------

@pytest.mark.parametrize("roundtrip", [False, True], ids=["plain", "roundtrip"])
def test_contact_timer_is_waiting_with_its_due_time_and_fires_non_interrupting(parsed, forms, roundtrip):
    """R-9.1.1.2: the assistant must contact the applicant within 30 minutes; a breach escalates to
    the chief officer while the contact task stays open (non-interrupting, R-6.4.1)."""
    clock = now_clock()
    walk = Walk(parsed["consultation"], forms, clock, roundtrip)
    walk.start()
    walk.do("record_consultation", answerable=False)
    walk.do("dispatch_work_order")
    contact = walk.task("contact_applicant")
    timer = walk.timer("contact_overdue")
    assert timer.due_at == clock.now() + timedelta(minutes=30)
    assert contact.due_at == timer.due_at, "the task's due time and the timer guarding it agree"
    assert timer.attached_to == "contact_applicant"
    assert contact.unit == "CA-MZ" and contact.role == ASSISTANT and contact.form == "consultation_contact_applicant"

    walk.fire("contact_overdue")
    assert walk.ready_names == ["contact_applicant", "escalate_contact_breach"]
    assert walk.task("contact_applicant").id == contact.id, "the original task is the same, still open"
    escalation = walk.task("escalate_contact_breach")
    assert escalation.role == CHIEF_OFFICER and escalation.unit == "CA-MZ"
    assert [f.name for f in walk.result.fired] == ["contact_overdue"]
    # the further escalations still wait, guarding the same open task (R-6.4.1: escalation that keeps asking)
    assert [(t.name, t.attached_to) for t in walk.result.timers] == [
        ("contact_overdue_county", "contact_applicant"), ("contact_overdue_office", "contact_applicant")]


def test_firing_a_timer_reports_it_once(parsed, forms):
    walk = Walk(parsed["complaint"], forms, now_clock(), roundtrip=False)
    walk.start()
    walk.do("record_complaint")
    timer = walk.timer("complaint_overdue")
    fired = walk.runner.fire(walk.result.workflow, [timer.id], walk.ctx())
    assert [t.name for t in fired.fired] == ["complaint_overdue"]
    again = walk.runner.fire(walk.result.workflow, [timer.id], walk.ctx())
    assert again.fired == [] and sorted(t.name for t in again.ready) == ["escalate_complaint_breach", "handle_complaint"]


@pytest.mark.parametrize(("process", "before", "timer", "task", "days"), [
    ("onsite", [("visit_applicant", {"materials_complete": False, "fixable_on_site": False}),
                ("accept_with_deficiencies", {})], "deadline_overdue", "complete_within_deadline", 3),
    ("complaint", [("record_complaint", {})], "complaint_overdue", "handle_complaint", 5),
    ("rectification", [], "rectification_overdue_assistant", "submit_explanation_assistant", 10),
])
def test_working_day_timers_follow_the_calendar(parsed, forms, process, before, timer, task, days):
    """R-9.3.2.2 promised deadline, R-4.c complaints, R-10.2 rectification: due at a working day's close."""
    clock = now_clock()
    walk = Walk(parsed[process], forms, clock, roundtrip=False)
    walk.start(**STARTS.get(process, {}))
    for name, decisions in before:
        walk.do(name, **decisions)
    expected, _ = CALENDAR.add_working_days(clock.now(), days)
    waiting = walk.timer(timer)
    assert waiting.due_at == expected
    assert walk.task(task).due_at == expected
    # onsite's promised deadline is on the whole handling after acceptance (R-4.a), the task's due time the same
    assert waiting.attached_to == ("handle_case" if process == "onsite" else task)


def test_completion_requests_a_callback_case(parsed, forms):
    """R-10.1: every completed assist case asks for a callback case (service task start_case)."""
    walk = walk_scenario(parsed, forms, "assist_complete", roundtrip=False)
    assert walk.result.service_calls == [CALLBACK], "reported by the run that completed the last task"
    assert walk.service_calls == [CALLBACK], "and by no other run"
    assert walk.result.data["callback_request"]


ALL_LEVELS = ["county", "township", "village"]


@pytest.mark.parametrize(("matter_kind", "started_unit", "levels", "unit"), [
    # an enterprise matter goes to the approval bureau wherever it is registered.
    ("enterprise", "CA-ZX", ["county"], "CA-SPJ"),
    ("enterprise", "CA-T01-V01", ALL_LEVELS, "CA-SPJ"),
    # registered at the county (or online, no unit): the matter's responsible unit.
    ("personal", "CA-ZX", ALL_LEVELS, "CA-MZ"),
    ("personal", None, ALL_LEVELS, "CA-MZ"),
    ("other", "CA-ZX", ["county"], "CA-MZ"),
    # 就近办: the lowest level on the way up from the registering unit that offers the matter.
    ("personal", "CA-T01-V01", ALL_LEVELS, "CA-T01-V01"),
    ("personal", "CA-T01-V01", ["county", "township"], "CA-T01"),
    ("personal", "CA-T01-V01", ["county"], "CA-MZ"),
    ("personal", "CA-T01-V01", ["village"], "CA-T01-V01"),
    ("personal", "CA-T01", ALL_LEVELS, "CA-T01"),
    ("personal", "CA-T01", ["county", "village"], "CA-MZ"),
    ("personal", "CA-T01", ["county"], "CA-MZ"),
])
def test_r_3_3_routing_decides_the_handling_unit(parsed, forms, matter_kind, started_unit, levels, unit):
    """R-1, R-3.3: enterprise matters go to the approval bureau; a personal matter to the lowest level that
    offers it on the way up from the registering unit, else to the matter's responsible unit."""
    data = {"matter_kind": matter_kind, "responsible_unit": "CA-MZ", "started_unit": started_unit,
            "matter_levels": levels}
    for process_id in ("assist", "proxy", "onsite"):
        walk = Walk(parsed[process_id], forms, now_clock(), roundtrip=True)
        result = walk.start(**data)
        assert result.data["handling_unit"] == unit
        (ready,) = result.ready
        assert ready.unit == unit


@pytest.mark.parametrize("roundtrip", [False, True])
def test_r_6_4_3_a_relay_moves_the_open_step_and_every_later_one(parsed, forms, roundtrip):
    """R-6.4.3: Runner.relay hands the case to the other unit: the open step of the role moves there and every
    later step of the diagram (whose unit is the handling unit) is created there, saved and restored or not."""
    walk = Walk(parsed["proxy"], forms, now_clock(), roundtrip=roundtrip)
    walk.start()
    walk.do("record_entrustment")
    assert walk.task("submit_on_behalf").unit == "CA-MZ"
    moved = walk.runner.relay(walk.result.workflow, "CA-MZ", "CA-T01", PROXY_AGENT, walk.ctx())
    walk._record(moved)
    assert walk.task("submit_on_behalf").unit == "CA-T01"
    walk.do("submit_on_behalf")
    assert walk.task("track_approval").unit == "CA-T01"
    assert walk.result.data["handling_unit"] == "CA-T01" and walk.result.data["relay_from_unit"] == "CA-MZ"


@pytest.mark.parametrize(("process", "before", "task", "role", "unit"), [
    ("callback", [], "make_callback", CONSULTANT, UNITS_BY_KIND["consultation_centre"]),
    ("complaint", [], "record_complaint", CONSULTANT, "CA-ZX"),
    ("complaint", [("record_complaint", {})], "handle_complaint", CHIEF_OFFICER, "CA"),  # who directs CA-MZ
    ("complaint", [("record_complaint", {"about_staff": "lina"})], "handle_complaint", CHIEF_OFFICER, "CA-T01"),
    ("complaint", [("record_complaint", {"about_staff": "zhangwei"})], "handle_complaint_office", SUPERVISOR, "CA"),
    ("rectification", [("submit_explanation_assistant", {})], "review_rectification", SUPERVISOR,
     UNITS_BY_KIND["county_centre"]),
])
def test_tasks_go_to_the_right_role_and_unit(parsed, forms, process, before, task, role, unit):
    walk = Walk(parsed[process], forms, now_clock(), roundtrip=False)
    walk.start(**STARTS.get(process, {}))
    for name, decisions in before:
        walk.do(name, **decisions)
    ready = walk.task(task)
    assert (ready.role, ready.unit) == (role, unit)


def test_completing_a_task_that_is_no_longer_ready_is_refused(parsed, forms):
    walk = Walk(parsed["callback"], forms, now_clock(), roundtrip=False)
    walk.start()
    task = walk.task("make_callback")
    walk.do("make_callback", satisfaction="satisfied")
    with pytest.raises(TaskNotReady):
        walk.runner.complete(walk.result.workflow, task.id, {"satisfaction": "satisfied"}, walk.ctx())


# --- timers are due by the one clock ------------------------------------------------------------------

def test_timer_is_not_due_before_its_time_by_the_one_clock(parsed, forms):
    """clock.py: "Nothing else in the code base reads the wall clock". With the one clock at
    Monday 15 Sep 2025 09:00, the 30-minute contact timer (due 09:30) must still be waiting after
    the work order is dispatched; the escalation must not be ready yet."""
    clock = FixedClock(datetime(2025, 9, 15, 1, 0, tzinfo=timezone.utc))
    walk = Walk(parsed["consultation"], forms, clock, roundtrip=False)
    walk.start()
    walk.do("record_consultation", answerable=False)
    walk.do("dispatch_work_order")
    assert walk.ready_names == ["contact_applicant"]
    assert [(t.name, t.due_at) for t in walk.result.timers] == [
        ("contact_overdue", datetime(2025, 9, 15, 1, 30, tzinfo=timezone.utc)),
        # the further escalations: one and two working days later, at the close of the day (17:30)
        ("contact_overdue_county", datetime(2025, 9, 16, 9, 30, tzinfo=timezone.utc)),
        ("contact_overdue_office", datetime(2025, 9, 17, 9, 30, tzinfo=timezone.utc))]


def test_a_timer_found_due_during_a_run_fires_in_that_run(parsed, forms):
    """R-9.1.1.2: a run of the engine that finds a deadline passed by the one clock (here an engine run
    asked to fire nothing, as when a case is next touched) fires it in the same run: the escalation
    is ready and the breach reported at once, not left for the next request."""
    clock = FixedClock(datetime(2025, 9, 15, 1, 0, tzinfo=timezone.utc))
    walk = Walk(parsed["consultation"], forms, clock, roundtrip=False)
    walk.start()
    walk.do("record_consultation", answerable=False)
    walk.do("dispatch_work_order")
    clock.advance(minutes=31)
    result = walk.runner.fire(walk.result.workflow, [], walk.ctx())
    assert sorted(t.name for t in result.ready) == ["contact_applicant", "escalate_contact_breach"]
    assert [t.name for t in result.fired] == ["contact_overdue"]
    assert [t.name for t in result.timers] == ["contact_overdue_county", "contact_overdue_office"]


def test_timers_found_due_while_a_task_completes_are_reported_fired(parsed, forms):
    """R-4.c: a deadline that passed while nobody touched the case fires when the next task is completed,
    and that run reports it (so it is counted as a breach), not only the runs that fire timers."""
    clock = FixedClock(datetime(2025, 9, 15, 1, 0, tzinfo=timezone.utc))
    walk = Walk(parsed["consultation"], forms, clock, roundtrip=False)
    walk.start()
    walk.do("record_consultation", answerable=False)
    walk.do("dispatch_work_order")
    walk.fire("contact_overdue")
    clock.advance(days=3)
    walk.do("escalate_contact_breach")
    assert sorted(t.name for t in walk.result.fired) == ["contact_overdue_county", "contact_overdue_office"]
    assert walk.ready_names == ["contact_applicant", "escalate_contact_breach_county", "escalate_contact_breach_office"]


@pytest.mark.parametrize("roundtrip", [False, True], ids=["plain", "roundtrip"])
def test_completing_the_guarded_task_cancels_the_further_escalations(parsed, forms, roundtrip):
    """R-9.1.1.2 R-6.4.1–3: a boundary timer on a completed activity is cancelled: once the contact is made
    after the first escalation, the county and centre-office escalations never come."""
    clock = FixedClock(datetime(2025, 9, 15, 1, 0, tzinfo=timezone.utc))
    walk = Walk(parsed["consultation"], forms, clock, roundtrip)
    walk.start()
    walk.do("record_consultation", answerable=False)
    walk.do("dispatch_work_order")
    walk.fire("contact_overdue")
    walk.do("contact_applicant")
    assert walk.result.timers == [] and walk.ready_names == ["escalate_contact_breach", "resolve_work_order"]
    clock.advance(days=10)
    walk.do("resolve_work_order")
    assert walk.result.fired == [] and walk.ready_names == ["escalate_contact_breach"]
