"""Erasing a person's conversation from Rasa's tracker store after /delete (Rasa has no API for it)."""

from __future__ import annotations

from functools import lru_cache

from sqlalchemy import Engine, create_engine, text
from sqlalchemy.engine import make_url


@lru_cache(maxsize=2)
def _engine(tracker_store_url: str) -> Engine:
    url = make_url(tracker_store_url)
    if url.get_backend_name() == "postgresql":
        url = url.set(drivername="postgresql+psycopg")
    return create_engine(url)


def erase_conversation(tracker_store_url: str, sender_id: str) -> int:
    """Delete every tracker event of `sender_id` (the keyed hash); returns how many rows went."""
    with _engine(tracker_store_url).begin() as connection:
        result = connection.execute(
            text("DELETE FROM events WHERE sender_id = :sender"), {"sender": sender_id}
        )
    return int(result.rowcount or 0)
