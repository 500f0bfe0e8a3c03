"""Passwords (argon2id), session tokens and CSRF tokens of the coach pages."""

from __future__ import annotations

import hashlib
import hmac
import secrets
from functools import cache

from argon2 import PasswordHasher
from argon2.exceptions import InvalidHashError, VerificationError, VerifyMismatchError

SESSION_COOKIE = "coach_session"
LOGIN_CSRF_COOKIE = "coach_login_csrf"
MIN_PASSWORD_LENGTH = 10


@cache
def hasher() -> PasswordHasher:
    """argon2-cffi's defaults are argon2id with the RFC 9106 low-memory parameters."""
    return PasswordHasher()


def hash_password(password: str) -> str:
    if len(password) < MIN_PASSWORD_LENGTH:
        raise ValueError(f"a password needs at least {MIN_PASSWORD_LENGTH} characters")
    return hasher().hash(password)


def verify_password(password_hash: str, password: str) -> bool:
    try:
        return hasher().verify(password_hash, password)
    except (VerifyMismatchError, VerificationError, InvalidHashError):
        return False


@cache
def _dummy_hash() -> str:
    return hasher().hash(secrets.token_urlsafe(16))


def burn_verification_time(password: str) -> None:
    """Spend as long as a real check, so an unknown username does not answer faster."""
    verify_password(_dummy_hash(), password)


def new_token() -> str:
    return secrets.token_urlsafe(32)


def token_hash(token: str) -> str:
    """What the database keeps of a session token: its SHA-256 (the token itself is random)."""
    return hashlib.sha256(token.encode()).hexdigest()


def tokens_equal(given: str | None, expected: str | None) -> bool:
    return bool(given) and bool(expected) and hmac.compare_digest(str(given), str(expected))
