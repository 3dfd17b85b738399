"""a unit's own thresholds for peak alerts (高峰应急)

Revision ID: 0015
Revises: 0014
Create Date: 2026-12-08 10:00:00

R-7.1.1: when open tasks per active staff member, or overdue tasks, pile up in a unit, the chief
officer who directs it is alerted. The thresholds default to the settings (BDD_PEAK_LOAD,
BDD_PEAK_OVERDUE); an administrator may set a unit's own in the org registry. NULL: the default.
The alert itself is computed from the task rows, not stored.
"""

from __future__ import annotations

import sqlalchemy as sa
from alembic import op


revision = '0015'
down_revision = '0014'
branch_labels = None
depends_on = None


def upgrade() -> None:
    with op.batch_alter_table('org_unit', schema=None) as batch_op:
        batch_op.add_column(sa.Column('peak_load', sa.Integer(), nullable=True))
        batch_op.add_column(sa.Column('peak_overdue', sa.Integer(), nullable=True))


def downgrade() -> None:
    with op.batch_alter_table('org_unit', schema=None) as batch_op:
        batch_op.drop_column('peak_overdue')
        batch_op.drop_column('peak_load')
