"""The chat languages the assistant supports, their native names, and name-to-code lookup (CLDR via Babel)."""

from __future__ import annotations

import unicodedata
from functools import lru_cache

from babel import Locale

# Order of the language buttons: German and English first, then the most frequent languages of
# the programme's returnees.
CHAT_LANGUAGES: tuple[str, ...] = (
    "de", "en", "ar", "fa", "tr", "ru", "uk", "ka", "hy", "ro", "sq", "sr", "mk", "fr",
)  # fmt: skip
DEFAULT_LANGUAGE = "en"
RTL_LANGUAGES = frozenset({"ar", "fa"})

# Serbian is written in Cyrillic and Latin script; the button shows both.
_NATIVE_NAME_OVERRIDES = {"sr": "Српски / Srpski"}
# Georgian has no capital letters in normal writing (str.upper would give Mtavruli).
_NO_CAPITALS = frozenset({"ka"})


def native_name(code: str) -> str:
    """The language's name in itself, capitalised as on a button: "Deutsch", "ქართული"."""
    if code in _NATIVE_NAME_OVERRIDES:
        return _NATIVE_NAME_OVERRIDES[code]
    name = Locale.parse(code).get_display_name(code) or code
    if code in _NO_CAPITALS:
        return name
    return name[:1].upper() + name[1:]


def is_supported(code: str | None) -> bool:
    return code in CHAT_LANGUAGES


def normalise_code(code: str | None) -> str | None:
    """Map a Telegram client language code ("de-AT", "sr-Latn", "pt-br") to a supported code."""
    if not code:
        return None
    base = code.replace("_", "-").split("-")[0].lower()
    return base if base in CHAT_LANGUAGES else None


def _fold(text: str) -> str:
    decomposed = unicodedata.normalize("NFKD", text.casefold().strip())
    return "".join(ch for ch in decomposed if not unicodedata.combining(ch))


@lru_cache(maxsize=1)
def _names_to_codes() -> dict[str, str]:
    names: dict[str, str] = {}
    for code in CHAT_LANGUAGES:
        names[_fold(code)] = code
        for display in CHAT_LANGUAGES:
            name = Locale.parse(code).get_display_name(display)
            if name:
                names.setdefault(_fold(name), code)
    names[_fold("srpski")] = "sr"
    return names


def code_for_name(name: str | None) -> str | None:
    """A language name written in any supported language ("Deutsch", "German", "немецкий") to its code."""
    if not name:
        return None
    return _names_to_codes().get(_fold(name))


def country_name(code: str, lang: str) -> str:
    """A country's name in a chat language, from CLDR ("GE", "de" -> "Georgien")."""
    locale = Locale.parse("sr_Cyrl" if lang == "sr" else lang)
    return str(locale.territories.get(code) or code)
