"""Pseudonymous participant ids: an HMAC of the Telegram user id, so the raw id is never stored."""

from __future__ import annotations

import hashlib
import hmac


def subject_hash(telegram_user_id: int, key: bytes) -> str:
    """Return the HMAC-SHA256 (hex, 64 characters) of a Telegram user id under ``key``."""
    if isinstance(telegram_user_id, bool) or not isinstance(telegram_user_id, int):
        raise TypeError("telegram_user_id must be an int")
    if not key:
        raise ValueError("the hash key must not be empty")
    message = str(telegram_user_id).encode("ascii")
    return hmac.new(key, message, hashlib.sha256).hexdigest()
