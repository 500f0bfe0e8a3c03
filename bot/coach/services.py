"""What the coach pages and the bot's coach jobs share in one process: database, translator, settings."""

from __future__ import annotations

import asyncio
from functools import cached_property
from typing import Any
from zoneinfo import ZoneInfo

from sqlalchemy import Engine
from sqlalchemy.orm import Session, sessionmaker
from telegram.ext import Application

from bot.coach.translation import CachedTranslator, load_backend
from core.settings import ConfigurationError, Settings
from storage.db import make_engine, make_session_factory

SERVICES_KEY = "coach_services"


class CoachServices:
    """Made once per process; the engine is opened on first use, not at construction."""

    def __init__(
        self, settings: Settings, application: Application[Any, Any, Any, Any, Any, Any] | None
    ) -> None:
        self.settings = settings
        self.application = application
        self.outbox_lock = asyncio.Lock()
        try:
            self.timezone = ZoneInfo(settings.coach_timezone)
        except (KeyError, ValueError) as error:
            raise ConfigurationError(
                f"COACH_TIMEZONE={settings.coach_timezone!r} is not an IANA time zone (e.g. Europe/Berlin)."
            ) from error
        self.translator = CachedTranslator(load_backend(settings.translation_backend))

    @cached_property
    def engine(self) -> Engine:
        return make_engine(self.settings.effective_database_url)

    @cached_property
    def session_factory(self) -> sessionmaker[Session]:
        return make_session_factory(self.engine)

    @property
    def can_message_returnees(self) -> bool:
        """Telegram is configured: invitations go out through the bot (else they are only recorded)."""
        return self.application is not None

    def profile_url(self, profile_id: str) -> str:
        return f"{self.settings.public_base_url.rstrip('/')}/coach/profiles/{profile_id}"

    def kick_outbox(self) -> None:
        """Ask the bot to send pending messages now rather than at the next interval."""
        if self.application is None or self.application.job_queue is None:
            return
        from bot.coach.telegram import send_pending

        self.application.job_queue.run_once(send_pending, 0, name="coach-outbox-now")


def coach_services(
    settings: Settings, application: Application[Any, Any, Any, Any, Any, Any] | None
) -> CoachServices:
    """The process's CoachServices; kept in bot_data so the web app and the bot handlers share it."""
    if application is None:
        return CoachServices(settings, None)
    services = application.bot_data.get(SERVICES_KEY)
    if services is None:
        services = application.bot_data[SERVICES_KEY] = CoachServices(settings, application)
    return services  # type: ignore[no-any-return]
