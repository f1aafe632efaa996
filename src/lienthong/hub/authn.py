"""Who is calling: a connected system or an operator by its bearer API key (REST and admin
APIs), or a system by the national platform's signed ``XroadVnpt-*`` headers, with the
replay rules of those signatures.

The two kinds of key never mix: an operator reads no packages (the agency API answers 403
``AUTH_SYSTEM_KEY_REQUIRED``), a system cannot use the admin API (403
``AUTH_OPERATOR_KEY_REQUIRED``).
"""

from __future__ import annotations

from collections.abc import Mapping
from datetime import UTC, datetime, timedelta

from sqlalchemy import delete
from sqlalchemy.orm import Session

from lienthong.hub import directory
from lienthong.hub.errors import HubError, forbidden
from lienthong.hub.models import Operator, SeenSignature, System
from lienthong.hub.operators import operator_by_api_key
from lienthong.hub.sealed import system_secret
from lienthong.protocol.xroad import (
    SystemCredentials,
    VdxpAuthError,
    VerifiedRequest,
    verify_request,
)


def bearer_key(authorization: str | None) -> str:
    """The key of ``Authorization: Bearer <key>``; 401 ``AUTH_API_KEY_REQUIRED`` without."""
    if not authorization or not authorization.lower().startswith("bearer "):
        raise HubError(
            "AUTH_API_KEY_REQUIRED",
            "Thiếu khóa API (Authorization: Bearer …)",
            "Missing API key (Authorization: Bearer …)",
            field="Authorization",
            status=401,
        )
    return authorization[7:].strip()


def invalid_key() -> HubError:
    return HubError(
        "AUTH_API_KEY_INVALID",
        "Khóa API không hợp lệ",
        "Invalid API key",
        field="Authorization",
        status=401,
    )


def system_key_required() -> HubError:
    """An operator's key on the agency API."""
    return forbidden(
        "AUTH_SYSTEM_KEY_REQUIRED",
        "Khóa của người vận hành không dùng được cho API của cơ quan "
        "(người vận hành không đọc gói tin)",
        "An operator's key cannot use the agency API (operators read no packages)",
        field="Authorization",
    )


def operator_key_required() -> HubError:
    """A system's key on the admin API."""
    return forbidden(
        "AUTH_OPERATOR_KEY_REQUIRED",
        "API quản trị cần khóa API của người vận hành, không phải của hệ thống kết nối",
        "The admin API needs an operator's API key, not a connected system's",
        field="Authorization",
    )


def system_for_key(session: Session, *, api_key: str) -> System:
    """The system whose API key this is; an operator's key or an unknown key is refused."""
    system = directory.system_by_api_key(session, api_key=api_key)
    if system is None:
        if operator_by_api_key(session, api_key=api_key) is not None:
            raise system_key_required()
        raise invalid_key()
    return system


def operator_for_key(session: Session, *, api_key: str) -> Operator:
    """The operator whose API key this is; a system's key or an unknown key is refused."""
    operator = operator_by_api_key(session, api_key=api_key)
    if operator is None:
        if directory.system_by_api_key(session, api_key=api_key) is not None:
            raise operator_key_required()
        raise invalid_key()
    return operator


def authenticate_signed(
    session: Session, *, headers: Mapping[str, str], path: str, window: timedelta
) -> tuple[System, VerifiedRequest]:
    """The system that signed a national-platform request, its signature checked (HMAC,
    signed values, freshness within ``window``, novelty). Run it in a unit of work of its
    own, not retried (``Database.run_once``): it records the signature, and a concurrent
    identical one losing the insert race (``IntegrityError``) is a replay — see
    :func:`replayed`."""
    systems: dict[str, System] = {}

    def secret_for(system_id: str) -> SystemCredentials | None:
        system = directory.get_system(session, system_id=system_id)
        if system is None:
            return None
        systems[system_id] = system
        return SystemCredentials(
            system.id, system_secret(session, system), system.legacy_sdk, system.clock_zone
        )

    def seen(signature: str) -> bool:
        # a signature is good for one request (fresh-signing systems)
        if session.get(SeenSignature, signature) is not None:
            return True
        session.add(
            SeenSignature(
                signature=signature,
                system_id=next(iter(systems), ""),
                operation=path[:64],
                seen_at=datetime.now(UTC),
            )
        )
        session.flush()
        return False

    try:
        verified = verify_request(
            headers, secret_for=secret_for, now=datetime.now(UTC), window=window, seen=seen
        )
    except VdxpAuthError as exc:
        raise HubError(exc.code.value, exc.message_vi, exc.message_en, status=401) from None
    if verified.legacy:
        _check_legacy(path)
    return systems[verified.system_id], verified


def replayed() -> HubError:
    """A signature that lost the race to be recorded: another request just used it."""
    return HubError("AUTH_REPLAYED", "Chữ ký đã được dùng", "Signature already used", status=401)


#: Operations a legacy SDK signature (repeatable for ever) may never authorise: they
#: change the directory, and their body is not covered by the signature.
_FRESH_SIGNATURE_ONLY = {"/registerAgency", "/deleteAgency"}


def _check_legacy(path: str) -> None:
    """The rule for a ``--legacy-sdk`` system, whose signatures repeat.

    SDK 2.0.1 fixes its timestamp once per client object and never clears its header map,
    so two *different* operations can carry byte-identical signed headers (``updateStatus``
    then ``getReceivedEdocList``; ``getEdoc`` of a second document then its ``updateStatus``):
    a signature cannot be tied to one operation without locking the agency out of its inbox.
    What a repeated signature can do is bounded by what it signs instead: every operation
    reads its parameters from signed values only (never from the body or an unsigned
    header), so a repeat can only repeat exactly those values — the same ``docId``, the
    same ``status``, the same ``hash-file`` (which binds ``sendEdoc`` to its package) — and
    for these operations that is idempotent (lists, counts, ``getEdoc``, ``updateStatus``)
    or deduplicated (``sendEdoc``). Keys an operation does not use (left over from the
    SDK's earlier calls) are signed and ignored. Directory changes, whose body is not
    signed, need a fresh signature."""
    if path in _FRESH_SIGNATURE_ONLY:
        raise HubError(
            "AUTH_FRESH_SIGNATURE_REQUIRED",
            "Thao tác danh bạ cần chữ ký mới; hệ thống đăng ký --legacy-sdk không được dùng",
            "Directory changes need a fresh signature; not allowed for a --legacy-sdk system",
            status=403,
        )


def purge_seen_signatures(session: Session, *, older_than: timedelta) -> int:
    """Forget signatures older than the freshness window (they cannot be replayed then)."""
    cutoff = datetime.now(UTC) - older_than
    result = session.execute(delete(SeenSignature).where(SeenSignature.seen_at < cutoff))
    return int(getattr(result, "rowcount", 0) or 0)
