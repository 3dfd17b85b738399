"""complaint findings counted per unit and staff member (投诉处理结论)

Revision ID: 0019
Revises: 0018
Create Date: 2026-12-08 03:00:00

R-4.c, R-5.2: a complaint names the case and/or the staff member it is about; when the chief officer (or the
centre office) records the finding, the complaint diagram's record_complaint_finding step writes one row here:
the unit and the staff member complained about, upheld or not, when. The staff-assessment page and the
quality page count upheld complaints per unit and per staff member over a period on the two
(who, decided_at) indexes.
"""

from __future__ import annotations

import sqlalchemy as sa
from alembic import op

from bdd_workflow.db.models import UTCDateTime


revision = '0019'
down_revision = '0018'
branch_labels = None
depends_on = None


def upgrade() -> None:
    op.create_table(
        'complaint_finding',
        sa.Column('id', sa.Integer(), nullable=False),
        sa.Column('case_id', sa.Integer(), nullable=False),
        sa.Column('about_case_id', sa.Integer(), nullable=True),
        sa.Column('unit_code', sa.String(length=32), nullable=True),
        sa.Column('staff_username', sa.String(length=64), nullable=True),
        sa.Column('upheld', sa.Boolean(), nullable=False),
        sa.Column('decided_by', sa.String(length=64), nullable=False),
        sa.Column('decided_at', UTCDateTime(timezone=True), nullable=False),
        sa.ForeignKeyConstraint(['case_id'], ['case.id']),
        sa.ForeignKeyConstraint(['about_case_id'], ['case.id']),
        sa.PrimaryKeyConstraint('id'),
        sa.UniqueConstraint('case_id'),
    )
    op.create_index('ix_complaint_finding_about_case_id', 'complaint_finding', ['about_case_id'])
    op.create_index('ix_complaint_finding_decided_at', 'complaint_finding', ['decided_at'])
    op.create_index('ix_complaint_finding_unit_decided', 'complaint_finding', ['unit_code', 'decided_at'])
    op.create_index('ix_complaint_finding_staff_decided', 'complaint_finding', ['staff_username', 'decided_at'])


def downgrade() -> None:
    op.drop_index('ix_complaint_finding_staff_decided', table_name='complaint_finding')
    op.drop_index('ix_complaint_finding_unit_decided', table_name='complaint_finding')
    op.drop_index('ix_complaint_finding_decided_at', table_name='complaint_finding')
    op.drop_index('ix_complaint_finding_about_case_id', table_name='complaint_finding')
    op.drop_table('complaint_finding')
