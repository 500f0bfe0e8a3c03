"""The NLU's folded word forms (rasa_plugins/text_normalization.py): the spellings people type for the
same word, in their own script or in Latin letters, with or without diacritics, share one form; the
tokenizer inside Rasa puts that form in the lemma and leaves the typed text and offsets alone."""

from __future__ import annotations

import textwrap
from pathlib import Path

import pytest

from rasa_plugins.text_normalization import fold_word
from tests.support.in_rasa import run_in_rasa


@pytest.mark.parametrize(
    ("typed", "other_spelling"),
    [
        ("Привет", "privet"),  # ru
        ("хочу", "hochu"),  # ru, a digraph for one letter
        ("Србија", "Srbija"),  # sr Cyrillic and Latin
        ("зашто", "zašto"),  # sr
        ("зошто", "zoshto"),  # mk
        ("ђорђе", "Đorđe"),  # sr letters that Unicode does not decompose
        ("ինչու", "inchu"),  # hy
        ("կարող", "karox"),  # hy: ղ typed as x or gh
        ("გამარჯობა", "gamarjoba"),  # ka
        ("დავიწყო", "daviwyo"),  # ka: წ typed as w, ყ as y
        ("Überspringen", "uberspringen"),  # de
        ("çfarë", "cfare"),  # sq
        ("şimdi", "simdi"),  # tr
        ("ÎNAPOI", "inapoi"),  # ro
        ("إسمي", "اسمي"),  # ar: hamza seat
        ("مُمْكِن", "ممكن"),  # ar: short vowels
        ("مدرسة", "مدرسه"),  # ar/fa: teh marbuta
        ("على", "علي"),  # ar: alef maqsura
        ("بـــس", "بس"),  # ar: tatweel
        ("كيف", "کیف"),  # ar/fa: Arabic and Persian kaf and yeh
        ("می\u200cخواهم", "میخواهم"),  # fa: with and without the zero-width non-joiner
        ("۲۵", "25"),  # fa digits
    ],
)
def test_spellings_of_one_word_share_the_folded_form(typed: str, other_spelling: str) -> None:
    assert fold_word(typed) == fold_word(other_spelling)


@pytest.mark.parametrize(("word", "folded"), [("نعم", "نعم"), ("بله", "بله"), ("?!", "?!"), ("2+2", "2+2")])
def test_arabic_script_and_words_without_letters_keep_their_form(word: str, folded: str) -> None:
    assert fold_word(word) == folded


@pytest.mark.parametrize(
    ("held_down", "word"), [("hiii", "hi"), ("Noooo", "no"), ("x" * 5000, "x"), ("дааа", "да")]
)
def test_a_letter_held_down_counts_once(held_down: str, word: str) -> None:
    assert fold_word(held_down) == fold_word(word)


def test_double_letters_stay() -> None:
    assert fold_word("Tschüss") == "tscuss"


def test_different_words_stay_apart() -> None:
    assert fold_word("да") != fold_word("не")
    assert fold_word("stop") != fold_word("start")


CHECK = textwrap.dedent(
    """
    import json
    from rasa.shared.nlu.training_data.message import Message
    from rasa_plugins.nlu_tokenizer import FoldingWhitespaceTokenizer

    tokenizer = FoldingWhitespaceTokenizer(FoldingWhitespaceTokenizer.get_default_config())
    message = Message(data={"text": "Извините, я имела в виду Сербию, çfarë?"})
    print(json.dumps([[t.text, t.start, t.end, t.lemma] for t in tokenizer.tokenize(message, "text")]))
    """
)


def test_the_tokenizer_inside_rasa_folds_lemmas_only() -> None:
    tokens = run_in_rasa(CHECK)
    assert tokens == [
        ["Извините", 0, 8, "izvinite"],
        ["я", 10, 11, "ya"],
        ["имела", 12, 17, "imela"],
        ["в", 18, 19, "v"],
        ["виду", 20, 24, "vidu"],
        ["Сербию", 25, 31, "serbiyu"],
        ["çfarë", 33, 38, "cfare"],
    ]


FINGERPRINTS = textwrap.dedent(
    """
    import json, sys
    from pathlib import Path
    from rasa.engine.training.fingerprinting import calculate_fingerprint_key
    from rasa_plugins import nlu_tokenizer
    from rasa_plugins.nlu_tokenizer import FoldingWhitespaceTokenizer

    config = FoldingWhitespaceTokenizer.get_default_config()
    before = calculate_fingerprint_key(FoldingWhitespaceTokenizer, config, {})
    changed = Path(sys.argv[1])
    changed.write_bytes(nlu_tokenizer._CODE[1].read_bytes() + b"# a change to the folding\\n")
    nlu_tokenizer._CODE = (nlu_tokenizer._CODE[0], changed)
    after = calculate_fingerprint_key(FoldingWhitespaceTokenizer, config, {})
    print(json.dumps([before, after]))
    """
)


def test_a_change_to_the_folding_code_changes_the_tokenizers_fingerprint_so_rasa_retrains(
    tmp_path: Path,
) -> None:
    before, after = run_in_rasa(FINGERPRINTS, str(tmp_path / "text_normalization.py"))
    assert before != after
