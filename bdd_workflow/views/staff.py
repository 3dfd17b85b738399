"""Staff pages (server-rendered, Chinese): login, inbox, tasks, cases, intake, callback desk, ledger.
Each view parses the request, calls one service, renders a template."""

from __future__ import annotations

import base64
import binascii
import io
import re
from datetime import datetime

from flask import Blueprint, flash, g, jsonify, redirect, render_template, request, send_file, session, url_for
from marshmallow import ValidationError

from .. import formrender, schemas
from ..errors import Conflict, DomainError, Forbidden, FormInvalid
from ..roles import ADMINISTRATOR, CHIEF_OFFICER, CONSULTANT, SUPERVISOR
from ..services import attachments, case_admin, cases, identity, metrics, problems, relays, supervision, tasks
from ..services import inbox as desk
from ..workdays import day_or_none
from .public import viewer_installed
from .throttle import client_address
from .web_common import (allow_large_uploads, current_actor, local_path, login_required, render_start_forms,
                         roles_required, start_session, system)

staff = Blueprint("staff", __name__)

START_DATA = schemas.StartData()
# What every start asks for (cases.START_FIELDS); what a procedure needs beyond these (上门办: the address;
# a consultation: the question) is the start form its diagram names, rendered from the form.
INTAKE_FIELDS = cases.START_FIELDS
SIGNATURE_DATA_URL = re.compile(r"data:image/png;base64,([A-Za-z0-9+/=\s]+)")
MARSHMALLOW_MESSAGES = {
    "Missing data for required field.": "此项为必填项。", "Unknown field.": "不认识的字段。",
    "Not a valid string.": "应为文本。", "Field may not be null.": "不能为空。",
}
MAX_PAGE = 100_000


allow_large_uploads(staff, {
    "staff.add_attachment": (attachments.MAX_BYTES + 64 * 1024, 4 * 1024 * 1024),
    "staff.signature": (attachments.MAX_BYTES + 64 * 1024, 4 * 1024 * 1024),
})


def _safe_next(target: str | None) -> str:
    """Only same-site paths (``web_common.local_path``): a login link cannot send staff elsewhere."""
    return local_path(target, url_for("staff.inbox"))


def _page() -> int:
    return min(max(request.args.get("page", 1, type=int) or 1, 1), MAX_PAGE)


def _arg(name: str, limit: int = 64) -> str | None:
    value = (request.args.get(name) or "").strip()
    return value[:limit] or None


def _have() -> list[int]:
    return [i for i in request.args.getlist("have", type=int) if 0 <= i < 1000]


def _flash_errors(exc: FormInvalid) -> None:
    flash("；".join(m for messages in exc.errors.values() for m in messages) or exc.message, "error")


def _countdown(due: datetime | None, now: datetime | None = None) -> str:
    """剩余 1小时20分 / 已超时 35分 (staff.js keeps it current in the browser)."""
    if due is None:
        return "无期限"
    now = now or system().clock.now()
    seconds = int((due - now).total_seconds())
    minutes = abs(seconds) // 60
    days, rest = divmod(minutes, 1440)
    hours, mins = divmod(rest, 60)
    text = f"{days}天{hours}小时" if days else f"{hours}小时{mins}分" if hours else f"{mins}分"
    return ("剩余 " if seconds >= 0 else "已超时 ") + text


staff.add_app_template_filter(_countdown, "countdown")


@staff.context_processor
def labels():
    return {"PROCESS_TITLES": desk.PROCESS_TITLES, "STATUS_TITLES": desk.STATUS_TITLES,
            "CHANNEL_TITLES": desk.CHANNEL_TITLES, "APPLICANT_TYPES": desk.APPLICANT_TYPES,
            "RELATION_TITLES": desk.RELATION_TITLES, "ACTION_TITLES": desk.ACTION_TITLES,
            "KIND_TITLES": attachments.KINDS}


# --- login ---------------------------------------------------------------------------------------------

@staff.route("/login", methods=["GET", "POST"])
def login():
    if request.method == "POST":
        username = request.form.get("username", "").strip()
        try:
            actor = identity.authenticate(system(), username, request.form.get("password", ""), client_address())
        except identity.LoginRefused as exc:
            g.login_checked = exc.checked  # what the per-account throttle counts (views/throttle.py)
            return render_template("staff/login.html", error=exc.message, username=username), 401
        start_session(actor)
        return redirect(_safe_next(request.args.get("next")))
    if current_actor() is not None:
        return redirect(url_for("staff.inbox"))
    return render_template("staff/login.html", error=None, username="")


@staff.post("/logout")
def logout():
    identity.end_session(system(), session.get("sid"))  # a copy of the cookie opens nothing any more
    session.clear()
    flash("您已退出登录。", "info")
    return redirect(url_for("staff.login"))


# --- inbox ---------------------------------------------------------------------------------------------

@staff.get("/")
@login_required
def inbox():
    result = desk.inbox(system(), g.actor, scope=_arg("scope") or "mine", process=_arg("process"),
                        matter=_arg("matter"), unit=_arg("unit"), due=_arg("due"), role=_arg("role"),
                        sort=_arg("sort") or "due", page=_page())
    return render_template("staff/inbox.html", inbox=result, relays=relays.pending_for(system(), g.actor),
                           now=system().clock.now())


@staff.post("/tasks/<task_id>/claim")
@login_required
def claim(task_id: str):
    try:
        task = tasks.claim_task(system(), g.actor, task_id)
        flash(f"已认领“{task['title']}”。", "success")
    except Conflict as exc:
        flash(exc.message, "error")
    return redirect(_safe_next(request.form.get("next")))


@staff.post("/tasks/<task_id>/unclaim")
@login_required
def unclaim(task_id: str):
    try:
        task = tasks.unclaim_task(system(), g.actor, task_id)
        flash(f"已退回“{task['title']}”，本组同事可以认领。", "success")
    except Conflict as exc:
        flash(exc.message, "error")
    return redirect(_safe_next(request.form.get("next")))


@staff.post("/tasks/<task_id>/reassign")
@login_required
def reassign(task_id: str):
    try:
        task = desk.reassign(system(), g.actor, task_id, request.form.get("username", "").strip())
        flash(f"已将“{task['title']}”改派给{task['assignee_name']}。", "success")
    except FormInvalid as exc:
        _flash_errors(exc)
    except Conflict as exc:
        flash(exc.message, "error")
    return redirect(_safe_next(request.form.get("next")))


@staff.post("/tasks/reassign")
@login_required
def reassign_many():
    """Several tasks of the group inbox to one person (R-7.1.1): all move, or none and every reason is shown."""
    ids = [t.strip()[:36] for t in request.form.getlist("task_ids") if t.strip()][:tasks.MAX_BULK_REASSIGN + 1]
    try:
        done = desk.reassign_many(system(), g.actor, ids, request.form.get("username", "").strip()[:64])
        flash(f"已将 {done['count']} 项任务改派给{done['assignee_name']}。", "success")
    except FormInvalid as exc:
        flash(exc.message + "".join(f"{m}" for messages in exc.errors.values() for m in messages), "error")
    except Conflict as exc:
        flash(exc.message, "error")
    return redirect(_safe_next(request.form.get("next")))


# --- a task --------------------------------------------------------------------------------------------

@staff.route("/tasks/<task_id>", methods=["GET", "POST"])
@login_required
def task(task_id: str):
    values, errors, message, status = None, {}, None, 200
    if request.method == "POST":
        data = formrender.parse(desk.form_schema(system(), task_id), request.form)
        try:
            result = desk.complete(system(), g.actor, task_id, data)
        except FormInvalid as exc:
            values, errors, message, status = data, exc.errors, exc.message, 422
        except Conflict as exc:  # also TaskNotReady: someone else was quicker
            values, message, status = data, exc.message, 409
        else:
            flash(result["message"], "success")
            return redirect(url_for("staff.inbox"))
    return _task_page(task_id, values, errors, message, status)


def _task_page(task_id: str, values=None, errors=None, message=None, status: int = 200, report_values=None,
               report_errors=None):
    have = _have()
    page = desk.task_page(system(), g.actor, task_id, have)
    form = formrender.render(page["form"] or {}, page["ui"], values or {}, errors or {}, page["refs"])
    report = desk.report_form(system()) if page["can_report"] else None
    report_form = formrender.render(report["schema"], report["ui"], report_values or {}, report_errors or {},
                                    report["refs"]) if report else None
    return render_template("staff/task.html", page=page, form=form, message=message, have=have, report=report,
                           report_form=report_form, now=system().clock.now()), status


@staff.post("/tasks/<task_id>/report")
@login_required
def report_problem(task_id: str):
    """问题上报 (R-6.4.2): the problem met on this task goes to the chief officer who directs the reporter's unit."""
    report = desk.report_form(system())
    data = formrender.parse(report["schema"], request.form) if report else {}
    try:
        result = problems.report_problem(system(), g.actor, task_id, data)
    except FormInvalid as exc:
        return _task_page(task_id, None, {}, None, 422, report_values=data, report_errors=exc.errors)
    except Conflict as exc:  # a finished task, nobody to receive it
        flash(exc.message, "error")
        return redirect(url_for("staff.task", task_id=task_id))
    flash(f"已向{result['chief_unit_name'] or result['chief_unit']}的首席服务专员报告问题（{result['number']}），"
          "答复将送到您的待办。", "success")
    return redirect(url_for("staff.task", task_id=task_id))


def _upload_refused(exc: FormInvalid, case_id: int | None, task_id: str | None):
    """A refused file: the task or case page it was sent from again, with the reason on it, as a 422
    (nothing was kept)."""
    _flash_errors(exc)
    if task_id:
        try:
            return _task_page(task_id, status=422)
        except DomainError:
            if case_id is None:
                raise
    return render_template("staff/case.html", case=desk.case_page(system(), g.actor, case_id),
                           now=system().clock.now()), 422


@staff.post("/cases/<int:case_id>/relays")
@login_required
def request_relay(case_id: int):
    """互动接力 from the task page (R-6.4.3): the holder hands the case to another unit."""
    back = _safe_next(request.form.get("next"))
    try:
        relay = relays.request_relay(system(), g.actor, case_id, request.form.get("to_unit", ""),
                                     request.form.get("reason", ""), request.form.get("materials", ""))
    except FormInvalid as exc:
        _flash_errors(exc)
        return redirect(back)
    except Conflict as exc:
        flash(exc.message, "error")
        return redirect(back)
    flash(f"已发出互动接力：等待{relay['to_unit_name']}的{relay['role_title']}接收。", "success")
    return redirect(url_for("staff.inbox"))


@staff.post("/relays/<int:relay_id>/<any(accept, return):answer>")
@login_required
def answer_relay(relay_id: int, answer: str):
    """The receiving unit accepts the relay or sends it back with a reason (R-6.4.3)."""
    try:
        relay = relays.answer_relay(system(), g.actor, relay_id, answer == "accept", request.form.get("note", ""))
    except FormInvalid as exc:
        _flash_errors(exc)
        return redirect(url_for("staff.inbox"))
    except Conflict as exc:
        flash(exc.message, "error")
        return redirect(url_for("staff.inbox"))
    if relay["status"] == "accepted":
        flash(f"已接收互动接力：办件已转到{relay['to_unit_name']}，请在本组待办中继续办理。", "success")
        return redirect(url_for("staff.case", case_id=relay["case_id"]))
    flash(f"已退回互动接力：办件留在{relay['from_unit_name']}。", "success")
    return redirect(url_for("staff.inbox"))


@staff.get("/tasks/<task_id>/notice")
@login_required
def notice_sheet(task_id: str):
    sheet = desk.notice_sheet(system(), g.actor, task_id, _have())
    return render_template("staff/notice_sheet.html", sheet=sheet)


def _signature_upload() -> tuple[bytes, str, str] | None:
    """A drawn signature (PNG data URL) or an uploaded scan, whichever was sent."""
    upload = request.files.get("file")
    if upload is not None and upload.filename:
        return upload.read(), upload.filename, upload.mimetype
    drawn = SIGNATURE_DATA_URL.fullmatch((request.form.get("signature_data") or "").strip())
    if drawn:
        try:
            return base64.b64decode(drawn.group(1)), "手写签名.png", "image/png"
        except (binascii.Error, ValueError):
            raise FormInvalid({"signature": ["手写签名的数据不完整，请清除后重新签名。"]}) from None
    return None


@staff.post("/tasks/<task_id>/signature")
@login_required
def signature(task_id: str):
    try:
        upload = _signature_upload()
        if upload is None:
            raise FormInvalid({"signature": ["请先请服务对象在签名框内手写签名，或选择签名扫描件。"]})
        desk.add_signature(system(), g.actor, task_id, *upload)
        flash("已签名：服务对象的签名已保存。", "success")
    except FormInvalid as exc:
        return _upload_refused(exc, None, task_id)
    except Conflict as exc:
        flash(exc.message, "error")
    return redirect(url_for("staff.task", task_id=task_id))


# --- cases ---------------------------------------------------------------------------------------------

@staff.get("/cases", endpoint="cases")
@login_required
def cases_list():
    status = _arg("status")
    result = desk.cases_page(system(), g.actor, process=_arg("process"),
                             status=status if status in ("running", "waiting", "suspended", "completed", "cancelled") else None,
                             page=_page())
    return render_template("staff/cases.html", result=result)


@staff.get("/cases/<int:case_id>")
@login_required
def case(case_id: int):
    return render_template("staff/case.html", case=desk.case_page(system(), g.actor, case_id),
                           now=system().clock.now())


@staff.post("/cases/<int:case_id>/attachments")
@login_required
def add_attachment(case_id: int):
    upload = request.files.get("file")
    back = _safe_next(request.form.get("next") or url_for("staff.case", case_id=case_id))
    if upload is None or not upload.filename:
        flash("请选择要上传的文件。", "error")
        return redirect(back)
    try:
        saved = attachments.add(system(), g.actor, case_id, request.form.get("kind") or "material", upload.read(),
                                upload.filename, upload.mimetype, task_id=request.form.get("task_id") or None,
                                note=(request.form.get("note") or "").strip()[:500] or None)
        flash(f"已上传{saved['kind_label']}：{saved['filename']}。", "success")
    except FormInvalid as exc:
        return _upload_refused(exc, case_id, request.form.get("task_id") or None)
    return redirect(back)


@staff.get("/attachments/<int:attachment_id>")
@login_required
def attachment(attachment_id: int):
    meta, data = attachments.content(system(), g.actor, attachment_id)
    return send_file(io.BytesIO(data), mimetype=meta["content_type"], as_attachment=True,
                     download_name=meta["filename"])


# --- intake (R-9.1.2, R-9.3.1) ---------------------------------------------------------------------------------

def _marshmallow_errors(messages, prefix: str = "") -> dict[str, list[str]]:
    flat: dict[str, list[str]] = {}
    for key, value in (messages.items() if isinstance(messages, dict) else [("_form", messages)]):
        name = f"{prefix}{key}"
        if isinstance(value, dict):
            flat.update(_marshmallow_errors(value, name + "."))
        else:
            flat[name] = [MARSHMALLOW_MESSAGES.get(str(m), str(m)) for m in (value if isinstance(value, list) else [value])]
    return flat


@staff.route("/intake", methods=["GET", "POST"])
@login_required
def intake():
    options = desk.intake_options(system(), g.actor)
    if not options["processes"]:
        raise Forbidden("您的角色不受理登记办件。")
    allowed = [p["process"] for p in options["processes"]]
    start_forms = {p["process"]: p["start_form"] for p in options["processes"] if p["start_form"]}
    values = {"process": request.args.get("process") if request.args.get("process") in allowed else allowed[0],
              "applicant_type": "personal", "channel": "walk_in"}
    errors: dict[str, list[str]] = {}
    start_values: dict = {}
    if request.method == "POST":
        values = {k: (request.form.get(k) or "").strip() for k in ("process", *INTAKE_FIELDS)}
        process = values["process"]
        if process not in allowed:
            errors["process"] = ["请选择要受理的服务类型。"]
        data = {k: v for k, v in values.items() if k in INTAKE_FIELDS and v}
        if process in start_forms:  # the fields of the chosen procedure's start form, typed by the form
            start_values = formrender.parse(start_forms[process]["schema"], request.form)
            data.update(start_values)
        try:
            data = START_DATA.load(data)
        except ValidationError as exc:  # said together with what the start form finds, so one try shows every error
            if process in start_forms:
                errors.update(cases.start_form_errors(system(), process, start_values))
            errors.update(_marshmallow_errors(exc.messages))
        if not errors:
            try:
                started = cases.start_case(system(), g.actor, process, data)
            except FormInvalid as exc:
                errors.update(exc.errors)
            else:
                flash(f"已受理登记，办件编号 {started['number']}。", "success")
                return redirect(url_for("staff.case", case_id=started["id"]))
    start_fields = render_start_forms(start_forms, values["process"], start_values, errors)
    chosen = start_fields.get(values["process"])  # it takes its own fields' errors, nested ones too
    unplaced = {k: v for k, v in (chosen.unplaced_errors if chosen else errors).items()
                if k not in ("process", *INTAKE_FIELDS)}
    return render_template("staff/intake.html", options=options, values=values, errors=errors, unplaced=unplaced,
                           start_fields=start_fields), 422 if errors else 200


# --- callback desk and ledger --------------------------------------------------------------------------

@staff.get("/callbacks")
@roles_required(CONSULTANT, CHIEF_OFFICER, SUPERVISOR)
def callbacks():
    return render_template("staff/callbacks.html", result=desk.callback_desk(system(), g.actor, page=_page()),
                           now=system().clock.now())


@staff.get("/ledger")
@login_required
def ledger():
    result = desk.ledger_page(system(), g.actor, unit=_arg("unit", 32), case_number=_arg("case_number", 32), page=_page())
    return render_template("staff/ledger.html", result=result)


@staff.get("/quality")
@roles_required(CHIEF_OFFICER, SUPERVISOR, ADMINISTRATOR)
def quality():
    """Section 4: the five figures for a period with their weekly or monthly trend, by unit and staff
    member, with the cases behind each number (R-4.a–e, R-10.1)."""
    today = system().clock.now().astimezone(system().calendar.tz).date()
    first = day_or_none(request.args.get("start")) or today.replace(day=1)
    last = day_or_none(request.args.get("end")) or today
    if last < first:
        first, last = last, first
    page = metrics.dashboard(system(), g.actor, first, last, _arg("unit", 32), trend=_arg("trend", 8) or "week",
                             focus=_arg("figure", 16), staff_figures=request.args.get("staff") == "1")
    return render_template("staff/quality.html", page=page)


# --- supervision: the case search and the ledger completeness check (R-4.e) -----------------------------------


SUPERVISE_ROLES = identity.SUPERVISING_ROLES


def _xlsx(data: bytes, stem: str, info: dict):
    """An .xlsx download; the Chinese file name travels as RFC 5987 filename* with an ASCII fallback."""
    today = system().clock.now().astimezone(system().calendar.tz)
    response = send_file(io.BytesIO(data), as_attachment=True, download_name=f"{stem}-{today:%Y%m%d}.xlsx",
                         mimetype="application/vnd.openxmlformats-officedocument.spreadsheetml.sheet")
    response.headers["X-Export-Total"] = str(info["total"])
    if info["truncated"]:
        response.headers["X-Export-Truncated"] = "1"
    return response


@staff.get("/supervise/cases")
@roles_required(*SUPERVISE_ROLES)
def supervise_cases():
    result = supervision.search_cases(system(), g.actor, request.args, page=_page())
    return render_template("staff/supervise_cases.html", result=result,
                           LATE_STATES=supervision.LATE_STATES, now=system().clock.now())


@staff.get("/supervise/cases.xlsx")
@roles_required(*SUPERVISE_ROLES)
def supervise_cases_xlsx():
    data, info = supervision.export_cases_xlsx(system(), g.actor, request.args)
    return _xlsx(data, "办件清单", info)


def _ledger_args() -> dict:
    return {"unit": _arg("unit", 32), "staff": _arg("staff", 64), "start": day_or_none(request.args.get("start")),
            "end": day_or_none(request.args.get("end")), "incomplete": request.args.get("incomplete") == "1"}


@staff.get("/supervise/ledger")
@roles_required(*SUPERVISE_ROLES)
def supervise_ledger():
    result = supervision.ledger_completeness(system(), g.actor, page=_page(), **_ledger_args())
    return render_template("staff/supervise_ledger.html", result=result)


@staff.get("/supervise/ledger.xlsx")
@roles_required(*SUPERVISE_ROLES)
def supervise_ledger_xlsx():
    data, info = supervision.export_ledger_xlsx(system(), g.actor, **_ledger_args())
    return _xlsx(data, "台账", info)


# --- case view for supervisors: the diagram, and suspend / resume / cancel ----------------------------------


@staff.get("/cases/<int:case_id>/diagram")
@login_required
def case_diagram(case_id: int):
    state = case_admin.diagram_state(system(), g.actor, case_id)
    return render_template("staff/case_diagram.html", state=state, case=state["case"],
                           viewer_installed=viewer_installed(), now=system().clock.now())


@staff.get("/cases/<int:case_id>/diagram.json")
@login_required
def case_diagram_json(case_id: int):
    return jsonify(case_admin.diagram_json(system(), g.actor, case_id))


def _case_action(case_id: int, action, done: str):
    try:
        result = action(system(), g.actor, case_id, request.form.get("reason", ""))
        flash(done.format(number=result["number"]), "success")
    except FormInvalid as exc:
        _flash_errors(exc)
    except Conflict as exc:
        flash(exc.message, "error")
    return redirect(url_for("staff.case_diagram", case_id=case_id))


@staff.post("/cases/<int:case_id>/suspend")
@login_required
def case_suspend(case_id: int):
    return _case_action(case_id, case_admin.suspend_case, "已暂停办件 {number}：其待办不能办理，时限暂停触发。")


@staff.post("/cases/<int:case_id>/resume")
@login_required
def case_resume(case_id: int):
    return _case_action(case_id, case_admin.resume_case, "已恢复办件 {number}。")


@staff.post("/cases/<int:case_id>/cancel")
@login_required
def case_cancel(case_id: int):
    return _case_action(case_id, case_admin.cancel_case, "已撤销办件 {number}。")
