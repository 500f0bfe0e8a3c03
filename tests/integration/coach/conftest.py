"""Fixtures of the coach page tests: a migrated database (SQLite and PostgreSQL) and a client."""

from __future__ import annotations

from collections.abc import Iterator
from pathlib import Path

import pytest
from sqlalchemy.orm import Session

from core.settings import Settings
from tests.support.coach import SyncASGIClient, coach_client, coach_settings, create_account


@pytest.fixture
def settings(db_url: str, tmp_path: Path, session: Session) -> Settings:
    """Settings on the migrated test database (the session fixture runs the migrations)."""
    return coach_settings(db_url, tmp_path)


@pytest.fixture
def client(settings: Settings, session: Session) -> Iterator[SyncASGIClient]:
    create_account(session, "coach.anna", "coach")
    create_account(session, "admin.ben", "admin")
    with coach_client(settings) as running:
        yield running
