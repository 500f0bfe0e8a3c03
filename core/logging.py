"""Logging set-up shared by the processes: one line per record, no message texts at INFO."""

from __future__ import annotations

import logging
import re

_TOKEN_IN_URL = re.compile(r"/bot\d+:[A-Za-z0-9_-]+")


class RedactTokens(logging.Filter):
    """Removes Telegram bot tokens from log lines (they appear in request URLs)."""

    def filter(self, record: logging.LogRecord) -> bool:
        message = record.getMessage()
        if "/bot" in message:
            record.msg = _TOKEN_IN_URL.sub("/bot<token>", message)
            record.args = None
        return True


def configure_logging(level: str = "INFO") -> None:
    handler = logging.StreamHandler()
    handler.setFormatter(logging.Formatter("%(asctime)s %(levelname)s %(name)s: %(message)s"))
    handler.addFilter(RedactTokens())
    root = logging.getLogger()
    root.handlers[:] = [handler]
    root.setLevel(level.upper())
    # httpx logs every request URL (with the bot token) at INFO.
    logging.getLogger("httpx").setLevel(logging.WARNING)
