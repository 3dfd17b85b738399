"""a matter lists every level that handles it (就近办 routing)

Revision ID: 0011
Revises: 0010
Create Date: 2026-12-07 23:40:00

R-3.3 / 8.2: a personal matter registered in a village or township is handled at the lowest
level that offers it on the way up. The catalog therefore says, per matter, at which levels it is
handled (``levels``: any of county, township, village), not one level. An existing matter keeps
what its single level said: a county matter is handled at the county, a township matter at the
township centres and the county, a village matter at all three.
"""

from __future__ import annotations

import json

import sqlalchemy as sa
from alembic import op


revision = '0011'
down_revision = '0010'
branch_labels = None
depends_on = None

_FROM_LEVEL = {"county": ["county"], "township": ["county", "township"], "village": ["county", "township", "village"]}


def upgrade() -> None:
    with op.batch_alter_table('matter', schema=None) as batch_op:
        batch_op.add_column(sa.Column('levels', sa.JSON(), nullable=True))
    matter = sa.table('matter', sa.column('id', sa.Integer), sa.column('level', sa.String),
                      sa.column('levels', sa.JSON))
    connection = op.get_bind()
    for row in connection.execute(sa.select(matter.c.id, matter.c.level)).all():
        connection.execute(matter.update().where(matter.c.id == row.id)
                           .values(levels=_FROM_LEVEL.get(row.level or "county", ["county"])))
    with op.batch_alter_table('matter', schema=None) as batch_op:
        batch_op.alter_column('levels', existing_type=sa.JSON(), nullable=False)
        batch_op.drop_column('level')


def downgrade() -> None:
    with op.batch_alter_table('matter', schema=None) as batch_op:
        batch_op.add_column(sa.Column('level', sa.String(length=16), nullable=True))
    matter = sa.table('matter', sa.column('id', sa.Integer), sa.column('level', sa.String),
                      sa.column('levels', sa.JSON))
    connection = op.get_bind()
    for row in connection.execute(sa.select(matter.c.id, matter.c.levels)).all():
        levels = row.levels if isinstance(row.levels, list) else json.loads(row.levels or "[]")
        lowest = "village" if "village" in levels else "township" if "township" in levels else "county"
        connection.execute(matter.update().where(matter.c.id == row.id).values(level=lowest))
    with op.batch_alter_table('matter', schema=None) as batch_op:
        batch_op.alter_column('level', existing_type=sa.String(length=16), nullable=False)
        batch_op.drop_column('levels')
