"""Authenticated encryption of personal fields at rest (AES-256-GCM), with key rotation."""

from __future__ import annotations

import base64
import hashlib
import os
from functools import lru_cache
from typing import Any

from cryptography.exceptions import InvalidTag
from cryptography.hazmat.primitives.ciphers.aead import AESGCM
from sqlalchemy import Dialect, Text, TypeDecorator

_PREFIX = "enc1"


class DecryptionError(ValueError):
    """A value could not be decrypted with any configured key (wrong key or tampered data)."""


def key_id(key: bytes) -> str:
    return hashlib.sha256(key).hexdigest()[:8]


def decode_key(text: str) -> bytes:
    key = base64.urlsafe_b64decode(text.strip() + "=" * (-len(text.strip()) % 4))
    if len(key) != 32:
        raise ValueError("an encryption key must be 32 bytes, URL-safe base64 encoded")
    return key


def new_key() -> str:
    return base64.urlsafe_b64encode(os.urandom(32)).decode().rstrip("=")


class FieldCipher:
    """Encrypts with the first key; decrypts with whichever key the value names."""

    def __init__(self, keys: list[bytes]) -> None:
        if not keys:
            raise ValueError("FieldCipher needs at least one key")
        self._current = keys[0]
        self._by_id = {key_id(k): AESGCM(k) for k in keys}

    @property
    def current_key_id(self) -> str:
        return key_id(self._current)

    def encrypt(self, plaintext: str, context: bytes = b"") -> str:
        nonce = os.urandom(12)
        sealed = AESGCM(self._current).encrypt(nonce, plaintext.encode("utf-8"), context)
        body = base64.urlsafe_b64encode(nonce + sealed).decode().rstrip("=")
        return f"{_PREFIX}:{self.current_key_id}:{body}"

    def decrypt(self, token: str, context: bytes = b"") -> str:
        try:
            prefix, kid, body = token.split(":", 2)
        except ValueError as error:
            raise DecryptionError("not an encrypted value") from error
        aead = self._by_id.get(kid)
        if prefix != _PREFIX or aead is None:
            raise DecryptionError(f"no key with id {kid} is configured")
        raw = base64.urlsafe_b64decode(body + "=" * (-len(body) % 4))
        try:
            return aead.decrypt(raw[:12], raw[12:], context).decode("utf-8")
        except InvalidTag as error:
            raise DecryptionError("value was tampered with or the key is wrong") from error

    def needs_rotation(self, token: str) -> bool:
        return not token.startswith(f"{_PREFIX}:{self.current_key_id}:")


@lru_cache(maxsize=1)
def default_cipher() -> FieldCipher:
    """The cipher for this process, from the settings (ENCRYPTION_KEYS, or the local key file)."""
    from core.settings import get_settings

    return FieldCipher([decode_key(k) for k in get_settings().encryption_keys()])


class EncryptedText(TypeDecorator[str]):
    """A text column stored encrypted; Python code sees the clear text."""

    impl = Text
    cache_ok = True

    def process_bind_param(self, value: Any, dialect: Dialect) -> str | None:
        return None if value is None else default_cipher().encrypt(str(value))

    def process_result_value(self, value: Any, dialect: Dialect) -> str | None:
        return None if value is None else default_cipher().decrypt(str(value))
