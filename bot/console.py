"""A local chat in the terminal, through the same conversation code and rendering as Telegram."""

from __future__ import annotations

import asyncio
import sys
import threading
from collections.abc import Sequence
from typing import TextIO

from bot.conversation import Conversation, Sender
from bot.rendering import Button, OutgoingMessage

LOCAL_USER_ID = 1  # the one local user; Rasa sees only its keyed hash, as with Telegram


def format_message(message: OutgoingMessage) -> str:
    """Text, then buttons as numbered choices."""
    lines = [f"bot> {message.text}"] if message.text else []
    for number, button in enumerate(message.button_list(), start=1):
        lines.append(f"     [{number}] {button.title}")
    return "\n".join(lines)


def resolve_input(line: str, buttons: Sequence[Button]) -> str:
    """A number picks the button with that number; anything else is sent as typed."""
    stripped = line.strip()
    if stripped.isdigit() and 1 <= int(stripped) <= len(buttons):
        return buttons[int(stripped) - 1].callback_data
    return stripped


async def read_line(stdin: TextIO) -> str:
    """Read a line in a daemon thread, so a pending read never keeps the process alive at exit."""
    loop = asyncio.get_running_loop()
    future: asyncio.Future[str] = loop.create_future()

    def deliver(line: str) -> None:
        if not future.done():
            future.set_result(line)

    def read() -> None:
        line = stdin.readline()
        loop.call_soon_threadsafe(deliver, line)

    threading.Thread(target=read, daemon=True).start()
    return await future


async def run_console(
    conversation: Conversation, stdin: TextIO = sys.stdin, stdout: TextIO = sys.stdout
) -> None:
    sender = Sender(user_id=LOCAL_USER_ID, language_code=None)
    print(
        "Local chat (no TELEGRAM_BOT_TOKEN set). Type a message, a number to press a button, "
        "or Ctrl-D to quit.",
        file=stdout,
        flush=True,
    )
    buttons: list[Button] = []
    next_text = "/start"
    while True:
        messages = await conversation.handle_text(sender, next_text)
        for message in messages:
            print(format_message(message), file=stdout, flush=True)
        if messages and messages[-1].buttons:
            buttons = messages[-1].button_list()
        while True:
            print("you> ", end="", file=stdout, flush=True)
            line = await read_line(stdin)
            if not line:
                print(file=stdout)
                return
            next_text = resolve_input(line, buttons)
            if next_text:
                break
