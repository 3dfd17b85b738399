"""Pages for applicants, without an account: apply online (R-9.1.2, R-9.2.1, R-9.3.1), look up a case
with its number and phone, rate it (好差评, 网上一事一评), and read the 五公开 page (R-7.1.2 b).
Each view parses the request, calls one service, renders a template."""

from __future__ import annotations

import threading
import time
from collections import deque

import segno
from flask import Blueprint, Response, abort, current_app, render_template, request, url_for
from marshmallow import EXCLUDE, Schema, ValidationError, fields, validate

from ..config import PROJECT_ROOT
from ..errors import Conflict, DomainError, FormInvalid
from ..schemas import PHONE
from .. import formrender
from ..services import cases, evaluations, org
from ..services import inbox as desk
from ..services import public as public_service
from ..services import publicity
from .static_files import STATIC_FILES
from .web_common import render_start_forms, system

# No url_prefix: the pages live under /public, the bpmn-js files under /vendor.
public = Blueprint("public", __name__)

SERVICES = {"assist": "帮办", "proxy": "代办", "onsite": "上门办"}
APPLICANT_TYPES = {"personal": "个人", "enterprise": "企业"}
NODE_MODULES = PROJECT_ROOT / "web" / "node_modules"
# The only files served from node_modules: the ready-made viewer bundle and its style sheets.
VENDOR_FILES = {
    "bpmn-js/bpmn-navigated-viewer.production.min.js": "bpmn-js/dist/bpmn-navigated-viewer.production.min.js",
    "bpmn-js/diagram-js.css": "bpmn-js/dist/assets/diagram-js.css",
    "bpmn-js/bpmn-js.css": "bpmn-js/dist/assets/bpmn-js.css",
    "swagger-ui/swagger-ui-bundle.js": "swagger-ui-dist/swagger-ui-bundle.js",
    "swagger-ui/swagger-ui.css": "swagger-ui-dist/swagger-ui.css",
}
VIEWER = "bpmn-js/bpmn-navigated-viewer.production.min.js"
API_REFERENCE = "swagger-ui/swagger-ui-bundle.js"


def vendor_installed(name: str) -> bool:
    """Whether `npm ci` in web/ has put an allowlisted file in place (pages say how to get it if not)."""
    return (NODE_MODULES / VENDOR_FILES[name]).is_file()


def viewer_installed() -> bool:
    return vendor_installed(VIEWER)


# --- helpers the documents pages share ------------------------------------------------------------

def qr_data_uri(url: str) -> str:
    """A QR code of ``url`` as an SVG data URI (allowed by the CSP's img-src data:)."""
    return segno.make(url, error="m").svg_data_uri(scale=4, border=2, dark="#000")


def public_link(endpoint: str, **values) -> str:
    """The absolute address of a page as applicants reach it: BDD_PUBLIC_URL (settings.public_url) and the
    page's path. Never the request's Host header, which the client chooses."""
    path = url_for(endpoint, **values)
    root = request.script_root
    if root and path.startswith(root + "/"):  # mounted under a prefix: BDD_PUBLIC_URL carries it
        path = path[len(root):]
    return system().settings.public_url + path


def status_url(number: str) -> str:
    """The absolute address of a case's public status page, for QR codes and printed papers."""
    return public_link("public.case_status", number=number)


class _Throttle:
    """At most ``limit`` requests per ``window`` seconds per client address, in this process's memory."""

    def __init__(self, limit: int, window: float) -> None:
        self.limit, self.window = limit, window
        self.hits: dict[str, deque[float]] = {}
        self.lock = threading.Lock()

    def allow(self, key: str) -> bool:
        now = time.monotonic()
        with self.lock:
            if len(self.hits) > 10_000:  # a flood of addresses: forget the idle ones
                self.hits = {k: v for k, v in self.hits.items() if v and v[-1] > now - self.window}
            seen = self.hits.setdefault(key, deque())
            while seen and seen[0] <= now - self.window:
                seen.popleft()
            if len(seen) >= self.limit:
                return False
            seen.append(now)
            return True


THROTTLES = {"apply": (20, 600.0), "lookup": (60, 600.0), "rate": (20, 600.0)}


def _throttled(name: str) -> bool:
    """True when this address has used up its allowance for ``name`` (kept per application)."""
    throttles = current_app.extensions.setdefault("public_throttles", {})
    if name not in throttles:
        throttles[name] = _Throttle(*THROTTLES[name])
    return not throttles[name].allow(request.remote_addr or "?")


TOO_MANY = "操作过于频繁，请稍后再试；如有急事请拨打 0310-7212345。"


# --- 五公开 ---------------------------------------------------------------------------------------

# The order people read them in: the three services first, then what follows them.
PROCESS_ORDER = ("assist", "proxy", "onsite", "consultation", "callback", "rectification", "complaint")
ROLE_ORDER = ("chief_officer", "assistant", "proxy_agent")


def _rank(order: tuple[str, ...], value: str) -> int:
    return order.index(value) if value in order else len(order)


@public.get("/public/")
def disclosure():
    info = public_service.disclosure(system())
    info["processes"].sort(key=lambda p: (_rank(PROCESS_ORDER, p["process"]), p["process"]))
    info["staff"].sort(key=lambda s: _rank(ROLE_ORDER, s["role"]))  # stable: the service's unit order stays
    return render_template("public/disclosure.html", info=info, services=SERVICES,
                           viewer_installed=viewer_installed())


@public.get("/public/processes/<process_id>.bpmn")
def diagram(process_id: str):
    xml = public_service.diagram_xml(system(), process_id)
    response = Response(xml, mimetype="application/xml")
    # Fetched by the viewer; opened directly it runs nothing.
    response.headers["Content-Security-Policy"] = "default-src 'none'; sandbox"
    response.headers["Content-Disposition"] = f'inline; filename="{process_id}.bpmn"'
    return response


@public.get("/public/stories")
def stories():
    return render_template("public/stories.html", stories=publicity.list_published(system()))


@public.get("/api/docs")
def api_docs():
    """The API reference for the developers of other clients: the OpenAPI document (/api/v1/openapi.json,
    public as the document is) in Swagger UI, from web/node_modules like the diagram viewer."""
    return render_template("public/api_docs.html", installed=vendor_installed(API_REFERENCE))


@public.get("/vendor/<path:name>")
def vendor(name: str):
    """bpmn-js and Swagger UI from web/node_modules (npm ci in web/); allowlisted files only, no CDN."""
    relative = VENDOR_FILES.get(name)
    path = NODE_MODULES / relative if relative else None
    if path is None or not path.is_file():
        abort(404)
    return current_app.extensions[STATIC_FILES].send(path, max_age=86400)


# --- apply online ---------------------------------------------------------------------------------

class ApplySchema(Schema):
    class Meta:
        unknown = EXCLUDE  # the CSRF token and the honeypot travel with the form

    applicant_name = fields.String(required=True, validate=validate.Length(1, 100, error="请填写 1 到 100 个字。"))
    applicant_phone = fields.String(required=True, validate=PHONE)
    applicant_type = fields.String(required=True, validate=validate.OneOf(list(APPLICANT_TYPES), error="请选择企业或个人。"))
    service = fields.String(required=True, validate=validate.OneOf(list(SERVICES), error="请选择帮办、代办或上门办。"))
    matter_code = fields.String(required=True, validate=validate.Length(1, 32, error="请选择办理的事项。"))
    # What a service asks for beyond these (上门办: the address) is the start form its diagram names.


REQUIRED = {"applicant_name": "请填写姓名或企业名称。", "applicant_phone": "请填写联系电话。",
            "applicant_type": "请选择企业或个人。", "service": "请选择服务方式。", "matter_code": "请选择办理的事项。"}


def _form_errors(messages: dict) -> dict[str, list[str]]:
    errors = {}
    for field, value in messages.items():
        texts = value if isinstance(value, list) else [value]
        errors[field] = [REQUIRED.get(field, t) if t == "Missing data for required field." else t for t in texts]
    return errors


def _apply_form(values: dict, errors: dict, status: int = 200, start_values: dict | None = None,
                forms: dict | None = None):
    forms = forms if forms is not None else desk.start_forms(system(), tuple(SERVICES), public=True)
    start_fields = render_start_forms(forms, values.get("service"), start_values or {}, errors)
    return render_template("public/apply.html", matters=org.list_matters(system()), values=values, errors=errors,
                           services=SERVICES, applicant_types=APPLICANT_TYPES, start_fields=start_fields), status


@public.route("/public/apply", methods=["GET", "POST"])
def apply():
    if request.method == "GET":
        return _apply_form({"service": request.args.get("service", ""), "matter_code": request.args.get("matter", ""),
                            "applicant_type": request.args.get("type", "")}, {})
    values = {k: (v or "").strip() for k, v in request.form.items() if k != "csrf_token"}
    if values.get("website"):  # the honeypot: people never see this field, robots fill it in
        return _apply_form(values, {"_form": ["提交未成功，请刷新页面后重试。"]}, 400)
    if _throttled("apply"):
        return _apply_form(values, {"_form": [TOO_MANY]}, 429)
    process = values.get("service")
    forms = desk.start_forms(system(), tuple(SERVICES), public=True)
    start_values = formrender.parse(forms[process]["schema"], request.form) if process in forms else {}
    try:
        data = ApplySchema().load(values)
    except ValidationError as exc:  # said together with what the start form finds, so one try shows every error
        errors = _form_errors(exc.messages)
        if process in forms:
            errors = cases.start_form_errors(system(), process, start_values, public=True) | errors
        return _apply_form(values, errors, 422, start_values, forms)
    data.pop("service")
    try:
        result = public_service.apply_online(system(), process, {**data, **start_values})
    except FormInvalid as exc:
        return _apply_form(values, exc.errors, 422, start_values, forms)
    except DomainError as exc:
        return _apply_form(values, {"_form": [exc.message]}, exc.status)
    return render_template("public/applied.html", result=result, service_title=SERVICES[process],
                           status_link=status_url(result["number"]), qr=qr_data_uri(status_url(result["number"])))


# --- status lookup and rating -----------------------------------------------------------------------

def _lookup(number: str, phone: str, permalink: bool = False):
    number, phone = (number or "").strip().upper(), (phone or "").strip()
    template = "public/case_phone.html" if permalink else "public/status.html"
    if not number or not phone:
        errors = {k: ["此项为必填项。"] for k, v in (("number", number), ("phone", phone)) if not v}
        return render_template(template, number=number, errors=errors, case=None), 422
    if _throttled("lookup"):
        return render_template(template, number=number, errors={"_form": [TOO_MANY]}, case=None), 429
    try:
        case = public_service.lookup(system(), number, phone)
    except DomainError as exc:
        return render_template(template, number=number, errors={"_form": [exc.message]}, case=None), 404
    return render_template("public/status.html", number=number, errors={}, case=case, phone=phone,
                           grades=evaluations.GRADES, permalink=status_url(case["number"]))


@public.route("/public/status", methods=["GET", "POST"])
def status():
    if request.method == "GET":
        return render_template("public/status.html", number=request.args.get("number", ""), errors={}, case=None)
    return _lookup(request.form.get("number", ""), request.form.get("phone", ""))


@public.route("/public/cases/<number>", methods=["GET", "POST"])
def case_status(number: str):
    """The permalink a QR code points to: nothing is shown before the applicant's phone is given."""
    if request.method == "GET":
        return render_template("public/case_phone.html", number=number.strip().upper(), errors={}, case=None)
    return _lookup(number, request.form.get("phone", ""), permalink=True)


@public.post("/public/rate")
def rate():
    """好差评 online (一事一评): the number and phone the applicant looked the case up with."""
    number = request.form.get("number", "").strip().upper()
    phone = request.form.get("phone", "").strip()
    comment = request.form.get("comment", "").strip() or None
    context = {"number": number, "grades": evaluations.GRADES}
    if _throttled("rate"):
        return render_template("public/rated.html", ok=False, message=TOO_MANY, **context), 429
    try:
        result = evaluations.rate(system(), number, phone, request.form.get("satisfaction", ""), comment,
                                  source="online", by="applicant")
    except FormInvalid as exc:
        message = "；".join(m for messages in exc.errors.values() for m in messages)
        return render_template("public/rated.html", ok=False, message=message, **context), 422
    except Conflict as exc:  # already rated, or not yet completed: said politely
        return render_template("public/rated.html", ok=False, message=exc.message, **context), 409
    except DomainError as exc:
        return render_template("public/rated.html", ok=False, message=exc.message, **context), exc.status
    return render_template("public/rated.html", ok=True, message=f"您的评价“{result['label']}”已收到，感谢您的反馈！",
                           **context)
