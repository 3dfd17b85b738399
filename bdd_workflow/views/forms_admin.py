"""The forms editor: a form's JSON Schema and UI schema with a live preview (issue 5, item 8).
Administrators only. Each view parses the request, calls one service function, renders."""

from __future__ import annotations

from flask import Blueprint, flash, g, jsonify, redirect, render_template, request, url_for

from ..errors import Conflict, DomainError
from ..roles import ADMINISTRATOR
from ..services import forms_admin as service
from .web_common import roles_required, system

forms_admin = Blueprint("forms_admin", __name__, url_prefix="/admin/forms")


def _base_version() -> int | None:
    value = (request.form.get("base_version") or "").strip()
    return int(value) if value.isdigit() else None


def _preview(schema_text: str, ui_text: str) -> dict:
    """The server-rendered first preview (the page works before any JavaScript runs)."""
    try:
        return {"result": service.preview(system(), g.actor, schema_text, ui_text), "problems": []}
    except service.FormDefinitionInvalid as exc:
        return {"result": None, "problems": exc.problems}


def _editor(name: str, title: str, schema_text: str, ui_text: str, base_version: int | None, status: int = 200,
            problems=None, warnings=None, message: str | None = None, detail: dict | None = None):
    detail = detail or service.get_form(system(), g.actor, name)
    return render_template(
        "admin/forms_edit.html", form=detail, title=title, schema_text=schema_text, ui_text=ui_text,
        base_version=base_version, problems=problems or [], warnings=warnings or [], message=message,
        preview=_preview(schema_text, ui_text)), status


@forms_admin.get("", strict_slashes=False)
@roles_required(ADMINISTRATOR)
def index():
    return render_template("admin/forms.html", forms=service.list_forms(system(), g.actor))


@forms_admin.get("/new")
@roles_required(ADMINISTRATOR)
def new():
    name = (request.args.get("name") or "").strip()
    try:
        service.get_form(system(), g.actor, name)
    except DomainError as exc:
        flash(exc.message, "error")
        return redirect(url_for("forms_admin.index"))
    return redirect(url_for("forms_admin.edit", name=name))


@forms_admin.get("/<name>")
@roles_required(ADMINISTRATOR)
def edit(name: str):
    detail = service.get_form(system(), g.actor, name)
    return _editor(name, detail["title"], service.pretty(detail["schema"]), service.pretty(detail["ui"]),
                   detail["latest_version"], detail=detail)


@forms_admin.post("/<name>")
@roles_required(ADMINISTRATOR)
def save(name: str):
    title = request.form.get("title", "")
    schema_text, ui_text = request.form.get("schema", ""), request.form.get("ui", "")
    base = _base_version()
    try:
        result = service.save_form(system(), g.actor, name, title, schema_text, ui_text, base,
                                   confirm=request.form.get("confirm") == "1")
    except service.FormDefinitionInvalid as exc:
        return _editor(name, title, schema_text, ui_text, base, 422, problems=exc.problems, message=exc.message)
    except service.ConfirmationRequired as exc:
        return _editor(name, title, schema_text, ui_text, base, 409, warnings=exc.warnings, message=exc.message)
    except Conflict as exc:
        return _editor(name, title, schema_text, ui_text, base, 409, message=exc.message)
    if result["unchanged"]:
        flash(f"没有改动：与当前的第 {result['version']} 版相同，未保存新版本。", "info")
    else:
        flash(f"表单 {name} 已保存为第 {result['version']} 版，新办理的任务即按此版本显示和校验。", "success")
    return redirect(url_for("forms_admin.edit", name=name))


@forms_admin.post("/preview")
@roles_required(ADMINISTRATOR)
def preview():
    """JSON {"schema", "ui"} (texts or objects; "values": [[name, value], ...] and "check": true to validate
    what was filled in) -> {"html"} rendered by the task page's macros, or {"errors": [...]}."""
    payload = request.get_json(silent=True)
    if not isinstance(payload, dict):
        return jsonify({"errors": [{"text": "请求体应为 JSON 对象 {\"schema\", \"ui\"}。"}]}), 400
    texts = [v if isinstance(v, str) or v is None else service.pretty(v) for v in (payload.get("schema"), payload.get("ui"))]
    values = payload.get("values")
    if values is not None:
        if not isinstance(values, list) or not all(isinstance(p, list) and len(p) == 2 for p in values):
            return jsonify({"errors": [{"text": "values 应为 [[字段名, 值], ...]。"}]}), 400
        values = [(str(k), str(v)) for k, v in values[:5000]]
    try:
        result = service.preview(system(), g.actor, texts[0], texts[1], values, check=payload.get("check") is True)
    except service.FormDefinitionInvalid as exc:
        return jsonify({"errors": exc.problems})
    html = render_template("admin/forms_preview.html", result=result)
    return jsonify({"html": html, "checked": result["checked"], "valid": result["valid"], "data": result["data"],
                    "field_errors": result["errors"]})


@forms_admin.get("/<name>/versions/<int:version>")
@roles_required(ADMINISTRATOR)
def version(name: str, version: int):
    detail = service.get_form(system(), g.actor, name, version)
    schema_text, ui_text = service.pretty(detail["schema"]), service.pretty(detail["ui"])
    return render_template("admin/forms_version.html", form=detail, schema_text=schema_text, ui_text=ui_text,
                           preview=_preview(schema_text, ui_text))


@forms_admin.post("/<name>/versions/<int:version>/restore")
@roles_required(ADMINISTRATOR)
def restore(name: str, version: int):
    try:
        result = service.restore_version(system(), g.actor, name, version, _base_version(),
                                         confirm=request.form.get("confirm") == "1")
    except service.ConfirmationRequired as exc:
        detail = service.get_form(system(), g.actor, name, version)
        schema_text, ui_text = service.pretty(detail["schema"]), service.pretty(detail["ui"])
        return render_template("admin/forms_version.html", form=detail, schema_text=schema_text, ui_text=ui_text,
                               preview=_preview(schema_text, ui_text), warnings=exc.warnings, message=exc.message), 409
    except DomainError as exc:
        flash(exc.message, "error")
        return redirect(url_for("forms_admin.version", name=name, version=version))
    if result["unchanged"]:
        flash(f"第 {version} 版与当前版本相同，无需恢复。", "info")
    else:
        flash(f"已将第 {version} 版恢复为第 {result['version']} 版。", "success")
    return redirect(url_for("forms_admin.edit", name=name))
