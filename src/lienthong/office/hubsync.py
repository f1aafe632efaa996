"""The office as one connected system of its provincial hub, through :mod:`lienthong.client`
only: packages arrive by push (verified with :func:`lienthong.protocol.push.verify_push`) or
by polling the inbox; statuses leave from the outbox, in order per document.

Receiving is idempotent (a message already received is only acknowledged again), so a
push and a poll racing for the same package create one document.
"""

from __future__ import annotations

import json
import logging
import random
from collections.abc import Mapping
from datetime import UTC, datetime, timedelta

from sqlalchemy import select
from sqlalchemy.orm import Session

from lienthong.client.rest import HubClient, HubClientError
from lienthong.office import incoming
from lienthong.office.errors import OfficeError
from lienthong.office.models import HubConnection, StatusOutbox, utcnow
from lienthong.office.runtime import Office
from lienthong.protocol.push import PushSignatureError, verify_push

log = logging.getLogger("lienthong.office.hub")
#: a status that keeps failing is retried with backoff up to this many attempts
MAX_ATTEMPTS = 20


def connect(session: Session, *, hub_url: str, api_key: str, push_secret: str = "") -> None:
    """Remember the hub and this system's API key (and push secret, for callbacks)."""
    if not hub_url.startswith(("http://", "https://")):
        raise OfficeError(
            "HUB_URL_INVALID",
            "Địa chỉ trục phải bắt đầu bằng http:// hoặc https://",
            "The hub URL must start with http:// or https://",
            field="hub",
            status=422,
        )
    row = session.get(HubConnection, 1)
    if row is None:
        row = HubConnection(id=1, hub_url=hub_url, api_key=api_key, push_secret=push_secret)
        session.add(row)
    else:
        row.hub_url, row.api_key, row.updated_at = hub_url, api_key, utcnow()
        if push_secret:
            row.push_secret = push_secret


def connection(office: Office) -> HubConnection | None:
    return office.read(lambda s: s.get(HubConnection, 1))


def client(office: Office) -> HubClient | None:
    conn = connection(office)
    if conn is None:
        return None
    return HubClient(conn.hub_url, conn.api_key, timeout=30.0)


def _take(office: Office, data: bytes, message_id: str) -> int:
    received = office.run(
        lambda s: incoming.receive(
            s, data=data, message_id=message_id, blobs=office.blobs, trust=office.trust
        )
    )
    if received.ignored:
        log.info("hub.package_ignored", extra={"message_id": message_id, "why": received.ignored})
    return len(received.documents)


def _take_status(office: Office, data: bytes, message_id: str) -> int:
    return office.run(lambda s: incoming.receive_status(s, data=data, message_id=message_id))


def poll_once(office: Office) -> int:
    """Fetch what waits in the hub's inbox, receive it, acknowledge it; returns how many
    documents were created."""
    hub = client(office)
    if hub is None:
        return 0
    created = 0
    with hub:
        for item in hub.inbox_all():
            message_id = str(item["message_id"])
            data = hub.fetch(message_id)
            if item.get("kind") == "edoc":
                created += _take(office, data, message_id)
            else:
                created += _take_status(office, data, message_id)
            hub.ack(message_id)
    if created:
        office.wake()
    return created


def handle_push(office: Office, *, body: bytes, headers: Mapping[str, str]) -> int:
    """A push from the hub: verified, received, acknowledged. Raises
    :class:`PushSignatureError` for a push without a valid signature (nothing stored)."""
    conn = connection(office)
    if conn is None or not conn.push_secret:
        raise PushSignatureError(
            "Văn phòng chưa kết nối trục (không có khóa đẩy)", "The office has no push secret"
        )
    push = verify_push(conn.push_secret, body, headers)
    created = 0
    if push.kind == "edoc":
        created = _take(office, push.body, push.message_id)
    else:
        created = _take_status(office, push.body, push.message_id)
    try:
        with HubClient(conn.hub_url, conn.api_key, timeout=10.0) as hub:
            hub.ack(push.message_id)
    except HubClientError as exc:  # polling will acknowledge it later
        log.info("hub.ack_failed", extra={"message_id": push.message_id, "code": exc.code})
    office.wake()
    return created


def _aware(at: datetime) -> datetime:
    return at if at.tzinfo else at.replace(tzinfo=UTC)


def send_pending_statuses(office: Office) -> int:
    """Send queued statuses in creation order; a document whose status failed sends nothing
    more until that one went (the sender sees 01, 03, 04, 05, 06 in order)."""
    hub = client(office)
    if hub is None:
        return 0
    now = utcnow()
    pending = office.read(
        lambda s: s.scalars(
            select(StatusOutbox).where(StatusOutbox.state == "pending").order_by(StatusOutbox.id)
        ).all()
    )
    blocked: set[int] = set()
    sent = 0
    with hub:
        for entry in pending:
            if entry.document_id in blocked:
                continue
            if _aware(entry.next_at) > now:
                blocked.add(entry.document_id)
                continue
            try:
                hub.status(
                    entry.message_id,
                    agency=entry.agency_code,
                    status_code=entry.status_code,
                    description=entry.description,
                    staff=json.loads(entry.staff_json) if entry.staff_json else None,
                )
            except HubClientError as exc:
                blocked.add(entry.document_id)
                permanent = 400 <= exc.http_status < 500 and exc.http_status not in (408, 429)
                _run_failed(office, entry.id, exc, permanent)
                continue
            _run_sent(office, entry.id)
            sent += 1
    return sent


def _run_sent(office: Office, entry_id: int) -> None:
    office.run(lambda s: _sent(s, entry_id))


def _run_failed(office: Office, entry_id: int, exc: HubClientError, permanent: bool) -> None:
    office.run(lambda s: _failed(s, entry_id, exc, permanent))


def _sent(session: Session, entry_id: int) -> None:
    entry = session.get(StatusOutbox, entry_id)
    if entry is not None:
        entry.state = "sent"
        entry.sent_at = utcnow()
        entry.attempts += 1


def _failed(session: Session, entry_id: int, exc: HubClientError, permanent: bool) -> None:
    entry = session.get(StatusOutbox, entry_id)
    if entry is None:
        return
    entry.attempts += 1
    entry.last_error = f"{exc.code}: {exc.message_en}"[:1000]
    if permanent or entry.attempts >= MAX_ATTEMPTS:
        entry.state = "dead"
        return
    delay = min(3600.0, 2.0**entry.attempts) * (0.5 + random.random() / 2)
    entry.next_at = utcnow() + timedelta(seconds=delay)
