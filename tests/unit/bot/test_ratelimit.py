"""Outgoing Telegram requests: a burst per private chat, then the chat's rate; chats do not wait for
each other; the overall rate and the 429 retry of python-telegram-bot's limiter still apply."""

from __future__ import annotations

import asyncio
import datetime as dt
import time
from typing import Any

import pytest
from telegram.error import RetryAfter

from bot.ratelimit import MAX_IDLE_CHAT_LIMITERS, ChatRateLimiter


class Calls:
    """A stand-in for the Bot API request: records when each call for which chat went out."""

    def __init__(self, fail_first: int = 0) -> None:
        self.started = time.monotonic()
        self.sent: list[tuple[Any, float]] = []
        self.fail_first = fail_first

    async def __call__(self, chat_id: Any) -> dict[str, Any]:
        if self.fail_first:
            self.fail_first -= 1
            raise RetryAfter(dt.timedelta(seconds=0))
        self.sent.append((chat_id, time.monotonic() - self.started))
        return {"ok": True}


async def send(limiter: ChatRateLimiter, calls: Calls, chat_id: Any, method: str = "sendMessage") -> Any:
    return await limiter.process_request(calls, (chat_id,), {}, method, {"chat_id": chat_id}, None)


def times(calls: Calls, chat_id: Any) -> list[float]:
    return [at for chat, at in calls.sent if chat == chat_id]


@pytest.mark.asyncio
async def test_a_private_chat_gets_its_burst_at_once_and_then_its_rate() -> None:
    limiter = ChatRateLimiter(overall_rate=1000, chat_rate=10, chat_burst=3)  # then one per 0.1 s
    calls = Calls()
    await asyncio.gather(*(send(limiter, calls, 42) for _ in range(6)))
    sent = times(calls, 42)
    assert len(sent) == 6
    assert sent[2] < 0.05  # the burst: a turn's few requests go out together
    assert sent[5] >= 0.25  # three more at 10 per second take about 0.3 s
    # Without the per-chat limit the six would go out at once: python-telegram-bot's
    # AIORateLimiter limits only groups per chat.


@pytest.mark.asyncio
async def test_chats_do_not_wait_for_each_other_and_groups_are_not_limited_as_private_chats() -> None:
    limiter = ChatRateLimiter(overall_rate=1000, chat_rate=1, chat_burst=1)
    calls = Calls()
    await send(limiter, calls, 1)
    blocked = asyncio.create_task(send(limiter, calls, 1))  # waits about a second
    await asyncio.gather(*(send(limiter, calls, chat) for chat in (2, 3, -100123, "@channel")))
    others = [at for chat, at in calls.sent if chat != 1]
    assert len(others) == 4 and max(others) < 0.2
    await blocked
    assert times(calls, 1)[1] >= 0.8


@pytest.mark.asyncio
async def test_the_overall_rate_limits_all_chats_together() -> None:
    limiter = ChatRateLimiter(overall_rate=5, chat_rate=100, chat_burst=100)
    calls = Calls()
    await asyncio.gather(*(send(limiter, calls, 1000 + k) for k in range(10)))
    assert max(at for _, at in calls.sent) >= 0.8  # 10 requests at 5 per second


@pytest.mark.asyncio
async def test_the_overall_rate_counts_new_messages_not_edits_typing_or_callback_answers() -> None:
    limiter = ChatRateLimiter(overall_rate=5, chat_rate=100, chat_burst=100)
    calls = Calls()
    others = ["editMessageReplyMarkup", "editMessageText", "sendChatAction", "answerCallbackQuery"]
    await asyncio.gather(
        *(send(limiter, calls, 1000 + k) for k in range(10)),  # 2 s of the overall budget
        *(send(limiter, calls, 2000 + k, others[k % 4]) for k in range(8)),
    )
    not_counted = [at for chat, at in calls.sent if chat >= 2000]
    assert len(not_counted) == 8 and max(not_counted) < 0.2  # did not queue behind the messages
    assert max(at for chat, at in calls.sent if chat < 2000) >= 0.8


@pytest.mark.asyncio
async def test_a_429_of_a_request_the_overall_rate_does_not_count_is_retried_too(
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    monkeypatch.setenv("PTB_TIMEDELTA", "1")
    limiter = ChatRateLimiter(overall_rate=1000, chat_rate=10, chat_burst=3, max_retries=2)
    calls = Calls(fail_first=1)
    assert await send(limiter, calls, 7, "editMessageReplyMarkup") == {"ok": True}
    assert len(calls.sent) == 1


@pytest.mark.asyncio
async def test_a_429_is_retried(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("PTB_TIMEDELTA", "1")  # retry_after as a timedelta, as PTB 23 will have it
    limiter = ChatRateLimiter(overall_rate=1000, chat_rate=10, chat_burst=3, max_retries=2)
    calls = Calls(fail_first=1)
    assert await send(limiter, calls, 7) == {"ok": True}
    assert len(calls.sent) == 1


@pytest.mark.asyncio
async def test_idle_chats_limiters_are_dropped() -> None:
    limiter = ChatRateLimiter(overall_rate=100_000, chat_rate=1000, chat_burst=1)
    calls = Calls()
    for chat in range(1, MAX_IDLE_CHAT_LIMITERS + 50):
        await send(limiter, calls, chat)
        await asyncio.sleep(0)
    await asyncio.sleep(0.01)  # every bucket drains within a millisecond
    await send(limiter, calls, 999_999)
    assert len(limiter._chat_limiters) <= MAX_IDLE_CHAT_LIMITERS


def test_a_chat_needs_a_positive_rate() -> None:
    with pytest.raises(ValueError):
        ChatRateLimiter(chat_rate=0)


@pytest.mark.asyncio
async def test_edits_and_typing_count_only_toward_the_overall_rate() -> None:
    limiter = ChatRateLimiter(overall_rate=1000, chat_rate=1, chat_burst=1)
    calls = Calls()
    await send(limiter, calls, 42)  # the chat's burst is used up
    for method in ("editMessageReplyMarkup", "sendChatAction", "editMessageText"):
        await send(limiter, calls, 42, method)
    assert len(calls.sent) == 4 and max(at for _, at in calls.sent) < 0.2
