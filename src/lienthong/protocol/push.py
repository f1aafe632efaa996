"""The signature of a push to an agency system's callback URL.

The hub POSTs the package exactly as a fetch would give it, with ``X-Lienthong-Kind``
(``edoc`` or ``status``), ``X-Lienthong-Message-Id``, ``X-Lienthong-Timestamp`` (Unix
seconds, UTC) and ``X-Lienthong-Signature`` = ``v2=`` + hex HMAC-SHA256 of::

    lienthong-push-v2 \\n timestamp \\n message id \\n kind \\n hex SHA-256 of the body

keyed with a push key derived from the system's secret (HMAC-SHA256(secret,
``lienthong-push-key``)): the signature covers when and which message as well as the
bytes, and never equals anything the national platform's ``XroadVnpt-*`` scheme signs with
the same secret. A receiver checks it with :func:`verify_push` before it trusts a byte of
the body; a push older (or newer) than the window is refused, and a receiver that keeps
the message ids it took treats a repeated id as already received.
"""

from __future__ import annotations

import hashlib
import hmac
import time
from collections.abc import Mapping
from dataclasses import dataclass

__all__ = [
    "KIND_HEADER",
    "MESSAGE_ID_HEADER",
    "SIGNATURE_HEADER",
    "TIMESTAMP_HEADER",
    "WINDOW_SECONDS",
    "Push",
    "PushSignatureError",
    "push_headers",
    "sign_push",
    "verify_push",
]

KIND_HEADER = "X-Lienthong-Kind"
MESSAGE_ID_HEADER = "X-Lienthong-Message-Id"
SIGNATURE_HEADER = "X-Lienthong-Signature"
TIMESTAMP_HEADER = "X-Lienthong-Timestamp"
#: How far a push's timestamp may be from the receiver's clock, in seconds.
WINDOW_SECONDS = 300
_VERSION = "v2"


class PushSignatureError(Exception):
    """A push whose signature is missing, wrong or stale (code ``PUSH_SIGNATURE_INVALID``)."""

    code = "PUSH_SIGNATURE_INVALID"

    def __init__(self, message_vi: str, message_en: str) -> None:
        super().__init__(message_en)
        self.message_vi = message_vi
        self.message_en = message_en


@dataclass(frozen=True, slots=True)
class Push:
    """A verified push: which message, which kind, when it was signed, and its bytes."""

    message_id: str
    kind: str
    body: bytes
    timestamp: int = 0


def _push_key(secret: str) -> bytes:
    return hmac.new(secret.encode(), b"lienthong-push-key", "sha256").digest()


def sign_push(secret: str, body: bytes, *, timestamp: int, message_id: str, kind: str) -> str:
    """The ``X-Lienthong-Signature`` value of a push."""
    material = "\n".join(
        (f"lienthong-push-{_VERSION}", str(timestamp), message_id, kind, _sha256(body))
    )
    mac = hmac.new(_push_key(secret), material.encode(), "sha256").hexdigest()
    return f"{_VERSION}={mac}"


def _sha256(body: bytes) -> str:
    return hashlib.sha256(body).hexdigest()


def push_headers(
    *, secret: str, body: bytes, kind: str, message_id: str, timestamp: int | None = None
) -> dict[str, str]:
    at = int(time.time()) if timestamp is None else timestamp
    return {
        "Content-Type": "application/xml",
        KIND_HEADER: kind,
        MESSAGE_ID_HEADER: message_id,
        TIMESTAMP_HEADER: str(at),
        SIGNATURE_HEADER: sign_push(secret, body, timestamp=at, message_id=message_id, kind=kind),
    }


def verify_push(
    secret: str,
    body: bytes,
    headers: Mapping[str, str],
    *,
    now: float | None = None,
    window: int = WINDOW_SECONDS,
) -> Push:
    """The push if its signature holds and its timestamp is within ``window`` seconds of
    ``now`` (default: this machine's clock), else :class:`PushSignatureError`. ``headers``
    may be any case-insensitive or plain mapping (names are matched without regard to
    case)."""
    lowered = {k.lower(): v for k, v in headers.items()}
    given = lowered.get(SIGNATURE_HEADER.lower(), "").strip().lower()
    message_id = lowered.get(MESSAGE_ID_HEADER.lower(), "")
    kind = lowered.get(KIND_HEADER.lower(), "edoc")
    raw_time = lowered.get(TIMESTAMP_HEADER.lower(), "").strip()
    if not raw_time.isascii() or not raw_time.isdigit() or len(raw_time) > 12:
        raise _invalid()
    timestamp = int(raw_time)
    expected = sign_push(secret, body, timestamp=timestamp, message_id=message_id, kind=kind)
    if not given or not hmac.compare_digest(given.encode(), expected.encode()):
        raise _invalid()
    current = time.time() if now is None else now
    if abs(current - timestamp) > window:
        raise PushSignatureError(
            f"Gói đẩy đến đã quá hạn (ký lúc {timestamp}, lệch hơn {window} giây)",
            f"The push is stale (signed at {timestamp}, more than {window} s away)",
        )
    return Push(message_id=message_id, kind=kind, body=body, timestamp=timestamp)


def _invalid() -> PushSignatureError:
    return PushSignatureError(
        "Chữ ký của gói đẩy đến không hợp lệ", "The push's signature is missing or wrong"
    )
