"""The reminder about an unfinished intake: once, after the configured time, kept across restarts."""

from __future__ import annotations

import asyncio
from collections.abc import Iterator
from datetime import timedelta

import pytest
from sqlalchemy import update
from sqlalchemy.orm import Session, sessionmaker
from telegram import Bot

from bot.reminders import MSG_REMINDER, send_due_reminders
from core.i18n import translate
from storage.models import Profile, utcnow
from storage.repository import ParticipantRepository, ProfileRepository
from tests.support.telegram_standin import TelegramStandIn


@pytest.fixture
def standin() -> Iterator[TelegramStandIn]:
    with TelegramStandIn() as running:
        yield running


def make_draft(
    sessions: sessionmaker[Session], subject: str, chat_id: int, lang: str, idle: timedelta
) -> str:
    with sessions() as session:
        participant = ParticipantRepository(session).get_or_create(subject)
        participant.chat_language = lang
        participant.telegram_chat_id = str(chat_id)
        profile = ProfileRepository(session).draft_for(participant)
        session.commit()
        session.execute(update(Profile).where(Profile.id == profile.id).values(updated_at=utcnow() - idle))
        session.commit()
        return profile.id


def test_one_reminder_after_the_time_and_never_twice(
    sessions: sessionmaker[Session], standin: TelegramStandIn
) -> None:
    make_draft(sessions, "a" * 64, 7100001, "ka", idle=timedelta(hours=25))
    make_draft(sessions, "b" * 64, 7100002, "de", idle=timedelta(hours=2))
    bot = Bot(standin.token, base_url=standin.base_url)

    async def run_twice() -> tuple[int, int]:
        async with bot:
            first = await send_due_reminders(bot, sessions, timedelta(hours=24))
            # A restart: a new run of the job sees what the database says.
            second = await send_due_reminders(bot, sessions, timedelta(hours=24))
            return first, second

    assert asyncio.run(run_twice()) == (1, 0)
    [message] = standin.sent_messages(7100001)
    assert message["text"] == translate("ka", MSG_REMINDER)
    assert standin.sent_messages(7100002) == []


def test_the_clock_decides(sessions: sessionmaker[Session], standin: TelegramStandIn) -> None:
    make_draft(sessions, "c" * 64, 7100003, "fa", idle=timedelta(hours=2))
    bot = Bot(standin.token, base_url=standin.base_url)

    async def later() -> int:
        async with bot:
            return await send_due_reminders(
                bot, sessions, timedelta(hours=24), now=utcnow() + timedelta(hours=23)
            )

    assert asyncio.run(later()) == 1
    assert standin.sent_messages(7100003)[0]["text"] == translate("fa", MSG_REMINDER)
