"""start forms named by the diagrams' start events

Revision ID: 0010
Revises: 0009
Create Date: 2026-11-27 19:00:00

A deployed definition remembers the form its start event names. Definitions deployed before
this revision keep none: a start validates only what it did then, until the process is deployed
again (the definitions are immutable).
"""

from __future__ import annotations

import sqlalchemy as sa
from alembic import op


revision = '0010'
down_revision = '0009'
branch_labels = None
depends_on = None


def upgrade() -> None:
    with op.batch_alter_table('process_definition', schema=None) as batch_op:
        batch_op.add_column(sa.Column('start_form', sa.String(length=100), nullable=True))


def downgrade() -> None:
    with op.batch_alter_table('process_definition', schema=None) as batch_op:
        batch_op.drop_column('start_form')
