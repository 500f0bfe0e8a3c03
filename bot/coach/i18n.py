"""The coach pages' texts: English msgids, translated from bot/coach/locale/<lang>/LC_MESSAGES/coach.po.

Coach strings are marked with ``_c`` (not ``_``) so that ``make messages`` keeps them out of the
bot's catalogs; ``make coach-messages`` extracts them.
"""

from __future__ import annotations

from functools import cache
from pathlib import Path

from core.i18n import load_catalog

LOCALE_DIR = Path(__file__).resolve().parent / "locale"
DOMAIN = "coach"
UI_LANGUAGE = "de"


@cache
def catalog(lang: str) -> dict[str, str]:
    """msgid -> msgstr for one language; empty for English, the source language."""
    return load_catalog(LOCALE_DIR / lang / "LC_MESSAGES" / f"{DOMAIN}.po", lang)


def gettext(msgid: str, lang: str = UI_LANGUAGE) -> str:
    """The text in the interface language, falling back to the English msgid."""
    return catalog(lang).get(msgid, msgid)


def _c(msgid: str) -> str:
    """Translate a coach-page text into the interface language (German)."""
    return gettext(msgid)


def N_c(msgid: str) -> str:
    """Mark a text for extraction; it is translated where it is shown."""
    return msgid
