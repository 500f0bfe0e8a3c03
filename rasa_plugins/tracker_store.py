"""Rasa's SQL tracker store with every event encrypted at rest (same format and keys as the
intake database, see storage/fieldcipher.py), so that user messages and slot values never lie in
the tracker tables in clear. Configured in endpoints.yml."""

from __future__ import annotations

import itertools
import json
import logging
import sqlite3
from typing import Any

import sqlalchemy as sa
from rasa.core.actions import action as rasa_action
from rasa.core.agent import Agent
from rasa.core.tracker_store import InMemoryTrackerStore, SQLTrackerStore, TrackerStore
from rasa.shared.core.domain import Domain
from rasa.shared.core.trackers import DialogueStateTracker
from rasa.shared.nlu.constants import INTENT_NAME_KEY

try:
    from storage.fieldcipher import TRACKER_EVENT_CONTEXT, FieldCipher
except ImportError as error:  # Rasa would quietly fall back to an in-memory store on ImportError
    raise RuntimeError(f"the encrypted tracker store cannot load its cipher: {error}") from error

logger = logging.getLogger(__name__)

# Bound into every event's ciphertext, so a value copied from another column does not decrypt here.
EVENT_CONTEXT = TRACKER_EVENT_CONTEXT
# Set on a tracker this store read or saved: how many of its events are in the database.
STORED_EVENTS_ATTRIBUTE = "_intake_stored_events"


class EncryptedSQLTrackerStore(SQLTrackerStore):
    """`SQLTrackerStore` whose `events.data` column holds ciphertext; intent and action names (codes
    from the domain, no personal data) stay readable for Rasa's queries."""

    def __init__(
        self,
        *args: Any,
        encryption_keys: str | None = None,
        action_timeout_s: float | str | None = None,
        **kwargs: Any,
    ) -> None:
        if not encryption_keys or not str(encryption_keys).strip():
            raise ValueError("the tracker store needs ENCRYPTION_KEYS (see endpoints.yml)")
        self._cipher = FieldCipher.from_keys_csv(str(encryption_keys))
        if action_timeout_s not in (None, ""):
            set_action_timeout(float(action_timeout_s))  # type: ignore[arg-type]
        super().__init__(*args, **kwargs)
        if self.engine.dialect.name == "sqlite":
            self._use_sqlite_pragmas()

    def _use_sqlite_pragmas(self) -> None:
        """Rasa opens SQLite without any tuning, and (SQLAlchemy 1.4's NullPool) with a new
        connection per session, so a database that is gone is noticed at once. Each connection gets
        `_sqlite_pragmas`; one more stays open for the life of the store, because in WAL mode the
        last connection to close checkpoints the log into the database and deletes it, which at
        every session was a tenth of Rasa's CPU time under load (py-spy, make bench)."""
        sa.event.listen(self.engine, "connect", _sqlite_pragmas)
        database = self.engine.url.database
        if database and database != ":memory:" and not database.startswith("file:"):
            self._wal_keeper = sqlite3.connect(database, check_same_thread=False)
            self._wal_keeper.execute("PRAGMA journal_mode=WAL")  # kept in the file, once is enough

    async def save(self, tracker: DialogueStateTracker) -> None:
        """As `SQLTrackerStore.save`, with each event's JSON encrypted.

        Rasa counts the stored events of the conversation at every save (a query over the whole
        session). A tracker this store read, or saved, remembers how many of its events are
        stored; under Rasa's conversation lock nothing else writes them, so only a tracker this
        store has not seen is counted. The new events go in one multi-row insert."""
        await self.stream_events(tracker)
        stored = getattr(tracker, STORED_EVENTS_ATTRIBUTE, None)
        with self.session_scope() as session:
            if stored is None:
                stored = self._event_query(
                    session, tracker.sender_id, fetch_events_from_all_sessions=False
                ).count()
            rows = [
                self._row(tracker.sender_id, event.type_name, event.as_dict())
                for event in itertools.islice(tracker.events, stored, None)
            ]
            if rows:
                session.execute(self.SQLEvent.__table__.insert(), rows)
            session.commit()
        setattr(tracker, STORED_EVENTS_ATTRIBUTE, len(tracker.events))

    def _row(self, sender_id: str, type_name: str, data: dict[str, Any]) -> dict[str, Any]:
        return {
            "sender_id": sender_id,
            "type_name": type_name,
            "timestamp": data.get("timestamp"),
            "intent_name": data.get("parse_data", {}).get("intent", {}).get(INTENT_NAME_KEY),
            "action_name": data.get("name"),
            "data": self._cipher.encrypt(json.dumps(data), EVENT_CONTEXT),
        }

    async def _retrieve(
        self, sender_id: str, fetch_events_from_all_sessions: bool
    ) -> DialogueStateTracker | None:
        with self.session_scope() as session:
            query = self._event_query(
                session, sender_id, fetch_events_from_all_sessions=fetch_events_from_all_sessions
            )
            ciphertexts = [data for (data,) in query.with_entities(self.SQLEvent.data)]
        events = [json.loads(self._cipher.decrypt(data, EVENT_CONTEXT)) for data in ciphertexts]
        if not (self.domain and events):
            return None
        tracker = DialogueStateTracker.from_dict(sender_id, events, self.domain.slots)
        if not fetch_events_from_all_sessions:  # exactly what `save` would count
            setattr(tracker, STORED_EVENTS_ATTRIBUTE, len(events))
        return tracker


def _sqlite_pragmas(dbapi_connection: Any, _record: Any) -> None:
    """For each connection to the write-ahead log (`_use_sqlite_pragmas` switches the file to it):
    readers do not wait for the writer, and a commit is one append to the log (durable when a
    process is killed; the last commits can be lost only if the machine loses power). Rasa runs
    its tracker store in its event loop, so every fsync stalls every conversation."""
    cursor = dbapi_connection.cursor()
    cursor.execute("PRAGMA synchronous=NORMAL")
    cursor.execute("PRAGMA busy_timeout=10000")
    cursor.close()


def set_action_timeout(seconds: float) -> None:
    """Rasa 3.6 reads the action request timeout from this module constant at every call."""
    if seconds <= 0:
        raise ValueError("the action timeout must be positive")
    rasa_action.DEFAULT_REQUEST_TIMEOUT = seconds  # type: ignore[assignment]


def _tracker_store_without_fail_safe(store: TrackerStore | None, domain: Domain) -> TrackerStore:
    """Rasa wraps every tracker store in a `FailSafeTrackerStore`: when the database fails, it
    answers from a blank conversation and keeps the events in memory, where they are lost. With
    this store configured, a database error fails the turn instead (Rasa logs it, the bot tells the
    person to send the message again) and the next turn uses the database again."""
    if store is None:
        return InMemoryTrackerStore(domain)
    store.domain = domain
    return store


# Loading this module (endpoints.yml names it) switches the fail-safe wrapper off; Rasa 3.6 offers
# no setting for it. Agent._create_tracker_store is a staticmethod called once per loaded agent.
Agent._create_tracker_store = staticmethod(_tracker_store_without_fail_safe)  # type: ignore[method-assign]
