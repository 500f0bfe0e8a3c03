"""HTTP client for Rasa's REST channel."""

from __future__ import annotations

from typing import Any

import httpx


class RasaUnavailable(RuntimeError):
    """Rasa (or the action server behind it) did not answer; the user's message was not processed."""


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
        except httpx.HTTPError as error:
            raise RasaUnavailable(type(error).__name__) from error
        replies = response.json()
        return replies if isinstance(replies, list) else []

    async def is_healthy(self) -> bool:
        try:
            response = await self._http.get("/")
        except httpx.HTTPError:
            return False
        return response.status_code == 200

    async def aclose(self) -> None:
        await self._http.aclose()
