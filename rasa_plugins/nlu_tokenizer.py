"""Rasa's whitespace tokenizer, with each token's lemma set to its script- and spelling-independent
form (rasa_plugins/text_normalization.py), for featurizers configured with `use_lemma: true`.

The token texts and offsets stay as typed, so entities keep their spans and values."""

from __future__ import annotations

from rasa.engine.recipes.default_recipe import DefaultV1Recipe
from rasa.nlu.tokenizers.tokenizer import Token
from rasa.nlu.tokenizers.whitespace_tokenizer import WhitespaceTokenizer
from rasa.shared.nlu.training_data.message import Message

from rasa_plugins.text_normalization import fold_word


@DefaultV1Recipe.register(DefaultV1Recipe.ComponentType.MESSAGE_TOKENIZER, is_trainable=False)
class FoldingWhitespaceTokenizer(WhitespaceTokenizer):
    """Whitespace tokens whose lemma is the folded word ("Привет" -> "privet", "çfarë" -> "cfare")."""

    def tokenize(self, message: Message, attribute: str) -> list[Token]:
        tokens = super().tokenize(message, attribute)
        for token in tokens:
            token.lemma = fold_word(token.text)
        return tokens
