"""The store: SQLAlchemy 2 tables, Alembic migrations, compare-and-set operations on them."""

from modeldeck.store.db import Store

__all__ = ["Store"]
