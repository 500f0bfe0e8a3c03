"""Simulated people doing whole intakes at once: through the Telegram stand-in and the bot, or
straight to Rasa's REST channel with the same messages. Used by scripts/bench.py."""

from __future__ import annotations

import asyncio
import contextlib
import itertools
import os
import random
import secrets
import time
from collections import Counter, deque
from collections.abc import Callable, Sequence
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import httpx

from actions.intake import DONE, answer_payload
from actions.questions import QUESTIONS, SKIPPED, SUMMARY_CONFIRM
from bot.conversation import MSG_ONE_MOMENT, MSG_TECHNICAL_PROBLEM
from bot.rendering import language_payload, notice
from core.i18n import translate
from core.languages import CHAT_LANGUAGES
from storage.crypto import default_cipher
from tests.support.intake_driver import Multi, Step, Tap, Type
from tests.support.loadstats import TurnRecord
from tests.support.telegram_standin import RecordedCall, TelegramStandIn, callback_update, text_update

REPLY_METHODS = frozenset({"sendMessage", "editMessageText", "editMessageReplyMarkup", "sendDocument"})
KEYBOARD_QUIET_S = 0.1  # after the message with buttons: the turn is over unless more comes this soon
FINAL_QUIET_S = 0.5  # the last turn's reply has no buttons: over after this long without more
MAX_TURNS = 150


class UnexpectedReply(Exception):
    """The bot or Rasa answered something the simulated person cannot go on from."""


@dataclass(frozen=True)
class Message:
    """What a person sends: typed text, or the callback_data of a button (= Rasa's payload)."""

    kind: str  # "text" | "tap"
    value: str
    final: bool = False  # the last message of an intake: its answer has no buttons


@dataclass
class Keyboard:
    """The newest message with buttons, as the person sees it."""

    text: str
    payloads: frozenset[str]
    message_id: int = 0


def identify(keyboard: Keyboard, lang: str) -> str | None:
    """The slot whose question `keyboard` asks (the text is translated on the bot path, the English
    source on the bare Rasa path), "summary_confirmed" for the summary, else None."""
    for question in QUESTIONS:
        if translate(lang, question.text) in keyboard.text or question.text in keyboard.text:
            return question.slot
    if answer_payload(SUMMARY_CONFIRM.code) in keyboard.payloads:
        return "summary_confirmed"
    return None


class Person:
    """Decides the next message from the question on screen, the same way on both paths."""

    def __init__(self, lang: str, answers: dict[str, list[Step]]) -> None:
        self.lang = lang
        self._pending = {slot: list(steps) for slot, steps in answers.items()}
        self._queued: deque[Message] = deque(
            [Message("text", "/start"), Message("tap", language_payload(lang)), Message("tap", "/affirm")]
        )
        self.finished = False
        self.turns = 0

    def next_message(self, keyboard: Keyboard | None) -> Message | None:
        if self.finished:
            return None
        self.turns += 1
        if self.turns > MAX_TURNS:
            raise UnexpectedReply("the intake did not finish")
        message = self._queued.popleft() if self._queued else self._answer(keyboard)
        if message.kind == "tap" and (keyboard is None or message.value not in keyboard.payloads):
            raise UnexpectedReply(f"no button {message.value!r} on screen")
        self.finished = message.final
        return message

    def _answer(self, keyboard: Keyboard | None) -> Message:
        slot = identify(keyboard, self.lang) if keyboard is not None else None
        if slot is None:
            raise UnexpectedReply("no known question on screen")
        if slot == "summary_confirmed" and not self._pending.get(slot):
            return Message("tap", answer_payload(SUMMARY_CONFIRM.code), final=True)
        steps = self._pending.get(slot) or [Tap(SKIPPED)]
        step = steps.pop(0) if len(steps) > 1 else steps[0]
        if isinstance(step, Type):
            return Message("text", step.text)
        if isinstance(step, Multi):
            self._queued.extend(Message("tap", answer_payload(value)) for value in step.values[1:])
            self._queued.append(Message("tap", answer_payload(DONE)))
            return Message("tap", answer_payload(step.values[0]))
        return Message("tap", answer_payload(step.value if isinstance(step, Tap) else SKIPPED))


def notice_texts(*msgids: str) -> frozenset[str]:
    """The bot's own notices in every language, to recognise them among the replies."""
    return frozenset(notice(lang, msgid).text for lang in CHAT_LANGUAGES for msgid in msgids)


TROUBLE_NOTICES = notice_texts(MSG_TECHNICAL_PROBLEM, MSG_ONE_MOMENT)


@dataclass
class Load:
    """How many people, how long they think, and how long they keep at it."""

    users: int
    think_s: float
    rounds: int | None = None  # whole intakes per person; None: until the duration is over
    duration_s: float | None = None
    turn_timeout_s: float = 30.0
    languages: Sequence[str] = CHAT_LANGUAGES
    seed: int = 1

    def think(self, rng: random.Random) -> float:
        """Think time around the mean, so that people do not fall into step."""
        return rng.uniform(0.5, 1.5) * self.think_s if self.think_s > 0 else 0.0


@dataclass
class RunResult:
    records: list[TurnRecord] = field(default_factory=list)
    intakes_done: int = 0
    intakes_failed: int = 0
    started: float = 0.0
    stopped: float = 0.0  # when people stopped starting new messages
    ended: float = 0.0  # when the last one got its answer (or gave up)
    first_error: str | None = None


Answers = Callable[[str], dict[str, list[Step]]]


class LoadPath:
    """One way of reaching Rasa: `turn()` sends one message of one intake and waits for its answer."""

    name = "?"

    async def run(self, load: Load, answers: Answers) -> RunResult:
        result = RunResult(started=time.perf_counter())
        deadline = result.started + load.duration_s if load.duration_s else None
        rng = random.Random(load.seed)  # think times, not secrets
        languages = itertools.cycle(load.languages)

        async def person(index: int) -> None:
            # Staggered starts: the first messages of all people do not arrive at once.
            await asyncio.sleep(rng.uniform(0, load.think_s) if load.think_s else index * 0.01)
            rounds = itertools.count() if load.rounds is None else range(load.rounds)
            for _ in rounds:
                if deadline is not None and time.perf_counter() >= deadline:
                    return
                lang = next(languages)
                ok = await self.intake(Person(lang, answers(lang)), load, rng, deadline, result)
                if ok:
                    result.intakes_done += 1
                else:
                    result.intakes_failed += 1

        await asyncio.gather(*(person(i) for i in range(load.users)))
        result.ended = time.perf_counter()
        result.stopped = deadline if deadline is not None and deadline < result.ended else result.ended
        return result

    async def intake(
        self, person: Person, load: Load, rng: random.Random, deadline: float | None, result: RunResult
    ) -> bool:
        """One whole intake; False when a turn failed (the person then gives up on it)."""
        session = await self.open_session(person.lang)
        keyboard: Keyboard | None = None
        try:
            while True:
                if deadline is not None and time.perf_counter() >= deadline:
                    return True  # not finished, but not failed either
                try:
                    message = person.next_message(keyboard)
                except UnexpectedReply as error:
                    result.first_error = result.first_error or f"{self.name}: {error}"
                    return False
                if message is None:
                    return True
                record, keyboard_now = await self.turn(session, message, load.turn_timeout_s)
                result.records.append(record)
                if record.error is not None:
                    result.first_error = result.first_error or f"{self.name}: {record.error}"
                    return False
                keyboard = keyboard_now or keyboard
                await asyncio.sleep(load.think(rng))
        finally:
            await self.close_session(session)

    async def open_session(self, lang: str) -> Any:
        raise NotImplementedError

    async def close_session(self, session: Any) -> None:
        return None

    async def turn(
        self, session: Any, message: Message, timeout: float
    ) -> tuple[TurnRecord, Keyboard | None]:
        raise NotImplementedError


_user_ids = itertools.count(7_300_000_001)


@dataclass
class _Chat:
    user_id: int
    lang: str
    inbox: asyncio.Queue[tuple[str, float, Any]] = field(default_factory=asyncio.Queue)
    message_ids: itertools.count[int] = field(default_factory=lambda: itertools.count(1001))
    keyboard_id: int = 1  # the message with the newest buttons: taps are on it


class BotPath(LoadPath):
    """People write to the bot through the Telegram stand-in (getUpdates long polling)."""

    name = "bot"

    def __init__(self, standin: TelegramStandIn, loop: asyncio.AbstractEventLoop) -> None:
        self._standin = standin
        self._loop = loop
        self._chats: dict[int, _Chat] = {}
        self._callbacks: dict[str, int] = {}  # callback_query id -> chat, for answerCallbackQuery
        self.last_reply_at = 0.0  # to any chat, also of people who gave up: is the bot still busy?
        self.calls: Counter[str] = Counter()  # Bot API calls but getUpdates, by method
        standin.add_listener(self._on_call)

    def _on_call(self, call: RecordedCall, result: Any) -> None:
        """In the stand-in's thread: hand what concerns our chats to the load generator's loop."""
        if call.method != "getUpdates":
            self.calls[call.method] += 1
        if call.method in REPLY_METHODS:
            self.last_reply_at = time.perf_counter()
        if (
            call.method == "getUpdates"
            or call.method in REPLY_METHODS
            or call.method == "answerCallbackQuery"
        ):
            with contextlib.suppress(RuntimeError):  # the benchmark is over, its loop closed
                self._loop.call_soon_threadsafe(self._dispatch, call, result, time.perf_counter())

    def _dispatch(self, call: RecordedCall, result: Any, at: float) -> None:
        if call.method == "getUpdates":
            for update in result:
                body = update.get("message") or update.get("callback_query") or {}
                chat = self._chats.get(int((body.get("from") or {}).get("id") or 0))
                if chat is not None:
                    chat.inbox.put_nowait(("delivered", at, update["update_id"]))
            return
        if call.method == "answerCallbackQuery":
            chat_id = self._callbacks.pop(str(call.params.get("callback_query_id")), None)
            if chat_id in self._chats and call.params.get("text"):
                self._chats[chat_id].inbox.put_nowait(("alert", at, call.params["text"]))
            return
        chat = self._chats.get(call.params.get("chat_id"))  # type: ignore[arg-type]
        if chat is not None:
            chat.inbox.put_nowait(("reply", at, (call.method, call.params, result)))

    async def open_session(self, lang: str) -> _Chat:
        chat = _Chat(next(_user_ids), lang)
        self._chats[chat.user_id] = chat
        return chat

    async def close_session(self, session: _Chat) -> None:
        self._chats.pop(session.user_id, None)

    async def turn(
        self, session: _Chat, message: Message, timeout: float
    ) -> tuple[TurnRecord, Keyboard | None]:
        chat = session
        if message.kind == "text":
            update = text_update(chat.user_id, message.value, next(chat.message_ids), chat.lang)
        else:
            update = callback_update(chat.user_id, message.value, chat.keyboard_id, chat.lang)
            self._callbacks[update["callback_query"]["id"]] = chat.user_id
        sent = time.perf_counter()
        update_id = self._standin.push_update(update)
        delivered: float | None = None
        last: float | None = None
        keyboard: Keyboard | None = None
        replies = 0
        error: str | None = None
        end_by = sent + timeout
        while True:
            over = keyboard is not None or (message.final and replies > 0)
            wait = (
                (KEYBOARD_QUIET_S if keyboard is not None else FINAL_QUIET_S)
                if over
                else end_by - time.perf_counter()
            )
            try:
                async with asyncio.timeout(max(wait, 0)):
                    kind, at, payload = await chat.inbox.get()
            except TimeoutError:
                if not over:
                    error = "timeout" if replies == 0 else "no question after reply"
                break
            if kind == "delivered":
                delivered = at if payload == update_id else delivered
                continue
            if kind == "alert":
                error = "old-button alert"
                last = at
                break
            method, params, answered = payload
            last, replies = at, replies + 1
            text = params.get("text")
            if text in TROUBLE_NOTICES:
                error = "technical-problem notice"
                break
            markup = params.get("reply_markup")
            buttons = markup.get("inline_keyboard") if isinstance(markup, dict) else None
            if method in ("sendMessage", "editMessageText") and buttons:
                message_id = (
                    (answered or {}).get("message_id")
                    if method == "sendMessage"
                    else params.get("message_id")
                )
                keyboard = Keyboard(
                    str(text),
                    frozenset(b["callback_data"] for row in buttons for b in row),
                    int(message_id or 0),
                )
        start = delivered if delivered is not None else sent
        if keyboard is not None:
            chat.keyboard_id = keyboard.message_id
        return TurnRecord(sent, start, last if last is not None else time.perf_counter(), error), keyboard


@dataclass
class _RasaSession:
    sender: str
    lang: str
    chat_ref: str
    chat_language: str | None = None
    message_ids: itertools.count[int] = field(default_factory=lambda: itertools.count(1001))


class RasaPath(LoadPath):
    """The same messages straight to Rasa's REST channel, each person with a fresh sender id."""

    name = "rasa"

    def __init__(self, rasa_url: str, max_connections: int) -> None:
        limits = httpx.Limits(max_connections=max_connections, max_keepalive_connections=max_connections)
        self._http = httpx.AsyncClient(base_url=rasa_url.rstrip("/"), limits=limits, timeout=None)
        self._cipher = default_cipher()

    async def aclose(self) -> None:
        await self._http.aclose()

    async def open_session(self, lang: str) -> _RasaSession:
        user_id = next(_user_ids)
        # The bot's sender id is a 64-hex-digit HMAC; chat_ref the encrypted chat id, as the bot sends.
        return _RasaSession(secrets.token_hex(32), lang, self._cipher.encrypt(str(user_id)))

    async def turn(
        self, session: _RasaSession, message: Message, timeout: float
    ) -> tuple[TurnRecord, Keyboard | None]:
        # The metadata the bot sends (bot/conversation.py), with the language the person writes in
        # as "detected": detection is part of the bot's overhead, not of Rasa's.
        metadata: dict[str, Any] = {
            "telegram_language": session.lang,
            "message_id": next(session.message_ids),
            "chat_language": session.chat_language,
            "chat_ref": session.chat_ref,
        }
        if not message.value.startswith("/"):
            metadata["detected_language"] = session.lang
        body = {"sender": session.sender, "message": message.value, "metadata": metadata}
        sent = time.perf_counter()
        error: str | None = None
        replies: list[dict[str, Any]] = []
        try:
            response = await self._http.post("/webhooks/rest/webhook", json=body, timeout=timeout)
            if response.status_code != 200:
                error = f"HTTP {response.status_code}"
            else:
                replies = response.json() or []
        except httpx.TimeoutException:
            error = "timeout"
        except httpx.HTTPError as exc:
            error = type(exc).__name__
        end = time.perf_counter()
        if error is None and not replies:
            error = "no reply"
        keyboard = None
        for reply in replies:
            payload = reply.get("custom") or reply
            if payload.get("lang"):
                session.chat_language = str(payload["lang"])
            payloads = {str(b.get("payload")) for b in payload.get("buttons") or []}
            if payload.get("keyboard") == "chat_languages":
                payloads |= {language_payload(code) for code in CHAT_LANGUAGES}
            if payloads:
                keyboard = Keyboard(str(payload.get("text") or ""), frozenset(payloads))
        if error is None and keyboard is None and not message.final:
            error = "no question in reply"
        return TurnRecord(sent, sent, end, error), keyboard


# -- resources -----------------------------------------------------------------------------------

_TICKS = os.sysconf("SC_CLK_TCK")


def process_tree(pid: int) -> list[int]:
    """`pid` and all its descendants (Sanic runs the action server in a worker process)."""
    found = [pid]
    for task in Path(f"/proc/{pid}/task").glob("*"):
        try:
            children = (task / "children").read_text().split()
        except OSError:
            continue
        for child in map(int, children):
            found += process_tree(child)
    return found


def rss_bytes(pid: int) -> int:
    total = 0
    for each in process_tree(pid):
        try:
            status = Path(f"/proc/{each}/status").read_text()
        except OSError:
            continue
        total += next(
            (int(line.split()[1]) * 1024 for line in status.splitlines() if line.startswith("VmRSS:")), 0
        )
    return total


def _stat_cpu_s(stat_path: str) -> float:
    try:
        fields = Path(stat_path).read_text().rpartition(")")[2].split()
    except OSError:
        return 0.0
    return (int(fields[11]) + int(fields[12])) / _TICKS  # utime, stime


def cpu_seconds(pid: int) -> float:
    """CPU time of a process and its descendants (live ones: enough for long-running servers)."""
    return sum(_stat_cpu_s(f"/proc/{each}/stat") for each in process_tree(pid))


def cpu_wait_seconds(pid: int) -> float:
    """Time the threads of a process tree were ready to run but waited for a CPU (schedstat): high
    when other work on the machine takes the cores."""
    total = 0
    for each in process_tree(pid):
        for task in Path(f"/proc/{each}/task").glob("*"):
            try:
                total += int((task / "schedstat").read_text().split()[1])
            except (OSError, IndexError, ValueError):
                continue
    return total / 1e9


def thread_cpu_seconds(native_id: int) -> float:
    return _stat_cpu_s(f"/proc/self/task/{native_id}/stat")


class Monitor:
    """Samples the RSS of the stack's processes (peak per process, and of bot + actions together)
    and measures CPU use per process and per thread of this process over a phase."""

    def __init__(self, processes: dict[str, int], threads: dict[str, int], interval_s: float = 0.25) -> None:
        self.processes, self.threads, self.interval_s = processes, threads, interval_s
        self.peak: dict[str, int] = dict.fromkeys([*processes, "bot+actions"], 0)
        self._task: asyncio.Task[None] | None = None

    def sample(self) -> None:
        now = {name: rss_bytes(pid) for name, pid in self.processes.items()}
        now["bot+actions"] = now.get("bot", 0) + now.get("actions", 0)
        for name, value in now.items():
            self.peak[name] = max(self.peak[name], value)

    async def _run(self) -> None:
        while True:
            self.sample()
            await asyncio.sleep(self.interval_s)

    def start(self) -> None:
        self._task = asyncio.get_running_loop().create_task(self._run())

    async def stop(self) -> None:
        if self._task is not None:
            self._task.cancel()
            with contextlib.suppress(asyncio.CancelledError):
                await self._task
        self.sample()

    def cpu_snapshot(self) -> dict[str, float]:
        snapshot = {name: cpu_seconds(pid) for name, pid in self.processes.items()}
        snapshot |= {
            f"{name} waiting for a CPU": cpu_wait_seconds(pid) for name, pid in self.processes.items()
        }
        snapshot |= {name: thread_cpu_seconds(tid) for name, tid in self.threads.items()}
        snapshot["time"] = time.perf_counter()
        return snapshot


def cpu_share(before: dict[str, float], after: dict[str, float]) -> dict[str, float]:
    """CPU use between two snapshots, in cores (1.0 = one core busy all the time)."""
    elapsed = after["time"] - before["time"]
    return {name: round((after[name] - before[name]) / elapsed, 3) for name in before if name != "time"}


async def standin_capacity(
    standin: TelegramStandIn, concurrency: int = 16, seconds: float = 5.0
) -> dict[str, float]:
    """How many validated sendMessage calls (with an inline keyboard) the stand-in answers per
    second, and the CPU its thread uses meanwhile: a lower bound, since the client shares this
    process (and its GIL) with it."""
    url = f"{standin.base_url}{standin.token}/sendMessage"
    body = {
        "chat_id": 7_299_999_999,
        "text": "Capacity check: how many calls a second?",
        "reply_markup": {"inline_keyboard": [[{"text": "Yes", "callback_data": "/affirm"}]]},
    }
    thread = standin.native_thread_id or 0
    count = 0
    limits = httpx.Limits(max_connections=concurrency, max_keepalive_connections=concurrency)
    async with httpx.AsyncClient(limits=limits, timeout=30) as http:
        cpu_before, started = thread_cpu_seconds(thread), time.perf_counter()
        end = started + seconds

        async def client() -> None:
            nonlocal count
            while time.perf_counter() < end:
                response = await http.post(url, json=body)
                response.raise_for_status()
                count += 1

        await asyncio.gather(*(client() for _ in range(concurrency)))
        elapsed = time.perf_counter() - started
        cpu = thread_cpu_seconds(thread) - cpu_before
    return {"calls_per_s": round(count / elapsed, 1), "standin_cpu_cores": round(cpu / elapsed, 3)}
