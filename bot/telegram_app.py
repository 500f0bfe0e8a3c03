"""Wiring of python-telegram-bot handlers to the conversation service."""

from __future__ import annotations

import logging
from collections.abc import Sequence

from telegram import (
    BotCommand,
    InlineKeyboardButton,
    InlineKeyboardMarkup,
    Message,
    Update,
)
from telegram.constants import ChatAction
from telegram.error import BadRequest
from telegram.ext import (
    AIORateLimiter,
    Application,
    ApplicationBuilder,
    CallbackQueryHandler,
    CommandHandler,
    ContextTypes,
    MessageHandler,
    filters,
)

from bot.conversation import Conversation, Sender
from bot.rasa_client import RasaClient
from bot.rendering import OutgoingMessage
from core.settings import Settings

logger = logging.getLogger(__name__)

CONVERSATION_KEY = "conversation"
COMMANDS = [BotCommand("start", "Start / Начать / Başla"), BotCommand("language", "Language")]


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
    for message in messages:
        await context.bot.send_message(chat_id=chat_id, text=message.text, reply_markup=reply_markup(message))


def _conversation(context: ContextTypes.DEFAULT_TYPE) -> Conversation:
    conversation: Conversation = context.bot_data[CONVERSATION_KEY]
    return conversation


def _sender(update: Update) -> Sender | None:
    user = update.effective_user
    if user is None or user.is_bot:
        return None
    chat = update.effective_chat
    return Sender(user_id=user.id, language_code=user.language_code, chat_id=chat.id if chat else None)


async def on_text(update: Update, context: ContextTypes.DEFAULT_TYPE) -> None:
    """A typed message or a command that Rasa handles (/start, /language)."""
    sender, message = _sender(update), update.effective_message
    if sender is None or message is None or message.text is None:
        return
    text = message.text
    if text.startswith("/language"):
        text = "/start"
    await context.bot.send_chat_action(chat_id=message.chat_id, action=ChatAction.TYPING)
    replies = await _conversation(context).handle_text(sender, text, message.message_id)
    await send_all(context, message.chat_id, replies)


async def on_button(update: Update, context: ContextTypes.DEFAULT_TYPE) -> None:
    """A tap on an inline button: its callback_data is a Rasa payload such as /choose_language{...}."""
    query, sender = update.callback_query, _sender(update)
    if query is None or sender is None:
        return
    await query.answer()
    if not isinstance(query.message, Message):
        return
    # Remove the keyboard so the same choice cannot be sent twice by a second tap.
    try:
        await query.edit_message_reply_markup(reply_markup=None)
    except BadRequest as error:
        logger.debug("could not remove keyboard: %s", error)
    replies = await _conversation(context).handle_text(sender, query.data or "", query.message.message_id)
    await send_all(context, query.message.chat.id, replies)


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
    logger.error("error while handling an update: %s", type(context.error).__name__, exc_info=context.error)


def register_handlers(application: Application) -> None:  # type: ignore[type-arg]
    private = filters.ChatType.PRIVATE
    application.add_handler(MessageHandler(filters.UpdateType.EDITED_MESSAGE & private, on_edited))
    application.add_handler(CommandHandler(["start", "language"], on_text, filters=private))
    application.add_handler(MessageHandler(filters.TEXT & ~filters.COMMAND & private, on_text))
    application.add_handler(MessageHandler(filters.COMMAND & private, on_unknown_command))
    application.add_handler(CallbackQueryHandler(on_button))
    application.add_handler(MessageHandler(filters.UpdateType.MESSAGE & private, on_other_input))
    application.add_error_handler(on_error)


def build_application(settings: Settings) -> Application:  # type: ignore[type-arg]
    """The PTB application; clients are opened in `open_services`, not at import or build time."""
    assert settings.telegram_bot_token, "build_application needs TELEGRAM_BOT_TOKEN"
    builder: ApplicationBuilder = (  # type: ignore[type-arg]
        Application.builder()
        .token(settings.telegram_bot_token)
        .base_url(settings.telegram_base_url)
        .base_file_url(settings.telegram_base_file_url)
        .rate_limiter(AIORateLimiter(max_retries=3))
    )
    if settings.telegram_mode == "webhook":
        builder = builder.updater(None)
    application = builder.build()
    register_handlers(application)
    return application


async def open_services(application: Application, settings: Settings) -> None:  # type: ignore[type-arg]
    """Runs after `application.initialize()`: PTB calls post_init only from run_polling/run_webhook,
    and we run the application ourselves beside the web app."""
    rasa = RasaClient(settings.rasa_url, settings.rasa_timeout_s)
    application.bot_data[CONVERSATION_KEY] = Conversation(rasa, settings.hash_key())
    await application.bot.set_my_commands(COMMANDS)


async def close_services(application: Application) -> None:  # type: ignore[type-arg]
    conversation = application.bot_data.pop(CONVERSATION_KEY, None)
    if conversation is not None:
        await conversation.aclose()
