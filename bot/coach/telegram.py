"""The bot's side of the coach review: the outbox job (coach notices, interview invitations) and the
returnee's answer to an invitation (callback data ``iv:ok:<id>`` / ``iv:no:<id>``)."""

from __future__ import annotations

import asyncio
import logging
import re
from dataclasses import dataclass
from typing import Any

from babel.dates import format_date, format_time
from telegram import InlineKeyboardButton, InlineKeyboardMarkup, Message, Update
from telegram.error import BadRequest, Forbidden, TelegramError
from telegram.ext import Application, CallbackQueryHandler, ContextTypes

from bot.coach.i18n import _c
from bot.coach.services import SERVICES_KEY, CoachServices, coach_services
from bot.i18n import _, translate
from core.languages import DEFAULT_LANGUAGE, normalise_code
from core.settings import Settings
from storage.coach import AuditLogRepository, OutboxRepository, ReviewRepository
from storage.coach_models import (
    ACTOR_PARTICIPANT,
    AuditAction,
    InterviewAppointment,
    InterviewResponse,
    OutboxKind,
    OutboxMessage,
    OutboxStatus,
)
from storage.db import session_scope
from storage.models import Profile

logger = logging.getLogger(__name__)

CALLBACK_PATTERN = r"^iv:(ok|no):(\d{1,18})$"
_CALLBACK_RE = re.compile(CALLBACK_PATTERN)

# Texts for the returnee, in the bot's catalogs (bot/locale/<lang>/LC_MESSAGES/messages.po).
INVITATION = _("Your coach invites you to a first interview:\n{date}, {time} (time in Germany)")
INVITATION_PLACE = _("Place: {place}")
INVITATION_VIDEO = _("Video call: {link}")
INVITATION_QUESTION = _("Does this time work for you?")
BUTTON_YES = _("Yes, that works")
BUTTON_OTHER_TIME = _("Please suggest another time")
THANKS_YES = _("Thank you! Your coach now knows that the time works for you.")
THANKS_OTHER_TIME = _("Thank you! Your coach will suggest another time.")
NO_LONGER_CURRENT = _("This invitation is no longer current. Your coach will contact you.")


@dataclass(frozen=True)
class Outgoing:
    outbox_id: int
    chat_id: int | str
    text: str
    markup: InlineKeyboardMarkup | None


def callback_data(response: InterviewResponse, appointment_id: int) -> str:
    return f"iv:{'ok' if response is InterviewResponse.ACCEPTED else 'no'}:{appointment_id}"


def invitation_text(
    appointment: InterviewAppointment, language: str, services: CoachServices
) -> tuple[str, InlineKeyboardMarkup]:
    """The invitation in the returnee's chat language, with the two answer buttons."""
    local = appointment.starts_at.astimezone(services.timezone)
    lines = [
        translate(
            language,
            INVITATION,
            {
                "date": format_date(local.date(), format="full", locale=language),
                "time": format_time(local.time(), format="short", locale=language),
            },
        )
    ]
    if appointment.place:
        lines.append(translate(language, INVITATION_PLACE, {"place": appointment.place}))
    if appointment.video_link:
        lines.append(translate(language, INVITATION_VIDEO, {"link": appointment.video_link}))
    lines += ["", translate(language, INVITATION_QUESTION)]
    markup = InlineKeyboardMarkup(
        [
            [
                InlineKeyboardButton(
                    translate(language, BUTTON_YES),
                    callback_data=callback_data(InterviewResponse.ACCEPTED, appointment.id),
                )
            ],
            [
                InlineKeyboardButton(
                    translate(language, BUTTON_OTHER_TIME),
                    callback_data=callback_data(InterviewResponse.ANOTHER_TIME, appointment.id),
                )
            ],
        ]
    )
    return "\n".join(lines), markup


def submission_notice_text(services: CoachServices, profile_id: str) -> str:
    """The coach chat's notice: a link and nothing about the person (no name, no free text)."""
    return _c("New intake profile submitted. Summary: {url}").format(url=services.profile_url(profile_id))


def _language_of(profile: Profile) -> str:
    participant = profile.participant
    code = normalise_code(participant.chat_language if participant else None) or normalise_code(
        profile.chat_language
    )
    return code or DEFAULT_LANGUAGE


def _chat_id(value: str) -> int | str:
    return int(value) if value.lstrip("-").isdigit() else value


def load_pending(services: CoachServices, limit: int = 20) -> list[Outgoing]:
    """The pending outbox messages as ready-to-send texts; unsendable ones are marked skipped."""
    outgoing: list[Outgoing] = []
    with session_scope(services.session_factory) as session:
        outbox = OutboxRepository(session)
        for message in outbox.pending(limit):
            item = _prepare(session, services, outbox, message)
            if item is not None:
                outgoing.append(item)
    return outgoing


def _prepare(
    session: Any, services: CoachServices, outbox: OutboxRepository, message: OutboxMessage
) -> Outgoing | None:
    if message.kind is OutboxKind.SUBMISSION_NOTICE:
        chat = services.settings.coach_chat_id
        if not chat:
            outbox.mark(message, OutboxStatus.SKIPPED, "no_coach_chat")
            return None
        return Outgoing(
            message.id, _chat_id(chat), submission_notice_text(services, message.profile_id), None
        )
    appointment = (
        session.get(InterviewAppointment, message.appointment_id) if message.appointment_id else None
    )
    profile = session.get(Profile, message.profile_id)
    chat_id = profile.participant.telegram_chat_id if profile is not None and profile.participant else None
    if appointment is None or profile is None or not chat_id:
        outbox.mark(message, OutboxStatus.SKIPPED, "no_chat")
        if appointment is not None:
            appointment.message_status, appointment.message_error = OutboxStatus.SKIPPED, "no_chat"
        return None
    text, markup = invitation_text(appointment, _language_of(profile), services)
    return Outgoing(message.id, _chat_id(chat_id), text, markup)


def _finish(services: CoachServices, outbox_id: int, error: str | None, give_up: bool) -> None:
    with session_scope(services.session_factory) as session:
        message = session.get(OutboxMessage, outbox_id)
        if message is None:
            return
        outbox = OutboxRepository(session)
        if error is None:
            outbox.mark(message, OutboxStatus.SENT)
        elif give_up:
            message.attempts += 1
            outbox.mark(message, OutboxStatus.FAILED, error)
        else:
            outbox.record_failure(message, error)
        appointment = (
            session.get(InterviewAppointment, message.appointment_id) if message.appointment_id else None
        )
        if appointment is not None:
            appointment.message_status = message.status
            appointment.message_error = message.last_error
            if message.status is OutboxStatus.SENT:
                appointment.message_sent_at = message.sent_at


async def send_pending(context: ContextTypes.DEFAULT_TYPE) -> None:
    """JobQueue callback: send what the outbox holds and mark each message sent (or failed)."""
    services: CoachServices = context.bot_data[SERVICES_KEY]
    async with services.outbox_lock:  # the repeating job and a "send now" kick must not overlap
        batch = await asyncio.to_thread(load_pending, services)
        for item in batch:
            error, give_up = None, False
            try:
                await context.bot.send_message(chat_id=item.chat_id, text=item.text, reply_markup=item.markup)
            except (Forbidden, BadRequest) as failure:  # blocked bot, unknown chat: retrying cannot help
                error, give_up = type(failure).__name__, True
            except TelegramError as failure:
                error = type(failure).__name__
            if error:
                logger.warning("outbox message %s not sent: %s", item.outbox_id, error)
            await asyncio.to_thread(_finish, services, item.outbox_id, error, give_up)


def record_answer(
    services: CoachServices, appointment_id: int, response: InterviewResponse, chat_id: int
) -> tuple[str, bool]:
    """Store the returnee's answer; returns (their language, whether the invitation was current)."""
    with session_scope(services.session_factory) as session:
        appointment = session.get(InterviewAppointment, appointment_id)
        if appointment is None:
            return DEFAULT_LANGUAGE, False
        profile = session.get(Profile, appointment.profile_id)
        if profile is None or profile.participant is None:
            return DEFAULT_LANGUAGE, False
        language = _language_of(profile)
        # Only the invited person can answer, and only the newest invitation counts.
        if str(profile.participant.telegram_chat_id) != str(chat_id):
            return language, False
        review = ReviewRepository(session)
        if review.latest_appointment_id(profile.id) != appointment.id:
            return language, False
        review.record_response(appointment, response)
        AuditLogRepository(session).add(
            ACTOR_PARTICIPANT, AuditAction.INTERVIEW_ANSWERED, profile.id, InterviewResponse(response).value
        )
        return language, True


async def on_interview_answer(update: Update, context: ContextTypes.DEFAULT_TYPE) -> None:
    """A tap on "Yes, that works" / "Please suggest another time" under an invitation."""
    query = update.callback_query
    if query is None or query.data is None or not isinstance(query.message, Message):
        return
    match = _CALLBACK_RE.match(query.data)
    if match is None:
        return
    await query.answer()
    response = InterviewResponse.ACCEPTED if match[1] == "ok" else InterviewResponse.ANOTHER_TIME
    services: CoachServices = context.bot_data[SERVICES_KEY]
    chat_id = query.message.chat.id
    language, current = await asyncio.to_thread(record_answer, services, int(match[2]), response, chat_id)
    try:
        await query.edit_message_reply_markup(reply_markup=None)
    except BadRequest as error:
        logger.debug("could not remove keyboard: %s", error)
    if not current:
        text = NO_LONGER_CURRENT
    elif response is InterviewResponse.ACCEPTED:
        text = THANKS_YES
    else:
        text = THANKS_OTHER_TIME
    await context.bot.send_message(chat_id=chat_id, text=translate(language, text))


def interview_answer_handler() -> CallbackQueryHandler[Any, Any]:
    """Register before the generic button handler, which would send the data to Rasa."""
    return CallbackQueryHandler(on_interview_answer, pattern=CALLBACK_PATTERN)


def start_coach_jobs(application: Application[Any, Any, Any, Any, Any, Any], settings: Settings) -> None:
    """Share the coach services with the handlers and send the outbox every few seconds."""
    coach_services(settings, application)
    if application.job_queue is None:
        raise RuntimeError("the coach outbox needs python-telegram-bot[job-queue]")
    application.job_queue.run_repeating(
        send_pending, interval=settings.coach_outbox_interval_s, first=1, name="coach-outbox"
    )
