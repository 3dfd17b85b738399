"""The audit trail: who did what, when, with which data."""

from __future__ import annotations

from datetime import datetime
from typing import Any

from sqlalchemy import insert

from ..db.models import AuditEvent


# Statements built once: parameters travel separately, so each call skips statement construction.
_INSERT = insert(AuditEvent.__table__)


def audit(session, at: datetime, actor: str, action: str, case_id: int | None = None,
          task_id: str | None = None, element: str | None = None, detail: dict[str, Any] | None = None) -> None:
    session.execute(_INSERT, {"at": at, "actor": actor, "action": action, "case_id": case_id, "task_id": task_id,
                              "element": element, "detail": detail or {}})
