"""The signature of a push to an agency system's callback URL.

The hub POSTs the package exactly as a fetch would give it, with ``X-Lienthong-Kind``
(``edoc`` or ``status``), ``X-Lienthong-Message-Id`` and ``X-Lienthong-Signature`` = hex
HMAC-SHA256(key = the system's secret as UTF-8, message = the body). A receiver checks it with
:func:`verify_push` before it trusts a byte of the body.
"""

from __future__ import annotations

import hmac
from collections.abc import Mapping
from dataclasses import dataclass

__all__ = [
    "KIND_HEADER",
    "MESSAGE_ID_HEADER",
    "SIGNATURE_HEADER",
    "Push",
    "PushSignatureError",
    "push_headers",
    "sign_push",
    "verify_push",
]

KIND_HEADER = "X-Lienthong-Kind"
MESSAGE_ID_HEADER = "X-Lienthong-Message-Id"
SIGNATURE_HEADER = "X-Lienthong-Signature"


class PushSignatureError(Exception):
    """A push whose signature is missing or wrong (code ``PUSH_SIGNATURE_INVALID``)."""

    code = "PUSH_SIGNATURE_INVALID"

    def __init__(self, message_vi: str, message_en: str) -> None:
        super().__init__(message_en)
        self.message_vi = message_vi
        self.message_en = message_en


@dataclass(frozen=True, slots=True)
class Push:
    """A verified push: which message, which kind, and its bytes."""

    message_id: str
    kind: str
    body: bytes


def sign_push(secret: str, body: bytes) -> str:
    return hmac.new(secret.encode(), body, "sha256").hexdigest()


def push_headers(*, secret: str, body: bytes, kind: str, message_id: str) -> dict[str, str]:
    return {
        "Content-Type": "application/xml",
        KIND_HEADER: kind,
        MESSAGE_ID_HEADER: message_id,
        SIGNATURE_HEADER: sign_push(secret, body),
    }


def verify_push(secret: str, body: bytes, headers: Mapping[str, str]) -> Push:
    """The push if its signature holds, else :class:`PushSignatureError`. ``headers`` may be
    any case-insensitive or plain mapping (names are matched without regard to case)."""
    lowered = {k.lower(): v for k, v in headers.items()}
    given = lowered.get(SIGNATURE_HEADER.lower(), "")
    if not given or not hmac.compare_digest(given.lower(), sign_push(secret, body)):
        raise PushSignatureError(
            "Chữ ký của gói đẩy đến không hợp lệ", "The push's signature is missing or wrong"
        )
    return Push(
        message_id=lowered.get(MESSAGE_ID_HEADER.lower(), ""),
        kind=lowered.get(KIND_HEADER.lower(), "edoc"),
        body=body,
    )
