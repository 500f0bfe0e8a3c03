"""Messages that wait for Rasa or the action server: kept in the database until they are processed,
in the order they came, when both answer again. Nothing a person writes during an outage is lost."""

from __future__ import annotations

import asyncio
from dataclasses import dataclass
from typing import Any

from sqlalchemy import delete, func, select
from sqlalchemy.orm import Session, sessionmaker

from storage.db import session_scope
from storage.models import PendingTurn


@dataclass(frozen=True)
class Waiting:
    id: int
    sender_id: str
    turn: dict[str, Any]
    attempts: int = 0


class PendingTurns:
    """Repository of waiting turns; every call is one short unit of work in a worker thread."""

    def __init__(self, sessions: sessionmaker[Session]) -> None:
        self._sessions = sessions

    async def add(self, sender_id: str, turn: dict[str, Any]) -> None:
        await asyncio.to_thread(self._add, sender_id, turn)

    async def waiting_for(self, sender_id: str) -> int:
        return await asyncio.to_thread(self._count, sender_id)

    async def senders(self) -> list[str]:
        """The people with waiting turns, whose turn has waited longest first."""
        return await asyncio.to_thread(self._senders)

    async def oldest(self, sender_id: str) -> Waiting | None:
        """The person's oldest waiting turn: processing them oldest first keeps their order."""
        return await asyncio.to_thread(self._oldest, sender_id)

    async def done(self, turn_id: int) -> None:
        await asyncio.to_thread(self._done, turn_id)

    async def failed(self, turn_id: int, turn: dict[str, Any]) -> None:
        """One more failed attempt; `turn` (changed: now a replay) is kept for the next one."""
        await asyncio.to_thread(self._failed, turn_id, turn)

    async def forget(self, sender_id: str) -> None:
        """After /delete: nothing of the person waits anywhere."""
        await asyncio.to_thread(self._forget, sender_id)

    def _forget(self, sender_id: str) -> None:
        with session_scope(self._sessions) as session:
            session.execute(delete(PendingTurn).where(PendingTurn.sender_id == sender_id))

    def _add(self, sender_id: str, turn: dict[str, Any]) -> None:
        with session_scope(self._sessions) as session:
            session.add(PendingTurn(sender_id=sender_id, turn=turn, attempts=0))

    def _count(self, sender_id: str) -> int:
        with session_scope(self._sessions) as session:
            statement = (
                select(func.count()).select_from(PendingTurn).where(PendingTurn.sender_id == sender_id)
            )
            return int(session.scalar(statement) or 0)

    def _senders(self) -> list[str]:
        with session_scope(self._sessions) as session:
            statement = (
                select(PendingTurn.sender_id)
                .group_by(PendingTurn.sender_id)
                .order_by(func.min(PendingTurn.id))
            )
            return list(session.scalars(statement))

    def _oldest(self, sender_id: str) -> Waiting | None:
        with session_scope(self._sessions) as session:
            mine = select(PendingTurn).where(PendingTurn.sender_id == sender_id)
            row = session.scalars(mine.order_by(PendingTurn.id).limit(1)).first()
            return None if row is None else Waiting(row.id, row.sender_id, row.turn, row.attempts)

    def _done(self, turn_id: int) -> None:
        with session_scope(self._sessions) as session:
            session.execute(delete(PendingTurn).where(PendingTurn.id == turn_id))

    def _failed(self, turn_id: int, turn: dict[str, Any]) -> None:
        with session_scope(self._sessions) as session:
            row = session.get(PendingTurn, turn_id)
            if row is not None:
                row.attempts += 1
                row.turn = turn
