"""Catalog and staff registry (issue 5, item 9): the matter catalog with its one-time notices (R-5.3,
R-5.4), the three-level organisation (R-3.3) and the staff registry with every change recorded (R-6.1).

Who: 6.1 of the 规范 says "县政务服务中心对辖区内服务人员进行登记备案", and 5.3 has the service
bodies (5.1: the 政务服务中心 first) keep the matter catalog; so the centre's office (``supervisor``)
manages staff and matters alongside administrators. The organisation itself (units the routing rule
and every picker depend on) is changed by administrators only; the office may look at it.

Every change is one unit of work, audited (case_id None); a staff change also writes a StaffChange
row with the values before and after, who made it and why (R-6.1: the team should stay stable).
"""

from __future__ import annotations

import re
from collections import defaultdict
from datetime import timedelta
from typing import Any

from sqlalchemy import func, select

from ..db.models import Case, HumanTask, Matter, OrgUnit, Staff, StaffChange
from ..errors import Forbidden, FormInvalid, NotFound
from ..roles import ADMINISTRATOR, CHIEF_OFFICER, ROLE_TITLES, ROLES, SUPERVISOR, UNITLESS_ROLES
from ..system import System
from . import workload
from .audit import audit
from .identity import NON_STAFF_NAMES, Actor, hash_password, is_locked, lift_locks, locked_until, require_role, revoke_credentials
from .metrics import NOTICE_PARTS, notice_complete
from .org import LEVELS, MIN_PASSWORD_LENGTH

MANAGE_ROLES = (ADMINISTRATOR, SUPERVISOR)  # staff (R-6.1) and matters (R-5.3)
UNIT_ROLES = (ADMINISTRATOR,)  # changing the organisation
VIEW_UNIT_ROLES = (ADMINISTRATOR, SUPERVISOR)
HANDOVER_ROLES = (CHIEF_OFFICER, SUPERVISOR, ADMINISTRATOR)

MATTER_KINDS = {"enterprise": "涉企事项", "personal": "个人事项"}
SERVICE_TYPES = {"assist": "帮办", "proxy": "代办", "onsite": "上门办"}
LEVEL_TITLES = {"county": "县级", "township": "乡（镇）级", "village": "村（社区）级"}
UNIT_KINDS = {
    "county_centre": "县政务服务中心", "consultation_centre": "政务服务咨询中心", "approval_bureau": "行政审批局",
    "department": "县直部门", "township_centre": "乡（镇）行政综合服务中心", "village_station": "村（社区）综合服务站",
}
# R-3.3: county centre -> county departments and township centres -> village stations. The level
# follows from the parent; departments and village stations have no units below them.
CHILD_KINDS: dict[str, tuple[tuple[str, str], ...]] = {
    "county_centre": (("department", "county"), ("township_centre", "township")),
    "township_centre": (("village_station", "village"),),
}
# Kinds the diagrams and the routing rule name (unit_of_kind): exactly one each, never retired.
ROUTING_KINDS = frozenset({"county_centre", "consultation_centre", "approval_bureau"})
NOTICE_TITLES = {"materials": "申请材料（每项写明获取途径）", "conditions": "办理条件", "steps": "办理流程",
                 "time_limit": "办理时限", "cautions": "注意事项"}
STAFF_FIELD_TITLES = {"name": "姓名", "role": "角色", "unit": "单位", "phone": "电话", "duties": "岗位职责"}
CHANGE_TITLES = {"registered": "登记备案", "updated": "修改信息", "deactivated": "停用账户", "reactivated": "恢复启用",
                 "password_reset": "重置密码", "unlocked": "解除锁定"}

CODE = re.compile(r"^[A-Z][A-Z0-9]*(?:-[A-Z0-9]+)*$")
USERNAME = re.compile(r"^[A-Za-z0-9_.]+$")
OPEN_CASE_EXCLUDED = ("completed", "cancelled")
MAX_DAYS = 365
STABILITY_WINDOW = timedelta(days=365)
UNSTABLE_SHARE = 0.3  # changes / headcount in 12 months from which a unit is flagged (a hint, not a rule)


# --- small helpers -------------------------------------------------------------------------------------

def _text(form, key: str, limit: int) -> str:
    return (form.get(key) or "").strip()[:limit + 1]  # one more than allowed, so "too long" is seen


def _lines(form, key: str) -> list[str]:
    return [line.strip() for line in (form.get(key) or "").splitlines() if line.strip()]


def _checked(form, key: str) -> bool:
    return (form.get(key) or "").strip().lower() in ("1", "true", "on", "yes")


def _add(errors: dict[str, list[str]], field: str, message: str) -> None:
    errors.setdefault(field, []).append(message)


def _length(errors, field: str, value: str, limit: int, title: str, required: bool = True) -> None:
    if required and not value:
        _add(errors, field, f"请填写{title}。")
    elif len(value) > limit:
        _add(errors, field, f"{title}不能超过 {limit} 个字。")


def _days(errors, field: str, raw: str, title: str, required: bool) -> int | None:
    if not raw:
        if required:
            _add(errors, field, f"请填写{title}（工作日数）。")
        return None
    if not raw.isdigit():
        _add(errors, field, f"{title}应为整数（工作日数）。")
        return None
    value = int(raw)
    if not 1 <= value <= MAX_DAYS:
        _add(errors, field, f"{title}应在 1 到 {MAX_DAYS} 个工作日之间。")
        return None
    return value


def _units_in_order(session) -> list[OrgUnit]:
    """Tree order, the county's departments before its townships (R-3.3 reads county, township, village)."""
    units = session.scalars(select(OrgUnit).order_by(OrgUnit.path)).all()
    rank = {u.code: (1 if u.kind == "township_centre" else 0, u.code) for u in units}
    return sorted(units, key=lambda u: [rank.get(code, (0, code)) for code in u.path.strip("/").split("/")])


def unit_choices(units: list[OrgUnit], keep: str | None = None) -> list[dict[str, Any]]:
    """Active units in tree order for a select (R-3.3), plus ``keep`` (the current value) if retired."""
    base = min((u.path.count("/") for u in units), default=2)
    return [{"code": u.code, "name": u.name + ("（已撤销）" if not u.active else ""), "level": u.level,
             "level_title": {"county": "县", "township": "乡镇", "village": "村"}.get(u.level, u.level),
             "depth": u.path.count("/") - base, "active": u.active}
            for u in units if u.active or u.code == keep]


def _actor_names(session, usernames: set[str]) -> dict[str, str]:
    if not usernames:
        return {}
    return dict(session.execute(select(Staff.username, Staff.name).where(Staff.username.in_(sorted(usernames)))).all())


# --- matters (R-5.3, R-5.4) -----------------------------------------------------------------------------

def matter_input(form) -> dict[str, Any]:
    """A posted matter form (a MultiDict or any mapping with get/getlist) -> plain data, unvalidated."""
    indices = sorted({int(m.group(1)) for key in form.keys() if (m := re.fullmatch(r"materials\.(\d{1,3})\.\w+", key))})
    materials = []
    for i in indices:
        row = {"name": _text(form, f"materials.{i}.name", 100), "copies": _text(form, f"materials.{i}.copies", 100),
               "how_to_obtain": _text(form, f"materials.{i}.how_to_obtain", 300),
               "fixable_on_site": _checked(form, f"materials.{i}.fixable_on_site"),
               "required": _checked(form, f"materials.{i}.required")}
        if row["name"] or row["copies"] or row["how_to_obtain"]:  # blank rows are not materials
            materials.append(row)
    getlist = getattr(form, "getlist", None)
    service_types = getlist("service_types") if getlist else (form.get("service_types") or [])
    levels = getlist("levels") if getlist else (form.get("levels") or [])
    return {
        "code": _text(form, "code", 32).upper(), "name": _text(form, "name", 100), "kind": _text(form, "kind", 16),
        "department": _text(form, "department", 100), "responsible_unit": _text(form, "responsible_unit", 32),
        "levels": [level for level in levels if level], "service_types": [s for s in service_types if s],
        "promised_days": _text(form, "promised_days", 6), "legal_days": _text(form, "legal_days", 6),
        "fee": _text(form, "fee", 100), "window": _text(form, "window", 200),
        "notice": {"materials": materials, "conditions": _lines(form, "conditions"), "steps": _lines(form, "steps"),
                   "time_limit": _text(form, "time_limit", 200), "cautions": _lines(form, "cautions"),
                   "basis": _lines(form, "basis")},
        "confirm_incomplete": _checked(form, "confirm_incomplete"),
    }


def matter_data(matter: Matter | None) -> dict[str, Any]:
    """A stored matter as the edit form's values (the empty form for a new one)."""
    if matter is None:
        return {"code": "", "name": "", "kind": "personal", "department": "", "responsible_unit": "", "levels": ["county"],
                "service_types": list(SERVICE_TYPES), "promised_days": "", "legal_days": "", "fee": "不收费",
                "window": "", "notice": {"materials": [], "conditions": [], "steps": [], "time_limit": "",
                                         "cautions": [], "basis": []}, "confirm_incomplete": False}
    notice = dict(matter.notice or {})
    return {"code": matter.code, "name": matter.name, "kind": matter.kind, "department": matter.department,
            "responsible_unit": matter.responsible_unit, "levels": list(matter.levels or []),
            "service_types": list(matter.service_types or []), "promised_days": str(matter.promised_days),
            "legal_days": "" if matter.legal_days is None else str(matter.legal_days), "fee": matter.fee or "",
            "window": matter.window or "",
            "notice": {"materials": [dict(m) for m in notice.get("materials") or []],
                       "conditions": list(notice.get("conditions") or []), "steps": list(notice.get("steps") or []),
                       "time_limit": notice.get("time_limit") or "", "cautions": list(notice.get("cautions") or []),
                       "basis": list(notice.get("basis") or [])},
            "confirm_incomplete": False}


def time_limit_text(promised: int | None, legal: int | None) -> str:
    return f"承诺{promised}个工作日" + (f"（法定{legal}个工作日）" if legal else "")


def notice_gaps(notice: dict[str, Any]) -> dict[str, str]:
    """What keeps a notice from being complete under R-5.4 (metrics.notice_complete), field -> message."""
    gaps = {}
    for part in NOTICE_PARTS:
        if not notice.get(part):
            gaps[part] = f"一次性告知缺少“{NOTICE_TITLES[part]}”。"
    for i, material in enumerate(notice.get("materials") or []):
        if material.get("name") and not material.get("how_to_obtain"):
            gaps[f"materials.{i}.how_to_obtain"] = "请写明这项材料的获取途径（一次性告知须完整，R-5.4）。"
    return gaps


def _validate_matter(session, data: dict[str, Any], existing: Matter | None) -> tuple[dict[str, Any], dict, dict]:
    """(clean values, errors, warnings): errors always block; warnings (an incomplete notice) need a confirmation."""
    errors: dict[str, list[str]] = {}
    if existing is None:
        code = data["code"]
        if not code:
            _add(errors, "code", "请填写事项编码。")
        elif len(code) > 32 or not CODE.fullmatch(code):
            _add(errors, "code", "事项编码由大写字母、数字和连字符组成，以字母开头，最长 32 位，例如 GR-019。")
        elif session.scalar(select(Matter.id).where(Matter.code == code)) is not None:
            _add(errors, "code", f"事项编码 {code} 已被使用，请换一个。")
    else:
        code = existing.code  # never changes: cases and ledgers point at it
    _length(errors, "name", data["name"], 100, "事项名称")
    if data["name"]:
        twin = session.scalar(select(Matter.code).where(Matter.name == data["name"], Matter.active,
                                                        Matter.code != (existing.code if existing else "")))
        if twin:
            _add(errors, "name", f"在用事项 {twin} 已叫这个名称，请区分（同名事项会让服务对象选错）。")
    if data["kind"] not in MATTER_KINDS:
        _add(errors, "kind", "请选择事项类别（涉企事项或个人事项）。")
    levels = data["levels"] if isinstance(data["levels"], list) else [data["levels"]]
    if not levels:
        _add(errors, "levels", "请至少选择一个办理层级（县、乡镇、村）。")
    elif any(level not in LEVELS for level in levels):
        _add(errors, "levels", "办理层级只能是县级、乡（镇）级、村（社区）级。")
    levels = [level for level in LEVELS if level in levels]  # canonical order, once each
    unit = session.scalars(select(OrgUnit).where(OrgUnit.code == data["responsible_unit"])).first() \
        if data["responsible_unit"] else None
    if not data["responsible_unit"]:
        _add(errors, "responsible_unit", "请选择承办单位。")
    elif unit is None:
        _add(errors, "responsible_unit", f"单位 {data['responsible_unit']} 不存在。")
    elif not unit.active:
        _add(errors, "responsible_unit", f"{unit.name} 已撤销，请选择在用的单位。")
    department = data["department"] or (unit.name if unit is not None else "")
    _length(errors, "department", department, 100, "审批部门")
    types = [t for t in SERVICE_TYPES if t in data["service_types"]] \
        if all(t in SERVICE_TYPES for t in data["service_types"]) else data["service_types"]  # canonical order, once each
    if not types:
        _add(errors, "service_types", "请至少选择一种服务方式（帮办、代办、上门办）。")
    elif any(t not in SERVICE_TYPES for t in types):
        _add(errors, "service_types", "服务方式只能是帮办、代办、上门办。")
    promised = _days(errors, "promised_days", data["promised_days"], "承诺时限", required=True)
    legal = _days(errors, "legal_days", data["legal_days"], "法定时限", required=False)
    if promised is not None and legal is not None and promised > legal:
        _add(errors, "promised_days", f"承诺时限（{promised} 个工作日）不能长于法定时限（{legal} 个工作日）。")
    _length(errors, "fee", data["fee"], 100, "收费标准", required=False)
    _length(errors, "window", data["window"], 200, "办理窗口", required=False)

    notice = data["notice"]
    for i, material in enumerate(notice["materials"]):
        if not material["name"]:
            _add(errors, f"materials.{i}.name", "请填写材料名称（整行留空则不提交）。")
        for key, limit in (("name", 100), ("copies", 100), ("how_to_obtain", 300)):
            if len(material[key]) > limit:
                _add(errors, f"materials.{i}.{key}", f"不能超过 {limit} 个字。")
    for key in ("conditions", "steps", "cautions", "basis"):
        if len(notice[key]) > 50 or any(len(line) > 300 for line in notice[key]):
            _add(errors, key, "每行不超过 300 字，最多 50 行。")
    if len(notice["materials"]) > 60:
        _add(errors, "materials", "申请材料最多 60 项。")
    time_limit = notice["time_limit"]
    if existing is not None and time_limit == time_limit_text(existing.promised_days, existing.legal_days) \
            == (existing.notice or {}).get("time_limit"):
        time_limit = ""  # the generated text of the old days: follow the new ones
    if not time_limit and promised is not None:
        # The time limit the applicant reads follows the promised and legal days unless written by hand.
        time_limit = time_limit_text(promised, legal)
    _length(errors, "time_limit", time_limit, 200, "办理时限", required=False)
    clean = {"code": code, "name": data["name"], "kind": data["kind"], "department": department,
             "responsible_unit": data["responsible_unit"], "levels": levels, "service_types": types,
             "promised_days": promised, "legal_days": legal, "fee": data["fee"] or None, "window": data["window"] or None,
             "notice": {"materials": notice["materials"], "conditions": notice["conditions"], "steps": notice["steps"],
                        "time_limit": time_limit, "cautions": notice["cautions"], "basis": notice["basis"]}}
    warnings = notice_gaps(clean["notice"])
    if promised is not None and time_limit and str(promised) not in time_limit:
        warnings["time_limit"] = f"办理时限的文字里没有承诺的 {promised} 个工作日：请改正，或清空此栏按承诺和法定时限自动生成。"
    return clean, errors, warnings


MATTER_FIELDS = ("name", "kind", "department", "responsible_unit", "levels", "service_types", "promised_days",
                 "legal_days", "fee", "window", "notice")


def save_matter(system: System, actor: Actor, data: dict[str, Any], code: str | None = None) -> dict[str, Any]:
    """Create (``code`` None) or edit a matter. Nothing is saved on an error; an incomplete notice
    (R-5.4) is saved only with ``confirm_incomplete``. Running cases keep the matter data they started with."""
    require_role(actor, *MANAGE_ROLES)
    now = system.clock.now()
    with system.db.unit_of_work() as session:
        existing = None
        if code is not None:
            existing = _matter(session, code)
        clean, errors, gaps = _validate_matter(session, data, existing)
        if gaps and not data.get("confirm_incomplete"):
            for field, message in gaps.items():
                _add(errors, field, message)
            _add(errors, "confirm_incomplete",
                 "一次性告知不完整或与时限不一致（R-5.4）：请按提示补全，或勾选“确认先保存不完整的告知”。不完整的告知计入信息公开透明度（R-4.b）。")
        if errors:
            raise FormInvalid(errors, "事项未保存：请按提示修改。")
        if existing is None:
            matter = Matter(code=clean["code"], active=True, **{k: clean[k] for k in MATTER_FIELDS})
            session.add(matter)
            changes = {k: [None, clean[k]] for k in MATTER_FIELDS}
            action = "matter_created"
        else:
            matter = existing
            changes = {}
            for key in MATTER_FIELDS:
                before = getattr(matter, key)
                if before != clean[key]:
                    changes[key] = [before, clean[key]]
                    setattr(matter, key, clean[key])
            action = "matter_updated"
        complete = notice_complete(clean["notice"])
        if changes:
            audit(session, now, actor.username, action,
                  detail={"matter": clean["code"], "changes": changes, "notice_complete": complete})
        return {"code": clean["code"], "name": clean["name"], "changed": sorted(changes), "notice_complete": complete,
                "created": existing is None}


def set_matter_active(system: System, actor: Actor, code: str, active: bool) -> dict[str, Any]:
    """Retire a matter (it leaves the catalog, the pickers and the public page) or bring it back."""
    require_role(actor, *MANAGE_ROLES)
    now = system.clock.now()
    with system.db.unit_of_work() as session:
        matter = _matter(session, code)
        continuing = 0
        if not active and matter.active:
            # Retiring stops new cases only: the running ones go on to their end, and the callback
            # (and any rectification) the system starts for them takes the matter as it stands (R-10.1).
            continuing = session.scalar(select(func.count()).select_from(Case).where(
                Case.matter_code == code, Case.status.notin_(OPEN_CASE_EXCLUDED))) or 0
        if active and not matter.active:
            unit = session.scalars(select(OrgUnit).where(OrgUnit.code == matter.responsible_unit)).first()
            if unit is None or not unit.active:
                raise FormInvalid({"responsible_unit": ["承办单位已撤销：请先编辑事项，改为在用的单位，再恢复。"]},
                                  f"事项“{matter.name}”的承办单位已撤销，不能恢复。")
        _set_active(session, now, actor, matter, active, "matter")
        return {"code": code, "name": matter.name, "active": active, "continuing": continuing}


def list_matters(system: System, actor: Actor, q: str | None = None, kind: str | None = None,
                 unit: str | None = None, state: str | None = None) -> dict[str, Any]:
    """The catalog for its keepers: every matter (retired too), with the notice's completeness."""
    require_role(actor, *MANAGE_ROLES)
    with system.db.unit_of_work(write=False) as session:
        query = select(Matter).order_by(Matter.code)
        if q:
            like = f"%{q}%"
            query = query.where(Matter.code.ilike(like) | Matter.name.ilike(like) | Matter.department.ilike(like))
        if kind in MATTER_KINDS:
            query = query.where(Matter.kind == kind)
        if unit:
            query = query.where(Matter.responsible_unit == unit)
        if state == "active":
            query = query.where(Matter.active)
        elif state == "retired":
            query = query.where(~Matter.active)
        units = _units_in_order(session)
        names = {u.code: u.name for u in units}
        rows = [{"code": m.code, "name": m.name, "kind": m.kind, "department": m.department,
                 "responsible_unit": m.responsible_unit, "unit_name": names.get(m.responsible_unit, m.responsible_unit),
                 "levels": list(m.levels or []), "service_types": list(m.service_types or []), "promised_days": m.promised_days,
                 "legal_days": m.legal_days, "active": m.active, "notice_complete": notice_complete(m.notice),
                 "gaps": list(notice_gaps(m.notice or {}).values())}
                for m in session.scalars(query)]
        return {"items": rows, "units": unit_choices(units), "filters": {"q": q, "kind": kind, "unit": unit, "state": state},
                "incomplete": sum(1 for r in rows if r["active"] and not r["notice_complete"])}


def matter_page(system: System, actor: Actor, code: str | None) -> dict[str, Any]:
    """The edit form's data: the matter (or a blank one) and the units it may name."""
    require_role(actor, *MANAGE_ROLES)
    with system.db.unit_of_work(write=False) as session:
        matter = None
        if code is not None:
            matter = _matter(session, code)
        data = matter_data(matter)
        running = 0
        if matter is not None:
            running = session.scalar(select(func.count()).select_from(Case).where(
                Case.matter_code == code, Case.status.notin_(OPEN_CASE_EXCLUDED))) or 0
        return {"values": data, "active": matter.active if matter else True, "is_new": matter is None,
                "running_cases": running, "units": unit_choices(_units_in_order(session), data["responsible_unit"])}


def matter_form_units(system: System, keep: str | None) -> list[dict[str, Any]]:
    with system.db.unit_of_work(write=False) as session:
        return unit_choices(_units_in_order(session), keep)


# --- org units (R-3.3) -----------------------------------------------------------------------------------

def _unit_counts(session) -> dict[str, dict[str, int]]:
    counts: dict[str, dict[str, int]] = defaultdict(lambda: {"staff": 0, "tasks": 0, "cases": 0, "matters": 0})
    for code, n in session.execute(select(OrgUnit.code, func.count(Staff.id)).join(Staff, Staff.unit_id == OrgUnit.id)
                                   .where(Staff.active).group_by(OrgUnit.code)):
        counts[code]["staff"] = n
    for code, n in session.execute(select(HumanTask.unit_code, func.count()).where(HumanTask.status == "ready")
                                   .group_by(HumanTask.unit_code)):
        if code:
            counts[code]["tasks"] = n
    for code, n in session.execute(select(Case.unit_code, func.count()).where(Case.status.notin_(OPEN_CASE_EXCLUDED))
                                   .group_by(Case.unit_code)):
        if code:
            counts[code]["cases"] = n
    for code, n in session.execute(select(Matter.responsible_unit, func.count()).where(Matter.active)
                                   .group_by(Matter.responsible_unit)):
        counts[code]["matters"] = n
    return counts


def unit_registry(system: System, actor: Actor) -> dict[str, Any]:
    """Every unit (retired too) in tree order with what depends on it."""
    require_role(actor, *VIEW_UNIT_ROLES)
    with system.db.unit_of_work(write=False) as session:
        units = _units_in_order(session)
        counts = _unit_counts(session)
        base = min((u.path.count("/") for u in units), default=2)
        rows = [{"code": u.code, "name": u.name, "level": u.level, "kind": u.kind, "phone": u.phone,
                 "address": u.address, "active": u.active, "depth": u.path.count("/") - base,
                 "parent": u.path.strip("/").split("/")[-2] if u.parent_id else None,
                 "may_have_children": bool(CHILD_KINDS.get(u.kind)) and u.active,
                 "fixed": u.kind in ROUTING_KINDS or u.parent_id is None, **counts.get(u.code, {})}
                for u in units]
        for row in rows:
            for key in ("staff", "tasks", "cases", "matters"):
                row.setdefault(key, 0)
        return {"items": rows, "may_edit": actor.role in UNIT_ROLES}


def unit_page(system: System, actor: Actor, code: str | None = None, parent: str | None = None) -> dict[str, Any]:
    """A unit's edit form, or a new unit's under ``parent`` with the kinds that may go there."""
    require_role(actor, *UNIT_ROLES)
    with system.db.unit_of_work(write=False) as session:
        if code is not None:
            unit = _unit(session, code)
            counts = _unit_counts(session).get(code, {})
            return {"unit": {"code": unit.code, "name": unit.name, "level": unit.level, "kind": unit.kind,
                             "phone": unit.phone or "", "address": unit.address or "", "active": unit.active,
                             "parent": unit.parent.name if unit.parent else None,
                             "peak_load": "" if unit.peak_load is None else str(unit.peak_load),
                             "peak_overdue": "" if unit.peak_overdue is None else str(unit.peak_overdue)},
                    "peak_defaults": {"load": system.settings.peak_load, "overdue": system.settings.peak_overdue},
                    "counts": {k: counts.get(k, 0) for k in ("staff", "tasks", "cases", "matters")}}
        parent_unit = session.scalars(select(OrgUnit).where(OrgUnit.code == (parent or ""))).first()
        if parent_unit is None:
            raise NotFound(f"上级单位 {parent} 不存在。")
        return {"parent": {"code": parent_unit.code, "name": parent_unit.name, "level": parent_unit.level,
                           "active": parent_unit.active},
                "kinds": [(kind, UNIT_KINDS[kind], level) for kind, level in CHILD_KINDS.get(parent_unit.kind, ())]}


def unit_input(form) -> dict[str, str]:
    return {"code": _text(form, "code", 32).upper(), "name": _text(form, "name", 100), "kind": _text(form, "kind", 32),
            "phone": _text(form, "phone", 40), "address": _text(form, "address", 200),
            "peak_load": _text(form, "peak_load", 12), "peak_overdue": _text(form, "peak_overdue", 12)}


PEAK_FIELDS = {"peak_load": "人均待办预警值", "peak_overdue": "超时待办预警值"}
MAX_PEAK_THRESHOLD = 100_000


def _peak_thresholds(errors, data) -> dict[str, int | None]:
    """A unit's own peak-alert thresholds (R-7.1.1): empty takes the default, else a whole number from 1."""
    out: dict[str, int | None] = {}
    for key, title in PEAK_FIELDS.items():
        raw = str(data.get(key) or "").strip()
        if not raw:
            out[key] = None
        elif not raw.isdigit() or not 1 <= int(raw) <= MAX_PEAK_THRESHOLD:
            _add(errors, key, f"{title}应为 1 到 {MAX_PEAK_THRESHOLD} 的整数；留空则用默认值。")
        else:
            out[key] = int(raw)
    return out


def _unit_contact_errors(errors, data) -> None:
    _length(errors, "name", data["name"], 100, "单位名称")
    _length(errors, "phone", data["phone"], 40, "电话", required=False)
    if data["phone"] and not re.fullmatch(r"[0-9+\- ]{5,40}", data["phone"]):
        _add(errors, "phone", "电话只能包含数字、空格、+ 和 -。")
    _length(errors, "address", data["address"], 200, "地址", required=False)


def create_unit(system: System, actor: Actor, parent_code: str, data: dict[str, str]) -> dict[str, Any]:
    """A new unit below ``parent_code``; its level follows the parent's (R-3.3)."""
    require_role(actor, *UNIT_ROLES)
    now = system.clock.now()
    with system.db.unit_of_work() as session:
        parent = _unit(session, parent_code, "上级单位")
        errors: dict[str, list[str]] = {}
        allowed = dict(CHILD_KINDS.get(parent.kind, ()))
        if not parent.active:
            _add(errors, "parent", f"{parent.name} 已撤销，不能在其下新建单位。")
        if not allowed:
            _add(errors, "parent", f"{parent.name}（{UNIT_KINDS.get(parent.kind, parent.kind)}）下不设下级单位：三级网络为县、乡（镇）、村（社区）（R-3.3）。")
        if data["kind"] not in allowed:
            _add(errors, "kind", "请选择单位类型：" + "、".join(UNIT_KINDS[k] for k in allowed) + "。")
        code = data["code"]
        prefix = parent.code + "-"
        if not code:
            _add(errors, "code", "请填写单位编码。")
        elif len(code) > 32 or not CODE.fullmatch(code):
            _add(errors, "code", "单位编码由大写字母、数字和连字符组成，以字母开头，最长 32 位。")
        elif not code.startswith(prefix) or len(code) == len(prefix):
            _add(errors, "code", f"单位编码应以上级单位编码加连字符开头，例如 {prefix}{'V01' if parent.level == 'township' else 'T10'}。")
        elif session.scalar(select(OrgUnit.id).where(OrgUnit.code == code)) is not None:
            _add(errors, "code", f"单位编码 {code} 已被使用（含已撤销的单位），请换一个。")
        _unit_contact_errors(errors, data)
        if data["name"] and session.scalar(select(OrgUnit.id).where(OrgUnit.parent_id == parent.id,
                                                                    OrgUnit.name == data["name"])) is not None:
            _add(errors, "name", f"{parent.name} 下已有同名单位。")
        if errors:
            raise FormInvalid(errors, "单位未保存：请按提示修改。")
        unit = OrgUnit(code=code, name=data["name"], level=allowed[data["kind"]], kind=data["kind"], parent=parent,
                       path=parent.path + code + "/", phone=data["phone"] or None, address=data["address"] or None,
                       active=True)
        session.add(unit)
        audit(session, now, actor.username, "unit_created",
              detail={"unit": code, "parent": parent.code, "level": unit.level, "kind": unit.kind, "name": unit.name})
    system.org_changed()
    return {"code": code, "name": data["name"]}


def update_unit(system: System, actor: Actor, code: str, data: dict[str, str]) -> dict[str, Any]:
    """Name, phone and address; code, level and parent stay (cases and paths point at them)."""
    require_role(actor, *UNIT_ROLES)
    now = system.clock.now()
    with system.db.unit_of_work() as session:
        unit = _unit(session, code)
        errors: dict[str, list[str]] = {}
        _unit_contact_errors(errors, data)
        peaks = _peak_thresholds(errors, data)
        if data["name"] and unit.parent_id and session.scalar(select(OrgUnit.id).where(
                OrgUnit.parent_id == unit.parent_id, OrgUnit.name == data["name"], OrgUnit.id != unit.id)) is not None:
            _add(errors, "name", "上级单位下已有同名单位。")
        if errors:
            raise FormInvalid(errors, "单位未保存：请按提示修改。")
        changes = {}
        for key in ("name", "phone", "address"):
            value = data[key] or None
            if getattr(unit, key) != value:
                changes[key] = [getattr(unit, key), value]
                setattr(unit, key, value)
        for key, value in peaks.items():
            if getattr(unit, key) != value:
                changes[key] = [getattr(unit, key), value]
                setattr(unit, key, value)
        if changes:
            audit(session, now, actor.username, "unit_updated", detail={"unit": code, "changes": changes})
    system.org_changed()
    return {"code": code, "name": unit.name, "changed": sorted(changes)}


def set_unit_active(system: System, actor: Actor, code: str, active: bool) -> dict[str, Any]:
    """Retire a unit (refused while anything still depends on it, each count named) or reactivate it."""
    require_role(actor, *UNIT_ROLES)
    now = system.clock.now()
    with system.db.unit_of_work() as session:
        unit = _unit(session, code)
        if not active and unit.active:
            blockers = []
            if unit.kind in ROUTING_KINDS or unit.parent_id is None:
                blockers.append(f"它是{UNIT_KINDS.get(unit.kind, unit.kind)}，流程图和承办单位规则要用到它")
            counts = _unit_counts(session).get(code, {})
            children = session.scalar(select(func.count()).select_from(OrgUnit).where(
                OrgUnit.parent_id == unit.id, OrgUnit.active)) or 0
            for key, n, what in (("staff", counts.get("staff", 0), "名在岗工作人员（请先调整单位或停用）"),
                                 ("tasks", counts.get("tasks", 0), "项待办任务（请先办结或改派）"),
                                 ("cases", counts.get("cases", 0), "件未办结的办件"),
                                 ("matters", counts.get("matters", 0), "个在用事项以它为承办单位（请先修改事项）"),
                                 ("children", children, "个在用的下级单位（请先撤销下级单位）")):
                if n:
                    blockers.append(f"还有 {n} {what}")
            if blockers:
                raise FormInvalid({"_unit": blockers}, f"不能撤销“{unit.name}”：" + "；".join(blockers) + "。")
        if active and not unit.active and unit.parent is not None and not unit.parent.active:
            raise FormInvalid({"_unit": [f"上级单位“{unit.parent.name}”已撤销，请先恢复上级单位。"]},
                              f"不能恢复“{unit.name}”：上级单位“{unit.parent.name}”已撤销。")
        _set_active(session, now, actor, unit, active, "unit")
    system.org_changed()
    return {"code": code, "name": unit.name, "active": active}


# --- staff (R-6.1) ----------------------------------------------------------------------------------------

def staff_input(form) -> dict[str, str]:
    return {"username": _text(form, "username", 64), "name": _text(form, "name", 50), "role": _text(form, "role", 32),
            "unit": _text(form, "unit", 32), "phone": _text(form, "phone", 40), "duties": _text(form, "duties", 1000),
            "reason": _text(form, "reason", 200),
            "password": form.get("password") or "", "password2": form.get("password2") or ""}


def _password_errors(errors, data) -> None:
    if len(data["password"]) < MIN_PASSWORD_LENGTH:
        _add(errors, "password", f"初始密码至少 {MIN_PASSWORD_LENGTH} 位。")
    elif len(data["password"]) > 128:
        _add(errors, "password", "密码不能超过 128 位。")
    if data["password"] != data["password2"]:
        _add(errors, "password2", "两次输入的密码不一致。")


# Accounts whose holder directs cases or runs the system: only administrators create, promote, change,
# reset, unlock, deactivate or reactivate them (a centre office that could reset a chief officer's password
# could act as that chief officer). The office manages every other staff member (R-6.1).
PRIVILEGED_ROLES = frozenset({ADMINISTRATOR, CHIEF_OFFICER})


def _guard_admin_accounts(actor: Actor, target_role: str | None, new_role: str | None = None) -> None:
    """The office registers service staff; only administrators manage administrators and chief officers."""
    if actor.role != ADMINISTRATOR and PRIVILEGED_ROLES & {target_role, new_role}:
        raise Forbidden("只有系统管理员可以登记、修改、重置或停用首席服务专员和系统管理员的账户。")


def _staff_field_errors(session, errors, data, current_unit: str | None = None) -> OrgUnit | None:
    _length(errors, "name", data["name"], 50, "姓名")
    if data["role"] not in ROLES:
        _add(errors, "role", "请选择角色。")
    unit = None
    if data["unit"]:
        unit = session.scalars(select(OrgUnit).where(OrgUnit.code == data["unit"])).first()
        if unit is None:
            _add(errors, "unit", f"单位 {data['unit']} 不存在。")
        elif not unit.active and data["unit"] != current_unit:
            _add(errors, "unit", f"{unit.name} 已撤销，请选择在用的单位。")
    elif data["role"] in ROLES and data["role"] not in UNITLESS_ROLES:
        _add(errors, "unit", f"{ROLE_TITLES[data['role']]}必须属于一个单位（R-3.3）。")
    _length(errors, "phone", data["phone"], 40, "电话", required=False)
    if data["phone"] and not re.fullmatch(r"[0-9+\- ]{5,40}", data["phone"]):
        _add(errors, "phone", "电话只能包含数字、空格、+ 和 -。")
    _length(errors, "duties", data["duties"], 1000, "岗位职责", required=False)
    return unit


def _record(session, now, actor: Actor, staff: Staff, change: dict[str, Any], action: str) -> None:
    session.add(StaffChange(staff_id=staff.id, at=now, actor=actor.username, change=change))
    audit(session, now, actor.username, action, detail={"username": staff.username, **change})


def register_staff(system: System, actor: Actor, data: dict[str, str]) -> dict[str, Any]:
    """Register a staff member with the password the administrator typed twice (R-6.1)."""
    require_role(actor, *MANAGE_ROLES)
    _guard_admin_accounts(actor, None, data["role"])
    now = system.clock.now()
    with system.db.unit_of_work() as session:
        errors: dict[str, list[str]] = {}
        username = data["username"]
        if not username:
            _add(errors, "username", "请填写用户名。")
        elif len(username) > 64 or not USERNAME.fullmatch(username):
            _add(errors, "username", "用户名只能包含英文字母、数字、下划线和点，最长 64 位。")
        elif session.scalar(select(Staff.id).where(func.lower(Staff.username) == username.lower())) is not None:
            _add(errors, "username", f"用户名 {username} 已存在（含已停用的账户）。")
        elif username.lower() in NON_STAFF_NAMES:  # the ledger's name for timers and online applicants
            _add(errors, "username", f"用户名 {username} 由系统保留（{NON_STAFF_NAMES[username.lower()]}），请换一个。")
        unit = _staff_field_errors(session, errors, data)
        _password_errors(errors, data)
        if errors:
            raise FormInvalid(errors, "未登记：请按提示修改。")
        staff = Staff(username=username, name=data["name"], role=data["role"], unit=unit, phone=data["phone"] or None,
                      duties=data["duties"] or None, password_hash=hash_password(data["password"]), active=True,
                      created_at=now)
        session.add(staff)
        session.flush()
        _record(session, now, actor, staff, {"action": "registered", "role": staff.role, "unit": data["unit"] or None,
                                             "name": staff.name}, "staff_registered")
        return {"username": username, "name": staff.name}


def update_staff(system: System, actor: Actor, username: str, data: dict[str, str]) -> dict[str, Any]:
    """Name, role, unit, phone, duties. A change of role or unit needs a reason (R-6.1: a stable team)."""
    require_role(actor, *MANAGE_ROLES)
    now = system.clock.now()
    with system.db.unit_of_work() as session:
        staff = _staff(session, username)
        _guard_admin_accounts(actor, staff.role, data["role"])
        errors: dict[str, list[str]] = {}
        current_unit = staff.unit.code if staff.unit else None
        unit = _staff_field_errors(session, errors, data, current_unit)
        if staff.username == actor.username and data["role"] != staff.role:
            _add(errors, "role", "不能修改自己的角色（防止把自己锁在系统之外）；请由其他管理员修改。")
        before = {"name": staff.name, "role": staff.role, "unit": current_unit, "phone": staff.phone,
                  "duties": staff.duties}
        after = {"name": data["name"], "role": data["role"], "unit": data["unit"] or None,
                 "phone": data["phone"] or None, "duties": data["duties"] or None}
        changed = [k for k in before if before[k] != after[k]]
        if ("role" in changed or "unit" in changed) and not data["reason"]:
            _add(errors, "reason", "调整角色或单位须写明原因（服务人员队伍应相对稳定，R-6.1）。")
        if errors:
            raise FormInvalid(errors, "未保存：请按提示修改。")
        if not changed:
            return {"username": username, "name": staff.name, "changed": [], "held_tasks": []}
        staff.name, staff.role, staff.phone, staff.duties = after["name"], after["role"], after["phone"], after["duties"]
        staff.unit = unit
        if "role" in changed or "unit" in changed:
            revoke_credentials(staff)  # what the old role or unit allowed ends with every session
        change = {"action": "updated", "before": {k: before[k] for k in changed}, "after": {k: after[k] for k in changed},
                  "unit": after["unit"], "role": after["role"]}
        if data["reason"]:
            change["reason"] = data["reason"]
        _record(session, now, actor, staff, change, "staff_updated")
        held = _claimed_tasks(session, username) if ("role" in changed or "unit" in changed) else []
    return {"username": username, "name": after["name"], "changed": changed, "held_tasks": held}


def _matter(session, code: str) -> Matter:
    matter = session.scalars(select(Matter).where(Matter.code == code)).first()
    if matter is None:
        raise NotFound(f"事项 {code} 不存在。")
    return matter


def _unit(session, code: str, what: str = "单位") -> OrgUnit:
    unit = session.scalars(select(OrgUnit).where(OrgUnit.code == code)).first()
    if unit is None:
        raise NotFound(f"{what} {code} 不存在。")
    return unit


def _set_active(session, now, actor: Actor, row: Matter | OrgUnit, active: bool, kind: str) -> None:
    """Retire or reactivate a matter or unit (``kind``), audited as ``<kind>_retired``/``_reactivated``."""
    if row.active != active:
        row.active = active
        audit(session, now, actor.username, f"{kind}_reactivated" if active else f"{kind}_retired",
              detail={kind: row.code})


def _staff(session, username: str) -> Staff:
    staff = session.scalars(select(Staff).where(Staff.username == username)).first()
    if staff is None:
        raise NotFound(f"工作人员 {username} 不存在。")
    return staff


def _claimed_tasks(session, username: str) -> list[dict[str, Any]]:
    rows = session.execute(select(HumanTask.id, HumanTask.title, HumanTask.role, HumanTask.unit_code, HumanTask.due_at,
                                  HumanTask.case_id, Case.number)
                           .join(Case, Case.id == HumanTask.case_id)
                           .where(HumanTask.assignee == username, HumanTask.status == "ready")
                           .order_by(HumanTask.due_at, HumanTask.created_at)).all()
    return [{"id": r.id, "title": r.title, "role": r.role, "unit": r.unit_code, "due_at": r.due_at,
             "case_id": r.case_id, "case_number": r.number} for r in rows]


def set_staff_active(system: System, actor: Actor, username: str, active: bool, reason: str = "") -> dict[str, Any]:
    """Deactivate (no more logins; the tasks they hold are listed for a chief officer to reassign) or reactivate."""
    require_role(actor, *MANAGE_ROLES)
    now = system.clock.now()
    reason = (reason or "").strip()
    with system.db.unit_of_work() as session:
        staff = _staff(session, username)
        _guard_admin_accounts(actor, staff.role)
        if staff.username == actor.username and not active:
            raise FormInvalid({"_staff": ["不能停用自己的账户。"]}, "不能停用自己的账户（防止把自己锁在系统之外）。")
        if not active and not reason:
            raise FormInvalid({"reason": ["停用须写明原因（如调离、退休），R-6.1 要求人员变动有记录。"]},
                              "未停用：请写明停用原因。")
        if len(reason) > 200:
            raise FormInvalid({"reason": ["原因不能超过 200 字。"]}, "未保存：原因太长。")
        if active and not staff.active and staff.unit is not None and not staff.unit.active:
            raise FormInvalid({"unit": [f"{staff.unit.name} 已撤销：请先把此人调到在用的单位。"]},
                              f"不能恢复：{staff.name} 所在单位已撤销，请先修改单位。")
        held = _claimed_tasks(session, username)
        if staff.active != active:
            staff.active = active
            revoke_credentials(staff)  # tokens and sessions from before, on either side of the change, end
            if active:
                lift_locks(session, staff.username, now)
            change = {"action": "reactivated" if active else "deactivated", "role": staff.role,
                      "unit": staff.unit.code if staff.unit else None}
            if reason:
                change["reason"] = reason
            if not active:
                change["held_tasks"] = len(held)
            _record(session, now, actor, staff, change, "staff_reactivated" if active else "staff_deactivated")
    return {"username": username, "name": staff.name, "active": active, "held_tasks": held}


def reset_password(system: System, actor: Actor, username: str, password: str, password2: str) -> dict[str, Any]:
    """A new password typed twice; the account is unlocked too. The history records the reset, not the password."""
    require_role(actor, *MANAGE_ROLES)
    now = system.clock.now()
    errors: dict[str, list[str]] = {}
    _password_errors(errors, {"password": password, "password2": password2})
    with system.db.unit_of_work() as session:
        staff = _staff(session, username)
        _guard_admin_accounts(actor, staff.role)
        if errors:
            raise FormInvalid(errors, "密码未重置：请按提示修改。")
        staff.password_hash = hash_password(password)
        revoke_credentials(staff)  # whoever knew the old password is logged out everywhere
        lift_locks(session, staff.username, now)
        _record(session, now, actor, staff, {"action": "password_reset"}, "staff_password_reset")
        return {"username": username, "name": staff.name}


def unlock_staff(system: System, actor: Actor, username: str) -> dict[str, Any]:
    """Lift the lock that repeated wrong passwords put on an account (identity.authenticate)."""
    require_role(actor, *MANAGE_ROLES)
    now = system.clock.now()
    with system.db.unit_of_work() as session:
        staff = _staff(session, username)
        _guard_admin_accounts(actor, staff.role)
        was_locked = lift_locks(session, staff.username, now)
        if was_locked:
            _record(session, now, actor, staff, {"action": "unlocked"}, "staff_unlocked")
        return {"username": username, "name": staff.name, "was_locked": was_locked}


def stability(session, now) -> dict[str, dict[str, Any]]:
    """Per unit: changes of role or unit and deactivations in the last 12 months, against its headcount (R-6.1)."""
    since = now - STABILITY_WINDOW
    changes: dict[str, int] = defaultdict(int)
    for (change,) in session.execute(select(StaffChange.change).where(StaffChange.at >= since)):
        action = change.get("action")
        touched: set[str] = set()
        if action == "deactivated" and change.get("unit"):
            touched.add(change["unit"])
        elif action == "updated":
            before, after = change.get("before") or {}, change.get("after") or {}
            if "unit" in after:
                touched.update(c for c in (before.get("unit"), after.get("unit")) if c)
            if "role" in after and change.get("unit"):
                touched.add(change["unit"])
        for code in touched:
            changes[code] += 1
    headcount = dict(session.execute(select(OrgUnit.code, func.count(Staff.id)).join(Staff, Staff.unit_id == OrgUnit.id)
                                     .where(Staff.active).group_by(OrgUnit.code)).all())
    result = {}
    for code in set(changes) | set(headcount):
        n, people = changes.get(code, 0), headcount.get(code, 0)
        share = n / people if people else (1.0 if n else 0.0)
        result[code] = {"changes": n, "headcount": people, "unstable": n > 0 and share >= UNSTABLE_SHARE}
    return result


def list_staff(system: System, actor: Actor, q: str | None = None, unit: str | None = None, role: str | None = None,
               state: str | None = None) -> dict[str, Any]:
    """The registry: staff by unit and role, and each unit's stability figure."""
    require_role(actor, *MANAGE_ROLES)
    now = system.clock.now()
    with system.db.unit_of_work(write=False) as session:
        units = _units_in_order(session)
        by_code = {u.code: u for u in units}
        query = (select(Staff, OrgUnit.code, OrgUnit.path, is_locked(now).label("locked")).outerjoin(OrgUnit, OrgUnit.id == Staff.unit_id)
                 .order_by(OrgUnit.path.nulls_first(), Staff.role, Staff.id))
        if q:
            like = f"%{q}%"
            query = query.where(Staff.name.ilike(like) | Staff.username.ilike(like) | Staff.phone.ilike(like))
        if unit and unit in by_code:
            query = query.where(OrgUnit.path.startswith(by_code[unit].path))
        if role in ROLES:
            query = query.where(Staff.role == role)
        if state == "active":
            query = query.where(Staff.active)
        elif state == "inactive":
            query = query.where(~Staff.active)
        elif state == "locked":
            query = query.where(is_locked(now))
        order = {u.code: i for i, u in enumerate(units)}
        rows = [{"username": s.username, "name": s.name, "role": s.role, "unit": code,
                 "unit_name": by_code[code].name if code in by_code else None, "phone": s.phone, "active": s.active,
                 "locked": bool(locked)} for s, code, _path, locked in session.execute(query)]
        rows.sort(key=lambda r: order.get(r["unit"], -1))  # stable: by role and id within a unit
        figures = stability(session, now)
        base = min((u.path.count("/") for u in units), default=2)
        table = [{"code": u.code, "name": u.name, "depth": u.path.count("/") - base, **figures[u.code]}
                 for u in units if u.code in figures]
        return {"items": rows, "units": unit_choices(units), "stability": table,
                "filters": {"q": q, "unit": unit, "role": role, "state": state}}


def describe_change(change: dict[str, Any], unit_names: dict[str, str]) -> list[str]:
    """A StaffChange as lines a person reads: 角色：帮办员 → 代办员."""

    def show(key: str, value: Any) -> str:
        if value in (None, ""):
            return "（空）"
        if key == "role":
            return ROLE_TITLES.get(value, value)
        if key == "unit":
            return unit_names.get(value, value)
        return str(value)

    action = change.get("action")
    if action == "registered":
        lines = [f"角色 {show('role', change.get('role'))}，单位 {show('unit', change.get('unit'))}"]
    elif action == "updated":
        before, after = change.get("before") or {}, change.get("after") or {}
        lines = [f"{STAFF_FIELD_TITLES.get(k, k)}：{show(k, before.get(k))} → {show(k, after.get(k))}" for k in after]
    elif action == "deactivated":
        lines = [f"停用时为 {show('role', change.get('role'))}，{show('unit', change.get('unit'))}"]
        if change.get("held_tasks"):
            lines.append(f"名下 {change['held_tasks']} 项待办需改派")
    else:
        lines = []
    if change.get("reason"):
        lines.append(f"原因：{change['reason']}")
    return lines


def staff_page(system: System, actor: Actor, username: str) -> dict[str, Any]:
    """One person: the record, the full history of changes, the tasks they hold."""
    require_role(actor, *MANAGE_ROLES)
    now = system.clock.now()
    with system.db.unit_of_work(write=False) as session:
        staff = _staff(session, username)
        units = _units_in_order(session)
        names = {u.code: u.name for u in units}
        history = session.execute(select(StaffChange).where(StaffChange.staff_id == staff.id)
                                  .order_by(StaffChange.at.desc(), StaffChange.id.desc())).scalars().all()
        actor_names = _actor_names(session, {h.actor for h in history})
        unit_code = staff.unit.code if staff.unit else None
        return {
            "staff": {"username": staff.username, "name": staff.name, "role": staff.role, "unit": unit_code,
                      "unit_name": names.get(unit_code or ""), "phone": staff.phone or "", "duties": staff.duties or "",
                      "active": staff.active, "created_at": staff.created_at,
                      "locked_until": locked_until(session, staff.username, now)},
            "history": [{"at": h.at, "actor": h.actor, "actor_name": actor_names.get(h.actor, h.actor),
                         "action": h.change.get("action"),
                         "title": CHANGE_TITLES.get(h.change.get("action"), h.change.get("action")),
                         "lines": describe_change(h.change, names)} for h in history],
            "held_tasks": _claimed_tasks(session, username),
            "units": unit_choices(units, unit_code),
            "is_self": staff.username == actor.username,
            "may_manage": actor.role == ADMINISTRATOR or staff.role not in PRIVILEGED_ROLES,
        }


def staff_form_units(system: System) -> list[dict[str, Any]]:
    with system.db.unit_of_work(write=False) as session:
        return unit_choices(_units_in_order(session))


def role_choices(actor: Actor) -> list[tuple[str, str]]:
    return [(r, t) for r, t in ROLE_TITLES.items() if actor.role == ADMINISTRATOR or r not in PRIVILEGED_ROLES]


# --- tasks held by staff who left or moved, for the chief officer to reassign (R-6.4.1, R-7.1.1) ------------

def orphaned_tasks(system: System, actor: Actor) -> dict[str, Any]:
    """The 待改派 list: services.workload.to_reassign (every open task nobody of its role can take)."""
    require_role(actor, *HANDOVER_ROLES)
    return workload.to_reassign(system, actor)
