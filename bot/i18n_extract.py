"""Babel extractor for domain.yml: the English source strings of custom payload texts and button titles."""

from __future__ import annotations

from collections.abc import Iterator
from typing import IO, Any

import yaml


def as_sent(text: str) -> str:
    """A response text as Rasa sends it when no slot fills it: "{{name}}" arrives as "{name}", a
    placeholder the bot fills (bot/rendering.py). A single-brace "{name}" would be a slot to Rasa."""
    return text.replace("{{", "{").replace("}}", "}")


def _walk(node: Any) -> Iterator[str]:
    if isinstance(node, dict):
        for key, value in node.items():
            if key in ("text", "title") and isinstance(value, str):
                yield as_sent(value)
            else:
                yield from _walk(value)
    elif isinstance(node, list):
        for item in node:
            yield from _walk(item)


def extract_domain(
    fileobj: IO[bytes], keywords: Any, comment_tags: Any, options: Any
) -> Iterator[tuple[int, str | None, str, list[str]]]:
    """Yields (lineno, funcname, message, comments) as Babel's extractor protocol asks."""
    domain = yaml.safe_load(fileobj.read().decode("utf-8"))
    for name, variations in (domain.get("responses") or {}).items():
        for message in _walk(variations):
            yield 0, None, message, [f"Rasa response {name}"]
