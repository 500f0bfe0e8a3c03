"""Translations from the gettext catalogs in bot/locale (English source strings), for bot and actions."""

from __future__ import annotations

import string
from functools import cache
from pathlib import Path
from typing import Any

from babel.messages.pofile import read_po

from core.languages import DEFAULT_LANGUAGE

LOCALE_DIR = Path(__file__).resolve().parent.parent / "bot" / "locale"
DOMAIN = "messages"


def load_catalog(path: Path, lang: str) -> dict[str, str]:
    """msgid -> msgstr of one .po file (fuzzy and empty entries left out); empty if there is none."""
    if not path.exists():
        return {}
    with path.open("rb") as file:
        po = read_po(file, locale=lang)
    return {str(m.id): str(m.string) for m in po if m.id and m.string and not m.fuzzy}


@cache
def catalog(lang: str) -> dict[str, str]:
    """msgid -> msgstr for one language; empty for English, the source language."""
    return load_catalog(LOCALE_DIR / lang / "LC_MESSAGES" / f"{DOMAIN}.po", lang)


class _KeepMissing(dict[str, Any]):
    def __missing__(self, key: str) -> str:
        return "{" + key + "}"


def translate(lang: str, msgid: str, params: dict[str, Any] | None = None) -> str:
    """The text in `lang`, falling back to English; `{name}` placeholders are filled from params."""
    text = catalog(lang).get(msgid, msgid) if lang != DEFAULT_LANGUAGE else msgid
    if params:
        text = string.Formatter().vformat(text, (), _KeepMissing(params))
    return text


def gettext_noop(msgid: str) -> str:
    """Marks a string for extraction; it is translated later, when the user's language is known."""
    return msgid
