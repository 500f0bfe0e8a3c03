"""Script- and spelling-independent form of a chat message's words, for NLU features.

People write the same word with or without diacritics ("überspringen", "uberspringen"), in their own
script or in Latin letters on a phone keyboard ("привет", "privet"; "ինչու", "inchu"; "Србија",
"Srbija"). The NLU model sees this folded form (as each token's lemma), so these spellings share
their features: lower case, Cyrillic, Armenian and Georgian transliterated to Latin letters,
diacritics dropped, the digraphs Latin typists use for one letter (sh, ch, zh, kh, x) collapsed,
and a letter repeated three times or more written once.
Arabic script keeps its letters (Arabizi and Finglish cannot be mapped letter by letter), but the
variants that keyboards and habits give one word are unified, as is usual in Arabic NLP: short vowels
and hamza seats dropped (by the decomposition below: "إسم"/"اسم"), the Persian and Arabic forms of
yeh and kaf ("کیف"/"كيف"), alef maqsura and teh marbuta ("على"/"علي", "مدرسة"/"مدرسه"), the
stretching tatweel ("بـــس"), the zero-width non-joiner of Persian ("می‌خواهم"/"میخواهم"), and
Arabic-Indic digits.
"""

from __future__ import annotations

import re
import unicodedata

_CYRILLIC = {
    "а": "a", "б": "b", "в": "v", "г": "g", "ґ": "g", "д": "d", "ђ": "dj", "е": "e", "ё": "e",
    "є": "ye", "ж": "zh", "з": "z", "ѕ": "dz", "и": "i", "і": "i", "ї": "yi", "й": "y", "ј": "j",
    "к": "k", "л": "l", "љ": "lj", "м": "m", "н": "n", "њ": "nj", "о": "o", "п": "p", "р": "r",
    "с": "s", "т": "t", "ћ": "c", "ќ": "kj", "ѓ": "gj", "у": "u", "ў": "u", "ф": "f", "х": "h",
    "ц": "c", "ч": "ch", "џ": "dz", "ш": "sh", "щ": "shch", "ъ": "", "ы": "y", "ь": "", "э": "e",
    "ю": "yu", "я": "ya",
}  # fmt: skip
_ARMENIAN = {
    "ա": "a", "բ": "b", "գ": "g", "դ": "d", "ե": "e", "զ": "z", "է": "e", "ը": "e", "թ": "t",
    "ժ": "zh", "ի": "i", "լ": "l", "խ": "kh", "ծ": "c", "կ": "k", "հ": "h", "ձ": "dz", "ղ": "gh",
    "ճ": "ch", "մ": "m", "յ": "y", "ն": "n", "շ": "sh", "ո": "o", "չ": "ch", "պ": "p", "ջ": "j",
    "ռ": "r", "ս": "s", "վ": "v", "տ": "t", "ր": "r", "ց": "c", "ւ": "v", "փ": "p", "ք": "k",
    "օ": "o", "ֆ": "f", "և": "ev",
}  # fmt: skip
_GEORGIAN = {
    "ა": "a", "ბ": "b", "გ": "g", "დ": "d", "ე": "e", "ვ": "v", "ზ": "z", "თ": "t", "ი": "i",
    "კ": "k", "ლ": "l", "მ": "m", "ნ": "n", "ო": "o", "პ": "p", "ჟ": "zh", "რ": "r", "ს": "s",
    "ტ": "t", "უ": "u", "ფ": "p", "ქ": "k", "ღ": "gh", "ყ": "y", "შ": "sh", "ჩ": "ch", "ც": "c",
    "ძ": "dz", "წ": "w", "ჭ": "ch", "ხ": "kh", "ჯ": "j", "ჰ": "h",
}  # fmt: skip
# Letters that Unicode decomposition does not reduce to a base letter.
_LATIN_EXTRA = {"ß": "ss", "đ": "dj", "ı": "i", "ł": "l", "ø": "o", "æ": "ae", "œ": "oe", "ə": "e"}
_ARABIC_SCRIPT = {
    "ی": "ي", "ى": "ي", "ک": "ك", "ة": "ه", "ۀ": "ه", "ـ": "", "\u200c": "",
    **{chr(0x0660 + digit): str(digit) for digit in range(10)},  # ٠..٩
    **{chr(0x06F0 + digit): str(digit) for digit in range(10)},  # ۰..۹
}  # fmt: skip
_TABLE = str.maketrans({**_CYRILLIC, **_ARMENIAN, **_GEORGIAN, **_LATIN_EXTRA, **_ARABIC_SCRIPT})
# Armenian "ու" is one vowel (u); after the table it reads "ov".
_ARMENIAN_U = re.compile("ու")
# One sound, several spellings on a Latin keyboard: "shto"/"što"/"што", "kharkiv"/"xarkiv"/"харків",
# "karogh"/"karox"/"կարող".
_DIGRAPHS = re.compile(r"sh|ch|zh|kh|gh|x|q")
_DIGRAPH_TO = {"sh": "s", "ch": "c", "zh": "z", "kh": "h", "gh": "h", "x": "h", "q": "k"}
# A letter held down ("hiii", "noooo", "xxxxxxxx"): one of it. Without this a long run counts
# thousands of times in the character n-grams and decides the intent on its own.
_HELD_DOWN = re.compile(r"(.)\1{2,}")


def fold_word(word: str) -> str:
    """The folded form of one word; a word with no letters left keeps its lower-case form."""
    lowered = _ARMENIAN_U.sub("u", _HELD_DOWN.sub(r"\1", word.casefold()))
    latin = lowered.translate(_TABLE)
    decomposed = unicodedata.normalize("NFKD", latin)
    bare = "".join(ch for ch in decomposed if not unicodedata.combining(ch))
    folded = _DIGRAPHS.sub(lambda m: _DIGRAPH_TO[m.group(0)], bare)
    return folded or lowered
