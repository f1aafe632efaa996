"""Incoming documents along Decree 30/2020 (Arts. 20–24), one function per step.

receive (from the hub: verified, status 01 at once) or enter on paper → register (arrival
number, status 03) or return with a reason (02) → the leader directs (04) → officers record
progress (05) → finish with a result (06). Each step writes a :class:`HistoryEntry` and, for
documents that came through the hub, a :class:`StatusOutbox` row in the same transaction;
the worker sends those statuses in order.

Every function takes the signed-in :class:`Principal` and finds documents only through
:func:`visible`, so a document of another agency (or, for an officer, one not assigned to
them or their unit) is "not found".
"""

from __future__ import annotations

import json
import logging
from collections.abc import Sequence
from dataclasses import dataclass, field
from datetime import UTC, date, datetime, time, timedelta

from sqlalchemy import Select, and_, exists, func, or_, select
from sqlalchemy.orm import Session

from lienthong.core.blobstore import BlobStore
from lienthong.core.text import fold
from lienthong.edxml.codes import StatusCode
from lienthong.edxml.errors import EdxmlError
from lienthong.edxml.model import Edoc
from lienthong.edxml.parser import parse
from lienthong.office import notify
from lienthong.office.accounts import Principal
from lienthong.office.errors import OfficeError, forbidden, invalid, not_found
from lienthong.office.models import (
    Agency,
    DocState,
    Document,
    DocumentFile,
    HistoryEntry,
    Participant,
    Register,
    Role,
    SavedFilter,
    StatusOutbox,
    Unit,
    User,
    utcnow,
)
from lienthong.office.numbering import next_number
from lienthong.office.textindex import search_text, wants_text
from lienthong.office.workdays import add_working_days, overrides
from lienthong.pki.credentials import TrustStore
from lienthong.web.i18n import VN_TZ, today_vn, vn_date

log = logging.getLogger("lienthong.office")

#: states in which a document still waits for someone
OPEN_STATES = (DocState.REGISTERED, DocState.DIRECTED, DocState.IN_PROGRESS)
HANDLING_STATES = (DocState.DIRECTED, DocState.IN_PROGRESS)

STATE_LABELS: dict[str, tuple[str, str]] = {
    DocState.ARRIVED: ("Chờ vào sổ", "Waiting for registration"),
    DocState.RETURNED: ("Đã trả lại", "Returned"),
    DocState.REGISTERED: ("Chờ chỉ đạo", "Waiting for direction"),
    DocState.DIRECTED: ("Đã giao xử lý", "Assigned"),
    DocState.IN_PROGRESS: ("Đang xử lý", "In progress"),
    DocState.DONE: ("Hoàn thành", "Done"),
    DocState.REVOKED: ("Đã thu hồi", "Revoked"),
    DocState.REPLACED: ("Đã được thay thế", "Superseded"),
}

CHANGE_LABELS: dict[str, tuple[str, str]] = {
    "revoke": ("Nơi gửi thu hồi văn bản", "The sender revokes the document"),
    "update": ("Nơi gửi cập nhật văn bản", "The sender updates the document"),
    "replace": ("Nơi gửi thay thế văn bản", "The sender replaces the document"),
    "withdraw": ("Nơi gửi đề nghị lấy lại văn bản", "The sender asks for the document back"),
}
_CHANGE_KINDS = {1: "revoke", 2: "update", 3: "replace"}
_VERSION_NOTE = {1: "văn bản thu hồi", 2: "văn bản cập nhật", 3: "văn bản thay thế"}

ACTION_LABELS: dict[str, tuple[str, str]] = {
    "received": ("Tiếp nhận từ trục liên thông", "Received from the hub"),
    "entered": ("Nhập văn bản giấy", "Paper document entered"),
    "registered": ("Vào sổ văn bản đến", "Registered"),
    "returned": ("Trả lại nơi gửi", "Returned to the sender"),
    "directed": ("Lãnh đạo chỉ đạo, giao xử lý", "Directed by the leader"),
    "progress": ("Cập nhật tiến độ xử lý", "Progress recorded"),
    "finished": ("Hoàn thành xử lý", "Handling finished"),
    "forwarded": ("Chuyển xin ý kiến, phối hợp", "Forwarded for co-operation"),
    "change_requested": ("Nơi gửi đề nghị thu hồi/cập nhật/thay thế", "Change requested"),
    "change_accepted": ("Văn thư đồng ý thu hồi/cập nhật", "Change accepted"),
    "change_refused": ("Văn thư từ chối thu hồi/cập nhật", "Change refused"),
}


# --------------------------------------------------------------------------- helpers


def _history(
    session: Session,
    doc: Document,
    action: str,
    *,
    who: Principal | None = None,
    status: str | None = None,
    detail: str = "",
) -> None:
    session.add(
        HistoryEntry(
            document_id=doc.id,
            user_id=who.user_id if who else None,
            actor=f"{who.full_name} ({who.title or who.role})" if who else "",
            action=action,
            status_code=status,
            detail=detail,
        )
    )


def _status(
    session: Session,
    doc: Document,
    code: str,
    detail: str = "",
    who: Principal | None = None,
    *,
    message_id: str | None = None,
) -> None:
    """Queue a status for the document's sender (hub documents only); ``message_id`` when it
    answers another message than the document's own (15/16 answer the change request)."""
    message_id = message_id or doc.hub_message_id
    if doc.source != "hub" or not message_id:
        return
    label = StatusCode(code).vi
    session.add(
        StatusOutbox(
            document_id=doc.id,
            message_id=message_id,
            agency_code=doc.agency_code,
            status_code=code,
            description=f"{label}: {detail}" if detail else label,
            staff_json=json.dumps(who.staff if who else {}, ensure_ascii=False),
        )
    )


def _require_role(who: Principal, *roles: Role) -> None:
    if who.role not in {r.value for r in roles}:
        raise forbidden(
            "ROLE_FORBIDDEN",
            "Vai trò của bạn không được làm việc này",
            "Your role may not do this",
        )


def _wrong_state(doc: Document) -> OfficeError:
    vi, en = STATE_LABELS[DocState(doc.state)]
    return OfficeError(
        "DOCUMENT_STATE",
        f"Văn bản đang ở trạng thái “{vi}”, không làm được việc này",
        f"The document is “{en}”; this step does not apply",
        field="state",
        status=409,
    )


def _parse_date(text: str | None) -> date | None:
    if not text:
        return None
    for fmt in ("%Y/%m/%d", "%Y-%m-%d", "%d/%m/%Y"):
        try:
            return datetime.strptime(text.strip(), fmt).date()
        except ValueError:
            continue
    return None


def _int(text: str | None) -> int | None:
    try:
        return int(str(text).strip())
    except (TypeError, ValueError):
        return None


# --------------------------------------------------------------------------- visibility


def vn_midnight(day: date) -> datetime:
    """The first instant of ``day`` in Asia/Ho_Chi_Minh, in UTC (as times are stored: SQLite
    keeps the wall clock of what it is given, so the bound must be UTC too)."""
    return datetime.combine(day, time.min, VN_TZ).astimezone(UTC)


def visible(who: Principal) -> Select[Document]:
    """The documents ``who`` may see: their agency's, and for an officer only those where
    they or their unit take part."""
    q = select(Document).where(Document.agency_code == who.agency_code)
    if who.role == Role.OFFICER:
        mine = [Participant.user_id == who.user_id]
        if who.unit_id is not None:
            mine.append(Participant.unit_id == who.unit_id)
        q = q.where(exists().where(and_(Participant.document_id == Document.id, or_(*mine))))
    return q


def get(session: Session, *, who: Principal, document_id: int) -> Document:
    doc = session.scalar(visible(who).where(Document.id == document_id))
    if doc is None:
        raise not_found("văn bản", "document")
    return doc


def get_for_update(session: Session, *, who: Principal, document_id: int) -> Document:
    doc = session.scalar(visible(who).where(Document.id == document_id).with_for_update())
    if doc is None:
        raise not_found("văn bản", "document")
    return doc


# --------------------------------------------------------------------------- receive


@dataclass
class Received:
    documents: list[Document] = field(default_factory=list)
    ignored: str = ""  # why nothing was created (a status package, not addressed to us)


def _verify(edoc: Edoc, trust: TrustStore) -> tuple[str, str]:
    """The PDF attachments' signature verdicts (PKI), for the clerk to see."""
    from lienthong.pki.pdf import verify_pdf
    from lienthong.pki.verdict import Verdict

    entries = []
    for att in edoc.attachments:
        blob = att.content
        is_pdf = (att.content_type or "").lower().startswith("application/pdf") or (
            att.name or ""
        ).lower().endswith(".pdf")
        if blob is None or not is_pdf:
            continue
        try:
            report = verify_pdf(blob.read_bytes(), trust, expected_agency=edoc.sender.organ_id)
            entries.append({"attachment": att.name or "", **report.to_dict()})
        except Exception as exc:  # a broken PDF is an unknown verdict, not a lost document
            entries.append({"attachment": att.name or "", "verdict": "unknown", "error": str(exc)})
    if not entries:
        return "unsigned", "[]"
    verdicts = {e["verdict"] for e in entries}
    overall = (
        Verdict.INVALID.value
        if Verdict.INVALID.value in verdicts
        else Verdict.UNKNOWN.value
        if Verdict.UNKNOWN.value in verdicts
        else Verdict.VALID.value
    )
    return overall, json.dumps(entries, ensure_ascii=False, default=str)


def receive(
    session: Session, *, data: bytes, message_id: str, blobs: BlobStore, trust: TrustStore
) -> Received:
    """A package from the hub → one document per addressed agency of ours, state "arrived",
    status 01 queued. Receiving the same message again changes nothing."""
    try:
        package = parse(data)
    except EdxmlError as exc:
        return Received(ignored=f"unreadable package: {exc}")
    if not isinstance(package, Edoc):
        return Received(ignored="status package")
    try:
        ours = {
            code
            for (code,) in session.execute(
                select(Agency.code).where(
                    Agency.code.in_([r.organ_id for r in package.recipients if r.organ_id])
                )
            )
        }
        if not ours:
            return Received(ignored="no recipient of this office")
        known = set(
            session.scalars(
                select(Document.agency_code).where(Document.hub_message_id == message_id)
            )
        )
        todo = sorted(ours - known)
        if not todo:
            return Received(ignored="already received")
        business = _int(package.business.doc_type) if package.business else 0
        if business in _CHANGE_KINDS:
            todo = _change_request(session, package, message_id, business or 0, todo)
            if not todo:
                return Received(ignored="change request recorded")
        verdict, report = _verify(package, trust)
        files = []
        for att in package.attachments:
            if att.content is None:
                continue
            content = att.content.read_bytes()
            key = blobs.put_bytes(content)
            name, ctype = att.name or "tep-dinh-kem", att.content_type or ""
            wanted = wants_text(name, ctype, content[:1100])
            files.append((name, ctype, len(content), key, wanted))
        out = Received()
        for code in todo:
            doc = Document(
                agency_code=code,
                source="hub",
                state=DocState.ARRIVED.value,
                hub_message_id=message_id,
                business_type=business or 0,
                document_id=package.document_id or "",
                sender_code=package.sender.organ_id or "",
                issuer=(package.sender.organ_name or package.sender.organ_id or "")[:200],
                number=(package.code.number or "")[:11],
                notation=(package.code.notation or "")[:30],
                issued_date=_parse_date(
                    package.promulgation.date if package.promulgation else None
                ),
                type_name=(package.document_type.type_name or "")[:100]
                if package.document_type
                else "",
                subject=(package.subject or "")[:500],
                signer=(package.signer.full_name or "")[:150] if package.signer else "",
                priority=_int(package.other_info.priority if package.other_info else None) or 0,
                page_amount=_int(package.other_info.page_amount if package.other_info else None),
                sender_due_date=_parse_date(package.due_date),
                signature_verdict=verdict,
                signature_report=report,
            )
            doc.search_text = search_text(doc)
            session.add(doc)
            session.flush()
            for name, ctype, size, key, wanted in files:
                session.add(
                    DocumentFile(
                        document_id=doc.id,
                        name=name[:255],
                        content_type=ctype[:100] or "application/octet-stream",
                        size=size,
                        sha256=key,
                        text_state="pending" if wanted else "",
                    )
                )
            _history(session, doc, "received", status="01", detail=f"{doc.issuer}")
            # an update or a replacement carries the original's DocumentId: say which one
            # arrived, else its 01 is byte for byte the original's (same second) and a hub
            # deduplicates it away
            _status(session, doc, "01", _VERSION_NOTE.get(doc.business_type, ""))
            out.documents.append(doc)
            notify.notify(
                session, user_ids=notify.role_ids(session, agency=code, role=Role.CLERK),
                doc=doc, kind="to_register",
            )  # fmt: skip
            if business in (2, 3):
                _link_new_version(session, package, doc)
        return out
    finally:
        package.close()


def _originals(
    session: Session, *, agency: str, sender: str, document_ids: set[str]
) -> Sequence[Document]:
    return session.scalars(
        select(Document).where(
            Document.agency_code == agency,
            Document.sender_code == sender,
            Document.document_id.in_(document_ids),
            Document.business_type.in_([0, 2, 3]),
            Document.state.not_in(
                [DocState.RETURNED.value, DocState.REVOKED.value, DocState.REPLACED.value]
            ),
        )
    ).all()


def _targets(package: Edoc, business: int) -> set[str]:
    if business == 3 and package.business and package.business.replacements:
        return {r.document_id for r in package.business.replacements if r.document_id}
    return {package.document_id} if package.document_id else set()


def _request(doc: Document, kind: str, reason: str, message_id: str) -> None:
    doc.change_request = kind
    doc.change_reason = reason[:2000]
    doc.change_message_id = message_id


def _change_request(
    session: Session, package: Edoc, message_id: str, business: int, todo: list[str]
) -> list[str]:
    """A revocation marks the registered originals for the clerk's decision and creates
    nothing; the tenants with no original get the package as a document of its own. (An
    update or a replacement is a new version: it is created, then linked.)"""
    if business != 1:
        return todo
    left = []
    reason = package.business.reason if package.business and package.business.reason else ""
    for code in todo:
        originals = _originals(
            session,
            agency=code,
            sender=package.sender.organ_id or "",
            document_ids=_targets(package, business),
        )
        if not originals:
            left.append(code)
        for doc in originals:
            _request(doc, "revoke", reason, message_id)
            _history(session, doc, "change_requested", detail=f"Thu hồi: {reason}".strip(": "))
    return left


def _link_new_version(session: Session, package: Edoc, new: Document) -> None:
    kind = _CHANGE_KINDS[new.business_type]
    reason = package.business.reason if package.business and package.business.reason else ""
    for doc in _originals(
        session,
        agency=new.agency_code,
        sender=new.sender_code,
        document_ids=_targets(package, new.business_type),
    ):
        if doc.id == new.id:
            continue
        _request(doc, kind, reason, new.hub_message_id or "")
        doc.change_document_id = new.id
        _history(session, doc, "change_requested", detail=f"{kind}: {reason}".strip(": "))


def receive_status(session: Session, *, data: bytes, message_id: str) -> int:
    """A status package: 13 (the sender asks for a document back) marks the originals for
    the clerk's decision; other statuses are about documents this office sent (none yet).
    Returns how many documents were marked."""
    try:
        package = parse(data)
    except EdxmlError:
        return 0
    if isinstance(package, Edoc) or package.status_code != "13":
        return 0
    rf = package.response_for
    if not rf.document_id or not rf.organ_id:
        return 0
    marked = 0
    for doc in _originals(
        session,
        agency=rf.organ_id,
        sender=package.sender.organ_id or "",
        document_ids={rf.document_id},
    ):
        _request(doc, "withdraw", package.description or "", message_id)
        _history(session, doc, "change_requested", detail=package.description or "")
        marked += 1
    return marked


def decide_change(
    session: Session, *, who: Principal, document_id: int, accept: bool, note: str = ""
) -> Document:
    """The clerk agrees (15: the document is revoked or superseded and its handling stops) or
    refuses (16) the sender's request."""
    _require_role(who, Role.CLERK)
    doc = get_for_update(session, who=who, document_id=document_id)
    if not doc.change_request:
        raise OfficeError(
            "NO_CHANGE_REQUEST",
            "Không có đề nghị thu hồi/cập nhật nào chờ quyết định",
            "No change request waits for a decision",
            status=409,
        )
    kind, message_id = doc.change_request, doc.change_message_id
    code = "15" if accept else "16"
    if accept:
        doc.state = (
            DocState.REPLACED.value if kind in ("update", "replace") else DocState.REVOKED.value
        )
    detail = note.strip() or CHANGE_LABELS[kind][0]
    _history(
        session,
        doc,
        "change_accepted" if accept else "change_refused",
        who=who,
        status=code,
        detail=detail,
    )
    _status(session, doc, code, detail, who, message_id=message_id)
    doc.change_request = ""
    return doc


def pending_changes(session: Session, *, who: Principal) -> Sequence[Document]:
    if who.role != Role.CLERK:
        return []
    # no ORDER BY in SQL: with it the planner walks the primary key over every document
    # instead of taking the few with a request from the (agency, change_request) index
    rows = session.scalars(visible(who).where(Document.change_request > "").limit(200)).all()
    return sorted(rows, key=lambda d: d.id)


# --------------------------------------------------------------------------- clerk


def _register_in(session: Session, *, who: Principal, register_id: int) -> Register:
    register = session.get(Register, register_id)
    if register is None or register.agency_code != who.agency_code or register.kind != "incoming":
        raise invalid(
            "REGISTER_UNKNOWN",
            "Không có sổ văn bản đến này",
            "No such incoming register",
            "register_id",
        )
    return register


def _number(session: Session, doc: Document, register: Register) -> None:
    year = today_vn().year
    doc.arrival_number = next_number(session, register_id=register.id, year=year)
    doc.register_id = register.id
    doc.year = year
    doc.registered_at = utcnow()


def register(session: Session, *, who: Principal, document_id: int, register_id: int) -> Document:
    """Register an arrived document: the next arrival number of the register this year."""
    _require_role(who, Role.CLERK)
    doc = get_for_update(session, who=who, document_id=document_id)
    if doc.state != DocState.ARRIVED:
        raise _wrong_state(doc)
    reg = _register_in(session, who=who, register_id=register_id)
    _number(session, doc, reg)
    doc.state = DocState.REGISTERED.value
    detail = f"Số đến {doc.arrival_number}, {reg.name}"
    _history(session, doc, "registered", who=who, status="03", detail=detail)
    _status(session, doc, "03", detail, who)
    _tell_leaders(session, doc)
    return doc


def _tell_leaders(session: Session, doc: Document) -> None:
    leaders = notify.role_ids(session, agency=doc.agency_code, role=Role.LEADER)
    notify.notify(session, user_ids=leaders, doc=doc, kind="to_direct")


def return_to_sender(
    session: Session, *, who: Principal, document_id: int, reason: str
) -> Document:
    """Return an arrived electronic document to its sender with a reason (status 02)."""
    _require_role(who, Role.CLERK)
    doc = get_for_update(session, who=who, document_id=document_id)
    if doc.state != DocState.ARRIVED or doc.source != "hub":
        raise _wrong_state(doc)
    reason = reason.strip()
    if not reason:
        raise invalid(
            "REASON_REQUIRED", "Hãy ghi lý do trả lại", "Give the reason for returning", "reason"
        )
    doc.state = DocState.RETURNED.value
    doc.return_reason = reason
    _history(session, doc, "returned", who=who, status="02", detail=reason)
    _status(session, doc, "02", reason, who)
    return doc


@dataclass(frozen=True)
class PaperInput:
    register_id: int
    issuer: str
    number: str
    notation: str
    subject: str
    issued_date: date | None = None
    type_name: str = ""
    signer: str = ""
    page_amount: int | None = None
    priority: int = 0


def enter_paper(
    session: Session,
    *,
    who: Principal,
    data: PaperInput,
    scan: tuple[str, str, bytes] | None,
    blobs: BlobStore,
) -> Document:
    """A paper document entered by the clerk (metadata + scan) and registered at once: it
    takes the next arrival number of the same register as electronic documents."""
    _require_role(who, Role.CLERK)
    if not data.subject.strip() or not data.issuer.strip():
        raise invalid(
            "PAPER_FIELDS_REQUIRED",
            "Trích yếu và cơ quan ban hành là bắt buộc",
            "Subject and issuer are required",
            "subject" if not data.subject.strip() else "issuer",
        )
    reg = _register_in(session, who=who, register_id=data.register_id)
    doc = Document(
        agency_code=who.agency_code,
        source="paper",
        state=DocState.REGISTERED.value,
        issuer=data.issuer.strip()[:200],
        number=data.number.strip()[:11],
        notation=data.notation.strip()[:30],
        issued_date=data.issued_date,
        type_name=data.type_name.strip()[:100],
        subject=data.subject.strip()[:500],
        signer=data.signer.strip()[:150],
        page_amount=data.page_amount,
        priority=data.priority,
        signature_verdict="paper",
    )
    doc.search_text = search_text(doc)
    session.add(doc)
    session.flush()
    if scan is not None:
        name, ctype, content = scan
        session.add(
            DocumentFile(
                document_id=doc.id,
                name=name[:255] or "ban-quet.pdf",
                content_type=ctype[:100] or "application/octet-stream",
                size=len(content),
                sha256=blobs.put_bytes(content),
                text_state="pending" if wants_text(name, ctype, content[:1100]) else "",
            )
        )
    _number(session, doc, reg)
    _history(session, doc, "entered", who=who)
    _history(session, doc, "registered", who=who, detail=f"Số đến {doc.arrival_number}, {reg.name}")
    _tell_leaders(session, doc)
    return doc


# --------------------------------------------------------------------------- leader


@dataclass(frozen=True)
class Direction:
    direction: str
    lead_user_id: int | None = None
    lead_unit_id: int | None = None
    cooperating_user_ids: Sequence[int] = ()
    info_user_ids: Sequence[int] = ()
    deadline: date | None = None
    working_days: int | None = None


def direct(session: Session, *, who: Principal, document_id: int, data: Direction) -> Document:
    """The leader names who leads (a person and/or a unit), who co-operates and who is
    informed, sets the deadline (a date or a number of working days) and writes the
    direction (status 04)."""
    _require_role(who, Role.LEADER)
    doc = get_for_update(session, who=who, document_id=document_id)
    if doc.state != DocState.REGISTERED:
        raise _wrong_state(doc)
    if data.lead_user_id is None and data.lead_unit_id is None:
        raise invalid(
            "LEAD_REQUIRED",
            "Hãy chọn người hoặc đơn vị chủ trì",
            "Choose the lead person or unit",
            "lead_user_id",
        )
    ids = {data.lead_user_id, *data.cooperating_user_ids, *data.info_user_ids} - {None}
    found = set(
        session.scalars(
            select(User.id).where(User.id.in_(ids), User.agency_code == who.agency_code)
        )
    )
    if found != ids:
        raise invalid(
            "PERSON_UNKNOWN", "Có người không thuộc cơ quan", "Unknown person", "lead_user_id"
        )
    if data.lead_unit_id is not None:
        unit = session.get(Unit, data.lead_unit_id)
        if unit is None or unit.agency_code != who.agency_code:
            raise invalid("UNIT_UNKNOWN", "Không có đơn vị này", "No such unit", "lead_unit_id")
    deadline = data.deadline
    if deadline is None and data.working_days:
        deadline = add_working_days(today_vn(), data.working_days, overrides(session))
    if deadline is not None and deadline < today_vn():
        raise invalid(
            "DEADLINE_PAST", "Hạn xử lý đã qua", "The deadline is in the past", "deadline"
        )
    doc.lead_user_id = data.lead_user_id
    doc.lead_unit_id = data.lead_unit_id
    doc.deadline = deadline
    doc.direction = data.direction.strip()
    doc.directed_at = utcnow()
    doc.state = DocState.DIRECTED.value
    session.add(
        Participant(
            document_id=doc.id, part="lead", user_id=data.lead_user_id, unit_id=data.lead_unit_id
        )
    )
    for uid in dict.fromkeys(data.cooperating_user_ids):
        session.add(Participant(document_id=doc.id, part="cooperate", user_id=uid))
    for uid in dict.fromkeys(data.info_user_ids):
        session.add(Participant(document_id=doc.id, part="info", user_id=uid))
    names = _names(session, [data.lead_user_id] if data.lead_user_id else [])
    detail = "; ".join(
        p
        for p in (
            f"Chủ trì: {names}" if names else "",
            f"Hạn: {vn_date(deadline)}" if deadline else "",
            doc.direction,
        )
        if p
    )
    _history(session, doc, "directed", who=who, status="04", detail=detail)
    _status(session, doc, "04", doc.direction, who)
    session.flush()
    handlers = notify.handler_ids(session, doc=doc, parts=("lead", "cooperate"))
    notify.notify(session, user_ids=handlers, doc=doc, kind="to_handle")
    return doc


def _names(session: Session, ids: Sequence[int]) -> str:
    if not ids:
        return ""
    return ", ".join(session.scalars(select(User.full_name).where(User.id.in_(ids))))


def last_direction(session: Session, *, who: Principal) -> str:
    """The leader's previous direction text, to pre-fill the next one."""
    return (
        session.scalar(
            select(Document.direction)
            .where(Document.agency_code == who.agency_code, Document.direction != "")
            .join(HistoryEntry, HistoryEntry.document_id == Document.id)
            .where(HistoryEntry.action == "directed", HistoryEntry.user_id == who.user_id)
            .order_by(HistoryEntry.id.desc())
            .limit(1)
        )
        or ""
    )


# --------------------------------------------------------------------------- officer


def _participation(session: Session, who: Principal, doc: Document) -> set[str]:
    conds = [Participant.user_id == who.user_id]
    if who.unit_id is not None:
        conds.append(Participant.unit_id == who.unit_id)
    return set(
        session.scalars(
            select(Participant.part).where(Participant.document_id == doc.id, or_(*conds))
        )
    )


def record_progress(session: Session, *, who: Principal, document_id: int, note: str) -> Document:
    """An officer who leads or co-operates records progress; the first one sends 05."""
    _require_role(who, Role.OFFICER)
    doc = get_for_update(session, who=who, document_id=document_id)
    if doc.state not in HANDLING_STATES:
        raise _wrong_state(doc)
    if not _participation(session, who, doc) & {"lead", "cooperate"}:
        raise forbidden(
            "NOT_A_HANDLER", "Bạn không xử lý văn bản này", "You do not handle this document"
        )
    note = note.strip()
    if not note:
        raise invalid("NOTE_REQUIRED", "Hãy ghi nội dung", "Write what was done", "note")
    first = doc.state == DocState.DIRECTED
    doc.state = DocState.IN_PROGRESS.value
    _history(session, doc, "progress", who=who, status="05" if first else None, detail=note)
    if first:
        _status(session, doc, "05", note, who)
    return doc


def forward(
    session: Session, *, who: Principal, document_id: int, user_id: int, note: str
) -> Document:
    """The lead officer brings a colleague of the agency in to co-operate (consult), with a
    note; the colleague is told."""
    _require_role(who, Role.OFFICER)
    doc = get_for_update(session, who=who, document_id=document_id)
    if doc.state not in HANDLING_STATES:
        raise _wrong_state(doc)
    if "lead" not in _participation(session, who, doc):
        raise forbidden(
            "NOT_THE_LEAD",
            "Chỉ người (đơn vị) chủ trì được chuyển xin ý kiến",
            "Only the lead person or unit may forward",
        )
    colleague = session.get(User, user_id)
    if colleague is None or colleague.agency_code != who.agency_code or not colleague.active:
        raise invalid("PERSON_UNKNOWN", "Không có người này", "No such person", "user_id")
    exists_already = session.scalar(
        select(Participant.id).where(
            Participant.document_id == doc.id,
            Participant.user_id == user_id,
            Participant.part == "cooperate",
        )
    )
    if exists_already is None:
        session.add(Participant(document_id=doc.id, part="cooperate", user_id=user_id))
    _history(
        session,
        doc,
        "forwarded",
        who=who,
        detail=f"{colleague.full_name}: {note.strip()}".strip(": "),
    )
    session.flush()
    notify.notify(session, user_ids=[user_id], doc=doc, kind="to_handle")
    return doc


def finish(session: Session, *, who: Principal, document_id: int, result: str) -> Document:
    """The lead officer finishes with a result (status 06)."""
    _require_role(who, Role.OFFICER)
    doc = get_for_update(session, who=who, document_id=document_id)
    if doc.state not in HANDLING_STATES:
        raise _wrong_state(doc)
    if "lead" not in _participation(session, who, doc):
        raise forbidden(
            "NOT_THE_LEAD",
            "Chỉ người (đơn vị) chủ trì được kết thúc xử lý",
            "Only the lead person or unit may finish",
        )
    result = result.strip()
    if not result:
        raise invalid("RESULT_REQUIRED", "Hãy ghi kết quả xử lý", "Write the result", "result")
    doc.state = DocState.DONE.value
    doc.result = result
    doc.done_at = utcnow()
    _history(session, doc, "finished", who=who, status="06", detail=result)
    _status(session, doc, "06", result, who)
    return doc


# --------------------------------------------------------------------------- reading


def history(session: Session, *, doc: Document) -> Sequence[HistoryEntry]:
    return session.scalars(
        select(HistoryEntry).where(HistoryEntry.document_id == doc.id).order_by(HistoryEntry.id)
    ).all()


def files(session: Session, *, doc: Document) -> Sequence[DocumentFile]:
    return session.scalars(
        select(DocumentFile).where(DocumentFile.document_id == doc.id).order_by(DocumentFile.id)
    ).all()


def participants(session: Session, *, doc: Document) -> list[tuple[str, str]]:
    rows = session.execute(
        select(Participant.part, User.full_name, Unit.name)
        .outerjoin(User, User.id == Participant.user_id)
        .outerjoin(Unit, Unit.id == Participant.unit_id)
        .where(Participant.document_id == doc.id)
        .order_by(Participant.id)
    ).all()
    return [(part, " — ".join(x for x in (name, unit) if x)) for part, name, unit in rows]


def outbox(session: Session, *, doc: Document) -> Sequence[StatusOutbox]:
    return session.scalars(
        select(StatusOutbox).where(StatusOutbox.document_id == doc.id).order_by(StatusOutbox.id)
    ).all()


@dataclass(frozen=True)
class Filters:
    q: str = ""
    state: str = ""
    register_id: int | None = None
    issuer: str = ""
    arrived_from: date | None = None
    arrived_to: date | None = None
    overdue: bool = False
    handler_id: int | None = None


def search(
    session: Session, *, who: Principal, filters: Filters, limit: int = 100
) -> Sequence[Document]:
    """Documents ``who`` may see matching every word of ``q`` (diacritics and case ignored,
    đ = d) and the filters, newest first."""
    q = visible(who)
    for word in fold(filters.q).split():
        q = q.where(Document.search_text.contains(word, autoescape=True))
    if filters.state:
        q = q.where(Document.state == filters.state)
    if filters.register_id:
        q = q.where(Document.register_id == filters.register_id)
    if filters.issuer:
        q = q.where(func.lower(Document.issuer).contains(filters.issuer.lower(), autoescape=True))
    # the dates people type are Vietnam's days: compare with their UTC bounds
    if filters.arrived_from:
        q = q.where(Document.arrived_at >= vn_midnight(filters.arrived_from))
    if filters.arrived_to:
        q = q.where(Document.arrived_at < vn_midnight(filters.arrived_to + timedelta(days=1)))
    if filters.overdue:
        q = q.where(
            Document.deadline < today_vn(), Document.state.in_([s.value for s in OPEN_STATES])
        )
    if filters.handler_id:
        q = q.where(
            exists().where(
                Participant.document_id == Document.id, Participant.user_id == filters.handler_id
            )
        )
    return session.scalars(q.order_by(Document.id.desc()).limit(limit)).all()


@dataclass
class MyWork:
    to_register: Sequence[Document] = ()
    to_direct: Sequence[Document] = ()
    to_handle: Sequence[Document] = ()
    overdue: Sequence[Document] = ()
    due_soon: Sequence[Document] = ()
    changes: Sequence[Document] = ()


def my_work(session: Session, *, who: Principal, limit: int = 50) -> MyWork:
    work = MyWork()
    base = visible(who)
    if who.role == Role.CLERK:
        work.to_register = session.scalars(
            base.where(Document.state == DocState.ARRIVED).order_by(Document.id).limit(limit)
        ).all()
    work.changes = pending_changes(session, who=who)
    if who.role == Role.LEADER:
        work.to_direct = session.scalars(
            base.where(Document.state == DocState.REGISTERED).order_by(Document.id).limit(limit)
        ).all()
    if who.role == Role.OFFICER:
        work.to_handle = session.scalars(
            base.where(Document.state.in_([s.value for s in HANDLING_STATES]))
            .order_by(Document.deadline.is_(None), Document.deadline, Document.id)
            .limit(limit)
        ).all()
    today = today_vn()
    open_ = base.where(Document.state.in_([s.value for s in OPEN_STATES]))
    work.overdue = session.scalars(
        open_.where(Document.deadline < today).order_by(Document.deadline).limit(limit)
    ).all()
    soon = add_working_days(today, 2, overrides(session))
    work.due_soon = session.scalars(
        open_.where(Document.deadline >= today, Document.deadline <= soon)
        .order_by(Document.deadline)
        .limit(limit)
    ).all()
    return work


# --------------------------------------------------------------------------- saved filters

#: the query parameters of the documents list a saved filter may keep
FILTER_KEYS = ("q", "state", "register_id", "issuer", "from", "to", "overdue", "handler_id")


def save_filter(session: Session, *, who: Principal, name: str, query: str) -> SavedFilter:
    """Save (or replace) one of ``who``'s filters; only the list's own parameters are kept."""
    from urllib.parse import parse_qsl, urlencode

    name = name.strip()[:100]
    if not name:
        raise invalid("NAME_REQUIRED", "Hãy đặt tên bộ lọc", "Name the filter", "name")
    kept = urlencode([(k, v) for k, v in parse_qsl(query) if k in FILTER_KEYS and v])[:1000]
    row = session.scalar(
        select(SavedFilter).where(SavedFilter.user_id == who.user_id, SavedFilter.name == name)
    )
    if row is None:
        row = SavedFilter(user_id=who.user_id, name=name, query=kept)
        session.add(row)
    else:
        row.query = kept
    session.flush()
    return row


def saved_filters(session: Session, *, who: Principal) -> Sequence[SavedFilter]:
    return session.scalars(
        select(SavedFilter).where(SavedFilter.user_id == who.user_id).order_by(SavedFilter.name)
    ).all()


def delete_filter(session: Session, *, who: Principal, filter_id: int) -> None:
    row = session.get(SavedFilter, filter_id)
    if row is None or row.user_id != who.user_id:
        raise not_found("bộ lọc", "filter")
    session.delete(row)
