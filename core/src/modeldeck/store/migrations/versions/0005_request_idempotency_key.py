"""request idempotency key

Revision ID: 0005_request_idempotency_key
Revises: 0004_query_indexes
Create Date: 2026-12-01
"""

from collections.abc import Sequence

import sqlalchemy as sa
from alembic import op


revision: str = '0005_request_idempotency_key'
down_revision: str | None = '0004_query_indexes'
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None


def upgrade() -> None:
    with op.batch_alter_table('requests') as batch:
        batch.add_column(sa.Column('idempotency_key', sa.String(length=200), nullable=True))
        batch.create_unique_constraint(
            'uq_request_idempotency_key', ['requester', 'idempotency_key']
        )


def downgrade() -> None:
    with op.batch_alter_table('requests') as batch:
        batch.drop_constraint('uq_request_idempotency_key', type_='unique')
        batch.drop_column('idempotency_key')
