"""The file store of voice answers, encrypted at rest: DATA_DIR/voice/<profile>/<note>.ogg holds
AES-256-GCM ciphertext (storage/fieldcipher.py), never audio in clear."""

from __future__ import annotations

import os
from pathlib import Path

from storage.crypto import default_cipher
from storage.fieldcipher import FieldCipher

VOICE_CONTEXT = b"voice-note"


def write_voice(path: Path, audio: bytes) -> None:
    """Write atomically: a reader never sees half a file."""
    path.parent.mkdir(parents=True, exist_ok=True)
    partial = path.with_name(path.name + ".part")
    partial.write_bytes(default_cipher().encrypt_bytes(audio, VOICE_CONTEXT))
    os.replace(partial, path)


def read_voice(path: Path) -> bytes:
    return default_cipher().decrypt_bytes(path.read_bytes(), VOICE_CONTEXT)


def rotate_voice_files(voice_dir: Path, cipher: FieldCipher) -> tuple[int, int]:
    """Re-encrypt every voice file under the current key; returns (re-encrypted, checked)."""
    rotated = checked = 0
    for path in sorted(voice_dir.rglob("*.ogg")) if voice_dir.is_dir() else []:
        checked += 1
        blob = path.read_bytes()
        if cipher.needs_rotation(blob):
            partial = path.with_name(path.name + ".part")
            partial.write_bytes(
                cipher.encrypt_bytes(cipher.decrypt_bytes(blob, VOICE_CONTEXT), VOICE_CONTEXT)
            )
            os.replace(partial, path)
            rotated += 1
    return rotated, checked
