"""Catalog and staff registry: matters with their one-time notices, org units, staff with their history (issue 5, item 9).

Thin: each view parses the form, calls one service of services/registry.py, renders or redirects. A
refused change re-renders the form with each message next to its field and the input kept (422)."""

from __future__ import annotations

from flask import Blueprint, flash, g, redirect, render_template, request, url_for

from ..errors import FormInvalid
from ..roles import ROLE_TITLES
from ..services import phrase_registry
from ..services import registry as reg
from .web_common import roles_required, system

registry = Blueprint("registry", __name__, url_prefix="/admin/registry")


@registry.context_processor
def labels():
    return {"MATTER_KINDS": reg.MATTER_KINDS, "SERVICE_TYPES": reg.SERVICE_TYPES, "LEVEL_TITLES": reg.LEVEL_TITLES,
            "UNIT_KINDS": reg.UNIT_KINDS, "NOTICE_TITLES": reg.NOTICE_TITLES, "ROLE_TITLES": ROLE_TITLES}


def _arg(name: str, limit: int = 64) -> str | None:
    value = (request.args.get(name) or "").strip()
    return value[:limit] or None


@registry.get("/")
@roles_required(*reg.MANAGE_ROLES)
def index():
    return redirect(url_for("registry.matters"))


# --- matters (R-5.3, R-5.4) -----------------------------------------------------------------------------

@registry.get("/matters")
@roles_required(*reg.MANAGE_ROLES)
def matters():
    result = reg.list_matters(system(), g.actor, q=_arg("q", 50), kind=_arg("kind", 16), unit=_arg("unit", 32),
                              state=_arg("state", 16) or "active")
    return render_template("admin/registry/matters.html", result=result)


def _matter_form(code: str | None):
    if request.method == "POST":
        data = reg.matter_input(request.form)
        try:
            saved = reg.save_matter(system(), g.actor, data, code)
        except FormInvalid as exc:
            page = {"values": data, "is_new": code is None, "active": True, "running_cases": 0,
                    "units": reg.matter_form_units(system(), data["responsible_unit"])}
            return render_template("admin/registry/matter_form.html", page=page, errors=exc.errors,
                                   message=exc.message), 422
        warning = "" if saved["notice_complete"] else "（一次性告知不完整，已按确认保存，请尽快补全）"
        verb = "已新增" if saved["created"] else ("已保存" if saved["changed"] else "没有改动：")
        flash(f"{verb}事项“{saved['name']}”（{saved['code']}）{warning}。", "warning" if warning else "success")
        return redirect(url_for("registry.matter", code=saved["code"]))
    page = reg.matter_page(system(), g.actor, code)
    return render_template("admin/registry/matter_form.html", page=page, errors={}, message=None)


@registry.route("/matters/new", methods=["GET", "POST"])
@roles_required(*reg.MANAGE_ROLES)
def new_matter():
    return _matter_form(None)


@registry.route("/matters/<code>", methods=["GET", "POST"])
@roles_required(*reg.MANAGE_ROLES)
def matter(code: str):
    return _matter_form(code)


@registry.post("/matters/<code>/<any(retire, reactivate):action>")
@roles_required(*reg.MANAGE_ROLES)
def matter_active(code: str, action: str):
    _set_active(reg.set_matter_active, code, action, "事项", retire_word="停用")
    return redirect(url_for("registry.matter", code=code))


def _set_active(change, code: str, action: str, what: str, retire_word: str) -> None:
    """Retire or reactivate (``action``) a matter or unit through ``change`` and say so (已停用事项“…”);
    a refusal is flashed with its reason."""
    try:
        done = change(system(), g.actor, code, action == "reactivate")
        flash(f"已{'恢复' if done['active'] else retire_word}{what}“{done['name']}”。"
              + (f"仍有 {done['continuing']} 件未办结的办件（含回访、整改）使用它，将继续办理至办结。"
                 if done.get("continuing") else ""), "success")
    except FormInvalid as exc:
        flash(exc.message, "error")


# --- org units (R-3.3) -------------------------------------------------------------------------------------

@registry.get("/units")
@roles_required(*reg.VIEW_UNIT_ROLES)
def units():
    return render_template("admin/registry/units.html", result=reg.unit_registry(system(), g.actor))


@registry.route("/units/new", methods=["GET", "POST"])
@roles_required(*reg.UNIT_ROLES)
def new_unit():
    parent = _arg("parent", 32) or ""
    page = reg.unit_page(system(), g.actor, parent=parent)
    values, errors = {"code": (parent + "-") if parent else "", "name": "", "kind": "", "phone": "", "address": ""}, {}
    if request.method == "POST":
        values = reg.unit_input(request.form)
        try:
            done = reg.create_unit(system(), g.actor, parent, values)
            flash(f"已新建单位“{done['name']}”（{done['code']}）。", "success")
            return redirect(url_for("registry.units", _anchor=f"unit-{done['code']}"))
        except FormInvalid as exc:
            errors = exc.errors
    return render_template("admin/registry/unit_form.html", page=page, values=values, errors=errors,
                           is_new=True), 422 if errors else 200


@registry.route("/units/<code>", methods=["GET", "POST"])
@roles_required(*reg.UNIT_ROLES)
def unit(code: str):
    page = reg.unit_page(system(), g.actor, code=code)
    values, errors = dict(page["unit"]), {}
    if request.method == "POST":
        values = {**values, **reg.unit_input(request.form), "code": code}
        try:
            done = reg.update_unit(system(), g.actor, code, values)
            flash(f"已保存单位“{done['name']}”。" if done["changed"] else "没有改动。", "success")
            return redirect(url_for("registry.units", _anchor=f"unit-{code}"))
        except FormInvalid as exc:
            errors = exc.errors
    return render_template("admin/registry/unit_form.html", page=page, values=values, errors=errors,
                           is_new=False), 422 if errors else 200


@registry.post("/units/<code>/<any(retire, reactivate):action>")
@roles_required(*reg.UNIT_ROLES)
def unit_active(code: str, action: str):
    _set_active(reg.set_unit_active, code, action, "单位", retire_word="撤销")
    return redirect(url_for("registry.units", _anchor=f"unit-{code}"))


# --- staff (R-6.1) ------------------------------------------------------------------------------------------

@registry.get("/staff")
@roles_required(*reg.MANAGE_ROLES)
def staff_list():
    result = reg.list_staff(system(), g.actor, q=_arg("q", 50), unit=_arg("unit", 32), role=_arg("role", 32),
                            state=_arg("state", 16) or "active")
    return render_template("admin/registry/staff_list.html", result=result, roles=reg.role_choices(g.actor))


@registry.route("/staff/new", methods=["GET", "POST"])
@roles_required(*reg.MANAGE_ROLES)
def new_staff():
    values = {"username": "", "name": "", "role": "", "unit": _arg("unit", 32) or "", "phone": "", "duties": ""}
    errors = {}
    if request.method == "POST":
        values = reg.staff_input(request.form)
        try:
            done = reg.register_staff(system(), g.actor, values)
            flash(f"已登记{done['name']}（{done['username']}），请把初始密码当面告知本人。", "success")
            return redirect(url_for("registry.staff", username=done["username"]))
        except FormInvalid as exc:
            errors = exc.errors
        values = {k: v for k, v in values.items() if k not in ("password", "password2")}  # never echoed
    return render_template("admin/registry/staff_new.html", values=values, errors=errors,
                           units=reg.staff_form_units(system()), roles=reg.role_choices(g.actor)), 422 if errors else 200


def _staff_page(username: str, errors: dict | None = None, values: dict | None = None, status: int = 200):
    page = reg.staff_page(system(), g.actor, username)
    return render_template("admin/registry/staff_detail.html", page=page, errors=errors or {},
                           values=values or page["staff"], roles=reg.role_choices(g.actor)), status


@registry.route("/staff/<username>", methods=["GET", "POST"])
@roles_required(*reg.MANAGE_ROLES)
def staff(username: str):
    if request.method == "POST":
        values = reg.staff_input(request.form)
        try:
            done = reg.update_staff(system(), g.actor, username, values)
        except FormInvalid as exc:
            return _staff_page(username, {"edit": exc.errors}, values, 422)
        changed = "、".join(reg.STAFF_FIELD_TITLES[k] for k in done["changed"])
        flash(f"已保存{done['name']}的{changed}，变更已记入人员档案。" if changed else "没有改动。", "success")
        if done["held_tasks"]:
            flash(f"{done['name']}名下还有 {len(done['held_tasks'])} 项已认领的待办，调整后可能无法继续办理，"
                  "请首席服务专员在“待改派任务”中改派。", "warning")
        return redirect(url_for("registry.staff", username=username))
    return _staff_page(username)


@registry.post("/staff/<username>/<any(deactivate, reactivate):action>")
@roles_required(*reg.MANAGE_ROLES)
def staff_active(username: str, action: str):
    try:
        done = reg.set_staff_active(system(), g.actor, username, action == "reactivate", request.form.get("reason", ""))
    except FormInvalid as exc:
        return _staff_page(username, {action: exc.errors, "_message": exc.message}, status=422)
    if done["active"]:
        flash(f"已恢复{done['name']}的账户。", "success")
    else:
        held = len(done["held_tasks"])
        flash(f"已停用{done['name']}的账户，不能再登录。" + (f"其名下还有 {held} 项待办，请首席服务专员改派。" if held else ""),
              "warning" if held else "success")
    return redirect(url_for("registry.staff", username=username))


@registry.post("/staff/<username>/password")
@roles_required(*reg.MANAGE_ROLES)
def staff_password(username: str):
    try:
        done = reg.reset_password(system(), g.actor, username, request.form.get("password", ""),
                                  request.form.get("password2", ""))
    except FormInvalid as exc:
        return _staff_page(username, {"password": exc.errors}, status=422)
    flash(f"已重置{done['name']}的密码并解除锁定，请把新密码当面告知本人。", "success")
    return redirect(url_for("registry.staff", username=username))


@registry.post("/staff/<username>/unlock")
@roles_required(*reg.MANAGE_ROLES)
def staff_unlock(username: str):
    done = reg.unlock_staff(system(), g.actor, username)
    flash(f"已解除{done['name']}的账户锁定。" if done["was_locked"] else f"{done['name']}的账户没有被锁定。", "success")
    return redirect(url_for("registry.staff", username=username))


# --- forbidden phrases (R-6.3.2) ------------------------------------------------------------------------------

def _phrases_page(values: dict | None = None, errors: dict | None = None, message: str | None = None, status: int = 200):
    return render_template("admin/registry/phrases.html", result=phrase_registry.phrase_registry(system(), g.actor),
                           values=values or {"phrase": "", "variants": "", "alternative": ""}, errors=errors or {},
                           message=message), status


@registry.get("/phrases")
@roles_required(*reg.MANAGE_ROLES)
def phrases():
    return _phrases_page()


@registry.post("/phrases")
@roles_required(*reg.MANAGE_ROLES)
def add_phrase():
    values = phrase_registry.phrase_input(request.form)
    try:
        done = phrase_registry.add_phrase(system(), g.actor, values)
    except FormInvalid as exc:
        return _phrases_page(values, exc.errors, exc.message, 422)
    flash(f"已添加禁忌用语“{done['phrase']}”，各窗口提交时立即生效。", "success")
    return redirect(url_for("registry.phrases", _anchor=f"phrase-{done['id']}"))


@registry.post("/phrases/<int:phrase_id>/<any(deactivate, reactivate):action>")
@roles_required(*reg.MANAGE_ROLES)
def phrase_active(phrase_id: int, action: str):
    try:
        done = phrase_registry.set_phrase_active(system(), g.actor, phrase_id, action == "reactivate")
        flash(f"已{'恢复' if done['active'] else '停用'}禁忌用语“{done['phrase']}”。" if done["changed"] else "没有改动。",
              "success")
    except FormInvalid as exc:
        flash(exc.message, "error")
    return redirect(url_for("registry.phrases", _anchor=f"phrase-{phrase_id}"))


@registry.get("/handover")
@roles_required(*reg.HANDOVER_ROLES)
def handover():
    return render_template("admin/registry/handover.html", result=reg.orphaned_tasks(system(), g.actor))
