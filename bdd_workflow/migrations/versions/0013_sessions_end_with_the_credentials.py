"""sessions end with the credentials

Revision ID: 0013
Revises: 0012
Create Date: 2026-12-07 23:30:00

``staff.credentials_version`` is raised by a password change, a role or unit change, deactivation and
reactivation; tokens and browser sessions issued under an older number stop working. Tokens issued
before this revision carry no number and stop working too: everyone logs in once more.
``login_session`` lets logging out end a browser session on the server.
"""

from __future__ import annotations

import sqlalchemy as sa
from alembic import op

import bdd_workflow.db.models


revision = '0013'
down_revision = '0012'
branch_labels = None
depends_on = None


def upgrade() -> None:
    with op.batch_alter_table('staff', schema=None) as batch_op:
        batch_op.add_column(sa.Column('credentials_version', sa.Integer(), server_default=sa.text('0'), nullable=False))

    op.create_table('login_session',
    sa.Column('id', sa.Integer(), nullable=False),
    sa.Column('key_hash', sa.String(length=64), nullable=False),
    sa.Column('staff_id', sa.Integer(), nullable=False),
    sa.Column('started_at', bdd_workflow.db.models.UTCDateTime(timezone=True), nullable=False),
    sa.Column('ended_at', bdd_workflow.db.models.UTCDateTime(timezone=True), nullable=True),
    sa.ForeignKeyConstraint(['staff_id'], ['staff.id'], ),
    sa.PrimaryKeyConstraint('id'),
    sa.UniqueConstraint('key_hash')
    )
    with op.batch_alter_table('login_session', schema=None) as batch_op:
        batch_op.create_index(batch_op.f('ix_login_session_staff_id'), ['staff_id'], unique=False)
        batch_op.create_index(batch_op.f('ix_login_session_started_at'), ['started_at'], unique=False)


def downgrade() -> None:
    with op.batch_alter_table('login_session', schema=None) as batch_op:
        batch_op.drop_index(batch_op.f('ix_login_session_started_at'))
        batch_op.drop_index(batch_op.f('ix_login_session_staff_id'))
    op.drop_table('login_session')
    with op.batch_alter_table('staff', schema=None) as batch_op:
        batch_op.drop_column('credentials_version')
