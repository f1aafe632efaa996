"""Intake: how a package becomes an accepted message.

Each step is a small function, in this order; a step either passes or raises a typed
:class:`HubError`, and nothing is written before the last step:

1. the system is authenticated (by the HTTP edge, :mod:`lienthong.hub.authn`) and active;
2. the size limit was enforced while the body was spooled (by the edge, before reading it);
3. :func:`_read` — parse safely, check stored field lengths, validate (typed problems;
   identifiers outside the standard form only where the directory registers them);
4. :func:`_authorise_sender` — the system may send as ``From/OrganId``;
5. :func:`_dedup_key` / lookup — a resend of the same package returns the original id;
6. :func:`lienthong.hub.signatures.verify` — signatures under the hub's policy;
7. the payload is stored (content-addressed);
8. :func:`commit` — in ONE short transaction: the message, one delivery per recipient and
   the outbox entries (:func:`lienthong.hub.routing.route`), and the audit records — unless
   a peer it must be relayed to has too many relays waiting already (backpressure: 503
   ``HUB_BUSY``, nothing written); recipients that failed here are reported back to the hub
   a relayed package came from (:mod:`lienthong.hub.outbox.reports`).

Steps 3–7 are :func:`prepare` (reads only; run without the write lock), step 8 is
:func:`commit`; :func:`accept` runs both in one session and :func:`receive` runs them as two
units of work of a running hub (what both HTTP APIs call).
"""

from __future__ import annotations

import hashlib
import logging
import os
import tempfile
import uuid
from collections.abc import Collection
from dataclasses import dataclass, field
from pathlib import Path

from sqlalchemy import select
from sqlalchemy.orm import Session

from lienthong.core.blobstore import BlobStore
from lienthong.edxml.agency import Registered
from lienthong.edxml.attachments import Limits
from lienthong.edxml.errors import EdxmlError
from lienthong.edxml.model import Edoc, Package
from lienthong.edxml.parser import parse
from lienthong.edxml.validate import validate
from lienthong.hub import audit, directory, signatures
from lienthong.hub.deliveries import RecipientOutcome, outcomes
from lienthong.hub.directory import find_agency, served_agencies
from lienthong.hub.errors import HubError, forbidden
from lienthong.hub.federation import may_relay_as
from lienthong.hub.models import Delivery, DeliveryState, Message, System, utcnow
from lienthong.hub.outbox.queue import Action, report_upstream
from lienthong.hub.routing import route, served_locally
from lienthong.hub.runtime import Hub
from lienthong.hub.settings import SignaturePolicy
from lienthong.hub.trace import prefix_of
from lienthong.pki.credentials import TrustStore, load_trust

log = logging.getLogger("lienthong.hub")


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
    signature_policy: SignaturePolicy,
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
    signature_policy: SignaturePolicy,
    trust: TrustStore | None = None,
    hops: str | None = None,
) -> Prepared:
    """Intake steps that only read: parse and validate, authorise the sender, look for a
    duplicate, verify signatures (policy), store the payload (content-addressed, so a
    payload stored for a package that is then refused or raced is harmless)."""
    if not system.active:
        raise forbidden("HUB_SYSTEM_INACTIVE", "Hệ thống đã bị khóa", "The system is disabled")
    package = _read(body.path, limits, registered=directory.registry(session))
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
            trust=trust or load_trust(None),
            sender=sender,
            policy=signature_policy,
        )
        prepared.payload_key = blobs.put_file(body.path, body.sha256, body.size)
        prepared.trace_prefix = prefix_of(body.path)
        return prepared
    finally:
        package.close()  # attachment contents; the metadata stays usable


#: What a sender told "busy" waits before trying again (seconds; the ``Retry-After``).
BUSY_RETRY_AFTER = 30


def commit(
    session: Session,
    *,
    system: System,
    prepared: Prepared,
    busy: Collection[str] = (),
) -> AcceptResult:
    """The one write transaction of intake: message, deliveries, outbox entry and audit
    records together — or, for a resend (also one that raced us), the original's id.
    ``busy``: relay actions (``relay:<peer>``) whose backlog is full: a package that would
    be relayed there is refused (503 ``HUB_BUSY``), nothing written."""
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
        return AcceptResult(existing.id, existing.kind, True, outcomes(session, existing.id))
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
    routed = route(session, message=message, package=package)
    if busy:
        _refuse_if_busy(session, message_id=message.id, busy=busy)
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
    for o in routed:
        if o.state == DeliveryState.FAILED.value:
            audit.append(
                session,
                event=audit.Event.FAILED,
                message_id=message.id,
                agency_code=o.agency_code,
                detail={"code": o.failure_code},
            )
    if any(o.state == DeliveryState.FAILED.value for o in routed):
        report_upstream(session, message_id=message.id)  # when it was relayed to us
    return AcceptResult(message.id, message.kind, False, routed)


def _refuse_if_busy(session: Session, *, message_id: str, busy: Collection[str]) -> None:
    peers = session.scalars(
        select(Delivery.peer_id)
        .where(Delivery.message_id == message_id, Delivery.peer_id.is_not(None))
        .distinct()
    ).all()
    full = sorted(str(p) for p in peers if str(Action.relay(str(p))) in busy)
    if full:
        raise HubError(
            "HUB_BUSY",
            f"Trục đang có quá nhiều gói tin chờ chuyển tới {', '.join(full)}; "
            f"vui lòng gửi lại sau {BUSY_RETRY_AFTER} giây",
            f"Too many packages are waiting to be relayed to {', '.join(full)}; "
            f"please send again in {BUSY_RETRY_AFTER} s",
            status=503,
            details={"peers": full, "retry_after_seconds": BUSY_RETRY_AFTER},
        )


def _read(path: Path, limits: Limits, *, registered: Registered) -> Package:
    """Parse and validate; identifiers outside the standard form pass only where
    ``registered`` (the directory) knows them."""
    try:
        package = parse(path, limits=limits)
    except EdxmlError as exc:
        raise HubError.from_problem(exc.problem) from None
    try:
        _check_stored_lengths(package)
    except HubError:
        package.close()
        raise
    problems = validate(package, registered=registered)
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
    """The canonical code the system sends as. A system sends as the agencies it serves; a
    peer hub also relays for the agencies this hub routes to it (and only those: not for
    agencies served here, reached through another peer, or unknown to the directory)."""
    code = (package.sender.organ_id or "").strip()
    canonical = _canonical(session, code)
    if canonical in served_agencies(session, system_id=system.id):
        return canonical
    if system.peer:
        if find_agency(session, code=canonical) is None:
            raise forbidden(
                "HUB_UNKNOWN_SENDER",
                f"Cơ quan gửi {code} không có trong danh bạ của trục (đồng bộ danh bạ trước)",
                f"The sending agency {code} is not in this hub's directory (sync it first)",
                field="From/OrganId",
            )
        if not served_locally(session, canonical) and may_relay_as(
            session, system_id=system.id, code=canonical
        ):
            return canonical
    raise forbidden(
        "HUB_NOT_YOUR_AGENCY",
        f"Hệ thống {system.id} không được gửi nhân danh cơ quan {code}",
        f"System {system.id} may not send as agency {code}",
        field="From/OrganId",
    )


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


def receive(
    hub: Hub,
    *,
    system: System,
    body: Body,
    kind: str | None = None,
    declared_sender: str | None = None,
    hops: str | None = None,
) -> AcceptResult:
    """Accept a spooled body on a running hub: the slow, read-only part first (no write lock
    held), then one short write; the body's file is removed whatever happens. Blocking: the
    HTTP edge runs it in the thread pool."""
    try:
        prepared = hub.read(
            prepare,
            system=system,
            body=body,
            blobs=hub.blobs,
            limits=hub.limits,
            expected_kind=kind,
            declared_sender=declared_sender,
            signature_policy=hub.settings.signature_policy,
            trust=hub.trust,
            hops=hops,
        )
        result = hub.run(commit, system=system, prepared=prepared, busy=hub.busy_targets())
    finally:
        body.path.unlink(missing_ok=True)
    hub.metrics.inc(
        "lienthong_accepted_total" if not result.duplicate else "lienthong_duplicates_total"
    )
    if not result.duplicate:
        for o in result.recipients:
            if o.failure_code:
                hub.metrics.inc(f'lienthong_recipient_failures_total{{code="{o.failure_code}"}}')
    log.info(
        "package.duplicate" if result.duplicate else "package.accepted",
        extra={
            "message_id": result.message_id,
            "kind": result.kind,
            "system_id": system.id,
            "recipients": len(result.recipients),
            "failed_recipients": [o.agency_code for o in result.recipients if o.failure_code],
        },
    )
    if not result.duplicate:
        hub.wake()
    return result


def body_from_bytes(directory: Path, data: bytes) -> Body:
    """A body the hub writes itself (a status package built for a REST caller)."""
    fd, name = tempfile.mkstemp(dir=directory, prefix="status-")
    with open(fd, "wb") as fh:
        fh.write(data)
    return Body(path=Path(name), sha256=hashlib.sha256(data).hexdigest(), size=len(data))
