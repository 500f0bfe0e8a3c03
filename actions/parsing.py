"""Pure helpers that turn what the user sent into codes; no Rasa or database objects here."""

from __future__ import annotations

from collections.abc import Iterable, Mapping
from typing import Any

from core.languages import code_for_name, is_supported


def chat_language_from_entities(entities: Iterable[Mapping[str, Any]]) -> str | None:
    """The supported chat language named by a `language` entity: a code from a button or a typed name."""
    for entity in entities:
        if entity.get("entity") != "language":
            continue
        value = str(entity.get("value") or "").strip()
        if is_supported(value):
            return value
        code = code_for_name(value)
        if code:
            return code
    return None
