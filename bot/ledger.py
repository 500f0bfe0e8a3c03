"""Durable record of handled Telegram updates, so that a redelivered update has its effect once."""

from __future__ import annotations

import asyncio
import logging
from datetime import timedelta

from sqlalchemy import delete
from sqlalchemy.exc import IntegrityError
from sqlalchemy.orm import Session, sessionmaker
from telegram import Update
from telegram.ext import ApplicationHandlerStop, ContextTypes

from bot.metrics import REPEATED, UPDATES, update_kind
from storage.models import ProcessedUpdate, utcnow

logger = logging.getLogger(__name__)

KEEP_FOR = timedelta(days=7)  # Telegram keeps undelivered updates for 24 hours


class UpdateLedger:
    def __init__(self, session_factory: sessionmaker[Session]) -> None:
        self._sessions = session_factory

    def _claim(self, update_id: int) -> bool:
        with self._sessions() as session:
            session.add(ProcessedUpdate(update_id=update_id))
            try:
                session.commit()
            except IntegrityError:
                session.rollback()
                return False
        return True

    async def claim(self, update_id: int) -> bool:
        """True the first time an update id is seen, False for a repeat."""
        return await asyncio.to_thread(self._claim, update_id)

    def prune(self) -> int:
        with self._sessions() as session:
            result = session.execute(
                delete(ProcessedUpdate).where(ProcessedUpdate.received_at < utcnow() - KEEP_FOR)
            )
            session.commit()
            return int(getattr(result, "rowcount", 0) or 0)


LEDGER_KEY = "update_ledger"


async def drop_repeated_updates(update: object, context: ContextTypes.DEFAULT_TYPE) -> None:
    """Runs before every handler (group -1): a repeated update_id stops here."""
    ledger: UpdateLedger | None = context.bot_data.get(LEDGER_KEY)
    if ledger is None or not isinstance(update, Update):
        return
    if not await ledger.claim(update.update_id):
        logger.info("dropped a repeated update")
        REPEATED.inc()
        raise ApplicationHandlerStop
    UPDATES.labels(update_kind(update)).inc()
