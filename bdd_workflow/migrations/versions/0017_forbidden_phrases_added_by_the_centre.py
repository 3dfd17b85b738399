"""forbidden phrases added by the centre (6.3.2 item 26)

Revision ID: 0017
Revises: 0016
Create Date: 2026-12-08 03:00:00

R-6.3.2: besides the 25 phrases of 6.3.2 (bdd_workflow/phrases.py), administrators and the centre office
add the phrases item 26 leaves open ("其他有损窗口形象的不文明用语") in the registry: plain words with
their other wordings and the civil alternative. Deactivated, never deleted (the audit trail names them).
"""

from __future__ import annotations

import sqlalchemy as sa
from alembic import op

import bdd_workflow.db.models


revision = '0017'
down_revision = '0016'
branch_labels = None
depends_on = None


def upgrade() -> None:
    op.create_table('extra_phrase',
    sa.Column('id', sa.Integer(), nullable=False),
    sa.Column('phrase', sa.String(length=50), nullable=False),
    sa.Column('variants', sa.JSON(), nullable=False),
    sa.Column('alternative', sa.String(length=200), nullable=False),
    sa.Column('active', sa.Boolean(), nullable=False),
    sa.Column('created_by', sa.String(length=64), nullable=False),
    sa.Column('created_at', bdd_workflow.db.models.UTCDateTime(timezone=True), nullable=False),
    sa.Column('deactivated_by', sa.String(length=64), nullable=True),
    sa.Column('deactivated_at', bdd_workflow.db.models.UTCDateTime(timezone=True), nullable=True),
    sa.PrimaryKeyConstraint('id')
    )


def downgrade() -> None:
    op.drop_table('extra_phrase')
