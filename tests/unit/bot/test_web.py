"""The bot's web app: health check and the Telegram webhook's secret token."""

from __future__ import annotations

import asyncio
from pathlib import Path
from typing import Any

import httpx

from bot.telegram_app import build_application
from bot.web import WEBHOOK_PATH, build_web_app
from core.settings import Settings
from storage.db import make_engine, make_session_factory, upgrade
from storage.models import TelegramUpdate
from tests.support.telegram_standin import DEFAULT_TOKEN, text_update

SECRET = "webhook-secret-for-tests"


def post_updates(requests: list[dict[str, Any]], tmp_path: Path) -> tuple[list[int], list[Any]]:
    """POST each request to the webhook; returns the status codes and what reached the update queue."""
    database_url = f"sqlite:///{tmp_path / 'bot.db'}"
    upgrade(database_url)
    settings = Settings(
        TELEGRAM_BOT_TOKEN=DEFAULT_TOKEN,
        TELEGRAM_MODE="webhook",
        WEBHOOK_SECRET=SECRET,
        DATA_DIR=tmp_path,
        DATABASE_URL=database_url,
    )
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


def test_webhook_refuses_requests_without_the_right_secret_token(tmp_path: Path) -> None:
    codes, queued = post_updates(
        [
            {"json": update(1)},
            {"json": update(2), "headers": {"X-Telegram-Bot-Api-Secret-Token": "guess"}},
        ],
        tmp_path,
    )
    assert codes == [403, 403]
    assert queued == []


def test_webhook_accepts_telegram_with_the_secret_token(tmp_path: Path) -> None:
    codes, queued = post_updates(
        [{"json": update(3), "headers": {"X-Telegram-Bot-Api-Secret-Token": SECRET}}], tmp_path
    )
    assert codes == [200]
    assert [u.update_id for u in queued] == [3]
    assert queued[0].effective_message.text == "hello"


def test_webhook_stores_an_update_before_it_answers_200_and_drops_a_redelivery(tmp_path: Path) -> None:
    # Telegram sends an update again when it got no 200: the second one must have no effect.
    headers = {"X-Telegram-Bot-Api-Secret-Token": SECRET}
    codes, queued = post_updates([{"json": update(4), "headers": headers}] * 2, tmp_path)
    assert codes == [200, 200]
    assert [u.update_id for u in queued] == [4]
    engine = make_engine(f"sqlite:///{tmp_path / 'bot.db'}")
    with make_session_factory(engine)() as session:
        stored = session.get(TelegramUpdate, 4)
        assert stored is not None and stored.payload is not None and stored.done_at is None
        assert stored.payload["message"]["text"] == "hello"
    engine.dispose()
