"""Run the bot: ``python -m bot`` (Telegram when TELEGRAM_BOT_TOKEN is set, else a local terminal chat).

In both modes the same process serves the web app (health check, Telegram webhook, coach pages)
on WEB_HOST:WEB_PORT, on the bot's event loop.
"""

from __future__ import annotations

import asyncio
import contextlib
import logging

import uvicorn
from telegram import Update

from bot.console import run_console
from bot.conversation import Conversation
from bot.rasa_client import RasaClient
from bot.telegram_app import build_application, close_services, open_services, update_queue
from bot.web import WEBHOOK_PATH, build_web_app
from core.logging import configure_logging
from core.settings import ConfigurationError, Settings, get_settings

logger = logging.getLogger("bot")


def web_server(settings: Settings, app: object) -> uvicorn.Server:
    config = uvicorn.Config(app, host=settings.web_host, port=settings.web_port, log_level="warning")  # type: ignore[arg-type]
    return uvicorn.Server(config)


async def run_telegram(settings: Settings) -> None:
    """PTB and the web app share one event loop; uvicorn owns the signals and decides when to stop."""
    webhook = settings.telegram_mode == "webhook"
    if webhook and not (settings.webhook_url and settings.webhook_secret):
        raise ConfigurationError("TELEGRAM_MODE=webhook needs WEBHOOK_URL and WEBHOOK_SECRET.")
    application = build_application(settings)
    server = web_server(settings, build_web_app(settings, application))
    async with application:
        await open_services(application, settings)
        # Updates stored but not handled before the last stop go first (bot/inbox.py).
        await update_queue(application).recover(application.bot)
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
        logger.info("bot running (%s), web on port %s", settings.telegram_mode, settings.web_port)
        await server.serve()
        if application.updater is not None and application.updater.running:
            await application.updater.stop()
        await application.stop()
        await close_services(application)


async def run_local(settings: Settings) -> None:
    """The terminal chat; the web app runs beside it until the chat ends or Ctrl-C."""
    conversation = Conversation(RasaClient(settings.rasa_url, settings.rasa_timeout_s), settings.hash_key())
    server = web_server(settings, build_web_app(settings, None))
    serving = asyncio.create_task(server.serve())
    chatting = asyncio.create_task(run_console(conversation))
    try:
        await asyncio.wait({serving, chatting}, return_when=asyncio.FIRST_COMPLETED)
    finally:
        server.should_exit = True
        chatting.cancel()
        with contextlib.suppress(asyncio.CancelledError):
            await chatting
        await serving
        await conversation.aclose()


def main() -> None:
    settings = get_settings()
    configure_logging(
        settings.log_level if settings.telegram_bot_token else "WARNING",
        secrets=[settings.telegram_bot_token or "", settings.webhook_secret or ""],
        style=settings.log_format,
    )
    try:
        settings.require_secrets()
        asyncio.run(run_telegram(settings) if settings.telegram_bot_token else run_local(settings))
    except ConfigurationError as error:
        raise SystemExit(str(error)) from None
    except KeyboardInterrupt:
        pass


if __name__ == "__main__":
    main()
