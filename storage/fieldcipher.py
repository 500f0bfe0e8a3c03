"""AES-256-GCM field encryption with key rotation; standard library and `cryptography` only, so the
Rasa process (its own Python 3.10 environment) encrypts its tracker store with the same format."""

from __future__ import annotations

import base64
import hashlib
import os

from cryptography.exceptions import InvalidTag
from cryptography.hazmat.primitives.ciphers.aead import AESGCM

_PREFIX = "enc1"
# Associated data of Rasa's tracker events (rasa_plugins/tracker_store.py), for key rotation here.
TRACKER_EVENT_CONTEXT = b"rasa.events.data"


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

    def encrypt_bytes(self, data: bytes, context: bytes = b"") -> bytes:
        """Binary values (voice answers): the same header as text values, then nonce + ciphertext."""
        nonce = os.urandom(12)
        header = f"{_PREFIX}:{self.current_key_id}:".encode()
        return header + nonce + AESGCM(self._current).encrypt(nonce, data, context)

    def decrypt_bytes(self, blob: bytes, context: bytes = b"") -> bytes:
        try:
            prefix, kid, raw = blob.split(b":", 2)
        except ValueError as error:
            raise DecryptionError("not an encrypted value") from error
        aead = self._by_id.get(kid.decode("ascii", "replace"))
        if prefix != _PREFIX.encode() or aead is None:
            raise DecryptionError("no configured key opens this value")
        try:
            return aead.decrypt(raw[:12], raw[12:], context)
        except InvalidTag as error:
            raise DecryptionError("value was tampered with or the key is wrong") from error

    def reencrypt(self, token: str, context: bytes = b"") -> str:
        """The same clear text under the current key (for key rotation)."""
        return self.encrypt(self.decrypt(token, context), context)

    def needs_rotation(self, token: str | bytes) -> bool:
        header = f"{_PREFIX}:{self.current_key_id}:"
        return not (
            token.startswith(header.encode()) if isinstance(token, bytes) else token.startswith(header)
        )

    @classmethod
    def from_keys_csv(cls, keys_csv: str) -> FieldCipher:
        """The cipher for ENCRYPTION_KEYS: comma-separated keys, the one to encrypt with first."""
        return cls([decode_key(k) for k in keys_csv.split(",") if k.strip()])
