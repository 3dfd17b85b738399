"""The Flask application factory."""

from __future__ import annotations

from datetime import timedelta
from zoneinfo import ZoneInfo

from flask import Flask, request, send_from_directory
from flask.json.provider import DefaultJSONProvider
from flask.sessions import SecureCookieSessionInterface
from flask_wtf.csrf import CSRFProtect
from werkzeug.exceptions import RequestEntityTooLarge
from werkzeug.middleware.proxy_fix import ProxyFix
from werkzeug.routing import IntegerConverter

from . import safejson, schemas
from .config import PROJECT_ROOT, Settings
from .db.models import MAX_ROW_ID
from .errors import DomainError, NotFound
from .services import identity
from .system import System, create_system
from .views.api import api
from .views.errors import register_error_handlers
from .views.forms_admin import forms_admin
from .views.assessment import assessment
from .views.insight import insight
from .views.modeler import modeler
from .views.documents import documents
from .views.public import public
from .views.registry import registry
from .views.staff import staff
from .views.static_files import serve_static_compressed
from .views import throttle
from .views.web_common import register_template_helpers

csrf = CSRFProtect()


class RowId(IntegerConverter):
    """``<int:…>`` in every route: a row id or a version. A number beyond the key columns' range
    (``MAX_ROW_ID``) is no row of ours and the database would refuse or overflow on it; it becomes -1,
    which every service answers with its own 404 (a converter that refused it would turn GET into a
    405 where the path also takes a POST)."""

    def to_python(self, value: str) -> int:
        number = int(value)
        return number if number <= MAX_ROW_ID else -1


class CookieSessionsOutsideTheApi(SecureCookieSessionInterface):
    """The JSON API authenticates each call with its bearer token and never reads or sets the
    browser's session cookie; not opening it there spares every API call a signature check."""

    def open_session(self, app, request):
        if request.path.startswith("/api/"):
            return self.null_session_class()
        return super().open_session(app, request)


class BoundedJSONProvider(DefaultJSONProvider):
    """Request bodies are parsed by safejson: too deep a document is a 400 with a Chinese message, not a
    RecursionError and a 500 (request.get_json lets it through: it is not a ValueError)."""

    def loads(self, s, **kwargs):
        return safejson.loads(s, **kwargs)


def _holds_nul(value) -> bool:
    if isinstance(value, str):
        return "\x00" in value
    if isinstance(value, dict):
        return any(_holds_nul(k) or _holds_nul(v) for k, v in value.items())
    if isinstance(value, list):
        return any(_holds_nul(v) for v in value)
    return False


def _printable(name: str) -> str:
    return name.replace("\x00", "")[:40] or "请求"


def create_app(settings: Settings | None = None, system: System | None = None) -> Flask:
    system = system or create_system(settings)
    app = Flask(__name__, instance_path=str(system.settings.instance_dir), instance_relative_config=False,
                template_folder=str(PROJECT_ROOT / "web" / "templates"),
                static_folder=str(PROJECT_ROOT / "web" / "static"), static_url_path="/static")
    app.config.update(
        SECRET_KEY=system.settings.secret_key,
        # Every request body up to the diagram limit; attachment uploads raise it for themselves.
        MAX_CONTENT_LENGTH=system.settings.max_upload_bytes + 64 * 1024,
        SESSION_COOKIE_HTTPONLY=True,
        SESSION_COOKIE_SAMESITE="Lax",
        SESSION_COOKIE_SECURE=system.settings.secure_cookies,
        # The server ends a session (services/identity.py); the cookie's own expiry is only its upper bound.
        PERMANENT_SESSION_LIFETIME=timedelta(seconds=system.settings.session_max_seconds),
        SESSION_REFRESH_EACH_REQUEST=False,
        RATELIMIT_STORAGE_URI=system.settings.ratelimit_storage_uri,
        WTF_CSRF_TIME_LIMIT=None,  # the token lives as long as the session
    )
    app.session_interface = CookieSessionsOutsideTheApi()
    app.url_map.converters["int"] = RowId  # before the blueprints add their rules
    app.json = BoundedJSONProvider(app)
    app.json.ensure_ascii = False
    app.json.sort_keys = False
    schemas.DISPLAY_TZ = ZoneInfo(system.settings.timezone)
    app.extensions["bdd"] = system
    csrf.init_app(app)
    if system.settings.proxy_hops > 0:  # the client's address from the trusted proxies' X-Forwarded-For
        app.wsgi_app = ProxyFix(app.wsgi_app, x_for=system.settings.proxy_hops)
    identity.decoy_hash()  # computed once now, not inside the first login that names an unknown user
    csrf.exempt(api)  # the API authenticates with bearer tokens, never cookies
    app.register_blueprint(api)
    app.register_blueprint(staff)
    app.register_blueprint(public)
    app.register_blueprint(documents)
    app.register_blueprint(modeler)
    app.register_blueprint(forms_admin)
    app.register_blueprint(registry)
    app.register_blueprint(insight)
    app.register_blueprint(assessment)
    serve_static_compressed(app)
    register_template_helpers(app)
    register_error_handlers(app)
    throttle.install(app)  # after the blueprints: it wraps their login views

    @app.before_request
    def refuse_oversized_bodies():
        """A body announced larger than this endpoint's limit is a 413 (JSON under /api/) before anything
        reads it; a body without a Content-Length is cut off at the limit as it is read."""
        limit = request.max_content_length
        if limit is not None and (request.content_length or 0) > limit:
            raise RequestEntityTooLarge()

    @app.before_request
    def refuse_nul_characters():
        """No text we keep may hold a NUL character: PostgreSQL refuses it in text and JSON alike.
        In a path it names nothing (404); in a query, a form or a JSON body it is a 400 naming the field."""
        if any(_holds_nul(v) for v in (request.view_args or {}).values()):
            raise NotFound("请求的地址不存在。")
        fields = [*request.args.items(multi=True)]
        if request.mimetype in ("application/x-www-form-urlencoded", "multipart/form-data"):
            fields += [*request.form.items(multi=True)]
            fields += [(name, upload.filename or "") for name, upload in request.files.items(multi=True)]
        # UTF-8 JSON carries a NUL only escaped, as \u0000: a body with neither those six bytes nor
        # a zero byte (UTF-16 and UTF-32 bodies have them, and are walked) needs no walk.
        body = request.get_data(cache=True) if request.is_json else b""
        if b"\\u0000" in body or b"\x00" in body:
            fields.append(("JSON", request.get_json(silent=True)))
        for name, value in fields:
            if _holds_nul(name) or _holds_nul(value):
                raise DomainError(f"“{_printable(name)}”中含有空字符（NUL），请删除后重试。")

    @app.get("/favicon.ico")
    def favicon():
        """Browsers ask for /favicon.ico on their own; base.html also names the SVG."""
        return send_from_directory(app.static_folder, "favicon.ico", mimetype="image/x-icon", max_age=86400)

    @app.after_request
    def security_headers(response):
        response.headers.setdefault("X-Content-Type-Options", "nosniff")
        response.headers.setdefault("X-Frame-Options", "DENY")
        response.headers.setdefault("Referrer-Policy", "same-origin")
        response.headers.setdefault(
            "Content-Security-Policy",
            "default-src 'self'; img-src 'self' data: blob:; style-src 'self' 'unsafe-inline'; "
            "script-src 'self'; frame-ancestors 'none'")
        return response

    return app
