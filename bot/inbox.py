"""The bot's durable inbox of Telegram updates: at-least-once intake, exactly-once effect.

An update is written to the database (encrypted) *before* Telegram learns that it arrived: in polling
mode PTB's Updater awaits `update_queue.put()` for each update before it asks for the next offset,
and the webhook answers 200 only after `put()` returned. The update is then handled until done:

- `DurableUpdateQueue.put()` stores it; a redelivered update id is dropped there, so it has its
  effect once.
- `ChatOrderedProcessor` runs updates of different chats at the same time and each chat's updates
  in the order they came, and marks an update done (dropping its payload) once it was handled.
- After a crash, `recover()` puts every stored update that is not done back into the queue, oldest
  first; those are marked as `recovered`, so that the conversation asks Rasa's tracker whether
  Rasa already processed them before sending them again (bot/conversation.py).
"""

from __future__ import annotations

import asyncio
import json
import logging
from collections.abc import Awaitable
from datetime import timedelta
from typing import Any

from sqlalchemy import delete, select, update
from sqlalchemy.exc import IntegrityError
from sqlalchemy.orm import Session, sessionmaker
from telegram import Bot, Update
from telegram.ext import BaseUpdateProcessor

from bot.metrics import ERRORS, REPEATED, UPDATES, update_kind
from storage.db import session_scope
from storage.models import TelegramUpdate, utcnow

logger = logging.getLogger(__name__)

KEEP_FOR = timedelta(days=7)  # Telegram keeps undelivered updates for 24 hours
MAX_RECOVERIES = 3  # an update that was in hand at three crashes in a row is given up (and logged)


class UpdateInbox:
    """Repository of received updates; each call is one short unit of work in a worker thread."""

    def __init__(self, sessions: sessionmaker[Session]) -> None:
        self._sessions = sessions
        # Update ids put back into the queue after a restart (see recover()).
        self.recovered: set[int] = set()

    async def admit(self, update: Update) -> bool:
        """Store a new update durably; False (and nothing stored) if its id was seen before."""
        payload = json.loads(update.to_json())
        return await asyncio.to_thread(self._admit, update.update_id, payload)

    def _admit(self, update_id: int, payload: dict[str, Any]) -> bool:
        with self._sessions() as session:
            session.add(TelegramUpdate(update_id=update_id, payload=payload))
            try:
                session.commit()
            except IntegrityError:
                session.rollback()
                return False
        return True

    async def done(self, update_id: int) -> None:
        """Handled: only the id stays (to drop a redelivery), the content goes."""
        self.recovered.discard(update_id)
        await asyncio.to_thread(self._done, update_id)

    def _done(self, update_id: int) -> None:
        with session_scope(self._sessions) as session:
            session.execute(
                update(TelegramUpdate)
                .where(TelegramUpdate.update_id == update_id)
                .values(payload=None, done_at=utcnow())
            )

    def unfinished(self) -> list[dict[str, Any]]:
        """Stored updates not yet handled, oldest first; each call counts as one more recovery, and
        an update recovered too often is marked done so that it cannot stop the bot for good."""
        with session_scope(self._sessions) as session:
            rows = session.scalars(
                select(TelegramUpdate)
                .where(TelegramUpdate.done_at.is_(None))
                .order_by(TelegramUpdate.update_id)
            ).all()
            payloads = []
            for row in rows:
                row.recoveries += 1
                if row.recoveries > MAX_RECOVERIES or row.payload is None:
                    logger.warning("gave up update %s after %s restarts", row.update_id, row.recoveries - 1)
                    ERRORS.labels("update_given_up").inc()
                    row.payload, row.done_at = None, utcnow()
                    continue
                payloads.append(row.payload)
            return payloads

    def prune(self) -> int:
        """Forget the ids of updates handled long ago."""
        with session_scope(self._sessions) as session:
            result = session.execute(
                delete(TelegramUpdate).where(
                    TelegramUpdate.done_at.is_not(None), TelegramUpdate.received_at < utcnow() - KEEP_FOR
                )
            )
            return int(getattr(result, "rowcount", 0) or 0)


class DurableUpdateQueue(asyncio.Queue[object]):
    """PTB's update queue, whose `put()` returns only after the update is stored (or dropped as a
    repeat). Anything else PTB puts in the queue (its stop signal, errors) passes straight through."""

    def __init__(self, inbox: UpdateInbox) -> None:
        super().__init__()
        self.inbox = inbox

    async def put(self, item: object) -> None:
        if isinstance(item, Update):
            if not await self.inbox.admit(item):
                logger.info("dropped a repeated update")
                REPEATED.inc()
                return
            UPDATES.labels(update_kind(item)).inc()
        await super().put(item)

    async def recover(self, bot: Bot) -> int:
        """Put the updates that were stored but not handled before the last stop back in the queue."""
        payloads = await asyncio.to_thread(self.inbox.unfinished)
        for payload in payloads:
            recovered = Update.de_json(payload, bot)
            self.inbox.recovered.add(recovered.update_id)
            await super().put(recovered)
        if payloads:
            logger.info("recovered %s updates that were not handled before the last stop", len(payloads))
        return len(payloads)


def chat_key(update: object) -> int | None:
    """What orders updates: the chat (or, without one, the user); None for anything else."""
    if not isinstance(update, Update):
        return None
    if update.effective_chat is not None:
        return update.effective_chat.id
    if update.effective_user is not None:
        return update.effective_user.id
    return None


class ChatOrderedProcessor(BaseUpdateProcessor):
    """Updates of different chats are handled concurrently, the updates of one chat one after the
    other in the order they came (asyncio locks wake their waiters first come, first served).
    An update is marked done in the inbox once its handlers ran."""

    def __init__(self, inbox: UpdateInbox, max_concurrent_updates: int = 256) -> None:
        super().__init__(max_concurrent_updates)
        self._inbox = inbox
        self._locks: dict[int, asyncio.Lock] = {}
        self._users: dict[int, int] = {}  # chat -> updates holding or waiting for its lock

    async def do_process_update(self, update: object, coroutine: Awaitable[Any]) -> None:
        key = chat_key(update)
        if key is None:
            await coroutine
        else:
            lock = self._locks.setdefault(key, asyncio.Lock())
            self._users[key] = self._users.get(key, 0) + 1
            try:
                async with lock:
                    await coroutine
            finally:
                self._users[key] -= 1
                if not self._users[key]:
                    del self._users[key], self._locks[key]
        if isinstance(update, Update):
            # Not reached when the bot is cancelled mid-update: it stays unfinished and is recovered.
            await self._inbox.done(update.update_id)

    async def initialize(self) -> None:
        pass

    async def shutdown(self) -> None:
        pass
