"""deployment tags and budgets set through the grammar

Revision ID: 0007_tags_and_budgets
Revises: 0006_unpriced_imports
Create Date: 2026-12-01
"""

from collections.abc import Sequence

import sqlalchemy as sa
from alembic import op


revision: str = '0007_tags_and_budgets'
down_revision: str | None = '0006_unpriced_imports'
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None


def upgrade() -> None:
    with op.batch_alter_table('deployments', schema=None) as batch_op:
        batch_op.add_column(sa.Column('tags', sa.JSON(), nullable=True))
    op.create_table('budgets',
    sa.Column('name', sa.String(length=120), nullable=False),
    sa.Column('scope', sa.String(length=240), nullable=False),
    sa.Column('amount_usd', sa.String(length=64), nullable=False),
    sa.Column('period', sa.String(length=40), nullable=False),
    sa.Column('thresholds', sa.JSON(), nullable=False),
    sa.Column('hard', sa.Boolean(), nullable=False),
    sa.Column('set_by', sa.String(length=120), nullable=False),
    sa.Column('updated_at', sa.DateTime(timezone=True), nullable=False),
    sa.PrimaryKeyConstraint('name')
    )


def downgrade() -> None:
    op.drop_table('budgets')
    with op.batch_alter_table('deployments', schema=None) as batch_op:
        batch_op.drop_column('tags')
