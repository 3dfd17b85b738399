"""What the staff and public pages share: the session's actor, role guards, and helpers for templates."""

from __future__ import annotations

import unicodedata
from datetime import datetime
from functools import wraps
from typing import Any
from urllib.parse import unquote, urlsplit
from zoneinfo import ZoneInfo

from flask import current_app, flash, g, redirect, request, session, url_for

from .. import formrender
from ..errors import AuthenticationRequired, Forbidden
from ..roles import ROLE_TITLES
from ..services import identity
from ..system import System


def system() -> System:
    return current_app.extensions["bdd"]


def new_session_values(bdd: System, actor: identity.Actor) -> dict[str, Any]:
    """What the cookie of a new browser session holds: the key of its server-side row, the credentials
    version it was issued under, and when it was last used (the idle clock)."""
    return {"sid": identity.start_session(bdd, actor), "v": actor.credentials_version,
            "seen": int(bdd.clock.now().timestamp())}


def start_session(actor: identity.Actor) -> None:
    """A fresh cookie (no fixation) naming a new server-side session."""
    session.clear()
    session.update(new_session_values(system(), actor))
    session.permanent = True


def current_actor() -> identity.Actor | None:
    """The staff member of this browser session, or None. Checked against the database on every
    request: logged out, past its absolute or idle lifetime, or issued before a change of password,
    role, unit or active state, the session is over."""
    if "actor" not in g:
        actor = None
        if session.get("sid") is not None or session.get("staff_id") is not None:
            try:
                actor = identity.actor_from_session(system(), session.get("sid"), session.get("v"), session.get("seen"))
                now = int(system().clock.now().timestamp())
                if now - session["seen"] >= 60:  # the idle clock, to the minute: no new cookie on every request
                    session["seen"] = now
            except AuthenticationRequired as exc:
                session.clear()
                flash(exc.message, "info")
        g.actor = actor
    return g.actor


MAX_NEXT = 2048


def _plain_path(value: str) -> bool:
    """A path a browser cannot read as another site: no control or space characters (browsers drop
    tabs and newlines, so ``/\t/evil.example`` is ``//evil.example`` to them), no backslash (read
    as ``/``), one leading slash, and no scheme or host once parsed."""
    if not value.startswith("/") or value.startswith("//") or "\\" in value:
        return False
    if any(ch.isspace() or unicodedata.category(ch) in ("Cc", "Cf", "Zl", "Zp", "Zs") for ch in value):
        return False
    parts = urlsplit(value)
    return not parts.scheme and not parts.netloc


def local_path(target: str | None, fallback: str) -> str:
    """``target`` if it is a path on this site, else ``fallback``: where a login, a claim or an error
    page's back link may send a browser. Checked as given, and its path once percent-decoded, so an
    encoded tab, newline, backslash or second slash is refused too (a query may hold an encoded
    space: it cannot move the host); anything doubtful falls back, never an error."""
    if not target or len(target) > MAX_NEXT:
        return fallback
    path = target.split("?", 1)[0].split("#", 1)[0]
    if not _plain_path(target) or not _plain_path(unquote(path)):
        return fallback
    return target


def login_required(view):
    @wraps(view)
    def wrapper(*args, **kwargs):
        if current_actor() is None:
            return redirect(url_for("staff.login", next=request.full_path if request.method == "GET" else None))
        return view(*args, **kwargs)

    return wrapper


def roles_required(*roles: str):
    """Only these roles; anyone else gets a 403 page (not an empty one)."""

    def decorator(view):
        @wraps(view)
        @login_required
        def wrapper(*args, **kwargs):
            if g.actor.role not in roles:
                raise Forbidden("您的角色无权访问这个页面。")
            return view(*args, **kwargs)

        return wrapper

    return decorator


UPLOAD_LIMITS: dict[str, tuple[int, int]] = {}


def _raise_upload_limits() -> None:
    limits = UPLOAD_LIMITS.get(request.endpoint or "")
    if limits:
        request.max_content_length, request.max_form_memory_size = limits


def allow_large_uploads(blueprint, limits: dict[str, tuple[int, int]]) -> None:
    """Endpoints that take scans, signatures or video: (body limit, form memory limit) each.

    The app's request limit is the diagram limit; these are raised by the first before-request
    hook of the app, so before CSRFProtect reads the body."""
    UPLOAD_LIMITS.update(limits)

    @blueprint.record_once
    def _install(state) -> None:
        hooks = state.app.before_request_funcs.setdefault(None, [])
        if _raise_upload_limits not in hooks:
            hooks.insert(0, _raise_upload_limits)


def render_start_forms(forms: dict[str, dict[str, Any]], chosen: str | None, values: dict[str, Any],
                       errors: dict[str, list[str]]) -> dict[str, formrender.RenderedForm]:
    """Each procedure's start form for a page where cases are started: the chosen procedure's with what was
    typed and its errors, the others blank (the page sends only the chosen one's)."""
    return {process: formrender.render(form["schema"], form["ui"], values if process == chosen else {},
                                       errors if process == chosen else {}, form["refs"])
            for process, form in forms.items()}


def local_time(value: datetime | None, fmt: str = "%Y-%m-%d %H:%M") -> str:
    if value is None:
        return ""
    return value.astimezone(ZoneInfo(system().settings.timezone)).strftime(fmt)


def back_link() -> str:
    """Where an error page's 返回上一页 leads without a script: the page the browser came from when it is
    a page of this site (its Referer, checked like ``next``), else the inbox or the public pages."""
    fallback = url_for("staff.inbox") if current_actor() is not None else url_for("public.disclosure")
    referrer = request.referrer or ""
    try:
        parts = urlsplit(referrer)
    except ValueError:
        return fallback
    hosts = {request.host, urlsplit(system().settings.public_url).netloc}
    if not referrer or parts.scheme not in ("http", "https") or parts.netloc not in hosts:
        return fallback
    return local_path(parts.path + (f"?{parts.query}" if parts.query else ""), fallback)


def register_template_helpers(app) -> None:
    @app.context_processor
    def inject():
        return {"actor": current_actor(), "ROLE_TITLES": ROLE_TITLES, "now": system().clock.now(),
                "has_endpoint": lambda name: name in app.view_functions, "back_link": back_link}

    app.jinja_env.filters["local"] = local_time
    app.jinja_env.filters["iso"] = lambda v: v.isoformat() if v else ""
