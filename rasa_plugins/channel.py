"""The bot's channel into Rasa: Rasa's REST channel, safe to send a message to twice.

Configured in credentials.yml; served at /webhooks/intake/webhook. Request and reply have the REST
channel's format: {"sender", "message", "metadata"} in, a list of {"recipient_id", "text", ...} out.
"""

from __future__ import annotations

import functools
import logging
from collections.abc import Awaitable, Callable
from contextvars import ContextVar
from typing import Any

from jsonschema.exceptions import best_match
from jsonschema.validators import validator_for
from rasa.core.actions.action import ActionExecutionRejection, RemoteAction
from rasa.core.channels.channel import CollectingOutputChannel, InputChannel, UserMessage
from rasa.core.processor import MessageProcessor
from rasa.shared.constants import DOCS_BASE_URL
from rasa.shared.core.events import UserUttered
from rasa.shared.core.trackers import EventVerbosity
from sanic import Blueprint, response
from sanic.request import Request
from sanic.response import HTTPResponse

from rasa_plugins.replay import MESSAGE_KEY, REPLAY_KEY, replies_after

logger = logging.getLogger(__name__)


class TurnFailed(Exception):
    """A custom action failed during the turn: the turn is not saved, it may be sent again."""


# The custom actions that failed during the turn the intake channel is processing (None outside).
_failed_actions: ContextVar[list[str] | None] = ContextVar("failed_actions", default=None)


async def _run_remote_action(self: RemoteAction, *args: Any, **kwargs: Any) -> Any:
    try:
        return await _remote_action_run(self, *args, **kwargs)
    except ActionExecutionRejection:  # a form declining a value: part of the dialogue
        raise
    except Exception:
        failed = _failed_actions.get()
        if failed is not None:
            failed.append(self.name())
        raise


async def _save_tracker(self: MessageProcessor, tracker: Any) -> None:
    failed = _failed_actions.get()
    if failed:
        raise TurnFailed(", ".join(failed))
    await _processor_save_tracker(self, tracker)


@functools.cache
def _action_result_validator() -> Any:
    """The validator of the action server's answers, built (and its schema checked) once."""
    spec = RemoteAction.action_response_format_spec()
    cls = validator_for(spec)
    cls.check_schema(spec)
    return cls(spec)


def _validate_action_result(self: RemoteAction, result: dict[str, Any]) -> bool:
    """As Rasa's `RemoteAction._validate_action_result`, which calls `jsonschema.validate` for
    every action call: that checks the schema itself against its metaschema each time, and took
    about a third of Rasa's CPU time in `make bench` (py-spy). Same checks, same error."""
    error = best_match(_action_result_validator().iter_errors(result))
    if error is not None:
        error.message += (
            ". Failed to validate Action server response from API, make sure your response from the "
            "Action endpoint is valid. For more information about the format visit "
            f"{DOCS_BASE_URL}/custom-actions"
        )
        raise error
    return True


RemoteAction._validate_action_result = _validate_action_result  # type: ignore[method-assign]


def _action_call_format(self: RemoteAction, tracker: Any, domain: Any) -> dict[str, Any]:
    """As Rasa's `RemoteAction._action_call_format`, with the tracker's events from the person's
    latest message on instead of the whole conversation.

    Rasa serialises every event of the conversation for every custom action call (two or three per
    turn); at the end of an intake that is several hundred events, and it was about a tenth of
    Rasa's CPU time in `make bench` (py-spy). The actions (actions/) read only this turn's events,
    as rasa-sdk's form validation does (`Tracker.slots_to_validate`); slots, the latest message,
    the active loop and the latest action are sent in full, as before."""
    body = _rasa_action_call_format(self, _WithoutEvents(tracker), domain)
    body["tracker"]["events"] = [event.as_dict() for event in events_of_this_turn(tracker.events)]
    return body


def events_of_this_turn(events: Any) -> list[Any]:
    """The events from the latest user message on (all of them when there is none)."""
    turn: list[Any] = []
    for event in reversed(events):
        turn.append(event)
        if isinstance(event, UserUttered):
            break
    turn.reverse()
    return turn


class _WithoutEvents:
    """A tracker whose `current_state` leaves the events out, for `_action_call_format`."""

    def __init__(self, tracker: Any) -> None:
        self._tracker = tracker

    def current_state(self, *_args: Any, **_kwargs: Any) -> dict[str, Any]:
        return self._tracker.current_state(EventVerbosity.NONE)

    def __getattr__(self, name: str) -> Any:
        return getattr(self._tracker, name)


_rasa_action_call_format = RemoteAction._action_call_format
RemoteAction._action_call_format = _action_call_format  # type: ignore[method-assign]


# Rasa catches a failing custom action, logs it and goes on with the turn without the action's
# events: slots the form's validation set and the question an ask action would have sent are
# lost, while the rest of the turn is saved. Such a turn cannot be repeated safely (the message
# would answer the next question) nor left as it is (no question is open). In the intake channel a
# turn is all or nothing instead: if a custom action failed, nothing of the turn is saved and the
# request fails, so the bot sends the message again when the action server is back.
_remote_action_run = RemoteAction.run
_processor_save_tracker = MessageProcessor.save_tracker
RemoteAction.run = _run_remote_action  # type: ignore[method-assign]
MessageProcessor.save_tracker = _save_tracker  # type: ignore[method-assign]


class IntakeInput(InputChannel):
    """Rasa's REST channel with three differences.

    1. Exactly-once effect. A message whose metadata says `replay` is checked against the
       conversation's tracker while the conversation's lock is held: if Rasa already processed a
       message with the same `update_id`, the replies it gave are returned and the message is not
       processed again. The lock matters: the first copy may still be in progress (the bot's read
       timed out while Rasa worked on it); a look at the tracker outside the lock would not see it
       yet, and the copy would be processed a second time right after it.
    2. A failure is an HTTP 500. Rasa's REST channel answers 200 with whatever it had collected
       when processing failed (and logs the user's text at ERROR); the bot could not tell that
       from an answer.
    3. A turn is all or nothing: if a custom action failed (the action server is down, say),
       nothing of it is saved, and the answer is a 500 (see _save_tracker above)."""

    @classmethod
    def name(cls) -> str:
        return "intake"

    def blueprint(self, on_new_message: Callable[[UserMessage], Awaitable[Any]]) -> Blueprint:
        webhook = Blueprint("intake_webhook", __name__)

        @webhook.route("/", methods=["GET"])
        async def health(request: Request) -> HTTPResponse:
            return response.json({"status": "ok"})

        @webhook.route("/webhook", methods=["POST"])
        async def receive(request: Request) -> HTTPResponse:
            try:
                body = request.json
            except Exception:  # sanic raises on a body that is not JSON
                body = None
            sender_id = body.get("sender") if isinstance(body, dict) else None
            text = body.get("message") if isinstance(body, dict) else None
            metadata = (body.get("metadata") or {}) if isinstance(body, dict) else None
            if not isinstance(sender_id, str) or not sender_id or not isinstance(text, str):
                return response.json({"error": "sender and message are required"}, status=400)
            if not isinstance(metadata, dict):
                return response.json({"error": "metadata must be an object"}, status=400)
            agent = getattr(request.app.ctx, "agent", None)
            if agent is None or not agent.is_ready():
                return response.json({"error": "no model is loaded"}, status=503)
            collector = CollectingOutputChannel()
            message = UserMessage(text, collector, sender_id, input_channel=self.name(), metadata=metadata)
            _failed_actions.set([])
            try:
                # The lock Agent.handle_message takes, taken here so that the check and the
                # processing are one step for the conversation (also across replicas: Redis).
                async with agent.lock_store.lock(sender_id):
                    if metadata.get(REPLAY_KEY) and metadata.get(MESSAGE_KEY) is not None:
                        known = await answered(agent, sender_id, metadata[MESSAGE_KEY])
                        if known is not None:
                            logger.info("a message came again that was processed: its replies are returned")
                            return response.json([{"recipient_id": sender_id, **reply} for reply in known])
                    await agent.processor.handle_message(message)
            except TurnFailed as failed:
                logger.warning("custom actions failed (%s): the turn was not saved", failed)
                return response.json({"error": "an action failed; the turn was not saved"}, status=500)
            except Exception:  # the traceback, never the text
                logger.exception("a message could not be processed")
                return response.json({"error": "the message could not be processed"}, status=500)
            return response.json(collector.messages)

        return webhook


async def answered(agent: Any, sender_id: str, update_id: Any) -> list[dict[str, Any]] | None:
    """The replies Rasa gave to the message `update_id` of this conversation, if it processed it."""
    tracker = await agent.tracker_store.retrieve_full_tracker(sender_id)
    if tracker is None:
        return None
    return replies_after((event.as_dict() for event in tracker.events), MESSAGE_KEY, update_id)
