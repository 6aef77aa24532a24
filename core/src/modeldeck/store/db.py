"""Engine, sessions and migrations: SQLite file by default, PostgreSQL for a team."""

from __future__ import annotations

from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path
from typing import TYPE_CHECKING

from sqlalchemy import Engine, create_engine, event
from sqlalchemy.engine import make_url
from sqlalchemy.orm import Session, sessionmaker

from modeldeck.errors import ConfigError

if TYPE_CHECKING:  # Alembic is imported when a schema is checked: importing the store is cheap
    from alembic.config import Config

MIGRATIONS = "modeldeck.store:migrations"


def _normalise_url(url: str) -> str:
    """Use psycopg 3 for plain `postgresql://` URLs (SQLAlchemy would default to psycopg2)."""
    if url.startswith("postgresql://") or url.startswith("postgres://"):
        return "postgresql+psycopg://" + url.split("://", 1)[1]
    return url


def make_engine(url: str) -> Engine:
    """An engine for `url`; SQLite gets a data dir, WAL and a busy timeout for concurrent use."""
    url = _normalise_url(url)
    try:
        parsed = make_url(url)
    except Exception:
        raise ConfigError(
            "MODELDECK_DATABASE_URL is not a valid database URL.",
            hint="Use sqlite:///path/to/modeldeck.db or postgresql://user@host:5432/db.",
        ) from None
    if parsed.get_backend_name() == "sqlite":
        if parsed.database and parsed.database != ":memory:":
            Path(parsed.database).parent.mkdir(parents=True, exist_ok=True)
        # A server answers up to 40 requests at once in its thread pool, each holding a
        # connection: with the default pool (5 + 10) they queued for connections, not for work.
        pool = (
            {"pool_size": 20, "max_overflow": 30}
            if parsed.database not in (None, "", ":memory:")
            else {}
        )
        engine = create_engine(
            url, connect_args={"timeout": 30, "check_same_thread": False}, **pool
        )

        @event.listens_for(engine, "connect")
        def _sqlite_pragmas(dbapi_conn, _record):  # type: ignore[no-untyped-def]
            cur = dbapi_conn.cursor()
            cur.execute("PRAGMA journal_mode=WAL")
            cur.execute("PRAGMA foreign_keys=ON")
            cur.close()

        return engine
    return create_engine(url, pool_pre_ping=True, pool_size=10, max_overflow=20)


def alembic_config(engine: Engine) -> Config:
    from alembic.config import Config

    cfg = Config()
    cfg.set_main_option("script_location", MIGRATIONS)
    cfg.set_main_option("sqlalchemy.url", engine.url.render_as_string(hide_password=False))
    return cfg


def _at_head(engine: Engine, cfg: Config) -> bool:
    """True when the schema is already at the newest revision (the common, cheap case)."""
    from alembic.runtime.migration import MigrationContext
    from alembic.script import ScriptDirectory

    head = ScriptDirectory.from_config(cfg).get_current_head()
    with engine.connect() as conn:
        return bool(MigrationContext.configure(conn).get_current_revision() == head)


@contextmanager
def _sqlite_migration_lock(engine: Engine) -> Iterator[None]:
    """Serialise migrations of one SQLite file across processes (an flock beside the file)."""
    database = engine.url.database
    if not database or database == ":memory:":
        yield
        return
    import fcntl

    with open(f"{database}.migrate.lock", "a") as handle:
        fcntl.flock(handle, fcntl.LOCK_EX)
        try:
            yield
        finally:
            fcntl.flock(handle, fcntl.LOCK_UN)


def migrate(engine: Engine) -> None:
    """Bring the schema to the newest revision: idempotent, safe from several processes."""
    from alembic import command

    cfg = alembic_config(engine)
    if _at_head(engine, cfg):
        return
    if engine.dialect.name == "sqlite":
        with _sqlite_migration_lock(engine):
            if _at_head(engine, cfg):
                return
            with engine.begin() as conn:
                cfg.attributes["connection"] = conn
                command.upgrade(cfg, "head")
        return
    with engine.begin() as conn:
        if conn.dialect.name == "postgresql":
            # One migrator at a time across server replicas.
            conn.exec_driver_sql("SELECT pg_advisory_xact_lock(724311)")
        cfg.attributes["connection"] = conn
        command.upgrade(cfg, "head")


class Store:
    """The database behind a deck: an engine, a session factory, migrated on open."""

    def __init__(self, url: str, *, migrate_schema: bool = True) -> None:
        self.url = _normalise_url(url)
        self.engine = make_engine(self.url)
        if migrate_schema:
            migrate(self.engine)
        self._sessions = sessionmaker(self.engine, expire_on_commit=False)

    @property
    def dialect(self) -> str:
        return self.engine.dialect.name

    @contextmanager
    def session(self) -> Iterator[Session]:
        """A session in a transaction: committed on success, rolled back on error."""
        with self._sessions.begin() as session:
            yield session

    def dispose(self) -> None:
        self.engine.dispose()
