"""Alembic environment: runs on the connection modeldeck passes in (see store/db.py)."""

from __future__ import annotations

from alembic import context
from sqlalchemy import engine_from_config, pool

from modeldeck.store import alerts as _alerts  # noqa: F401  (registers the alerts table)
from modeldeck.store import budgets as _budgets  # noqa: F401  (registers the budgets table)
from modeldeck.store import claims as _claims  # noqa: F401  (registers the claims table)
from modeldeck.store import schedules as _schedules  # noqa: F401  (registers the schedule tables)
from modeldeck.store.models import Base

config = context.config
target_metadata = Base.metadata


def run_migrations_online() -> None:
    connection = config.attributes.get("connection")
    if connection is not None:
        context.configure(
            connection=connection,
            target_metadata=target_metadata,
            render_as_batch=connection.dialect.name == "sqlite",
        )
        with context.begin_transaction():
            context.run_migrations()
        return
    engine = engine_from_config(
        config.get_section(config.config_ini_section) or {},
        prefix="sqlalchemy.",
        poolclass=pool.NullPool,
    )
    with engine.connect() as conn:
        context.configure(
            connection=conn,
            target_metadata=target_metadata,
            render_as_batch=conn.dialect.name == "sqlite",
        )
        with context.begin_transaction():
            context.run_migrations()


run_migrations_online()
