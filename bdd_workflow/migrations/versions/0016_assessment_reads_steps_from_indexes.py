"""the staff assessment reads steps and who worked where from indexes

Revision ID: 0016
Revises: 0015
Create Date: 2026-12-08 03:00:00

R-5.2 工作考核 lists, per staff member, the cases behind their steps done in a period and the ratings,
rectifications and handovers of the cases they worked on, per unit. ``ix_task_completed`` gains the case
(the steps of a period are then read index-only, their cases included) and ``ix_task_case_done`` the
unit (who worked on a case, and where, index-only). Both keep their leading columns, so what the quality
figures read from them is unchanged.
"""

from __future__ import annotations

from alembic import op


revision = '0016'
down_revision = '0015'
branch_labels = None
depends_on = None


def _indexes(completed: list[str], case_done: list[str]) -> None:
    with op.batch_alter_table('task', schema=None) as batch_op:
        batch_op.drop_index('ix_task_completed')
        batch_op.drop_index('ix_task_case_done')
        batch_op.create_index('ix_task_completed', completed, unique=False)
        batch_op.create_index('ix_task_case_done', case_done, unique=False)


def upgrade() -> None:
    _indexes(['status', 'completed_at', 'unit_code', 'completed_by', 'due_at', 'case_id'],
             ['case_id', 'completed_by', 'unit_code'])


def downgrade() -> None:
    _indexes(['status', 'completed_at', 'unit_code', 'completed_by', 'due_at'], ['case_id', 'completed_by'])
