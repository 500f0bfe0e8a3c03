"""The chat-language detector (bot/language.py) and its switching policy."""

from __future__ import annotations

import csv
import subprocess
import sys
import time
from pathlib import Path

import pytest

from bot import language
from bot.language import MIN_SWITCH_WORDS, detect, should_switch
from core.languages import CHAT_LANGUAGES

DATA_DIR = Path(__file__).resolve().parent.parent / "data" / "langid"

# Messages a returnee might send, in each supported language (4+ words).
SENTENCES: dict[str, list[str]] = {
    "de": [
        "Ich möchte mit meiner Familie in die Heimat zurückkehren.",
        "Wann ist der nächste Termin bei Ihnen?",
    ],
    "en": ["I would like to return to my home country with my family.", "When is the next appointment?"],
    "fr": ["Je voudrais rentrer dans mon pays avec ma famille.", "Quand est le prochain rendez-vous ?"],
    "ar": ["أريد العودة إلى بلدي مع عائلتي في الشهر القادم", "متى يكون الموعد القادم من فضلك؟"],
    "fa": ["من می‌خواهم با خانواده‌ام به کشورم برگردم", "وقت بعدی من چه زمانی است؟"],
    "tr": ["Ailemle birlikte ülkeme geri dönmek istiyorum.", "Bir sonraki randevu ne zaman olacak?"],
    "ru": ["Я хочу вернуться на родину вместе с семьёй.", "Когда будет следующая встреча с консультантом?"],
    "uk": ["Я хочу повернутися додому разом із моєю родиною.", "Коли буде наступна зустріч з консультантом?"],
    "ka": ["მინდა ოჯახთან ერთად სამშობლოში დავბრუნდე.", "როდის არის შემდეგი შეხვედრა?"],
    "hy": ["Ես ուզում եմ ընտանիքիս հետ վերադառնալ հայրենիք։", "Երբ է հաջորդ հանդիպումը։"],
    "ro": ["Aș dori să mă întorc în țara mea împreună cu familia.", "Când este următoarea programare?"],
    "sq": [
        "Unë dua të kthehem në vendin tim me familjen time.",
        "Kur është takimi i ardhshëm me këshilltarin?",
    ],
    "sr": [
        "Желим да се вратим у своју земљу са породицом.",
        "Želim da se vratim u svoju zemlju sa porodicom.",
    ],
    "mk": [
        "Сакам да се вратам во мојата земја со семејството.",
        "Кога ќе биде следниот состанок со советникот?",
    ],
}
# Short messages (1-3 words) that carry a telling letter or script.
SHORT: list[tuple[str, str]] = [
    ("გამარჯობა", "ka"),
    ("Բարև ձեզ", "hy"),
    ("Дякую, їду", "uk"),
    ("Hvala, doći ću", "sr"),
    ("Ќе дојдам", "mk"),
    ("Teşekkür ederim", "tr"),
    ("Mulțumesc frumos", "ro"),
    ("Faleminderit shumë, është", "sq"),
    ("پیش از ظهر", "fa"),
    ("Straße gefunden", "de"),
]


def test_every_chat_language_has_examples() -> None:
    assert set(SENTENCES) == set(CHAT_LANGUAGES)


@pytest.mark.parametrize(
    ("lang", "text"), [(lang, text) for lang, texts in SENTENCES.items() for text in texts]
)
def test_sentences(lang: str, text: str) -> None:
    assert detect(text) == lang


@pytest.mark.parametrize(("text", "lang"), SHORT)
def test_short_messages_with_telling_letters(text: str, lang: str) -> None:
    assert detect(text) == lang


@pytest.mark.parametrize("text", ["ა", "ოკ", "კი", "დიახ"])
def test_georgian_script_is_georgian_even_for_one_word(text: str) -> None:
    assert detect(text) == "ka"


@pytest.mark.parametrize("text", ["Այո", "ոչ", "Շնորհակալություն"])
def test_armenian_script_is_armenian_even_for_one_word(text: str) -> None:
    assert detect(text) == "hy"


def test_latin_product_names_do_not_hide_the_script() -> None:
    assert detect("Makefile და Batchfile-ის შექმნა") == "ka"
    assert detect("Мой телефон Samsung Galaxy сломался вчера") == "ru"


@pytest.mark.parametrize(
    "text",
    [
        "Здраво, ја сам из Београда и желим да се вратим кући.",
        "Zdravo, ja sam iz Beograda i želim da se vratim kući.",
        "Moja porodica živi u Nišu, a ja sam još uvek u Nemačkoj.",
        "Моја породица живи у Нишу, а ја сам још увек у Немачкој.",
    ],
)
def test_serbian_in_either_script_is_sr(text: str) -> None:
    assert detect(text) == "sr"


@pytest.mark.parametrize(
    "text", ["", "   ", "\n\t", "😀😀👍", "🇩🇪 ➡️ 🇹🇷", "12345", "+49 151 2345 6789", "?!...", "1.", "a"]
)
def test_no_letters_or_too_little_means_no_answer(text: str) -> None:
    assert detect(text) is None


@pytest.mark.parametrize("text", ["OK", "ok", "Hallo", "Taxi", "Ok 👍"])
def test_ambiguous_short_words_abstain(text: str) -> None:
    assert detect(text) is None


@pytest.mark.parametrize("text", ["https://example.org/antrag?id=5", "max@example.org", "@counsellor_bot"])
def test_links_and_handles_are_not_language(text: str) -> None:
    assert detect(text) is None


def test_mixed_scripts_half_and_half_abstain() -> None:
    assert detect("Hallo Привет Guten Morgen Доброе утро") is None


@pytest.mark.parametrize(
    ("unit", "lang"), [("Ich komme morgen zum Termin. ", "de"), ("Я приду завтра, если это возможно. ", "ru")]
)
def test_very_long_text_is_cut_and_fast(unit: str, lang: str) -> None:
    text = unit * (10_000 // len(unit) + 1)
    assert len(text) >= 10_000
    detect(unit)  # load the models first, then time the long text alone
    start = time.perf_counter()
    assert detect(text) == lang
    assert time.perf_counter() - start < 0.5


@pytest.mark.parametrize(
    "text", ["\x00\x01 abc", "ǅ ǈ ǋ", "中文 消息", "שלום לכולם", "Γεια σου φίλε μου", "\ud800"]
)
def test_odd_input_does_not_raise(text: str) -> None:
    assert detect(text) in (None, *CHAT_LANGUAGES)


def test_unsupported_scripts_abstain() -> None:
    assert detect("我想和我的家人一起回国") is None
    assert detect("Θέλω να επιστρέψω στην πατρίδα μου με την οικογένειά μου") is None


# --- should_switch -------------------------------------------------------------------------------


def test_switch_proposed_on_confident_long_message_in_other_language() -> None:
    assert should_switch("de", "Я хочу вернуться на родину вместе с семьёй.") == "ru"
    assert should_switch(None, "Ich möchte mit meiner Familie zurückkehren.") == "de"


def test_no_switch_when_same_language() -> None:
    assert should_switch("ru", "Я хочу вернуться на родину вместе с семьёй.") is None


@pytest.mark.parametrize("text", ["Да", "Ja, gerne", "Дякую, їду", "გამარჯობა", "Teşekkür ederim çok"])
def test_no_switch_on_short_messages_even_when_confident(text: str) -> None:
    assert len(text.split()) < MIN_SWITCH_WORDS
    assert should_switch("en", text) is None


def test_no_switch_when_not_confident() -> None:
    assert should_switch("de", "OK OK OK OK OK") is None
    assert should_switch("de", "😀 😀 😀 😀 😀 1 2 3") is None


def test_four_words_are_enough() -> None:
    text = "Коли буде наступна зустріч?"
    assert len(text.split()) == MIN_SWITCH_WORDS
    assert should_switch("de", text) == "uk"


# --- no side effects at import -----------------------------------------------------------------


def test_import_loads_no_models() -> None:
    code = "import sys, bot.language; print('lingua' in sys.modules, 'langdetect' in sys.modules)"
    root = Path(__file__).resolve().parent.parent.parent
    out = subprocess.run([sys.executable, "-c", code], cwd=root, capture_output=True, text=True, check=True)
    assert out.stdout.split() == ["False", "False"]


def test_detectors_are_cached() -> None:
    detect("Я хочу вернуться на родину вместе с семьёй.")
    assert language._detector("cyrillic") is language._detector("cyrillic")


# --- quality gate on the held-out test split ---------------------------------------------------


def _load(split: str) -> list[tuple[str, str]]:
    with (DATA_DIR / f"{split}.tsv").open(encoding="utf-8", newline="") as file:
        reader = csv.reader(file, delimiter="\t", quoting=csv.QUOTE_NONE)
        assert next(reader) == ["lang", "text"]
        return [(lang, text) for lang, text in reader]


def test_test_split_is_balanced_and_covers_all_languages() -> None:
    rows = _load("test")
    counts = {lang: sum(1 for gold, _ in rows if gold == lang) for lang in CHAT_LANGUAGES}
    assert min(counts.values()) >= 100, counts
    assert {len(text.split()) for _, text in rows} <= set(range(1, 13))


def test_quality_gate_on_test_split() -> None:
    rows = _load("test")
    answers = [(gold, detect(text), len(text.split())) for gold, text in rows]
    long = [(gold, got) for gold, got, words in answers if words >= 4]
    accuracy_long = sum(1 for gold, got in long if got == gold) / len(long)
    wrong = sum(1 for gold, got, _ in answers if got is not None and got != gold) / len(answers)
    assert accuracy_long >= 0.97, f"{accuracy_long:.3%} right on 4+ words"
    assert wrong <= 0.02, f"{wrong:.3%} confidently wrong"
    # Every language is recognised on most of its longer messages.
    for lang in CHAT_LANGUAGES:
        mine = [got == gold for gold, got in long if gold == lang]
        assert sum(mine) / len(mine) >= 0.85, lang
