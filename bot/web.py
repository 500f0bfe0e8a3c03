"""The bot process's web app: health check, the Telegram webhook and the coach pages, on the bot's
event loop."""

from __future__ import annotations

import hmac
import logging

from prometheus_client import CONTENT_TYPE_LATEST, CollectorRegistry, ProcessCollector
from starlette.applications import Starlette
from starlette.concurrency import run_in_threadpool
from starlette.requests import Request
from starlette.responses import JSONResponse, RedirectResponse, Response
from starlette.routing import Mount, Route
from telegram import Update
from telegram.ext import Application

from bot.coach.app import COACH_PREFIX, build_coach_app
from bot.metrics import ProfilesByStatus, exposition
from core.settings import Settings
from storage.db import make_engine, make_session_factory

logger = logging.getLogger(__name__)

WEBHOOK_PATH = "/telegram"


def build_web_app(settings: Settings, application: Application | None) -> Starlette:  # type: ignore[type-arg]
    """Routes of the bot process. `application` is None in the local terminal chat."""
    webhook_secret = settings.webhook_secret

    async def healthz(request: Request) -> JSONResponse:
        running = application is None or application.running
        return JSONResponse({"status": "ok" if running else "starting"}, status_code=200 if running else 503)

    async def telegram_webhook(request: Request) -> Response:
        if application is None:
            return Response(status_code=404)
        given = request.headers.get("X-Telegram-Bot-Api-Secret-Token", "")
        if not webhook_secret or not hmac.compare_digest(given, webhook_secret):
            return Response(status_code=403)
        try:
            update = Update.de_json(await request.json(), application.bot)
        except ValueError:
            return Response(status_code=400)
        await application.update_queue.put(update)
        return Response(status_code=200)

    per_app = CollectorRegistry()  # no auto-describe: nothing reads the database before a scrape
    per_app.register(ProfilesByStatus(make_session_factory(make_engine(settings.effective_database_url))))
    ProcessCollector(registry=per_app)  # RSS, CPU, open files of this process

    async def metrics(request: Request) -> Response:
        body = await run_in_threadpool(exposition, per_app)
        return Response(body, media_type=CONTENT_TYPE_LATEST)

    return Starlette(
        routes=[
            Route("/healthz", healthz, methods=["GET"]),
            Route("/metrics", metrics, methods=["GET"]),
            Route(WEBHOOK_PATH, telegram_webhook, methods=["POST"]),
            Route(
                "/", lambda request: RedirectResponse(f"{COACH_PREFIX}/", status_code=307), methods=["GET"]
            ),
            Mount(COACH_PREFIX, app=build_coach_app(settings, application)),
        ]
    )
