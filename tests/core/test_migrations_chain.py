"""The Alembic migrations form one chain: parallel branches that each add "the next" migration
must be re-chained, or every store refuses to open ("multiple heads")."""

from __future__ import annotations

from alembic.script import ScriptDirectory
from sqlalchemy import create_engine

from modeldeck.store.db import alembic_config


def test_the_migrations_have_exactly_one_head() -> None:
    engine = create_engine("sqlite://")
    script = ScriptDirectory.from_config(alembic_config(engine))
    heads = script.get_heads()
    assert len(heads) == 1, f"migrations branch: heads {sorted(heads)}; re-chain the newest"
    # every revision is reachable from the head: no orphan file
    chain = [rev.revision for rev in script.walk_revisions()]
    assert len(chain) == len(set(chain)) == len(list(script.walk_revisions("base", "heads")))
