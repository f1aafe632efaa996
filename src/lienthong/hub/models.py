"""Tables of the exchange hub (SQLAlchemy 2, typed). Times are stored in UTC.

Only the hub's services (intake, routing, mailbox, outbox, directory, audit) change these rows.
"""

from __future__ import annotations

from datetime import datetime
from enum import StrEnum

from sqlalchemy import (
    BigInteger,
    Boolean,
    DateTime,
    ForeignKey,
    Index,
    Integer,
    MetaData,
    String,
    Text,
    UniqueConstraint,
)
from sqlalchemy.orm import DeclarativeBase, Mapped, mapped_column

from lienthong.core.db import NAMING
from lienthong.core.db import utcnow as utcnow  # re-exported: models and services use it


class Base(DeclarativeBase):
    metadata = MetaData(naming_convention=NAMING)


class DeliveryState(StrEnum):
    """Per-recipient transport state (the business statuses 01–16 are kept apart)."""

    QUEUED = "queued"
    AVAILABLE = "available"
    FETCHED = "fetched"
    ACKNOWLEDGED = "acknowledged"
    RELAYED = "relayed"
    FAILED = "failed"
    EXPIRED = "expired"
    REVOKED = "revoked"


#: States in which a delivery is still waiting in the recipient's inbox.
PENDING_STATES = (DeliveryState.AVAILABLE.value, DeliveryState.FETCHED.value)


class Agency(Base):
    """An agency of the directory (mã định danh điện tử)."""

    __tablename__ = "agency"

    code: Mapped[str] = mapped_column(String(32), primary_key=True)
    name: Mapped[str] = mapped_column(String(500))
    #: Diacritic-folded, lower-cased name for search (``đ`` → ``d``).
    name_folded: Mapped[str] = mapped_column(String(500), index=True)
    parent_code: Mapped[str | None] = mapped_column(String(32), index=True)
    #: 1–4 for a standard code; None (unknown) for a non-standard identifier. Counting by
    #: level must keep a None group, never drop those units from totals.
    level: Mapped[int | None] = mapped_column(Integer)
    email: Mapped[str | None] = mapped_column(String(200))
    phone: Mapped[str | None] = mapped_column(String(50))
    active: Mapped[bool] = mapped_column(Boolean, default=True)
    old_code: Mapped[str | None] = mapped_column(String(32), index=True)
    #: An identifier outside the standard form (``vxp.saas.03``, the national platform's
    #: hosted units), registered on purpose by an operator or received by directory sync.
    nonstandard: Mapped[bool] = mapped_column(Boolean, default=False)
    #: For a non-standard identifier (no level-1 part to route by): the peer hub it is
    #: reached through — the one whose directory it came from; None: the default peer.
    via_peer: Mapped[str | None] = mapped_column(String(100))
    #: Monotonic change number for incremental synchronisation (getSynchronizeUnit).
    version: Mapped[int] = mapped_column(BigInteger, default=0, index=True)
    updated_at: Mapped[datetime] = mapped_column(DateTime(timezone=True), default=utcnow)


class System(Base):
    """A connected document-management system (one systemId + secret + API key)."""

    __tablename__ = "system"

    id: Mapped[str] = mapped_column(String(100), primary_key=True)
    name: Mapped[str] = mapped_column(String(500), default="")
    #: HMAC secret of the national platform's scheme; needed in clear to verify.
    secret: Mapped[str] = mapped_column(String(200))
    #: SHA-256 of the bearer API key of the REST API (the key itself is never stored).
    api_key_hash: Mapped[str] = mapped_column(String(64), unique=True)
    legacy_sdk: Mapped[bool] = mapped_column(Boolean, default=False)
    #: The zone the system's clock writes the SDK's zone-less timestamps in (IANA name):
    #: freshness is checked against the hub's time in that zone.
    clock_zone: Mapped[str] = mapped_column(
        String(64), default="Asia/Ho_Chi_Minh", server_default="Asia/Ho_Chi_Minh"
    )
    #: A peer hub relaying for agencies of its own: may send as any agency that no local
    #: (non-peer) system serves.
    peer: Mapped[bool] = mapped_column(Boolean, default=False)
    callback_url: Mapped[str | None] = mapped_column(String(1000))
    active: Mapped[bool] = mapped_column(Boolean, default=True)
    created_at: Mapped[datetime] = mapped_column(DateTime(timezone=True), default=utcnow)


class SystemAgency(Base):
    """Which agencies a system may send as and receive for."""

    __tablename__ = "system_agency"

    system_id: Mapped[str] = mapped_column(
        ForeignKey("system.id", ondelete="CASCADE"), primary_key=True
    )
    agency_code: Mapped[str] = mapped_column(String(32), primary_key=True, index=True)


class Message(Base):
    """One accepted package (a document or a status)."""

    __tablename__ = "message"

    id: Mapped[str] = mapped_column(String(36), primary_key=True)
    kind: Mapped[str] = mapped_column(String(10))
    sender_code: Mapped[str] = mapped_column(String(32), index=True)
    sender_system_id: Mapped[str] = mapped_column(String(100))
    document_id: Mapped[str | None] = mapped_column(String(500), index=True)
    code_number: Mapped[str | None] = mapped_column(String(50))
    code_notation: Mapped[str | None] = mapped_column(String(100))
    subject: Mapped[str | None] = mapped_column(Text)
    business_type: Mapped[int | None] = mapped_column(Integer)
    status_code: Mapped[str | None] = mapped_column(String(4))
    #: For a status: the message it reports on (resolved from ResponseFor), if known.
    refers_to: Mapped[str | None] = mapped_column(String(36), index=True)
    payload_key: Mapped[str] = mapped_column(String(64))
    payload_size: Mapped[int] = mapped_column(BigInteger)
    #: sender + DocumentId + business type + content hash: a resend is recognised forever.
    dedup_key: Mapped[str] = mapped_column(String(64), unique=True)
    created_at: Mapped[datetime] = mapped_column(DateTime(timezone=True), default=utcnow)
    #: Verdicts recorded on intake (valid / invalid / unknown; None: not checked).
    package_signature: Mapped[str | None] = mapped_column(String(16))
    pdf_signature: Mapped[str | None] = mapped_column(String(16))
    #: JSON: the reports of the package signature and of every signed PDF attachment.
    signature_report: Mapped[str | None] = mapped_column(Text)
    #: Hubs the package passed through before this one (``hub-id@epoch``, comma-separated).
    hops: Mapped[str | None] = mapped_column(Text)
    #: Namespace prefix of the package's TraceHeaderList, where a delivering hub appends
    #: the trace (lienthong.hub.trace); NULL: it has none, nothing is appended.
    trace_prefix: Mapped[str | None] = mapped_column(String(40))


class Delivery(Base):
    """One recipient of one message, with its transport state and business status."""

    __tablename__ = "delivery"
    __table_args__ = (
        UniqueConstraint("message_id", "recipient_code"),
        Index("ix_delivery_recipient_state", "recipient_code", "state", "id"),
        Index("ix_delivery_state_created", "state", "created_at"),
    )

    id: Mapped[int] = mapped_column(BigInteger().with_variant(Integer, "sqlite"), primary_key=True)
    message_id: Mapped[str] = mapped_column(ForeignKey("message.id"), index=True)
    recipient_code: Mapped[str] = mapped_column(String(32))
    state: Mapped[str] = mapped_column(String(16), default=DeliveryState.QUEUED.value)
    #: Latest business status reported by the recipient (01–06, 15, 16).
    business_status: Mapped[str | None] = mapped_column(String(4))
    failure_code: Mapped[str | None] = mapped_column(String(64))
    failure_reason: Mapped[str | None] = mapped_column(Text)
    #: The peer hub this recipient is reached through (None: served by this hub).
    peer_id: Mapped[str | None] = mapped_column(String(100))
    created_at: Mapped[datetime] = mapped_column(DateTime(timezone=True), default=utcnow)
    updated_at: Mapped[datetime] = mapped_column(DateTime(timezone=True), default=utcnow)


class OutboxEntry(Base):
    """Work to do after a commit (dispatch to inboxes, later relays and callbacks)."""

    __tablename__ = "outbox"
    __table_args__ = (
        UniqueConstraint("message_id", "action"),
        Index("ix_outbox_state_next", "state", "next_at"),
        Index("ix_outbox_state_updated", "state", "updated_at"),
    )

    id: Mapped[int] = mapped_column(BigInteger().with_variant(Integer, "sqlite"), primary_key=True)
    message_id: Mapped[str] = mapped_column(ForeignKey("message.id"))
    action: Mapped[str] = mapped_column(String(32))
    state: Mapped[str] = mapped_column(String(16), default="pending")
    attempts: Mapped[int] = mapped_column(Integer, default=0)
    next_at: Mapped[datetime] = mapped_column(DateTime(timezone=True), default=utcnow)
    lease_until: Mapped[datetime | None] = mapped_column(DateTime(timezone=True))
    #: The process holding an ``inflight`` claim (its instance id, see Settings): a process
    #: that starts again releases its predecessor's claims at once instead of waiting for
    #: their lease. Meaningless in other states.
    claimed_by: Mapped[str | None] = mapped_column(String(200))
    last_error: Mapped[str | None] = mapped_column(Text)
    created_at: Mapped[datetime | None] = mapped_column(DateTime(timezone=True), default=utcnow)
    #: When the entry last changed (claimed, retried, given up, replayed): set by every
    #: update, so a dead letter tells when it was given up. None on rows older than 0005.
    updated_at: Mapped[datetime | None] = mapped_column(
        DateTime(timezone=True), default=utcnow, onupdate=utcnow
    )


class Peer(Base):
    """Another hub this hub relays to: the level-1 codes it serves (``H41,H53``; ``*`` for
    the default route, normally the parent hub), its URL and the API key it gave us."""

    __tablename__ = "peer"

    id: Mapped[str] = mapped_column(String(100), primary_key=True)
    url: Mapped[str] = mapped_column(String(1000))
    api_key: Mapped[str] = mapped_column(String(200))
    serves: Mapped[str] = mapped_column(Text)
    active: Mapped[bool] = mapped_column(Boolean, default=True)

    def __repr__(self) -> str:  # never the key
        return f"Peer({self.id!r}, {self.url!r}, serves={self.serves!r})"


class Operator(Base):
    """A person (or monitoring tool) operating the hub through the admin API: dead letters,
    the outbox. Its bearer key is not a system's: an operator reads no packages, and a
    system cannot use the admin API."""

    __tablename__ = "operator"

    name: Mapped[str] = mapped_column(String(100), primary_key=True)
    #: SHA-256 of the bearer API key (the key itself is never stored).
    api_key_hash: Mapped[str] = mapped_column(String(64), unique=True)
    created_at: Mapped[datetime] = mapped_column(DateTime(timezone=True), default=utcnow)

    def __repr__(self) -> str:  # never the key's hash either
        return f"Operator({self.name!r})"


class AuditEvent(Base):
    """Append-only, hash-chained evidence: ``hash = SHA-256(prev_hash ‖ canonical record)``."""

    __tablename__ = "audit_event"

    seq: Mapped[int] = mapped_column(BigInteger().with_variant(Integer, "sqlite"), primary_key=True)
    at: Mapped[datetime] = mapped_column(DateTime(timezone=True))
    event: Mapped[str] = mapped_column(String(32))
    message_id: Mapped[str | None] = mapped_column(String(36), index=True)
    agency_code: Mapped[str | None] = mapped_column(String(32))
    system_id: Mapped[str | None] = mapped_column(String(100))
    detail: Mapped[str] = mapped_column(Text, default="{}")
    prev_hash: Mapped[str] = mapped_column(String(64))
    hash: Mapped[str] = mapped_column(String(64))


class AuditHead(Base):
    """The single row holding the chain's head; locking it serialises appends."""

    __tablename__ = "audit_head"

    id: Mapped[int] = mapped_column(Integer, primary_key=True)
    seq: Mapped[int] = mapped_column(BigInteger, default=0)
    hash: Mapped[str] = mapped_column(String(64))


class SeenSignature(Base):
    """Signatures (``XroadVnpt-hash-header``) already used, for replay rejection."""

    __tablename__ = "seen_signature"

    signature: Mapped[str] = mapped_column(String(128), primary_key=True)
    system_id: Mapped[str] = mapped_column(String(100))
    #: The operation (path) a legacy SDK signature is bound to on first use.
    operation: Mapped[str | None] = mapped_column(String(64))
    seen_at: Mapped[datetime] = mapped_column(DateTime(timezone=True), index=True)


class Counter(Base):
    """Named monotonic counters (directory version), incremented under a row lock."""

    __tablename__ = "counter"

    name: Mapped[str] = mapped_column(String(64), primary_key=True)
    value: Mapped[int] = mapped_column(BigInteger, default=0)
