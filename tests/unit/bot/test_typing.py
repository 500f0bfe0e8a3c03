""" "typing..." is shown only when an answer takes a while: a request saved is rate limit saved."""

from __future__ import annotations

import asyncio
from types import SimpleNamespace
from typing import Any

import pytest
from telegram.error import NetworkError

from bot import telegram_app
from bot.telegram_app import typing_while_slow


class FakeBot:
    def __init__(self, fail: bool = False) -> None:
        self.actions: list[tuple[int, str]] = []
        self.fail = fail

    async def send_chat_action(self, chat_id: int, action: str) -> bool:
        if self.fail:
            raise NetworkError("Telegram is unreachable")
        self.actions.append((chat_id, action))
        return True


def context_with(bot: FakeBot) -> Any:
    return SimpleNamespace(bot=bot)


@pytest.fixture(autouse=True)
def short_delay(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setattr(telegram_app, "TYPING_AFTER_S", 0.05)


@pytest.mark.asyncio
async def test_a_quick_answer_shows_no_typing() -> None:
    bot = FakeBot()
    async with typing_while_slow(context_with(bot), 42):
        await asyncio.sleep(0.01)
    await asyncio.sleep(0.1)  # nothing comes later either
    assert bot.actions == []


@pytest.mark.asyncio
async def test_a_slow_answer_shows_typing_once() -> None:
    bot = FakeBot()
    async with typing_while_slow(context_with(bot), 42):
        await asyncio.sleep(0.2)
    assert bot.actions == [(42, "typing")]


@pytest.mark.asyncio
async def test_typing_that_cannot_be_shown_does_not_disturb_the_answer() -> None:
    bot = FakeBot(fail=True)
    async with typing_while_slow(context_with(bot), 42):
        await asyncio.sleep(0.2)
    assert bot.actions == []
