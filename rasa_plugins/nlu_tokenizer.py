"""Rasa's whitespace tokenizer, with each token's lemma set to its script- and spelling-independent
form (rasa_plugins/text_normalization.py), for featurizers configured with `use_lemma: true`.

The token texts and offsets stay as typed, so entities keep their spans and values."""

from __future__ import annotations

import hashlib
from pathlib import Path
from typing import Any

from rasa.engine.recipes.default_recipe import DefaultV1Recipe
from rasa.nlu.tokenizers.tokenizer import Token
from rasa.nlu.tokenizers.whitespace_tokenizer import WhitespaceTokenizer
from rasa.shared.nlu.training_data.message import Message

from rasa_plugins import text_normalization
from rasa_plugins.text_normalization import fold_word

# Rasa caches trained components by the fingerprints of their inputs, which know only the config and the
# data: without this, a change to the folding would reuse the components trained on the old lemmas.
_CODE = (Path(__file__), Path(text_normalization.__file__))


@DefaultV1Recipe.register(DefaultV1Recipe.ComponentType.MESSAGE_TOKENIZER, is_trainable=False)
class FoldingWhitespaceTokenizer(WhitespaceTokenizer):
    """Whitespace tokens whose lemma is the folded word ("Привет" -> "privet", "çfarë" -> "cfare")."""

    @classmethod
    def fingerprint_addon(cls, config: dict[str, Any]) -> str | None:
        """The folding code is part of the fingerprint: a change to it retrains what follows."""
        return hashlib.sha256(b"".join(path.read_bytes() for path in _CODE)).hexdigest()

    def tokenize(self, message: Message, attribute: str) -> list[Token]:
        tokens = super().tokenize(message, attribute)
        for token in tokens:
            token.lemma = fold_word(token.text)
        return tokens
