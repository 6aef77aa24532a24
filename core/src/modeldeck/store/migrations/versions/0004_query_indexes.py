"""query indexes: every column the cost, forecast, alert and request queries filter on

Revision ID: 0004_query_indexes
Revises: 0003_alerts
Create Date: 2026-12-01
"""

from collections.abc import Sequence

from alembic import op


revision: str = '0004_query_indexes'
down_revision: str | None = '0003_alerts'
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None


def upgrade() -> None:
    with op.batch_alter_table('audit_log', schema=None) as batch_op:
        batch_op.create_index(batch_op.f('ix_audit_log_subject'), ['subject'], unique=False)
    with op.batch_alter_table('requests', schema=None) as batch_op:
        batch_op.create_index(batch_op.f('ix_requests_deployment_id'), ['deployment_id'], unique=False)
        batch_op.create_index('ix_requests_status_expires_at', ['status', 'expires_at'], unique=False)
    with op.batch_alter_table('usage_calls', schema=None) as batch_op:
        batch_op.create_index('ix_usage_calls_deployed_model_at', ['deployed_model', 'at'], unique=False)
        batch_op.create_index('ix_usage_calls_overflow_at', ['overflow', 'at'], unique=False)
        batch_op.create_index('ix_usage_calls_input_tokens', ['input_tokens'], unique=False)
    with op.batch_alter_table('usage_minutes', schema=None) as batch_op:
        batch_op.create_index(batch_op.f('ix_usage_minutes_minute'), ['minute'], unique=False)


def downgrade() -> None:
    with op.batch_alter_table('usage_minutes', schema=None) as batch_op:
        batch_op.drop_index(batch_op.f('ix_usage_minutes_minute'))
    with op.batch_alter_table('usage_calls', schema=None) as batch_op:
        batch_op.drop_index('ix_usage_calls_input_tokens')
        batch_op.drop_index('ix_usage_calls_overflow_at')
        batch_op.drop_index('ix_usage_calls_deployed_model_at')
    with op.batch_alter_table('requests', schema=None) as batch_op:
        batch_op.drop_index('ix_requests_status_expires_at')
        batch_op.drop_index(batch_op.f('ix_requests_deployment_id'))
    with op.batch_alter_table('audit_log', schema=None) as batch_op:
        batch_op.drop_index(batch_op.f('ix_audit_log_subject'))
