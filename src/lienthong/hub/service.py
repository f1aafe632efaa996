"""The hub's state changes: intake, dispatch, inbox, fetch, acknowledgement, statuses,
revocation and replacement. The only module that writes messages and deliveries.

Intake pipeline (each step a small function, in this order; a step either passes or
raises a typed :class:`HubError`, and nothing is written before the last step):

1. the system is authenticated (by the API edge) and active;
2. the size limit was enforced while the body was spooled (by the edge, before reading it);
3. :func:`_read` — parse safely, check stored field lengths, validate (typed problems);
4. :func:`_authorise_sender` — the system may send as ``From/OrganId``;
5. :func:`_dedup_key` / lookup — a resend of the same package returns the original id;
6. :func:`lienthong.hub.signatures.verify` — signatures under the hub's policy;
7. the payload is stored (content-addressed);
8. :func:`commit` — in ONE short transaction committed by the edge: the message, one
   delivery per recipient, the outbox entry and the audit records.

Steps 3–7 are :func:`prepare` (reads only; the edge runs it without the write lock),
step 8 is :func:`commit`; :func:`accept` runs both in one session.
"""

from __future__ import annotations

import hashlib
import json
import os
import uuid
from collections.abc import Sequence
from dataclasses import dataclass, field
from datetime import UTC, datetime, timedelta
from pathlib import Path
from typing import Any, BinaryIO, cast

from sqlalchemy import func, select, update
from sqlalchemy.orm import Session

from lienthong.core.blobstore import BlobStore
from lienthong.edxml.attachments import Limits
from lienthong.edxml.errors import EdxmlError
from lienthong.edxml.model import Edoc, Package, Status
from lienthong.edxml.parser import parse
from lienthong.edxml.validate import validate
from lienthong.hub import audit, signatures
from lienthong.hub.directory import find_agency, served_agencies
from lienthong.hub.errors import HubError, forbidden, not_found
from lienthong.hub.federation import RELAY, Hop, parse_hops, push_targets, route_for
from lienthong.hub.models import (
    PENDING_STATES,
    AuditEvent,
    Delivery,
    DeliveryState,
    Message,
    OutboxEntry,
    System,
    SystemAgency,
    utcnow,
)
from lienthong.hub.trace import prefix_of, trace_headers, with_trace
from lienthong.pki.credentials import TrustStore

DISPATCH = "dispatch"
_NOT_FETCHED = (DeliveryState.QUEUED.value, DeliveryState.AVAILABLE.value)
#: Receiver statuses move the original delivery's business status; 13 comes from the sender.
_SENDER_STATUSES = {"13"}


@dataclass(frozen=True)
class RecipientOutcome:
    agency_code: str
    state: str
    failure_code: str | None = None
    failure_reason: str | None = None


@dataclass
class AcceptResult:
    message_id: str
    kind: str
    duplicate: bool
    recipients: list[RecipientOutcome] = field(default_factory=list)


@dataclass(frozen=True)
class Body:
    """A request body spooled to disk by the edge, with its hash and size."""

    path: Path
    sha256: str
    size: int
    #: SHA-256 without a final ``\r\n`` (SDK 2.0.1 appends one), when the body ends so.
    trimmed_sha256: str | None = None

    def trim_crlf(self) -> Body:
        """The body without its final ``\r\n`` (the file is truncated in place)."""
        assert self.trimmed_sha256 is not None
        os.truncate(self.path, self.size - 2)
        return Body(self.path, self.trimmed_sha256, self.size - 2)


# ----------------------------------------------------------------------------- intake


@dataclass
class Prepared:
    """What intake knows before it writes anything (see :func:`prepare`)."""

    package: Package
    sender: str
    key: str
    body: Body
    payload_key: str | None = None
    summary: signatures.SignatureSummary | None = None
    hops: str | None = None
    trace_prefix: str | None = None


def accept(
    session: Session,
    *,
    system: System,
    body: Body,
    blobs: BlobStore,
    limits: Limits,
    expected_kind: str | None = None,
    declared_sender: str | None = None,
    signature_policy: str = "off",
    trust: TrustStore | None = None,
) -> AcceptResult:
    """The whole intake in one session: :func:`prepare` then :func:`commit`. The HTTP edge
    runs the two in separate units of work so the slow part (parsing, signature checks,
    storing the payload) never holds the database's write lock."""
    prepared = prepare(
        session,
        system=system,
        body=body,
        blobs=blobs,
        limits=limits,
        expected_kind=expected_kind,
        declared_sender=declared_sender,
        signature_policy=signature_policy,
        trust=trust,
    )
    return commit(session, system=system, prepared=prepared)


def prepare(
    session: Session,
    *,
    system: System,
    body: Body,
    blobs: BlobStore,
    limits: Limits,
    expected_kind: str | None = None,
    declared_sender: str | None = None,
    signature_policy: str = "off",
    trust: TrustStore | None = None,
    hops: str | None = None,
) -> Prepared:
    """Intake steps that only read: parse and validate, authorise the sender, look for a
    duplicate, verify signatures (policy), store the payload (content-addressed, so a
    payload stored for a package that is then refused or raced is harmless)."""
    if not system.active:
        raise forbidden("HUB_SYSTEM_INACTIVE", "Hệ thống đã bị khóa", "The system is disabled")
    package = _read(body.path, limits)
    try:
        if expected_kind and expected_kind != package.kind:
            raise HubError(
                "HUB_KIND_MISMATCH",
                f"Khai báo loại gói tin '{expected_kind}' nhưng gói tin là '{package.kind}'",
                f"Declared message type '{expected_kind}' but the package is '{package.kind}'",
                field="messagetype",
                status=422,
            )
        sender = _authorise_sender(session, system=system, package=package)
        if declared_sender is not None and _canonical(session, declared_sender) != sender:
            raise HubError(
                "HUB_FROM_MISMATCH",
                f"Mã nơi gửi khai báo ({declared_sender}) khác From/OrganId của gói tin ({sender})",
                f"The declared sender ({declared_sender}) differs from the package's "
                f"From/OrganId ({sender})",
                field="from",
                status=422,
            )
        prepared = Prepared(
            package, sender, _dedup_key(sender, package, body.sha256), body, hops=hops
        )
        if session.scalars(select(Message.id).where(Message.dedup_key == prepared.key)).first():
            return prepared  # a resend: commit answers with the original
        prepared.summary = signatures.verify(
            package,
            body.path,
            trust=trust or signatures.load_trust(None),
            sender=sender,
            policy=signature_policy,
        )
        prepared.payload_key = blobs.put_file(body.path, body.sha256, body.size)
        prepared.trace_prefix = prefix_of(body.path)
        return prepared
    finally:
        package.close()  # attachment contents; the metadata stays usable


def commit(session: Session, *, system: System, prepared: Prepared) -> AcceptResult:
    """The one write transaction of intake: message, deliveries, outbox entry and audit
    records together — or, for a resend (also one that raced us), the original's id."""
    package, sender, body = prepared.package, prepared.sender, prepared.body
    existing = session.scalars(select(Message).where(Message.dedup_key == prepared.key)).first()
    if existing is not None:
        audit.append(
            session,
            event=audit.Event.DUPLICATE,
            message_id=existing.id,
            agency_code=sender,
            system_id=system.id,
        )
        return AcceptResult(existing.id, existing.kind, True, _outcomes(session, existing.id))
    if prepared.payload_key is None:  # prepared as a resend, but the original is gone
        raise HubError("HUB_RETRY", "Vui lòng gửi lại", "Please send again", status=409)
    message = _message(
        package,
        sender=sender,
        system=system,
        key=prepared.key,
        payload_key=prepared.payload_key,
        size=body.size,
    )
    message.hops = prepared.hops or None
    message.trace_prefix = prepared.trace_prefix
    summary = prepared.summary
    if summary is not None:
        message.package_signature = summary.package.value if summary.package else None
        message.pdf_signature = summary.pdf.value if summary.pdf else None
        message.signature_report = summary.json()
    session.add(message)
    session.flush()
    if isinstance(package, Status):
        outcomes = _route_status(session, message=message, status=package)
    else:
        outcomes = _route_edoc(session, message=message, edoc=package)
    _refuse_unroutable(message, outcomes)
    session.add(OutboxEntry(message_id=message.id, action=DISPATCH))
    session.flush()
    peers = session.scalars(
        select(Delivery.peer_id)
        .where(Delivery.message_id == message.id, Delivery.peer_id.is_not(None))
        .distinct()
    ).all()
    for peer_id in peers:
        session.add(OutboxEntry(message_id=message.id, action=RELAY + str(peer_id)))
    audit.append(
        session,
        event=audit.Event.ACCEPTED,
        message_id=message.id,
        agency_code=sender,
        system_id=system.id,
        detail={
            "kind": message.kind,
            "document_id": message.document_id,
            "sha256": body.sha256,
            "size": body.size,
        },
    )
    for o in outcomes:
        if o.state == DeliveryState.FAILED.value:
            audit.append(
                session,
                event=audit.Event.FAILED,
                message_id=message.id,
                agency_code=o.agency_code,
                detail={"code": o.failure_code},
            )
    return AcceptResult(message.id, message.kind, False, outcomes)


def _read(path: Path, limits: Limits) -> Package:
    try:
        package = parse(path, limits=limits)
    except EdxmlError as exc:
        raise HubError.from_problem(exc.problem) from None
    try:
        _check_stored_lengths(package)
    except HubError:
        package.close()
        raise
    problems = validate(package)
    errors = [p for p in problems if p.is_error]
    if errors:
        package.close()
        first = errors[0]
        raise HubError(
            first.code.value,
            first.message_vi,
            first.message_en,
            field=first.field,
            status=422,
            details={"problems": [p.to_dict() for p in errors]},
        )
    return package


#: What the hub stores in bounded columns (the rest stays in the payload).
_STORED_LIMITS = (
    ("DocumentId", 500),
    ("Code/CodeNumber", 50),
    ("Code/CodeNotation", 100),
    ("OrganId", 32),
    ("StatusCode", 4),
)


def _check_stored_lengths(package: Package) -> None:
    values: list[tuple[str, str | None]] = [("From/OrganId", package.sender.organ_id)]
    if isinstance(package, Edoc):
        values += [
            ("DocumentId", package.document_id),
            ("Code/CodeNumber", package.code.number),
            ("Code/CodeNotation", package.code.notation),
        ]
        values += [(f"To[{i}]/OrganId", o.organ_id) for i, o in enumerate(package.recipients, 1)]
    else:
        rf = package.response_for
        values += [
            ("ResponseFor/DocumentId", rf.document_id),
            ("ResponseFor/Code", rf.code),
            ("ResponseFor/OrganId", rf.organ_id),
            ("StatusCode", package.status_code),
        ]
    for where, value in values:
        limit = next((n for name, n in _STORED_LIMITS if where.endswith(name)), 100)
        if value is not None and len(value) > limit:
            raise HubError(
                "HUB_FIELD_TOO_LONG",
                f"{where} dài {len(value)} ký tự, trục chỉ nhận tối đa {limit}",
                f"{where} is {len(value)} characters long; the hub accepts at most {limit}",
                field=where,
                status=422,
            )


def _authorise_sender(session: Session, *, system: System, package: Package) -> str:
    code = (package.sender.organ_id or "").strip()
    canonical = _canonical(session, code)
    if system.peer and not _served_locally(session, canonical):
        return canonical  # a peer hub relays for agencies no local system serves
    if canonical not in served_agencies(session, system_id=system.id):
        raise forbidden(
            "HUB_NOT_YOUR_AGENCY",
            f"Hệ thống {system.id} không được gửi nhân danh cơ quan {code}",
            f"System {system.id} may not send as agency {code}",
            field="From/OrganId",
        )
    return canonical


def _canonical(session: Session, code: str) -> str:
    agency = find_agency(session, code=code)
    return agency.code if agency is not None else code.strip()


def _dedup_key(sender: str, package: Package, content_sha256: str) -> str:
    if isinstance(package, Edoc):
        business = package.business.doc_type if package.business else "0"
        ident = package.document_id or ""
    else:
        business = package.status_code or ""
        ident = package.response_for.document_id or ""
    raw = "\n".join((package.kind, sender, ident, business or "", content_sha256))
    return hashlib.sha256(raw.encode("utf-8")).hexdigest()


def _int(value: str | None) -> int | None:
    return int(value) if value and value.isascii() and value.isdigit() else None


def _message(
    package: Package, *, sender: str, system: System, key: str, payload_key: str, size: int
) -> Message:
    message = Message(
        id=str(uuid.uuid4()),
        kind=package.kind,
        sender_code=sender,
        sender_system_id=system.id,
        payload_key=payload_key,
        payload_size=size,
        dedup_key=key,
        created_at=utcnow(),
    )
    if isinstance(package, Edoc):
        message.document_id = package.document_id
        message.code_number = package.code.number
        message.code_notation = package.code.notation
        message.subject = package.subject
        message.business_type = _int(package.business.doc_type if package.business else "0")
    else:
        message.document_id = package.response_for.document_id
        message.code_notation = package.response_for.code
        message.status_code = package.status_code
        message.subject = package.description
    return message


def _served_locally(session: Session, code: str) -> bool:
    """Whether a (non-peer) system of this hub serves ``code``."""
    return (
        session.scalars(
            select(SystemAgency.agency_code)
            .join(System, System.id == SystemAgency.system_id)
            .where(
                SystemAgency.agency_code == code, System.peer.is_(False), System.active.is_(True)
            )
            .limit(1)
        ).first()
        is not None
    )


def _resolve(session: Session, code: str) -> tuple[str, str | None, str | None]:
    """(canonical code, failure code, peer id): served here → local; otherwise the peer
    that serves its level-1 code (or the default peer); a known agency nobody serves yet
    waits here; an unknown one fails."""
    canonical, failure = _recipient(session, code)
    if failure == "HUB_RECIPIENT_INACTIVE" or _served_locally(session, canonical):
        return canonical, failure, None
    peer = route_for(session, canonical)
    if peer is not None:
        return canonical, None, peer.id
    return canonical, failure, None


def _recipient(session: Session, code: str) -> tuple[str, str | None]:
    """(canonical code, failure code or None)."""
    agency = find_agency(session, code=code)
    if agency is None:
        return code.strip(), "HUB_UNKNOWN_RECIPIENT"
    if not agency.active:
        return agency.code, "HUB_RECIPIENT_INACTIVE"
    return agency.code, None


_FAILURE_TEXT = {
    "HUB_UNKNOWN_RECIPIENT": "Không có nơi nhận này trong danh bạ / unknown recipient",
    "HUB_RECIPIENT_INACTIVE": "Nơi nhận đã ngừng hoạt động / recipient inactive",
    "HUB_WITHDRAWN_BEFORE_FETCH": "Văn bản gốc đã được thu hồi trước khi nhận / "
    "the original was withdrawn before it was fetched",
}


def _add_delivery(
    session: Session,
    message: Message,
    code: str,
    failure: str | None,
    state: str | None = None,
    peer_id: str | None = None,
) -> RecipientOutcome:
    state = state or (DeliveryState.FAILED.value if failure else DeliveryState.QUEUED.value)
    reason = _FAILURE_TEXT.get(failure or "")
    session.add(
        Delivery(
            message_id=message.id,
            recipient_code=code,
            state=state,
            failure_code=failure,
            failure_reason=reason,
            peer_id=peer_id,
        )
    )
    return RecipientOutcome(code, state, failure, reason)


def _route_edoc(session: Session, *, message: Message, edoc: Edoc) -> list[RecipientOutcome]:
    withdrawn: set[str] = set()
    if message.business_type == 1:
        addressed = {_recipient(session, org.organ_id or "")[0] for org in edoc.recipients}
        withdrawn = _revoke(session, message=message, recipients=addressed)
    elif message.business_type == 3 and edoc.business and edoc.business.replacements:
        for rep in edoc.business.replacements:
            _supersede(
                session,
                message=message,
                document_id=rep.document_id or "",
                recipients=rep.organ_ids,
            )
    outcomes = []
    seen: set[str] = set()
    upstream = _upstream(message)
    for org in edoc.recipients:
        code, failure, peer_id = _resolve(session, org.organ_id or "")
        if code in seen or peer_id in upstream:  # a hub the package came through routes it
            continue
        seen.add(code)
        if failure is None and code in withdrawn:
            # the original vanished from this inbox unseen: nothing left to revoke there
            outcomes.append(
                _add_delivery(
                    session,
                    message,
                    code,
                    "HUB_WITHDRAWN_BEFORE_FETCH",
                    DeliveryState.REVOKED.value,
                )
            )
        else:
            outcomes.append(_add_delivery(session, message, code, failure, peer_id=peer_id))
    return outcomes


def _original(
    session: Session, *, sender: str, document_id: str, before: Message
) -> Message | None:
    return session.scalars(
        select(Message)
        .where(
            Message.kind == "edoc",
            Message.sender_code == sender,
            Message.document_id == document_id,
            Message.id != before.id,
            Message.business_type != 1,
        )
        .order_by(Message.created_at.desc())
        .limit(1)
    ).first()


def _revoke(session: Session, *, message: Message, recipients: set[str]) -> set[str]:
    """Withdraw the unfetched deliveries, to the revocation's own recipients, of every
    earlier version of the document (the original and its updates); return those
    recipients. A revocation addressed to one recipient leaves the others' copies."""
    versions = session.scalars(
        select(Message).where(
            Message.kind == "edoc",
            Message.sender_code == message.sender_code,
            Message.document_id == (message.document_id or ""),
            Message.id != message.id,
            Message.business_type != 1,
        )
    ).all()
    withdrawn: set[str] = set()
    for original in versions:
        withdrawn |= _withdraw(
            session, original=original, by=message, event=audit.Event.REVOKED, only=recipients
        )
    return withdrawn


def _supersede(
    session: Session, *, message: Message, document_id: str, recipients: Sequence[str]
) -> None:
    original = _original(
        session, sender=message.sender_code, document_id=document_id, before=message
    )
    if original is not None:
        codes = {_recipient(session, c)[0] for c in recipients} or None
        _withdraw(session, original=original, by=message, event=audit.Event.SUPERSEDED, only=codes)


def _transition(
    session: Session, d: Delivery, to: str, *, expected: Sequence[str], **values: Any
) -> bool:
    """Compare-and-set a delivery's state: it changes only if it is still in one of the
    ``expected`` states, whatever another transaction (or hub process) did meanwhile.
    Returns whether this transaction made the change."""
    result = session.execute(
        update(Delivery)
        .where(Delivery.id == d.id, Delivery.state.in_(list(expected)))
        .values(state=to, updated_at=utcnow(), **values)
        .execution_options(synchronize_session=False)
    )
    session.expire(d)
    return bool(getattr(result, "rowcount", 0))


def _withdraw(
    session: Session, *, original: Message, by: Message, event: str, only: set[str] | None = None
) -> set[str]:
    rows = session.scalars(
        select(Delivery).where(Delivery.message_id == original.id, Delivery.state.in_(_NOT_FETCHED))
    ).all()
    withdrawn = set()
    for d in rows:
        code = d.recipient_code
        if only is not None and code not in only:
            continue
        if not _transition(session, d, DeliveryState.REVOKED.value, expected=_NOT_FETCHED):
            continue  # fetched meanwhile: that recipient gets the revocation instead
        withdrawn.add(code)
        audit.append(
            session,
            event=event,
            message_id=original.id,
            agency_code=code,
            detail={"by": by.id},
        )
    return withdrawn


def _upstream(message: Message) -> set[str | None]:
    """The hubs a relayed package came through (their ids are their peer ids here)."""
    return {hop.hub_id for hop in parse_hops(message.hops)}


def _refuse_unroutable(message: Message, outcomes: list[RecipientOutcome]) -> None:
    """A relayed package this hub can deliver to none of its recipients is refused: the
    hub that sent it keeps it as a dead letter with this reason, and its sender sees the
    failure, instead of a "relayed" that leads nowhere."""
    hops = parse_hops(message.hops)
    if not hops or any(o.state != DeliveryState.FAILED.value for o in outcomes):
        return
    last = hops[-1].hub_id
    failed = [o for o in outcomes if o.failure_code]
    cause = failed[0].failure_code if failed else "HUB_NO_ROUTE"
    raise HubError(
        "HUB_NO_ROUTE",
        f"Trục {last} chuyển đến nhưng trục này không chuyển được cho nơi nhận nào ({cause})",
        f"Relayed from hub {last}, but this hub can deliver to none of the recipients ({cause})",
        field="To/OrganId",
        status=422,
        details={"recipients": [o.agency_code for o in outcomes], "cause": cause},
    )


def _route_status(session: Session, *, message: Message, status: Status) -> list[RecipientOutcome]:
    rf = status.response_for
    addressee, failure, peer_id = _resolve(session, rf.organ_id or "")
    if peer_id in _upstream(message):
        return []  # back where it came from: not ours to route
    code = (status.status_code or "").strip()
    if code in _SENDER_STATUSES:
        original = _original(
            session, sender=message.sender_code, document_id=rf.document_id or "", before=message
        )
    else:
        original = _original(
            session, sender=addressee, document_id=rf.document_id or "", before=message
        )
    # only a party of the original may report on it: the recipient that reports
    # (01–06, 15, 16) or the recipient asked to give it back (13)
    party = addressee if code in _SENDER_STATUSES else message.sender_code
    if (
        original is not None
        and session.scalars(
            select(Delivery.id).where(
                Delivery.message_id == original.id, Delivery.recipient_code == party
            )
        ).first()
        is None
    ):
        original = None
    if original is not None:
        message.refers_to = original.id
        if code not in _SENDER_STATUSES:
            session.execute(
                update(Delivery)
                .where(
                    Delivery.message_id == original.id,
                    Delivery.recipient_code == message.sender_code,
                )
                .values(business_status=code, updated_at=utcnow())
            )
        audit.append(
            session,
            event=audit.Event.STATUS,
            message_id=original.id,
            agency_code=message.sender_code,
            detail={"status": code, "status_message": message.id},
        )
    return [_add_delivery(session, message, addressee, failure, peer_id=peer_id)]


def _outcomes(session: Session, message_id: str) -> list[RecipientOutcome]:
    rows = session.scalars(
        select(Delivery).where(Delivery.message_id == message_id).order_by(Delivery.id)
    )
    return [
        RecipientOutcome(d.recipient_code, d.state, d.failure_code, d.failure_reason) for d in rows
    ]


# ----------------------------------------------------------------------------- dispatch


def dispatch_pending(session: Session, *, limit: int = 200, now: datetime | None = None) -> int:
    """Make queued deliveries available; claims outbox rows so that several hub
    processes never handle the same entry (``FOR UPDATE SKIP LOCKED`` on PostgreSQL,
    ``BEGIN IMMEDIATE`` on SQLite). Returns how many entries were handled."""
    now = now or datetime.now(UTC)
    entries = session.scalars(
        select(OutboxEntry)
        .where(
            OutboxEntry.state == "pending",
            OutboxEntry.next_at <= now,
            OutboxEntry.action == DISPATCH,
        )
        .order_by(OutboxEntry.id)
        .limit(limit)
        .with_for_update(skip_locked=True)
    ).all()
    for entry in entries:
        entry.attempts += 1
        if entry.action == DISPATCH:
            queued = session.scalars(
                select(Delivery).where(
                    Delivery.message_id == entry.message_id,
                    Delivery.state == DeliveryState.QUEUED.value,
                    Delivery.peer_id.is_(None),
                )
            ).all()
            available = []
            for d in queued:
                code = d.recipient_code
                if _transition(
                    session, d, DeliveryState.AVAILABLE.value, expected=[DeliveryState.QUEUED.value]
                ):
                    available.append(code)
                    audit.append(
                        session,
                        event=audit.Event.DELIVERED,
                        message_id=entry.message_id,
                        agency_code=code,
                    )
            if available:
                push_targets(session, message_id=entry.message_id, agencies=available)
        entry.state = "done"
    return len(entries)


def pending_dispatch(session: Session) -> int:
    return int(
        session.scalar(
            select(func.count())
            .select_from(OutboxEntry)
            .where(OutboxEntry.state == "pending", OutboxEntry.action == DISPATCH)
        )
        or 0
    )


# ----------------------------------------------------------------------------- receiving


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
        if d.state == DeliveryState.AVAILABLE.value and _transition(
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
    """Transport acknowledgement (the platform's ``updateStatus done|fail``); idempotent."""
    mine = _my_deliveries(session, system=system, message_id=message_id)
    live = [
        d for d in mine if d.state not in (DeliveryState.QUEUED.value, DeliveryState.REVOKED.value)
    ]
    if not live:
        raise not_found("văn bản", "message", message_id)
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
        if d.state in PENDING_STATES and _transition(
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
    return [
        RecipientOutcome(d.recipient_code, d.state, d.failure_code, d.failure_reason) for d in live
    ]


# ----------------------------------------------------------------------------- reading


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


def purge_seen_signatures(session: Session, *, older_than: timedelta) -> int:
    """Forget signatures older than the freshness window (they cannot be replayed then)."""
    from sqlalchemy import delete

    from lienthong.hub.models import SeenSignature

    cutoff = datetime.now(UTC) - older_than
    result = session.execute(delete(SeenSignature).where(SeenSignature.seen_at < cutoff))
    return int(getattr(result, "rowcount", 0) or 0)
