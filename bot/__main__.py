"""Run the bot: ``python -m bot`` (Telegram when TELEGRAM_BOT_TOKEN is set, else a local terminal chat)."""

from __future__ import annotations

import asyncio
import logging

import uvicorn
from telegram import Update

from bot.console import run_console
from bot.conversation import Conversation
from bot.rasa_client import RasaClient
from bot.telegram_app import build_application, close_services, open_services
from bot.web import WEBHOOK_PATH, build_web_app
from core.logging import configure_logging
from core.settings import ConfigurationError, Settings, get_settings

logger = logging.getLogger("bot")


async def run_telegram(settings: Settings) -> None:
    """PTB and the web app (health, webhook) share one event loop; uvicorn owns the signals."""
    application = build_application(settings)
    webhook = settings.telegram_mode == "webhook"
    if webhook and not (settings.webhook_url and settings.webhook_secret):
        raise ConfigurationError("TELEGRAM_MODE=webhook needs WEBHOOK_URL and WEBHOOK_SECRET.")
    web = build_web_app(application, settings.webhook_secret)
    host = settings.webhook_listen if webhook else "127.0.0.1"
    port = settings.webhook_port if webhook else settings.bot_health_port
    server = uvicorn.Server(uvicorn.Config(web, host=host, port=port, log_level="warning"))
    async with application:
        await open_services(application, settings)
        if webhook:
            await application.bot.set_webhook(
                url=settings.webhook_url.rstrip("/") + WEBHOOK_PATH,  # type: ignore[union-attr]
                secret_token=settings.webhook_secret,
                allowed_updates=Update.ALL_TYPES,
            )
        else:
            assert application.updater is not None
            await application.bot.delete_webhook()
            await application.updater.start_polling(allowed_updates=Update.ALL_TYPES)
        await application.start()
        logger.info("bot running (%s)", settings.telegram_mode)
        await server.serve()
        if application.updater is not None and application.updater.running:
            await application.updater.stop()
        await application.stop()
        await close_services(application)


async def run_local(settings: Settings) -> None:
    rasa = RasaClient(settings.rasa_url, settings.rasa_timeout_s)
    conversation = Conversation(rasa, settings.hash_key())
    try:
        await run_console(conversation)
    finally:
        await conversation.aclose()


def main() -> None:
    settings = get_settings()
    configure_logging(settings.log_level if settings.telegram_bot_token else "WARNING")
    try:
        if settings.telegram_bot_token:
            asyncio.run(run_telegram(settings))
        else:
            asyncio.run(run_local(settings))
    except ConfigurationError as error:
        raise SystemExit(str(error)) from None
    except KeyboardInterrupt:
        pass


if __name__ == "__main__":
    main()
