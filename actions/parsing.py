"""Pure helpers that turn what the user sent into codes; no Rasa or database objects here."""

from __future__ import annotations

import difflib
import re
import unicodedata
from collections.abc import Iterable, Mapping, Sequence
from functools import lru_cache
from typing import Any

import pycountry
from babel import Locale

from actions.questions import Option
from core.i18n import translate
from core.languages import CHAT_LANGUAGES, code_for_name, is_supported


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


# --- answers to the intake questions -------------------------------------------------------

MAX_FREE_TEXT = 4096
_COUNTRY_CUTOFF = 0.78
# Misspelled names are looked for in the first words only: each window costs a fuzzy match against
# every known name, and a 4,096-character message would otherwise block the action server for seconds.
_FUZZY_COUNTRY_WORDS = 10


def fold(text: str) -> str:
    """Case-, accent- and spacing-insensitive form of a text, for matching typed answers."""
    decomposed = unicodedata.normalize("NFKD", text.casefold())
    kept = "".join(ch for ch in decomposed if not unicodedata.combining(ch))
    return " ".join(re.sub(r"[^\w\s+]", " ", kept).split())


def button_value(message: Mapping[str, Any]) -> str | None:
    """The value of a tapped answer button: the payload /answer{"value": "..."}."""
    if (message.get("intent") or {}).get("name") != "answer":
        return None
    for entity in message.get("entities") or []:
        if entity.get("entity") == "value":
            return str(entity.get("value"))
    return None


def to_ascii_digits(text: str) -> str:
    """Arabic-Indic, Persian and other decimal digits to 0-9."""
    return "".join(str(unicodedata.digit(ch)) if ch.isdigit() and not ch.isascii() else ch for ch in text)


def parse_choice(options: Sequence[Option], text: str, lang: str) -> str | None:
    """A typed answer to a choice question: the option's number, its code, or its label in any form."""
    cleaned = to_ascii_digits(text).strip()
    if cleaned.isdigit() and len(cleaned) < 10 and 1 <= int(cleaned) <= len(options):  # no 5,000-digit int()
        return options[int(cleaned) - 1].code
    wanted = fold(cleaned)
    if not wanted:
        return None
    labels: dict[str, str] = {}
    for option in options:
        for label in (option.code, option.label, translate(lang, option.label)):
            labels.setdefault(fold(label), option.code)
    if wanted in labels:
        return labels[wanted]
    # A label that starts the same way ("B1" for "B1 – everyday talk"), if only one does.
    starts = {code for label, code in labels.items() if label and wanted and label.startswith(wanted)}
    if len(starts) == 1 and len(wanted) >= 2:
        return starts.pop()
    close = difflib.get_close_matches(wanted, list(labels), n=1, cutoff=0.85)
    return labels[close[0]] if close else None


@lru_cache(maxsize=1)
def _country_names() -> dict[str, str]:
    """Country names in every chat language (CLDR) and the codes themselves -> ISO 3166 alpha-2."""
    names: dict[str, str] = {}
    for lang in (*CHAT_LANGUAGES, "sr_Latn"):
        for code, name in Locale.parse(lang).territories.items():
            if len(code) == 2 and code.isalpha() and code not in ("EU", "EZ", "UN", "QO", "ZZ"):
                names.setdefault(fold(name), code)
    for country in pycountry.countries:
        for attribute in ("name", "common_name", "official_name"):
            value = getattr(country, attribute, None)
            if value:
                names.setdefault(fold(value), country.alpha_2)
    # A distinctive word of a longer name stands for the country when no other country uses it:
    # "Bosnia" (Bosnia & Herzegovina), "Македонија" (Северна Македонија), "Moldau" (Republik Moldau).
    words: dict[str, set[str]] = {}
    for name, code in names.items():
        for word in name.split():
            if len(word) >= 5:
                words.setdefault(word, set()).add(code)
    for word, codes in words.items():
        if len(codes) == 1 and word not in names:
            names[word] = next(iter(codes))
    names.update({fold(alias): code for alias, code in _COUNTRY_ALIASES.items()})
    return names


# Names people commonly type that CLDR does not list.
_COUNTRY_ALIASES = {
    "Sakartvelo": "GE", "Grusinien": "GE", "Hayastan": "AM", "Shqiperia": "AL", "Shqipëri": "AL",
    "Makedonija": "MK", "Nordmazedonien": "MK", "Srbija": "RS", "Kosova": "XK", "Turkiye": "TR",
    "Türkei": "TR", "Irak": "IQ", "Afganistan": "AF", "Iran": "IR", "Syrien": "SY", "Ukraina": "UA",
    "Moldawien": "MD", "Moldova": "MD", "Russland": "RU", "Rossiya": "RU",
    # Transliterations and everyday names people type in Latin letters or their own script.
    "Vrastan": "GE", "Rusastan": "RU", "Souria": "SY", "Suriya": "SY", "Syria": "SY", "Al Jazair": "DZ",
    "Filastin": "PS", "Palestine": "PS", "فلسطين": "PS", "Mali i Zi": "ME", "Armania": "AM",
    "Gruziya": "GE", "Iraq": "IQ", "Afghanistan": "AF",
}  # fmt: skip


def parse_country(text: str) -> tuple[str | None, bool]:
    """(ISO code, confident) for a typed country, in any supported language, with misspellings.

    Exact names (also inside a sentence) are confident; close misspellings are not, so the bot asks.
    """
    names = _country_names()
    words = fold(text).split()
    if not words:
        return None, False
    code = text.strip().upper()
    if len(code) == 2 and code.isalpha() and pycountry.countries.get(alpha_2=code):
        return code, True
    for size in (4, 3, 2, 1):  # the longest name inside the text wins
        for start in range(0, max(len(words) - size + 1, 0)):
            candidate = " ".join(words[start : start + size])
            if candidate in names:
                return names[candidate], True
    first = words[:_FUZZY_COUNTRY_WORDS]
    for size in (3, 2, 1):
        for start in range(0, max(len(first) - size + 1, 0)):
            candidate = " ".join(first[start : start + size])
            if len(candidate) < 4:
                continue
            close = difflib.get_close_matches(candidate, list(names), n=1, cutoff=_COUNTRY_CUTOFF)
            if close:
                return names[close[0]], False
    return None, False


def is_country_code(value: str) -> bool:
    """Whether `value` is a code parse_country can give (ISO 3166-1 alpha-2, XK for Kosovo, ...)."""
    return value in _country_codes()


@lru_cache(maxsize=1)
def _country_codes() -> frozenset[str]:
    return frozenset(_country_names().values())


def countries_in(text: str) -> list[str]:
    """Every country named in a text, in order, e.g. for "actually Armenia, not Georgia"."""
    names = _country_names()
    words = fold(text).split()
    found: list[str] = []
    start = 0
    while start < len(words):
        for size in (4, 3, 2, 1):
            candidate = " ".join(words[start : start + size])
            if len(words) - start >= size and candidate in names and len(candidate) > 2:
                if names[candidate] not in found:
                    found.append(names[candidate])
                start += size
                break
        else:
            start += 1
    return found


def parse_years(text: str) -> float | None:
    """Years of work from typed text: "3", "2,5", "١٠" (digits of any script); 0 to 60."""
    match = re.search(r"\d+(?:[.,]\d+)?", to_ascii_digits(text))
    if not match:
        return None
    value = float(match.group().replace(",", "."))
    return value if 0 <= value <= 60 else None


def parse_free_text(text: str) -> str | None:
    """A free-text answer, trimmed; None when there is nothing in it."""
    cleaned = text.strip()
    if not cleaned or cleaned.startswith("/"):
        return None
    return cleaned[:MAX_FREE_TEXT]


def parse_language_list(text: str) -> list[str]:
    """Language names typed in a list ("Russian, Turkish and Kurdish") -> codes."""
    found: list[str] = []
    for part in re.split(r"[,;/+&\n]|\s+(?:and|und|et|и|і|ve|și|dhe|и)\s+", text):
        code = code_for_name(part.strip()) or code_for_any_language(part.strip())
        if code and code not in found:
            found.append(code)
    return found


@lru_cache(maxsize=1)
def _all_language_names() -> dict[str, str]:
    names: dict[str, str] = {}
    for lang in CHAT_LANGUAGES:
        for code, name in Locale.parse(lang).languages.items():
            if 2 <= len(code) <= 3 and code.isalpha():
                names.setdefault(fold(name), code)
    return names


def code_for_any_language(name: str) -> str | None:
    return _all_language_names().get(fold(name)) if name else None
