"""Throw-away PostgreSQL databases and the Redis server for tests that need the real servers."""

from __future__ import annotations

import os
import secrets
from collections.abc import Iterator
from contextlib import contextmanager

from sqlalchemy import create_engine, text
from sqlalchemy.engine import make_url

DEFAULT_TEST_POSTGRES_URL = "postgresql+psycopg://postgres@127.0.0.1:5432/postgres"
DEFAULT_TEST_REDIS_URL = "redis://127.0.0.1:6379/0"


class ServerUnavailable(RuntimeError):
    """The server is not reachable: the message says where it was looked for and how to point
    the tests elsewhere (the caller skips)."""


@contextmanager
def fresh_postgres_database(prefix: str = "intake_test") -> Iterator[str]:
    """A new, empty database on TEST_POSTGRES_URL's server, dropped afterwards; yields its URL."""
    server_url = make_url(os.environ.get("TEST_POSTGRES_URL", DEFAULT_TEST_POSTGRES_URL))
    if server_url.drivername in ("postgresql", "postgres"):
        server_url = server_url.set(drivername="postgresql+psycopg")
    shown = server_url.render_as_string(hide_password=True)
    admin = create_engine(server_url, isolation_level="AUTOCOMMIT", connect_args={"connect_timeout": 2})
    name = f"{prefix}_{secrets.token_hex(6)}"
    try:
        with admin.connect() as connection:
            connection.execute(text(f'CREATE DATABASE "{name}"'))
    except Exception as error:  # any failure to reach the server means skip
        admin.dispose()
        raise ServerUnavailable(
            f"PostgreSQL not reachable at {shown}: set TEST_POSTGRES_URL ({type(error).__name__})"
        ) from error
    try:
        yield server_url.set(database=name).render_as_string(hide_password=False)
    finally:
        with admin.connect() as connection:
            connection.execute(text(f'DROP DATABASE IF EXISTS "{name}" WITH (FORCE)'))
        admin.dispose()


def redis_url() -> str:
    """TEST_REDIS_URL (default: local Redis, db 0) once it answers PING."""
    import redis

    url = os.environ.get("TEST_REDIS_URL", DEFAULT_TEST_REDIS_URL)
    client = redis.Redis.from_url(url, socket_connect_timeout=2, socket_timeout=2)
    try:
        client.ping()
    except redis.RedisError as error:
        raise ServerUnavailable(
            f"Redis not reachable at {url}: set TEST_REDIS_URL ({type(error).__name__})"
        ) from error
    finally:
        client.close()
    return url
