"""marshmallow schemas: the one description of every API payload (and of the OpenAPI document)."""

from __future__ import annotations

from datetime import datetime
from zoneinfo import ZoneInfo

from marshmallow import RAISE, Schema, ValidationError, fields, validate, validates_schema

DISPLAY_TZ = ZoneInfo("Asia/Shanghai")

PHONE = validate.Regexp(r"^(1[3-9]\d{9}|0\d{2,3}-?\d{7,8}|\d{7,8})$", error="请输入有效的手机号或固定电话。")
PROCESS_ID = validate.Regexp(r"^[A-Za-z_][A-Za-z0-9_.-]{0,99}$", error="流程编号格式不正确。")


class LocalDateTime(fields.DateTime):
    """ISO 8601 with the county's offset (+08:00), whatever the database stores."""

    def _serialize(self, value, attr, obj, **kwargs):
        if isinstance(value, datetime) and value.tzinfo is not None:
            value = value.astimezone(DISPLAY_TZ)
        return super()._serialize(value, attr, obj, **kwargs)


class StrictSchema(Schema):
    class Meta:
        unknown = RAISE


# --- requests ---------------------------------------------------------------------------------------

class TokenRequest(StrictSchema):
    username = fields.String(required=True, validate=validate.Length(1, 64))
    password = fields.String(required=True, validate=validate.Length(1, 200), load_only=True)


class StartData(StrictSchema):
    applicant_name = fields.String(required=True, validate=validate.Length(1, 100))
    applicant_phone = fields.String(required=True, validate=PHONE)
    applicant_type = fields.String(required=True, validate=validate.OneOf(["enterprise", "personal"], error="应为 enterprise（企业）或 personal（个人）。"))
    matter_code = fields.String(validate=validate.Length(1, 32))
    channel = fields.String(required=True, validate=validate.OneOf(["phone", "walk_in", "online"], error="应为 phone、walk_in 或 online。"))
    address = fields.String(validate=validate.Length(max=200))
    question = fields.String(validate=validate.Length(max=2000))
    complaint_text = fields.String(validate=validate.Length(max=4000))
    about_case = fields.String(validate=validate.Length(max=32))
    note = fields.String(validate=validate.Length(max=2000))


class StartCaseRequest(StrictSchema):
    process = fields.String(required=True, validate=PROCESS_ID)
    data = fields.Nested(StartData, required=True)


class CompleteTaskRequest(StrictSchema):
    data = fields.Dict(keys=fields.String(), required=True)


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


class CaseSchema(CaseSummarySchema):
    tasks = fields.List(fields.Nested(TaskSchema))
    completed_tasks = fields.List(fields.Nested(TaskSchema))
    timers = fields.List(fields.Nested(TimerSchema))
    history = fields.List(fields.Nested(HistorySchema))
    linked_cases = fields.List(fields.Nested(LinkedCaseSchema))


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
    unchanged = fields.Boolean()


class DeployResponse(Schema):
    kind = fields.String()
    processes = fields.List(fields.Nested(ProcessSchema))
    decisions = fields.List(fields.Dict())


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
    level = fields.String()
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
    start = fields.Date(required=True, metadata={"description": "first day of the period (local date)"})
    end = fields.Date(required=True, metadata={"description": "last day of the period, inclusive"})
    unit = fields.String(validate=validate.Length(1, 32))

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


class QualityReport(Schema):
    period = fields.Dict()
    unit = fields.String(allow_none=True)
    unit_name = fields.String()
    figures = fields.List(fields.Nested(QualityFigure))
    by_unit = fields.List(fields.Dict())
    breaches = fields.List(fields.Dict(), metadata={"description": "fired deadlines by process and timer"})
    callback_coverage = fields.Nested(QualityFigure, metadata={"description": "R-10.1: completed cases called back"})
    by_staff = fields.List(fields.Dict(), metadata={"description": "steps done and done late per staff member (R-5.2)"})


class CalendarStatus(Schema):
    timezone = fields.String()
    workday_end = fields.String()
    last_known_year = fields.Integer(metadata={"description": "the last year whose holidays are known"})
    next_year_known = fields.Boolean(metadata={"description": "false: deadlines into next year are provisional"})
    provisional_cases = fields.Integer()
    provisional_tasks = fields.Integer()


def page_of(item_schema: type[Schema], name: str) -> type[Schema]:
    return Schema.from_dict({
        "items": fields.List(fields.Nested(item_schema)), "total": fields.Integer(),
        "page": fields.Integer(), "per_page": fields.Integer(),
    }, name=name)


CasePage = page_of(CaseSummarySchema, "CasePage")
TaskPage = page_of(TaskSchema, "TaskPage")
LedgerPage = page_of(LedgerEntrySchema, "LedgerPage")

__all__ = ["ValidationError", "validates_schema"]
