"""Pages for applicants, without an account: apply online, look up a case, rate it, 五公开."""

from __future__ import annotations

from flask import Blueprint, render_template

from ..services import public as public_service
from .web_common import system

public = Blueprint("public", __name__, url_prefix="/public")


@public.get("/")
def disclosure():
    return render_template("public/disclosure.html", info=public_service.disclosure(system()))
