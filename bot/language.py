"""Which supported chat language a user's message is written in.

``detect(text)`` returns one of ``core.languages.CHAT_LANGUAGES`` or ``None`` when it is not confident;
``should_switch(current, text)`` is the policy helper for the conversation: propose a switch only on
a message of at least four words that the detector is confident about and that differs from the
current language. An explicit choice by the user always wins; the caller asks with buttons when
``detect`` returns ``None``.

How it decides (see docs/language-detection.md for the measurements behind each step):

1. Only a bounded prefix of the message is looked at; URLs, e-mail addresses, @mentions, digits and
   symbols (emoji) are ignored. No letters -> ``None``.
2. The writing system decides where it can: Georgian -> ``ka``, Armenian -> ``hy``. A message whose
   words are not mostly of one script, or of a script none of our languages uses, -> ``None``
   (Latin names and terms inside a Cyrillic, Arabic, Georgian or Armenian message are tolerated).
3. Markers narrow the candidates of that script: letters that only some of them use (Cyrillic
   ``ђ ћ`` -> Serbian, ``ѓ ќ ѕ`` -> Macedonian, ``і ї є ґ`` -> Ukrainian, Persian ``پ چ ژ گ ک ی``,
   Latin ``ı ğ`` -> Turkish, ``ă ș ț`` -> Romanian, ``č ć đ š ž`` -> Serbian ...) and very frequent
   function words ("the", "und", "și", "të", "је", "ги", "است" ...). One candidate left -> it.
4. Lingua (``lingua-language-detector``, only the languages of that script; high-accuracy mode for
   Cyrillic, low-accuracy mode for Latin and Arabic script) ranks the remaining candidates; its
   Bosnian and Croatian count as Serbian (Latin), since we only support ``sr``. The best candidate
   is returned when its confidence reaches a threshold that depends on the number of words
   (tuned on tests/data/langid/dev.tsv, never on test.tsv), else ``None``.

The Lingua detectors are built on first use and cached; importing this module has no side effects.
"""

from __future__ import annotations

import re
import unicodedata
from collections import Counter
from functools import cache
from typing import TYPE_CHECKING

if TYPE_CHECKING:
    from lingua import LanguageDetector

__all__ = ["MIN_SWITCH_WORDS", "detect", "should_switch"]

# A message is cut to this many characters before anything else: enough for a confident decision,
# and it bounds the time spent on a pasted 10,000-character text.
MAX_CHARS = 600
# should_switch proposes a new language only for messages of at least this many words.
MIN_SWITCH_WORDS = 4
# The main script must hold at least this share of the words; otherwise the text is mixed ...
MIN_SCRIPT_SHARE = 0.6
# ... but a non-Latin script needs only this share of the words (see _main_script).
MIN_OTHER_SCRIPT_SHARE = 0.34
# Scripts whose Lingua detector runs in high-accuracy mode (1- to 5-gram models, ~125 MiB more for
# Cyrillic); the others use low-accuracy mode (trigrams only, a few MiB per language). With an empty
# set the whole detector needs ~40 MiB instead of ~165 MiB, but confuses Macedonian and Serbian
# more often (docs/language-detection.md).
HIGH_ACCURACY_SCRIPTS: frozenset[str] = frozenset({"cyrillic"})
# Lingua's confidence (0..1, over the candidates) that the best candidate must reach, by number of
# words (the last entry applies to longer messages). Tuned on the dev split only.
CONFIDENCE_BY_WORDS: tuple[float, ...] = (0.94, 0.84, 0.9, 0.51, 0.51)

_NOISE = re.compile(r"https?://\S+|www\.\S+|\S+@\S+|[@#/]\w+", re.IGNORECASE)
_WORD = re.compile(r"[^\W\d_]+(?:['’-][^\W\d_]+)*")

# Script of a letter, by Unicode block.
_SCRIPT_RANGES: tuple[tuple[int, int, str], ...] = (
    (0x0041, 0x024F, "latin"),
    (0x1E00, 0x1EFF, "latin"),
    (0x0370, 0x03FF, "greek"),
    (0x0400, 0x052F, "cyrillic"),
    (0x0530, 0x058F, "armenian"),
    (0xFB13, 0xFB17, "armenian"),
    (0x0590, 0x05FF, "hebrew"),
    (0x0600, 0x06FF, "arabic"),
    (0x0750, 0x077F, "arabic"),
    (0xFB50, 0xFDFF, "arabic"),
    (0xFE70, 0xFEFF, "arabic"),
    (0x10A0, 0x10FF, "georgian"),
    (0x1C90, 0x1CBF, "georgian"),
    (0x2D00, 0x2D2F, "georgian"),
)
# Scripts that name the language on their own.
_SCRIPT_LANGUAGE = {"georgian": "ka", "armenian": "hy"}

# Candidates per script (our codes) and the Lingua languages that stand for them.
_CANDIDATES: dict[str, tuple[str, ...]] = {
    "latin": ("de", "en", "fr", "tr", "ro", "sq", "sr"),
    "cyrillic": ("ru", "uk", "sr", "mk"),
    "arabic": ("ar", "fa"),
}
_LINGUA_NAMES: dict[str, dict[str, str]] = {
    "latin": {
        "GERMAN": "de", "ENGLISH": "en", "FRENCH": "fr", "TURKISH": "tr", "ROMANIAN": "ro",
        "ALBANIAN": "sq", "BOSNIAN": "sr", "CROATIAN": "sr",
    },
    "cyrillic": {"RUSSIAN": "ru", "UKRAINIAN": "uk", "SERBIAN": "sr", "MACEDONIAN": "mk"},
    "arabic": {"ARABIC": "ar", "PERSIAN": "fa"},
}  # fmt: skip

# Markers: letters, and very frequent short words, that only some candidates of a script use ->
# those candidates. Every marker in a message counts against the candidates that do not use it;
# only the candidates with the fewest such counts stay. Written from the languages' alphabets and
# grammar (not fitted to the evaluation data).
_LETTER_MARKERS: dict[str, frozenset[str]] = {}
_WORD_MARKERS: dict[str, frozenset[str]] = {}


def _mark(table: dict[str, frozenset[str]], langs: str, items: str) -> None:
    for item in items.split() if table is _WORD_MARKERS else items:
        table[item] = table.get(item, frozenset()) | frozenset(langs.split())


# Cyrillic letters
_mark(_LETTER_MARKERS, "uk", "іїєґ")
_mark(_LETTER_MARKERS, "ru", "ыэъё")
_mark(_LETTER_MARKERS, "sr", "ђћ")
_mark(_LETTER_MARKERS, "mk", "ѓќѕ")
_mark(_LETTER_MARKERS, "sr mk", "јљњџ")
_mark(_LETTER_MARKERS, "ru uk", "щйьюя")
# Arabic script: Persian letters, and Arabic letters that Persian spelling replaces.
_mark(_LETTER_MARKERS, "fa", "پچژگکی")
_mark(_LETTER_MARKERS, "ar", "ةيكى")
# Latin letters
_mark(_LETTER_MARKERS, "tr", "ığ")
_mark(_LETTER_MARKERS, "ro", "ășțţ")
_mark(_LETTER_MARKERS, "tr ro", "ş")
_mark(_LETTER_MARKERS, "sq fr", "ë")
_mark(_LETTER_MARKERS, "sr", "čćđšž")
_mark(_LETTER_MARKERS, "de", "ßä")
_mark(_LETTER_MARKERS, "de tr", "öü")
_mark(_LETTER_MARKERS, "fr tr sq", "ç")
_mark(_LETTER_MARKERS, "fr", "éèêàùœïÿ")
_mark(_LETTER_MARKERS, "fr tr ro", "âî")
_mark(_LETTER_MARKERS, "fr tr", "û")
# Cyrillic words
_mark(_WORD_MARKERS, "ru", "что это как когда если нет есть только вы мы")
_mark(_WORD_MARKERS, "uk", "що це як або вони")
_mark(_WORD_MARKERS, "sr", "је су није шта када јер бити овај")
_mark(_WORD_MARKERS, "mk", "е ги го ве сум овој оваа овие кој")
_mark(_WORD_MARKERS, "ru mk", "со во")
_mark(_WORD_MARKERS, "ru uk sr", "у")
_mark(_WORD_MARKERS, "uk sr", "та")
_mark(_WORD_MARKERS, "uk sr mk", "ви ми")
_mark(_WORD_MARKERS, "ru sr mk", "они")
# Arabic-script words
_mark(_WORD_MARKERS, "ar", "في على إلى هذا هذه التي الذي عن أن تم هل")
_mark(_WORD_MARKERS, "fa", "است این را شد از برای با هست شده نیست")
# Latin words
_mark(_WORD_MARKERS, "en", "the is are you this not of and to with for your be have it my")
_mark(_WORD_MARKERS, "fr", "les est et une pour vous pas dans qui que aux sur")
_mark(_WORD_MARKERS, "de", "der die das und ist nicht ich sie ein eine mit für zu den dem auf sich")
_mark(_WORD_MARKERS, "tr", "ve bir bu için ile değil çok")
_mark(_WORD_MARKERS, "ro", "și în este nu cu pe sau să")
_mark(_WORD_MARKERS, "sq", "të një në dhe për nuk është ju kjo që nga")
_mark(_WORD_MARKERS, "sr", "nije ili od za")
_mark(_WORD_MARKERS, "fr de", "des du")
_mark(_WORD_MARKERS, "fr ro", "la le un ce au")
_mark(_WORD_MARKERS, "fr tr ro", "de")
_mark(_WORD_MARKERS, "en ro", "care")
_mark(_WORD_MARKERS, "tr ro sr", "da")
_mark(_WORD_MARKERS, "tr sr", "mi")
_mark(_WORD_MARKERS, "tr ro", "o")
_mark(_WORD_MARKERS, "ro sq", "e")
_mark(_WORD_MARKERS, "ro sq sr", "i sa")
_mark(_WORD_MARKERS, "sq sr", "u na")
_mark(_WORD_MARKERS, "fr sr", "je")
_mark(_WORD_MARKERS, "sq en fr", "me")
_mark(_WORD_MARKERS, "fr ro sq sr", "ne se")


def _script_of(char: str) -> str | None:
    code = ord(char)
    for low, high, script in _SCRIPT_RANGES:
        if low <= code <= high:
            return script
    return "other" if char.isalpha() else None


def _prepare(text: str) -> tuple[str, list[str]]:
    """The bounded, normalised sample of the text and its words."""
    sample = unicodedata.normalize("NFC", text[: MAX_CHARS * 2])
    sample = _NOISE.sub(" ", sample)
    words = _WORD.findall(sample)
    sample = " ".join(words)[:MAX_CHARS]
    return sample, _WORD.findall(sample)


def _word_script(word: str) -> str | None:
    scripts = Counter(s for s in map(_script_of, word) if s)
    return scripts.most_common(1)[0][0] if scripts else None


def _main_script(words: list[str]) -> str | None:
    """The script of the message, or None when it is mixed.

    Latin words inside a message in another script are usually names and technical terms
    ("Makefile", "UUID"), so a non-Latin script wins with MIN_OTHER_SCRIPT_SHARE of the words;
    Latin needs MIN_SCRIPT_SHARE.
    """
    scripts = Counter(s for s in map(_word_script, words) if s)
    total = sum(scripts.values())
    if not total:
        return None
    non_latin = [(count, script) for script, count in scripts.items() if script != "latin"]
    if non_latin:
        count, script = max(non_latin)
        if count / total >= MIN_OTHER_SCRIPT_SHARE and count / (total - scripts["latin"]) >= MIN_SCRIPT_SHARE:
            return script
    if scripts["latin"] / total >= MIN_SCRIPT_SHARE:
        return "latin"
    return None


def _narrow(script: str, folded: str, words: list[str]) -> set[str]:
    """The candidates of `script` that the fewest letter and word markers of the text speak against."""
    candidates = _CANDIDATES[script]
    markers = [_LETTER_MARKERS[ch] for ch in set(folded) if ch in _LETTER_MARKERS]
    markers += [_WORD_MARKERS[w] for w in {w.casefold() for w in words} if w.casefold() in _WORD_MARKERS]
    against = {code: sum(1 for langs in markers if code not in langs) for code in candidates}
    fewest = min(against.values())
    return {code for code, count in against.items() if count == fewest}


@cache
def _detector(script: str) -> LanguageDetector:
    from lingua import Language, LanguageDetectorBuilder

    languages = [Language.from_str(name) for name in _LINGUA_NAMES[script]]
    # Preloaded: the memory is taken once, on the first message of that script, not bit by bit.
    builder = LanguageDetectorBuilder.from_languages(*languages).with_preloaded_language_models()
    if script not in HIGH_ACCURACY_SCRIPTS:
        builder = builder.with_low_accuracy_mode()
    return builder.build()


def scores(text: str) -> tuple[dict[str, float], int]:
    """Confidence per candidate language (summing to 1) and the number of words of the sample.

    Empty when the text has no letters, mixes scripts, or uses a script none of our languages uses.
    """
    sample, words = _prepare(text)
    script = _main_script(words)
    if script is None:
        return {}, len(words)
    if script in _SCRIPT_LANGUAGE:
        return {_SCRIPT_LANGUAGE[script]: 1.0}, len(words)
    if script not in _CANDIDATES:
        return {}, len(words)
    candidates = _narrow(script, sample.casefold(), words)
    if len(candidates) == 1:
        return {candidates.pop(): 1.0}, len(words)
    # Only the letters of the main script go to Lingua: a Latin product name in a Russian message
    # would otherwise pull the Cyrillic detector nowhere useful.
    main = " ".join(w for w in words if _word_script(w) == script)
    confidences: dict[str, float] = {}
    for value in _detector(script).compute_language_confidence_values(main):
        code = _LINGUA_NAMES[script][value.language.name]
        if code in candidates:
            confidences[code] = confidences.get(code, 0.0) + value.value
    norm = sum(confidences.values())
    if norm <= 0:
        return {}, len(words)
    return {code: value / norm for code, value in confidences.items()}, len(words)


def _threshold(words: int) -> float:
    return CONFIDENCE_BY_WORDS[min(max(words, 1), len(CONFIDENCE_BY_WORDS)) - 1]


def detect(text: str) -> str | None:
    """The supported language `text` is written in, or None when the detector is not confident."""
    if not text or not text.strip():
        return None
    confidences, words = scores(text)
    if not confidences:
        return None
    best, value = max(confidences.items(), key=lambda item: item[1])
    return best if value >= _threshold(words) else None


def should_switch(current: str | None, text: str) -> str | None:
    """The language to propose switching to, or None to stay with `current`.

    Only a message of at least MIN_SWITCH_WORDS words that the detector is confident about and
    that is in another language than `current` proposes a switch; short replies never do.
    """
    if len(_prepare(text)[1]) < MIN_SWITCH_WORDS:
        return None
    detected = detect(text)
    return detected if detected is not None and detected != current else None
