"""accounting: unpriced imported orders, the deployment's price note, one live row per code

- `orders.amount` nullable: an imported order whose price the catalog does not list.
- `deployments.price_note`: why what a deployment bills is not known.
- A Model Code is unique among live rows only: a code freed by an unpublish can be deployed
  again, and the new deployment is its own row (the old one keeps its history).

Revision ID: 0006_unpriced_imports
Revises: 0005_request_idempotency_key
Create Date: 2026-12-01
"""

from collections.abc import Sequence

import sqlalchemy as sa
from alembic import op


revision: str = '0006_unpriced_imports'
down_revision: str | None = '0005_request_idempotency_key'
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None

LIVE = sa.text("deleted_at IS NULL")


def _drop_code_unique() -> None:
    if op.get_bind().dialect.name == "sqlite":
        # SQLite's constraint is unnamed: name it through the batch's naming convention
        with op.batch_alter_table(
            'deployments',
            naming_convention={"uq": "uq_%(table_name)s_%(column_0_name)s"},
            recreate="always",
        ) as batch:
            batch.drop_constraint('uq_deployments_deployed_model', type_='unique')
    else:
        op.drop_constraint('deployments_deployed_model_key', 'deployments', type_='unique')


def upgrade() -> None:
    with op.batch_alter_table('orders') as batch:
        batch.alter_column('amount', existing_type=sa.String(length=64), nullable=True)
    with op.batch_alter_table('deployments') as batch:
        batch.add_column(sa.Column('price_note', sa.Text(), nullable=True))
    _drop_code_unique()
    op.create_index(
        'uq_deployments_live_code',
        'deployments',
        ['deployed_model'],
        unique=True,
        sqlite_where=LIVE,
        postgresql_where=LIVE,
    )


def downgrade() -> None:
    op.drop_index('uq_deployments_live_code', table_name='deployments')
    with op.batch_alter_table('deployments') as batch:
        batch.create_unique_constraint('uq_deployments_deployed_model', ['deployed_model'])
        batch.drop_column('price_note')
    with op.batch_alter_table('orders') as batch:
        batch.alter_column('amount', existing_type=sa.String(length=64), nullable=False)
