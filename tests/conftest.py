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
import os
import secrets
from collections.abc import Iterator

import pytest
from sqlalchemy import create_engine, text
from sqlalchemy.engine import make_url
from sqlalchemy.orm import Session

from storage.db import make_engine, make_session_factory, upgrade

DEFAULT_TEST_POSTGRES_URL = "postgresql+psycopg://postgres@127.0.0.1:5432/postgres"


@pytest.fixture(scope="session")
def postgres_test_database() -> Iterator[str]:
    """A fresh PostgreSQL database for this test session, dropped at the end; skips if no server."""
    server_url = make_url(os.environ.get("TEST_POSTGRES_URL", DEFAULT_TEST_POSTGRES_URL))
    if server_url.drivername in ("postgresql", "postgres"):
        server_url = server_url.set(drivername="postgresql+psycopg")
    shown = server_url.render_as_string(hide_password=True)
    admin = create_engine(server_url, isolation_level="AUTOCOMMIT", connect_args={"connect_timeout": 2})
    name = f"intake_test_{secrets.token_hex(6)}"
    try:
        with admin.connect() as connection:
            connection.execute(text(f'CREATE DATABASE "{name}"'))
    except Exception as error:  # any failure to reach the server means skip
        admin.dispose()
        pytest.skip(f"PostgreSQL not reachable at {shown}: set TEST_POSTGRES_URL ({type(error).__name__})")
    try:
        yield server_url.set(database=name).render_as_string(hide_password=False)
    finally:
        with admin.connect() as connection:
            connection.execute(text(f'DROP DATABASE IF EXISTS "{name}" WITH (FORCE)'))
        admin.dispose()


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


# ---------------------------------------------------------------------------------------------
# end of storage fixtures
# ---------------------------------------------------------------------------------------------
