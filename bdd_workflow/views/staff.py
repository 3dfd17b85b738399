"""Staff pages (server-rendered, Chinese): login, inbox, tasks, cases, intake, callback desk, ledger.
Each view parses the request, calls one service, renders a template."""

from __future__ import annotations

from flask import Blueprint, flash, g, redirect, render_template, request, session, url_for

from ..errors import AuthenticationRequired
from ..services import identity
from .web_common import current_actor, login_required, system

staff = Blueprint("staff", __name__)


def _safe_next(target: str | None) -> str:
    """Only same-site paths: a login link cannot send staff elsewhere."""
    if target and target.startswith("/") and not target.startswith("//") and "\\\\" not in target:
        return target
    return url_for("staff.inbox")


@staff.route("/login", methods=["GET", "POST"])
def login():
    if request.method == "POST":
        username = request.form.get("username", "").strip()
        try:
            actor = identity.authenticate(system(), username, request.form.get("password", ""))
        except AuthenticationRequired as exc:
            return render_template("staff/login.html", error=exc.message, username=username), 401
        session.clear()  # a fresh session on login: no fixation
        session["staff_id"] = actor.staff_id
        session.permanent = True
        return redirect(_safe_next(request.args.get("next")))
    if current_actor() is not None:
        return redirect(url_for("staff.inbox"))
    return render_template("staff/login.html", error=None, username="")


@staff.post("/logout")
def logout():
    session.clear()
    flash("您已退出登录。", "info")
    return redirect(url_for("staff.login"))


@staff.get("/")
@login_required
def inbox():
    return render_template("staff/inbox.html", actor=g.actor)
