"""Issue 16 item 2 (R-6.1): only administrators create, promote, change, reset, unlock, deactivate or reactivate
chief officers and administrators; the centre office manages every other staff member. Each action is walked
for each kind of target, as the office and as an administrator, and a refusal changes nothing."""

from __future__ import annotations

import pytest
from sqlalchemy import select

from bdd_workflow.db.models import Staff
from bdd_workflow.errors import Forbidden
from bdd_workflow.services import registry

PASSWORD = "new-secret-1"


def staff_form(username: str, role: str, unit: str | None) -> dict[str, str]:
    return {"username": username, "name": "测试人员", "role": role, "unit": unit or "", "phone": "13900000009",
            "duties": "", "reason": "调整", "password": PASSWORD, "password2": PASSWORD}


def snapshot(system, username: str):
    with system.db.unit_of_work(write=False) as session:
        s = session.scalars(select(Staff).where(Staff.username == username)).one()
        return (s.role, s.unit_id, s.active, s.password_hash, s.credentials_version)


# target username -> (role, unit) in the demo county
TARGETS = {"wangjianjun": ("chief_officer", "CA-T01"), "chenguodong": ("administrator", None),
           "lina": ("assistant", "CA-T01"), "zhaolina": ("consultant", "CA-ZX")}
ACTIONS = {
    "reset": lambda system, actor, user: registry.reset_password(system, actor, user, PASSWORD, PASSWORD),
    "deactivate": lambda system, actor, user: registry.set_staff_active(system, actor, user, False, "调离"),
    "edit": lambda system, actor, user: registry.update_staff(system, actor, user,
                                                              staff_form(user, *TARGETS[user]) | {"name": "改名"}),
    "unlock": lambda system, actor, user: registry.unlock_staff(system, actor, user),
}


@pytest.mark.parametrize("action", sorted(ACTIONS))
@pytest.mark.parametrize("target", sorted(TARGETS))
def test_the_office_manages_service_staff_and_only_administrators_manage_chief_officers(desk, system, action, target):
    office, admin = desk.actor("wangxiuying"), desk.actor("chenguodong")
    privileged = TARGETS[target][0] in ("chief_officer", "administrator")
    before = snapshot(system, target)
    if privileged:
        with pytest.raises(Forbidden) as refused:
            ACTIONS[action](system, office, target)
        assert "只有系统管理员" in refused.value.message
        assert snapshot(system, target) == before  # nothing changed
    else:
        ACTIONS[action](system, office, target)
    if target != "chenguodong" or action not in ("deactivate", "edit"):  # an administrator keeps their own role
        ACTIONS[action](system, admin, target)


@pytest.mark.parametrize("role", ["chief_officer", "administrator"])
def test_the_office_can_neither_register_nor_promote_to_a_privileged_role(desk, system, role):
    office = desk.actor("wangxiuying")
    unit = "CA-T02" if role == "chief_officer" else None
    with pytest.raises(Forbidden):
        registry.register_staff(system, office, staff_form("newchief", role, unit))
    with pytest.raises(Forbidden):  # promoting an assistant
        registry.update_staff(system, office, "lina", staff_form("lina", role, unit))
    assert snapshot(system, "lina")[0] == "assistant"
    assert role not in {r for r, _ in registry.role_choices(office)}
    registry.register_staff(system, desk.actor("chenguodong"), staff_form("newchief", role, unit))


def test_reactivating_a_chief_officer_is_the_administrators_too(desk, system):
    admin, office = desk.actor("chenguodong"), desk.actor("wangxiuying")
    registry.set_staff_active(system, admin, "wangjianjun", False, "调离")
    with pytest.raises(Forbidden):
        registry.set_staff_active(system, office, "wangjianjun", True)
    assert snapshot(system, "wangjianjun")[2] is False
    registry.set_staff_active(system, admin, "wangjianjun", True)
    assert snapshot(system, "wangjianjun")[2] is True
