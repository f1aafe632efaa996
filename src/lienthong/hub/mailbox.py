"""The mailbox of a connected system: what it receives (inbox, fetch, acknowledgement),
what it sent, a message's timeline, and the status packages it answers with.

A system sees a message only as a party of it — a recipient it serves, or the sender — and
gets the same "not found" whether a message exists or not (no probing of others' mail).
"""

from __future__ import annotations

import json
from dataclasses import dataclass
from datetime import UTC, datetime
from typing import Any, BinaryIO, cast

from sqlalchemy import func, select
from sqlalchemy.orm import Session

from lienthong.core.blobstore import BlobStore
from lienthong.edxml.builder import build, now_timestamp
from lienthong.edxml.errors import EdxmlError
from lienthong.edxml.model import Organization, ResponseFor, StaffInfo, Status
from lienthong.hub import audit, directory
from lienthong.hub.deliveries import RecipientOutcome, transition
from lienthong.hub.directory import served_agencies
from lienthong.hub.errors import HubError, forbidden, not_found
from lienthong.hub.models import (
    PENDING_STATES,
    AuditEvent,
    Delivery,
    DeliveryState,
    Message,
    System,
)
from lienthong.hub.outbox.queue import report_upstream
from lienthong.hub.routing import SENDER_STATUSES
from lienthong.hub.trace import trace_headers, with_trace
from lienthong.protocol.hops import Hop, parse_hops


@dataclass(frozen=True)
class InboxItem:
    delivery_id: int
    message_id: str
    kind: str
    sender_code: str
    recipient_code: str
    state: str
    document_id: str | None
    code_number: str | None
    code_notation: str | None
    subject: str | None
    status_code: str | None
    size: int
    created_at: datetime
    updated_at: datetime
    #: A status: whether it is linked to a document this hub holds (False: the document is
    #: held elsewhere, so the hub could not check who may report on it). None: a document.
    linked: bool | None = None


def inbox(
    session: Session,
    *,
    system: System,
    kind: str | None = None,
    after: int = 0,
    limit: int = 100,
    hub_id: str = "",
) -> list[InboxItem]:
    """Deliveries waiting for the system's agencies (available or fetched, not yet
    acknowledged), oldest first, after the cursor ``after`` (a delivery id)."""
    agencies = served_agencies(session, system_id=system.id)
    stmt = (
        select(Delivery, Message)
        .join(Message, Message.id == Delivery.message_id)
        .where(
            Delivery.recipient_code.in_(agencies),
            Delivery.state.in_(PENDING_STATES),
            Delivery.id > after,
        )
        .order_by(Delivery.id)
        .limit(limit)
    )
    if kind:
        stmt = stmt.where(Message.kind == kind)
    return [
        InboxItem(
            d.id,
            m.id,
            m.kind,
            m.sender_code,
            d.recipient_code,
            d.state,
            m.document_id,
            m.code_number,
            m.code_notation,
            m.subject,
            m.status_code,
            delivered_size(m, hub_id),
            m.created_at,
            d.updated_at,
            (m.refers_to is not None) if m.kind == "status" else None,
        )
        for d, m in session.execute(stmt).all()
    ]


def count_pending(session: Session, *, system: System, kind: str) -> int:
    agencies = served_agencies(session, system_id=system.id)
    return int(
        session.scalar(
            select(func.count(func.distinct(Delivery.message_id)))
            .join(Message, Message.id == Delivery.message_id)
            .where(
                Delivery.recipient_code.in_(agencies),
                Delivery.state.in_(PENDING_STATES),
                Message.kind == kind,
            )
        )
        or 0
    )


def _message_for(session: Session, message_id: str) -> Message:
    message = session.get(Message, message_id)
    if message is None:
        raise not_found("văn bản", "message", message_id)
    return message


def _my_deliveries(session: Session, *, system: System, message_id: str) -> list[Delivery]:
    agencies = served_agencies(session, system_id=system.id)
    return list(
        session.scalars(
            select(Delivery).where(
                Delivery.message_id == message_id, Delivery.recipient_code.in_(agencies)
            )
        )
    )


@dataclass
class Fetched:
    message: Message
    stream: BinaryIO
    size: int


def fetch(
    session: Session,
    *,
    system: System,
    message_id: str,
    blobs: BlobStore,
    hub_id: str = "",
) -> Fetched:
    """Open a package for a system entitled to it: a recipient (the delivery becomes
    ``fetched``; the package comes with a TraceHeader for every hub it passed through,
    this one last — see :mod:`lienthong.hub.trace`) or the sender's own system (its bytes
    as they were sent)."""
    message = _message_for(session, message_id)
    mine = [
        d
        for d in _my_deliveries(session, system=system, message_id=message_id)
        if d.state in (*PENDING_STATES, DeliveryState.ACKNOWLEDGED.value)
    ]
    is_sender = message.sender_code in served_agencies(session, system_id=system.id)
    if not mine and not is_sender:
        # the same answer whether it exists or not: no probing of other agencies' mail
        raise not_found("văn bản", "message", message_id)
    for d in mine:
        code = d.recipient_code
        if d.state == DeliveryState.AVAILABLE.value and transition(
            session, d, DeliveryState.FETCHED.value, expected=[DeliveryState.AVAILABLE.value]
        ):
            audit.append(
                session,
                event=audit.Event.FETCHED,
                message_id=message_id,
                agency_code=code,
                system_id=system.id,
            )
    if (
        mine
        and not any(d.state in (*PENDING_STATES, DeliveryState.ACKNOWLEDGED.value) for d in mine)
        and not is_sender
    ):
        raise not_found("văn bản", "message", message_id)  # withdrawn meanwhile
    stream = blobs.open(message.payload_key)
    if not mine or not hub_id:
        return Fetched(message, stream, message.payload_size)
    traced = with_trace(
        stream, message.payload_size, message.trace_prefix, trace_of(message, hub_id)
    )
    return Fetched(message, cast(BinaryIO, traced), traced.size)


def trace_of(message: Message, hub_id: str) -> list[Hop]:
    """The hubs a package passed through before this one, then this one."""
    created = message.created_at
    at = created.replace(tzinfo=UTC) if created.tzinfo is None else created
    return [*parse_hops(message.hops), Hop(hub_id, at)]


def delivered_size(message: Message, hub_id: str) -> int:
    """The size of the package as this hub hands it to a recipient (with its trace)."""
    if not hub_id:
        return message.payload_size
    added = trace_headers(message.trace_prefix, trace_of(message, hub_id))
    return message.payload_size + len(added)


def acknowledge(
    session: Session, *, system: System, message_id: str, ok: bool = True, reason: str | None = None
) -> list[RecipientOutcome]:
    """Transport acknowledgement (the platform's ``updateStatus done|fail``); idempotent. A
    failure of a package relayed here is reported back to the hub it came from."""
    mine = _my_deliveries(session, system=system, message_id=message_id)
    live = [
        d for d in mine if d.state not in (DeliveryState.QUEUED.value, DeliveryState.REVOKED.value)
    ]
    if not live:
        raise not_found("văn bản", "message", message_id)
    failed = False
    for d in live:
        code = d.recipient_code
        failure = (
            {}
            if ok
            else {
                "failure_code": "HUB_RECIPIENT_FAILED",
                "failure_reason": (reason or "Nơi nhận báo lỗi / the recipient reported failure")[
                    :1000
                ],
            }
        )
        target = (DeliveryState.ACKNOWLEDGED if ok else DeliveryState.FAILED).value
        if d.state in PENDING_STATES and transition(
            session, d, target, expected=PENDING_STATES, **failure
        ):
            audit.append(
                session,
                event=audit.Event.ACKNOWLEDGED if ok else audit.Event.FAILED,
                message_id=message_id,
                agency_code=code,
                system_id=system.id,
                detail={"ok": ok},
            )
            failed = failed or not ok
    if failed:
        report_upstream(session, message_id=message_id)
    return [
        RecipientOutcome(d.recipient_code, d.state, d.failure_code, d.failure_reason) for d in live
    ]


def timeline(session: Session, *, system: System, message_id: str) -> dict[str, Any]:
    """Per-recipient states and the audit events of a message. The sender's system sees
    every recipient; a recipient's system sees only its own agencies' part (other
    recipients' states and failures are the sender's business)."""
    message = _message_for(session, message_id)
    agencies = served_agencies(session, system_id=system.id)
    deliveries = list(
        session.scalars(
            select(Delivery).where(Delivery.message_id == message_id).order_by(Delivery.id)
        )
    )
    if message.sender_code not in agencies and not any(
        d.recipient_code in agencies for d in deliveries
    ):
        raise not_found("văn bản", "message", message_id)
    events = list(
        session.scalars(
            select(AuditEvent).where(AuditEvent.message_id == message_id).order_by(AuditEvent.seq)
        )
    )
    statuses = list(
        session.scalars(
            select(Message).where(Message.refers_to == message_id).order_by(Message.created_at)
        )
    )
    if message.sender_code not in agencies:
        # a recipient sees its own deliveries, and only those that reached it: a document
        # withdrawn before it was fetched (or still queued) does not exist for it
        deliveries = [
            d
            for d in deliveries
            if d.recipient_code in agencies
            and d.state not in (DeliveryState.QUEUED.value, DeliveryState.REVOKED.value)
        ]
        if not deliveries:
            raise not_found("văn bản", "message", message_id)
        statuses = [st for st in statuses if st.sender_code in agencies]
        events = [e for e in events if e.agency_code in agencies or e.event == audit.Event.ACCEPTED]
    return {
        "message": message_json(message),
        "recipients": [delivery_json(d) for d in deliveries],
        "statuses": [
            {
                "message_id": s.id,
                "from": s.sender_code,
                "status_code": s.status_code,
                "description": s.subject,
                "at": _iso(s.created_at),
            }
            for s in statuses
        ],
        "events": [
            {
                "seq": e.seq,
                "at": _iso(e.at),
                "event": e.event,
                "agency": e.agency_code,
                "system": e.system_id,
                "hash": e.hash,
            }
            for e in events
        ],
    }


def sent(
    session: Session,
    *,
    system: System,
    kind: str | None = None,
    limit: int = 100,
    message_id: str | None = None,
) -> list[tuple[Message, list[Delivery]]]:
    agencies = served_agencies(session, system_id=system.id)
    stmt = select(Message).where(Message.sender_code.in_(agencies))
    if kind:
        stmt = stmt.where(Message.kind == kind)
    if message_id:
        stmt = stmt.where(Message.id == message_id)
    messages = list(session.scalars(stmt.order_by(Message.created_at.desc()).limit(limit)))
    out = []
    for m in messages:
        ds = list(
            session.scalars(
                select(Delivery).where(Delivery.message_id == m.id).order_by(Delivery.id)
            )
        )
        out.append((m, ds))
    return out


def _iso(at: datetime) -> str:
    return (at.replace(tzinfo=UTC) if at.tzinfo is None else at).isoformat()


def message_json(m: Message) -> dict[str, Any]:
    return {
        "message_id": m.id,
        "kind": m.kind,
        "from": m.sender_code,
        "document_id": m.document_id,
        "code": {"number": m.code_number, "notation": m.code_notation},
        "subject": m.subject,
        "business_type": m.business_type,
        "status_code": m.status_code,
        "refers_to": m.refers_to,
        # the hubs it came through before this one, oldest first
        "hops": [
            {"hub": h.hub_id, "accepted_at": _iso(h.at) if h.at else None}
            for h in parse_hops(m.hops)
        ],
        "signatures": {
            "package": m.package_signature,
            "pdf": m.pdf_signature,
            "report": json.loads(m.signature_report) if m.signature_report else None,
        },
        "size": m.payload_size,
        "sha256": m.payload_key,
        "accepted_at": _iso(m.created_at),
    }


def delivery_json(d: Delivery) -> dict[str, Any]:
    return {
        "agency": d.recipient_code,
        "state": d.state,
        "business_status": d.business_status,
        "failure_code": d.failure_code,
        "failure_reason": d.failure_reason,
        "updated_at": _iso(d.updated_at),
    }


_STAFF_FIELDS = {"department", "staff", "email", "mobile"}


def status_package(
    session: Session,
    *,
    system: System,
    message_id: str,
    agency: str | None,
    status_code: str,
    description: str = "",
    staff: dict[str, str] | None = None,
    recipient: str | None = None,
) -> bytes:
    """The status package (edXML) a system sends about a message it is a party of, as the
    agency ``agency`` — which may be left out when the system serves exactly one party of
    the document on the reporting side (a recipient for 01–06, 15, 16; the sender for 13).
    Statuses 01–06, 15, 16 from a recipient go back to the document's sender; 13 (the sender
    asks for the document back) goes to the named recipient (which may be left out when the
    document had a single recipient)."""
    timeline(session, system=system, message_id=message_id)  # authorises
    original = _message_for(session, message_id)
    if agency is None:
        agency = _reporting_agency(session, system=system, original=original, code=status_code)
    reporter = directory.get_agency(session, code=agency)
    addressee = original.sender_code
    parties = (
        {original.sender_code}
        if status_code in SENDER_STATUSES
        else set(
            session.scalars(
                select(Delivery.recipient_code).where(Delivery.message_id == original.id)
            )
        )
    )
    mine = reporter.code in served_agencies(session, system_id=system.id)
    if mine and reporter.code not in parties:  # (not mine: intake refuses, not your agency)
        raise forbidden(
            "HUB_STATUS_NOT_A_PARTY",
            f"Cơ quan {reporter.code} không được gửi trạng thái {status_code} về văn bản này "
            "(13: chỉ nơi gửi; các trạng thái khác: chỉ nơi nhận)",
            f"Agency {reporter.code} may not send status {status_code} about this document "
            "(13: its sender only; other statuses: its recipients only)",
            field="agency",
        )
    if status_code in SENDER_STATUSES:
        recipients = [
            d.recipient_code
            for d in session.scalars(select(Delivery).where(Delivery.message_id == original.id))
        ]
        wanted = (
            directory.resolve_code(session, recipient, field="recipient") if recipient else None
        )
        if wanted is None and len(recipients) == 1:
            wanted = recipients[0]
        if wanted is None or wanted not in recipients:
            raise HubError(
                "HUB_STATUS_RECIPIENT_REQUIRED",
                "Trạng thái 13 phải nêu nơi nhận (recipient) của văn bản",
                "Status 13 must name one of the document's recipients (recipient)",
                field="recipient",
                status=422,
            )
        addressee = wanted
    info = StaffInfo(**{k: v for k, v in (staff or {}).items() if k in _STAFF_FIELDS})
    package = Status(
        sender=Organization(organ_id=reporter.code, organ_name=reporter.name),
        response_for=ResponseFor(
            organ_id=addressee,
            code=f"{original.code_number or ''}/{original.code_notation or ''}",
            document_id=original.document_id,
        ),
        staff=info if staff else None,
        status_code=status_code,
        description=description,
        timestamp=now_timestamp(),
    )
    try:
        return build(package, registered=directory.registry(session))
    except EdxmlError as exc:
        raise HubError.from_problem(exc.problem) from None


def _reporting_agency(session: Session, *, system: System, original: Message, code: str) -> str:
    """The one agency the system serves on the reporting side of ``original``: its sender
    for 13, one of its recipients otherwise; refused when there are none or several."""
    served = served_agencies(session, system_id=system.id)
    if code in SENDER_STATUSES:
        parties = {original.sender_code}
    else:
        parties = set(
            session.scalars(
                select(Delivery.recipient_code).where(Delivery.message_id == original.id)
            )
        )
    candidates = sorted(parties & served)
    if len(candidates) == 1:
        return candidates[0]
    listed = ", ".join(candidates)
    raise HubError(
        "HUB_STATUS_AGENCY_REQUIRED",
        f"Hãy nêu cơ quan báo trạng thái (agency): hệ thống phục vụ {len(candidates)} bên "
        f"của văn bản này{': ' + listed if listed else ''}",
        f"Name the reporting agency (agency): this system serves {len(candidates)} parties "
        f"of this document{': ' + listed if listed else ''}",
        field="agency",
        status=422,
        details={"candidates": candidates},
    )
