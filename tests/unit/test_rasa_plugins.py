"""The code that runs inside Rasa (rasa_plugins/), run in Rasa's own environment: the tracker store
encrypts every event, refuses to fall back to memory when its database fails and recovers when it
is back, and the action timeout stays shorter than the conversation lock."""

from __future__ import annotations

import textwrap
from pathlib import Path

import pytest
from pydantic import ValidationError

from core.processes import rasa_endpoint_env
from core.settings import Settings
from tests.support.in_rasa import run_in_rasa

CHECK = textwrap.dedent(
    """
    import asyncio, json, os, shutil, sys
    from rasa.core import lock_store
    from rasa.core.actions import action
    from rasa.core.agent import Agent
    from rasa.shared.core.domain import Domain
    from rasa.shared.core.events import SlotSet, UserUttered
    from rasa.shared.core.trackers import DialogueStateTracker
    from rasa_plugins.tracker_store import EncryptedSQLTrackerStore

    db = sys.argv[1]
    domain = Domain.load("domain.yml")
    store = EncryptedSQLTrackerStore(
        domain=domain, dialect="sqlite", host=f"sqlite:///{db}",
        encryption_keys=os.environ["ENCRYPTION_KEYS"], action_timeout_s=os.environ["ACTION_TIMEOUT_S"],
    )
    agent_store = Agent._create_tracker_store(store, domain)
    result = {
        "action_timeout": action.DEFAULT_REQUEST_TIMEOUT,
        "lock_lifetime": lock_store.LOCK_LIFETIME,
        "wrapped_in_fail_safe": agent_store is not store,
    }

    async def main():
        tracker = DialogueStateTracker("someone", domain.slots)
        intent = {"name": "answer", "confidence": 1.0}
        tracker.update(UserUttered("Mein Name ist Oswinda Krautheimer", intent))
        tracker.update(SlotSet("display_name", "Oswinda Krautheimer"))
        await agent_store.save(tracker)
        back = await agent_store.retrieve("someone")
        result["read_back"] = [back.get_slot("display_name"), back.latest_message.text]
        with open(db, "rb") as raw:
            result["clear_in_file"] = b"Krautheimer" in raw.read()
        shutil.move(db, db + ".away")  # the database is gone
        os.mkdir(db)
        try:
            await agent_store.retrieve("someone")
            result["when_down"] = "answered"
        except Exception as error:
            result["when_down"] = type(error).__name__
        os.rmdir(db)
        shutil.move(db + ".away", db)  # and back
        back = await agent_store.retrieve("someone")
        result["after_recovery"] = back.get_slot("display_name")

    asyncio.run(main())
    print(json.dumps(result))
    """
)


def test_the_tracker_store_inside_rasa(tmp_path: Path) -> None:
    settings = Settings(DATA_DIR=tmp_path, ACTION_TIMEOUT_S=15, RASA_LOCK_LIFETIME_S=90)
    found = run_in_rasa(CHECK, str(tmp_path / "tracker.db"), env=rasa_endpoint_env(settings))
    assert found == {
        "action_timeout": 15.0,
        "lock_lifetime": 90,
        "wrapped_in_fail_safe": False,
        "read_back": ["Oswinda Krautheimer", "Mein Name ist Oswinda Krautheimer"],
        "clear_in_file": False,
        "when_down": "OperationalError",  # refused, not answered from a blank conversation
        "after_recovery": "Oswinda Krautheimer",
    }


def test_the_conversation_lock_must_outlive_the_longest_turn() -> None:
    with pytest.raises(ValidationError, match="RASA_LOCK_LIFETIME_S"):
        Settings(ACTION_TIMEOUT_S=30, RASA_LOCK_LIFETIME_S=60)
    defaults = Settings()
    assert defaults.rasa_lock_lifetime_s >= 5 * defaults.action_timeout_s


VALIDATION_CHECK = textwrap.dedent(
    """
    import json
    import jsonschema
    from rasa.core.actions.action import RemoteAction
    import rasa_plugins.channel  # replaces RemoteAction._validate_action_result

    action = RemoteAction("action_x", None)
    spec = RemoteAction.action_response_format_spec()
    cases = [
        {"events": [{"event": "slot", "name": "a", "value": 1}], "responses": [{"text": "hi"}]},
        {"events": []},
        {"events": "not a list"},
        {"events": [{"no_event_key": 1}]},
        {"responses": [{"text": 7}]},
    ]
    result = []
    for case in cases:
        try:
            jsonschema.validate(case, spec)
            rasa_says = "valid"
        except jsonschema.ValidationError as error:
            rasa_says = error.message
        try:
            ours = "valid" if action._validate_action_result(case) else "?"
        except jsonschema.ValidationError as error:
            ours = error.message
        result.append([rasa_says, ours])
    print(json.dumps(result))
    """
)


def test_action_answers_are_validated_as_rasa_does_with_the_schema_checked_once() -> None:
    # Rasa checks its own schema against the metaschema at every action call (about 18 ms, a
    # third of its CPU under load); rasa_plugins/channel.py builds the validator once. The
    # verdicts and messages must stay Rasa's.
    verdicts = run_in_rasa(VALIDATION_CHECK)
    assert verdicts[0] == verdicts[1] == ["valid", "valid"]
    assert verdicts[2][0] != "valid"  # events that are not a list
    for rasa_says, ours in verdicts:
        if rasa_says == "valid":
            assert ours == "valid"
        else:
            assert ours.startswith(rasa_says + ". Failed to validate Action server response")


SAVE_CHECK = textwrap.dedent(
    """
    import asyncio, json, os, sqlite3, sys
    from rasa.shared.core.domain import Domain
    from rasa.shared.core.events import ActionExecuted, SessionStarted, SlotSet, UserUttered
    from rasa.shared.core.trackers import DialogueStateTracker
    from rasa_plugins.tracker_store import EVENT_CONTEXT, EncryptedSQLTrackerStore

    db = sys.argv[1]
    domain = Domain.load("domain.yml")
    store = EncryptedSQLTrackerStore(
        domain=domain, dialect="sqlite", host=f"sqlite:///{db}",
        encryption_keys=os.environ["ENCRYPTION_KEYS"],
    )
    intent = {"name": "answer", "confidence": 1.0}
    clock = iter(range(1000, 2000))

    def turn(tracker, text):
        tracker.update(UserUttered(text, intent, timestamp=next(clock)))
        tracker.update(SlotSet("display_name", text, timestamp=next(clock)))
        tracker.update(ActionExecuted("action_listen", timestamp=next(clock)))

    def stored_texts():
        with sqlite3.connect(db) as connection:
            rows = connection.execute("SELECT data FROM events WHERE sender_id = 'p' ORDER BY id").fetchall()
        events = [json.loads(store._cipher.decrypt(data, EVENT_CONTEXT)) for (data,) in rows]
        named = [event.get("text") or event.get("name") or event["event"] for event in events
                 if event["event"] != "slot"]
        return named

    async def main():
        result = {}
        tracker = DialogueStateTracker("p", domain.slots)  # new: counted in the database (0)
        turn(tracker, "one")
        await store.save(tracker)
        await store.save(tracker)  # saved twice: nothing new
        tracker = await store.retrieve("p")
        turn(tracker, "two")
        await store.save(tracker)
        turn(tracker, "three")  # same object, saved again
        await store.save(tracker)
        stale = DialogueStateTracker.from_dict("p", [e.as_dict() for e in tracker.events], domain.slots)
        turn(stale, "four")  # a tracker this store did not hand out: counted, not guessed
        await store.save(stale)
        tracker = await store.retrieve("p")
        tracker.update(SessionStarted(timestamp=next(clock)))
        turn(tracker, "five")
        await store.save(tracker)
        tracker = await store.retrieve("p")  # the new session only
        result["session"] = [e.text for e in tracker.events if isinstance(e, UserUttered)]
        turn(tracker, "six")
        await store.save(tracker)
        full = await store.retrieve_full_tracker("p")
        result["full"] = [e.text for e in full.events if isinstance(e, UserUttered)]
        result["stored"] = stored_texts()
        with sqlite3.connect(db) as connection:
            result["journal_mode"] = connection.execute("PRAGMA journal_mode").fetchone()[0]
        print(json.dumps(result))

    asyncio.run(main())
    """
)


def test_the_tracker_store_saves_each_event_once_without_counting_them_at_every_save(
    tmp_path: Path,
) -> None:
    # Rasa counts a conversation's stored events at every save; the store remembers the count on
    # the trackers it hands out. Whatever the tracker's history, every event is stored once, in order.
    found = run_in_rasa(SAVE_CHECK, str(tmp_path / "tracker.db"))
    assert found == {
        "session": ["five"],
        "full": ["one", "two", "three", "four", "five", "six"],
        "stored": [
            "one", "action_listen", "two", "action_listen", "three", "action_listen",
            "four", "action_listen", "session_started", "five", "action_listen", "six", "action_listen",
        ],
        "journal_mode": "wal",
    }  # fmt: skip


CALL_FORMAT_CHECK = textwrap.dedent(
    """
    import json
    from rasa.core.actions.action import RemoteAction
    from rasa.shared.core.domain import Domain
    from rasa.shared.core.events import ActionExecuted, ActiveLoop, SlotSet, UserUttered
    from rasa.shared.core.trackers import DialogueStateTracker
    rasa_format = RemoteAction._action_call_format
    import rasa_plugins.channel  # replaces RemoteAction._action_call_format

    domain = Domain.load("domain.yml")
    tracker = DialogueStateTracker("p", domain.slots)
    intent = {"name": "answer", "confidence": 1.0}
    for text in ["one", "two"]:
        tracker.update(UserUttered(text, intent, timestamp=1))
        tracker.update(SlotSet("display_name", text, timestamp=2))
        tracker.update(ActiveLoop("intake_form", timestamp=3))
        tracker.update(ActionExecuted("action_listen", timestamp=4))
    tracker.update(UserUttered("three", intent, timestamp=5))
    tracker.update(ActionExecuted("intake_form", timestamp=6))
    tracker.update(SlotSet("requested_slot", "age_group", timestamp=7))
    action = RemoteAction("validate_intake_form", None)
    ours, rasas = action._action_call_format(tracker, domain), rasa_format(action, tracker, domain)
    print(json.dumps({
        "events": [e.get("text") or e.get("name") for e in ours["tracker"]["events"]],
        "rasa_events": len(rasas["tracker"]["events"]),
        "rest_equal": {**ours, "tracker": {**ours["tracker"], "events": None}}
                      == {**rasas, "tracker": {**rasas["tracker"], "events": None}},
        "events_equal_rasa_tail": ours["tracker"]["events"] == rasas["tracker"]["events"][-3:],
    }))
    """
)


def test_custom_actions_get_this_turns_events_and_everything_else_as_rasa_sends_it() -> None:
    assert run_in_rasa(CALL_FORMAT_CHECK) == {
        "events": ["three", "intake_form", "requested_slot"],
        "rasa_events": 11,
        "rest_equal": True,
        "events_equal_rasa_tail": True,
    }
