"""Tables of the provincial shared e-office (SQLAlchemy 2, typed). Times are stored in UTC.

Every row that belongs to an agency carries its ``agency_code`` (the tenant); every query of
the services filters on it. Only the service modules change these rows.
"""

from __future__ import annotations

from datetime import date, datetime
from enum import StrEnum

from sqlalchemy import (
    Boolean,
    Date,
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


class Role(StrEnum):
    CLERK = "clerk"  # văn thư
    LEADER = "leader"  # lãnh đạo
    OFFICER = "officer"  # chuyên viên
    ADMIN = "admin"  # quản trị


class DocState(StrEnum):
    """Where an incoming document is in the Decree 30 path (and the status it sent)."""

    ARRIVED = "arrived"  # 01: arrived, clerk not yet acted
    RETURNED = "returned"  # 02: returned to the sender
    REGISTERED = "registered"  # 03: in the incoming register
    DIRECTED = "directed"  # 04: the leader directed it
    IN_PROGRESS = "in_progress"  # 05: being handled
    DONE = "done"  # 06: handled
    REVOKED = "revoked"  # the sender revoked or took it back, the clerk agreed (15)
    REPLACED = "replaced"  # an update or replacement superseded it, the clerk agreed (15)


STATE_STATUS = {
    DocState.ARRIVED: "01",
    DocState.RETURNED: "02",
    DocState.REGISTERED: "03",
    DocState.DIRECTED: "04",
    DocState.IN_PROGRESS: "05",
    DocState.DONE: "06",
}


class Agency(Base):
    """A tenant: one agency of the province (mã định danh), inside which live units."""

    __tablename__ = "office_agencies"

    code: Mapped[str] = mapped_column(String(13), primary_key=True)
    name: Mapped[str] = mapped_column(String(200))
    parent_code: Mapped[str | None] = mapped_column(
        String(13), ForeignKey("office_agencies.code"), index=True
    )
    created_at: Mapped[datetime] = mapped_column(DateTime(timezone=True), default=utcnow)


class Unit(Base):
    """A unit (phòng, ban) inside an agency."""

    __tablename__ = "office_units"
    __table_args__ = (UniqueConstraint("agency_code", "name"),)

    id: Mapped[int] = mapped_column(Integer, primary_key=True)
    agency_code: Mapped[str] = mapped_column(String(13), ForeignKey("office_agencies.code"))
    name: Mapped[str] = mapped_column(String(200))


class User(Base):
    __tablename__ = "office_users"

    id: Mapped[int] = mapped_column(Integer, primary_key=True)
    username: Mapped[str] = mapped_column(String(100), unique=True)
    agency_code: Mapped[str] = mapped_column(
        String(13), ForeignKey("office_agencies.code"), index=True
    )
    role: Mapped[str] = mapped_column(String(16))
    full_name: Mapped[str] = mapped_column(String(100))
    unit_id: Mapped[int | None] = mapped_column(ForeignKey("office_units.id"))
    title: Mapped[str] = mapped_column(String(100), default="")
    email: Mapped[str] = mapped_column(String(200), default="")
    password_hash: Mapped[str] = mapped_column(String(200))
    active: Mapped[bool] = mapped_column(Boolean, default=True)
    failed_logins: Mapped[int] = mapped_column(Integer, default=0)
    locked_until: Mapped[datetime | None] = mapped_column(DateTime(timezone=True))
    password_changed_at: Mapped[datetime] = mapped_column(DateTime(timezone=True), default=utcnow)
    created_at: Mapped[datetime] = mapped_column(DateTime(timezone=True), default=utcnow)


class WebSession(Base):
    """A server-side login session; the browser holds only the token (its hash is the id)."""

    __tablename__ = "office_sessions"

    id: Mapped[str] = mapped_column(String(64), primary_key=True)  # sha256 of the token
    user_id: Mapped[int] = mapped_column(ForeignKey("office_users.id"), index=True)
    csrf_token: Mapped[str] = mapped_column(String(64))
    created_at: Mapped[datetime] = mapped_column(DateTime(timezone=True), default=utcnow)
    expires_at: Mapped[datetime] = mapped_column(DateTime(timezone=True))


class AuditRecord(Base):
    """Security events (logins, failures, lock-outs, password changes, administration)."""

    __tablename__ = "office_audit"

    id: Mapped[int] = mapped_column(Integer, primary_key=True)
    at: Mapped[datetime] = mapped_column(DateTime(timezone=True), default=utcnow)
    event: Mapped[str] = mapped_column(String(40), index=True)
    username: Mapped[str] = mapped_column(String(100), default="")
    agency_code: Mapped[str | None] = mapped_column(String(13))
    remote: Mapped[str] = mapped_column(String(64), default="")
    detail: Mapped[str] = mapped_column(Text, default="")


class HubConnection(Base):
    """The one connection of this office to its provincial hub (``office connect``)."""

    __tablename__ = "office_hub"

    id: Mapped[int] = mapped_column(Integer, primary_key=True)
    hub_url: Mapped[str] = mapped_column(String(500))
    api_key: Mapped[str] = mapped_column(String(200))
    push_secret: Mapped[str] = mapped_column(String(200), default="")
    updated_at: Mapped[datetime] = mapped_column(DateTime(timezone=True), default=utcnow)


class Register(Base):
    """A register book (sổ văn bản) of an agency; arrival numbers run per register per year."""

    __tablename__ = "office_registers"
    __table_args__ = (UniqueConstraint("agency_code", "name"),)

    id: Mapped[int] = mapped_column(Integer, primary_key=True)
    agency_code: Mapped[str] = mapped_column(String(13), ForeignKey("office_agencies.code"))
    name: Mapped[str] = mapped_column(String(200))
    kind: Mapped[str] = mapped_column(String(16), default="incoming")


class Counter(Base):
    """The last number given in a register for a year: locked, then incremented."""

    __tablename__ = "office_counters"

    register_id: Mapped[int] = mapped_column(ForeignKey("office_registers.id"), primary_key=True)
    year: Mapped[int] = mapped_column(Integer, primary_key=True)
    last_number: Mapped[int] = mapped_column(Integer, default=0)


class Document(Base):
    """An incoming document (văn bản đến) of one agency, electronic or on paper."""

    __tablename__ = "office_documents"
    __table_args__ = (
        UniqueConstraint("hub_message_id", "agency_code"),
        UniqueConstraint("register_id", "year", "arrival_number"),
        Index("ix_office_documents_agency_state", "agency_code", "state"),
        # "my work": overdue / due soon, and change requests waiting for the clerk
        Index("ix_office_documents_agency_deadline", "agency_code", "deadline"),
        Index("ix_office_documents_agency_change", "agency_code", "change_request"),
    )

    id: Mapped[int] = mapped_column(Integer, primary_key=True)
    agency_code: Mapped[str] = mapped_column(String(13), ForeignKey("office_agencies.code"))
    source: Mapped[str] = mapped_column(String(8))  # hub | paper
    state: Mapped[str] = mapped_column(String(16))
    hub_message_id: Mapped[str | None] = mapped_column(String(64))
    business_type: Mapped[int] = mapped_column(Integer, default=0)  # 0 new, 1/2/3
    document_id: Mapped[str] = mapped_column(String(200), default="")
    sender_code: Mapped[str] = mapped_column(String(13), default="")
    issuer: Mapped[str] = mapped_column(String(200), default="")
    number: Mapped[str] = mapped_column(String(11), default="")
    notation: Mapped[str] = mapped_column(String(30), default="")
    issued_date: Mapped[date | None] = mapped_column(Date)
    type_name: Mapped[str] = mapped_column(String(100), default="")
    subject: Mapped[str] = mapped_column(String(500), default="")
    signer: Mapped[str] = mapped_column(String(150), default="")
    priority: Mapped[int] = mapped_column(Integer, default=0)
    page_amount: Mapped[int | None] = mapped_column(Integer)
    sender_due_date: Mapped[date | None] = mapped_column(Date)
    arrived_at: Mapped[datetime] = mapped_column(DateTime(timezone=True), default=utcnow)
    signature_verdict: Mapped[str] = mapped_column(String(16), default="")
    signature_report: Mapped[str] = mapped_column(Text, default="")
    # registration (Art. 22)
    register_id: Mapped[int | None] = mapped_column(ForeignKey("office_registers.id"))
    year: Mapped[int | None] = mapped_column(Integer)
    arrival_number: Mapped[int | None] = mapped_column(Integer)
    registered_at: Mapped[datetime | None] = mapped_column(DateTime(timezone=True))
    return_reason: Mapped[str] = mapped_column(Text, default="")
    # direction (Art. 23)
    lead_unit_id: Mapped[int | None] = mapped_column(ForeignKey("office_units.id"))
    lead_user_id: Mapped[int | None] = mapped_column(ForeignKey("office_users.id"))
    deadline: Mapped[date | None] = mapped_column(Date)
    direction: Mapped[str] = mapped_column(Text, default="")
    directed_at: Mapped[datetime | None] = mapped_column(DateTime(timezone=True))
    # handling (Art. 24)
    result: Mapped[str] = mapped_column(Text, default="")
    done_at: Mapped[datetime | None] = mapped_column(DateTime(timezone=True))
    # a request of the sender waiting for the clerk's decision (15 agree / 16 refuse):
    # revoke, update, replace (a package with BussinessDocType 1/2/3) or withdraw (status 13)
    change_request: Mapped[str] = mapped_column(String(10), default="")
    change_reason: Mapped[str] = mapped_column(Text, default="")
    #: the message the answer (15/16) refers to
    change_message_id: Mapped[str | None] = mapped_column(String(64))
    #: the new version, for an update or a replacement
    change_document_id: Mapped[int | None] = mapped_column(Integer)
    #: subject, number/notation, issuer, signer and attachment text, folded (no diacritics)
    search_text: Mapped[str] = mapped_column(Text, default="")


class Participant(Base):
    """Who takes part in handling a document: lead, co-operating, for information."""

    __tablename__ = "office_participants"
    __table_args__ = (UniqueConstraint("document_id", "part", "user_id", "unit_id"),)

    id: Mapped[int] = mapped_column(Integer, primary_key=True)
    document_id: Mapped[int] = mapped_column(ForeignKey("office_documents.id"), index=True)
    part: Mapped[str] = mapped_column(String(12))  # lead | cooperate | info
    user_id: Mapped[int | None] = mapped_column(ForeignKey("office_users.id"), index=True)
    unit_id: Mapped[int | None] = mapped_column(ForeignKey("office_units.id"), index=True)


class DocumentFile(Base):
    """An attachment or a scan; the content is a blob (key = its SHA-256)."""

    __tablename__ = "office_files"

    id: Mapped[int] = mapped_column(Integer, primary_key=True)
    document_id: Mapped[int] = mapped_column(ForeignKey("office_documents.id"), index=True)
    name: Mapped[str] = mapped_column(String(255))
    content_type: Mapped[str] = mapped_column(String(100), default="application/octet-stream")
    size: Mapped[int] = mapped_column(Integer)
    sha256: Mapped[str] = mapped_column(String(64))
    #: the file's text (PDF text layer, or Vietnamese OCR of a scan), folded into the
    #: document's ``search_text``; ``text_state``: "" (no text to find), pending, done, failed
    text: Mapped[str] = mapped_column(Text, default="")
    text_state: Mapped[str] = mapped_column(String(10), default="", index=True)


class HistoryEntry(Base):
    """One step of a document's life, in order; the handling slip is printed from these."""

    __tablename__ = "office_history"

    id: Mapped[int] = mapped_column(Integer, primary_key=True)
    document_id: Mapped[int] = mapped_column(ForeignKey("office_documents.id"), index=True)
    at: Mapped[datetime] = mapped_column(DateTime(timezone=True), default=utcnow)
    user_id: Mapped[int | None] = mapped_column(ForeignKey("office_users.id"))
    actor: Mapped[str] = mapped_column(String(150), default="")
    action: Mapped[str] = mapped_column(String(20))
    status_code: Mapped[str | None] = mapped_column(String(2))
    detail: Mapped[str] = mapped_column(Text, default="")


class StatusOutbox(Base):
    """A status to send to the document's sender through the hub, written in the same
    transaction as the step it reports and sent in order by the worker."""

    __tablename__ = "office_status_outbox"
    __table_args__ = (Index("ix_office_status_outbox_state", "state", "id"),)

    id: Mapped[int] = mapped_column(Integer, primary_key=True)
    document_id: Mapped[int] = mapped_column(ForeignKey("office_documents.id"), index=True)
    message_id: Mapped[str] = mapped_column(String(64))
    agency_code: Mapped[str] = mapped_column(String(13))
    status_code: Mapped[str] = mapped_column(String(2))
    description: Mapped[str] = mapped_column(Text, default="")
    staff_json: Mapped[str] = mapped_column(Text, default="")
    state: Mapped[str] = mapped_column(String(10), default="pending")  # pending|sent|dead
    attempts: Mapped[int] = mapped_column(Integer, default=0)
    next_at: Mapped[datetime] = mapped_column(DateTime(timezone=True), default=utcnow)
    last_error: Mapped[str] = mapped_column(Text, default="")
    created_at: Mapped[datetime] = mapped_column(DateTime(timezone=True), default=utcnow)
    sent_at: Mapped[datetime | None] = mapped_column(DateTime(timezone=True))


class HolidayOverride(Base):
    """An admin's correction of the calendar: an announced day off or a swapped working day."""

    __tablename__ = "office_holiday_overrides"

    day: Mapped[date] = mapped_column(Date, primary_key=True)
    working: Mapped[bool] = mapped_column(Boolean)
    note: Mapped[str] = mapped_column(String(200), default="")


class Notification(Base):
    """Something for one person to know: new work, a deadline approaching, overdue. Shown in
    the application; also e-mailed when the person has an address and SMTP is set."""

    __tablename__ = "office_notifications"
    __table_args__ = (
        UniqueConstraint("user_id", "document_id", "kind"),
        Index("ix_office_notifications_user_read", "user_id", "read_at"),
    )

    id: Mapped[int] = mapped_column(Integer, primary_key=True)
    user_id: Mapped[int] = mapped_column(ForeignKey("office_users.id"))
    document_id: Mapped[int] = mapped_column(ForeignKey("office_documents.id"))
    kind: Mapped[str] = mapped_column(
        String(16)
    )  # to_register|to_direct|to_handle|due_soon|overdue
    text: Mapped[str] = mapped_column(String(500))
    created_at: Mapped[datetime] = mapped_column(DateTime(timezone=True), default=utcnow)
    read_at: Mapped[datetime | None] = mapped_column(DateTime(timezone=True))
    #: "" (no e-mail wanted), pending, sent, failed
    email_state: Mapped[str] = mapped_column(String(8), default="", index=True)
    email_attempts: Mapped[int] = mapped_column(Integer, default=0)


class SavedFilter(Base):
    """A person's saved search (the query string of the documents list)."""

    __tablename__ = "office_saved_filters"
    __table_args__ = (UniqueConstraint("user_id", "name"),)

    id: Mapped[int] = mapped_column(Integer, primary_key=True)
    user_id: Mapped[int] = mapped_column(ForeignKey("office_users.id"), index=True)
    name: Mapped[str] = mapped_column(String(100))
    query: Mapped[str] = mapped_column(String(1000))
    created_at: Mapped[datetime] = mapped_column(DateTime(timezone=True), default=utcnow)
