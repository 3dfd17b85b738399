"""The Flask application factory."""

from __future__ import annotations

from datetime import timedelta
from zoneinfo import ZoneInfo

from flask import Flask
from flask.sessions import SecureCookieSessionInterface
from werkzeug.routing import IntegerConverter
from flask_wtf.csrf import CSRFProtect

from . import schemas
from .config import PROJECT_ROOT, Settings
from .system import System, create_system
from .views.api import api
from .views.errors import register_error_handlers
from .views.forms_admin import forms_admin
from .views.insight import insight
from .views.modeler import modeler
from .views.documents import documents
from .views.public import public
from .views.registry import registry
from .views.staff import staff
from .views.web_common import register_template_helpers

csrf = CSRFProtect()


class RowId(IntegerConverter):
    """``<int:…>`` in every route: a row id or a version. A number beyond 64 bits is no row of ours
    and would overflow the database driver; it becomes -1, which every service answers with its own
    404 (a converter that refused it would turn GET into a 405 where the path also takes a POST)."""

    def to_python(self, value: str) -> int:
        number = int(value)
        return number if number < 2**63 else -1


class CookieSessionsOutsideTheApi(SecureCookieSessionInterface):
    """The JSON API authenticates each call with its bearer token and never reads or sets the
    browser's session cookie; not opening it there spares every API call a signature check."""

    def open_session(self, app, request):
        if request.path.startswith("/api/"):
            return self.null_session_class()
        return super().open_session(app, request)


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
        PERMANENT_SESSION_LIFETIME=timedelta(hours=8),
        WTF_CSRF_TIME_LIMIT=None,  # the token lives as long as the session
    )
    app.session_interface = CookieSessionsOutsideTheApi()
    app.url_map.converters["int"] = RowId  # before the blueprints add their rules
    app.json.ensure_ascii = False
    app.json.sort_keys = False
    schemas.DISPLAY_TZ = ZoneInfo(system.settings.timezone)
    app.extensions["bdd"] = system
    csrf.init_app(app)
    csrf.exempt(api)  # the API authenticates with bearer tokens, never cookies
    app.register_blueprint(api)
    app.register_blueprint(staff)
    app.register_blueprint(public)
    app.register_blueprint(documents)
    app.register_blueprint(modeler)
    app.register_blueprint(forms_admin)
    app.register_blueprint(registry)
    app.register_blueprint(insight)
    register_template_helpers(app)
    register_error_handlers(app)

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
