"""Engines, sessions and programmatic migrations for the intake database."""

from __future__ import annotations

from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path
from typing import Any

from alembic import command
from alembic.config import Config
from alembic.runtime.migration import MigrationContext
from alembic.script import ScriptDirectory
from sqlalchemy import Engine, create_engine, event
from sqlalchemy.engine import URL, make_url
from sqlalchemy.orm import Session, sessionmaker

from core.settings import get_settings

STORAGE_DIR = Path(__file__).resolve().parent
PROJECT_ROOT = STORAGE_DIR.parent
ALEMBIC_INI = PROJECT_ROOT / "alembic.ini"
MIGRATIONS_DIR = STORAGE_DIR / "migrations"

# How long a SQLite transaction waits for another process's write lock before it fails.
SQLITE_BUSY_TIMEOUT_S = 15.0

# The key under which upgrade() hands the database URL to migrations/env.py.
URL_ATTRIBUTE = "database_url"


def resolve_url(url: str | None = None) -> str:
    """The given URL, or the configured one; ``postgresql://`` is pinned to psycopg 3."""
    if url is None:
        url = get_settings().effective_database_url
    parsed = make_url(url)
    if parsed.drivername in ("postgresql", "postgres"):
        parsed = parsed.set(drivername="postgresql+psycopg")
    return parsed.render_as_string(hide_password=False)


def display_url(url: str) -> str:
    """The URL with its password hidden, for messages."""
    return make_url(url).render_as_string(hide_password=True)


def _is_sqlite(url: URL) -> bool:
    return url.get_backend_name() == "sqlite"


def _on_sqlite_connect(dbapi_connection: Any, _record: Any) -> None:
    # pysqlite's own transaction handling breaks SAVEPOINT; let SQLAlchemy emit BEGIN itself.
    dbapi_connection.isolation_level = None
    cursor = dbapi_connection.cursor()
    try:
        cursor.execute("PRAGMA foreign_keys=ON")
        cursor.execute("PRAGMA journal_mode=WAL")
    finally:
        cursor.close()


def _on_sqlite_begin_immediate(connection: Any) -> None:
    # IMMEDIATE takes the write lock at the start, so a concurrent writer makes us wait (busy
    # timeout) instead of failing: a deferred transaction that read before another process wrote
    # cannot upgrade to a write and fails at once with "database is locked".
    connection.exec_driver_sql("BEGIN IMMEDIATE")


def _on_sqlite_begin_deferred(connection: Any) -> None:
    connection.exec_driver_sql("BEGIN")


def make_engine(url: str | None = None, *, lock_at_begin: bool = True) -> Engine:
    """Create an engine for ``url`` (default: the configured database).

    SQLite gets foreign keys, WAL and working savepoints; PostgreSQL uses psycopg 3. On SQLite
    every transaction takes the write lock when it begins (see `_on_sqlite_begin_immediate`);
    ``lock_at_begin=False`` is for an observer that mostly reads, such as a test looking at what
    the running processes stored, and must not hold them up.
    """
    parsed = make_url(resolve_url(url))
    if _is_sqlite(parsed):
        if parsed.database and parsed.database != ":memory:" and not parsed.database.startswith("file:"):
            Path(parsed.database).expanduser().parent.mkdir(parents=True, exist_ok=True)
        engine = create_engine(
            parsed, connect_args={"check_same_thread": False, "timeout": SQLITE_BUSY_TIMEOUT_S}
        )
        event.listen(engine, "connect", _on_sqlite_connect)
        begin = _on_sqlite_begin_immediate if lock_at_begin else _on_sqlite_begin_deferred
        event.listen(engine, "begin", begin)
        return engine
    return create_engine(parsed, pool_pre_ping=True)


def make_session_factory(engine: Engine) -> sessionmaker[Session]:
    """A session factory bound to ``engine``; objects stay usable after commit."""
    return sessionmaker(bind=engine, expire_on_commit=False)


@contextmanager
def session_scope(factory: sessionmaker[Session]) -> Iterator[Session]:
    """One unit of work: commit if the block succeeds, roll back if it raises."""
    session = factory()
    try:
        yield session
        session.commit()
    except BaseException:
        session.rollback()
        raise
    finally:
        session.close()


def _script_config() -> Config:
    config = Config(str(ALEMBIC_INI))
    config.set_main_option("script_location", str(MIGRATIONS_DIR))
    return config


def alembic_config(url: str | None = None) -> Config:
    """An Alembic ``Config`` for this project, with the database URL passed as an attribute."""
    config = _script_config()
    config.attributes[URL_ATTRIBUTE] = resolve_url(url)
    # The host application owns logging; env.py must not reconfigure it.
    config.attributes["configure_logging"] = False
    return config


def upgrade(url: str | None = None) -> None:
    """Run ``alembic upgrade head`` against ``url`` (default: the configured database)."""
    command.upgrade(alembic_config(url), "head")


def head_revision() -> str | None:
    """The newest revision among the migration scripts."""
    return ScriptDirectory.from_config(_script_config()).get_current_head()


def current_revision(url: str | None = None) -> str | None:
    """The revision the database is at, or None if it has never been migrated."""
    engine = make_engine(url)
    try:
        with engine.connect() as connection:
            return MigrationContext.configure(connection).get_current_revision()
    finally:
        engine.dispose()
