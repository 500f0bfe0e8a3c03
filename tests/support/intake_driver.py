"""Drives a whole intake through the Telegram stand-in like a person would: read, tap, type."""

from __future__ import annotations

import time
from dataclasses import dataclass, field
from typing import Any

from actions.intake import DONE, answer_payload
from actions.questions import QUESTIONS, SKIPPED, SUMMARY_CONFIRM
from core.i18n import translate
from core.languages import native_name
from tests.support.telegram_standin import TelegramStandIn, callback_update, text_update, voice_update


@dataclass(frozen=True)
class Tap:
    value: str


@dataclass(frozen=True)
class Type:
    text: str


@dataclass(frozen=True)
class Multi:
    values: tuple[str, ...]


@dataclass(frozen=True)
class Voice:
    file_id: str
    data: bytes = b"OggS-invented-voice"


Step = Tap | Type | Multi | Voice
QUIET_S = 0.5  # no new call for this long: the bot has sent all replies of a turn


def buttons(message: dict[str, Any]) -> dict[str, str]:
    """callback_data -> button text."""
    markup = message.get("reply_markup") or {}
    return {b["callback_data"]: b["text"] for row in markup.get("inline_keyboard", []) for b in row}


@dataclass
class IntakeDriver:
    standin: TelegramStandIn
    user_id: int
    lang: str
    language_code: str | None = None
    transcript: list[dict[str, Any]] = field(default_factory=list)
    message_ids: int = 1000

    # --- low level --------------------------------------------------------------------------
    def settle(
        self, mark: int, method: str, timeout: float = 60, question: bool = False
    ) -> list[dict[str, Any]]:
        """The bot's replies since `mark`: at least one `method` call, then (with `question`) until a
        message with buttons came, then until the bot has been quiet for a moment."""
        self.standin.wait_for_calls(method, chat_id=self.user_id, since=mark, timeout=timeout)
        deadline = time.monotonic() + timeout
        while (
            question
            and time.monotonic() < deadline
            and not any(c.params.get("reply_markup") for c in self._replies_since(mark))
        ):
            time.sleep(0.05)
        count, stable_since = -1, time.monotonic()
        # The message with buttons ends a turn; otherwise wait until the bot has been quiet a while.
        quiet = QUIET_S / 5 if question else QUIET_S
        while time.monotonic() - stable_since < quiet:
            now = len(self.standin.calls)
            if now != count:
                count, stable_since = now, time.monotonic()
            time.sleep(0.05)
        replies = [c.params for c in self._replies_since(mark)]
        self.transcript.extend(replies)
        return replies

    def _replies_since(self, mark: int) -> list[Any]:
        return [
            c
            for c in self.standin.calls[mark:]
            if c.method in ("sendMessage", "editMessageText") and c.params.get("chat_id") == self.user_id
        ]

    def send(self, text: str, question: bool = False) -> list[dict[str, Any]]:
        mark = self.standin.mark()
        self.message_ids += 1
        self.standin.push_update(
            text_update(self.user_id, text, message_id=self.message_ids, language_code=self.language_code)
        )
        return self.settle(mark, "sendMessage", question=question)

    def tap(self, data: str, expect: str = "sendMessage", question: bool = False) -> list[dict[str, Any]]:
        message = self.last_keyboard()
        assert data in buttons(message), f"no button {data!r} in {buttons(message)}"
        mark = self.standin.mark()
        self.standin.push_update(
            callback_update(self.user_id, data, message_id=self._message_id_of(message),
                            language_code=self.language_code, text=message["text"])
        )  # fmt: skip
        return self.settle(mark, expect, question=question)

    def voice(self, step: Voice) -> list[dict[str, Any]]:
        self.standin.add_file(step.file_id, step.data)
        mark = self.standin.mark()
        self.standin.push_update(voice_update(self.user_id, step.file_id, duration=4))
        return self.settle(mark, "sendMessage", question=True)

    def _message_id_of(self, params: dict[str, Any]) -> int:
        for call in reversed(self.standin.calls):
            if call.params is params:
                return int(call.result.get("message_id") or params.get("message_id") or 1)
        raise AssertionError("message not found among the recorded calls")

    def last_keyboard(self) -> dict[str, Any]:
        for message in reversed(self.transcript):
            if message.get("reply_markup"):
                return message
        raise AssertionError("no message with buttons yet")

    # --- high level -------------------------------------------------------------------------
    def start_and_consent(self) -> None:
        self.send("/start", question=True)
        self.tap(
            next(d for d, t in buttons(self.last_keyboard()).items() if t == native_name(self.lang)),
            question=True,
        )
        self.tap("/affirm", question=True)

    def current_question(self) -> str | None:
        """The slot whose question the last keyboard message asks."""
        message = self.last_keyboard()
        for question in QUESTIONS:
            if translate(self.lang, question.text) in message["text"]:
                return question.slot
        if answer_payload(SUMMARY_CONFIRM.code) in buttons(message):
            return "summary_confirmed"
        return None

    def answer(self, step: Step) -> list[dict[str, Any]]:
        if isinstance(step, Tap):
            return self.tap(answer_payload(step.value), question=True)
        if isinstance(step, Type):
            return self.send(step.text, question=True)
        if isinstance(step, Voice):
            return self.voice(step)
        for value in step.values:
            self.tap(answer_payload(value), expect="editMessageText", question=True)
        return self.tap(answer_payload(DONE), question=True)

    def complete(self, answers: dict[str, list[Step]], max_turns: int = 80) -> list[dict[str, Any]]:
        """Answer every question from `answers` (slot -> steps, used in order) until submitted."""
        pending = {slot: list(steps) for slot, steps in answers.items()}
        for _ in range(max_turns):
            slot = self.current_question()
            if slot is None:
                raise AssertionError(f"no known question in {self.last_keyboard()['text']!r}")
            if slot == "summary_confirmed" and not pending.get(slot):
                return self.tap(answer_payload(SUMMARY_CONFIRM.code))  # the last reply has no buttons
            steps = pending.get(slot) or [Tap(SKIPPED)]
            step = steps.pop(0) if len(steps) > 1 else steps[0]
            self.answer(step)
        raise AssertionError("the intake did not finish")
