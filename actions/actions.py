"""Custom actions of the first slice of the intake: chat language and consent."""

from __future__ import annotations

import logging
from typing import Any

from rasa_sdk import Action, Tracker
from rasa_sdk.events import EventType, FollowupAction, SlotSet
from rasa_sdk.executor import CollectingDispatcher

from actions.parsing import chat_language_from_entities
from actions.store import unit_of_work
from core.i18n import gettext_noop as _
from core.languages import DEFAULT_LANGUAGE, is_supported, normalise_code
from core.settings import get_settings
from storage.crypto import DecryptionError, default_cipher
from storage.repository import ParticipantRepository, ProfileRepository, count_intake_start

logger = logging.getLogger(__name__)


def chat_language(tracker: Tracker) -> str:
    """The chosen language; before a choice, the detected one, then the Telegram app's, then English."""
    slot = tracker.get_slot("chat_language")
    if slot:
        return str(slot)
    return (
        detected_language(tracker)
        or normalise_code((tracker.latest_message.get("metadata") or {}).get("telegram_language"))
        or DEFAULT_LANGUAGE
    )


def detected_language(tracker: Tracker) -> str | None:
    """The language the bot detected in the last typed message, if it was confident."""
    detected = (tracker.latest_message.get("metadata") or {}).get("detected_language")
    return str(detected) if is_supported(detected) else None


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


MSG_LANGUAGE_CHANGED = _("OK, from now on I write in this language.")


def count_start_once(tracker: Tracker) -> list[EventType]:
    """Count this conversation once in the anonymous monthly count of intakes started (the funnel's
    first step; it holds no identifier, so it may be counted before consent)."""
    if tracker.get_slot("intake_counted"):
        return []
    with unit_of_work() as session:
        count_intake_start(session)
    return [SlotSet("intake_counted", True)]


class ActionSetChatLanguage(Action):
    """Stores the language chosen by button or typed name; nothing personal is stored before consent.

    Before consent, consent is asked next (in the new language); during the intake, the open
    question is asked again in the new language.
    """

    def name(self) -> str:
        return "action_set_chat_language"

    async def run(
        self, dispatcher: CollectingDispatcher, tracker: Tracker, domain: dict[str, Any]
    ) -> list[EventType]:
        code = chat_language_from_entities(tracker.latest_message.get("entities", []))
        events: list[EventType] = [SlotSet("chat_language", code or chat_language(tracker))]
        if code:
            events.append(SlotSet("chat_language_source", "chosen"))
        if not tracker.get_slot("consent_given"):
            return [*count_start_once(tracker), *events, FollowupAction("utter_ask_consent")]
        reply(dispatcher, code or chat_language(tracker), MSG_LANGUAGE_CHANGED)
        if code:
            with unit_of_work() as session:
                participants = ParticipantRepository(session)
                participant = participants.get_by_subject(tracker.sender_id)
                if participant is not None:
                    participants.set_chat_language(participant, code, "chosen")
        if tracker.get_slot("intake_status") == "submitted":
            return events
        return [*events, FollowupAction("intake_form")]


class ActionRecordConsent(Action):
    """Creates the participant and a draft profile, with the consent's version, time and language."""

    def name(self) -> str:
        return "action_record_consent"

    async def run(
        self, dispatcher: CollectingDispatcher, tracker: Tracker, domain: dict[str, Any]
    ) -> list[EventType]:
        settings = get_settings()
        lang = chat_language(tracker)
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
            chat_language(tracker),
            "That is fine. Nothing was saved. You can still talk to the return counselling office: "
            "{contact}. If you change your mind, send /start.",
            contact=get_settings().counselling_contact,
        )
        return [SlotSet("consent_given", False)]
