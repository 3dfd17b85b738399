"""工作考核 (R-5.2, 10.2): each staff member's and each unit's work, timeliness, ratings, complaints and
rectifications for a period, with the cases behind every number, and the same as an Excel export."""

from __future__ import annotations

import io
from datetime import date

from flask import Blueprint, g, redirect, render_template, request, send_file, url_for

from ..services import access
from ..services import assessment as service
from ..services import inbox as desk
from ..services.identity import SUPERVISING_ROLES
from ..workdays import day_or_none
from .web_common import login_required, roles_required, system

assessment = Blueprint("assessment", __name__)


@assessment.context_processor
def labels():
    return {"PROCESS_TITLES": desk.PROCESS_TITLES, "STATUS_TITLES": desk.STATUS_TITLES}


def period_args() -> tuple[date, date]:
    """The period picker's days, as on the quality page: this month so far unless chosen."""
    today = system().clock.now().astimezone(system().calendar.tz).date()
    first = day_or_none(request.args.get("start")) or today.replace(day=1)
    last = day_or_none(request.args.get("end")) or today
    return (last, first) if last < first else (first, last)


def _arg(name: str, limit: int = 64) -> str | None:
    return (request.args.get(name) or "").strip()[:limit] or None


def _page(result: service.Report, units=None, all_units: str = ""):
    opened = service.focus(system(), result, _arg("figure", 16), _arg("part", 16), _arg("who"))
    return render_template("staff/assessment.html", result=result, focus=opened, units=units or [],
                           all_units=all_units)


def _unit_report() -> service.Report:
    return service.report(system(), g.actor, *period_args(), unit=_arg("unit", 32))


@assessment.get("/assessment")
@roles_required(*SUPERVISING_ROLES)
def unit_page():
    """A unit's staff (with its sub-units; everyone the supervisor directs without one)."""
    result = _unit_report()
    with system().db.unit_of_work(write=False) as session:
        mine = access.figure_units(system(), session, g.actor)
        units = desk.unit_tree(system(), session, g.actor.unit_code if mine is not None else None)
    return _page(result, units, "全县" if mine is None else "本人督办的全部单位")


@assessment.get("/assessment/staff/<username>")
@login_required
def staff_page(username: str):
    """One staff member's page: supervisors of their unit, and the staff member themselves."""
    return _page(service.report(system(), g.actor, *period_args(), username=username[:64]))


@assessment.get("/assessment/mine")
@login_required
def mine():
    return redirect(url_for("assessment.staff_page", username=g.actor.username, **request.args.to_dict()))


def _xlsx(result: service.Report, stem: str):
    data = service.export_xlsx(system(), result)
    name = f"{stem}-{result.first:%Y%m%d}-{result.last:%Y%m%d}.xlsx"
    return send_file(io.BytesIO(data), as_attachment=True, download_name=name,
                     mimetype="application/vnd.openxmlformats-officedocument.spreadsheetml.sheet")


@assessment.get("/assessment/export.xlsx")
@roles_required(*SUPERVISING_ROLES)
def unit_xlsx():
    result = _unit_report()
    return _xlsx(result, f"工作考核-{result.unit_name}")


@assessment.get("/assessment/staff/<username>/export.xlsx")
@login_required
def staff_xlsx(username: str):
    result = service.report(system(), g.actor, *period_args(), username=username[:64])
    return _xlsx(result, f"工作考核-{result.person.name}")
