"""Columns encrypted at rest (AES-256-GCM, see storage/fieldcipher.py) and this process's cipher."""

from __future__ import annotations

import json
from functools import lru_cache
from typing import Any

from sqlalchemy import Dialect, Text, TypeDecorator

from storage.fieldcipher import DecryptionError, FieldCipher, decode_key, key_id, new_key

__all__ = [
    "DecryptionError", "EncryptedJSON", "EncryptedText", "FieldCipher", "decode_key",
    "default_cipher", "key_id", "new_key",
]  # fmt: skip


@lru_cache(maxsize=1)
def default_cipher() -> FieldCipher:
    """The cipher for this process, from the settings (ENCRYPTION_KEYS, or the local key file)."""
    from core.settings import get_settings

    return FieldCipher([decode_key(k) for k in get_settings().encryption_keys()])


class EncryptedText(TypeDecorator[str]):
    """A text column stored encrypted; Python code sees the clear text."""

    impl = Text
    cache_ok = True
    context = ""  # associated data: none, for values written before contexts existed

    def process_bind_param(self, value: Any, dialect: Dialect) -> str | None:
        return None if value is None else default_cipher().encrypt(str(value))

    def process_result_value(self, value: Any, dialect: Dialect) -> str | None:
        return None if value is None else default_cipher().decrypt(str(value))


class EncryptedJSON(TypeDecorator[Any]):
    """A JSON document stored encrypted as a whole; Python code sees the document.

    The column name is bound into the ciphertext (AEAD associated data), so a value copied into
    another encrypted column does not decrypt there.
    """

    impl = Text
    cache_ok = True

    def __init__(self, context: str) -> None:
        super().__init__()
        self.context = context

    def process_bind_param(self, value: Any, dialect: Dialect) -> str | None:
        if value is None:
            return None
        document = json.dumps(value, ensure_ascii=False, separators=(",", ":"), sort_keys=True)
        return default_cipher().encrypt(document, self.context.encode())

    def process_result_value(self, value: Any, dialect: Dialect) -> Any:
        if value is None:
            return None
        return json.loads(default_cipher().decrypt(str(value), self.context.encode()))
