"""The bot's conversation service: what Telegram and the local console chat both go through."""

from __future__ import annotations

import logging
from dataclasses import dataclass
from typing import Any

from bot.i18n import _
from bot.rasa_client import RasaClient, RasaUnavailable
from bot.rendering import OutgoingMessage, notice, render
from core.languages import DEFAULT_LANGUAGE, normalise_code
from storage.crypto import default_cipher
from storage.hashing import subject_hash

logger = logging.getLogger(__name__)

MSG_TECHNICAL_PROBLEM = _(
    "Sorry, I have a technical problem right now. Please send your message again in a few minutes."
)
MSG_UNSUPPORTED_INPUT = _(
    "Thank you! I can only read text messages and button taps. Please write your answer as text."
)
MSG_UNKNOWN_COMMAND = _(
    "I do not know this command. Send /start to begin or /language to change the language."
)
MSG_EDITED = _(
    "I saw that you changed a message. I keep your first answer. "
    "If you want to change an answer, please send it again."
)


@dataclass(frozen=True)
class Sender:
    """Who wrote: the Telegram user id and the language their Telegram app is set to."""

    user_id: int
    language_code: str | None = None
    chat_id: int | None = None


class Conversation:
    def __init__(self, rasa: RasaClient, hash_key: bytes) -> None:
        self._rasa = rasa
        self._hash_key = hash_key
        # The last language Rasa answered in, per sender: only to word the bot's own notices.
        self._languages: dict[str, str] = {}

    def sender_id(self, sender: Sender) -> str:
        """Rasa and the database only ever see the keyed hash of the Telegram user id."""
        return subject_hash(sender.user_id, self._hash_key)

    def language_for(self, sender: Sender) -> str:
        known = self._languages.get(self.sender_id(sender))
        return known or normalise_code(sender.language_code) or DEFAULT_LANGUAGE

    async def handle_text(
        self, sender: Sender, text: str, message_id: int | None = None
    ) -> list[OutgoingMessage]:
        """Send a typed text or a button's payload to Rasa and render the replies."""
        sender_id = self.sender_id(sender)
        fallback = self.language_for(sender)
        metadata: dict[str, Any] = {
            "telegram_language": normalise_code(sender.language_code),
            "message_id": message_id,
            "chat_language": self._languages.get(sender_id),
        }
        if sender.chat_id is not None:
            # Encrypted, so that Rasa's tracker store never holds the raw chat id.
            metadata["chat_ref"] = default_cipher().encrypt(str(sender.chat_id))
        try:
            replies = await self._rasa.send(sender_id, text, metadata)
        except RasaUnavailable as error:
            logger.warning("Rasa unavailable: %s", error)
            return [notice(fallback, MSG_TECHNICAL_PROBLEM)]
        messages = render(replies, fallback)
        if messages:
            self._languages[sender_id] = messages[-1].lang
        return messages

    def unsupported_input(self, sender: Sender) -> list[OutgoingMessage]:
        return [notice(self.language_for(sender), MSG_UNSUPPORTED_INPUT)]

    def unknown_command(self, sender: Sender) -> list[OutgoingMessage]:
        return [notice(self.language_for(sender), MSG_UNKNOWN_COMMAND)]

    async def aclose(self) -> None:
        await self._rasa.aclose()

    def edited_message(self, sender: Sender) -> list[OutgoingMessage]:
        return [notice(self.language_for(sender), MSG_EDITED)]
