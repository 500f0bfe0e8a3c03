"""The bot token never reaches a log line: not in the message, its arguments or a traceback."""

from __future__ import annotations

import io
import json
import logging

from core.logging import JsonFormatter, RedactingFormatter

TOKEN = "7000000001:AAH-invented-Token-For-Tests-000000000"  # shaped like a real one
PRIVATE = TOKEN.split(":")[1]


def logged(secrets: list[str], emit: object) -> str:
    stream = io.StringIO()
    handler = logging.StreamHandler(stream)
    handler.setFormatter(RedactingFormatter("%(levelname)s %(message)s", secrets))
    logger = logging.getLogger("test.redaction")
    logger.handlers[:] = [handler]
    logger.propagate = False
    logger.setLevel(logging.DEBUG)
    emit(logger)  # type: ignore[operator]
    return stream.getvalue()


def test_a_token_in_a_url_a_argument_or_a_traceback_is_removed() -> None:
    def emit(logger: logging.Logger, bare_private_part: bool) -> None:
        logger.debug("POST https://api.telegram.org/bot%s/sendMessage", TOKEN)
        logger.info("token is %s", TOKEN)
        try:
            raise RuntimeError(f"Invalid token {TOKEN}" + (f" ({PRIVATE})" if bare_private_part else ""))
        except RuntimeError:
            logger.exception("telegram failed")

    # The configured token goes even as its bare private part; any other by its shape.
    for secrets in ([TOKEN], []):
        output = logged(secrets, lambda logger, bare=bool(secrets): emit(logger, bare))
        assert "telegram failed" in output and "Traceback" in output
        assert PRIVATE not in output
        assert output.count("<token>") >= 3


def test_ordinary_lines_are_left_alone() -> None:
    output = logged([TOKEN], lambda logger: logger.info("update %s handled in %d ms", 123456, 42))
    assert output == "INFO update 123456 handled in 42 ms\n"


def test_json_lines_are_redacted_too() -> None:
    stream = io.StringIO()
    handler = logging.StreamHandler(stream)
    handler.setFormatter(JsonFormatter("%(message)s", [TOKEN]))
    logger = logging.getLogger("test.json")
    logger.handlers[:] = [handler]
    logger.propagate = False
    logger.warning("Rasa unavailable: %s", f"ConnectError at /bot{TOKEN}/x")
    entry = json.loads(stream.getvalue())
    assert entry["level"] == "WARNING" and entry["logger"] == "test.json"
    assert entry["message"].startswith("Rasa unavailable: ConnectError") and PRIVATE not in entry["message"]
    assert entry["time"].endswith("+00:00")
