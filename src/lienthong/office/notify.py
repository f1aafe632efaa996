"""Notifications: new work (to register, to direct, to handle), a deadline approaching, a
deadline passed — in the application, and by e-mail through a configurable SMTP server.

Each person gets one notification per document and kind (no repeated pings). E-mail is a
small :class:`Mailer` protocol with an SMTP adapter; the worker sends what is pending.
"""

from __future__ import annotations

import logging
import smtplib
from collections.abc import Iterable, Sequence
from datetime import date

from sqlalchemy import func, select, update
from sqlalchemy.orm import Session

from lienthong.office.mail import Mailer
from lienthong.office.models import (
    DocState,
    Document,
    Notification,
    Participant,
    Role,
    User,
    utcnow,
)
from lienthong.office.runtime import Office
from lienthong.office.workdays import add_working_days, overrides
from lienthong.web.i18n import vn_date

log = logging.getLogger("lienthong.office.notify")
MAX_EMAIL_ATTEMPTS = 5
OPEN = (DocState.DIRECTED.value, DocState.IN_PROGRESS.value, DocState.REGISTERED.value)

KIND_TEXT = {
    "to_register": "Văn bản mới chờ vào sổ",
    "to_direct": "Văn bản chờ chỉ đạo",
    "to_handle": "Văn bản được giao xử lý",
    "due_soon": "Văn bản sắp đến hạn xử lý",
    "overdue": "Văn bản đã quá hạn xử lý",
}


def _describe(doc: Document) -> str:
    code = f"{doc.number}/{doc.notation}" if doc.notation else doc.number
    due = f" — hạn {vn_date(doc.deadline)}" if doc.deadline else ""
    return f"{code} {doc.issuer}: {doc.subject}{due}"[:480]


def notify(session: Session, *, user_ids: Iterable[int], doc: Document, kind: str) -> int:
    """Tell each person once about ``doc`` (``kind`` as in :data:`KIND_TEXT`)."""
    ids = set(user_ids)
    if not ids:
        return 0
    already = set(
        session.scalars(
            select(Notification.user_id).where(
                Notification.document_id == doc.id,
                Notification.kind == kind,
                Notification.user_id.in_(ids),
            )
        )
    )
    users = session.execute(
        select(User.id, User.email).where(User.id.in_(ids - already), User.active.is_(True))
    ).all()
    for uid, email in users:
        session.add(
            Notification(
                user_id=uid,
                document_id=doc.id,
                kind=kind,
                text=f"{KIND_TEXT[kind]}: {_describe(doc)}",
                email_state="pending" if email else "",
                email_attempts=0,
            )
        )
    return len(users)


def role_ids(session: Session, *, agency: str, role: Role) -> list[int]:
    return list(
        session.scalars(
            select(User.id).where(
                User.agency_code == agency, User.role == role, User.active.is_(True)
            )
        )
    )


def handler_ids(session: Session, *, doc: Document, parts: Sequence[str]) -> list[int]:
    """People taking part (``lead``, ``cooperate``, ``info``), a unit's officers included."""
    rows = session.execute(
        select(Participant.user_id, Participant.unit_id).where(
            Participant.document_id == doc.id, Participant.part.in_(parts)
        )
    ).all()
    people = {u for u, _ in rows if u is not None}
    units = {unit for _, unit in rows if unit is not None}
    if units:
        people |= set(
            session.scalars(
                select(User.id).where(
                    User.unit_id.in_(units), User.role == Role.OFFICER, User.active.is_(True)
                )
            )
        )
    return sorted(people)


def deadline_sweep(session: Session, *, today: date) -> int:
    """Notify handlers of open documents due within a working day, and of overdue ones."""
    soon = add_working_days(today, 1, overrides(session))
    docs = session.scalars(
        select(Document).where(
            Document.state.in_(OPEN), Document.deadline.is_not(None), Document.deadline <= soon
        )
    ).all()
    sent = 0
    for doc in docs:
        assert doc.deadline is not None
        kind = "overdue" if doc.deadline < today else "due_soon"
        sent += notify(
            session, user_ids=handler_ids(session, doc=doc, parts=("lead", "cooperate")),
            doc=doc, kind=kind,
        )  # fmt: skip
    return sent


def unread(session: Session, *, user_id: int) -> int:
    return (
        session.scalar(
            select(func.count(Notification.id)).where(
                Notification.user_id == user_id, Notification.read_at.is_(None)
            )
        )
        or 0
    )


def recent(session: Session, *, user_id: int, limit: int = 100) -> Sequence[Notification]:
    return session.scalars(
        select(Notification)
        .where(Notification.user_id == user_id)
        .order_by(Notification.id.desc())
        .limit(limit)
    ).all()


def mark_read(session: Session, *, user_id: int) -> None:
    session.execute(
        update(Notification)
        .where(Notification.user_id == user_id, Notification.read_at.is_(None))
        .values(read_at=utcnow())
    )


# --------------------------------------------------------------------------- e-mail


def send_pending_emails(
    office: Office, *, mailer: Mailer | None, base_url: str = "", limit: int = 50
) -> int:
    """Send pending e-mails (retried up to :data:`MAX_EMAIL_ATTEMPTS`); without a mailer,
    nothing."""
    if mailer is None:
        return 0
    pending = office.read(
        lambda s: s.execute(
            select(Notification.id, Notification.text, Notification.document_id, User.email)
            .join(User, User.id == Notification.user_id)
            .where(
                Notification.email_state == "pending",
                Notification.email_attempts < MAX_EMAIL_ATTEMPTS,
            )
            .order_by(Notification.id)
            .limit(limit)
        ).all()
    )
    sent = 0
    for nid, text, document_id, email in pending:
        link = f"\n\n{base_url.rstrip('/')}/documents/{document_id}" if base_url else ""
        try:
            mailer.send(to=email, subject=text[:150], body=text + link)
            state = "sent"
            sent += 1
        except (OSError, smtplib.SMTPException) as exc:
            log.warning("email.failed", extra={"notification": nid, "error": str(exc)[:200]})
            state = "pending"
        _mark(office, nid, state)
    return sent


def _mark(office: Office, nid: int, state: str) -> None:
    def run(s: Session) -> None:
        n = s.get(Notification, nid)
        if n is None:
            return
        n.email_attempts += 1
        n.email_state = state
        if state == "pending" and n.email_attempts >= MAX_EMAIL_ATTEMPTS:
            n.email_state = "failed"

    office.run(run)
