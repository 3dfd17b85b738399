"""lockout per account and client address

Revision ID: 0014
Revises: 0013
Create Date: 2026-12-07 23:40:00

``login_failure`` replaces ``staff.failed_logins``/``locked_until``: wrong passwords are counted per
account and client address, so a stranger cannot lock a colleague out. Locks in force at the
upgrade are lifted.
"""

from __future__ import annotations

import sqlalchemy as sa
from alembic import op

import bdd_workflow.db.models


revision = '0014'
down_revision = '0013'
branch_labels = None
depends_on = None


def upgrade() -> None:
    op.create_table('login_failure',
    sa.Column('id', sa.Integer(), nullable=False),
    sa.Column('username', sa.String(length=64), nullable=False),
    sa.Column('address', sa.String(length=64), nullable=False),
    sa.Column('failures', sa.Integer(), nullable=False),
    sa.Column('locked_until', bdd_workflow.db.models.UTCDateTime(timezone=True), nullable=True),
    sa.Column('last_at', bdd_workflow.db.models.UTCDateTime(timezone=True), nullable=False),
    sa.PrimaryKeyConstraint('id'),
    sa.UniqueConstraint('username', 'address')
    )
    with op.batch_alter_table('login_failure', schema=None) as batch_op:
        batch_op.create_index(batch_op.f('ix_login_failure_last_at'), ['last_at'], unique=False)
    with op.batch_alter_table('staff', schema=None) as batch_op:
        batch_op.drop_column('failed_logins')
        batch_op.drop_column('locked_until')


def downgrade() -> None:
    with op.batch_alter_table('staff', schema=None) as batch_op:
        batch_op.add_column(sa.Column('locked_until', bdd_workflow.db.models.UTCDateTime(timezone=True), nullable=True))
        batch_op.add_column(sa.Column('failed_logins', sa.Integer(), server_default=sa.text('0'), nullable=False))
    with op.batch_alter_table('login_failure', schema=None) as batch_op:
        batch_op.drop_index(batch_op.f('ix_login_failure_last_at'))
    op.drop_table('login_failure')
