"""The organisation (R-3.3, R-6.1) and the matter catalog (R-5.3, R-5.4)."""

from __future__ import annotations

import json
from pathlib import Path
from typing import Any

from sqlalchemy import select

from ..db.models import Case, Matter, OrgUnit, Staff, StaffChange
from ..errors import Conflict, DomainError, NotFound
from ..roles import ROLE_TITLES, ROLES, UNITLESS_ROLES
from ..system import System
from .audit import audit
from .identity import Actor, hash_password

LEVELS = ("county", "township", "village")
MIN_PASSWORD_LENGTH = 8
DEMO_CATALOG = Path(__file__).resolve().parent.parent / "demo" / "catalog.json"


def catalog_levels(raw: dict[str, Any]) -> list[str]:
    """A catalog file's matter levels: ``levels`` (any of county, township, village), or the older
    single ``level`` read as "this level and every level above it"."""
    if "levels" in raw:
        levels = raw["levels"]
        if not isinstance(levels, list) or not levels or any(level not in LEVELS for level in levels):
            raise DomainError(f"事项 {raw.get('code')} 的办理层级 {levels!r} 无效（应为 county/township/village 中的一个或多个）。")
        return [level for level in LEVELS if level in levels]
    level = raw.get("level", "county")
    if level not in LEVELS:
        raise DomainError(f"事项 {raw.get('code')} 的办理层级 {level!r} 无效（应为 county/township/village）。")
    return list(LEVELS[:LEVELS.index(level) + 1])


def _add_unit(session, raw: dict[str, Any], by_code: dict[str, OrgUnit]) -> OrgUnit:
    if raw["level"] not in LEVELS:
        raise DomainError(f"单位 {raw['code']} 的层级 {raw['level']} 无效（应为 county/township/village）。")
    parent = by_code.get(raw["parent"]) if raw.get("parent") else None
    if raw.get("parent") and parent is None:
        raise DomainError(f"单位 {raw['code']} 的上级单位 {raw['parent']} 不存在。")
    unit = OrgUnit(
        code=raw["code"], name=raw["name"], level=raw["level"], kind=raw.get("kind", "department"),
        parent=parent, path=(parent.path if parent else "/") + raw["code"] + "/",
        phone=raw.get("phone"), address=raw.get("address"),
    )
    session.add(unit)
    by_code[unit.code] = unit
    return unit


def load_catalog(system: System, catalog: dict[str, Any], password: str, actor: Actor) -> dict[str, int]:
    """Load units, staff and matters (the demo data, or a county's own file) in one transaction."""
    now = system.clock.now()
    with system.db.unit_of_work() as session:
        by_code = {u.code: u for u in session.scalars(select(OrgUnit))}
        added = {"units": 0, "staff": 0, "matters": 0}
        pending = [u for u in catalog.get("units", []) if u["code"] not in by_code]
        while pending:  # parents before children, whatever the file's order
            progressed = [u for u in pending if not u.get("parent") or u["parent"] in by_code]
            if not progressed:
                raise DomainError("单位的上级关系有环或上级不存在: " + ", ".join(u["code"] for u in pending))
            for raw in progressed:
                _add_unit(session, raw, by_code)
                added["units"] += 1
            pending = [u for u in pending if u["code"] not in by_code]
        session.flush()
        password_hash = hash_password(password)
        existing = set(session.scalars(select(Staff.username)))
        for raw in catalog.get("staff", []):
            if raw["username"] in existing:
                continue
            staff = _new_staff(session, by_code, raw["username"], raw["name"], raw["role"], raw.get("unit"),
                               password_hash, now, raw.get("phone"), raw.get("duties"))
            session.flush()
            session.add(StaffChange(staff_id=staff.id, at=now, actor=actor.username,
                                    change={"action": "registered", "role": staff.role, "unit": raw.get("unit")}))
            added["staff"] += 1
        known = set(session.scalars(select(Matter.code)))
        for raw in catalog.get("matters", []):
            if raw["code"] in known:
                continue
            if raw["responsible_unit"] not in by_code:
                raise DomainError(f"事项 {raw['code']} 的承办单位 {raw['responsible_unit']} 不存在。")
            session.add(Matter(
                code=raw["code"], name=raw["name"], kind=raw["kind"], department=raw["department"],
                responsible_unit=raw["responsible_unit"], levels=catalog_levels(raw),
                service_types=raw["service_types"], promised_days=int(raw["promised_days"]),
                legal_days=raw.get("legal_days"), fee=raw.get("fee"), window=raw.get("window"),
                notice=raw["notice"],
            ))
            added["matters"] += 1
        audit(session, now, actor.username, "catalog_loaded", detail=added)
    system.org_changed()
    return added


def load_demo(system: System, password: str, actor: Actor) -> dict[str, int]:
    return load_catalog(system, json.loads(DEMO_CATALOG.read_text(encoding="utf-8")), password, actor)


def _new_staff(session, by_code, username, name, role, unit_code, password_hash, now, phone=None, duties=None) -> Staff:
    if role not in ROLES:
        raise DomainError(f"角色 {role} 无效，可用: {', '.join(ROLES)}。")
    unit = by_code.get(unit_code) if unit_code else None
    if unit_code and unit is None:
        raise NotFound(f"单位 {unit_code} 不存在。")
    if unit is not None and not unit.active:
        raise DomainError(f"单位 {unit_code} 已撤销，不能再登记人员。")
    if unit is None and role not in UNITLESS_ROLES:
        raise DomainError(f"{ROLE_TITLES[role]}必须属于一个单位（--unit）。")
    staff = Staff(username=username, name=name, role=role, unit=unit, phone=phone, duties=duties,
                  password_hash=password_hash, active=True, created_at=now)
    session.add(staff)
    return staff


def create_user(system: System, actor: Actor, username: str, password: str, role: str,
                unit_code: str | None = None, name: str | None = None) -> dict[str, Any]:
    """Register a staff member (R-6.1); the change is recorded."""
    if not username or not username.isascii() or not username.replace("_", "").replace(".", "").isalnum():
        raise DomainError("用户名只能包含英文字母、数字、下划线和点。")
    if len(password) < MIN_PASSWORD_LENGTH:
        raise DomainError(f"密码至少 {MIN_PASSWORD_LENGTH} 位。")
    now = system.clock.now()
    with system.db.unit_of_work() as session:
        if session.scalars(select(Staff).where(Staff.username == username)).first():
            raise Conflict(f"用户名 {username} 已存在。")
        by_code = {u.code: u for u in session.scalars(select(OrgUnit))}
        staff = _new_staff(session, by_code, username, name or username, role, unit_code, hash_password(password), now)
        session.flush()
        session.add(StaffChange(staff_id=staff.id, at=now, actor=actor.username,
                                change={"action": "registered", "role": role, "unit": unit_code}))
        audit(session, now, actor.username, "staff_registered", detail={"username": username, "role": role, "unit": unit_code})
        return {"username": username, "role": role, "unit": unit_code}


def unit_tree(system: System, include_retired: bool = False) -> list[dict[str, Any]]:
    """The org tree for pickers and the API; a retired unit (and anything below it) is left out unless asked for."""
    with system.db.unit_of_work(write=False) as session:
        units = session.scalars(select(OrgUnit).order_by(OrgUnit.path)).all()
        if not include_retired:
            retired = [u.path for u in units if not u.active]
            units = [u for u in units if not any(u.path.startswith(p) for p in retired)]
        nodes = {u.id: {"code": u.code, "name": u.name, "level": u.level, "kind": u.kind,
                        "phone": u.phone, "children": []} for u in units}
        roots = []
        for unit in units:
            (nodes[unit.parent_id]["children"] if unit.parent_id else roots).append(nodes[unit.id])
        return roots


def matter_view(matter: Matter) -> dict[str, Any]:
    return {
        "code": matter.code, "name": matter.name, "kind": matter.kind, "department": matter.department,
        "responsible_unit": matter.responsible_unit, "levels": list(matter.levels),
        "service_types": matter.service_types, "promised_days": matter.promised_days,
        "legal_days": matter.legal_days, "fee": matter.fee, "window": matter.window, "notice": matter.notice,
    }


def list_matters(system: System) -> list[dict[str, Any]]:
    with system.db.unit_of_work(write=False) as session:
        return [matter_view(m) for m in session.scalars(select(Matter).where(Matter.active).order_by(Matter.code))]


def ref_exists(session, kind: str, value: str) -> bool:
    """For forms' ``x-ref``: does a unit / matter / staff member with this code (a case with this number) exist?
    A retired unit does not: it cannot be a dispatch or relay target (its old cases keep its code)."""
    if kind.startswith("unit:"):  # a unit with an active staff member of this role (x-staffed-by)
        return session.scalars(select(Staff.id).join(OrgUnit, Staff.unit_id == OrgUnit.id).where(
            OrgUnit.code == value, OrgUnit.active, Staff.active, Staff.role == kind[5:])).first() is not None
    if kind == "case":  # a case number (a complaint names the case it is about, R-4.c)
        return len(value) <= 32 and session.scalars(select(Case.id).where(Case.number == value)).first() is not None
    model, column = {"unit": (OrgUnit, OrgUnit.code), "matter": (Matter, Matter.code),
                     "staff": (Staff, Staff.username)}.get(kind, (None, None))
    if model is None:
        return False
    query = select(column).where(column == value)
    if model is OrgUnit:
        query = query.where(OrgUnit.active)
    return session.scalars(query).first() is not None
