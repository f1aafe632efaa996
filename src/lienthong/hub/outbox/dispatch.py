"""Local dispatch: the outbox's ``dispatch`` entries make queued local deliveries available
(and queue pushes to the recipients' callback URLs)."""

from __future__ import annotations

from datetime import UTC, datetime

from sqlalchemy import func, select
from sqlalchemy.orm import Session

from lienthong.hub import audit
from lienthong.hub.deliveries import transition
from lienthong.hub.models import Delivery, DeliveryState, OutboxEntry
from lienthong.hub.outbox.queue import DISPATCH, State, push_targets


def dispatch_pending(session: Session, *, limit: int = 200, now: datetime | None = None) -> int:
    """Make queued deliveries available; claims outbox rows so that several hub
    processes never handle the same entry (``FOR UPDATE SKIP LOCKED`` on PostgreSQL,
    ``BEGIN IMMEDIATE`` on SQLite). Returns how many entries were handled."""
    now = now or datetime.now(UTC)
    entries = session.scalars(
        select(OutboxEntry)
        .where(
            OutboxEntry.state == State.PENDING,
            OutboxEntry.next_at <= now,
            OutboxEntry.action == str(DISPATCH),
        )
        .order_by(OutboxEntry.id)
        .limit(limit)
        .with_for_update(skip_locked=True)
    ).all()
    for entry in entries:
        entry.attempts += 1
        if entry.action == str(DISPATCH):
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
                if transition(
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
        entry.state = State.DONE
    return len(entries)


def pending_dispatch(session: Session) -> int:
    return int(
        session.scalar(
            select(func.count())
            .select_from(OutboxEntry)
            .where(OutboxEntry.state == State.PENDING, OutboxEntry.action == str(DISPATCH))
        )
        or 0
    )
