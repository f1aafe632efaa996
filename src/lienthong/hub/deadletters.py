"""Dead letters: relays (to a peer hub) and pushes (to a system's callback URL) that the hub
gave up (see :mod:`lienthong.hub.outbox`); the reason is the typed code of the last failure and
a detail. A replay puts one back in the queue and is written to the audit log with the
operator's name. What an operator sees of a message is metadata only — sender, recipients,
size, times — never the package, its subject or its attachments. The admin API and the CLI's
``deadletter`` commands show the same records (shapes in :mod:`lienthong.protocol.admin`).
"""

from __future__ import annotations

import re
from collections.abc import Sequence
from datetime import UTC, datetime
from typing import Any

from sqlalchemy import func, select
from sqlalchemy.orm import Session

from lienthong.hub import audit
from lienthong.hub.errors import HubError
from lienthong.hub.models import Delivery, Message, OutboxEntry, utcnow
from lienthong.hub.outbox import queue
from lienthong.hub.outbox.queue import WAITING, Action, State, Target, prefix
from lienthong.protocol.admin import (
    DeadLetterOut,
    DeadLetterRecipientOut,
    DeadLettersOut,
    OldestOut,
    OutboxCountOut,
    OutboxSummaryOut,
    ReasonOut,
    TargetOut,
)

_MAX_ID = 2**62


DEADLETTER_REPLAYED = "deadletter_replayed"


def _aware(at: datetime) -> datetime:
    return at.replace(tzinfo=UTC) if at.tzinfo is None else at  # SQLite gives naive UTC


def target_of(action: str) -> TargetOut:
    parsed = Action.parse(action)
    return TargetOut(type=parsed.target.value, id=parsed.target_id or None)


_REASON = re.compile(r"([A-Za-z][A-Za-z0-9_.-]{0,63})(?::\s*(.*))?", re.DOTALL)


def reason_of(last_error: str | None) -> ReasonOut | None:
    """``"HUB_LOOP: HTTP 422"`` → code ``HUB_LOOP``, detail ``HTTP 422`` (the outbox writes
    ``code: detail``); anything else is kept whole under ``UNKNOWN``."""
    if not last_error:
        return None
    match = _REASON.fullmatch(last_error.strip())
    if match is None:
        return ReasonOut(code="UNKNOWN", detail=last_error)
    return ReasonOut(code=match.group(1), detail=(match.group(2) or "").strip())


def _present(session: Session, rows: Sequence[tuple[OutboxEntry, Message]]) -> list[DeadLetterOut]:
    ids = [m.id for _, m in rows]
    recipients: dict[str, list[DeadLetterRecipientOut]] = {i: [] for i in ids}
    if ids:
        for d in session.scalars(
            select(Delivery).where(Delivery.message_id.in_(ids)).order_by(Delivery.id)
        ):
            recipients[d.message_id].append(
                DeadLetterRecipientOut(
                    agency=d.recipient_code,
                    state=d.state,
                    failure_code=d.failure_code,
                    peer=d.peer_id,
                )
            )
    return [
        DeadLetterOut(
            id=e.id,
            state=e.state,
            target=target_of(e.action),
            attempts=e.attempts,
            reason=reason_of(e.last_error),
            created_at=_aware(e.created_at) if e.created_at else None,
            updated_at=_aware(e.updated_at) if e.updated_at else None,
            next_at=_aware(e.next_at),
            message_id=m.id,
            kind=m.kind,
            sender=m.sender_code,
            sender_system=m.sender_system_id,
            size=m.payload_size,
            accepted_at=_aware(m.created_at),
            recipients=recipients[m.id],
        )
        for e, m in rows
    ]


def _targets(target_type: str | None, target_id: str | None) -> Any:
    """The ``WHERE`` on the outbox action for a target filter (relay, push, report entries)."""
    targets = [Target(target_type)] if target_type else [Target.RELAY, Target.PUSH, Target.REPORT]
    prefixes = [prefix(t) for t in targets]
    if target_id is not None:
        return OutboxEntry.action.in_([p + target_id for p in prefixes])
    clause = OutboxEntry.action.startswith(prefixes[0], autoescape=True)
    for p in prefixes[1:]:
        clause = clause | OutboxEntry.action.startswith(p, autoescape=True)
    return clause


def dead_letter_page(
    session: Session,
    *,
    target_type: str | None = None,
    target_id: str | None = None,
    after: int = 0,
    limit: int = 100,
) -> DeadLettersOut:
    """Dead letters oldest first (by entry id), after the cursor ``after``."""
    rows = session.execute(
        select(OutboxEntry, Message)
        .join(Message, Message.id == OutboxEntry.message_id)
        .where(
            OutboxEntry.state == State.DEAD,
            OutboxEntry.id > after,
            _targets(target_type, target_id),
        )
        .order_by(OutboxEntry.id)
        .limit(limit)
    ).all()
    items = _present(session, [(e, m) for e, m in rows])
    return DeadLettersOut(
        items=items, next_after=items[-1].id if len(items) == limit and items else None
    )


def _entry(session: Session, entry_id: int, *, lock: bool = False) -> OutboxEntry:
    """A relay or push entry (whatever its state), else 404 ``DEADLETTER_NOT_FOUND``."""
    query = select(OutboxEntry).where(OutboxEntry.id == entry_id, _targets(None, None))
    entry = session.scalars(query.with_for_update() if lock else query).first()
    if entry is None:
        raise HubError(
            "DEADLETTER_NOT_FOUND",
            f"Không có thư chết #{entry_id}",
            f"No dead letter #{entry_id}",
            field="entry_id",
            status=404,
        )
    return entry


def get_dead_letter(session: Session, *, entry_id: int) -> DeadLetterOut:
    """One relay or push entry: a dead letter, or one replayed since (its ``state`` says)."""
    entry = _entry(session, entry_id)
    message = session.get(Message, entry.message_id)
    assert message is not None  # a foreign key
    [out] = _present(session, [(entry, message)])
    return out


def replay_dead_letter(
    session: Session, *, entry_id: int, operator: str | None, via: str
) -> DeadLetterOut:
    """Put a dead letter back in the queue (see :func:`lienthong.hub.outbox.queue.replay`)
    and write who did it to the audit log. An entry that is not dead is refused (409
    ``DEADLETTER_NOT_DEAD``, its state in the details): replaying twice changes nothing."""
    entry = _entry(session, entry_id, lock=True)
    if entry.state != State.DEAD:
        raise HubError(
            "DEADLETTER_NOT_DEAD",
            f"Mục #{entry_id} không phải thư chết (trạng thái {entry.state}): "
            "không có gì để gửi lại",
            f"Entry #{entry_id} is not a dead letter (state {entry.state}): nothing to replay",
            field="entry_id",
            status=409,
            details={"state": entry.state},
        )
    reason = entry.last_error
    queue.replay(session, entry_id=entry_id)
    audit.append(
        session,
        event=DEADLETTER_REPLAYED,
        message_id=entry.message_id,
        detail={
            "entry": entry.id,
            "target": entry.action,
            "reason": reason,
            "operator": operator,
            "via": via,
        },
    )
    session.flush()
    return get_dead_letter(session, entry_id=entry_id)


def outbox_summary(session: Session, *, now: datetime | None = None) -> OutboxSummaryOut:
    """Counts by state and by target, and the oldest entry still waiting: for monitoring."""
    now = now or utcnow()
    by_state = dict.fromkeys([s.value for s in State], 0)
    by_target = []
    for action, state, count in session.execute(
        select(OutboxEntry.action, OutboxEntry.state, func.count())
        .group_by(OutboxEntry.action, OutboxEntry.state)
        .order_by(OutboxEntry.action, OutboxEntry.state)
    ):
        by_state[state] = by_state.get(state, 0) + int(count)
        by_target.append(OutboxCountOut(target=target_of(action), state=state, count=int(count)))
    since = func.coalesce(OutboxEntry.created_at, OutboxEntry.next_at)  # pre-0004 rows
    entry = session.scalars(
        select(OutboxEntry)
        .where(OutboxEntry.state.in_(WAITING))
        .order_by(since, OutboxEntry.id)
        .limit(1)
    ).first()
    waiting = None
    if entry is not None:
        at = _aware(entry.created_at or entry.next_at)
        waiting = OldestOut(
            id=entry.id,
            target=target_of(entry.action),
            message_id=entry.message_id,
            created_at=at,
            age_seconds=round(max(0.0, (now - at).total_seconds()), 3),
        )
    return OutboxSummaryOut(by_state=by_state, by_target=by_target, oldest_pending=waiting)
