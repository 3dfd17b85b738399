"""case relays between the levels (互动接力, R-6.4.3)

Revision ID: 0012
Revises: 0011
Create Date: 2026-12-07 23:55:00

A relay hop is asked by the staff holding an assist or proxy case and accepted or sent back by
the receiving unit; the pending ones are the receivers' inbox, so they are indexed by status,
unit and role.
"""

from __future__ import annotations

import sqlalchemy as sa
from alembic import op

from bdd_workflow.db.models import UTCDateTime

revision = '0012'
down_revision = '0011'
branch_labels = None
depends_on = None


def upgrade() -> None:
    op.create_table(
        'case_relay',
        sa.Column('id', sa.Integer(), nullable=False),
        sa.Column('case_id', sa.Integer(), nullable=False),
        sa.Column('role', sa.String(length=32), nullable=False),
        sa.Column('from_unit', sa.String(length=32), nullable=False),
        sa.Column('to_unit', sa.String(length=32), nullable=False),
        sa.Column('direction', sa.String(length=8), nullable=False),
        sa.Column('reason', sa.Text(), nullable=False),
        sa.Column('materials', sa.Text(), nullable=True),
        sa.Column('task_name', sa.String(length=100), nullable=True),
        sa.Column('status', sa.String(length=16), nullable=False),
        sa.Column('requested_by', sa.String(length=64), nullable=False),
        sa.Column('requested_at', UTCDateTime(timezone=True), nullable=False),
        sa.Column('answered_by', sa.String(length=64), nullable=True),
        sa.Column('answered_at', UTCDateTime(timezone=True), nullable=True),
        sa.Column('answer_note', sa.Text(), nullable=True),
        sa.ForeignKeyConstraint(['case_id'], ['case.id']),
        sa.PrimaryKeyConstraint('id'),
    )
    op.create_index('ix_relay_pending', 'case_relay', ['status', 'to_unit', 'role', 'requested_at'])
    op.create_index('ix_relay_case', 'case_relay', ['case_id', 'requested_at'])
    op.create_index('ix_relay_to_unit', 'case_relay', ['to_unit', 'case_id'])
    op.create_index('ix_relay_from_unit', 'case_relay', ['from_unit', 'case_id'])


def downgrade() -> None:
    op.drop_index('ix_relay_from_unit', table_name='case_relay')
    op.drop_index('ix_relay_to_unit', table_name='case_relay')
    op.drop_index('ix_relay_case', table_name='case_relay')
    op.drop_index('ix_relay_pending', table_name='case_relay')
    op.drop_table('case_relay')
