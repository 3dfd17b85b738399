"""marshmallow schemas: the one description of every API payload (and of the OpenAPI document)."""

from __future__ import annotations

from datetime import datetime
from zoneinfo import ZoneInfo

from marshmallow import INCLUDE, RAISE, Schema, ValidationError, fields, validate, validates_schema

from .workdays import DAY_RANGE_MESSAGE, EARLIEST_DAY, LATEST_DAY

DISPLAY_TZ = ZoneInfo("Asia/Shanghai")

PHONE = validate.Regexp(r"^(1[3-9]\d{9}|0\d{2,3}-?\d{7,8}|\d{7,8})$", error="请输入有效的手机号或固定电话。")
PROCESS_ID = validate.Regexp(r"^[A-Za-z_][A-Za-z0-9_.-]{0,99}$", error="流程编号格式不正确。")


class LocalDateTime(fields.DateTime):
    """ISO 8601 with the county's offset (+08:00), whatever the database stores."""

    def _serialize(self, value, attr, obj, **kwargs):
        if isinstance(value, datetime) and value.tzinfo is not None:
            value = value.astimezone(DISPLAY_TZ)
        return super()._serialize(value, attr, obj, **kwargs)


DAY_RANGE = validate.Range(min=EARLIEST_DAY, max=LATEST_DAY, error=DAY_RANGE_MESSAGE)


class StrictSchema(Schema):
    class Meta:
        unknown = RAISE


# --- requests ---------------------------------------------------------------------------------------

class TokenRequest(StrictSchema):
    username = fields.String(required=True, validate=validate.Length(1, 64))
    password = fields.String(required=True, validate=validate.Length(1, 200), load_only=True)


class StartData(Schema):
    """What any start carries. A process's start form (`start_form` of GET /processes) may declare more fields:
    they pass through here and the start checks them against that form; a field neither declared here nor
    by the form is refused."""

    class Meta:
        unknown = INCLUDE

    applicant_name = fields.String(required=True, validate=validate.Length(1, 100))
    applicant_phone = fields.String(required=True, validate=PHONE)
    applicant_type = fields.String(required=True, validate=validate.OneOf(["enterprise", "personal"], error="应为 enterprise（企业）或 personal（个人）。"))
    matter_code = fields.String(validate=validate.Length(1, 32))
    channel = fields.String(required=True, validate=validate.OneOf(["phone", "walk_in", "online"], error="应为 phone、walk_in 或 online。"))
    note = fields.String(validate=validate.Length(max=2000))


class StartCaseRequest(StrictSchema):
    process = fields.String(required=True, validate=PROCESS_ID)
    data = fields.Nested(StartData, required=True, metadata={
        "description": "The applicant's fields below, plus the fields of the process's start form (`start_form` in "
                       "GET /processes; x-start-forms below names its schema, components.schemas[\"StartData.<start_form>\"], "
                       "per process): onsite's `address`, a consultation's "
                       "`question`, a complaint's `complaint_text`, `about_case_number` and `about_staff`. Each is checked against that "
                       "form; a field neither listed here nor the form's is refused (422, named by field)."})


class CompleteTaskRequest(StrictSchema):
    data = fields.Dict(keys=fields.String(), required=True)


class ReportProblemRequest(StrictSchema):
    data = fields.Dict(keys=fields.String(), required=True, metadata={
        "description": "the problem report's start form (`problem_report` in x-start-forms of StartCaseRequest): "
                       "`problem` (required), `urgency` (`normal` 一般 / `urgent` 紧急, required), `needs` (optional); "
                       "422 with each field's error"})


class CaseQuery(StrictSchema):
    process = fields.String(validate=PROCESS_ID)
    status = fields.String(validate=validate.OneOf(["running", "waiting", "suspended", "completed", "cancelled"]))
    page = fields.Integer(load_default=1, validate=validate.Range(min=1, max=100_000, error="页码应在 1 到 100000 之间。"))
    per_page = fields.Integer(load_default=50, validate=validate.Range(min=1, max=200))


class TaskQuery(StrictSchema):
    scope = fields.String(load_default="mine", validate=validate.OneOf(["mine", "group"]))
    process = fields.String(validate=PROCESS_ID)
    page = fields.Integer(load_default=1, validate=validate.Range(min=1, max=100_000, error="页码应在 1 到 100000 之间。"))
    per_page = fields.Integer(load_default=50, validate=validate.Range(min=1, max=200))


class LedgerQuery(StrictSchema):
    unit = fields.String(validate=validate.Length(1, 32))
    case_number = fields.String(validate=validate.Length(1, 32))
    page = fields.Integer(load_default=1, validate=validate.Range(min=1, max=100_000, error="页码应在 1 到 100000 之间。"))
    per_page = fields.Integer(load_default=100, validate=validate.Range(min=1, max=500))


# --- responses --------------------------------------------------------------------------------------

class TokenResponse(Schema):
    token = fields.String()
    expires_in = fields.Integer()
    user = fields.Dict()


class ErrorResponse(Schema):
    error = fields.String(metadata={"description": "machine-readable code"})
    message = fields.String(metadata={"description": "what went wrong, in Chinese, and what to do"})
    errors = fields.Dict(keys=fields.String(), values=fields.List(fields.String()))
    element = fields.String(allow_none=True)
    problems = fields.List(fields.Dict())


class TaskSchema(Schema):
    id = fields.String()
    case_id = fields.Integer()
    process = fields.String()
    name = fields.String(metadata={"description": "the BPMN id of the user task"})
    title = fields.String()
    role = fields.String(allow_none=True)
    unit = fields.String(allow_none=True)
    assignee = fields.String(allow_none=True)
    status = fields.String()
    form = fields.String(allow_none=True)
    due_at = LocalDateTime(allow_none=True)
    overdue = fields.Boolean()
    provisional = fields.Boolean(metadata={"description": "the due date lies past the known holiday calendar"})
    created_at = LocalDateTime()
    completed_at = LocalDateTime(allow_none=True)
    completed_by = fields.String(allow_none=True)


class CaseSummarySchema(Schema):
    id = fields.Integer()
    number = fields.String()
    process = fields.String()
    version = fields.Integer()
    status = fields.String()
    unit = fields.String(allow_none=True)
    matter_code = fields.String(allow_none=True)
    applicant_name = fields.String(allow_none=True)
    applicant_phone = fields.String(allow_none=True)
    applicant_type = fields.String(allow_none=True)
    channel = fields.String(allow_none=True)
    started_by = fields.String()
    started_at = LocalDateTime()
    updated_at = LocalDateTime()
    completed_at = LocalDateTime(allow_none=True)
    provisional = fields.Boolean()
    breaches = fields.Integer()


class TimerSchema(Schema):
    id = fields.String()
    task = fields.String(metadata={"description": "the BPMN id of the timer event"})
    title = fields.String()
    attached_to = fields.String(allow_none=True)
    due_at = LocalDateTime(allow_none=True)


class HistorySchema(Schema):
    at = LocalDateTime()
    actor = fields.String()
    action = fields.String()
    element = fields.String(allow_none=True)
    detail = fields.Dict()


class LinkedCaseSchema(Schema):
    id = fields.Integer()
    number = fields.String()
    process = fields.String()
    relation = fields.String()
    direction = fields.String(metadata={"description": "'to': this case started it; 'from': it started this case"})
    status = fields.String()


class RelaySchema(Schema):
    """One hop of 互动接力 (R-6.4.3)."""

    id = fields.Integer()
    case_id = fields.Integer()
    role = fields.String(metadata={"description": "the role that works the case on both sides"})
    from_unit = fields.String()
    from_unit_name = fields.String()
    to_unit = fields.String()
    to_unit_name = fields.String()
    direction = fields.String(metadata={"description": "up | down | across (by level)"})
    reason = fields.String()
    materials = fields.String(allow_none=True, metadata={"description": "what is handed over with the case"})
    step = fields.String(allow_none=True, metadata={"description": "the step it was relayed from"})
    status = fields.String(metadata={"description": "pending | accepted | returned"})
    requested_by = fields.String()
    requested_at = fields.DateTime()
    answered_by = fields.String(allow_none=True)
    answered_at = fields.DateTime(allow_none=True)
    answer_note = fields.String(allow_none=True)


class RelayRequest(StrictSchema):
    to_unit = fields.String(required=True, validate=validate.Length(1, 32),
                            metadata={"description": "the receiving unit: active, with active staff of the role"})
    reason = fields.String(required=True, validate=validate.Length(1, 500))
    materials = fields.String(load_default="", validate=validate.Length(0, 2000))


class RelayAnswer(StrictSchema):
    note = fields.String(load_default="", validate=validate.Length(0, 500),
                         metadata={"description": "required when sending the relay back"})


class RatingOfRecordSchema(Schema):
    source = fields.String(metadata={"description": "the channel that rated the case first: callback, window, online"})
    satisfaction = fields.String()
    bad = fields.Boolean(metadata={"description": "dissatisfied or very_dissatisfied: a rectification was started"})
    at = fields.DateTime()


class CaseSchema(CaseSummarySchema):
    rating = fields.Nested(RatingOfRecordSchema, allow_none=True, metadata={
        "description": "a service case's rating of record (一事一评: the first given on any channel), or null"})
    tasks = fields.List(fields.Nested(TaskSchema))
    completed_tasks = fields.List(fields.Nested(TaskSchema))
    timers = fields.List(fields.Nested(TimerSchema))
    history = fields.List(fields.Nested(HistorySchema))
    linked_cases = fields.List(fields.Nested(LinkedCaseSchema))
    relays = fields.List(fields.Nested(RelaySchema), metadata={"description": "every relay hop, oldest first (R-6.4.3)"})


class TaskDetailSchema(TaskSchema):
    instructions = fields.String(allow_none=True)
    form = fields.Dict(allow_none=True, metadata={"description": "the JSON Schema of the task's form"})
    form_name = fields.String(attribute="form_name")
    form_title = fields.String(allow_none=True)
    ui = fields.Dict(allow_none=True)
    case = fields.Nested(CaseSummarySchema)
    matter = fields.Dict(allow_none=True)
    notice = fields.Dict(allow_none=True, metadata={"description": "the matter's one-time notice (R-5.4)"})


class CompleteTaskResponse(Schema):
    task = fields.Nested(TaskSchema)
    case = fields.Nested(CaseSummarySchema)
    next_tasks = fields.List(fields.Dict())
    started_cases = fields.List(fields.Dict(), metadata={"description": "linked cases this step started: callback, proxy, rectification"})


class RatingRequest(StrictSchema):
    satisfaction = fields.String(required=True, validate=validate.OneOf(
        ["very_satisfied", "satisfied", "basically_satisfied", "dissatisfied", "very_dissatisfied"]))


class RatingResponse(Schema):
    case_number = fields.String()
    satisfaction = fields.String()
    label = fields.String(metadata={"description": "the grade in Chinese"})
    rectification = fields.String(allow_none=True, metadata={
        "description": "the number of the rectification a bad rating started (R-10.2), or null"})


class ProblemReportResponse(Schema):
    id = fields.Integer(metadata={"description": "the problem report case (process problem_report)"})
    number = fields.String()
    process = fields.String()
    relation = fields.String(metadata={"description": "its link from the source case: problem_report"})
    source_case = fields.Dict(metadata={"description": "{id, number} of the case the task belongs to"})
    source_task = fields.String()
    chief_unit = fields.String(metadata={"description": "the nearest unit at or above the reporter's with a chief officer"})
    chief_unit_name = fields.String(allow_none=True)
    due_at = LocalDateTime(allow_none=True, metadata={"description": "when the chief officer's answer is due"})


class ProcessSchema(Schema):
    id = fields.Integer()
    process = fields.String()
    version = fields.Integer()
    name = fields.String()
    filename = fields.String()
    deployed_by = fields.String()
    deployed_at = LocalDateTime()
    starter_roles = fields.List(fields.String())
    requirement_ids = fields.List(fields.String())
    user_tasks = fields.List(fields.Dict())
    start_form = fields.String(allow_none=True, metadata={
        "description": "The form a start fills in beyond the applicant (the start event's `form` property): its "
                       "fields go in the start's `data` beside the applicant's; null when the process asks for none."})
    unchanged = fields.Boolean()


class ProcessVersionSchema(Schema):
    id = fields.Integer()
    process = fields.String()
    version = fields.Integer()
    name = fields.String()
    filename = fields.String()
    deployed_by = fields.String(metadata={"description": "username"})
    deployed_by_name = fields.String(metadata={"description": "the staff member's name"})
    deployed_at = LocalDateTime()
    checksum = fields.String(metadata={"description": "SHA-256 of the deployed file and the decisions it embeds"})
    open_cases = fields.Integer(metadata={"description": "cases on this version still running, waiting or suspended"})
    completed_cases = fields.Integer()


class ValidationProblem(Schema):
    element = fields.String(allow_none=True, metadata={"description": "the BPMN id of the element concerned"})
    message = fields.String(metadata={"description": "what is wrong and what to do, in Chinese"})
    source = fields.String(metadata={"description": "spiffworkflow (the engine's parser) or check (this system's rules)"})
    severity = fields.String(metadata={"description": "error (deploy refuses it) or warning"})


class DeployResponse(Schema):
    kind = fields.String()
    processes = fields.List(fields.Nested(ProcessSchema))
    decisions = fields.List(fields.Dict())
    warnings = fields.List(fields.Nested(ValidationProblem), metadata={
        "description": "what validation found that does not stop a deploy (the same as POST /processes/validate)"})


class ValidationReport(Schema):
    valid = fields.Boolean(metadata={"description": "true when there is no error (warnings allowed)"})
    problems = fields.List(fields.Nested(ValidationProblem))


class UnitSchema(Schema):
    code = fields.String()
    name = fields.String()
    level = fields.String()
    kind = fields.String()
    phone = fields.String(allow_none=True)
    children = fields.List(fields.Nested(lambda: UnitSchema()))


class MatterSchema(Schema):
    code = fields.String()
    name = fields.String()
    kind = fields.String()
    department = fields.String()
    responsible_unit = fields.String()
    levels = fields.List(fields.String(), metadata={
        "description": "levels that handle the matter (county, township, village): a personal matter registered "
                       "lower down goes to the lowest of these on the way up (就近办, R-3.3)"})
    service_types = fields.List(fields.String())
    promised_days = fields.Integer()
    legal_days = fields.Integer(allow_none=True)
    fee = fields.String(allow_none=True)
    window = fields.String(allow_none=True)
    notice = fields.Dict()


class LedgerEntrySchema(Schema):
    id = fields.Integer()
    case_id = fields.Integer()
    case_number = fields.String()
    process = fields.String()
    unit = fields.String(allow_none=True)
    matter_code = fields.String(allow_none=True)
    applicant_name = fields.String(allow_none=True)
    step = fields.String()
    title = fields.String()
    actor = fields.String()
    actor_name = fields.String(metadata={"description": "who did the step, by name: a staff member's name, "
                                                        "系统 for timers, 网上申请（服务对象本人） for an online application"})
    actor_role = fields.String(allow_none=True)
    at = LocalDateTime()
    data = fields.Dict()


class AttachmentSchema(Schema):
    id = fields.Integer()
    case_id = fields.Integer()
    task_id = fields.String(allow_none=True)
    kind = fields.String(metadata={"description": "material, signature, photo, audio, video or document"})
    kind_label = fields.String()
    filename = fields.String()
    content_type = fields.String()
    size = fields.Integer()
    note = fields.String(allow_none=True)
    uploaded_by = fields.String()
    uploaded_at = LocalDateTime()


class QualityQuery(StrictSchema):
    start = fields.Date(required=True, validate=DAY_RANGE, metadata={"description": "first day of the period (local date)"})
    end = fields.Date(required=True, validate=DAY_RANGE, metadata={"description": "last day of the period, inclusive"})
    unit = fields.String(validate=validate.Length(1, 32))
    trend = fields.String(validate=validate.OneOf(("week", "month"), error="趋势只能按周（week）或按月（month）。"),
                          metadata={"description": "also give each figure per ISO week or calendar month of the period"})

    @validates_schema
    def _ordered(self, data, **kwargs):
        if data["end"] < data["start"]:
            raise ValidationError({"end": ["结束日期不能早于开始日期。"]})


class QualityFigure(Schema):
    key = fields.String(metadata={"description": "the requirement: R-4.a … R-4.e"})
    title = fields.String()
    numerator = fields.Integer()
    denominator = fields.Integer()
    rate = fields.Float(allow_none=True, metadata={"description": "null when there is nothing to count"})
    target = fields.Float()
    items = fields.List(fields.Raw(), metadata={"description": "ids behind the denominator (cases, matters or ledger entries)"})
    good = fields.List(fields.Raw(), metadata={"description": "ids behind the numerator"})


class QualityTrendPoint(Schema):
    label = fields.String(metadata={"description": "ISO week (2025-W45) or month (2025-11)"})
    first = fields.Date(metadata={"description": "first local day of the week or month within the period"})
    last = fields.Date(metadata={"description": "last local day, inclusive"})
    numerator = fields.Integer(allow_none=True)
    denominator = fields.Integer(allow_none=True)
    rate = fields.Float(allow_none=True, metadata={"description": "null when there is nothing to count"})
    count = fields.Integer(metadata={"description": "fired deadlines only"})


class QualityTrendSeries(Schema):
    key = fields.String(metadata={"description": "R-4.a … R-4.e, R-10.1, or breaches (a count)"})
    title = fields.String()
    kind = fields.String(metadata={"description": "rate | count"})
    points = fields.List(fields.Nested(QualityTrendPoint))


class QualityTrends(Schema):
    by = fields.String(metadata={"description": "week | month (a period over 60 weeks is given by month)"})
    series = fields.List(fields.Nested(QualityTrendSeries))


class QualityReport(Schema):
    period = fields.Dict()
    unit = fields.String(allow_none=True)
    unit_name = fields.String()
    figures = fields.List(fields.Nested(QualityFigure))
    by_unit = fields.List(fields.Dict(), metadata={"description": "each unit's figures; complaints / complaints_upheld "
                                                              "decided in the period (R-4.c, R-5.2), handovers_open / "
                                                              "handovers_overdue now (问题交办, R-10.1)"})
    breaches = fields.List(fields.Dict(), metadata={"description": "fired deadlines by process and timer"})
    callback_coverage = fields.Nested(QualityFigure, metadata={"description": "R-10.1: completed cases called back"})
    by_staff = fields.List(fields.Dict(), metadata={"description": "steps done and done late per staff member (R-5.2), "
                                                                   "and R-4.a, R-4.c, R-4.d, R-4.e over their work; "
                                                                   "complaints / complaints_upheld about them"})
    trends = fields.Nested("QualityTrends", allow_none=True,
                           metadata={"description": "with ?trend=week|month: each figure per week or month"})
    rectifications = fields.List(fields.Dict(), metadata={
        "description": "R-10.2: per handling unit, the rectifications not yet accepted as they stand now (open, "
                       "overdue, case ids), whatever the period"})


class AssessmentQuery(QualityQuery):
    """The period, and for a unit's staff the unit (with its sub-units; all the caller directs without one)."""

    class Meta(QualityQuery.Meta):
        exclude = ("trend",)


class AssessmentStaffQuery(QualityQuery):
    class Meta(QualityQuery.Meta):
        exclude = ("trend", "unit")


class AssessmentNumber(Schema):
    count = fields.Integer(metadata={"description": "steps, ratings or complaints (each once); cases otherwise"})
    cases = fields.List(fields.Integer(), metadata={"description": "ids of the cases behind the number"})


class AssessmentFigure(Schema):
    key = fields.String(metadata={"description": "steps | ratings | complaints | rectifications | handovers"})
    title = fields.String()
    parts = fields.Dict(keys=fields.String(), values=fields.String(),
                        metadata={"description": "each part's key and title: steps done/late, ratings good/bad, "
                                                 "complaints all/upheld, rectifications all, handovers all"})
    available = fields.Boolean(metadata={"description": "false: nothing can be counted yet (not in numbers)"})
    note = fields.String(allow_none=True, metadata={"description": "how the figure is counted, or why it is not"})


_NUMBERS = fields.Dict(keys=fields.String(), values=fields.Dict(keys=fields.String(), values=fields.Nested(AssessmentNumber)),
                       metadata={"description": "figure key -> part -> the number and its cases"})


class AssessmentPerson(Schema):
    username = fields.String()
    name = fields.String()
    role = fields.String(allow_none=True)
    unit = fields.String(allow_none=True, metadata={"description": "the unit the staff member belongs to now"})
    unit_name = fields.String(allow_none=True)
    numbers = _NUMBERS


class AssessmentPeriod(Schema):
    start = fields.Date()
    end = fields.Date(metadata={"description": "inclusive"})


class AssessmentReport(Schema):
    period = fields.Nested(AssessmentPeriod)
    unit = fields.String(allow_none=True)
    unit_name = fields.String()
    staff = fields.String(allow_none=True, metadata={"description": "the staff member of a staff member's report"})
    figures = fields.List(fields.Nested(AssessmentFigure))
    people = fields.List(fields.Nested(AssessmentPerson))
    total = _NUMBERS


class CalendarStatus(Schema):
    timezone = fields.String()
    workday_end = fields.String()
    last_known_year = fields.Integer(metadata={"description": "the last year whose holidays are known"})
    next_year_known = fields.Boolean(metadata={"description": "false: deadlines into next year are provisional"})
    provisional_cases = fields.Integer()
    provisional_tasks = fields.Integer()


class FormUseSchema(Schema):
    process = fields.String()
    process_name = fields.String()
    version = fields.Integer(metadata={"description": "the deployed version of the process"})
    task = fields.String(allow_none=True, metadata={"description": "the user task's BPMN id; null for a start form"})
    task_title = fields.String()
    start = fields.Boolean(metadata={"description": "true when the process's start event names the form: a start fills it in"})


class FormSummarySchema(Schema):
    name = fields.String(metadata={"description": "what a user task's property form names"})
    title = fields.String()
    version = fields.Integer(allow_none=True, metadata={"description": "0: the shipped file forms/<name>.json; 1, 2, ...: saved in the forms editor"})
    source = fields.String(allow_none=True, metadata={"description": "file or database"})
    saved_by = fields.String(allow_none=True)
    saved_at = LocalDateTime(allow_none=True)
    used_by = fields.List(fields.Nested(FormUseSchema))


class FormVersionSchema(Schema):
    version = fields.Integer()
    title = fields.String()
    saved_by = fields.String(allow_none=True)
    saved_at = LocalDateTime(allow_none=True)


class FormDetailSchema(FormSummarySchema):
    schema = fields.Dict(metadata={"description": "the JSON Schema (draft 2020-12) completions are validated against"})
    ui = fields.Dict(metadata={"description": "the UI schema (ui:order, ui:widget, ui:help, ui:placeholder)"})
    versions = fields.List(fields.Nested(FormVersionSchema), metadata={"description": "newest first"})


# --- the heatmap and migrating a case (issue 5 items 4 and 7) ---------------------------------------------

class HeatmapQuery(StrictSchema):
    version = fields.Integer(validate=validate.Range(min=1, error="版本应为正整数。"),
                             metadata={"description": "a deployed version; the newest when left out"})
    start = fields.Date(validate=DAY_RANGE, metadata={"description": "first local day of the period (default: 29 days before end)"})
    end = fields.Date(validate=DAY_RANGE, metadata={"description": "last local day, inclusive (default: today); at most 366 days"})
    unit = fields.String(validate=validate.Length(1, 32), metadata={"description": "a unit and the units below it"})


class HeatmapElement(Schema):
    id = fields.String(metadata={"description": "the BPMN element id"})
    title = fields.String()
    kind = fields.String()
    count = fields.Integer(metadata={"description": "passages that left the element in the period"})
    cases = fields.Integer(metadata={"description": "distinct cases among them"})
    median_seconds = fields.Float(allow_none=True)
    p90_seconds = fields.Float(allow_none=True, metadata={"description": "nearest-rank 90th percentile"})
    max_seconds = fields.Float(allow_none=True)
    median_text = fields.String()
    p90_text = fields.String()
    max_text = fields.String()
    level = fields.Integer(metadata={"description": "heat step 0-5 (0: not passed)"})
    active_now = fields.Dict(metadata={"description": "{tasks, timers}: ready tasks and waiting timers there now"})


class HeatmapReport(Schema):
    process = fields.String()
    name = fields.String()
    version = fields.Integer()
    versions = fields.List(fields.Integer())
    definition_id = fields.Integer()
    period = fields.Dict(metadata={"description": "{start, end}: local dates, inclusive"})
    unit = fields.String(allow_none=True)
    unit_name = fields.String(allow_none=True)
    passages = fields.Integer(metadata={"description": "passages of every element in the period"})
    max_count = fields.Integer()
    elements = fields.List(fields.Nested(HeatmapElement))


class MigrateRequest(StrictSchema):
    version = fields.Integer(required=True, validate=validate.Range(min=1, error="版本应为正整数。"),
                             metadata={"description": "a newer deployed version of the case's process"})
    reason = fields.String(required=True, validate=validate.Length(1, 500))
    process = fields.String(validate=PROCESS_ID, metadata={"description": "optional: the case's process, checked"})


class MigrateResponse(Schema):
    id = fields.Integer()
    number = fields.String()
    status = fields.String(metadata={"description": "still suspended: resume to continue on the new version"})
    process = fields.String()
    from_version = fields.Integer()
    version = fields.Integer()
    open_tasks = fields.List(fields.String())


def page_of(item_schema: type[Schema], name: str) -> type[Schema]:
    return Schema.from_dict({
        "items": fields.List(fields.Nested(item_schema)), "total": fields.Integer(),
        "page": fields.Integer(), "per_page": fields.Integer(),
    }, name=name)


CasePage = page_of(CaseSummarySchema, "CasePage")
TaskPage = page_of(TaskSchema, "TaskPage")
LedgerPage = page_of(LedgerEntrySchema, "LedgerPage")

__all__ = ["ValidationError", "validates_schema"]


# --- peak alerts and moving several tasks (R-7.1.1, R-9.1.1.2) ----------------------------------------------

class PeakAlertSchema(Schema):
    unit = fields.String(metadata={"description": "the unit's code"})
    unit_name = fields.String()
    level = fields.String(allow_none=True, metadata={"description": "county | township | village"})
    open = fields.Integer(metadata={"description": "ready tasks in the unit now"})
    active_staff = fields.Integer(metadata={"description": "active staff members registered in the unit"})
    load = fields.Float(allow_none=True, metadata={"description": "open tasks per active staff member (null: nobody active)"})
    overdue = fields.Integer(metadata={"description": "ready tasks past their due time"})
    threshold_load = fields.Integer(metadata={"description": "the unit's own threshold, else BDD_PEAK_LOAD"})
    threshold_overdue = fields.Integer(metadata={"description": "the unit's own threshold, else BDD_PEAK_OVERDUE"})
    overloaded = fields.Boolean(metadata={"description": "load reached threshold_load, or open tasks and nobody active"})
    overdue_alert = fields.Boolean(metadata={"description": "overdue reached threshold_overdue"})
    reasons = fields.List(fields.String(), metadata={"description": "why, in Chinese, as the inbox shows it"})


class ReassignCandidateSchema(Schema):
    username = fields.String()
    name = fields.String()
    unit = fields.String(allow_none=True)
    unit_name = fields.String(allow_none=True)


class ToReassignTaskSchema(Schema):
    id = fields.String()
    title = fields.String()
    role = fields.String(allow_none=True)
    process = fields.String()
    unit = fields.String(allow_none=True)
    unit_name = fields.String(allow_none=True)
    due_at = LocalDateTime(allow_none=True)
    overdue = fields.Boolean()
    case_id = fields.Integer()
    case_number = fields.String(allow_none=True)
    assignee = fields.String(allow_none=True, metadata={"description": "who claimed it and can no longer work it"})
    assignee_name = fields.String(allow_none=True)
    assignee_state = fields.String(allow_none=True, metadata={"description": "已停用 (left) or 已调岗 (moved); null: unclaimed"})
    reason = fields.String(metadata={"description": "why nobody of the role can take it"})
    candidates = fields.List(fields.Nested(ReassignCandidateSchema),
                             metadata={"description": "active staff of the role in the units the caller directs"})


class AlertReport(Schema):
    items = fields.List(fields.Nested(PeakAlertSchema), metadata={"description": "units alerted now, worst first"})
    default_load = fields.Integer()
    default_overdue = fields.Integer()
    computed_at = LocalDateTime()
    to_reassign = fields.List(fields.Nested(ToReassignTaskSchema),
                              metadata={"description": "open tasks nobody of their role can take (first 500)"})
    to_reassign_total = fields.Integer()


class ReassignTasksRequest(StrictSchema):
    task_ids = fields.List(fields.String(validate=validate.Length(1, 36)), required=True,
                           validate=validate.Length(1, 200, error="一次改派 1 到 200 项任务。"))
    assignee = fields.String(required=True, validate=validate.Length(1, 64),
                             metadata={"description": "username of an active staff member of the tasks' role in a unit the caller directs"})


class ReassignTasksResponse(Schema):
    count = fields.Integer()
    assignee = fields.String()
    assignee_name = fields.String()
    tasks = fields.List(fields.Nested(TaskSchema), metadata={"description": "the tasks as they are now: the new holder's unit"})
