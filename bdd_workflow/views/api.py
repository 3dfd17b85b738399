"""The JSON API under /api/v1. Each view: parse (marshmallow), call one service, dump."""

from __future__ import annotations

from functools import wraps

import io

from flask import Blueprint, current_app, g, jsonify, request, send_file
from werkzeug.exceptions import RequestEntityTooLarge

from .. import schemas as s
from ..errors import AuthenticationRequired, DomainError
from .throttle import client_address
from ..services import (assessment, attachments, cases, definitions, identity, ledger, metrics, modeler, org, problems,
                        publicity, relays, tasks, timers, workload)
from ..system import System
from .web_common import allow_large_uploads
from ..services import forms_admin as forms_service
from ..services import case_admin, heatmap as heat

api = Blueprint("api", __name__, url_prefix="/api/v1")
# Scans and video are larger than diagrams: the attachment upload raises the body limit for itself, before
# the app's early check of Content-Length (app.py) refuses it.
allow_large_uploads(api, {"api.add_attachment": (attachments.MAX_BYTES + 64 * 1024, 4 * 1024 * 1024)})

# Schemas are built once: building one (with its nested schemas) per request cost ~10 % of a completion.
TOKEN_REQUEST = s.TokenRequest()
START_CASE_REQUEST = s.StartCaseRequest()
COMPLETE_TASK_REQUEST = s.CompleteTaskRequest()
REPORT_PROBLEM_REQUEST = s.ReportProblemRequest()
PROBLEM_REPORT_RESPONSE = s.ProblemReportResponse()
CASE_QUERY = s.CaseQuery()
TASK_QUERY = s.TaskQuery()
LEDGER_QUERY = s.LedgerQuery()
CASE_PAGE = s.CasePage()
CASE_SCHEMA = s.CaseSchema()
COMPLETE_TASK_RESPONSE = s.CompleteTaskResponse()
DEPLOY_RESPONSE = s.DeployResponse()
LEDGER_PAGE = s.LedgerPage()
MATTER_SCHEMA_LIST = s.MatterSchema(many=True)
PROCESS_SCHEMA_LIST = s.ProcessSchema(many=True)
TASK_DETAIL_SCHEMA = s.TaskDetailSchema()
TASK_PAGE = s.TaskPage()
TASK_SCHEMA = s.TaskSchema()
TOKEN_RESPONSE = s.TokenResponse()
UNIT_SCHEMA_LIST = s.UnitSchema(many=True)
CALENDAR_STATUS = s.CalendarStatus()
QUALITY_QUERY = s.QualityQuery()
QUALITY_REPORT = s.QualityReport()
ASSESSMENT_QUERY = s.AssessmentQuery()
ASSESSMENT_STAFF_QUERY = s.AssessmentStaffQuery()
ASSESSMENT_REPORT = s.AssessmentReport()
ATTACHMENT = s.AttachmentSchema()
ATTACHMENT_LIST = s.AttachmentSchema(many=True)
PROCESS_VERSION_LIST = s.ProcessVersionSchema(many=True)
VALIDATION_REPORT = s.ValidationReport()
RELAY = s.RelaySchema()
RELAY_LIST = s.RelaySchema(many=True)
RELAY_REQUEST = s.RelayRequest()
RELAY_ANSWER = s.RelayAnswer()
RATING_REQUEST = s.RatingRequest()
RATING_RESPONSE = s.RatingResponse()


def system() -> System:
    return current_app.extensions["bdd"]


def authenticated(view):
    """Bearer token -> g.actor; no or bad token is a 401 with a reason."""

    @wraps(view)
    def wrapper(*args, **kwargs):
        header = request.headers.get("Authorization", "")
        scheme, _, token = header.partition(" ")
        if scheme.lower() != "bearer" or not token.strip():
            raise AuthenticationRequired("缺少令牌：请先 POST /api/v1/auth/token，再以 Authorization: Bearer <token> 调用。")
        g.actor = identity.actor_from_token(system(), token.strip())
        return view(*args, **kwargs)

    return wrapper


def body(schema: s.Schema) -> dict:
    payload = request.get_json(silent=True)
    if payload is None:
        raise DomainError("请求体应为 JSON（Content-Type: application/json）。")
    return schema.load(payload)


def query(schema: s.Schema) -> dict:
    return schema.load(request.args.to_dict())


@api.post("/auth/token")
def token():
    credentials = body(TOKEN_REQUEST)
    try:
        actor = identity.authenticate(system(), credentials["username"], credentials["password"], client_address())
    except identity.LoginRefused as refused:
        g.login_checked = refused.checked  # what the per-account throttle counts (views/throttle.py)
        raise
    return TOKEN_RESPONSE.dump({
        "token": identity.issue_token(system(), actor), "expires_in": system().settings.token_ttl_seconds,
        "user": {"username": actor.username, "name": actor.name, "role": actor.role, "unit": actor.unit_code},
    })


@api.get("/processes")
@authenticated
def processes():
    versions = request.args.get("versions") == "all"
    return jsonify(PROCESS_SCHEMA_LIST.dump(definitions.list_definitions(system(), all_versions=versions)))


@api.post("/processes")
@authenticated
def deploy():
    upload = request.files.get("file")
    if upload is None or not upload.filename:
        raise DomainError("请以 multipart/form-data 上传 BPMN 或 DMN 文件（字段名 file）。")
    data = upload.read(system().settings.max_upload_bytes + 1)
    if len(data) > system().settings.max_upload_bytes:
        raise RequestEntityTooLarge()
    result = modeler.deploy(system(), g.actor, data, upload.filename, remove_drafts=False)
    return DEPLOY_RESPONSE.dump(result), 201


@api.get("/processes/<process_id>/versions")
@authenticated
def process_versions(process_id: str):
    return jsonify(PROCESS_VERSION_LIST.dump(modeler.process_versions(system(), g.actor, process_id)))


@api.post("/processes/validate")
@authenticated
def validate_process():
    """A BPMN/DMN file as multipart field ``file``, or the XML as the request body: every problem, nothing stored."""
    limit = system().settings.max_upload_bytes
    upload = request.files.get("file")
    if upload is not None and upload.filename:
        data, filename = upload.read(limit + 1), upload.filename
    elif request.mimetype in ("multipart/form-data", "application/x-www-form-urlencoded"):
        raise DomainError("请以 multipart/form-data 上传 BPMN 或 DMN 文件（字段名 file），或直接以 XML 作为请求体。")
    else:
        data, filename = request.get_data(cache=False), "diagram.bpmn"
    if len(data) > limit:
        raise RequestEntityTooLarge()
    return VALIDATION_REPORT.dump(modeler.validate(system(), g.actor, data, filename))


@api.post("/cases")
@authenticated
def start_case():
    payload = body(START_CASE_REQUEST)
    case = cases.start_case(system(), g.actor, payload["process"], payload["data"])
    return CASE_SCHEMA.dump(case), 201, {"Location": f"/api/v1/cases/{case['id']}"}


@api.get("/cases")
@authenticated
def list_cases():
    return CASE_PAGE.dump(cases.list_cases(system(), g.actor, **query(CASE_QUERY)))


@api.get("/cases/<int:case_id>")
@authenticated
def get_case(case_id: int):
    return CASE_SCHEMA.dump(cases.get_case(system(), g.actor, case_id))


@api.post("/cases/<int:case_id>/relays")
@authenticated
def request_relay(case_id: int):
    payload = body(RELAY_REQUEST)
    return RELAY.dump(relays.request_relay(system(), g.actor, case_id, payload["to_unit"], payload["reason"],
                                           payload["materials"])), 201


@api.post("/cases/<int:case_id>/rating")
@authenticated
def rate_case(case_id: int):
    """好差评 at the window (R-7.2.1): the staff member records the applicant's grade; one rating per case."""
    payload = body(RATING_REQUEST)
    return RATING_RESPONSE.dump(publicity.rate_case_at_window(system(), g.actor, case_id, payload["satisfaction"])), 201


@api.get("/relays")
@authenticated
def pending_relays():
    return jsonify(RELAY_LIST.dump(relays.pending_for(system(), g.actor)))


@api.post("/relays/<int:relay_id>/accept")
@authenticated
def accept_relay(relay_id: int):
    return RELAY.dump(relays.answer_relay(system(), g.actor, relay_id, True, body(RELAY_ANSWER)["note"]))


@api.post("/relays/<int:relay_id>/return")
@authenticated
def return_relay(relay_id: int):
    return RELAY.dump(relays.answer_relay(system(), g.actor, relay_id, False, body(RELAY_ANSWER)["note"]))


@api.get("/tasks")
@authenticated
def list_tasks():
    return TASK_PAGE.dump(tasks.list_tasks(system(), g.actor, **query(TASK_QUERY)))


@api.get("/tasks/<task_id>")
@authenticated
def get_task(task_id: str):
    return TASK_DETAIL_SCHEMA.dump(tasks.get_task(system(), g.actor, task_id))


@api.post("/tasks/<task_id>/claim")
@authenticated
def claim_task(task_id: str):
    return TASK_SCHEMA.dump(tasks.claim_task(system(), g.actor, task_id))


@api.post("/tasks/<task_id>/complete")
@authenticated
def complete_task(task_id: str):
    payload = body(COMPLETE_TASK_REQUEST)
    return COMPLETE_TASK_RESPONSE.dump(tasks.complete_task(system(), g.actor, task_id, payload["data"]))


@api.post("/tasks/<task_id>/report")
@authenticated
def report_problem(task_id: str):
    payload = body(REPORT_PROBLEM_REQUEST)
    return PROBLEM_REPORT_RESPONSE.dump(problems.report_problem(system(), g.actor, task_id, payload["data"])), 201


ALERT_REPORT = s.AlertReport()
REASSIGN_TASKS_REQUEST = s.ReassignTasksRequest()
REASSIGN_TASKS_RESPONSE = s.ReassignTasksResponse()


@api.get("/alerts")
@authenticated
def alerts():
    """R-7.1.1: peak alerts and the tasks nobody of their role can take, in the caller's units."""
    return ALERT_REPORT.dump(workload.alert_report(system(), g.actor))


@api.post("/tasks/reassign")
@authenticated
def reassign_tasks():
    """R-7.1.1: several tasks to one person, all or nothing."""
    payload = body(REASSIGN_TASKS_REQUEST)
    return REASSIGN_TASKS_RESPONSE.dump(tasks.reassign_tasks(system(), g.actor, payload["task_ids"], payload["assignee"]))


@api.get("/units")
@authenticated
def units():
    return jsonify(UNIT_SCHEMA_LIST.dump(org.unit_tree(system())))


@api.get("/matters")
@authenticated
def matters():
    return jsonify(MATTER_SCHEMA_LIST.dump(org.list_matters(system())))


@api.get("/ledger")
@authenticated
def ledger_entries():
    return LEDGER_PAGE.dump(ledger.list_ledger(system(), g.actor, **query(LEDGER_QUERY)))


@api.post("/cases/<int:case_id>/attachments")
@authenticated
def add_attachment(case_id: int):
    upload = request.files.get("file")
    if upload is None or not upload.filename:
        raise DomainError("请以 multipart/form-data 上传文件（字段名 file），并给出 kind。")
    result = attachments.add(system(), g.actor, case_id, request.form.get("kind", ""), upload.read(),
                             upload.filename, upload.mimetype, task_id=request.form.get("task_id") or None,
                             note=request.form.get("note") or None)
    return ATTACHMENT.dump(result), 201


@api.get("/cases/<int:case_id>/attachments")
@authenticated
def list_attachments(case_id: int):
    return jsonify(ATTACHMENT_LIST.dump(attachments.list_for_case(system(), g.actor, case_id)))


@api.get("/attachments/<int:attachment_id>")
@authenticated
def download_attachment(attachment_id: int):
    meta, data = attachments.content(system(), g.actor, attachment_id)
    return send_file(io.BytesIO(data), mimetype=meta["content_type"], as_attachment=True,
                     download_name=meta["filename"])


@api.get("/quality")
@authenticated
def quality():
    params = query(QUALITY_QUERY)
    start, end = metrics.local_period(system(), params["start"], params["end"])
    return QUALITY_REPORT.dump(metrics.quality(system(), g.actor, start, end, params.get("unit"),
                                               trend=params.get("trend")))


@api.get("/assessment")
@authenticated
def assessment_report():
    params = query(ASSESSMENT_QUERY)
    return ASSESSMENT_REPORT.dump(assessment.as_dict(assessment.report(
        system(), g.actor, params["start"], params["end"], unit=params.get("unit"))))


@api.get("/assessment/staff/<username>")
@authenticated
def assessment_staff(username: str):
    params = query(ASSESSMENT_STAFF_QUERY)
    return ASSESSMENT_REPORT.dump(assessment.as_dict(assessment.report(
        system(), g.actor, params["start"], params["end"], username=username[:64])))


@api.get("/calendar")
@authenticated
def calendar():
    identity.require_role(g.actor, *identity.SUPERVISING_ROLES)
    return CALENDAR_STATUS.dump(timers.calendar_status(system()))


FORM_LIST = s.FormSummarySchema(many=True)
FORM_DETAIL = s.FormDetailSchema()


@api.get("/forms")
@authenticated
def forms():
    return jsonify(FORM_LIST.dump(forms_service.list_forms(system())))


@api.get("/forms/<name>")
@authenticated
def form(name: str):
    return FORM_DETAIL.dump(forms_service.public_form(system(), name))


HEATMAP_QUERY = s.HeatmapQuery()
HEATMAP_REPORT = s.HeatmapReport()
MIGRATE_REQUEST = s.MigrateRequest()
MIGRATE_RESPONSE = s.MigrateResponse()


@api.get("/processes/<process_id>/heatmap")
@authenticated
def process_heatmap(process_id: str):
    params = query(HEATMAP_QUERY)
    return HEATMAP_REPORT.dump(heat.heatmap(system(), g.actor, process_id, params.get("version"), params.get("start"),
                                            params.get("end"), params.get("unit")))


@api.post("/cases/<int:case_id>/migrate")
@authenticated
def migrate_case(case_id: int):
    payload = body(MIGRATE_REQUEST)
    return MIGRATE_RESPONSE.dump(case_admin.migrate_case(system(), g.actor, case_id, payload["version"],
                                                         payload["reason"], process=payload.get("process")))


@api.get("/openapi.json")
def openapi():
    from .openapi import spec

    starts, task_forms = definitions.forms_in_use(system())
    return jsonify(spec(system().forms.forms, starts, task_forms))
