"""capacity schedules and the scheduled changes they ran

Revision ID: 0008_schedules
Revises: 0007_tags_and_budgets
Create Date: 2026-12-01
"""

from collections.abc import Sequence

import sqlalchemy as sa
from alembic import op


revision: str = '0008_schedules'
down_revision: str | None = '0007_tags_and_budgets'
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None


def upgrade() -> None:
    op.create_table('schedules',
    sa.Column('id', sa.String(length=40), nullable=False),
    sa.Column('request_id', sa.String(length=40), nullable=False),
    sa.Column('deployment_id', sa.String(length=40), nullable=False),
    sa.Column('kind', sa.String(length=16), nullable=False),
    sa.Column('spec', sa.JSON(), nullable=False),
    sa.Column('state', sa.String(length=16), nullable=False),
    sa.Column('version', sa.Integer(), nullable=False),
    sa.Column('requester', sa.String(length=120), nullable=False),
    sa.Column('baseline', sa.JSON(), nullable=False),
    sa.Column('last_set', sa.JSON(), nullable=True),
    sa.Column('last_change_at', sa.DateTime(timezone=True), nullable=True),
    sa.Column('paused_reason', sa.Text(), nullable=True),
    sa.Column('activated_at', sa.DateTime(timezone=True), nullable=False),
    sa.Column('updated_at', sa.DateTime(timezone=True), nullable=False),
    sa.PrimaryKeyConstraint('id'),
    sa.UniqueConstraint('request_id')
    )
    op.create_index('ix_schedules_deployment_id', 'schedules', ['deployment_id'], unique=False)
    op.create_index('ix_schedules_state', 'schedules', ['state'], unique=False)
    op.create_table('schedule_runs',
    sa.Column('id', sa.Integer(), autoincrement=True, nullable=False),
    sa.Column('schedule_id', sa.String(length=40), nullable=False),
    sa.Column('change_at', sa.DateTime(timezone=True), nullable=False),
    sa.Column('label', sa.String(length=64), nullable=False),
    sa.Column('level', sa.JSON(), nullable=False),
    sa.Column('state', sa.String(length=16), nullable=False),
    sa.Column('request_id', sa.String(length=40), nullable=True),
    sa.Column('claimed_by', sa.String(length=120), nullable=False),
    sa.Column('claimed_at', sa.DateTime(timezone=True), nullable=False),
    sa.Column('finished_at', sa.DateTime(timezone=True), nullable=True),
    sa.Column('error', sa.Text(), nullable=True),
    sa.PrimaryKeyConstraint('id'),
    sa.UniqueConstraint('schedule_id', 'change_at', name='uq_schedule_run')
    )
    op.create_index('ix_schedule_runs_schedule_id', 'schedule_runs', ['schedule_id'], unique=False)


def downgrade() -> None:
    op.drop_index('ix_schedule_runs_schedule_id', table_name='schedule_runs')
    op.drop_table('schedule_runs')
    op.drop_index('ix_schedules_state', table_name='schedules')
    op.drop_index('ix_schedules_deployment_id', table_name='schedules')
    op.drop_table('schedules')
