"""Custom actions of the first slice of the intake: chat language and consent."""

from __future__ import annotations

import logging
from typing import Any

from rasa_sdk import Action, Tracker
from rasa_sdk.events import EventType, SlotSet
from rasa_sdk.executor import CollectingDispatcher

from actions.parsing import chat_language_from_entities
from actions.store import unit_of_work
from core.languages import DEFAULT_LANGUAGE, normalise_code
from core.settings import get_settings
from storage.crypto import DecryptionError, default_cipher
from storage.repository import ParticipantRepository, ProfileRepository

logger = logging.getLogger(__name__)


def _chat_language(tracker: Tracker) -> str:
    slot = tracker.get_slot("chat_language")
    if slot:
        return str(slot)
    metadata = tracker.latest_message.get("metadata") or {}
    return normalise_code(metadata.get("telegram_language")) or DEFAULT_LANGUAGE


def chat_id_from(tracker: Tracker) -> str | None:
    """The chat id the bot sent encrypted in the message metadata (never in clear in the tracker)."""
    chat_ref = (tracker.latest_message.get("metadata") or {}).get("chat_ref")
    if not chat_ref:
        return None
    try:
        return default_cipher().decrypt(str(chat_ref))
    except DecryptionError:
        logger.warning("chat reference could not be decrypted")
        return None


def reply(dispatcher: CollectingDispatcher, lang: str, text: str, **params: Any) -> None:
    """Send a reply in the bot's custom payload format (see bot/rendering.py)."""
    payload: dict[str, Any] = {"lang": lang, "text": text}
    if params:
        payload["params"] = params
    dispatcher.utter_message(json_message=payload)


class ActionSetChatLanguage(Action):
    """Stores the language chosen by button or typed name; nothing personal is stored before consent."""

    def name(self) -> str:
        return "action_set_chat_language"

    async def run(
        self, dispatcher: CollectingDispatcher, tracker: Tracker, domain: dict[str, Any]
    ) -> list[EventType]:
        code = chat_language_from_entities(tracker.latest_message.get("entities", []))
        if code is None:
            return [SlotSet("chat_language", _chat_language(tracker))]
        return [SlotSet("chat_language", code), SlotSet("chat_language_source", "chosen")]


class ActionRecordConsent(Action):
    """Creates the participant and a draft profile, with the consent's version, time and language."""

    def name(self) -> str:
        return "action_record_consent"

    async def run(
        self, dispatcher: CollectingDispatcher, tracker: Tracker, domain: dict[str, Any]
    ) -> list[EventType]:
        settings = get_settings()
        lang = _chat_language(tracker)
        # The bot sends the keyed hash of the Telegram user id as sender id, never the raw id.
        with unit_of_work() as session:
            participants = ParticipantRepository(session)
            participant = participants.get_or_create(tracker.sender_id)
            source = tracker.get_slot("chat_language_source") or "telegram_client"
            participants.set_chat_language(participant, lang, source)
            participants.record_consent(participant, settings.consent_version, lang)
            participant.telegram_chat_id = chat_id_from(tracker)
            profile = ProfileRepository(session).draft_for(participant)
            ProfileRepository(session).set_answer(profile, "/languages/chat", lang)
        logger.info("consent recorded")
        return [SlotSet("consent_given", True)]


class ActionDeclineConsent(Action):
    """Ends politely, stores nothing, and says how to reach the counselling office."""

    def name(self) -> str:
        return "action_decline_consent"

    async def run(
        self, dispatcher: CollectingDispatcher, tracker: Tracker, domain: dict[str, Any]
    ) -> list[EventType]:
        reply(
            dispatcher,
            _chat_language(tracker),
            "That is fine. Nothing was saved. You can still talk to the return counselling office: "
            "{contact}. If you change your mind, send /start.",
            contact=get_settings().counselling_contact,
        )
        return [SlotSet("consent_given", False)]
