"""unpriced imports: an order whose price is not listed, and the deployment's price note

Revision ID: 0004_unpriced_imports
Revises: 0003_alerts
Create Date: 2026-12-01
"""

from collections.abc import Sequence

import sqlalchemy as sa
from alembic import op


revision: str = '0004_unpriced_imports'
down_revision: str | None = '0003_alerts'
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None


def upgrade() -> None:
    with op.batch_alter_table('orders') as batch:
        batch.alter_column('amount', existing_type=sa.String(length=64), nullable=True)
    with op.batch_alter_table('deployments') as batch:
        batch.add_column(sa.Column('price_note', sa.Text(), nullable=True))


def downgrade() -> None:
    with op.batch_alter_table('deployments') as batch:
        batch.drop_column('price_note')
    with op.batch_alter_table('orders') as batch:
        batch.alter_column('amount', existing_type=sa.String(length=64), nullable=False)
