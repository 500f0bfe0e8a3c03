"""One gentle reminder about an unfinished intake, kept in the database so it survives restarts."""

from __future__ import annotations

import asyncio
import logging
from datetime import datetime, timedelta

from sqlalchemy import select
from sqlalchemy.orm import Session, sessionmaker
from telegram import Bot, InlineKeyboardButton, InlineKeyboardMarkup
from telegram.error import Forbidden, TelegramError

from core.i18n import gettext_noop as _
from core.i18n import translate
from core.languages import DEFAULT_LANGUAGE, is_supported
from storage.models import Participant, Profile, ProfileStatus, utcnow

logger = logging.getLogger(__name__)

MSG_REMINDER = _(
    "Hello again! Your answers are saved. When you have a few minutes, we can continue where you stopped."
)
MSG_CONTINUE = _("Continue")


def due_reminders(
    session: Session, now: datetime, after: timedelta, limit: int = 100
) -> list[tuple[Profile, Participant]]:
    """Unfinished intakes untouched for `after`, not reminded yet, whose chat the bot knows."""
    statement = (
        select(Profile, Participant)
        .join(Participant, Profile.participant_id == Participant.id)
        .where(
            Profile.status == ProfileStatus.IN_PROGRESS,
            Profile.reminded_at.is_(None),
            Profile.updated_at < now - after,
            Participant.telegram_chat_id.is_not(None),
        )
        .limit(limit)
    )
    return [(profile, participant) for profile, participant in session.execute(statement).all()]


async def send_due_reminders(
    bot: Bot, sessions: sessionmaker[Session], after: timedelta, now: datetime | None = None
) -> int:
    """Send every due reminder once; returns how many were sent."""
    moment = now or utcnow()

    def claim() -> list[tuple[str, int, str]]:
        with sessions() as session:
            due = due_reminders(session, moment, after)
            claimed = []
            for profile, participant in due:
                profile.reminded_at = moment  # claimed first: a crash never sends it twice
                lang = (
                    participant.chat_language if is_supported(participant.chat_language) else DEFAULT_LANGUAGE
                )
                claimed.append((profile.id, int(participant.telegram_chat_id or 0), str(lang)))
            session.commit()
            return claimed

    sent = 0
    for _profile_id, chat_id, lang in await asyncio.to_thread(claim):
        keyboard = InlineKeyboardMarkup(
            [[InlineKeyboardButton(translate(lang, MSG_CONTINUE), callback_data="/start")]]
        )
        try:
            await bot.send_message(chat_id=chat_id, text=translate(lang, MSG_REMINDER), reply_markup=keyboard)
            sent += 1
        except Forbidden:
            logger.info("reminder not delivered: the bot was blocked")
        except TelegramError as error:
            logger.warning("reminder not delivered: %s", type(error).__name__)
    return sent
