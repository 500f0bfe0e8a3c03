"""The coach pages' texts: English msgids, translated from bot/coach/locale/<lang>/LC_MESSAGES/coach.po.

Coach strings are marked with ``_c`` (not ``_``) so that ``make messages`` keeps them out of the
bot's catalogs; ``make coach-messages`` extracts them.
"""

from __future__ import annotations

from functools import cache
from pathlib import Path

from babel.messages.pofile import read_po

LOCALE_DIR = Path(__file__).resolve().parent / "locale"
DOMAIN = "coach"
UI_LANGUAGE = "de"


@cache
def catalog(lang: str) -> dict[str, str]:
    """msgid -> msgstr for one language; empty for English, the source language."""
    path = LOCALE_DIR / lang / "LC_MESSAGES" / f"{DOMAIN}.po"
    if not path.exists():
        return {}
    with path.open("rb") as file:
        po = read_po(file, locale=lang)
    return {str(m.id): str(m.string) for m in po if m.id and m.string and not m.fuzzy}


def gettext(msgid: str, lang: str = UI_LANGUAGE) -> str:
    """The text in the interface language, falling back to the English msgid."""
    return catalog(lang).get(msgid, msgid)


def _c(msgid: str) -> str:
    """Translate a coach-page text into the interface language (German)."""
    return gettext(msgid)


def N_c(msgid: str) -> str:
    """Mark a text for extraction; it is translated where it is shown."""
    return msgid
