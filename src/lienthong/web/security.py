"""Password hashing (Argon2id), session and CSRF tokens: what every web part shares."""

from __future__ import annotations

import hashlib
import hmac
import secrets

from argon2 import PasswordHasher
from argon2.exceptions import InvalidHashError, VerificationError, VerifyMismatchError

_hasher = PasswordHasher()

#: name of the cookie holding the session token, and of the CSRF form field and header
SESSION_COOKIE = "lt_session"
CSRF_FIELD = "csrf_token"
CSRF_HEADER = "X-CSRF-Token"


def hash_password(password: str) -> str:
    return _hasher.hash(password)


def verify_password(password_hash: str, password: str) -> bool:
    try:
        return _hasher.verify(password_hash, password)
    except (VerifyMismatchError, VerificationError, InvalidHashError):
        return False


def needs_rehash(password_hash: str) -> bool:
    return _hasher.check_needs_rehash(password_hash)


def new_token() -> str:
    """A fresh unguessable token (256 bits)."""
    return secrets.token_urlsafe(32)


def token_id(token: str) -> str:
    """What the server stores for a token: its SHA-256 (a stolen table opens no session)."""
    return hashlib.sha256(token.encode()).hexdigest()


def same_token(expected: str, given: str | None) -> bool:
    return bool(given) and hmac.compare_digest(expected.encode(), (given or "").encode())


#: a hash to verify against when the user does not exist (same time as a real check)
DUMMY_HASH = _hasher.hash("lienthong-no-such-user")
