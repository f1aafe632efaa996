"""Federation: peer hubs, routing of recipients to them, and the relay of packages.

A recipient served by this hub is delivered locally; otherwise it goes to the peer that
serves its level-1 code (``H41``, ``G12``), else to the default peer (``*``, normally the
parent hub). Relays are outbox entries (``relay:<peer>``) handled outside any database
transaction: claimed with a lease, posted to the peer's REST API, then settled —
``relayed`` on the peer's 2xx, a dead letter with a typed reason on a permanent refusal or
when the lifetime runs out, otherwise retried with exponential backoff and jitter. The
sender's bytes travel unchanged (signatures and deduplication hold end to end); the hops
travel in the ``X-Lienthong-Hops`` header and a hub refuses a package that already passed
through it (``HUB_LOOP``).
"""

from __future__ import annotations

import random
import re
from collections.abc import Collection
from dataclasses import dataclass
from datetime import UTC, datetime, timedelta

from sqlalchemy import select, update
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

RELAY = "relay:"
PUSH = "push:"  # delivery to an agency system's callback URL
HOPS_HEADER = "X-Lienthong-Hops"
BACKOFF_BASE = timedelta(seconds=2)
BACKOFF_CAP = timedelta(minutes=10)
LIFETIME = timedelta(hours=48)
LEASE = timedelta(seconds=60)


def add_peer(
    session: Session,
    *,
    peer_id: str,
    url: str,
    api_key: str,
    serves: list[str],
    role: str = "provincial",
) -> Peer:
    """Add or update a route to a peer hub. The national hub is the root: it has no default
    (``*``) peer above it."""
    codes = [c.strip().upper() if c.strip() != "*" else "*" for c in serves if c.strip()]
    if role == "national" and "*" in codes:
        raise HubError(
            "PEER_INVALID",
            "Trục quốc gia không có trục mặc định (*) ở trên",
            "The national hub has no default (*) peer above it",
            field="serves",
            status=422,
        )
    if not peer_id.strip() or not url.startswith(("http://", "https://")) or not codes:
        raise HubError(
            "PEER_INVALID",
            "Trục ngang hàng cần mã, URL http(s) và mã cấp 1 phục vụ",
            "A peer needs an id, an http(s) URL and the level-1 codes it serves",
            status=422,
        )
    peer = session.get(Peer, peer_id) or Peer(id=peer_id)
    peer.url, peer.api_key, peer.serves, peer.active = (
        url.rstrip("/"),
        api_key,
        ",".join(codes),
        True,
    )
    session.add(peer)
    return peer


def route_for(session: Session, code: str) -> Peer | None:
    """The peer that serves ``code``'s level-1 part, else the default (``*``) peer."""
    level1 = code.strip().split(".")[-1].upper()
    default = None
    for peer in session.scalars(select(Peer).where(Peer.active.is_(True)).order_by(Peer.id)):
        served = peer.serves.split(",")
        if level1 in served:
            return peer
        if "*" in served and default is None:
            default = peer
    return default


@dataclass(frozen=True)
class Hop:
    """A hub a package passed through, and when that hub accepted it."""

    hub_id: str
    at: datetime | None = None

    @property
    def token(self) -> str:
        return f"{self.hub_id}@{int(self.at.timestamp())}" if self.at else self.hub_id


_HOP = re.compile(r"([A-Za-z0-9._-]{1,64})(?:@(\d{1,12}))?")
MAX_HOPS = 16


def parse_hops(value: str | None) -> list[Hop]:
    """``h41@1795764601,vn@1795764602`` → hops, oldest first (bad tokens are skipped:
    what is stored was checked on the way in)."""
    hops = []
    for token in (value or "").split(","):
        match = _HOP.fullmatch(token.strip())
        if match:
            at = datetime.fromtimestamp(int(match[2]), UTC) if match[2] else None
            hops.append(Hop(match[1], at))
    return hops


def check_hops(value: str | None, hub_id: str) -> str:
    """The hop list of an incoming relay, checked: well formed, not too long, and not
    through this hub already (a routing loop)."""
    tokens = [t.strip() for t in (value or "").split(",") if t.strip()]
    if len(tokens) > MAX_HOPS or not all(_HOP.fullmatch(t) for t in tokens):
        raise HubError(
            "HUB_HOPS_INVALID",
            f"Tiêu đề {HOPS_HEADER} không hợp lệ (tối đa {MAX_HOPS} trục, dạng ma-truc@giay)",
            f"Invalid {HOPS_HEADER} header (at most {MAX_HOPS} hubs, as hub-id@epoch-seconds)",
            field=HOPS_HEADER,
            status=422,
        )
    if hub_id in {hop.hub_id for hop in parse_hops(value)}:
        raise HubError(
            "HUB_LOOP",
            f"Gói tin đã đi qua trục {hub_id}: vòng lặp định tuyến",
            f"The package already passed through hub {hub_id}: routing loop",
            field=HOPS_HEADER,
            status=422,
        )
    return ",".join(tokens)


@dataclass(frozen=True)
class Claim:
    entry_id: int
    message_id: str
    target: str  # "relay" or "push"
    target_id: str  # the peer or the system
    url: str
    secret: str  # the peer's API key, or the system's secret (signs the push)
    payload_key: str
    hops: str
    kind: str
    accepted_at: datetime
    trace_prefix: str | None = None

    @property
    def action(self) -> str:
        return f"{self.target}:{self.target_id}"

    def __repr__(self) -> str:  # never the secret
        return f"Claim({self.entry_id}, {self.action})"


def claim(
    session: Session,
    *,
    limit: int = 20,
    now: datetime | None = None,
    exclude: Collection[str] = (),
    lease: timedelta = LEASE,
) -> list[Claim]:
    """Relay and push entries due now, or whose lease expired (a crashed process's claim),
    except those of the targets (outbox actions) in ``exclude``. Targets share ``limit``
    evenly, oldest entries first within each: a peer's backlog after an outage never holds
    up the other peers (the national hub keeps relaying to every province while one
    province's queue drains)."""
    now = now or datetime.now(UTC)
    due = (
        OutboxEntry.action.like(RELAY + "%") | OutboxEntry.action.like(PUSH + "%"),
        ((OutboxEntry.state == "pending") & (OutboxEntry.next_at <= now))
        | ((OutboxEntry.state == "inflight") & (OutboxEntry.lease_until < now)),
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
        target, _, target_id = entry.action.partition(":")
        url = secret = None
        if target == "relay":
            waiting = session.scalars(
                select(Delivery.id).where(
                    Delivery.message_id == entry.message_id,
                    Delivery.peer_id == target_id,
                    Delivery.state == DeliveryState.QUEUED.value,
                )
            ).first()
            if waiting is None:  # withdrawn (revoked, replaced) before it left: nothing to send
                entry.state, entry.lease_until = "done", None
                continue
            peer = session.get(Peer, target_id)
            if peer is not None and peer.active:
                url, secret = f"{peer.url}/api/v1/packages", peer.api_key
        else:
            system = session.get(System, target_id)
            if system is not None and system.active and system.callback_url:
                url, secret = system.callback_url, system.secret
        if url is None or secret is None or message is None:
            entry.state, entry.last_error = "dead", f"{target.upper()}_TARGET_UNKNOWN"
            continue
        entry.state, entry.lease_until = "inflight", now + lease
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
            )
        )
    return claims


@dataclass(frozen=True)
class Outcome:
    ok: bool
    permanent: bool = False
    code: str = ""
    detail: str = ""


def release(session: Session, *, entry_ids: list[int]) -> None:
    """Give back claims that were not attempted (their target is failing): not an attempt."""
    for entry in session.scalars(
        select(OutboxEntry).where(OutboxEntry.id.in_(entry_ids), OutboxEntry.state == "inflight")
    ):
        entry.state, entry.lease_until = "pending", None
        entry.attempts = max(0, entry.attempts - 1)


def bring_forward(session: Session, *, action: str, now: datetime | None = None) -> None:
    """The target of ``action`` is back: what waits for it is due now."""
    now = now or datetime.now(UTC)
    session.execute(
        update(OutboxEntry)
        .where(
            OutboxEntry.action == action,
            OutboxEntry.state == "pending",
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
) -> str:
    """Record the result of one relay attempt; returns the entry's new state. A success
    after failures (or of a probe, ``drain``) brings the target's waiting queue forward:
    the target is back."""
    now = now or datetime.now(UTC)
    entry = session.get(OutboxEntry, entry_id)
    if entry is None or entry.state != "inflight":
        return entry.state if entry is not None else "gone"
    if outcome.ok and (drain or entry.attempts > 1):
        bring_forward(session, action=entry.action, now=now)
    if entry.action.startswith(PUSH):
        return _settle_push(session, entry, outcome, now, rng)
    peer_id = entry.action[len(RELAY) :]
    deliveries = session.scalars(
        select(Delivery).where(
            Delivery.message_id == entry.message_id,
            Delivery.peer_id == peer_id,
            Delivery.state == DeliveryState.QUEUED.value,
        )
    ).all()
    if outcome.ok:
        entry.state, entry.lease_until, entry.last_error = "done", None, None
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
        entry.state, entry.lease_until = "dead", None
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
        return entry.state
    _retry_later(entry, outcome, now, rng)
    return entry.state


def _settle_push(
    session: Session, entry: OutboxEntry, outcome: Outcome, now: datetime, rng: random.Random | None
) -> str:
    """A push that fails changes nothing for the recipient: the package stays in its inbox
    for pull; only the push itself is retried, then given up as a dead letter."""
    system_id = entry.action[len(PUSH) :]
    if outcome.ok:
        entry.state, entry.lease_until, entry.last_error = "done", None, None
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
    entry.state, entry.lease_until = "dead", None
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
    entry.state, entry.lease_until = "pending", None
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
        action = PUSH + system_id
        exists = session.scalars(
            select(OutboxEntry.id).where(
                OutboxEntry.message_id == message_id, OutboxEntry.action == action
            )
        ).first()
        if exists is None:
            session.add(OutboxEntry(message_id=message_id, action=action))


def backoff(attempts: int, *, rng: random.Random | None = None) -> timedelta:
    """Exponential backoff with ±50 % jitter: 2 s, 4 s, 8 s … capped at 10 min."""
    base: timedelta = min(BACKOFF_CAP, BACKOFF_BASE * (2 ** max(0, attempts - 1)))
    factor: float = 0.5 + (rng or random).random()
    return base * factor


def dead_letters(session: Session, *, limit: int = 100) -> list[OutboxEntry]:
    return list(
        session.scalars(
            select(OutboxEntry)
            .where(OutboxEntry.state == "dead")
            .order_by(OutboxEntry.id)
            .limit(limit)
        )
    )


def replay(session: Session, *, entry_id: int) -> OutboxEntry:
    """Put a dead letter back in the queue (its failed or expired deliveries too)."""
    entry = session.get(OutboxEntry, entry_id)
    if entry is None or entry.state != "dead":
        raise HubError(
            "DEADLETTER_NOT_FOUND",
            f"Không có thư chết #{entry_id}",
            f"No dead letter #{entry_id}",
            status=404,
        )
    relayed_to = entry.action[len(RELAY) :] if entry.action.startswith(RELAY) else None
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
    entry.state, entry.attempts, entry.next_at = "pending", 0, utcnow()
    entry.created_at, entry.last_error = utcnow(), None
    return entry
