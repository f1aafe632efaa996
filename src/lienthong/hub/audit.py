"""Append-only, hash-chained audit log.

Every record's ``hash`` is SHA-256 over the previous record's hash and a canonical JSON
encoding of the record's own fields, so changing, removing or reordering any record breaks
the chain from that point on; :func:`verify` recomputes it and names the first bad record.
Appends lock the single ``audit_head`` row inside the caller's transaction, so concurrent
hub processes (on PostgreSQL) append one after the other and the chain stays linear.
"""

from __future__ import annotations

import hashlib
import json
from collections.abc import Iterator
from dataclasses import dataclass
from datetime import UTC, datetime
from typing import Any

from sqlalchemy import func, select
from sqlalchemy.orm import Session

from lienthong.hub.models import AuditEvent, AuditHead

GENESIS = "0" * 64


class Event:
    """Event names of the audit log (stable: verifiers and reports match on them)."""

    ACCEPTED = "accepted"
    REJECTED = "rejected"
    DUPLICATE = "duplicate"
    DELIVERED = "delivered"
    RELAYED = "relayed"
    FAILED = "failed"
    EXPIRED = "expired"
    FETCHED = "fetched"
    ACKNOWLEDGED = "acknowledged"
    STATUS = "status"
    REVOKED = "revoked"
    SUPERSEDED = "superseded"
    AGENCY_CHANGED = "agency_changed"
    SYSTEM_CHANGED = "system_changed"
    PRUNED = "pruned"


def _canonical(
    seq: int,
    at: datetime,
    event: str,
    message_id: str | None,
    agency_code: str | None,
    system_id: str | None,
    detail: str,
) -> bytes:
    record = [
        seq,
        _utc(at).isoformat(timespec="microseconds"),
        event,
        message_id,
        agency_code,
        system_id,
        detail,
    ]
    return json.dumps(record, ensure_ascii=False, separators=(",", ":")).encode("utf-8")


def _utc(at: datetime) -> datetime:
    # SQLite gives naive datetimes back; everything is stored in UTC.
    return at.replace(tzinfo=UTC) if at.tzinfo is None else at.astimezone(UTC)


def chain_hash(prev_hash: str, canonical: bytes) -> str:
    return hashlib.sha256(prev_hash.encode("ascii") + canonical).hexdigest()


def append(
    session: Session,
    *,
    event: str,
    message_id: str | None = None,
    agency_code: str | None = None,
    system_id: str | None = None,
    detail: dict[str, Any] | None = None,
    at: datetime | None = None,
) -> AuditEvent:
    """Append one record in the caller's transaction (the edge commits)."""
    head = session.execute(
        select(AuditHead).where(AuditHead.id == 1).with_for_update()
    ).scalar_one_or_none()
    if head is None:
        head = AuditHead(id=1, seq=0, hash=GENESIS)
        session.add(head)
        session.flush()
    at = _utc(at or datetime.now(UTC))
    text = json.dumps(detail or {}, ensure_ascii=False, separators=(",", ":"), sort_keys=True)
    seq = head.seq + 1
    digest = chain_hash(
        head.hash, _canonical(seq, at, event, message_id, agency_code, system_id, text)
    )
    record = AuditEvent(
        seq=seq,
        at=at,
        event=event,
        message_id=message_id,
        agency_code=agency_code,
        system_id=system_id,
        detail=text,
        prev_hash=head.hash,
        hash=digest,
    )
    session.add(record)
    head.seq, head.hash = seq, digest
    return record


@dataclass(frozen=True)
class VerifyResult:
    ok: bool
    records: int
    first_bad_seq: int | None = None
    reason: str | None = None
    head_hash: str = GENESIS


def _records(session: Session, upto: int | None, batch: int = 5000) -> Iterator[AuditEvent]:
    last = 0
    while True:
        query = select(AuditEvent).where(AuditEvent.seq > last)
        if upto is not None:
            query = query.where(AuditEvent.seq <= upto)
        rows = session.scalars(query.order_by(AuditEvent.seq).limit(batch)).all()
        if not rows:
            return
        yield from rows
        last = rows[-1].seq


def verify(session: Session) -> VerifyResult:
    """Recompute the whole chain; report the first record that does not fit.

    The head is read first and only the records up to its ``seq`` are checked: appends
    that commit while we read (a live hub, PostgreSQL's per-statement snapshots) are left
    for the next run instead of looking like records removed after the last one."""
    snapshot = session.execute(
        select(AuditHead.seq, AuditHead.hash).where(AuditHead.id == 1)
    ).one_or_none()
    prev = GENESIS
    expected_seq = 1
    count = 0
    for rec in _records(session, None if snapshot is None else snapshot.seq):
        count += 1
        if rec.seq != expected_seq:
            return VerifyResult(False, count, expected_seq, "record missing", prev)
        if rec.prev_hash != prev:
            return VerifyResult(False, count, rec.seq, "link to the previous record broken", prev)
        canonical = _canonical(
            rec.seq, rec.at, rec.event, rec.message_id, rec.agency_code, rec.system_id, rec.detail
        )
        if chain_hash(prev, canonical) != rec.hash:
            return VerifyResult(False, count, rec.seq, "content changed", prev)
        prev = rec.hash
        expected_seq += 1
    if snapshot is not None and (snapshot.seq != expected_seq - 1 or snapshot.hash != prev):
        return VerifyResult(False, count, expected_seq, "records removed after the last one", prev)
    if snapshot is not None:
        # records past the head not written by append(): the newest record is read before
        # the head again, and every committed record's append moved the head to its seq
        newest = session.scalar(select(func.max(AuditEvent.seq)))
        head_now = session.scalar(select(AuditHead.seq).where(AuditHead.id == 1))
        if newest is not None and (head_now is None or newest > head_now):
            return VerifyResult(False, count, snapshot.seq + 1, "records past the head", prev)
    return VerifyResult(True, count, None, None, prev)
