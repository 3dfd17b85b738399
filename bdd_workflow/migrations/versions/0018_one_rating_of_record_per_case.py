"""one rating of record per case (一事一评)

Revision ID: 0018
Revises: 0017
Create Date: 2026-12-08 02:30:00

R-7.2.1, R-10.2, R-4.d: a service case is rated once. Online, the window's rating device and the
callback may each collect the rating; the first one given is the case's rating of record
(``evaluation.of_record``), at most one per case (a partial unique index). Later ones are kept (the
callback's eight dimensions, R-10.1) and count nowhere. Existing rows: the earliest rating of each
service case becomes its rating of record; ratings of other cases (a callback rated online by its
number) stay off the record.
"""

from __future__ import annotations

import sqlalchemy as sa
from alembic import op


revision = '0018'
down_revision = '0017'
branch_labels = None
depends_on = None


def upgrade() -> None:
    with op.batch_alter_table('evaluation', schema=None) as batch_op:
        batch_op.add_column(sa.Column('of_record', sa.Boolean(), server_default=sa.false(), nullable=False))
    op.execute(sa.text(
        "UPDATE evaluation SET of_record = :yes WHERE id = ("
        " SELECT e2.id FROM evaluation e2 WHERE e2.case_id = evaluation.case_id ORDER BY e2.at, e2.id LIMIT 1)"
        " AND case_id IN (SELECT id FROM \"case\" WHERE process_id IN ('assist', 'proxy', 'onsite'))"
    ).bindparams(sa.bindparam('yes', True, sa.Boolean())))
    op.create_index('ux_evaluation_of_record', 'evaluation', ['case_id'], unique=True,
                    sqlite_where=sa.text('of_record = 1'), postgresql_where=sa.text('of_record'))


def downgrade() -> None:
    op.drop_index('ux_evaluation_of_record', table_name='evaluation')
    with op.batch_alter_table('evaluation', schema=None) as batch_op:
        batch_op.drop_column('of_record')
