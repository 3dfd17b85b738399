"""Login throttling with Flask-Limiter: per client address and per account, shared by the API's
token request and the staff login form. Beyond a limit the answer is a 429 with Retry-After and a
Chinese message (views/errors.py); no password hash is computed for it."""

from __future__ import annotations

import time

from flask import current_app, g, request
from flask_limiter import Limiter
from limits import parse_many
from limits.errors import ConfigurationError
from limits.storage import storage_from_string

LOGIN_ENDPOINTS = ("api.token", "staff.login")


def client_address() -> str:
    """The client's address (the proxy's X-Forwarded-For when BDD_PROXY_HOPS trusts it; app.py)."""
    return request.remote_addr or "-"


def login_account() -> str:
    """The account a login names, as the lockout keys it (case-insensitive)."""
    if request.is_json:
        payload = request.get_json(silent=True)
        name = payload.get("username") if isinstance(payload, dict) else None
    else:
        name = request.form.get("username")
    return (name if isinstance(name, str) else "").strip().lower()[:64]


def _settings():
    return current_app.extensions["bdd"].settings


def _password_was_tried(response) -> bool:
    """The per-account limit counts failed password checks only: a success is not counted, nor a
    refusal of a locked address (a stranger's flood from one address adds five at most)."""
    return response.status_code == 401 and bool(g.get("login_checked"))


class ThrottleMisconfigured(RuntimeError):
    """A BDD_LOGIN_RATE_* or BDD_RATELIMIT_STORAGE_URI value that cannot be used: the server does not start."""


def check_settings(settings) -> None:
    """Refuse throttle settings that cannot work, with the variable named (``bdd serve`` checks them
    before it starts; create_app again)."""
    try:
        storage_from_string(settings.ratelimit_storage_uri)
    except ConfigurationError as exc:  # an unknown scheme, or redis:// without the redis package
        raise ThrottleMisconfigured(f"BDD_RATELIMIT_STORAGE_URI 无法使用（{exc}）：可用 memory:// 或 "
                                    "redis://主机:6379（需 pip install -e '.[redis]'）。") from None
    for variable, value in (("BDD_LOGIN_RATE_PER_ADDRESS", settings.login_rate_per_address),
                            ("BDD_LOGIN_RATE_PER_ACCOUNT", settings.login_rate_per_account)):
        try:
            parse_many(value)
        except ValueError:
            raise ThrottleMisconfigured(f"{variable} 的值 {value!r} 无法识别，应形如 “20 per minute” 或 "
                                        "“20 per minute;200 per day”。") from None


def install(app) -> Limiter:
    """A limiter of this application's own (its storage: RATELIMIT_STORAGE_URI in app.config, from the
    settings) with both limits on both login views, shared between them."""
    settings = app.extensions["bdd"].settings
    check_settings(settings)
    # Redis unreachable: count in this process's memory meanwhile rather than refuse every login.
    limiter = Limiter(key_func=client_address, headers_enabled=True, retry_after="delta-seconds",
                      strategy="moving-window", key_prefix="bdd-login", in_memory_fallback_enabled=True)

    @app.after_request  # registered first, so it runs after Flask-Limiter's own (they run in reverse)
    def retry_after_only_when_refused(response):
        """Flask-Limiter writes Retry-After on every answer it counts; only a 429 means it. An error that said its
        own wait (views/errors.py: a busy database, full storage) keeps it."""
        if "retry_after" in g:
            response.headers["Retry-After"] = g.retry_after
        elif response.status_code != 429:
            response.headers.pop("Retry-After", None)
        return response

    limiter.init_app(app)
    per_address = limiter.shared_limit(lambda: _settings().login_rate_per_address, scope="login-address",
                                       key_func=client_address, methods=["POST"])
    per_account = limiter.shared_limit(lambda: _settings().login_rate_per_account, scope="login-account",
                                       key_func=login_account, methods=["POST"], deduct_when=_password_was_tried)
    for endpoint in LOGIN_ENDPOINTS:
        app.view_functions[endpoint] = per_address(per_account(app.view_functions[endpoint]))
    app.extensions["bdd_limiter"] = limiter
    return limiter


def retry_after_seconds() -> int:
    """Seconds until the breached limit of this request lets the client try again."""
    limiter = current_app.extensions.get("bdd_limiter")
    limit = limiter.current_limit if limiter is not None else None
    return max(1, int(limit.reset_at - time.time())) if limit is not None else 60
