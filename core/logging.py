"""Logging set-up shared by the processes: one line per record, no message texts at INFO, and
never the Telegram bot token (not in messages, arguments or tracebacks)."""

from __future__ import annotations

import logging
import re
from collections.abc import Iterable

_TOKEN_IN_URL = re.compile(r"bot\d+:[A-Za-z0-9_-]{20,}")
_ANY_TOKEN = re.compile(r"\b\d{5,}:[A-Za-z0-9_-]{30,}\b")


class RedactingFormatter(logging.Formatter):
    """Formats a record, traceback included, then removes bot tokens from the whole line."""

    def __init__(self, fmt: str, secrets: Iterable[str] = ()) -> None:
        super().__init__(fmt)
        self._secrets = [s for s in secrets if s and len(s) >= 8]

    def format(self, record: logging.LogRecord) -> str:
        return redact(super().format(record), self._secrets)


def redact(text: str, secrets: Iterable[str] = ()) -> str:
    for secret in secrets:
        text = text.replace(secret, "<token>")
        _, _, private = secret.partition(":")
        if len(private) >= 8:
            text = text.replace(private, "<token>")
    text = _TOKEN_IN_URL.sub("bot<token>", text)
    return _ANY_TOKEN.sub("<token>", text)


def configure_logging(level: str = "INFO", secrets: Iterable[str] = ()) -> None:
    handler = logging.StreamHandler()
    handler.setFormatter(RedactingFormatter("%(asctime)s %(levelname)s %(name)s: %(message)s", secrets))
    root = logging.getLogger()
    root.handlers[:] = [handler]
    root.setLevel(level.upper())
    # httpx logs every request URL (with the bot token) at INFO.
    logging.getLogger("httpx").setLevel(logging.WARNING)
