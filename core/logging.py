"""Logging set-up shared by the processes: one line per record, no message texts at INFO, and
never the Telegram bot token (not in messages, arguments or tracebacks)."""

from __future__ import annotations

import json
import logging
import re
from collections.abc import Iterable
from datetime import UTC, datetime

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


class JsonFormatter(RedactingFormatter):
    """One JSON object per line, for log collectors: time, level, logger, message (and the
    traceback), redacted like the text format."""

    def format(self, record: logging.LogRecord) -> str:
        entry = {
            "time": datetime.fromtimestamp(record.created, UTC).isoformat(timespec="milliseconds"),
            "level": record.levelname,
            "logger": record.name,
            "message": record.getMessage(),
        }
        if record.exc_info:
            entry["exception"] = self.formatException(record.exc_info)
        return redact(json.dumps(entry, ensure_ascii=False), self._secrets)


def configure_logging(level: str = "INFO", secrets: Iterable[str] = (), style: str = "text") -> None:
    """`style` "json" writes one JSON object per line (LOG_FORMAT=json), else one text line."""
    handler = logging.StreamHandler()
    text_format = "%(asctime)s %(levelname)s %(name)s: %(message)s"
    formatter = (
        JsonFormatter(text_format, secrets) if style == "json" else RedactingFormatter(text_format, secrets)
    )
    handler.setFormatter(formatter)
    root = logging.getLogger()
    root.handlers[:] = [handler]
    root.setLevel(level.upper())
    # httpx logs every request URL (with the bot token) at INFO.
    logging.getLogger("httpx").setLevel(logging.WARNING)
