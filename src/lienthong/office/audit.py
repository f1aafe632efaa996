"""Security audit records (logins, failures, lock-outs, password changes, administration)."""

from __future__ import annotations

from collections.abc import Sequence

from sqlalchemy import select
from sqlalchemy.orm import Session

from lienthong.office.models import AuditRecord


def record(
    session: Session,
    *,
    event: str,
    username: str = "",
    agency: str | None = None,
    remote: str = "",
    detail: str = "",
) -> None:
    session.add(
        AuditRecord(
            event=event, username=username, agency_code=agency, remote=remote[:64], detail=detail
        )
    )


def records(
    session: Session, *, event: str | None = None, limit: int = 200
) -> Sequence[AuditRecord]:
    q = select(AuditRecord)
    if event:
        q = q.where(AuditRecord.event == event)
    return session.scalars(q.order_by(AuditRecord.id.desc()).limit(limit)).all()
