"""Shared pytest fixtures; each part keeps its fixtures in its own delimited section."""

from __future__ import annotations

# ---------------------------------------------------------------------------------------------
# test-wide settings: fixed test keys, never the developer's data folder
# ---------------------------------------------------------------------------------------------
import os as _os

_os.environ.setdefault("ENCRYPTION_KEYS", "dGVzdC1lbmNyeXB0aW9uLWtleS0zMi1ieXRlcy0hISE")
_os.environ.setdefault("ID_HASH_KEY", "test-id-hash-key-not-secret")

# ---------------------------------------------------------------------------------------------
# storage fixtures: db_url (SQLite and PostgreSQL), session (on a migrated database)
# ---------------------------------------------------------------------------------------------
from collections.abc import Iterator
from contextlib import ExitStack

import pytest
from sqlalchemy import create_engine, text
from sqlalchemy.orm import Session, sessionmaker

from storage.db import make_engine, make_session_factory, upgrade
from tests.support.databases import ServerUnavailable, fresh_postgres_database


@pytest.fixture(scope="session")
def postgres_test_database() -> Iterator[str]:
    """A fresh PostgreSQL database for this test session, dropped at the end; skips if no server."""
    with ExitStack() as cleanup:
        try:
            url = cleanup.enter_context(fresh_postgres_database())
        except ServerUnavailable as error:
            pytest.skip(str(error))
        yield url


def _reset_postgres_schema(url: str) -> None:
    engine = create_engine(url)
    try:
        with engine.begin() as connection:
            connection.execute(text("DROP SCHEMA IF EXISTS public CASCADE"))
            connection.execute(text("CREATE SCHEMA public"))
    finally:
        engine.dispose()


@pytest.fixture(params=["sqlite", "postgresql"])
def db_url(request: pytest.FixtureRequest, tmp_path_factory: pytest.TempPathFactory) -> str:
    """The URL of an empty database: a new SQLite file, or the session's PostgreSQL database
    with its schema wiped before the test."""
    if request.param == "sqlite":
        return f"sqlite:///{tmp_path_factory.mktemp('db') / 'intake.db'}"
    url: str = request.getfixturevalue("postgres_test_database")
    _reset_postgres_schema(url)
    return url


@pytest.fixture
def session(db_url: str) -> Iterator[Session]:
    """A session on a database migrated with Alembic (storage.db.upgrade, not create_all)."""
    upgrade(db_url)
    engine = make_engine(db_url, lock_at_begin=False)  # must not hold up the app
    factory = make_session_factory(engine)
    db_session = factory()
    try:
        yield db_session
    finally:
        db_session.close()
        engine.dispose()


@pytest.fixture
def sessions(db_url: str) -> Iterator[sessionmaker[Session]]:
    """A session factory on a migrated database, with the app's engine settings."""
    upgrade(db_url)
    engine = make_engine(db_url)
    yield make_session_factory(engine)
    engine.dispose()


# ---------------------------------------------------------------------------------------------
# end of storage fixtures
# ---------------------------------------------------------------------------------------------
