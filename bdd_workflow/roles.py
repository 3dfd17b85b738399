"""Roles of the glossary (REQUIREMENTS.md) and the names lanes may use for them."""

from __future__ import annotations

CONSULTANT = "consultant"
ASSISTANT = "assistant"
PROXY_AGENT = "proxy_agent"
CHIEF_OFFICER = "chief_officer"
SUPERVISOR = "supervisor"
ADMINISTRATOR = "administrator"

ROLE_TITLES = {
    CONSULTANT: "咨询中心工作人员",
    ASSISTANT: "帮办员",
    PROXY_AGENT: "代办员",
    CHIEF_OFFICER: "首席服务专员",
    SUPERVISOR: "政务服务中心办公室",
    ADMINISTRATOR: "系统管理员",
}
ROLES = tuple(ROLE_TITLES)
TASK_ROLES = (CONSULTANT, ASSISTANT, PROXY_AGENT, CHIEF_OFFICER, SUPERVISOR)
# Roles that see every case of every unit.
SEE_ALL_ROLES = frozenset({CHIEF_OFFICER, SUPERVISOR, ADMINISTRATOR})
# Roles that need no unit.
UNITLESS_ROLES = frozenset({SUPERVISOR, ADMINISTRATOR})

_LANE_NAMES = {title: role for role, title in ROLE_TITLES.items()}
_LANE_NAMES.update({role: role for role in ROLES})
_LANE_NAMES.update({"帮代办员": PROXY_AGENT, "咨询中心": CONSULTANT, "服务中心办公室": SUPERVISOR})


def role_of_lane(lane: str | None) -> str | None:
    """The role a lane stands for, or None if the lane names no role."""
    if not lane:
        return None
    return _LANE_NAMES.get(lane.strip())
