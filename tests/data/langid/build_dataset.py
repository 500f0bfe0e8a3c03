"""Rebuild dev.tsv and test.tsv of this folder from the translation catalogs inside PyPI wheels.

The snippets are human translations of user-interface messages shipped as gettext ``.po`` files in
Django (BSD-3-Clause), Sphinx (BSD-2-Clause), django-allauth (MIT) and Wagtail (BSD-3-Clause). English
text is the catalogs' source strings (msgid). Reproduce with:

    .venv/bin/pip download --no-deps -d /tmp/langid-wheels \
        django==5.2.19 sphinx==9.0.4 django-allauth==65.21.1 wagtail==8.0.1
    .venv/bin/python tests/data/langid/build_dataset.py /tmp/langid-wheels

Every source message (msgid) goes to one split only (dev or test, by a hash of the msgid), so the
translations of one message never appear in both. Per language and split the set holds PER_BUCKET
snippets of 1-3, 4-7 and 8-12 words; Serbian is half Cyrillic (``sr``) and half Latin (``sr_Latn``).
"""

from __future__ import annotations

import contextlib
import hashlib
import html
import io
import random
import re
import sys
import zipfile
from collections import defaultdict
from pathlib import Path

from babel.messages.pofile import read_po

HERE = Path(__file__).resolve().parent
PER_BUCKET = 60  # per language, bucket and split
BUCKETS = ((1, 3), (4, 7), (8, 12))
# Catalog folder name -> our code. Serbian Latin is kept apart to balance the two scripts.
CATALOG_LANGS = {
    "de": "de", "fr": "fr", "ar": "ar", "fa": "fa", "tr": "tr", "ru": "ru", "uk": "uk", "ka": "ka",
    "hy": "hy", "ro": "ro", "sq": "sq", "mk": "mk", "sr": "sr", "sr_Latn": "sr_Latn", "sr@latin": "sr_Latn",
}  # fmt: skip
LANG_ORDER = ("de", "en", "fr", "ar", "fa", "tr", "ru", "uk", "ka", "hy", "ro", "sq", "sr", "sr_Latn", "mk")
# Languages written in a non-Latin script: a snippet must contain at least one letter of that script.
SCRIPT_OF = {
    "ar": r"[\u0600-\u06FF]", "fa": r"[\u0600-\u06FF]", "ru": r"[\u0400-\u04FF]", "uk": r"[\u0400-\u04FF]",
    "sr": r"[\u0400-\u04FF]", "mk": r"[\u0400-\u04FF]", "ka": r"[\u10A0-\u10FF]", "hy": r"[\u0530-\u058F]",
}  # fmt: skip

_PLACEHOLDER = re.compile(
    r"%\([^)]*\)[-#0 +]*\d*(?:\.\d+)?[a-zA-Z]"  # %(name)s
    r"|%[-#0 +]*\d*(?:\.\d+)?[sdifr]"  # %s %d %.2f
    r"|\{[^{}]*\}"  # {name} {0}
    r"|<[^>]+>"  # HTML tags
    r"|https?://\S+|\S+@\S+\.\S+"  # URLs, e-mail addresses
    r"|`+|\*\*|&[a-z]+;"
)
_LETTER = re.compile(r"[^\W\d_]", re.UNICODE)


def clean(text: str) -> str:
    text = _PLACEHOLDER.sub(" ", html.unescape(text))
    text = text.replace("\\n", " ").replace("_", " ")
    return " ".join(text.split())


def word_key(word: str) -> str:
    return "".join(ch for ch in word.casefold() if ch.isalnum())


def split_of(msgid: str) -> str:
    return "dev" if hashlib.sha256(msgid.encode()).digest()[0] % 2 == 0 else "test"


def read_catalogs(wheel_dir: Path) -> dict[str, dict[str, str]]:
    """lang -> {msgid: translation}, English from the msgids."""
    texts: dict[str, dict[str, str]] = defaultdict(dict)
    pattern = re.compile(r"locale/([^/]+)/LC_MESSAGES/[^/]+\.po$")
    for wheel in sorted(wheel_dir.glob("*.whl")):
        with zipfile.ZipFile(wheel) as zf:
            for name in sorted(zf.namelist()):
                found = pattern.search(name)
                if not found or found.group(1) not in CATALOG_LANGS:
                    continue
                with contextlib.redirect_stdout(io.StringIO()):  # babel's warnings on odd plurals
                    catalog = read_po(io.BytesIO(zf.read(name)))
                lang = CATALOG_LANGS[found.group(1)]
                for message in catalog:
                    if not message.id or message.fuzzy:
                        continue
                    ids = message.id if isinstance(message.id, tuple) else (message.id,)
                    strings = message.string if isinstance(message.string, tuple) else (message.string,)
                    for msgid, msgstr in zip(ids, strings, strict=False):
                        texts["en"].setdefault(msgid, msgid)
                        if msgstr:
                            texts[lang].setdefault(msgid, msgstr)
    return texts


def windows(words: list[str], lo: int, hi: int, rng: random.Random, limit: int) -> list[list[str]]:
    """Up to `limit` non-overlapping windows of lo..hi words."""
    out: list[list[str]] = []
    start = 0
    while len(out) < limit and len(words) - start >= lo:
        size = rng.randint(lo, min(hi, len(words) - start))
        out.append(words[start : start + size])
        start += size
    return out


def build(wheel_dir: Path) -> None:
    rng = random.Random(20240601)
    texts = read_catalogs(wheel_dir)
    rows: dict[str, list[tuple[str, str]]] = {"dev": [], "test": []}
    for lang in LANG_ORDER:
        code = "sr" if lang == "sr_Latn" else lang
        quota = PER_BUCKET // 2 if code == "sr" else PER_BUCKET
        script = SCRIPT_OF.get(lang)
        # split -> [(words of the translation, word keys of the English source)]
        by_split: dict[str, list[tuple[list[str], set[str]]]] = {"dev": [], "test": []}
        seen: set[str] = set()
        for msgid, msgstr in texts[lang].items():
            text = clean(msgstr)
            if not text or text in seen or (lang != "en" and text == clean(msgid)):
                continue
            seen.add(text)
            source = {word_key(w) for w in clean(msgid).split()} if lang != "en" else set()
            by_split[split_of(msgid)].append((text.split(), source))
        for split, messages in by_split.items():
            rng.shuffle(messages)
            used: set[int] = set()
            # Long buckets first: long messages are scarce.
            for lo, hi in reversed(BUCKETS):
                taken = 0
                resume: dict[int, int] = {}  # message index -> first word not yet used in this bucket
                for second_pass in (False, True):
                    for index, (words, source) in enumerate(messages):
                        if taken >= quota:
                            break
                        if second_pass != (index in resume) or len(words) - resume.get(index, 0) < lo:
                            continue
                        if index in used and not second_pass:
                            continue
                        used.add(index)
                        start = resume.get(index, 0)
                        for window in windows(words[start:], lo, hi, rng, 3 if second_pass else 1):
                            start += len(window)
                            snippet = " ".join(window)
                            if taken >= quota or len(_LETTER.findall(snippet)) < 2:
                                continue
                            if script and not re.search(script, snippet):
                                continue
                            if source and all(word_key(w) in source for w in window):
                                continue  # left untranslated (product names, "URL", ...)
                            rows[split].append((code, snippet))
                            taken += 1
                        resume[index] = start
                if taken < quota:
                    print(f"{lang} {split} {lo}-{hi}: only {taken}/{quota}", file=sys.stderr)
    for split, items in rows.items():
        with (HERE / f"{split}.tsv").open("w", encoding="utf-8", newline="\n") as fh:
            fh.write("lang\ttext\n")
            for code, snippet in items:
                fh.write(f"{code}\t{snippet}\n")
        print(f"{split}: {len(items)} snippets", file=sys.stderr)


if __name__ == "__main__":
    build(Path(sys.argv[1]))
