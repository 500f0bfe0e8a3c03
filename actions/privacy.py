"""The person's rights in the chat: /mydata shows everything stored, /delete erases it."""

from __future__ import annotations

import json
import logging
import shutil
from typing import Any

from rasa_sdk import Action, Tracker
from rasa_sdk.events import ActiveLoop, EventType, FollowupAction, Restarted
from rasa_sdk.executor import CollectingDispatcher
from rasa_sdk.types import DomainDict

from actions.actions import chat_language, reply
from actions.intake import summary_payload
from actions.store import unit_of_work
from core.i18n import gettext_noop as _
from core.settings import get_settings
from storage.coach_models import DeletionReason
from storage.repository import ParticipantRepository, ProfileRepository

logger = logging.getLogger(__name__)

MSG_NOTHING_STORED = _("Nothing is stored about you.")
MSG_MY_DATA = _("This is everything we store about you. The file has the same data for computers.")
MSG_ASK_DELETE = _("Do you want to delete all your answers? This cannot be undone.")
MSG_DELETE_YES = _("Yes, delete everything")
MSG_DELETE_NO = _("No, keep my answers")
MSG_DELETED = _("Your answers are deleted. If you want to start again, send /start.")
MSG_NOT_DELETED = _("OK, nothing was deleted.")


def stored_data(sender_id: str) -> dict[str, Any] | None:
    """Everything stored about a sender: the participant record and each profile, as exported."""
    with unit_of_work() as session:
        participant = ParticipantRepository(session).get_by_subject(sender_id)
        if participant is None:
            return None
        profiles = ProfileRepository(session).all_for(participant)
        given_at = participant.consent_given_at
        return {
            "consent": {"version": participant.consent_version, "language": participant.consent_language,
                        "given_at": given_at.isoformat() if given_at else None},
            "chat_language": participant.chat_language,
            "profiles": [
                {"profile_id": p.id, "status": str(p.status), "created_at": p.created_at.isoformat(),
                 "submitted_at": p.submitted_at.isoformat() if p.submitted_at else None, **p.answers}
                for p in profiles
            ],
        }  # fmt: skip


class ActionShowMyData(Action):
    def name(self) -> str:
        return "action_show_my_data"

    async def run(
        self, dispatcher: CollectingDispatcher, tracker: Tracker, domain: DomainDict
    ) -> list[EventType]:
        lang = chat_language(tracker)
        data = stored_data(tracker.sender_id)
        if data is None:
            reply(dispatcher, lang, MSG_NOTHING_STORED)
            return []
        payload = {"lang": lang, "text": MSG_MY_DATA, **summary_payload(tracker, lang)}
        payload.pop("edit_buttons")
        payload["document"] = {
            "filename": "my-data.json",
            "content": json.dumps(data, ensure_ascii=False, indent=2, default=str),
        }
        dispatcher.utter_message(json_message=payload)
        return []


class ActionAskDelete(Action):
    def name(self) -> str:
        return "action_ask_delete"

    async def run(
        self, dispatcher: CollectingDispatcher, tracker: Tracker, domain: DomainDict
    ) -> list[EventType]:
        buttons = [
            {"title": MSG_DELETE_YES, "payload": "/confirm_delete", "row": True},
            {"title": MSG_DELETE_NO, "payload": "/deny", "row": True},
        ]
        dispatcher.utter_message(
            json_message={"lang": chat_language(tracker), "text": MSG_ASK_DELETE, "buttons": buttons}
        )
        # The questions pause while this one is open (nlu/rules.yml: "active_loop: null"); "no"
        # brings the person back to them (action_keep_data).
        return [ActiveLoop(None)]


class ActionDeleteMyData(Action):
    """Erases the participant, their profiles and voice files; the bot then erases the conversation."""

    def name(self) -> str:
        return "action_delete_my_data"

    async def run(
        self, dispatcher: CollectingDispatcher, tracker: Tracker, domain: DomainDict
    ) -> list[EventType]:
        lang = chat_language(tracker)
        voice_dir = get_settings().data_dir / "voice"
        with unit_of_work() as session:
            participants = ParticipantRepository(session)
            participant = participants.get_by_subject(tracker.sender_id)
            if participant is not None:
                for profile in ProfileRepository(session).all_for(participant):
                    shutil.rmtree(voice_dir / profile.id, ignore_errors=True)
                participants.delete(participant, reason=DeletionReason.PARTICIPANT_REQUEST)
        logger.info("participant data erased on request")
        # "erase_conversation" tells the bot to delete this sender's tracker events and its own state.
        dispatcher.utter_message(json_message={"lang": lang, "text": MSG_DELETED, "erase_conversation": True})
        return [Restarted()]


class ActionKeepData(Action):
    def name(self) -> str:
        return "action_keep_data"

    async def run(
        self, dispatcher: CollectingDispatcher, tracker: Tracker, domain: DomainDict
    ) -> list[EventType]:
        reply(dispatcher, chat_language(tracker), MSG_NOT_DELETED)
        return [FollowupAction("action_start")] if tracker.get_slot("consent_given") else []
