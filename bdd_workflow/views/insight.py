"""Supervisors' views of a process as a whole: the heatmap (issue 5, item 4); migrating a suspended case to a newer version (item 7)."""

from __future__ import annotations

from flask import Blueprint, flash, g, jsonify, redirect, render_template, request, url_for

from ..errors import Conflict, DomainError, FormInvalid
from ..services import case_admin
from ..services import heatmap as heat
from ..services import inbox as desk
from ..services.identity import SUPERVISING_ROLES
from .public import viewer_installed
from .web_common import login_required, roles_required, system

insight = Blueprint("insight", __name__)


@insight.context_processor
def labels():
    return {"PROCESS_TITLES": desk.PROCESS_TITLES, "STATUS_TITLES": desk.STATUS_TITLES}


def _args() -> dict:
    """The page's query string: process, version, from, to, unit (the service checks each)."""
    return {"process_id": (request.args.get("process") or "").strip()[:100] or None,
            "version": (request.args.get("version") or "").strip()[:12] or None,
            "start": (request.args.get("from") or "").strip()[:20] or None,
            "end": (request.args.get("to") or "").strip()[:20] or None,
            "unit": (request.args.get("unit") or "").strip()[:32] or None}


@insight.get("/supervise/heatmap")
@roles_required(*SUPERVISING_ROLES)
def heatmap_page():
    """Each element of a process version coloured by how many cases passed it, with the median time there."""
    page = heat.heatmap_page(system(), g.actor, **_args())
    result = page["result"]
    json_url = None
    if result:
        query = {"process": result["process"], "version": result["version"], "from": result["period"]["start"],
                 "to": result["period"]["end"]}
        if result["unit"]:
            query["unit"] = result["unit"]
        json_url = url_for("insight.heatmap_json", **query)
    return render_template("staff/heatmap.html", page=page, result=result, json_url=json_url,
                           viewer_installed=viewer_installed())


@insight.get("/supervise/heatmap.json")
@roles_required(*SUPERVISING_ROLES)
def heatmap_json():
    """What heatmap.js draws: the version's XML and the numbers per element; errors as JSON too."""
    args = _args()
    try:
        result = heat.heatmap(system(), g.actor, args.pop("process_id") or "", include_xml=True, **args)
    except DomainError as exc:
        body = {"error": exc.code, "message": exc.message}
        if isinstance(exc, FormInvalid):
            body["errors"] = exc.errors
        return jsonify(body), exc.status
    return jsonify(result)


@insight.post("/cases/<int:case_id>/migrate")
@login_required
def case_migrate(case_id: int):
    """Move a suspended case to a newer version of its process (chief officers, administrators)."""
    try:
        result = case_admin.migrate_case(system(), g.actor, case_id, request.form.get("version", ""),
                                         request.form.get("reason", ""))
        flash(f"已将办件 {result['number']} 从第 {result['from_version']} 版迁移到第 {result['version']} 版。"
              "办件仍为暂停状态，恢复后按新版本继续办理。", "success")
    except FormInvalid as exc:
        flash("；".join(m for messages in exc.errors.values() for m in messages) or exc.message, "error")
    except Conflict as exc:
        flash(exc.message, "error")
    return redirect(url_for("staff.case_diagram", case_id=case_id))
