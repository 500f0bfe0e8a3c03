"""Reading what Rasa answered to one message from tracker events (rasa_plugins/replay.py): what the
intake channel returns when the bot sends a message again."""

from __future__ import annotations

from typing import Any

from rasa_plugins.replay import replies_after


def test_replies_after_reads_the_answers_to_one_message_from_tracker_events() -> None:
    events: list[dict[str, Any]] = [
        {"event": "user", "text": "a", "metadata": {"update_id": 1}},
        {"event": "bot", "text": "one", "data": {}},
        {"event": "action", "name": "action_listen"},
        {"event": "user", "text": "b", "metadata": {"update_id": 2}},
        {"event": "action", "name": "action_listen"},  # b had no effect (an action failed)
        {"event": "user", "text": "b", "metadata": {"update_id": 2}},  # sent again
        {"event": "bot", "text": None, "data": {"custom": {"text": "two"}, "buttons": None}},
        {"event": "bot", "text": "three", "data": {"buttons": [{"title": "x", "payload": "/x"}]}},
        {"event": "user", "text": "c", "metadata": {"update_id": 3}},
    ]
    assert replies_after(events, "update_id", 1) == [{"text": "one"}]
    assert replies_after(events, "update_id", 2) == [
        {"custom": {"text": "two"}},
        {"text": "three", "buttons": [{"title": "x", "payload": "/x"}]},
    ]
    assert replies_after(events, "update_id", 3) is None  # not answered (yet)
    assert replies_after(events, "update_id", 4) is None  # never seen
    assert replies_after(events[:5], "update_id", 2) is None  # seen, but without effect


def test_a_message_without_metadata_or_of_another_key_is_not_taken_for_it() -> None:
    events: list[dict[str, Any]] = [
        {"event": "user", "text": "a"},
        {"event": "bot", "text": "one"},
        {"event": "user", "text": "b", "metadata": {"message_id": 7}},
        {"event": "bot", "text": "two"},
    ]
    assert replies_after(events, "update_id", 7) is None
    assert replies_after(iter(events), "message_id", 7) == [{"text": "two"}]
