"""The JSON API under /api/v1. Each view: parse (marshmallow), call one service, dump."""

from __future__ import annotations

from functools import wraps

from flask import Blueprint, current_app, g, jsonify, request
from werkzeug.exceptions import RequestEntityTooLarge

from .. import schemas as s
from ..errors import AuthenticationRequired, DomainError
from ..services import cases, definitions, identity, ledger, org, tasks
from ..system import System

api = Blueprint("api", __name__, url_prefix="/api/v1")


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


def body(schema: type[s.Schema]) -> dict:
    payload = request.get_json(silent=True)
    if payload is None:
        raise DomainError("请求体应为 JSON（Content-Type: application/json）。")
    return schema().load(payload)


def query(schema: type[s.Schema]) -> dict:
    return schema().load(request.args.to_dict())


@api.post("/auth/token")
def token():
    credentials = body(s.TokenRequest)
    actor = identity.authenticate(system(), credentials["username"], credentials["password"])
    return s.TokenResponse().dump({
        "token": identity.issue_token(system(), actor), "expires_in": system().settings.token_ttl_seconds,
        "user": {"username": actor.username, "name": actor.name, "role": actor.role, "unit": actor.unit_code},
    })


@api.get("/processes")
@authenticated
def processes():
    versions = request.args.get("versions") == "all"
    return jsonify(s.ProcessSchema(many=True).dump(definitions.list_definitions(system(), all_versions=versions)))


@api.post("/processes")
@authenticated
def deploy():
    upload = request.files.get("file")
    if upload is None or not upload.filename:
        raise DomainError("请以 multipart/form-data 上传 BPMN 或 DMN 文件（字段名 file）。")
    data = upload.read(system().settings.max_upload_bytes + 1)
    if len(data) > system().settings.max_upload_bytes:
        raise RequestEntityTooLarge()
    result = definitions.deploy(system(), g.actor, data, upload.filename)
    return s.DeployResponse().dump(result), 201


@api.post("/cases")
@authenticated
def start_case():
    payload = body(s.StartCaseRequest)
    case = cases.start_case(system(), g.actor, payload["process"], payload["data"])
    return s.CaseSchema().dump(case), 201, {"Location": f"/api/v1/cases/{case['id']}"}


@api.get("/cases")
@authenticated
def list_cases():
    return s.CasePage().dump(cases.list_cases(system(), g.actor, **query(s.CaseQuery)))


@api.get("/cases/<int:case_id>")
@authenticated
def get_case(case_id: int):
    return s.CaseSchema().dump(cases.get_case(system(), g.actor, case_id))


@api.get("/tasks")
@authenticated
def list_tasks():
    return s.TaskPage().dump(tasks.list_tasks(system(), g.actor, **query(s.TaskQuery)))


@api.get("/tasks/<task_id>")
@authenticated
def get_task(task_id: str):
    return s.TaskDetailSchema().dump(tasks.get_task(system(), g.actor, task_id))


@api.post("/tasks/<task_id>/claim")
@authenticated
def claim_task(task_id: str):
    return s.TaskSchema().dump(tasks.claim_task(system(), g.actor, task_id))


@api.post("/tasks/<task_id>/complete")
@authenticated
def complete_task(task_id: str):
    payload = body(s.CompleteTaskRequest)
    return s.CompleteTaskResponse().dump(tasks.complete_task(system(), g.actor, task_id, payload["data"]))


@api.get("/units")
@authenticated
def units():
    return jsonify(s.UnitSchema(many=True).dump(org.unit_tree(system())))


@api.get("/matters")
@authenticated
def matters():
    return jsonify(s.MatterSchema(many=True).dump(org.list_matters(system())))


@api.get("/ledger")
@authenticated
def ledger_entries():
    return s.LedgerPage().dump(ledger.list_ledger(system(), g.actor, **query(s.LedgerQuery)))


@api.get("/openapi.json")
def openapi():
    from .openapi import spec

    return jsonify(spec())
