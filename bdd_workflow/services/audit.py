"""The audit trail: who did what, when, with which data."""

from __future__ import annotations

from datetime import datetime
from typing import Any

from ..db.fast import Prepared
from ..db.models import AuditEvent

# Every task completion writes at least one: a prepared statement (db/fast.py).
_INSERT = Prepared.insert(AuditEvent.__table__, generated=["id"])


def audit(session, at: datetime, actor: str, action: str, case_id: int | None = None,
          task_id: str | None = None, element: str | None = None, detail: dict[str, Any] | None = None) -> None:
    _INSERT.execute(session, {"at": at, "actor": actor, "action": action, "case_id": case_id, "task_id": task_id,
                              "element": element, "detail": detail or {}})
