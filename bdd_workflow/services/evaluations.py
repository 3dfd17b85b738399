"""好差评: ratings by callback (R-10.1), at the window's rating device (R-7.2.1) and online (一事一评).
All join the same figures (R-4.d)."""

from __future__ import annotations

from datetime import datetime
from typing import Any

from sqlalchemy import insert, select

from ..db.models import Case, Evaluation
from ..engine.scripting import BAD_RATINGS
from ..errors import Conflict, DomainError, FormInvalid
from ..system import System

GRADES = {
    "very_satisfied": "非常满意", "satisfied": "满意", "basically_satisfied": "基本满意",
    "dissatisfied": "不满意", "very_dissatisfied": "非常不满意",
}
SOURCES = {"callback": "电话回访", "window": "窗口评价器", "online": "网上评价"}
_INSERT = insert(Evaluation.__table__)


def record(session, case_id: int, unit_code: str | None, source: str, satisfaction: str,
           scores: dict[str, Any], comment: str | None, by: str, now: datetime) -> None:
    session.execute(_INSERT, dict(case_id=case_id, source=source, satisfaction=satisfaction,
                                  bad=satisfaction in BAD_RATINGS, scores=scores, comment=comment,
                                  unit_code=unit_code, recorded_by=by, at=now))


def record_from_step(session, case, data: dict[str, Any], by: str, now: datetime) -> None:
    """A completed step that recorded a satisfaction grade (the callback) rates the case it follows up."""
    number = data.get("source_case_id")
    target = session.execute(select(Case.id, Case.unit_code).where(Case.number == number)).first() if number else None
    case_id, unit = (target.id, target.unit_code) if target else (case.id, case.unit_code)
    scores = {k: v for k, v in data.items() if k.startswith("score_")}
    record(session, case_id, unit, "callback", data["satisfaction"], scores, data.get("issues_found"), by, now)


def rate(system: System, case_number: str, phone: str, satisfaction: str, comment: str | None,
         source: str, by: str) -> dict[str, Any]:
    """The applicant rates a finished case: online with the case number and phone, or at the window."""
    if satisfaction not in GRADES:
        raise FormInvalid({"satisfaction": ["请选择一个评价等级。"]})
    if comment and len(comment) > 500:
        raise FormInvalid({"comment": ["意见最多 500 字。"]})
    now = system.clock.now()
    with system.db.unit_of_work() as session:
        case = session.scalars(select(Case).where(Case.number == case_number)).first()
        if case is None or (source == "online" and case.applicant_phone != phone):
            raise DomainError("办件编号或手机号不正确。")
        if case.status != "completed":
            raise Conflict("办件办结后才能评价。")
        already = session.scalar(select(Evaluation.id).where(Evaluation.case_id == case.id, Evaluation.source == source))
        if already:
            raise Conflict("这个办件已经评价过了，感谢您的反馈。")  # 一事一评
        record(session, case.id, case.unit_code, source, satisfaction, {}, comment, by, now)
        return {"case_number": case.number, "satisfaction": satisfaction, "label": GRADES[satisfaction]}
