"""Retention: what the hub lets go of, run by ``lienthong hub prune`` and by every hub
process once a minute (settings ``delivery_lifetime_days``, ``outbox_retention_days``).

* A delivery still waiting in an inbox (``available`` or ``fetched``, never acknowledged)
  past its lifetime becomes ``expired`` (``HUB_DELIVERY_EXPIRED``): it leaves the inbox, the
  sender's timeline says so, and a relayed message reports it back upstream.
* Outbox entries ``done`` longer than the outbox retention are deleted (dead letters stay
  until an operator replays them).
* Signatures of the national platform's API older than twice the freshness window are
  forgotten (they can no longer be replayed: their timestamp is stale).

Nothing that is evidence is deleted: messages, deliveries, payloads and the audit chain stay
(deduplication is permanent; the chain stays verifiable by ``lienthong audit verify``). Each
expiry is an ``expired`` audit record, and a prune that deleted outbox entries writes one
``pruned`` record with its counts. Work is done in bounded batches (``limit`` rows per kind
and call) so that a prune never holds a long transaction; call again while it returns work.
"""

from __future__ import annotations

from dataclasses import asdict, dataclass
from datetime import UTC, datetime, timedelta

from sqlalchemy import delete, select
from sqlalchemy.orm import Session

from lienthong.hub import audit
from lienthong.hub.authn import purge_seen_signatures
from lienthong.hub.deliveries import transition
from lienthong.hub.models import PENDING_STATES, Delivery, DeliveryState, OutboxEntry
from lienthong.hub.outbox.queue import State, report_upstream

EXPIRED_CODE = "HUB_DELIVERY_EXPIRED"


@dataclass(frozen=True)
class PruneResult:
    expired: int = 0
    outbox_deleted: int = 0
    signatures_forgotten: int = 0

    @property
    def total(self) -> int:
        return self.expired + self.outbox_deleted + self.signatures_forgotten

    def __add__(self, other: PruneResult) -> PruneResult:
        return PruneResult(
            self.expired + other.expired,
            self.outbox_deleted + other.outbox_deleted,
            self.signatures_forgotten + other.signatures_forgotten,
        )


def expire_deliveries(
    session: Session, *, lifetime: timedelta, now: datetime | None = None, limit: int = 1000
) -> int:
    """Expire up to ``limit`` deliveries waiting in an inbox since before ``now - lifetime``;
    returns how many."""
    now = now or datetime.now(UTC)
    days = lifetime.total_seconds() / 86400
    rows = session.scalars(
        select(Delivery)
        .where(Delivery.state.in_(PENDING_STATES), Delivery.created_at < now - lifetime)
        .order_by(Delivery.id)
        .limit(limit)
    ).all()
    expired = 0
    messages: set[str] = set()
    for d in rows:
        was = d.state
        if not transition(
            session,
            d,
            DeliveryState.EXPIRED.value,
            expected=PENDING_STATES,
            failure_code=EXPIRED_CODE,
            failure_reason=f"Nơi nhận không xác nhận đã nhận trong {days:g} ngày / "
            f"not acknowledged by the recipient within {days:g} days",
        ):
            continue  # acknowledged meanwhile
        expired += 1
        messages.add(d.message_id)
        audit.append(
            session,
            event=audit.Event.EXPIRED,
            message_id=d.message_id,
            agency_code=d.recipient_code,
            detail={"code": EXPIRED_CODE, "was": was, "lifetime_days": days},
        )
    for message_id in sorted(messages):
        report_upstream(session, message_id=message_id)
    return expired


def prune_outbox(
    session: Session, *, older_than: timedelta, now: datetime | None = None, limit: int = 5000
) -> int:
    """Delete up to ``limit`` outbox entries done since before ``now - older_than``."""
    cutoff = (now or datetime.now(UTC)) - older_than
    old = (OutboxEntry.updated_at < cutoff) | (
        OutboxEntry.updated_at.is_(None) & (OutboxEntry.created_at < cutoff)
    )
    ids = list(
        session.scalars(
            select(OutboxEntry.id).where(OutboxEntry.state == State.DONE, old).limit(limit)
        ).all()
    )
    if not ids:
        return 0
    session.execute(
        delete(OutboxEntry)
        .where(OutboxEntry.id.in_(ids), OutboxEntry.state == State.DONE)
        .execution_options(synchronize_session=False)
    )
    return len(ids)


def prune(
    session: Session,
    *,
    delivery_lifetime: timedelta | None,
    outbox_retention: timedelta | None,
    signature_window: timedelta,
    now: datetime | None = None,
    limit: int = 1000,
    via: str = "hub",
) -> PruneResult:
    """One batch of every kind (``None``: kept for ever); see the module."""
    now = now or datetime.now(UTC)
    result = PruneResult(
        expired=expire_deliveries(session, lifetime=delivery_lifetime, now=now, limit=limit)
        if delivery_lifetime
        else 0,
        outbox_deleted=prune_outbox(session, older_than=outbox_retention, now=now, limit=limit)
        if outbox_retention
        else 0,
        signatures_forgotten=purge_seen_signatures(session, older_than=2 * signature_window),
    )
    if result.outbox_deleted:
        audit.append(session, event=audit.Event.PRUNED, detail={**asdict(result), "via": via})
    return result
