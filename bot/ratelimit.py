"""Outgoing Telegram requests, rate-limited overall and per chat.

python-telegram-bot's `AIORateLimiter` limits every request that names a chat together (30/s) and
each group, but not a private chat. Telegram's limits are about messages: no more than about 30
messages a second for the whole bot, and about one a second to one chat, allowing short bursts.

- A turn of the intake sends one to three messages at once (a notice, the summary, the next
  question), so each private chat gets a bucket for new messages: a burst of `chat_burst` at once,
  refilled at `chat_rate` per second.
- The overall limit counts new messages only. A button turn also removes the answered question's
  keyboard (an edit) and a slow one shows "typing"; counted too, they took two of the 30 a second
  per turn, and at 200 people answering every 10 s the replies queued behind them for seconds
  (`make bench`).
- Every request, counted or not, honours a 429's `retry_after`, and groups keep PTB's limits."""

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
        private = isinstance(chat_id, int) and chat_id > 0
        if private and is_new_message(endpoint):
            async with self.chat_limiter(chat_id):
                return await super().process_request(callback, args, kwargs, endpoint, data, rate_limit_args)
        if private:
            # PTB counts a request toward the overall limit when its data names a chat; `data` serves
            # only that decision (the request itself is `callback(*args, **kwargs)`).
            data = {key: value for key, value in data.items() if key != "chat_id"}
        return await super().process_request(callback, args, kwargs, endpoint, data, rate_limit_args)
