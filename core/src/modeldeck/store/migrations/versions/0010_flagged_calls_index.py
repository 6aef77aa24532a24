"""flagged calls index: the period's overflow-flagged calls read from a partial covering index

`ix_usage_calls_overflow_at (overflow, at)` made both databases read the period's unflagged
calls through it (about 95% of them) when the cost query asked for the long unflagged ones; a
partial index on the flagged calls alone, holding every column the query sums, replaces it.

Revision ID: 0010_flagged_calls_index
Revises: 0009_claims
Create Date: 2026-12-01
"""

from collections.abc import Sequence

import sqlalchemy as sa
from alembic import op


revision: str = '0010_flagged_calls_index'
down_revision: str | None = '0009_claims'
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None

COLUMNS = ['at', 'deployed_model', 'status_code', 'input_tokens', 'output_tokens', 'reasoning_tokens']


def upgrade() -> None:
    with op.batch_alter_table('usage_calls', schema=None) as batch_op:
        batch_op.drop_index('ix_usage_calls_overflow_at')
        batch_op.create_index(
            'ix_usage_calls_flagged_at',
            COLUMNS,
            unique=False,
            sqlite_where=sa.text('overflow = 1'),
            postgresql_where=sa.text('overflow'),
        )


def downgrade() -> None:
    with op.batch_alter_table('usage_calls', schema=None) as batch_op:
        batch_op.drop_index('ix_usage_calls_flagged_at')
        batch_op.create_index('ix_usage_calls_overflow_at', ['overflow', 'at'], unique=False)
