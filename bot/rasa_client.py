"""HTTP client for Rasa's REST channel, over one Rasa server or several replicas."""

from __future__ import annotations

import logging
import time
from collections.abc import Callable
from typing import Any

import httpx

logger = logging.getLogger(__name__)


class RasaUnavailable(RuntimeError):
    """Rasa did not answer the message. `reached` is False when the message surely did not get
    there (no connection, or a proxy's 502/503/504), so that sending it again later is safe."""

    def __init__(self, reason: str, reached: bool) -> None:
        super().__init__(reason)
        self.reached = reached


UNREACHED_STATUS = {502, 503, 504}
# The intake channel (rasa_plugins/channel.py): the REST channel, safe to send a message to twice.
WEBHOOK_PATH = "/webhooks/intake/webhook"


# A Rasa server that takes longer than this to accept a connection is treated as down: with
# several replicas the message then goes to the next one.
CONNECT_TIMEOUT_S = 5.0
# A replica that refused a connection is tried last for this long.
REPLICA_DOWN_FOR_S = 10.0


def split_urls(urls: str) -> list[str]:
    """RASA_URL: one base URL, or several separated by commas (replicas)."""
    return [url.strip().rstrip("/") for url in urls.split(",") if url.strip()]


class ReplicaTransport(httpx.AsyncBaseTransport):
    """Spreads requests over several Rasa replicas that share a tracker store and a Redis lock
    store: round robin, and when a replica refuses the connection (so the request surely did not
    get there) the same request goes to the next replica at once, and the refusing one is tried
    last for `down_for_s`. Any other failure (a timeout, an HTTP error) is not retried: the
    replica may have processed the message."""

    def __init__(
        self,
        base_urls: list[str],
        inner: httpx.AsyncBaseTransport | None = None,
        down_for_s: float = REPLICA_DOWN_FOR_S,
        clock: Callable[[], float] = time.monotonic,
    ) -> None:
        if not base_urls:
            raise ValueError("no Rasa URL")
        self._bases = [url.rstrip("/") for url in base_urls]
        self._inner = inner or httpx.AsyncHTTPTransport()
        self._down_for_s = down_for_s
        self._clock = clock
        self._down_until = [0.0] * len(self._bases)
        self._turn = 0

    def _order(self) -> list[int]:
        """Round robin, replicas that recently refused a connection last."""
        start, self._turn = self._turn, (self._turn + 1) % len(self._bases)
        rotated = [(start + offset) % len(self._bases) for offset in range(len(self._bases))]
        now = self._clock()
        return sorted(rotated, key=lambda index: self._down_until[index] > now)

    def _retarget(self, request: httpx.Request, index: int, body: bytes) -> httpx.Request:
        url = str(request.url)
        if not url.startswith(self._bases[0]):
            return request
        headers = httpx.Headers(request.headers)
        del headers["host"]  # set again from the new URL
        return httpx.Request(
            request.method,
            self._bases[index] + url[len(self._bases[0]) :],
            headers=headers,
            content=body,
            extensions=request.extensions,
        )

    async def handle_async_request(self, request: httpx.Request) -> httpx.Response:
        body = await request.aread()
        refused: httpx.TransportError | None = None
        for index in self._order():
            try:
                response = await self._inner.handle_async_request(self._retarget(request, index, body))
            except (httpx.ConnectError, httpx.ConnectTimeout) as error:
                if self._down_until[index] == 0.0:
                    logger.warning(
                        "Rasa replica %s does not answer (%s)", self._bases[index], type(error).__name__
                    )
                self._down_until[index] = self._clock() + self._down_for_s
                refused = error
                continue
            self._down_until[index] = 0.0
            return response
        assert refused is not None
        raise refused

    async def aclose(self) -> None:
        await self._inner.aclose()


class RasaClient:
    """`base_url` is one Rasa server, or several comma-separated replicas (see ReplicaTransport)."""

    def __init__(
        self, base_url: str, timeout_s: float = 30.0, transport: httpx.AsyncBaseTransport | None = None
    ) -> None:
        urls = split_urls(base_url)
        if len(urls) > 1:
            transport = ReplicaTransport(urls, inner=transport)
        self._http = httpx.AsyncClient(
            base_url=urls[0] if urls else base_url,
            timeout=httpx.Timeout(timeout_s, connect=min(timeout_s, CONNECT_TIMEOUT_S)),
            transport=transport,
        )

    async def send(self, sender_id: str, text: str, metadata: dict[str, Any]) -> list[dict[str, Any]]:
        """Send one user message; returns Rasa's replies in order. A message whose metadata has
        `replay` (and an `update_id`) has its effect once: if Rasa processed it already, the
        replies it gave then come back."""
        body = {"sender": sender_id, "message": text, "metadata": metadata}
        try:
            response = await self._http.post(WEBHOOK_PATH, json=body)
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

    async def is_healthy(self) -> bool:
        """Whether Rasa answers; with several replicas, whether one of them does."""
        try:
            response = await self._http.get("/")
        except httpx.HTTPError:
            return False
        return response.status_code == 200

    async def aclose(self) -> None:
        await self._http.aclose()


class HealthProbe:
    """Whether a process answers its health URL (the action server's /health).

    A healthy answer is believed for `healthy_for_s` (an unhealthy one never): the bot asks before
    each turn, and under load one probe a turn was a request more per message. A process that
    went down within that time costs nothing worse: Rasa then fails the turn and the message
    waits, as it would if the process went down mid-turn."""

    def __init__(
        self, url: str, transport: httpx.AsyncBaseTransport | None = None, healthy_for_s: float = 0.0
    ) -> None:
        self._url = url
        self._http = httpx.AsyncClient(timeout=2.0, transport=transport)
        self._healthy_for_s = healthy_for_s
        self._healthy_until = float("-inf")

    async def is_healthy(self) -> bool:
        if time.monotonic() < self._healthy_until:
            return True
        try:
            response = await self._http.get(self._url)
        except httpx.HTTPError:
            return False
        if response.status_code != 200:
            return False
        self._healthy_until = time.monotonic() + self._healthy_for_s
        return True

    async def aclose(self) -> None:
        await self._http.aclose()
