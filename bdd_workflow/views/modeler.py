"""The modeler: edit, validate, save drafts and deploy diagrams; the versions of each process (issue 5, items 6, 7, 10).

Pages for people (the versions list, the modeler) and JSON endpoints for the modeler's script. The JSON
endpoints answer errors in JSON too (401, 403, 404, 422, CSRF), as the API does; every POST, PUT and
DELETE carries the session's CSRF token (header X-CSRFToken from the script)."""

from __future__ import annotations

from datetime import datetime
from functools import wraps
from typing import Any
from zoneinfo import ZoneInfo

from flask import Blueprint, Response, flash, g, jsonify, redirect, render_template, request, url_for
from flask_wtf.csrf import CSRFError
from werkzeug.exceptions import HTTPException

from ..errors import AuthenticationRequired, DefinitionInvalid, DomainError, Forbidden
from ..roles import ADMINISTRATOR
from ..services import modeler as service
from .web_common import current_actor, roles_required, system

modeler = Blueprint("modeler", __name__, url_prefix="/admin/processes")

# Endpoints the modeler's script calls: their errors are JSON, never an HTML page.
JSON_ENDPOINTS = {"modeler.save_draft", "modeler.delete_draft", "modeler.validate", "modeler.deploy",
                  "modeler.options"}
XML_MIMETYPE = "application/xml"


def _json_endpoint() -> bool:
    return request.endpoint in JSON_ENDPOINTS or (
        request.endpoint == "modeler.versions" and _wants_json_listing())


def _wants_json_listing() -> bool:
    return request.args.get("format") == "json" or (
        request.accept_mimetypes.best == "application/json")


def _local_iso(value: datetime | None) -> str | None:
    return value.astimezone(ZoneInfo(system().settings.timezone)).isoformat() if value else None


def _jsonable(value: Any) -> Any:
    if isinstance(value, datetime):
        return _local_iso(value)
    if isinstance(value, dict):
        return {k: _jsonable(v) for k, v in value.items()}
    if isinstance(value, list):
        return [_jsonable(v) for v in value]
    return value


def json_roles_required(*roles: str):
    """Like roles_required, for JSON endpoints: 401 / 403 as JSON instead of a redirect or a page."""

    def decorator(view):
        @wraps(view)
        def wrapper(*args, **kwargs):
            if current_actor() is None:
                raise AuthenticationRequired("请先登录（会话已过期时请刷新页面重新登录）。")
            if g.actor.role not in roles:
                raise Forbidden("您的角色无权进行此操作。")
            return view(*args, **kwargs)

        return wrapper

    return decorator


def _json_error(status: int, code: str, message: str, **extra: Any):
    response = jsonify({"error": code, "message": message, **extra})
    response.status_code = status
    return response


def _page(status: int, message: str):
    titles = {400: "请求有误", 401: "请先登录", 403: "无权访问", 404: "页面不存在", 413: "文件太大", 422: "提交的数据有误"}
    return render_template("error.html", status=status, title=titles.get(status, "出错了"), message=message), status


@modeler.errorhandler(DomainError)
def domain_error(exc: DomainError):
    if not _json_endpoint():
        return _page(exc.status, exc.message)
    extra: dict[str, Any] = {}
    if isinstance(exc, DefinitionInvalid):
        extra = {"element": exc.element, "problems": [
            {"element": p.get("element"), "message": p.get("message"), "source": p.get("source", "check"),
             "severity": p.get("severity", "error")} for p in exc.problems]}
    return _json_error(exc.status, exc.code, exc.message, **extra)


@modeler.errorhandler(CSRFError)
def csrf_error(exc: CSRFError):
    message = "页面已过期或来源不明（CSRF 校验未通过），请刷新页面后重新提交。"
    if not _json_endpoint():
        return _page(400, message)
    return _json_error(400, "csrf_failed", message)


@modeler.errorhandler(HTTPException)
def http_error(exc: HTTPException):
    messages = {400: "请求格式不正确。", 404: "请求的地址不存在。", 405: "不支持这种请求方法。", 413: "图太大，超过了上传大小上限。",
                415: "不支持的内容类型，请发送 JSON。"}
    message = messages.get(exc.code or 500, "请求失败。")
    if not _json_endpoint():
        return _page(exc.code or 500, message)
    return _json_error(exc.code or 500, exc.name.lower().replace(" ", "_"), message)


def _xml_from_json() -> tuple[str, str]:
    payload = request.get_json(silent=True)
    if not isinstance(payload, dict) or not isinstance(payload.get("xml"), str):
        raise DomainError("请求体应为 JSON {\"xml\": \"<bpmn:definitions ...>\"}（Content-Type: application/json）。")
    filename = payload.get("filename")
    return payload["xml"], filename if isinstance(filename, str) else ""


def _xml_response(xml: str, filename: str, download: bool) -> Response:
    response = Response(xml, mimetype=XML_MIMETYPE)
    response.headers["Cache-Control"] = "no-store"
    # A diagram is data: opened directly, nothing in it may run or load (the modeler fetches it).
    response.headers["Content-Security-Policy"] = "default-src 'none'; sandbox"
    if download:
        response.headers["Content-Disposition"] = f'attachment; filename="{filename}"'
    return response


# --- pages --------------------------------------------------------------------------------------------

@modeler.get("")
@roles_required(*service.VIEW_ROLES)
def versions():
    """Every process with its versions, cases per version, drafts; decisions (read-only for supervisors)."""
    data = service.overview(system(), g.actor)
    if _wants_json_listing():
        return jsonify(_jsonable(data))
    return render_template("admin/processes.html", data=data, can_edit=g.actor.role == ADMINISTRATOR)


def _modeler_page(process_id: str | None):
    source = service.modeler_source(system(), g.actor, process_id, request.args.get("version"))
    xml_url = None
    if source["source"] == "version":
        xml_url = url_for("modeler.version_xml", process_id=process_id, version=source["version"])
    elif source["source"] == "draft":
        xml_url = url_for("modeler.draft_xml", process_id=process_id)
    placeholder = "__process_id__"
    return render_template(
        "admin/modeler.html", process_id=process_id, title=source["title"], xml_url=xml_url, source=source,
        validate_url=url_for("modeler.validate"), deploy_url=url_for("modeler.deploy"),
        options_url=url_for("modeler.options"), versions_url=url_for("modeler.versions"),
        draft_url=url_for("modeler.save_draft", process_id=process_id) if process_id else None,
        # A new diagram has no id until the administrator names its process: put the id in for the placeholder.
        draft_url_template=url_for("modeler.save_draft", process_id=placeholder),
    )


@modeler.get("/new/modeler")
@roles_required(ADMINISTRATOR)
def new_diagram():
    return _modeler_page(None)


@modeler.get("/<process_id>/modeler")
@roles_required(ADMINISTRATOR)
def edit(process_id: str):
    return _modeler_page(process_id)


@modeler.get("/<process_id>/versions/<int:version>.bpmn")
@roles_required(*service.VIEW_ROLES)
def version_xml(process_id: str, version: int):
    xml, filename = service.version_xml(system(), g.actor, process_id, version)
    return _xml_response(xml, filename, download="download" in request.args)


@modeler.get("/<process_id>/draft.bpmn")
@roles_required(ADMINISTRATOR)
def draft_xml(process_id: str):
    xml = service.draft_xml(system(), g.actor, process_id)
    return _xml_response(xml, f"{process_id}.draft.bpmn", download="download" in request.args)


@modeler.post("/<process_id>/draft/delete")
@roles_required(ADMINISTRATOR)
def delete_draft_form(process_id: str):
    if not request.form.get("confirm"):
        flash("请先勾选“确认”再删除草稿。", "error")
        return redirect(url_for("modeler.versions"))
    try:
        service.delete_draft(system(), g.actor, process_id)
        flash(f"已删除流程 {process_id} 的草稿。", "success")
    except DomainError as exc:
        flash(exc.message, "error")
    return redirect(url_for("modeler.versions"))


# --- JSON endpoints of the modeler's script ----------------------------------------------------------

@modeler.delete("/<process_id>/draft.bpmn")
@json_roles_required(ADMINISTRATOR)
def delete_draft(process_id: str):
    service.delete_draft(system(), g.actor, process_id)
    return jsonify({"deleted": True, "process": process_id})


@modeler.put("/<process_id>/draft")
@json_roles_required(ADMINISTRATOR)
def save_draft(process_id: str):
    xml, _filename = _xml_from_json()
    payload = request.get_json(silent=True) or {}
    base = payload.get("base_version")
    saved = service.save_draft(system(), g.actor, process_id, xml,
                               base if isinstance(base, int) and not isinstance(base, bool) else None)
    return jsonify(_jsonable(saved))


@modeler.post("/validate")
@json_roles_required(ADMINISTRATOR)
def validate():
    xml, filename = _xml_from_json()
    return jsonify(service.validate(system(), g.actor, service.xml_bytes(xml), filename or "diagram.bpmn"))


@modeler.post("/deploy")
@json_roles_required(ADMINISTRATOR)
def deploy():
    xml, filename = _xml_from_json()
    result = service.deploy(system(), g.actor, service.xml_bytes(xml), filename)
    body = {"kind": result.get("kind"), "processes": [
        {"process": p["process"], "version": p["version"], "unchanged": p.get("unchanged", False)}
        for p in result.get("processes", [])],
        "decisions": result.get("decisions", []), "warnings": result.get("warnings", [])}
    return jsonify(body), 201


@modeler.get("/options.json")
@json_roles_required(ADMINISTRATOR)
def options():
    return jsonify(service.options(system(), g.actor))
