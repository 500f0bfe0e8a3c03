"""HTTP client for Rasa's REST channel."""

from __future__ import annotations

from typing import Any
from urllib.parse import quote

import httpx


class RasaUnavailable(RuntimeError):
    """Rasa did not answer the message. `reached` is False when the message surely did not get
    there (no connection, or a proxy's 502/503/504), so that sending it again later is safe."""

    def __init__(self, reason: str, reached: bool) -> None:
        super().__init__(reason)
        self.reached = reached


UNREACHED_STATUS = {502, 503, 504}
# What a bot event of the tracker carries, in the REST channel's reply format.
REPLY_FIELDS = ("buttons", "image", "attachment", "custom")


def replies_after(events: list[dict[str, Any]], key: str, value: Any) -> list[dict[str, Any]] | None:
    """The bot messages that followed the last user message with metadata `key` = `value`, up to
    the next user message; None if there is no such message or nothing followed it."""
    start = None
    for position, event in enumerate(events):
        if event.get("event") == "user" and (event.get("metadata") or {}).get(key) == value:
            start = position
    if start is None:
        return None
    replies: list[dict[str, Any]] = []
    for event in events[start + 1 :]:
        if event.get("event") == "user":
            break
        if event.get("event") == "bot":
            data = event.get("data") or {}
            reply = {name: data[name] for name in REPLY_FIELDS if data.get(name)}
            if event.get("text"):
                reply["text"] = event["text"]
            if reply:
                replies.append(reply)
    return replies or None


class RasaClient:
    def __init__(
        self, base_url: str, timeout_s: float = 30.0, transport: httpx.AsyncBaseTransport | None = None
    ) -> None:
        self._http = httpx.AsyncClient(base_url=base_url.rstrip("/"), timeout=timeout_s, transport=transport)

    async def send(self, sender_id: str, text: str, metadata: dict[str, Any]) -> list[dict[str, Any]]:
        """Send one user message; returns Rasa's replies in order."""
        body = {"sender": sender_id, "message": text, "metadata": metadata}
        try:
            response = await self._http.post("/webhooks/rest/webhook", json=body)
            response.raise_for_status()
        except (httpx.ConnectError, httpx.ConnectTimeout) as error:
            raise RasaUnavailable(type(error).__name__, reached=False) from error
        except httpx.HTTPStatusError as error:
            status = error.response.status_code
            raise RasaUnavailable(f"HTTP {status}", reached=status not in UNREACHED_STATUS) from error
        except httpx.HTTPError as error:  # e.g. a read timeout: Rasa may be processing it
            raise RasaUnavailable(type(error).__name__, reached=True) from error
        replies = response.json()
        return replies if isinstance(replies, list) else []

    async def replies_to(self, sender_id: str, key: str, value: Any) -> list[dict[str, Any]] | None:
        """If the conversation's tracker holds a user message whose metadata has `key` = `value` and
        that Rasa answered, the answers in the REST channel's format; otherwise None (not processed,
        or processed without effect because an action failed)."""
        try:
            response = await self._http.get(
                f"/conversations/{quote(sender_id, safe='')}/tracker", params={"include_events": "ALL"}
            )
            response.raise_for_status()
        except httpx.HTTPError as error:  # reading has no effect: safe to try again later
            raise RasaUnavailable(f"tracker: {type(error).__name__}", reached=False) from error
        return replies_after(response.json().get("events") or [], key, value)

    async def is_healthy(self) -> bool:
        try:
            response = await self._http.get("/")
        except httpx.HTTPError:
            return False
        return response.status_code == 200

    async def aclose(self) -> None:
        await self._http.aclose()


class HealthProbe:
    """Whether a process answers its health URL (the action server's /health)."""

    def __init__(self, url: str, transport: httpx.AsyncBaseTransport | None = None) -> None:
        self._url = url
        self._http = httpx.AsyncClient(timeout=2.0, transport=transport)

    async def is_healthy(self) -> bool:
        try:
            response = await self._http.get(self._url)
        except httpx.HTTPError:
            return False
        return response.status_code == 200

    async def aclose(self) -> None:
        await self._http.aclose()
