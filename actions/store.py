"""The action server's database access: one engine and session factory per process, made on first use."""

from __future__ import annotations

from collections.abc import Iterator
from contextlib import contextmanager
from functools import lru_cache

from sqlalchemy.orm import Session, sessionmaker

from core.settings import get_settings
from storage.db import make_engine, make_session_factory, session_scope


@lru_cache(maxsize=1)
def _session_factory() -> sessionmaker[Session]:
    return make_session_factory(make_engine(get_settings().effective_database_url))


@contextmanager
def unit_of_work() -> Iterator[Session]:
    """A session that commits when the block succeeds and rolls back when it raises."""
    with session_scope(_session_factory()) as session:
        yield session
