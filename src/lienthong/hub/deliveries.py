"""A message's deliveries, one per recipient: the outcome shape callers see, and the one
way a delivery's state changes (compare-and-set, safe across hub processes)."""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass
from typing import Any

from sqlalchemy import select, update
from sqlalchemy.orm import Session

from lienthong.hub.models import Delivery, DeliveryState, utcnow

#: Deliveries a recipient has not fetched yet (a revocation still withdraws them).
NOT_FETCHED = (DeliveryState.QUEUED.value, DeliveryState.AVAILABLE.value)


@dataclass(frozen=True)
class RecipientOutcome:
    agency_code: str
    state: str
    failure_code: str | None = None
    failure_reason: str | None = None


def transition(
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


def outcomes(session: Session, message_id: str) -> list[RecipientOutcome]:
    rows = session.scalars(
        select(Delivery).where(Delivery.message_id == message_id).order_by(Delivery.id)
    )
    return [
        RecipientOutcome(d.recipient_code, d.state, d.failure_code, d.failure_reason) for d in rows
    ]
