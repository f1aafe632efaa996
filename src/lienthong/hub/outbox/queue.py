"""The outbox's rows: their states and actions, and every change made to them.

States: ``pending`` (due at ``next_at``) → ``inflight`` (claimed by a process until
``lease_until``, or until that process starts again: ``claimed_by``) → ``done``, or back to
``pending`` with exponential backoff and jitter, or ``dead`` (a permanent refusal, or the
lifetime ran out): a dead letter an operator can replay.
Relays, pushes and reports are handled outside any database transaction: claimed with a
lease, posted (:mod:`.relay`), then settled here. The sender's bytes travel unchanged
(signatures and deduplication hold end to end).

A relayed message whose deliveries fail here (or further on) is reported back to the hub it
came from: one ``report:<that hub>`` entry per message, armed again by every new failure
(:func:`report_upstream`; what is posted and how the upstream hub applies it:
:mod:`.reports`).
"""

from __future__ import annotations

import random
from collections.abc import Collection
from dataclasses import dataclass
from datetime import UTC, datetime, timedelta
from enum import StrEnum

from sqlalchemy import func, select, update
from sqlalchemy.orm import Session

from lienthong.hub import audit
from lienthong.hub.errors import HubError
from lienthong.hub.models import (
    Delivery,
    DeliveryState,
    Message,
    OutboxEntry,
    Peer,
    System,
    SystemAgency,
    utcnow,
)
from lienthong.hub.sealed import peer_key, system_secret
from lienthong.protocol.hops import parse_hops

BACKOFF_BASE = timedelta(seconds=2)
BACKOFF_CAP = timedelta(minutes=10)
LIFETIME = timedelta(hours=48)
LEASE = timedelta(seconds=60)


class State(StrEnum):
    PENDING = "pending"
    INFLIGHT = "inflight"
    DONE = "done"
    DEAD = "dead"


#: States of an entry still to be done.
WAITING = (State.PENDING.value, State.INFLIGHT.value)


class Target(StrEnum):
    """What an outbox entry does: local dispatch, a relay to a peer hub, a push to a
    system's callback URL, a report of failed deliveries back to the hub a message came
    from."""

    DISPATCH = "dispatch"
    RELAY = "relay"
    PUSH = "push"
    REPORT = "report"


@dataclass(frozen=True)
class Action:
    """An entry's action, stored as ``dispatch``, ``relay:<peer id>``, ``push:<system id>``
    or ``report:<peer id>``."""

    target: Target
    target_id: str = ""

    def __str__(self) -> str:
        return (
            self.target.value
            if self.target is Target.DISPATCH
            else f"{self.target}:{self.target_id}"
        )

    @classmethod
    def parse(cls, stored: str) -> Action:
        target, _, target_id = stored.partition(":")
        return cls(Target(target), target_id)

    @classmethod
    def relay(cls, peer_id: str) -> Action:
        return cls(Target.RELAY, peer_id)

    @classmethod
    def push(cls, system_id: str) -> Action:
        return cls(Target.PUSH, system_id)

    @classmethod
    def report(cls, peer_id: str) -> Action:
        return cls(Target.REPORT, peer_id)


DISPATCH = Action(Target.DISPATCH)


def prefix(target: Target) -> str:
    """The stored prefix of every action of ``target`` (``relay:``), for LIKE filters."""
    return f"{target}:"


def enqueue(session: Session, *, message_id: str, action: Action) -> None:
    session.add(OutboxEntry(message_id=message_id, action=str(action)))


@dataclass(frozen=True)
class Claim:
    entry_id: int
    message_id: str
    target: Target
    target_id: str  # the peer or the system
    url: str
    secret: str  # the peer's API key, or the system's secret (signs the push)
    payload_key: str
    hops: str
    kind: str
    accepted_at: datetime
    trace_prefix: str | None = None
    #: when it was claimed (a report armed again after this is sent again)
    claimed_at: datetime | None = None

    @property
    def action(self) -> str:
        return str(Action(Target(self.target), self.target_id))

    def __repr__(self) -> str:  # never the secret
        return f"Claim({self.entry_id}, {self.action})"


def claim(
    session: Session,
    *,
    limit: int = 20,
    now: datetime | None = None,
    exclude: Collection[str] = (),
    lease: timedelta = LEASE,
    owner: str | None = None,
) -> list[Claim]:
    """Relay, push and report entries due now, or whose lease expired (a crashed process's
    claim), except those of the targets (outbox actions) in ``exclude``; they are held by
    ``owner`` (the process's instance id) until settled. Targets share ``limit``
    evenly, oldest entries first within each: a peer's backlog after an outage never holds
    up the other peers (the national hub keeps relaying to every province while one
    province's queue drains)."""
    now = now or datetime.now(UTC)
    due = (
        OutboxEntry.action.like(prefix(Target.RELAY) + "%")
        | OutboxEntry.action.like(prefix(Target.PUSH) + "%")
        | OutboxEntry.action.like(prefix(Target.REPORT) + "%"),
        ((OutboxEntry.state == State.PENDING) & (OutboxEntry.next_at <= now))
        | ((OutboxEntry.state == State.INFLIGHT) & (OutboxEntry.lease_until < now)),
        OutboxEntry.action.not_in(list(exclude)),
    )
    actions = list(session.scalars(select(OutboxEntry.action).where(*due).distinct()).all())
    if not actions:
        return []
    random.shuffle(actions)  # which targets go first when there are more than ``limit``
    share = max(1, -(-limit // len(actions)))
    entries: list[OutboxEntry] = []
    for action in actions[:limit]:
        entries.extend(
            session.scalars(
                select(OutboxEntry)
                .where(*due, OutboxEntry.action == action)
                .order_by(OutboxEntry.id)
                .limit(min(share, limit - len(entries)))
                .with_for_update(skip_locked=True)
            ).all()
        )
        if len(entries) >= limit:
            break
    claims = []
    for entry in entries:
        message = session.get(Message, entry.message_id)
        parsed = Action.parse(entry.action)
        target, target_id = parsed.target, parsed.target_id
        url = secret = None
        if target is Target.RELAY:
            waiting = session.scalars(
                select(Delivery.id).where(
                    Delivery.message_id == entry.message_id,
                    Delivery.peer_id == target_id,
                    Delivery.state == DeliveryState.QUEUED.value,
                )
            ).first()
            if waiting is None:  # withdrawn (revoked, replaced) before it left: nothing to send
                entry.state, entry.lease_until = State.DONE, None
                continue
            peer = session.get(Peer, target_id)
            if peer is not None and peer.active:
                url, secret = f"{peer.url}/api/v1/packages", peer_key(session, peer)
        elif target is Target.REPORT:
            peer = session.get(Peer, target_id)
            if peer is not None and peer.active:
                url, secret = f"{peer.url}/api/v1/reports", peer_key(session, peer)
        else:
            system = session.get(System, target_id)
            if system is not None and system.active and system.callback_url:
                url, secret = system.callback_url, system_secret(session, system)
        if url is None or secret is None or message is None:
            entry.state, entry.last_error = State.DEAD, f"{target.value.upper()}_TARGET_UNKNOWN"
            continue
        entry.state, entry.lease_until, entry.claimed_by = State.INFLIGHT, now + lease, owner
        entry.attempts += 1
        claims.append(
            Claim(
                entry.id,
                message.id,
                target,
                target_id,
                url,
                secret,
                message.payload_key,
                message.hops or "",
                message.kind,
                _aware(message.created_at),
                message.trace_prefix,
                now,
            )
        )
    return claims


def release_claims_of(session: Session, *, owner: str, now: datetime | None = None) -> int:
    """A process starting again gives back the claims its previous run held when it died
    (``kill -9``, a power cut): due now, instead of after their lease. It holds none yet
    itself, so every ``inflight`` entry under its instance id is its predecessor's. The
    attempt stays counted (the post may have left)."""
    now = now or datetime.now(UTC)
    result = session.execute(
        update(OutboxEntry)
        .where(OutboxEntry.state == State.INFLIGHT, OutboxEntry.claimed_by == owner)
        .values(state=State.PENDING.value, lease_until=None, claimed_by=None, next_at=now)
        .execution_options(synchronize_session=False)
    )
    return int(getattr(result, "rowcount", 0) or 0)


@dataclass(frozen=True)
class Outcome:
    ok: bool
    permanent: bool = False
    code: str = ""
    detail: str = ""


def release(session: Session, *, entry_ids: list[int], owner: str | None = None) -> None:
    """Give back claims that were not attempted (their target is failing, or the claim grew
    old before its turn came): not an attempt. With ``owner``, only entries still held by
    it (a claim whose lease ran out may be another process's by now)."""
    held = [OutboxEntry.id.in_(entry_ids), OutboxEntry.state == State.INFLIGHT]
    if owner is not None:
        held.append(OutboxEntry.claimed_by == owner)
    for entry in session.scalars(select(OutboxEntry).where(*held)):
        entry.state, entry.lease_until, entry.claimed_by = State.PENDING, None, None
        entry.attempts = max(0, entry.attempts - 1)


def bring_forward(session: Session, *, action: str, now: datetime | None = None) -> None:
    """The target of ``action`` is back: what waits for it is due now."""
    now = now or datetime.now(UTC)
    session.execute(
        update(OutboxEntry)
        .where(
            OutboxEntry.action == action,
            OutboxEntry.state == State.PENDING,
            OutboxEntry.next_at > now,
        )
        .values(next_at=now)
    )


def settle(
    session: Session,
    *,
    entry_id: int,
    outcome: Outcome,
    now: datetime | None = None,
    rng: random.Random | None = None,
    drain: bool = False,
    claimed_at: datetime | None = None,
) -> str:
    """Record the result of one relay attempt; returns the entry's new state. A success
    after failures (or of a probe, ``drain``) brings the target's waiting queue forward:
    the target is back. ``claimed_at``: when the attempt's claim was made (a report armed
    again since then is due again)."""
    now = now or datetime.now(UTC)
    entry = session.get(OutboxEntry, entry_id)
    if entry is None or entry.state != State.INFLIGHT:
        return entry.state if entry is not None else "gone"
    if outcome.ok and (drain or entry.attempts > 1):
        bring_forward(session, action=entry.action, now=now)
    action = Action.parse(entry.action)
    if action.target is Target.PUSH:
        return _settle_push(session, entry, outcome, now, rng)
    if action.target is Target.REPORT:
        return _settle_report(entry, outcome, now, rng, claimed_at)
    peer_id = action.target_id
    deliveries = session.scalars(
        select(Delivery).where(
            Delivery.message_id == entry.message_id,
            Delivery.peer_id == peer_id,
            Delivery.state == DeliveryState.QUEUED.value,
        )
    ).all()
    if outcome.ok:
        entry.state, entry.lease_until, entry.last_error = State.DONE, None, None
        for d in deliveries:
            d.state, d.updated_at = DeliveryState.RELAYED.value, now
            audit.append(
                session,
                event=audit.Event.RELAYED,
                message_id=entry.message_id,
                agency_code=d.recipient_code,
                detail={"peer": peer_id},
            )
        return entry.state
    if _gives_up(entry, outcome, now):
        code = outcome.code if outcome.permanent else "HUB_RELAY_EXPIRED"
        entry.state, entry.lease_until = State.DEAD, None
        entry.last_error = f"{code}: {outcome.detail}"[:2000]
        state = DeliveryState.FAILED if outcome.permanent else DeliveryState.EXPIRED
        for d in deliveries:
            d.state, d.updated_at = state.value, now
            d.failure_code = "HUB_RELAY_REFUSED" if outcome.permanent else "HUB_RELAY_EXPIRED"
            d.failure_reason = entry.last_error
            audit.append(
                session,
                event=audit.Event.FAILED,
                message_id=entry.message_id,
                agency_code=d.recipient_code,
                detail={"peer": peer_id, "code": code},
            )
        if deliveries:
            report_upstream(session, message_id=entry.message_id)
        return entry.state
    _retry_later(entry, outcome, now, rng)
    return entry.state


def _settle_report(
    entry: OutboxEntry,
    outcome: Outcome,
    now: datetime,
    rng: random.Random | None,
    claimed_at: datetime | None,
) -> str:
    """A report delivered is done — unless it was armed again while in flight (a new
    failure it may not have carried): then it is due again at once."""
    if outcome.ok:
        armed_again = claimed_at is not None and _aware(entry.next_at) > _aware(claimed_at)
        entry.state = State.PENDING if armed_again else State.DONE
        entry.lease_until, entry.last_error = None, None
        return entry.state
    if not _gives_up(entry, outcome, now):
        _retry_later(entry, outcome, now, rng)
        return entry.state
    entry.state, entry.lease_until = State.DEAD, None
    entry.last_error = f"{outcome.code}: {outcome.detail}"[:2000]
    return entry.state


def report_upstream(session: Session, *, message_id: str) -> bool:
    """A delivery of ``message_id`` failed or expired: if the message came from another hub,
    arm the report of its failed deliveries to that hub (the last hop), so that the failure
    travels back hop by hop to the sender's hub and the sender's timeline. One entry per
    message and upstream hub: a new failure makes it due now again (whatever it was:
    waiting, sent, given up). Returns whether a report was armed."""
    message = session.get(Message, message_id)
    hops = parse_hops(message.hops) if message is not None else []
    if not hops:
        return False  # accepted from a system of this hub: its sender reads the timeline here
    action = str(Action.report(hops[-1].hub_id))
    entry = session.scalars(
        select(OutboxEntry).where(
            OutboxEntry.message_id == message_id, OutboxEntry.action == action
        )
    ).first()
    now = utcnow()
    if entry is None:
        session.add(OutboxEntry(message_id=message_id, action=action, next_at=now))
        return True
    if entry.state != State.INFLIGHT:
        entry.state, entry.attempts, entry.created_at = State.PENDING, 0, now
        entry.last_error = None
    entry.next_at = now  # in flight: sent again when that attempt is settled
    return True


def _settle_push(
    session: Session, entry: OutboxEntry, outcome: Outcome, now: datetime, rng: random.Random | None
) -> str:
    """A push that fails changes nothing for the recipient: the package stays in its inbox
    for pull; only the push itself is retried, then given up as a dead letter."""
    system_id = Action.parse(entry.action).target_id
    if outcome.ok:
        entry.state, entry.lease_until, entry.last_error = State.DONE, None, None
        served = select(SystemAgency.agency_code).where(SystemAgency.system_id == system_id)
        for d in session.scalars(
            select(Delivery).where(
                Delivery.message_id == entry.message_id,
                Delivery.recipient_code.in_(served),
                Delivery.state == DeliveryState.AVAILABLE.value,
            )
        ):
            d.state, d.updated_at = DeliveryState.FETCHED.value, now
            audit.append(
                session,
                event=audit.Event.FETCHED,
                message_id=entry.message_id,
                agency_code=d.recipient_code,
                system_id=system_id,
                detail={"pushed": True},
            )
        return entry.state
    if not _gives_up(entry, outcome, now):
        _retry_later(entry, outcome, now, rng)
        return entry.state
    entry.state, entry.lease_until = State.DEAD, None
    entry.last_error = f"{outcome.code}: {outcome.detail}"[:2000]
    return entry.state


def _aware(at: datetime) -> datetime:
    return at.replace(tzinfo=UTC) if at.tzinfo is None else at


def _gives_up(entry: OutboxEntry, outcome: Outcome, now: datetime) -> bool:
    """A permanent refusal, or an entry older than its lifetime."""
    created = _aware(entry.created_at or now)
    return outcome.permanent or now - created > LIFETIME


def _retry_later(
    entry: OutboxEntry, outcome: Outcome, now: datetime, rng: random.Random | None
) -> None:
    entry.state, entry.lease_until = State.PENDING, None
    entry.last_error = f"{outcome.code}: {outcome.detail}"[:2000]
    entry.next_at = now + backoff(entry.attempts, rng=rng)


def push_targets(session: Session, *, message_id: str, agencies: list[str]) -> None:
    """Queue a push to every system with a callback URL that serves one of ``agencies``."""
    systems = session.scalars(
        select(System.id)
        .join(SystemAgency, SystemAgency.system_id == System.id)
        .where(
            SystemAgency.agency_code.in_(agencies),
            System.callback_url.is_not(None),
            System.active.is_(True),
            System.peer.is_(False),
        )
        .distinct()
    ).all()
    for system_id in systems:
        action = str(Action.push(system_id))
        exists = session.scalars(
            select(OutboxEntry.id).where(
                OutboxEntry.message_id == message_id, OutboxEntry.action == action
            )
        ).first()
        if exists is None:
            enqueue(session, message_id=message_id, action=Action.push(system_id))


def backoff(attempts: int, *, rng: random.Random | None = None) -> timedelta:
    """Exponential backoff with ±50 % jitter: 2 s, 4 s, 8 s … capped at 10 min."""
    base: timedelta = min(BACKOFF_CAP, BACKOFF_BASE * (2 ** max(0, attempts - 1)))
    factor: float = 0.5 + (rng or random).random()
    return base * factor


def waiting_relays(session: Session) -> dict[str, int]:
    """Relay entries still to be done (pending or in flight), by action (``relay:<peer>``)."""
    rows = session.execute(
        select(OutboxEntry.action, func.count())
        .where(
            OutboxEntry.state.in_(WAITING),
            OutboxEntry.action.like(prefix(Target.RELAY) + "%"),
        )
        .group_by(OutboxEntry.action)
    ).all()
    return {str(action): int(n) for action, n in rows}


def dead_letters(session: Session, *, limit: int = 100) -> list[OutboxEntry]:
    return list(
        session.scalars(
            select(OutboxEntry)
            .where(OutboxEntry.state == State.DEAD)
            .order_by(OutboxEntry.id)
            .limit(limit)
        )
    )


def replay(session: Session, *, entry_id: int) -> OutboxEntry:
    """Put a dead letter back in the queue (its failed or expired deliveries too)."""
    entry = session.get(OutboxEntry, entry_id)
    if entry is None or entry.state != State.DEAD:
        raise HubError(
            "DEADLETTER_NOT_FOUND",
            f"Không có thư chết #{entry_id}",
            f"No dead letter #{entry_id}",
            status=404,
        )
    action = Action.parse(entry.action)
    relayed_to = action.target_id if action.target is Target.RELAY else None
    for d in session.scalars(  # a push's deliveries never failed: they wait for pull
        select(Delivery).where(
            Delivery.message_id == entry.message_id,
            Delivery.peer_id == relayed_to,
            Delivery.peer_id.is_not(None),
            Delivery.state.in_([DeliveryState.FAILED.value, DeliveryState.EXPIRED.value]),
        )
    ):
        d.state, d.failure_code, d.failure_reason = DeliveryState.QUEUED.value, None, None
        d.updated_at = utcnow()
    entry.state, entry.attempts, entry.next_at = State.PENDING, 0, utcnow()
    entry.created_at, entry.last_error = utcnow(), None
    return entry
