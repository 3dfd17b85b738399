"""The Flask application factory."""

from __future__ import annotations

from flask import Flask

from . import schemas
from .config import Settings
from .system import System, create_system
from .views.api import api
from .views.errors import register_error_handlers


def create_app(settings: Settings | None = None, system: System | None = None) -> Flask:
    system = system or create_system(settings)
    app = Flask(__name__, instance_path=str(system.settings.instance_dir), instance_relative_config=False)
    app.config.update(
        SECRET_KEY=system.settings.secret_key,
        MAX_CONTENT_LENGTH=system.settings.max_upload_bytes + 64 * 1024,
        JSON_AS_ASCII=False,
    )
    app.json.ensure_ascii = False
    app.json.sort_keys = False
    from zoneinfo import ZoneInfo

    schemas.DISPLAY_TZ = ZoneInfo(system.settings.timezone)
    app.extensions["bdd"] = system
    app.register_blueprint(api)
    register_error_handlers(app)

    @app.get("/")
    def index():
        return {"name": "成安县政务服务帮办代办上门办", "api": "/api/v1",
                "openapi": "/api/v1/openapi.json", "token": "POST /api/v1/auth/token"}

    return app
