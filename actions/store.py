"""The action server's database access: one engine and session factory per process, made on first use."""

from __future__ import annotations

from collections.abc import Iterator
from contextlib import contextmanager
from functools import lru_cache
from pathlib import Path

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


def file_voice_notes(profile_id: str, note_ids: list[str]) -> None:
    """Move voice answers the bot left in voice/pending/ under their profile: voice/<profile>/<id>.ogg."""
    voice_dir = get_settings().data_dir / "voice"
    for note_id in note_ids:
        source = voice_dir / "pending" / f"{Path(note_id).name}.ogg"
        if source.exists():
            target = voice_dir / profile_id / source.name
            target.parent.mkdir(parents=True, exist_ok=True)
            source.replace(target)
