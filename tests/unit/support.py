"""Shared building blocks of the unit tests: the county's clock, calendar, forms and diagrams, in memory."""

from __future__ import annotations

import json
from dataclasses import dataclass, field
from datetime import datetime, timezone
from pathlib import Path
from typing import Any

from bdd_workflow.clock import Clock, FixedClock
from bdd_workflow.engine.parser import DiagramParser, ParsedProcess
from bdd_workflow.engine.runner import RunResult, Runner
from bdd_workflow.engine.scripting import RunContext
from bdd_workflow.engine.serializer import Serializer
from bdd_workflow.forms import FormRegistry
from bdd_workflow.workdays import WorkingCalendar

ROOT = Path(__file__).resolve().parents[2]
PROCESSES = ROOT / "processes"
FORMS = ROOT / "forms"
SPEC = ROOT / "spec" / "REQUIREMENTS.md"
SHARED_SPEC = ROOT.parent / "shared" / "spec"
DMN = PROCESSES / "handling_unit_routing.dmn"

SLA = {"contact": "PT30M", "complaint_days": 5, "rectification_days": 10, "problem_urgent": "PT2H", "problem_days": 1,
       "escalation_interval_days": 1, "handover_days": 5, "onsite_visit_days": 2, "applicant_reminder_days": 3,
       "applicant_closure_days": 10}
UNITS_BY_KIND = {"consultation_centre": "CA-ZX", "approval_bureau": "CA-SPJ", "county_centre": "CA"}
# A slice of the county's three levels (R-3.3): code -> (level, parent), what the routing decision walks.
UNIT_TREE = {
    "CA": ("county", None), "CA-ZX": ("county", "CA"), "CA-SPJ": ("county", "CA"), "CA-MZ": ("county", "CA"),
    "CA-RS": ("county", "CA"), "CA-XZ-BGZ": ("county", "CA"),
    "CA-T01": ("township", "CA"), "CA-T01-V01": ("village", "CA-T01"),
}
# Org units a form's x-ref "unit" may name in these tests.
KNOWN_UNITS = {"CA", "CA-ZX", "CA-SPJ", "CA-MZ", "CA-RS", "CA-XZ-BGZ"}
KNOWN_STAFF = {"zhangwei", "lina"}
KNOWN_MATTERS = {"MZ-001", "SPJ-001"}

CALENDAR = WorkingCalendar.load("Asia/Shanghai", "17:30")

# processes/README.md, "Case data every process can rely on" (+ handling_unit, which processes
# without route_matter get from the case that started them).
CASE_DATA: dict[str, Any] = {
    "applicant_name": "王芳", "applicant_phone": "13812345678", "applicant_type": "personal",
    "matter_code": "MZ-001", "matter_name": "最低生活保障申请", "matter_kind": "personal",
    "matter_department": "成安县民政局", "responsible_unit": "CA-MZ", "promised_days": 3,
    "matter_levels": ["county"], "channel": "walk_in", "address": "成安县商城镇东街12号", "started_unit": "CA-ZX",
    "handling_unit": "CA-MZ", "source_case_id": None,
    # a start form's field left out is still a variable (services/cases.py): onsite's appointment
    "appointment_at": None,
}
# Units with a chief officer of their own (the rectification's writer, R-10.2), and the cases already rated with the
# channel of their rating of record (一事一评): what the stored data answers the diagrams' functions in these tests.
CHIEF_UNITS = {"CA", "CA-T01"}
RATED = {"BB20251103000009": "window"}
RESUMED = {"applicant_response": "resumed"}
REMINDED = {"reminder_method": "phone", "applicant_reached": True, "reminder_note": "已电话提醒服务对象。"}

HAND_OVER = {"handed_over_documents": ["审批决定书", "全部申请材料原件"], "all_handed_over": True}
ACK = {"acknowledged": True, "measures_taken": "已电话督促承办人立即处理，并记录在案。"}
SCORES = {**{f"score_{d}": 5 for d in ("attitude", "quality", "efficiency", "integrity", "standard",
                                       "openness", "timeliness", "one_time_notice")}, "problems_found": "none"}

# A valid submission for the form of every user task, keyed by (process, task); decisions are added per step.
VALID: dict[tuple[str, str], dict[str, Any]] = {
    ("consultation", "record_consultation"): {"question": "办理低保需要哪些材料？"},
    ("consultation", "give_one_time_notice"): {"notice_text": "您好，请携带户口簿、身份证和收入证明到民政窗口办理。",
                                               "notice_complete": True, "result": "已一次性告知"},
    ("consultation", "dispatch_work_order"): {"dispatch_unit": "CA-MZ", "work_order_summary": "咨询低保政策细节，需民政局帮办员答复"},
    ("consultation", "contact_applicant"): {"contacted": True, "contact_method": "phone", "contact_note": "已电话联系并约定到窗口办理"},
    ("consultation", "resolve_work_order"): {"reply_to_applicant": "您好，已为您核实政策，请按告知单准备材料。",
                                             "work_order_result": "已解答"},
    ("consultation", "escalate_contact_breach"): ACK,
    ("consultation", "escalate_contact_breach_county"): ACK,
    ("consultation", "escalate_contact_breach_office"): ACK,
    ("assist", "guide_materials"): {"guidance": "您好，请按一次性告知单准备材料。"},
    ("assist", "list_missing_materials"): {"missing_materials": ["本人社会保障卡或银行账户信息"]},
    ("assist", "accompany_submission"): {"submitted": True, "approval_department": "成安县民政局", "submission_date": "2025-10-10"},
    ("assist", "track_approval"): {"tracking_notes": "已与审批科室沟通，材料在审核中。", "applicant_informed": True,
                                   "approval_result": "准予许可"},
    ("assist", "hand_over_results"): HAND_OVER,
    ("proxy", "record_entrustment"): {"entrustment_signed": True, "entrustment_number": "WT-2025-001",
                                      "entrustment_signed_date": "2025-10-09"},
    ("proxy", "submit_on_behalf"): {"submitted": True, "approval_department": "成安县行政审批局", "submission_date": "2025-10-10"},
    ("proxy", "track_approval"): {"tracking_notes": "已与审批科室沟通。"},
    ("proxy", "contact_for_correction"): {"materials_to_correct": ["本人社会保障卡或银行账户信息"], "applicant_contacted": True,
                                          "corrected_materials_received": True},
    ("proxy", "hand_over_results"): HAND_OVER,
    ("proxy", "sign_completion_receipt"): {"receipt_number": "BJ-2025-001"},
    ("onsite", "visit_applicant"): {"visit_date": "2025-10-10", "visit_note": "已上门核验材料"},
    ("onsite", "complete_on_site"): {"completed_on_site": True, "result_note": "当场办结"},
    ("onsite", "accept_with_deficiencies"): {"accepted_with_deficiencies": True, "review_note": "主要材料齐全",
                                             "materials_to_supply": ["本人社会保障卡或银行账户信息"]},
    ("onsite", "complete_within_deadline"): {"supplied_materials_received": True, "result_note": "已补齐并办结"},
    ("onsite", "escalate_deadline_breach"): ACK,
    ("onsite", "escalate_deadline_breach_county"): ACK,
    ("onsite", "escalate_deadline_breach_office"): ACK,
    ("onsite", "hand_over_results"): HAND_OVER,
    **{(process, wait): RESUMED for process, wait in (("assist", "materials_await"), ("proxy", "entrustment_await"),
                                                        ("proxy", "receipt_await"), ("onsite", "contact_await"),
                                                        ("onsite", "supply_await"))},
    **{(process, f"{wait}_reminder"): REMINDED for process, wait in (
        ("assist", "materials_await"), ("proxy", "entrustment_await"), ("proxy", "receipt_await"),
        ("onsite", "contact_await"), ("onsite", "supply_await"))},
    **{(process, f"escalate_{what}_breach{level}"): ACK for process, what in (
        ("assist", "deadline"), ("proxy", "deadline"), ("onsite", "visit")) for level in ("", "_county", "_office")},
    ("callback", "make_callback"): SCORES,
    **{("rectification", name): {"written_explanation": "窗口人员解释不清，已批评教育。", "rectification_measures": "组织业务培训"}
       for name in ("submit_explanation", "submit_explanation_assistant", "submit_explanation_proxy_agent")},
    ("handover", "handle_problem"): {"problem_confirmed": True, "actions_taken": "已约谈当事人并通报批评。"},
    ("handover", "handle_integrity_problem"): {"problem_confirmed": True, "actions_taken": "已核查，退还礼品并通报批评。"},
    ("handover", "receive_feedback"): {"feedback_received": True},
    **{("handover", name): ACK for name in (
        "escalate_handover_breach", "escalate_handover_breach_county", "escalate_handover_breach_office",
        "escalate_integrity_breach_county", "escalate_integrity_breach_office")},
    ("rectification", "review_rectification"): {"review_opinion": "整改到位"},
    ("rectification", "escalate_rectification_breach"): ACK,
    ("rectification", "escalate_rectification_breach_county"): ACK,
    ("rectification", "escalate_rectification_breach_office"): ACK,
    ("problem_report", "answer_problem"): {"answer": "已协调审批科优先审核。", "actions_taken": "电话协调审批科"},
    ("problem_report", "escalate_answer_breach"): {"acknowledged": True, "measures_taken": "已督促首席服务专员答复"},
    ("problem_report", "escalate_answer_breach_county"): {"acknowledged": True, "measures_taken": "已督促首席服务专员答复"},
    ("problem_report", "escalate_answer_breach_office"): {"acknowledged": True, "measures_taken": "已督促首席服务专员答复"},
    ("problem_report", "read_answer_assistant"): {"answer_read": True},
    ("problem_report", "read_answer_proxy_agent"): {"answer_read": True},
    ("problem_report", "read_answer_consultant"): {"answer_read": True},
    ("complaint", "record_complaint"): {"complaint_text": "窗口人员态度生硬"},
    ("complaint", "handle_complaint"): {"investigation": "调取录像核实", "complaint_substantiated": True,
                                       "handling_result": "已约谈当事人"},
    ("complaint", "reply_to_complainant"): {"reply_method": "phone", "reply_text": "您好，您反映的问题已核实处理，感谢监督。"},
    ("complaint", "escalate_complaint_breach"): ACK,
    ("complaint", "escalate_complaint_breach_county"): ACK,
    ("complaint", "escalate_complaint_breach_office"): ACK,
    ("complaint", "handle_complaint_office"): {"investigation": "调取录像核实", "complaint_substantiated": True,
                                              "handling_result": "已约谈当事人"},
    ("complaint", "escalate_office_complaint_county"): ACK,
    ("complaint", "escalate_office_complaint_office"): ACK,
}


def ref_exists(kind: str, value: str) -> bool:
    if kind.startswith("unit:"):  # x-staffed-by: every known unit has every role in these tests
        kind = "unit"
    return value in {"unit": KNOWN_UNITS, "staff": KNOWN_STAFF, "matter": KNOWN_MATTERS}.get(kind, set())


class Directory:
    """What directing_unit / case_unit / staff_unit / staff_role answer without a database: the county centre and
    成安镇 have chief officers (as in the demo county); zhangwei is the county chief officer, lina a township
    assistant; no case numbers are known."""

    STAFF = {"zhangwei": ("CA", "chief_officer"), "lina": ("CA-T01", "assistant")}

    def directing_unit(self, code):
        while code and code not in ("CA", "CA-T01"):
            code = UNIT_TREE.get(code, (None, None))[1]
        return code

    def case_unit(self, number):
        return None

    def staff(self, username):
        return self.STAFF.get(username, (None, None))

    def unit_staffed(self, code, role):
        return role == "chief_officer" and code in CHIEF_UNITS

    def rating_channel(self, number):
        return RATED.get(number)


def make_ctx(clock: Clock | None = None, calendar: WorkingCalendar = CALENDAR) -> RunContext:
    return RunContext(clock=clock or FixedClock(datetime.now(timezone.utc)), calendar=calendar,
                      sla=dict(SLA), units_by_kind=dict(UNITS_BY_KIND), unit_tree=UNIT_TREE, directory=Directory())


def make_parser(clock: Clock | None = None, forms: FormRegistry | None = None, requirements=None) -> DiagramParser:
    # Timer expressions are tried on the start form's fields too (a problem report's urgency picks its deadline).
    form_schema = (lambda name: forms.get(name).schema) if forms else (
        lambda name: json.loads((FORMS / f"{name}.json").read_text(encoding="utf-8"))["schema"])
    return DiagramParser(lambda: make_ctx(clock), form_exists=forms.exists if forms else None, requirements=requirements,
                         form_schema=form_schema)


def parse_processes(parser: DiagramParser) -> dict[str, ParsedProcess]:
    dmn = DMN.read_bytes()
    parsed = {}
    for path in sorted(PROCESSES.glob("*.bpmn")):
        result = parser.parse(path.read_bytes(), path.name, [dmn])
        for process in result.processes:
            parsed[process.process_id] = process
    return parsed


@dataclass
class Walk:
    """Drives one case through the engine as the desk would, optionally saving and restoring between steps."""

    process: ParsedProcess
    forms: FormRegistry
    clock: Clock
    roundtrip: bool
    runner: Runner = field(default_factory=lambda: Runner(timeout_seconds=1.0))
    serializer: Serializer = field(default_factory=Serializer)
    ready_history: list[list[str]] = field(default_factory=list)
    service_calls: list[dict[str, Any]] = field(default_factory=list)
    result: RunResult | None = None

    def __post_init__(self) -> None:
        if self.roundtrip:
            # As in production: the spec is stored once and read back, instances without it.
            self.spec, self.subprocess_specs = self.serializer.load_spec(
                self.serializer.dump_spec(self.process.spec, self.process.subprocess_specs))
        else:
            self.spec, self.subprocess_specs = self.process.spec, self.process.subprocess_specs

    def ctx(self) -> RunContext:
        return make_ctx(self.clock)

    def _record(self, result: RunResult) -> RunResult:
        self.service_calls.extend(result.service_calls)
        if self.roundtrip:
            state = self.serializer.dump_state(result.workflow)
            restored = self.serializer.load_state(state, self.spec, self.subprocess_specs)
            viewed = self.runner.view(restored, self.ctx())
            assert sorted(t.name for t in viewed.ready) == sorted(t.name for t in result.ready)
            assert [(t.name, t.due_at) for t in viewed.timers] == [(t.name, t.due_at) for t in result.timers]
            assert viewed.completed == result.completed
            viewed.service_calls, viewed.fired = result.service_calls, result.fired
            result = viewed
        self.result = result
        self.ready_history.append(self.ready_names)
        return result

    @property
    def ready_names(self) -> list[str]:
        return sorted(t.name for t in self.result.ready)

    def start(self, **overrides: Any) -> RunResult:
        # As services/cases.py starts a case: every start form field is in the data, None when not given.
        fields = self.forms.get(self.process.start_form).schema.get("properties", {}) if self.process.start_form else {}
        seed = {**{name: None for name in fields}, **CASE_DATA, **overrides}
        return self._record(self.runner.start(self.spec, self.subprocess_specs, seed, self.ctx()))

    def task(self, name: str):
        matches = [t for t in self.result.ready if t.name == name]
        assert matches, f"{name} is not ready; ready: {self.ready_names}"
        return matches[0]

    def do(self, name: str, **decisions: Any) -> RunResult:
        task = self.task(name)
        data = {**VALID[(self.process.process_id, name)], **decisions}
        self.forms.validate(task.form, data, ref_exists)  # only valid submissions reach the engine
        result, step = self.runner.complete(self.result.workflow, task.id, data, self.ctx())
        assert step.name == name
        return self._record(result)

    def timer(self, name: str):
        matches = [t for t in self.result.timers if t.name == name]
        assert matches, f"timer {name} is not waiting; waiting: {[t.name for t in self.result.timers]}"
        return matches[0]

    def fire(self, name: str) -> RunResult:
        return self._record(self.runner.fire(self.result.workflow, [self.timer(name).id], self.ctx()))
