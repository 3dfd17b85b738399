"""Tables. One row per case holds SpiffWorkflow's state; everything people query is derived rows
kept in the same transaction (tasks, pending timers, audit trail, ledger, links)."""

from __future__ import annotations

from datetime import datetime, timezone
from typing import Any

from sqlalchemy import JSON, false, text, true, Boolean, DateTime, Float, ForeignKey, Index, Integer, String, Text, UniqueConstraint
from sqlalchemy.orm import DeclarativeBase, Mapped, mapped_column, relationship
from sqlalchemy.types import TypeDecorator


# Keys are INTEGER: 32 bits on PostgreSQL. A larger number in a URL is no row of ours and must not
# reach the driver (PostgreSQL refuses it, SQLite overflows past 64 bits).
MAX_ROW_ID = 2**31 - 1


class UTCDateTime(TypeDecorator):
    """Timezone-aware UTC in, timezone-aware UTC out, on SQLite and PostgreSQL alike."""

    impl = DateTime(timezone=True)
    cache_ok = True

    @staticmethod
    def _utc(value: datetime) -> datetime:
        if value.tzinfo is None:
            raise ValueError("naive datetime given to the database")
        return value.astimezone(timezone.utc)

    def process_bind_param(self, value, dialect):
        if value is None:
            return None
        value = self._utc(value)
        return value.replace(tzinfo=None) if dialect.name == "sqlite" else value

    def bind_processor(self, dialect):
        """On SQLite, straight to the text SQLAlchemy's DATETIME stores ("2025-10-10 08:30:00.000000",
        UTC): one call instead of this type's conversion and then the dialect's formatting. A task
        completion binds ~17 datetimes. Other databases take the datetime itself, as before."""
        if dialect.name != "sqlite":
            return super().bind_processor(dialect)
        utc = self._utc

        def process(value):
            return None if value is None else utc(value).replace(tzinfo=None).isoformat(" ", "microseconds")

        return process

    def process_result_value(self, value, dialect):
        if value is None:
            return None
        return value.replace(tzinfo=timezone.utc) if value.tzinfo is None else value.astimezone(timezone.utc)


class Base(DeclarativeBase):
    type_annotation_map = {datetime: UTCDateTime, dict[str, Any]: JSON, list[Any]: JSON}


class OrgUnit(Base):
    """县 / 乡(镇) / 村(社区) service units (R-3.3), and the county's departments."""

    __tablename__ = "org_unit"

    id: Mapped[int] = mapped_column(primary_key=True)
    code: Mapped[str] = mapped_column(String(32), unique=True)
    name: Mapped[str] = mapped_column(String(100))
    level: Mapped[str] = mapped_column(String(16))  # county | township | village
    kind: Mapped[str] = mapped_column(String(32))
    parent_id: Mapped[int | None] = mapped_column(ForeignKey("org_unit.id"))
    path: Mapped[str] = mapped_column(String(400), index=True)  # "/CA/CA-T01/" for subtree queries
    phone: Mapped[str | None] = mapped_column(String(40))
    address: Mapped[str | None] = mapped_column(String(200))
    # A unit is retired, never deleted: its cases, tasks and staff history keep pointing at it.
    active: Mapped[bool] = mapped_column(Boolean, default=True, server_default=true())
    # 高峰预警 (R-7.1.1): this unit's own thresholds; None takes the settings' defaults.
    peak_load: Mapped[int | None] = mapped_column(Integer)  # open tasks per active staff member
    peak_overdue: Mapped[int | None] = mapped_column(Integer)  # overdue open tasks

    parent: Mapped["OrgUnit | None"] = relationship(remote_side=[id])


class Staff(Base):
    """Registered service staff (R-6.1): the county centre registers every one."""

    __tablename__ = "staff"

    id: Mapped[int] = mapped_column(primary_key=True)
    username: Mapped[str] = mapped_column(String(64), unique=True)
    name: Mapped[str] = mapped_column(String(50))
    role: Mapped[str] = mapped_column(String(32))
    unit_id: Mapped[int | None] = mapped_column(ForeignKey("org_unit.id"))
    phone: Mapped[str | None] = mapped_column(String(40))
    duties: Mapped[str | None] = mapped_column(Text)
    password_hash: Mapped[str] = mapped_column(String(256))
    active: Mapped[bool] = mapped_column(Boolean, default=True)
    # Raised by a password change, a role or unit change, deactivation and reactivation: every token
    # and browser session carries the number it was issued under and ends when it no longer matches.
    credentials_version: Mapped[int] = mapped_column(Integer, default=0, server_default=text("0"))
    created_at: Mapped[datetime]

    unit: Mapped[OrgUnit | None] = relationship()


class LoginSession(Base):
    """A browser session: the cookie holds a random key whose hash is here, so logging out (or an
    administrator's change) ends it on the server whatever copies of the cookie exist."""

    __tablename__ = "login_session"

    id: Mapped[int] = mapped_column(primary_key=True)
    key_hash: Mapped[str] = mapped_column(String(64), unique=True)
    staff_id: Mapped[int] = mapped_column(ForeignKey("staff.id"), index=True)
    started_at: Mapped[datetime] = mapped_column(index=True)
    ended_at: Mapped[datetime | None]


class LoginFailure(Base):
    """Wrong passwords for one account from one client address; five lock that pair (not the
    account) for a while, so a stranger elsewhere cannot lock a colleague out."""

    __tablename__ = "login_failure"
    __table_args__ = (UniqueConstraint("username", "address"),)

    id: Mapped[int] = mapped_column(primary_key=True)
    username: Mapped[str] = mapped_column(String(64))
    address: Mapped[str] = mapped_column(String(64))
    failures: Mapped[int] = mapped_column(Integer, default=0)
    locked_until: Mapped[datetime | None]
    last_at: Mapped[datetime] = mapped_column(index=True)


class StaffChange(Base):
    """Every change to the registry, since R-6.1 wants a stable team and a visible history."""

    __tablename__ = "staff_change"

    id: Mapped[int] = mapped_column(primary_key=True)
    staff_id: Mapped[int] = mapped_column(ForeignKey("staff.id"), index=True)
    at: Mapped[datetime]
    actor: Mapped[str] = mapped_column(String(64))
    change: Mapped[dict[str, Any]]


class Matter(Base):
    """事项清单 entry (R-5.3) with its one-time notice (R-5.4)."""

    __tablename__ = "matter"

    id: Mapped[int] = mapped_column(primary_key=True)
    code: Mapped[str] = mapped_column(String(32), unique=True)
    name: Mapped[str] = mapped_column(String(100))
    kind: Mapped[str] = mapped_column(String(16))  # enterprise | personal
    department: Mapped[str] = mapped_column(String(100))
    # The county-level unit that handles the matter; ``levels``: where it is handled at all (county,
    # township, village). A personal matter goes to the lowest of these on the way up from the
    # registering unit (就近办, R-3.3; the routing decision in processes/).
    responsible_unit: Mapped[str] = mapped_column(String(32))
    levels: Mapped[list[Any]]
    service_types: Mapped[list[Any]]
    promised_days: Mapped[int]
    legal_days: Mapped[int | None]
    fee: Mapped[str | None] = mapped_column(String(100))
    window: Mapped[str | None] = mapped_column(String(200))
    notice: Mapped[dict[str, Any]]
    active: Mapped[bool] = mapped_column(Boolean, default=True)


class ProcessDefinition(Base):
    """An immutable deployed version of one executable process."""

    __tablename__ = "process_definition"
    __table_args__ = (UniqueConstraint("process_id", "version"),)

    id: Mapped[int] = mapped_column(primary_key=True)
    process_id: Mapped[str] = mapped_column(String(100), index=True)
    version: Mapped[int]
    name: Mapped[str] = mapped_column(String(200))
    filename: Mapped[str] = mapped_column(String(200))
    checksum: Mapped[str] = mapped_column(String(64))
    # Large and rarely needed: loaded on access only (the spec is cached per process anyway).
    bpmn_xml: Mapped[str] = mapped_column(Text, deferred=True)
    spec_json: Mapped[str] = mapped_column(Text, deferred=True)
    starter_roles: Mapped[list[Any]]
    requirement_ids: Mapped[list[Any]]
    user_tasks: Mapped[list[Any]]
    # What a start asks for beyond the applicant: the form named by the start event (or none).
    start_form: Mapped[str | None] = mapped_column(String(100))
    deployed_by: Mapped[str] = mapped_column(String(64))
    deployed_at: Mapped[datetime]


class DecisionDefinition(Base):
    """An immutable deployed version of a DMN decision (R-1 routing)."""

    __tablename__ = "decision_definition"
    __table_args__ = (UniqueConstraint("decision_id", "version"),)

    id: Mapped[int] = mapped_column(primary_key=True)
    decision_id: Mapped[str] = mapped_column(String(100), index=True)
    version: Mapped[int]
    name: Mapped[str] = mapped_column(String(200))
    filename: Mapped[str] = mapped_column(String(200))
    checksum: Mapped[str] = mapped_column(String(64))
    dmn_xml: Mapped[str] = mapped_column(Text)
    deployed_by: Mapped[str] = mapped_column(String(64))
    deployed_at: Mapped[datetime]


class Case(Base):
    """One process instance: SpiffWorkflow's state plus the columns people filter on."""

    __tablename__ = "case"
    __table_args__ = (
        Index("ix_case_process_status", "process_id", "status"),
        Index("ix_case_unit_status", "unit_code", "status"),
        Index("ix_case_started_unit", "started_unit"),  # the supervisors' unit filter (handling or registering)
        Index("ix_case_started_at", "started_at"),  # the supervisors' list: newest first, date ranges
        Index("ix_case_applicant_name", "applicant_name"),
        Index("ix_case_applicant_phone", "applicant_phone"),
        # The quality figures (services.metrics) read these index-only, never a row with its workflow state:
        # completed cases of a period (R-4.a, R-10.1), consultations and complaints started in it (R-4.c).
        Index("ix_case_completed", "status", "completed_at", "process_id", "unit_code", "breaches", "due_at", "closure"),
        Index("ix_case_process_started", "process_id", "started_at", "unit_code", "breaches"),
        # The calendar warning's count; partial, so the hot path never touches it (few cases are provisional).
        Index("ix_case_provisional", "status", "provisional", sqlite_where=text("provisional = 1"), postgresql_where=text("provisional")),
    )

    id: Mapped[int] = mapped_column(primary_key=True)
    number: Mapped[str | None] = mapped_column(String(32), unique=True)
    process_id: Mapped[str] = mapped_column(String(100))
    definition_id: Mapped[int] = mapped_column(ForeignKey("process_definition.id"))
    version: Mapped[int]
    status: Mapped[str] = mapped_column(String(16))  # running | waiting | suspended | completed | cancelled
    state_json: Mapped[str] = mapped_column(Text)
    lock_version: Mapped[int] = mapped_column(Integer, nullable=False)
    unit_code: Mapped[str | None] = mapped_column(String(32))
    started_unit: Mapped[str | None] = mapped_column(String(32))
    matter_code: Mapped[str | None] = mapped_column(String(32), index=True)
    applicant_name: Mapped[str | None] = mapped_column(String(100))
    applicant_phone: Mapped[str | None] = mapped_column(String(40))
    applicant_type: Mapped[str | None] = mapped_column(String(16))
    channel: Mapped[str | None] = mapped_column(String(16))
    started_by: Mapped[str] = mapped_column(String(64))
    started_at: Mapped[datetime]
    updated_at: Mapped[datetime]
    completed_at: Mapped[datetime | None]
    provisional: Mapped[bool] = mapped_column(Boolean, default=False)
    breaches: Mapped[int] = mapped_column(Integer, default=0)
    # The promised deadline (R-4.a), from the case data variable case_due_at the diagram writes at acceptance;
    # the deadline timers read the same variable. NULL: no promise (not a service case, or not accepted yet).
    due_at: Mapped[datetime | None]
    # How the case ended other than by being done (services/cases.py CLOSURE_REASONS), from closure_reason.
    closure: Mapped[str | None] = mapped_column(String(32))

    definition: Mapped[ProcessDefinition] = relationship(lazy="raise")
    # lock_version is checked by services.cases.save_case: UPDATE ... WHERE lock_version = <read>.


class HumanTask(Base):
    """The inbox: a ready (or finished) user task, derived from the workflow state."""

    __tablename__ = "task"
    __table_args__ = (
        # The inbox sorts by due time, then creation: both in the index so a page is read in order.
        Index("ix_task_group", "status", "role", "unit_code", "due_at", "created_at"),
        Index("ix_task_assignee", "assignee", "status", "due_at", "created_at"),
        # The county's inbox by due time, and the supervisors' overdue filter index-only (case_id).
        Index("ix_task_status_due", "status", "due_at", "created_at", "case_id"),
        Index("ix_task_unit_due", "status", "unit_code", "due_at", "created_at"),  # a chief officer's units
        Index("ix_task_case", "case_id", "status"),
        # steps done, with their cases for the staff assessment (index-only)
        Index("ix_task_completed", "status", "completed_at", "unit_code", "completed_by", "due_at", "case_id"),
        Index("ix_task_case_done", "case_id", "completed_by", "unit_code"),  # who worked on a case, where
        Index("ix_task_provisional", "status", "provisional", sqlite_where=text("provisional = 1"), postgresql_where=text("provisional")),
    )

    id: Mapped[str] = mapped_column(String(36), primary_key=True)  # SpiffWorkflow's task id
    case_id: Mapped[int] = mapped_column(ForeignKey("case.id"))
    process_id: Mapped[str] = mapped_column(String(100))
    name: Mapped[str] = mapped_column(String(100))
    title: Mapped[str] = mapped_column(String(200))
    role: Mapped[str | None] = mapped_column(String(32))
    unit_code: Mapped[str | None] = mapped_column(String(32))
    form: Mapped[str | None] = mapped_column(String(100))
    instructions: Mapped[str | None] = mapped_column(Text)
    assignee: Mapped[str | None] = mapped_column(String(64))
    status: Mapped[str] = mapped_column(String(16))  # ready | completed | cancelled
    due_at: Mapped[datetime | None]
    provisional: Mapped[bool] = mapped_column(Boolean, default=False)  # due date past the known calendar
    created_at: Mapped[datetime]
    claimed_at: Mapped[datetime | None]
    completed_at: Mapped[datetime | None]
    completed_by: Mapped[str | None] = mapped_column(String(64))

    case: Mapped[Case] = relationship(lazy="raise")


class CaseRelay(Base):
    """互动接力 (R-6.4.3): one hop of a case between units, asked by the staff holding it and accepted
    or sent back by the receiving unit's staff of the role. Pending ones are the receivers' inbox."""

    __tablename__ = "case_relay"
    __table_args__ = (
        Index("ix_relay_pending", "status", "to_unit", "role", "requested_at"),
        Index("ix_relay_case", "case_id", "requested_at"),
        # who sees a relayed case: the units it passed through (services/access.py)
        Index("ix_relay_to_unit", "to_unit", "case_id"),
        Index("ix_relay_from_unit", "from_unit", "case_id"),
    )

    id: Mapped[int] = mapped_column(primary_key=True)
    case_id: Mapped[int] = mapped_column(ForeignKey("case.id"))
    role: Mapped[str] = mapped_column(String(32))  # who works the case on both sides
    from_unit: Mapped[str] = mapped_column(String(32))
    to_unit: Mapped[str] = mapped_column(String(32))
    direction: Mapped[str] = mapped_column(String(8))  # up | down | across (by the org tree)
    reason: Mapped[str] = mapped_column(Text)
    materials: Mapped[str | None] = mapped_column(Text)  # what is handed over with the case
    task_name: Mapped[str | None] = mapped_column(String(100))  # the step it was relayed from
    status: Mapped[str] = mapped_column(String(16))  # pending | accepted | returned
    requested_by: Mapped[str] = mapped_column(String(64))
    requested_at: Mapped[datetime]
    answered_by: Mapped[str | None] = mapped_column(String(64))
    answered_at: Mapped[datetime | None]
    answer_note: Mapped[str | None] = mapped_column(Text)


class PendingTimer(Base):
    """A timer the case waits on. The database, not the scheduler, is the truth about what is due."""

    __tablename__ = "pending_timer"

    id: Mapped[str] = mapped_column(String(36), primary_key=True)  # SpiffWorkflow's task id
    case_id: Mapped[int] = mapped_column(ForeignKey("case.id"), index=True)
    name: Mapped[str] = mapped_column(String(100))
    title: Mapped[str] = mapped_column(String(200))
    attached_to: Mapped[str | None] = mapped_column(String(100))
    due_at: Mapped[datetime | None] = mapped_column(index=True)
    created_at: Mapped[datetime]


class Breach(Base):
    """A deadline that passed before its task was done: the timer fired (R-4.a, R-4.c, R-9.1.1.2, R-10.2)."""

    __tablename__ = "breach"
    __table_args__ = (Index("ix_breach_unit_fired", "unit_code", "fired_at"),)

    id: Mapped[int] = mapped_column(primary_key=True)
    case_id: Mapped[int] = mapped_column(ForeignKey("case.id"), index=True)
    process_id: Mapped[str] = mapped_column(String(100))
    timer: Mapped[str] = mapped_column(String(100))  # the timer event's BPMN id: the kind of breach
    title: Mapped[str] = mapped_column(String(200))
    attached_to: Mapped[str | None] = mapped_column(String(100))
    unit_code: Mapped[str | None] = mapped_column(String(32))
    due_at: Mapped[datetime | None]
    fired_at: Mapped[datetime]


class CaseLink(Base):
    """Assist converted to proxy, a case's callback, a callback's rectification."""

    __tablename__ = "case_link"

    id: Mapped[int] = mapped_column(primary_key=True)
    from_case_id: Mapped[int] = mapped_column(ForeignKey("case.id"), index=True)
    to_case_id: Mapped[int] = mapped_column(ForeignKey("case.id"), index=True)
    relation: Mapped[str] = mapped_column(String(32))
    created_at: Mapped[datetime]


class AuditEvent(Base):
    """Who did what, when, with which data."""

    __tablename__ = "audit_event"

    id: Mapped[int] = mapped_column(primary_key=True)
    at: Mapped[datetime] = mapped_column(index=True)
    actor: Mapped[str] = mapped_column(String(64))
    action: Mapped[str] = mapped_column(String(32))
    case_id: Mapped[int | None] = mapped_column(ForeignKey("case.id"), index=True)
    task_id: Mapped[str | None] = mapped_column(String(36))
    element: Mapped[str | None] = mapped_column(String(100))
    detail: Mapped[dict[str, Any]]


# A ledger entry lacking a required field (R-4.e): the partial index's condition.
LEDGER_INCOMPLETE = " OR ".join(
    f"{f} IS NULL OR trim({f}) = ''" for f in ("case_number", "process_id", "unit_code", "applicant_name",
                                               "matter_code", "step", "actor")) + " OR at IS NULL"


class LedgerEntry(Base):
    """台账: every step of every assist, proxy and onsite case, who and when (R-9.1.3.5, R-9.2.1)."""

    __tablename__ = "ledger_entry"
    __table_args__ = (
        Index("ix_ledger_unit_at", "unit_code", "at"),
        # The quality figures count entries per period, unit and staff member by index ranges (R-4.e) ...
        Index("ix_ledger_at", "at", "unit_code"),
        Index("ix_ledger_actor_at", "actor", "at", "unit_code"),
        # ... and the incomplete ones on an index of only them; services.metrics.ledger_incomplete() must
        # stay this very expression, term for term, for the database to use it.
        Index("ix_ledger_incomplete", "at", "unit_code", "actor",
              sqlite_where=text(LEDGER_INCOMPLETE), postgresql_where=text(LEDGER_INCOMPLETE)),
    )

    id: Mapped[int] = mapped_column(primary_key=True)
    case_id: Mapped[int] = mapped_column(ForeignKey("case.id"), index=True)
    case_number: Mapped[str] = mapped_column(String(32))
    process_id: Mapped[str] = mapped_column(String(100))
    unit_code: Mapped[str | None] = mapped_column(String(32))
    matter_code: Mapped[str | None] = mapped_column(String(32))
    applicant_name: Mapped[str | None] = mapped_column(String(100))
    step: Mapped[str] = mapped_column(String(100))
    title: Mapped[str] = mapped_column(String(200))
    actor: Mapped[str] = mapped_column(String(64))
    actor_role: Mapped[str | None] = mapped_column(String(32))
    at: Mapped[datetime]
    data: Mapped[dict[str, Any]]


class Attachment(Base):
    """A file kept with a case: scanned materials, a signature, photos, audio, video (R-9.2.1, R-9.2.3, R-9.4)."""

    __tablename__ = "attachment"

    id: Mapped[int] = mapped_column(primary_key=True)
    case_id: Mapped[int] = mapped_column(ForeignKey("case.id"), index=True)
    task_id: Mapped[str | None] = mapped_column(String(36), index=True)
    kind: Mapped[str] = mapped_column(String(16))  # material | signature | photo | audio | video | document
    filename: Mapped[str] = mapped_column(String(200))
    content_type: Mapped[str] = mapped_column(String(100))
    size: Mapped[int]
    sha256: Mapped[str] = mapped_column(String(64))
    storage_path: Mapped[str] = mapped_column(String(300))  # relative to instance/uploads
    note: Mapped[str | None] = mapped_column(String(500))
    uploaded_by: Mapped[str] = mapped_column(String(64))
    uploaded_at: Mapped[datetime]


class Evaluation(Base):
    """好差评: a rating of a case, by callback (R-10.1), at the window's rating device (R-7.2.1) or online."""

    __tablename__ = "evaluation"
    __table_args__ = (
        Index("ix_evaluation_case_source", "case_id", "source"),
        # 一事一评: at most one rating of record per case, whatever the channel.
        Index("ux_evaluation_of_record", "case_id", unique=True,
              sqlite_where=text("of_record = 1"), postgresql_where=text("of_record")),
    )

    id: Mapped[int] = mapped_column(primary_key=True)
    case_id: Mapped[int] = mapped_column(ForeignKey("case.id"))
    source: Mapped[str] = mapped_column(String(16))  # callback | window | online
    satisfaction: Mapped[str] = mapped_column(String(32))
    bad: Mapped[bool] = mapped_column(Boolean)
    # The case's rating of record: the first one given on any channel. Later ones (a callback's eight
    # dimensions after a window rating) are kept with of_record false and count nowhere (R-4.d).
    of_record: Mapped[bool] = mapped_column(Boolean, default=False, server_default=false())
    scores: Mapped[dict[str, Any]]
    comment: Mapped[str | None] = mapped_column(Text)
    unit_code: Mapped[str | None] = mapped_column(String(32), index=True)
    recorded_by: Mapped[str] = mapped_column(String(64))
    at: Mapped[datetime] = mapped_column(index=True)


class ComplaintFinding(Base):
    """投诉处理结论 (R-4.c, R-5.2): one row per complaint whose finding was recorded, written by the complaint
    diagram's record_complaint_finding step, so the upheld complaints of a unit or a staff member over a
    period are an index range, never a workflow read."""

    __tablename__ = "complaint_finding"
    __table_args__ = (Index("ix_complaint_finding_unit_decided", "unit_code", "decided_at"),
                      Index("ix_complaint_finding_staff_decided", "staff_username", "decided_at"))

    id: Mapped[int] = mapped_column(primary_key=True)
    case_id: Mapped[int] = mapped_column(ForeignKey("case.id"), unique=True)  # the complaint case
    about_case_id: Mapped[int | None] = mapped_column(ForeignKey("case.id"), index=True)
    unit_code: Mapped[str | None] = mapped_column(String(32))  # the unit complained about
    staff_username: Mapped[str | None] = mapped_column(String(64))  # the staff member complained about
    upheld: Mapped[bool] = mapped_column(Boolean)
    decided_by: Mapped[str] = mapped_column(String(64))
    decided_at: Mapped[datetime] = mapped_column(index=True)


class Publicity(Base):
    """留档宣传 (R-9.4): a write-up of a case; published on the public page once approved."""

    __tablename__ = "publicity"

    id: Mapped[int] = mapped_column(primary_key=True)
    case_id: Mapped[int] = mapped_column(ForeignKey("case.id"), index=True)
    title: Mapped[str] = mapped_column(String(200))
    body: Mapped[str] = mapped_column(Text)
    status: Mapped[str] = mapped_column(String(16))  # draft | published | withdrawn
    author: Mapped[str] = mapped_column(String(64))
    created_at: Mapped[datetime]
    approved_by: Mapped[str | None] = mapped_column(String(64))
    approved_at: Mapped[datetime | None]


class ElementVisit(Base):
    """One passage of a case through one diagram element, with the time spent there: the heatmap's rows."""

    __tablename__ = "element_visit"
    __table_args__ = (Index("ix_visit_process_left", "process_id", "left_at", "element"),)

    id: Mapped[int] = mapped_column(primary_key=True)
    case_id: Mapped[int] = mapped_column(ForeignKey("case.id"), index=True)
    process_id: Mapped[str] = mapped_column(String(100))
    version: Mapped[int]
    element: Mapped[str] = mapped_column(String(100))  # the BPMN id
    entered_at: Mapped[datetime]
    left_at: Mapped[datetime]
    seconds: Mapped[float] = mapped_column(Float)


class ProcessDraft(Base):
    """A diagram being edited in the modeler, saved without deploying (one draft per process id)."""

    __tablename__ = "process_draft"

    id: Mapped[int] = mapped_column(primary_key=True)
    process_id: Mapped[str] = mapped_column(String(100), unique=True)
    name: Mapped[str] = mapped_column(String(200))
    bpmn_xml: Mapped[str] = mapped_column(Text)
    base_version: Mapped[int | None]  # the deployed version the draft started from
    saved_by: Mapped[str] = mapped_column(String(64))
    saved_at: Mapped[datetime]


class FormDefinition(Base):
    """A version of a form edited in the forms editor; the newest version overrides forms/<name>.json."""

    __tablename__ = "form_definition"
    __table_args__ = (UniqueConstraint("name", "version"),)

    id: Mapped[int] = mapped_column(primary_key=True)
    name: Mapped[str] = mapped_column(String(100), index=True)
    version: Mapped[int]
    title: Mapped[str] = mapped_column(String(200))
    schema: Mapped[dict[str, Any]]
    ui: Mapped[dict[str, Any]]
    saved_by: Mapped[str] = mapped_column(String(64))
    saved_at: Mapped[datetime]


class ExtraPhrase(Base):
    """A forbidden phrase the centre added (6.3.2 item 26, 其他有损窗口形象的不文明用语; R-6.3.2): plain words,
    never a pattern, with the civil wording to use instead. Deactivated, never deleted."""

    __tablename__ = "extra_phrase"

    id: Mapped[int] = mapped_column(primary_key=True)
    phrase: Mapped[str] = mapped_column(String(50))
    variants: Mapped[list[Any]]  # other plain wordings of the same phrase
    alternative: Mapped[str] = mapped_column(String(200))
    active: Mapped[bool] = mapped_column(Boolean, default=True)
    created_by: Mapped[str] = mapped_column(String(64))
    created_at: Mapped[datetime]
    deactivated_by: Mapped[str | None] = mapped_column(String(64))
    deactivated_at: Mapped[datetime | None]
