"""Wiring of python-telegram-bot handlers to the conversation service."""

from __future__ import annotations

import asyncio
import logging
from collections.abc import AsyncIterator, Sequence
from contextlib import asynccontextmanager
from datetime import timedelta

import httpx
from telegram import (
    BotCommand,
    InlineKeyboardButton,
    InlineKeyboardMarkup,
    Message,
    Update,
)
from telegram.constants import ChatAction
from telegram.error import BadRequest, TelegramError
from telegram.ext import (
    Application,
    ApplicationBuilder,
    CallbackQueryHandler,
    CommandHandler,
    ContextTypes,
    MessageHandler,
    filters,
)
from telegram.request import HTTPXRequest

from bot.coach.telegram import interview_answer_handler, start_coach_jobs
from bot.conversation import MSG_OLD_BUTTON, VOICE_MARKER, Conversation, Sender
from bot.erasure import erase_conversation
from bot.inbox import ChatOrderedProcessor, DurableUpdateQueue, UpdateInbox
from bot.metrics import ERRORS, REPLIES, timed_turn
from bot.pending import PendingTurns
from bot.rasa_client import HealthProbe, RasaClient
from bot.ratelimit import ChatRateLimiter
from bot.reminders import send_due_reminders
from bot.rendering import OutgoingMessage
from bot.retention import run_retention
from core.settings import Settings
from storage.db import make_engine, make_session_factory

logger = logging.getLogger(__name__)

CONVERSATION_KEY = "conversation"
LAST_KEYBOARD_KEY = "last_keyboard_message_id"
LAST_KEYBOARD_TEXT_KEY = "last_keyboard_text"
TRACKER_URL_KEY = "tracker_store_url"
SESSIONS_KEY = "sessions"
TYPING_AFTER_S = 0.5  # "typing..." is shown when an answer takes longer than this
KEEPALIVE_CONNECTIONS = 16  # idle connections to the Bot API kept open
ACTION_HEALTHY_FOR_S = 1.0  # a healthy action server is not asked again for this long (HealthProbe)
COMMANDS = [
    BotCommand("start", "Start · Beginnen · Начать · Başla · ابدأ"),
    BotCommand("language", "Language · Sprache · Язык · Dil · اللغة"),
    BotCommand("stop", "Pause · Пауза · Duraklat · توقف"),
    BotCommand("help", "Help · Hilfe · Помощь · Yardım · مساعدة"),
    BotCommand("mydata", "My data · Meine Daten · Мои данные · Verilerim · بياناتي"),
    BotCommand("delete", "Delete my data · Daten löschen · Удалить данные · Verileri sil · احذف بياناتي"),
]
# Telegram commands -> what Rasa understands.
COMMAND_TEXTS = {
    "start": "/start", "language": "/change_language", "stop": "/stop_intake", "help": "/help",
    "mydata": "/mydata", "delete": "/delete_data",
}  # fmt: skip


def reply_markup(message: OutgoingMessage) -> InlineKeyboardMarkup | None:
    if not message.buttons:
        return None
    return InlineKeyboardMarkup(
        [
            [InlineKeyboardButton(b.title, callback_data=b.callback_data) for b in row]
            for row in message.buttons
        ]
    )


async def send_all(
    context: ContextTypes.DEFAULT_TYPE, chat_id: int, messages: Sequence[OutgoingMessage]
) -> None:
    # A job has no chat of its own: the chat's data is then looked up by its id.
    chat_data = context.chat_data if context.chat_data is not None else context.application.chat_data[chat_id]
    for message in messages:
        sent = await context.bot.send_message(
            chat_id=chat_id, text=message.text, reply_markup=reply_markup(message)
        )
        REPLIES.inc()
        if message.buttons:
            chat_data[LAST_KEYBOARD_KEY] = sent.message_id
            chat_data[LAST_KEYBOARD_TEXT_KEY] = message.text
        if message.document is not None:
            filename, content = message.document
            await context.bot.send_document(chat_id=chat_id, document=content, filename=filename)
        if message.erase_conversation:
            await forget_chat(context, chat_id)


def _conversation(context: ContextTypes.DEFAULT_TYPE) -> Conversation:
    conversation: Conversation = context.bot_data[CONVERSATION_KEY]
    return conversation


def _recovered(update: Update, context: ContextTypes.DEFAULT_TYPE) -> bool:
    """Whether the update was put back into the queue after the bot stopped while handling it."""
    queue = context.application.update_queue
    return isinstance(queue, DurableUpdateQueue) and update.update_id in queue.inbox.recovered


def _sender(update: Update) -> Sender | None:
    user = update.effective_user
    if user is None or user.is_bot:
        return None
    chat = update.effective_chat
    return Sender(user_id=user.id, language_code=user.language_code, chat_id=chat.id if chat else None)


async def forget_chat(context: ContextTypes.DEFAULT_TYPE, chat_id: int) -> None:
    """After /delete: the conversation in Rasa's tracker store, this chat's state and pending jobs go."""
    conversation = _conversation(context)
    sender_id = await conversation.forget(chat_id)
    await asyncio.to_thread(erase_conversation, context.bot_data[TRACKER_URL_KEY], sender_id)
    if context.chat_data is not None:
        context.chat_data.clear()
    if context.job_queue is not None:
        for job in context.job_queue.jobs():
            if job.chat_id == chat_id:
                job.schedule_removal()


@asynccontextmanager
async def typing_while_slow(context: ContextTypes.DEFAULT_TYPE, chat_id: int) -> AsyncIterator[None]:
    """Show "typing..." in the chat if the answer takes longer than TYPING_AFTER_S. Most answers
    come sooner, and then the request would only spend Telegram's rate limit (30 a second for
    the whole bot), which is better spent on answers."""

    async def show() -> None:
        await asyncio.sleep(TYPING_AFTER_S)
        try:
            await context.bot.send_chat_action(chat_id=chat_id, action=ChatAction.TYPING)
        except TelegramError as error:  # only a courtesy
            logger.debug("could not show typing: %s", error)

    typing = asyncio.create_task(show())
    try:
        yield
    finally:
        typing.cancel()


@timed_turn
async def on_text(update: Update, context: ContextTypes.DEFAULT_TYPE) -> None:
    """A typed message or a command that Rasa handles (/start, /language)."""
    sender, message = _sender(update), update.effective_message
    if sender is None or message is None or message.text is None:
        return
    text = message.text
    if text.startswith("/"):
        command = text[1:].split(maxsplit=1)[0].split("@")[0].lower() if len(text) > 1 else ""
        text = COMMAND_TEXTS.get(command, text)
    async with typing_while_slow(context, message.chat_id):
        replies = await _conversation(context).handle_text(
            sender,
            text,
            message.message_id,
            update_id=update.update_id,
            recovered=_recovered(update, context),
        )
    await send_all(context, message.chat_id, replies)


@timed_turn
async def on_button(update: Update, context: ContextTypes.DEFAULT_TYPE) -> None:
    """A tap on an inline button: its callback_data is a Rasa payload such as /answer{...}."""
    query, sender = update.callback_query, _sender(update)
    if query is None or sender is None:
        return
    message = query.message
    if not isinstance(message, Message):
        await query.answer()
        return
    conversation = _conversation(context)
    chat_data = context.chat_data if context.chat_data is not None else {}
    latest = chat_data.get(LAST_KEYBOARD_KEY)
    if (
        latest is not None
        and latest != message.message_id
        and message.text != chat_data.get(LAST_KEYBOARD_TEXT_KEY)
        and (query.data or "").startswith("/answer")
    ):
        # A button of an older question: answering it now would answer the wrong question. (An
        # older copy of the open question, sent again after a restart, is the same question.)
        await query.answer(conversation.notice_text(sender, MSG_OLD_BUTTON), show_alert=False)
        return
    try:
        await query.answer()
    except BadRequest as error:  # too old, e.g. recovered after a restart: the tap still counts
        logger.debug("could not answer the callback query: %s", error)
    async with typing_while_slow(context, message.chat.id):
        replies = await conversation.handle_text(
            sender,
            query.data or "",
            message.message_id,
            update_id=update.update_id,
            recovered=_recovered(update, context),
        )
    if replies and replies[0].replace:
        first, *rest = replies
        try:
            await query.edit_message_text(first.text, reply_markup=reply_markup(first))
        except BadRequest as error:  # "message is not modified" and the like
            logger.debug("could not edit message: %s", error)
        await send_all(context, message.chat.id, rest)
        return
    # Remove the keyboard so the same choice cannot be sent twice by a second tap.
    try:
        await query.edit_message_reply_markup(reply_markup=None)
    except BadRequest as error:
        logger.debug("could not remove keyboard: %s", error)
    await send_all(context, message.chat.id, replies)


@timed_turn
async def on_voice(update: Update, context: ContextTypes.DEFAULT_TYPE) -> None:
    """A voice message answers an open question: the audio is stored and the answer goes to Rasa."""
    sender, message = _sender(update), update.effective_message
    if sender is None or message is None or message.voice is None:
        return
    voice = message.voice
    telegram_file = await voice.get_file()
    data = bytes(await telegram_file.download_as_bytearray())
    conversation = _conversation(context)
    duration = voice.duration
    seconds = duration.total_seconds() if isinstance(duration, timedelta) else float(duration)
    note = conversation.store_voice(data, seconds, voice.mime_type or "audio/ogg")
    replies = await conversation.handle_text(
        sender,
        VOICE_MARKER,
        message.message_id,
        voice=note,
        update_id=update.update_id,
        recovered=_recovered(update, context),
    )
    await send_all(context, message.chat_id, replies)


async def on_other_input(update: Update, context: ContextTypes.DEFAULT_TYPE) -> None:
    """Stickers, photos, files, locations ...: a polite answer, and the conversation state is unchanged."""
    sender, message = _sender(update), update.effective_message
    if sender is None or message is None:
        return
    await send_all(context, message.chat_id, _conversation(context).unsupported_input(sender))


async def on_unknown_command(update: Update, context: ContextTypes.DEFAULT_TYPE) -> None:
    sender, message = _sender(update), update.effective_message
    if sender is None or message is None:
        return
    await send_all(context, message.chat_id, _conversation(context).unknown_command(sender))


async def on_edited(update: Update, context: ContextTypes.DEFAULT_TYPE) -> None:
    sender, message = _sender(update), update.edited_message
    if sender is None or message is None:
        return
    await send_all(context, message.chat_id, _conversation(context).edited_message(sender))


async def on_error(update: object, context: ContextTypes.DEFAULT_TYPE) -> None:
    ERRORS.labels(f"handler_{type(context.error).__name__}").inc()
    logger.error("error while handling an update: %s", type(context.error).__name__, exc_info=context.error)


def register_handlers(application: Application) -> None:  # type: ignore[type-arg]
    private = filters.ChatType.PRIVATE
    application.add_handler(MessageHandler(filters.UpdateType.EDITED_MESSAGE & private, on_edited))
    application.add_handler(MessageHandler(filters.TEXT & ~filters.COMMAND & private, on_text))
    application.add_handler(CommandHandler(list(COMMAND_TEXTS), on_text, filters=private))
    application.add_handler(MessageHandler(filters.VOICE & private, on_voice))
    application.add_handler(MessageHandler(filters.COMMAND & private, on_unknown_command))
    application.add_handler(interview_answer_handler())  # iv:… buttons, before the Rasa one
    application.add_handler(CallbackQueryHandler(on_button))
    application.add_handler(MessageHandler(filters.UpdateType.MESSAGE & private, on_other_input))
    application.add_error_handler(on_error)


def bot_api_request() -> HTTPXRequest:
    """PTB's default request, keeping at most KEEPALIVE_CONNECTIONS idle connections instead of all
    256 it may open: httpcore looks at every pooled connection for every request, and with a
    pool grown by a burst that was a fifth of the bot's CPU under load (py-spy, make bench)."""
    pool_size = 256  # PTB's default
    limits = httpx.Limits(max_connections=pool_size, max_keepalive_connections=KEEPALIVE_CONNECTIONS)
    return HTTPXRequest(connection_pool_size=pool_size, httpx_kwargs={"limits": limits})


def build_application(settings: Settings) -> Application:  # type: ignore[type-arg]
    """The PTB application; clients are opened in `open_services`, not at import or build time."""
    assert settings.telegram_bot_token, "build_application needs TELEGRAM_BOT_TOKEN"
    sessions = make_session_factory(make_engine(settings.effective_database_url))
    inbox = UpdateInbox(sessions)
    builder: ApplicationBuilder = (  # type: ignore[type-arg]
        Application.builder()
        .token(settings.telegram_bot_token)
        .base_url(settings.telegram_base_url)
        .base_file_url(settings.telegram_base_file_url)
        .request(bot_api_request())
        .rate_limiter(
            ChatRateLimiter(
                settings.telegram_overall_rate, settings.telegram_chat_rate, settings.telegram_chat_burst
            )
        )
        # Stored before acknowledged, handled until done; chats concurrently, each chat in order.
        .update_queue(DurableUpdateQueue(inbox))
        .concurrent_updates(ChatOrderedProcessor(inbox, settings.max_concurrent_updates))
    )
    if settings.telegram_mode == "webhook":
        builder = builder.updater(None)
    application = builder.build()
    application.bot_data[SESSIONS_KEY] = sessions
    register_handlers(application)
    return application


def update_queue(application: Application) -> DurableUpdateQueue:  # type: ignore[type-arg]
    queue = application.update_queue
    assert isinstance(queue, DurableUpdateQueue)
    return queue


async def open_services(application: Application, settings: Settings) -> None:  # type: ignore[type-arg]
    """Runs after `application.initialize()`: PTB calls post_init only from run_polling/run_webhook,
    and we run the application ourselves beside the web app."""
    rasa = RasaClient(settings.rasa_url, settings.rasa_timeout_s)
    sessions = application.bot_data[SESSIONS_KEY]
    conversation = Conversation(
        rasa,
        settings.hash_key(),
        settings.voice_dir,
        pending=PendingTurns(sessions),
        actions=HealthProbe(settings.action_health_url, healthy_for_s=ACTION_HEALTHY_FOR_S),
    )
    application.bot_data[CONVERSATION_KEY] = conversation
    inbox = update_queue(application).inbox
    await asyncio.to_thread(inbox.prune)
    application.bot_data[TRACKER_URL_KEY] = settings.effective_tracker_store_url
    if settings.reminder_after_hours > 0 and application.job_queue is not None:
        after = timedelta(hours=settings.reminder_after_hours)

        async def remind(context: ContextTypes.DEFAULT_TYPE) -> None:
            await send_due_reminders(context.bot, sessions, after)

        application.job_queue.run_repeating(remind, interval=settings.reminder_check_interval_s, first=30)
    if application.job_queue is not None:
        closed_after = timedelta(days=settings.retention_closed_days)
        draft_after = timedelta(days=settings.retention_draft_days)
        tracker_url, voice_dir = settings.effective_tracker_store_url, settings.voice_dir

        async def retention(context: ContextTypes.DEFAULT_TYPE) -> None:
            await run_retention(sessions, tracker_url, voice_dir, closed_after, draft_after)

        application.job_queue.run_repeating(retention, interval=settings.retention_check_interval_s, first=60)
    if application.job_queue is not None:

        async def process_waiting(context: ContextTypes.DEFAULT_TYPE) -> None:
            async def deliver(chat_id: int, messages: list[OutgoingMessage]) -> None:
                await send_all(context, chat_id, messages)

            await conversation.process_waiting(deliver)

        application.job_queue.run_repeating(
            process_waiting, interval=settings.pending_retry_interval_s, first=1, name="process_waiting"
        )
    await application.bot.set_my_commands(COMMANDS)
    start_coach_jobs(application, settings)


async def close_services(application: Application) -> None:  # type: ignore[type-arg]
    conversation = application.bot_data.pop(CONVERSATION_KEY, None)
    if conversation is not None:
        await conversation.aclose()
