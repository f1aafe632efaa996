"""The push signature covers when and which message as well as the bytes, with a key of its
own derived from the system's secret (security review, issue 10 §3.7): a captured push
cannot be replayed later, re-labelled as another message or kind, or used as an
``XroadVnpt-*`` signature; ``verify_push(secret, body, headers)`` is still the one check."""

from __future__ import annotations

import hmac
import time

import pytest

from lienthong.protocol.push import (
    KIND_HEADER,
    MESSAGE_ID_HEADER,
    SIGNATURE_HEADER,
    TIMESTAMP_HEADER,
    PushSignatureError,
    push_headers,
    verify_push,
)

SECRET = "bí-mật-của-hệ-thống-g22"
BODY = b"<edXML>...</edXML>"
MESSAGE = "4f6f0a0e-3c55-4d3e-9d4e-2b1b8f0d8a11"


def test_a_signed_push_verifies() -> None:
    headers = push_headers(secret=SECRET, body=BODY, kind="edoc", message_id=MESSAGE)
    push = verify_push(SECRET, BODY, headers)
    assert (push.message_id, push.kind, push.body) == (MESSAGE, "edoc", BODY)
    assert abs(push.timestamp - time.time()) < 60


@pytest.mark.parametrize(
    "change",
    [
        {MESSAGE_ID_HEADER: "0b8d6a3e-0000-4000-8000-000000000000"},
        {KIND_HEADER: "status"},
        {TIMESTAMP_HEADER: "1700000000"},
        {TIMESTAMP_HEADER: ""},
        {SIGNATURE_HEADER: ""},
    ],
)
def test_a_push_relabelled_or_unsigned_is_refused(change: dict[str, str]) -> None:
    headers = push_headers(secret=SECRET, body=BODY, kind="edoc", message_id=MESSAGE)
    with pytest.raises(PushSignatureError):
        verify_push(SECRET, BODY, {**headers, **change})


def test_other_bytes_or_another_secret_are_refused() -> None:
    headers = push_headers(secret=SECRET, body=BODY, kind="edoc", message_id=MESSAGE)
    with pytest.raises(PushSignatureError):
        verify_push(SECRET, BODY + b" ", headers)
    with pytest.raises(PushSignatureError):
        verify_push("another secret", BODY, headers)


def test_a_captured_push_replayed_later_is_refused() -> None:
    old = int(time.time()) - 3600
    headers = push_headers(secret=SECRET, body=BODY, kind="edoc", message_id=MESSAGE, timestamp=old)
    assert verify_push(SECRET, BODY, headers, now=old + 10).message_id == MESSAGE
    with pytest.raises(PushSignatureError, match="stale"):
        verify_push(SECRET, BODY, headers)


def test_the_push_key_is_not_the_sdk_secret() -> None:
    """The old signature (HMAC of the body with the SDK secret itself) is neither what the
    hub sends nor accepted: the secret is never used raw on attacker-chosen bytes."""
    headers = push_headers(secret=SECRET, body=BODY, kind="edoc", message_id=MESSAGE)
    raw = hmac.new(SECRET.encode(), BODY, "sha256").hexdigest()
    assert raw not in headers[SIGNATURE_HEADER]
    with pytest.raises(PushSignatureError):
        verify_push(SECRET, BODY, {**headers, SIGNATURE_HEADER: raw})
