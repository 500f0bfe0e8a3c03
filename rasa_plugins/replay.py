"""What Rasa already answered to a message that comes a second time: read from tracker events.

Pure functions on events as dictionaries (Rasa's `Event.as_dict()` format), so that they are
tested without Rasa (tests/unit/test_replay.py). Used by rasa_plugins/channel.py."""

from __future__ import annotations

from collections.abc import Iterable
from typing import Any

# The metadata key that names a message (the Telegram update id), and the one that marks a copy
# the bot sends again because it cannot know whether Rasa processed the first one.
MESSAGE_KEY = "update_id"
REPLAY_KEY = "replay"

# What a bot event of the tracker carries, in the REST channel's reply format.
REPLY_FIELDS = ("buttons", "image", "attachment", "custom")


def replies_after(events: Iterable[dict[str, Any]], key: str, value: Any) -> list[dict[str, Any]] | None:
    """The bot messages that followed the last user message whose metadata has `key` = `value`, up
    to the next user message, in the REST channel's format (without `recipient_id`).

    None when there is no such user message, or when nothing followed it: then Rasa logged the
    message but it had no effect (an action failed and Rasa dropped its events), and the message
    is to be processed again."""
    events = list(events)
    start = None
    for position, event in enumerate(events):
        if event.get("event") == "user" and (event.get("metadata") or {}).get(key) == value:
            start = position
    if start is None:
        return None
    replies: list[dict[str, Any]] = []
    for event in events[start + 1 :]:
        if event.get("event") == "user":
            break
        if event.get("event") == "bot":
            data = event.get("data") or {}
            reply = {name: data[name] for name in REPLY_FIELDS if data.get(name)}
            if event.get("text"):
                reply["text"] = event["text"]
            if reply:
                replies.append(reply)
    return replies or None
