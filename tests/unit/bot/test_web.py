"""The bot's web app: health check and the Telegram webhook's secret token."""

from __future__ import annotations

import asyncio
from typing import Any

import httpx

from bot.telegram_app import build_application
from bot.web import WEBHOOK_PATH, build_web_app
from core.settings import Settings
from tests.support.telegram_standin import DEFAULT_TOKEN, text_update

SECRET = "webhook-secret-for-tests"


def post_updates(requests: list[dict[str, Any]]) -> tuple[list[int], list[Any]]:
    """POST each request to the webhook; returns the status codes and what reached the update queue."""
    settings = Settings(TELEGRAM_BOT_TOKEN=DEFAULT_TOKEN, TELEGRAM_MODE="webhook", WEBHOOK_SECRET=SECRET)
    application = build_application(settings)
    app = build_web_app(settings, application)

    async def run() -> tuple[list[int], list[Any]]:
        transport = httpx.ASGITransport(app=app)
        async with httpx.AsyncClient(transport=transport, base_url="http://bot") as client:
            codes = [(await client.post(WEBHOOK_PATH, **request)).status_code for request in requests]
        queued = []
        while not application.update_queue.empty():
            queued.append(application.update_queue.get_nowait())
        return codes, queued

    return asyncio.run(run())


def update(update_id: int) -> dict[str, Any]:
    body = text_update(5300001, "hello")
    body["update_id"] = update_id
    return body


def test_webhook_refuses_requests_without_the_right_secret_token() -> None:
    codes, queued = post_updates([
        {"json": update(1)},
        {"json": update(2), "headers": {"X-Telegram-Bot-Api-Secret-Token": "guess"}},
    ])  # fmt: skip
    assert codes == [403, 403]
    assert queued == []


def test_webhook_accepts_telegram_with_the_secret_token() -> None:
    codes, queued = post_updates(
        [{"json": update(3), "headers": {"X-Telegram-Bot-Api-Secret-Token": SECRET}}]
    )
    assert codes == [200]
    assert [u.update_id for u in queued] == [3]
    assert queued[0].effective_message.text == "hello"
