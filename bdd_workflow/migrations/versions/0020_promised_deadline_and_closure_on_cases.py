"""the promised deadline and the closure reason on each case

Revision ID: 0020
Revises: 0019
Create Date: 2026-12-08 03:00:00

R-4.a: the service diagrams write the promised deadline at acceptance (case data ``case_due_at``) and their
deadline timers read it; ``case.due_at`` keeps it so the 按时办结率 compares the completion with the same
deadline. ``case.closure`` keeps how a case ended other than by being done (``closure_reason``: the
applicant withdrew, abandoned, did not supply in time, or an assist case was converted to proxy).

Cases started before this change have no ``case_due_at``: the upgrade backfills ``due_at`` of every service
case (assist, proxy, onsite) the old way R-4.a computed it, the matter's promised working days after the
local day the case started, on the county's working calendar; and marks an assist case that started a
``converted_to_proxy`` case as closed by conversion. Their timers stay as they were (running cases keep
their diagram version). The quality index is rebuilt on the columns R-4.a now reads.
"""

from __future__ import annotations

from datetime import datetime, time

import sqlalchemy as sa
from alembic import op

import bdd_workflow.db.models


revision = '0020'
down_revision = '0019'
branch_labels = None
depends_on = None

SERVICE_PROCESSES = ("assist", "proxy", "onsite")


def _calendar():
    from bdd_workflow.config import Settings
    from bdd_workflow.workdays import WorkingCalendar

    settings = Settings.from_env()
    return WorkingCalendar.load(settings.timezone, settings.workday_end, settings.instance_dir / "calendar_overrides.json")


def upgrade() -> None:
    with op.batch_alter_table('case', schema=None) as batch_op:
        batch_op.add_column(sa.Column('due_at', bdd_workflow.db.models.UTCDateTime(timezone=True), nullable=True))
        batch_op.add_column(sa.Column('closure', sa.String(length=32), nullable=True))
        batch_op.drop_index('ix_case_completed')
        batch_op.create_index('ix_case_completed', ['status', 'completed_at', 'process_id', 'unit_code', 'breaches',
                                                    'due_at', 'closure'], unique=False)
    backfill(op.get_bind())


def backfill(bind) -> None:
    """due_at the old way for service cases that have none; closure for assist cases converted to proxy."""
    case = sa.table('case', sa.column('id', sa.Integer), sa.column('process_id', sa.String), sa.column('matter_code', sa.String),
                    sa.column('started_at', bdd_workflow.db.models.UTCDateTime(timezone=True)),
                    sa.column('due_at', bdd_workflow.db.models.UTCDateTime(timezone=True)),
                    sa.column('closure', sa.String))
    matter = sa.table('matter', sa.column('code', sa.String), sa.column('promised_days', sa.Integer))
    link = sa.table('case_link', sa.column('from_case_id', sa.Integer), sa.column('relation', sa.String))
    rows = bind.execute(sa.select(case.c.id, case.c.started_at, matter.c.promised_days)
                        .join(matter, matter.c.code == case.c.matter_code)
                        .where(case.c.process_id.in_(SERVICE_PROCESSES), case.c.due_at.is_(None),
                               matter.c.promised_days.is_not(None))).all()
    if rows:
        calendar = _calendar()
        memo: dict[tuple[int, object], datetime] = {}
        updates = []
        for case_id, started_at, days in rows:
            day = started_at.astimezone(calendar.tz).date()
            if (days, day) not in memo:
                memo[(days, day)] = calendar.add_working_days(datetime.combine(day, time.min, calendar.tz), days)[0]
            updates.append({"case_id": case_id, "due": memo[(days, day)]})
        statement = sa.update(case).where(case.c.id == sa.bindparam("case_id")).values(due_at=sa.bindparam("due"))
        for start in range(0, len(updates), 5000):
            bind.execute(statement, updates[start:start + 5000])
    bind.execute(sa.update(case).where(
        case.c.process_id == "assist", case.c.closure.is_(None),
        case.c.id.in_(sa.select(link.c.from_case_id).where(link.c.relation == "converted_to_proxy")))
        .values(closure="converted_to_proxy"))


def downgrade() -> None:
    # Without a batch copy of "case": recreating the table under the rows that point at it breaks their foreign
    # keys on SQLite (the pragma cannot be turned off inside the migration's transaction). Both databases drop a
    # column in place once no index names it (SQLite since 3.35).
    op.drop_index('ix_case_completed', table_name='case')
    op.create_index('ix_case_completed', 'case', ['status', 'completed_at', 'process_id', 'unit_code', 'matter_code',
                                                  'started_at', 'breaches'], unique=False)
    op.execute('ALTER TABLE "case" DROP COLUMN closure')
    op.execute('ALTER TABLE "case" DROP COLUMN due_at')
