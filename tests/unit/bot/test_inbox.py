"""The durable inbox of Telegram updates (bot/inbox.py): stored before acknowledged, a redelivery
dropped, chats handled concurrently and each chat in order, unfinished updates recovered."""

from __future__ import annotations

import asyncio
import json
from typing import Any

import pytest
from sqlalchemy import text
from sqlalchemy.orm import Session, sessionmaker
from telegram import Update
from telegram.ext import Application, ContextTypes, TypeHandler
from telegram.request import BaseRequest, RequestData

from bot.inbox import MAX_RECOVERIES, ChatOrderedProcessor, DurableUpdateQueue, UpdateInbox
from storage.db import make_engine
from storage.models import TelegramUpdate
from tests.support.telegram_standin import DEFAULT_TOKEN, text_update


class OfflineRequest(BaseRequest):
    """The Bot API without a network: getMe answers, every other call succeeds."""

    async def initialize(self) -> None:
        return None

    async def shutdown(self) -> None:
        return None

    @property
    def read_timeout(self) -> float | None:
        return 1.0

    async def do_request(
        self, url: str, method: str, request_data: RequestData | None = None, *args: Any, **kwargs: Any
    ) -> tuple[int, bytes]:
        me = {"id": 1, "is_bot": True, "first_name": "intake", "username": "intake_bot"}
        result: object = me if url.endswith("/getMe") else True
        return 200, json.dumps({"ok": True, "result": result}).encode()


def update(update_id: int, user_id: int, words: str = "hello") -> Update:
    body = text_update(user_id, words)
    body["update_id"] = update_id
    return Update.de_json(body, None)


def stored(sessions: sessionmaker[Session], update_id: int) -> TelegramUpdate | None:
    with sessions() as session:
        return session.get(TelegramUpdate, update_id)


@pytest.mark.asyncio
async def test_put_returns_only_after_the_update_is_stored_encrypted(
    sessions: sessionmaker[Session], db_url: str
) -> None:
    queue = DurableUpdateQueue(UpdateInbox(sessions))
    await queue.put(update(10, 501, "Meine Adresse ist geheim"))
    row = stored(sessions, 10)
    assert row is not None and row.done_at is None
    assert row.payload is not None and row.payload["message"]["text"] == "Meine Adresse ist geheim"
    engine = make_engine(db_url)
    with engine.connect() as connection:
        raw = connection.execute(text("SELECT payload FROM telegram_updates")).scalar_one()
    engine.dispose()
    assert raw.startswith("enc1:") and "geheim" not in raw
    assert queue.qsize() == 1


@pytest.mark.asyncio
async def test_a_redelivered_update_is_dropped_at_the_door(sessions: sessionmaker[Session]) -> None:
    queue = DurableUpdateQueue(UpdateInbox(sessions))
    await queue.put(update(11, 501))
    await queue.put(update(11, 501))
    await queue.put("not an update")  # PTB's own signals pass through unstored
    assert queue.qsize() == 2


@pytest.mark.asyncio
async def test_chats_run_concurrently_and_each_chat_in_order(sessions: sessionmaker[Session]) -> None:
    inbox = UpdateInbox(sessions)
    queue = DurableUpdateQueue(inbox)
    log: list[tuple[str, int, int]] = []
    # The first update of each chat is slow: later ones of the same chat must wait for it, the
    # other chat's must not.
    delays = {1: 0.3, 2: 0.0, 3: 0.0, 4: 0.3, 5: 0.0}
    running = {"now": 0, "most": 0}

    async def handle(update: Update, context: ContextTypes.DEFAULT_TYPE) -> None:
        assert update.effective_chat is not None
        running["now"] += 1
        running["most"] = max(running["most"], running["now"])
        log.append(("start", update.effective_chat.id, update.update_id))
        await asyncio.sleep(delays[update.update_id])
        log.append(("end", update.effective_chat.id, update.update_id))
        running["now"] -= 1

    application = (
        Application.builder()
        .token(DEFAULT_TOKEN)
        .request(OfflineRequest())
        .get_updates_request(OfflineRequest())
        .update_queue(queue)
        .concurrent_updates(ChatOrderedProcessor(inbox))
        .build()
    )
    application.add_handler(TypeHandler(Update, handle))
    async with application:
        await application.start()
        for update_id, chat in [(1, 701), (4, 702), (2, 701), (5, 702), (3, 701)]:
            await queue.put(update(update_id, chat))
        await asyncio.wait_for(queue.join(), timeout=10)
        await application.stop()
    ends = {chat: [u for kind, c, u in log if kind == "end" and c == chat] for chat in (701, 702)}
    assert ends == {701: [1, 2, 3], 702: [4, 5]}
    for chat in (701, 702):  # never two updates of one chat at once
        events = [(kind, u) for kind, c, u in log if c == chat]
        assert all(events[i][0] == "start" and events[i + 1][0] == "end" for i in range(0, len(events), 2))
    assert running["most"] == 2  # the two chats did overlap
    for update_id in delays:
        row = stored(sessions, update_id)
        assert row is not None and row.done_at is not None and row.payload is None


@pytest.mark.asyncio
async def test_unfinished_updates_are_recovered_oldest_first_and_given_up_after_repeated_crashes(
    sessions: sessionmaker[Session],
) -> None:
    inbox = UpdateInbox(sessions)
    first = DurableUpdateQueue(inbox)
    for update_id in (22, 21, 23):
        await first.put(update(update_id, 500 + update_id))
    await inbox.done(22)  # handled before the "crash"; 21 and 23 were not

    again = DurableUpdateQueue(UpdateInbox(sessions))
    assert await again.recover(None) == 2  # type: ignore[arg-type]
    recovered = [again.get_nowait(), again.get_nowait()]
    assert [u.update_id for u in recovered] == [21, 23]  # type: ignore[attr-defined]
    assert again.inbox.recovered == {21, 23}
    await again.inbox.done(21)
    assert again.inbox.recovered == {23}

    # 23 brings the bot down every time: after MAX_RECOVERIES restarts it is given up.
    for _ in range(MAX_RECOVERIES - 1):
        assert await DurableUpdateQueue(UpdateInbox(sessions)).recover(None) == 1  # type: ignore[arg-type]
    assert await DurableUpdateQueue(UpdateInbox(sessions)).recover(None) == 0  # type: ignore[arg-type]
    row = stored(sessions, 23)
    assert row is not None and row.done_at is not None and row.payload is None


@pytest.mark.asyncio
async def test_prune_forgets_only_old_handled_updates(sessions: sessionmaker[Session]) -> None:
    inbox = UpdateInbox(sessions)
    queue = DurableUpdateQueue(inbox)
    for update_id in (31, 32, 33):
        await queue.put(update(update_id, 531))
    await inbox.done(31)
    await inbox.done(32)
    with sessions() as session:
        session.execute(
            text("UPDATE telegram_updates SET received_at = '2020-01-01 00:00:00' WHERE update_id != 32")
        )
        session.commit()
    assert inbox.prune() == 1  # 31: old and done; 32 is recent, 33 is old but not handled
    assert (
        stored(sessions, 31) is None and stored(sessions, 32) is not None and stored(sessions, 33) is not None
    )
