"""好差评: ratings by callback (R-10.1), at the window's rating device (R-7.2.1) and online.

一事一评: a service case has one rating of record, the first one given on any channel; R-4.d counts it
alone. A later rating on another channel changes nothing and is told so plainly; the callback still
records its eight dimensions (R-10.1), kept off the record. A bad rating of record starts the handling
unit's rectification (R-10.2): the callback's diagram starts it from its rating gateway, a window or
online rating here, through the same start_case machinery (relation ``rectification``, linked from the
rated service case)."""

from __future__ import annotations

from datetime import datetime
from typing import Any

from sqlalchemy import insert, select
from sqlalchemy.exc import IntegrityError

from ..db.models import Case, Evaluation
from ..engine.scripting import BAD_RATINGS
from ..errors import Conflict, DomainError, FormInvalid
from ..system import System
from .audit import audit
from .cases import SERVICE_PROCESSES, start_linked

GRADES = {
    "very_satisfied": "非常满意", "satisfied": "满意", "basically_satisfied": "基本满意",
    "dissatisfied": "不满意", "very_dissatisfied": "非常不满意",
}
SOURCES = {"callback": "电话回访", "window": "窗口评价器", "online": "网上评价"}
# What a number of a case that is not a service case is, when someone tries to rate it.
NOT_RATED_KINDS = {"callback": "回访", "rectification": "差评整改", "complaint": "投诉", "problem_report": "问题上报",
                   "consultation": "咨询"}
_INSERT = insert(Evaluation.__table__)


def rating_of_record(session, case_id: int) -> Evaluation | None:
    """The case's rating of record (the first given), or None."""
    return session.scalars(select(Evaluation).where(Evaluation.case_id == case_id, Evaluation.of_record)).first()


def already_rated_message(system: System, rating: Evaluation) -> str:
    """What a second attempt is told: which channel rated the case, when, and that nothing changed."""
    at = rating.at.astimezone(system.calendar.tz)
    return (f"这个办件已于 {at:%Y-%m-%d %H:%M} 通过{SOURCES.get(rating.source, rating.source)}评价为"
            f"“{GRADES.get(rating.satisfaction, rating.satisfaction)}”。一事一评，本次评价未记录，原评价不变。")


def _not_rateable_message(case: Case) -> str:
    kind = NOT_RATED_KINDS.get(case.process_id, case.process_id)
    return f"{case.number} 是{kind}办件的编号，不能评价。请填写帮办、代办或上门办办件的编号。"


def insert_rating(session, case_id: int, unit_code: str | None, source: str, satisfaction: str,
                  scores: dict[str, Any], comment: str | None, by: str, now: datetime, of_record: bool) -> None:
    """One rating row; a second rating of record for the case (two channels at the same moment) is a Conflict."""
    try:
        with session.begin_nested():  # a rating of record given on another channel at the same moment
            session.execute(_INSERT, dict(case_id=case_id, source=source, satisfaction=satisfaction,
                                          bad=satisfaction in BAD_RATINGS, scores=scores, comment=comment,
                                          unit_code=unit_code, recorded_by=by, at=now, of_record=of_record))
    except IntegrityError:
        raise Conflict("这个办件刚刚在其他渠道评价过了，请刷新后查看。") from None
    title = f"{SOURCES.get(source, source)}：{GRADES.get(satisfaction, satisfaction)}"
    if not of_record:
        title += "（已有评价，作为回访意见存档，不计入满意率）"
    audit(session, now, by, "case_rated", case_id=case_id,
          detail={"title": title, "source": source, "satisfaction": satisfaction, "of_record": of_record})


def record_from_step(session, case, data: dict[str, Any], by: str, now: datetime) -> None:
    """A completed step that recorded a satisfaction grade (the callback) rates the case it follows up: the
    rating of record when the case has none yet, else kept as the callback's opinion only (R-10.1)."""
    number = data.get("source_case_id")
    target = session.execute(select(Case.id, Case.unit_code, Case.process_id).where(Case.number == number)).first() \
        if number else None
    case_id, unit = (target.id, target.unit_code) if target else (case.id, case.unit_code)
    scores = {k: v for k, v in data.items() if k.startswith("score_")}
    # Only a service case has a rating of record; a callback started on its own keeps its opinion only.
    first = target is not None and target.process_id in SERVICE_PROCESSES and rating_of_record(session, case_id) is None
    insert_rating(session, case_id, unit, "callback", data["satisfaction"], scores, data.get("issues_found"), by, now,
                  first)


def rate(system: System, case_number: str, phone: str, satisfaction: str, comment: str | None,
         source: str, by: str) -> dict[str, Any]:
    """The applicant rates a finished service case: online with the case number and phone, or at the window.
    The first rating of the case is its rating of record; a bad one starts the rectification (R-10.2)."""
    if satisfaction not in GRADES:
        raise FormInvalid({"satisfaction": ["请选择一个评价等级。"]})
    if comment and len(comment) > 500:
        raise FormInvalid({"comment": ["意见最多 500 字。"]})
    now = system.clock.now()
    with system.db.unit_of_work() as session:
        case = session.scalars(select(Case).where(Case.number == case_number)).first()
        if case is None or (source == "online" and case.applicant_phone != phone):
            raise DomainError("办件编号或手机号不正确。")
        if case.process_id not in SERVICE_PROCESSES:
            raise FormInvalid({"case_number": [_not_rateable_message(case)]}, _not_rateable_message(case))
        if case.status != "completed":
            raise Conflict("办件办结后才能评价。")
        existing = rating_of_record(session, case.id)
        if existing is not None:
            raise Conflict(already_rated_message(system, existing))  # 一事一评: nothing is recorded
        insert_rating(session, case.id, case.unit_code, source, satisfaction, {}, comment, by, now, True)
        rectification = None
        if satisfaction in BAD_RATINGS:
            data = {"applicant_name": case.applicant_name, "applicant_phone": case.applicant_phone,
                    "applicant_type": case.applicant_type, "channel": case.channel, "matter_code": case.matter_code,
                    "handling_unit": case.unit_code}
            rectification = start_linked(system, session, case, data, "rectification", "rectification", now)
            audit(session, now, by, "case_note", case_id=case.id, detail={
                "label": "差评整改", "title": f"差评已转{system.org(session).name(case.unit_code) or case.unit_code}整改",
                "from_case": rectification["number"]})
        return {"case_number": case.number, "satisfaction": satisfaction, "label": GRADES[satisfaction],
                "rectification": rectification["number"] if rectification else None}


def rating_view(system: System, session, case_id: int) -> dict[str, Any] | None:
    """The rating of record as pages show it (channel, grade, when), or None."""
    rating = rating_of_record(session, case_id)
    if rating is None:
        return None
    return {"source": rating.source, "source_title": SOURCES.get(rating.source, rating.source),
            "satisfaction": rating.satisfaction, "label": GRADES.get(rating.satisfaction, rating.satisfaction),
            "bad": rating.bad, "comment": rating.comment, "at": rating.at, "message": already_rated_message(system, rating)}
