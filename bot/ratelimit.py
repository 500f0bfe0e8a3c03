"""Outgoing Telegram requests, rate-limited overall and per chat.

python-telegram-bot's `AIORateLimiter` limits all requests together (30/s) and each group, but not
a private chat. Telegram asks bots to send no more than about one message per second to one chat,
allowing short bursts. A turn of the intake sends one to three messages at once (a notice, the
summary, the next question), so each private chat gets a bucket for new messages: a burst of
`chat_burst` at once, refilled at `chat_rate` per second. Edits, "typing" and answers to button
taps count only toward the overall limit."""

from __future__ import annotations

import contextlib
from collections.abc import Callable, Coroutine
from typing import Any

from aiolimiter import AsyncLimiter
from telegram.ext import AIORateLimiter

# Limiters of chats that are idle again are dropped beyond this many.
MAX_IDLE_CHAT_LIMITERS = 1024


def is_new_message(endpoint: str) -> bool:
    """Whether a Bot API method sends a new message (sendMessage, sendDocument, ...). Telegram's
    per-chat guidance is about messages; edits, "typing" and callback answers count only overall."""
    return endpoint.startswith("send") and endpoint != "sendChatAction"


class ChatRateLimiter(AIORateLimiter):
    def __init__(
        self,
        overall_rate: float = 30.0,
        chat_rate: float = 1.0,
        chat_burst: int = 4,
        max_retries: int = 3,
    ) -> None:
        super().__init__(overall_max_rate=overall_rate, overall_time_period=1, max_retries=max_retries)
        if chat_rate <= 0 or chat_burst < 1:
            raise ValueError("a chat needs a positive rate and a burst of at least one")
        self._chat_rate = chat_rate
        self._chat_burst = chat_burst
        self._chat_limiters: dict[int, AsyncLimiter] = {}

    def chat_limiter(self, chat_id: int) -> AsyncLimiter:
        limiter = self._chat_limiters.get(chat_id)
        if limiter is None:
            if len(self._chat_limiters) >= MAX_IDLE_CHAT_LIMITERS:
                self._drop_idle()
            # aiolimiter's leaky bucket: max_rate requests per time_period, bursts of max_rate.
            limiter = AsyncLimiter(self._chat_burst, self._chat_burst / self._chat_rate)
            self._chat_limiters[chat_id] = limiter
        return limiter

    def _drop_idle(self) -> None:
        for chat_id, limiter in list(self._chat_limiters.items()):
            if limiter.has_capacity(self._chat_burst):  # a full bucket: nothing waits, nothing owed
                del self._chat_limiters[chat_id]

    async def process_request(
        self,
        callback: Callable[..., Coroutine[Any, Any, bool | dict[str, Any] | list[dict[str, Any]]]],
        args: Any,
        kwargs: dict[str, Any],
        endpoint: str,
        data: dict[str, Any],
        rate_limit_args: int | None,
    ) -> bool | dict[str, Any] | list[dict[str, Any]]:
        chat_id: Any = data.get("chat_id")
        with contextlib.suppress(ValueError, TypeError):
            chat_id = int(chat_id)
        if isinstance(chat_id, int) and chat_id > 0 and is_new_message(endpoint):
            # A new message in a private chat (groups have their own limit in PTB's limiter).
            async with self.chat_limiter(chat_id):
                return await super().process_request(callback, args, kwargs, endpoint, data, rate_limit_args)
        return await super().process_request(callback, args, kwargs, endpoint, data, rate_limit_args)
