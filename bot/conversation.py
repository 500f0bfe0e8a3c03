"""The bot's conversation service: what Telegram and the local console chat both go through."""

from __future__ import annotations

import asyncio
import logging
import secrets
from collections.abc import Awaitable, Callable
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from bot.i18n import _
from bot.language import detect, should_switch
from bot.metrics import ERRORS
from bot.pending import PendingTurns
from bot.rasa_client import HealthProbe, RasaClient, RasaUnavailable
from bot.rendering import Button, OutgoingMessage, language_payload, notice, render
from core.languages import DEFAULT_LANGUAGE, native_name, normalise_code
from rasa_plugins.replay import REPLAY_KEY
from storage.crypto import default_cipher
from storage.hashing import subject_hash
from storage.voice import write_voice

logger = logging.getLogger(__name__)

MSG_ONE_MOMENT = _("Thank you, I have your message. Please wait a moment: I will answer soon.")
MSG_TECHNICAL_PROBLEM = _(
    "Sorry, I have a technical problem right now. Please send your message again in a few minutes."
)
MSG_UNSUPPORTED_INPUT = _(
    "Thank you! I can only read text messages and button taps. Please write your answer as text."
)
MSG_UNKNOWN_COMMAND = _(
    "I do not know this command. Send /start to begin or /language to change the language."
)
MSG_OLD_BUTTON = _("This question was already answered. Please use the buttons of the last message.")
VOICE_MARKER = "🎤"
MSG_EDITED = _(
    "I saw that you changed a message. I keep your first answer. "
    "If you want to change an answer, please send it again."
)


MSG_SWITCH_LANGUAGE = _("You seem to write in another language. Which language do you want to use?")


def language_offer(current: str, detected: str) -> OutgoingMessage:
    """Buttons to switch to the language the person writes in, or to stay; never switched silently."""
    buttons = (
        (Button(native_name(detected), language_payload(detected)),),
        (Button(native_name(current), language_payload(current)),),
    )
    return OutgoingMessage(notice(detected, MSG_SWITCH_LANGUAGE).text, detected, buttons)


MAX_ATTEMPTS = 5  # a message Rasa received but failed on is tried this often
REPLAY_CONCURRENCY = 16  # people whose waiting messages are handed to Rasa at the same time

# Sends replies to a chat: (chat id, messages).
Deliver = Callable[[int, list[OutgoingMessage]], Awaitable[None]]


class NothingProcessed(Exception):
    """Rasa answered, but with nothing: an action failed and the turn had no effect."""


@dataclass(frozen=True)
class Sender:
    """Who wrote: the Telegram user id and the language their Telegram app is set to."""

    user_id: int
    language_code: str | None = None
    chat_id: int | None = None


class Conversation:
    def __init__(
        self,
        rasa: RasaClient,
        hash_key: bytes,
        voice_dir: Path | None = None,
        pending: PendingTurns | None = None,
        actions: HealthProbe | None = None,
    ) -> None:
        self._rasa = rasa
        self._hash_key = hash_key
        self._voice_dir = voice_dir
        # Where messages wait while Rasa or the action server is down; without it they are refused.
        self._pending = pending
        self._actions = actions
        # The last language Rasa answered in, per sender: only to word the bot's own notices.
        self._languages: dict[str, str] = {}

    def sender_id(self, sender: Sender) -> str:
        """Rasa and the database only ever see the keyed hash of the Telegram user id."""
        return subject_hash(sender.user_id, self._hash_key)

    def language_for(self, sender: Sender) -> str:
        known = self._languages.get(self.sender_id(sender))
        return known or normalise_code(sender.language_code) or DEFAULT_LANGUAGE

    def store_voice(self, data: bytes, duration_s: float | int, mime_type: str) -> dict[str, Any]:
        """Keep a voice answer in the file store until the action server files it under its profile."""
        if self._voice_dir is None:
            raise RuntimeError("no voice folder configured")
        note_id = secrets.token_urlsafe(12)
        write_voice(self._voice_dir / "pending" / f"{note_id}.ogg", data)
        return {"voice_note_id": note_id, "duration": float(duration_s), "mime_type": mime_type}

    def notice_text(self, sender: Sender, msgid: str) -> str:
        return notice(self.language_for(sender), msgid).text

    async def handle_text(
        self,
        sender: Sender,
        text: str,
        message_id: int | None = None,
        voice: dict[str, Any] | None = None,
        update_id: int | None = None,
        recovered: bool = False,
    ) -> list[OutgoingMessage]:
        """Send a typed text or a button's payload to Rasa and render the replies.

        `update_id` travels to Rasa's tracker with the message. For an update `recovered` after a
        crash of the bot, Rasa may have processed it already: then its recorded replies are sent
        instead of sending the message a second time."""
        sender_id = self.sender_id(sender)
        fallback = self.language_for(sender)
        metadata: dict[str, Any] = {
            "telegram_language": normalise_code(sender.language_code),
            "message_id": message_id,
            "update_id": update_id,
            "chat_language": self._languages.get(sender_id),
        }
        if voice is not None:
            metadata["voice"] = voice
        elif not text.startswith("/"):
            metadata["detected_language"] = detect(text)
        if sender.chat_id is not None:
            # Encrypted, so that Rasa's tracker store never holds the raw chat id.
            metadata["chat_ref"] = default_cipher().encrypt(str(sender.chat_id))
        if recovered:
            # The bot stopped while handling this update: Rasa may have processed it. The intake
            # channel then returns the replies it gave instead of processing it again.
            metadata[REPLAY_KEY] = True
        if self._pending is not None and await self._pending.waiting_for(sender_id):
            # Earlier messages of this person still wait: this one must not overtake them.
            return await self._keep(sender_id, sender.chat_id, text, metadata, fallback)
        if self._actions is not None and not await self._actions.is_healthy():
            logger.warning("the action server does not answer")
            ERRORS.labels("actions_down").inc()
            return await self._keep(sender_id, sender.chat_id, text, metadata, fallback)
        try:
            return await self._exchange(sender_id, text, metadata, fallback)
        except RasaUnavailable as error:
            # Rasa may or may not have processed it (it stopped mid-turn, say): the message waits,
            # and goes again as a replay, which Rasa's intake channel processes at most once.
            logger.warning("Rasa unavailable: %s", error)
            ERRORS.labels("rasa_unavailable").inc()
            return await self._keep(sender_id, sender.chat_id, text, metadata, fallback)
        except NothingProcessed:
            return await self._keep(sender_id, sender.chat_id, text, metadata, fallback)

    async def _exchange(
        self, sender_id: str, text: str, metadata: dict[str, Any], fallback: str
    ) -> list[OutgoingMessage]:
        replies = await self._rasa.send(sender_id, text, metadata)
        messages = render(replies, fallback)
        if not messages:
            # Rasa answers every turn; an empty answer means it swallowed an error (an action
            # failed and its events were dropped): the message is sent again later.
            logger.warning("Rasa answered nothing; the message was not processed")
            ERRORS.labels("rasa_empty_answer").inc()
            raise NothingProcessed
        self._languages[sender_id] = messages[-1].lang
        switch = should_switch(messages[-1].lang, text) if not text.startswith("/") else None
        if switch and any(m.buttons for m in messages):
            # Offered before the open question, whose buttons must stay the newest ones.
            messages.insert(0, language_offer(messages[-1].lang, switch))
        return messages

    async def _keep(
        self, sender_id: str, chat_id: int | None, text: str, metadata: dict[str, Any], fallback: str
    ) -> list[OutgoingMessage]:
        if self._pending is None or chat_id is None:
            return [notice(fallback, MSG_TECHNICAL_PROBLEM)]
        turn = {"chat_id": chat_id, "text": text, "metadata": metadata, "language": fallback}
        await self._pending.add(sender_id, turn)
        logger.info("a message waits until Rasa and the action server answer")
        return [notice(fallback, MSG_ONE_MOMENT)]

    async def process_waiting(self, deliver: Deliver) -> int:
        """Hand the waiting messages to Rasa while Rasa and the action server answer, and `deliver`
        each one's replies; returns how many were processed.

        Each person's messages go in the order they came; different people's go side by side
        (REPLAY_CONCURRENCY at a time), so that after an outage nobody waits for everyone else.
        A waiting message always goes as a replay: if the bot stopped after Rasa processed it and
        before its replies were delivered, Rasa's intake channel returns the replies it gave then
        instead of processing it again. So a message is marked done only once its replies were
        delivered. One that Rasa received but failed on, or whose replies cannot be delivered, is
        tried MAX_ATTEMPTS times; then the person is told (or, if nothing reaches them, it is
        dropped and logged)."""
        if self._pending is None:
            return 0
        limit = asyncio.Semaphore(REPLAY_CONCURRENCY)

        async def one_person(sender_id: str) -> int:
            async with limit:
                return await self._process_waiting_of(sender_id, deliver)

        results = await asyncio.gather(
            *(one_person(sender_id) for sender_id in await self._pending.senders()), return_exceptions=True
        )
        for result in results:
            if isinstance(result, BaseException):
                logger.error("waiting messages could not be processed", exc_info=result)
        return sum(result for result in results if isinstance(result, int))

    async def _process_waiting_of(self, sender_id: str, deliver: Deliver) -> int:
        assert self._pending is not None
        processed = 0
        while (waiting := await self._pending.oldest(sender_id)) is not None:
            if self._actions is not None and not await self._actions.is_healthy():
                return processed
            turn = waiting.turn
            turn["metadata"][REPLAY_KEY] = True
            last_attempt = waiting.attempts + 1 >= MAX_ATTEMPTS
            try:
                messages = await self._exchange(sender_id, turn["text"], turn["metadata"], turn["language"])
            except (RasaUnavailable, NothingProcessed) as error:
                if isinstance(error, RasaUnavailable) and not error.reached:
                    return processed  # Rasa is still down: try again later, the order kept
                if not last_attempt:
                    await self._pending.failed(waiting.id, turn)
                    return processed
                logger.warning("a waiting message failed %s times; the person is told", MAX_ATTEMPTS)
                ERRORS.labels("turn_given_up").inc()
                messages = [notice(turn["language"], MSG_TECHNICAL_PROBLEM)]
            try:
                await deliver(int(turn["chat_id"]), messages)
            except Exception:
                logger.exception("the replies to a waiting message could not be delivered")
                ERRORS.labels("delivery_failed").inc()
                if not last_attempt:
                    await self._pending.failed(waiting.id, turn)
                    return processed
            await self._pending.done(waiting.id)
            processed += 1
        return processed

    def unsupported_input(self, sender: Sender) -> list[OutgoingMessage]:
        return [notice(self.language_for(sender), MSG_UNSUPPORTED_INPUT)]

    async def forget(self, user_id: int) -> str:
        """Drop what the bot remembers of a person, waiting messages too; returns their sender id."""
        sender_id = self.sender_id(Sender(user_id=user_id))
        self._languages.pop(sender_id, None)
        if self._pending is not None:
            await self._pending.forget(sender_id)
        return sender_id

    def unknown_command(self, sender: Sender) -> list[OutgoingMessage]:
        return [notice(self.language_for(sender), MSG_UNKNOWN_COMMAND)]

    async def aclose(self) -> None:
        await self._rasa.aclose()
        if self._actions is not None:
            await self._actions.aclose()

    def edited_message(self, sender: Sender) -> list[OutgoingMessage]:
        return [notice(self.language_for(sender), MSG_EDITED)]
