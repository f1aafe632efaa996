"""Operators and the admin API (``/api/admin/v1``): dead letters and the outbox.

An operator has a bearer API key of its own (``lienthong operator add NAME``), stored hashed
like a system's. The two kinds of key never mix: an operator reads no packages (the agency
API answers 403 ``AUTH_SYSTEM_KEY_REQUIRED``), a system cannot use the admin API (403
``AUTH_OPERATOR_KEY_REQUIRED``). What the admin API shows of a message is metadata only —
sender, recipients, size, times — never the package, its subject or its attachments.

A *dead letter* is a relay (to a peer hub) or a push (to a system's callback URL) that the
hub gave up (see :mod:`lienthong.hub.federation`); its reason is the typed code of the last
failure and a detail. A replay puts it back in the queue and is written to the audit log
with the operator's name. The CLI's ``deadletter`` commands show the same records.
"""

from __future__ import annotations

import re
from collections.abc import Sequence
from dataclasses import dataclass
from datetime import UTC, datetime
from typing import Annotated, Any, Literal

from fastapi import APIRouter, Depends, Header, Query, Request
from fastapi import Path as FastApiPath
from pydantic import BaseModel, Field
from sqlalchemy import func, select
from sqlalchemy.orm import Session

from lienthong.hub import audit, directory, federation
from lienthong.hub.api import bearer_key, invalid_key
from lienthong.hub.app import hub_of, in_thread
from lienthong.hub.errors import HubError, forbidden
from lienthong.hub.models import Delivery, Message, Operator, OutboxEntry, utcnow

#: Audit events written here (stable names, like :class:`lienthong.hub.audit.Event`'s).
OPERATOR_CHANGED = "operator_changed"
DEADLETTER_REPLAYED = "deadletter_replayed"
#: Operator names: a login or an e-mail address.
_NAME = re.compile(r"[A-Za-z0-9][A-Za-z0-9._@+-]{0,99}")
#: The outbox actions that can become dead letters, by target type.
TARGETS = {"relay": federation.RELAY, "push": federation.PUSH}
WAITING = ("pending", "inflight")
_MAX_ID = 2**62


# ------------------------------------------------------------------------------ operators


@dataclass(frozen=True)
class NewOperator:
    operator: Operator
    api_key: str

    def __repr__(self) -> str:  # never print the key by accident
        return f"NewOperator(name={self.operator.name!r})"


def add_operator(session: Session, *, name: str) -> NewOperator:
    """Create an operator with a new API key, or give an existing one a new key (the old
    one stops working at once). Only the key's hash is stored."""
    name = name.strip()
    if not _NAME.fullmatch(name):
        raise HubError(
            "OPERATOR_NAME_INVALID",
            "Tên người vận hành: 1–100 ký tự chữ không dấu, số, . _ @ + -",
            "An operator name has 1–100 characters: ASCII letters, digits, . _ @ + -",
            field="name",
            status=422,
        )
    api_key = directory.new_api_key("lto_")
    operator = session.get(Operator, name)
    action = "key_reissued"
    if operator is None:
        operator, action = Operator(name=name), "added"
        session.add(operator)
    operator.api_key_hash = directory.hash_api_key(api_key)
    session.flush()
    audit.append(session, event=OPERATOR_CHANGED, detail={"operator": name, "action": action})
    return NewOperator(operator=operator, api_key=api_key)


def remove_operator(session: Session, *, name: str) -> None:
    """Delete an operator: its key stops working (the audit log keeps what it did)."""
    operator = session.get(Operator, name.strip())
    if operator is None:
        raise HubError(
            "OPERATOR_NOT_FOUND",
            f"Không có người vận hành {name}",
            f"No operator {name}",
            field="name",
            status=404,
        )
    session.delete(operator)
    audit.append(
        session, event=OPERATOR_CHANGED, detail={"operator": operator.name, "action": "removed"}
    )


def list_operators(session: Session) -> list[Operator]:
    return list(session.scalars(select(Operator).order_by(Operator.name)))


def operator_by_api_key(session: Session, *, api_key: str) -> Operator | None:
    return session.scalars(
        select(Operator).where(Operator.api_key_hash == directory.hash_api_key(api_key))
    ).first()


def system_key_required() -> HubError:
    """An operator's key on the agency API."""
    return forbidden(
        "AUTH_SYSTEM_KEY_REQUIRED",
        "Khóa của người vận hành không dùng được cho API của cơ quan "
        "(người vận hành không đọc gói tin)",
        "An operator's key cannot use the agency API (operators read no packages)",
        field="Authorization",
    )


def operator_key_required() -> HubError:
    """A system's key on the admin API."""
    return forbidden(
        "AUTH_OPERATOR_KEY_REQUIRED",
        "API quản trị cần khóa API của người vận hành, không phải của hệ thống kết nối",
        "The admin API needs an operator's API key, not a connected system's",
        field="Authorization",
    )


# ------------------------------------------------------------------------------ dead letters


class TargetOut(BaseModel):
    type: str = Field(description="relay (to a peer hub), push (to a system), dispatch")
    id: str | None = Field(description="the peer hub or the system (null for dispatch)")


class ReasonOut(BaseModel):
    code: str = Field(description="stable code of the last failure, e.g. HUB_RELAY_EXPIRED")
    detail: str = Field(description="what the target answered (e.g. HTTP 422), free text")


class DeadLetterRecipientOut(BaseModel):
    agency: str
    state: str
    failure_code: str | None
    peer: str | None = Field(description="the peer hub the recipient is reached through")


class DeadLetterOut(BaseModel):
    id: int = Field(description="the outbox entry")
    state: str = Field(description="dead; pending or inflight once replayed; done when sent")
    target: TargetOut
    attempts: int
    reason: ReasonOut | None = Field(description="null once replayed")
    created_at: datetime | None = Field(
        description="queued (or replayed) at; the 48 h lifetime counts from here"
    )
    updated_at: datetime | None = Field(
        description="last change: for a dead letter, when it was given up"
    )
    next_at: datetime = Field(description="when the next attempt is due (pending only)")
    message_id: str
    kind: str = Field(description="edoc or status")
    sender: str = Field(description="the sending agency")
    sender_system: str = Field(description="the system (or peer hub) that sent it here")
    size: int
    accepted_at: datetime
    recipients: list[DeadLetterRecipientOut]


class DeadLettersOut(BaseModel):
    items: list[DeadLetterOut]
    next_after: int | None = Field(description="cursor for the next page (null: no more)")


class OutboxCountOut(BaseModel):
    target: TargetOut
    state: str
    count: int


class OldestOut(BaseModel):
    id: int
    target: TargetOut
    message_id: str
    created_at: datetime
    age_seconds: float


class OutboxSummaryOut(BaseModel):
    by_state: dict[str, int] = Field(description="pending, inflight, done, dead (and any other)")
    by_target: list[OutboxCountOut]
    oldest_pending: OldestOut | None = Field(
        description="the oldest entry still waiting (pending or in flight); null: none"
    )


def _aware(at: datetime) -> datetime:
    return at.replace(tzinfo=UTC) if at.tzinfo is None else at  # SQLite gives naive UTC


def target_of(action: str) -> TargetOut:
    kind, sep, ident = action.partition(":")
    return TargetOut(type=kind, id=ident if sep else None)


_REASON = re.compile(r"([A-Za-z][A-Za-z0-9_.-]{0,63})(?::\s*(.*))?", re.DOTALL)


def reason_of(last_error: str | None) -> ReasonOut | None:
    """``"HUB_LOOP: HTTP 422"`` → code ``HUB_LOOP``, detail ``HTTP 422`` (federation writes
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
    """The ``WHERE`` on the outbox action for a target filter (relay/push entries only)."""
    prefixes = [TARGETS[target_type]] if target_type else list(TARGETS.values())
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
            OutboxEntry.state == "dead",
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
    """Put a dead letter back in the queue (see :func:`federation.replay`) and write who
    did it to the audit log. An entry that is not dead is refused (409
    ``DEADLETTER_NOT_DEAD``, its state in the details): replaying twice changes nothing."""
    entry = _entry(session, entry_id, lock=True)
    if entry.state != "dead":
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
    federation.replay(session, entry_id=entry_id)
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
    by_state = dict.fromkeys(("pending", "inflight", "done", "dead"), 0)
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


# ------------------------------------------------------------------------------ REST


router = APIRouter(prefix="/api/admin/v1", tags=["admin"])

_ERRORS: dict[int | str, dict[str, Any]] = {
    401: {"description": "Thiếu hoặc sai khóa API / missing or wrong API key"},
    403: {"description": "Khóa của hệ thống, không phải người vận hành / a system's key"},
}
_NOT_FOUND: dict[int | str, dict[str, Any]] = {
    404: {"description": "Không có thư chết này / no such dead letter"}
}


async def _operator(
    request: Request, authorization: Annotated[str | None, Header()] = None
) -> Operator:
    hub = hub_of(request)
    key = bearer_key(authorization)
    operator: Operator | None = await in_thread(
        hub.read, lambda s: operator_by_api_key(s, api_key=key)
    )
    if operator is None:
        if await in_thread(hub.read, lambda s: directory.system_by_api_key(s, api_key=key)):
            raise operator_key_required()
        raise invalid_key()
    return operator


OperatorCaller = Annotated[Operator, Depends(_operator)]
EntryId = Annotated[int, FastApiPath(ge=1, le=_MAX_ID, description="the dead letter's id")]


@router.get(
    "/deadletters",
    response_model=DeadLettersOut,
    responses=_ERRORS,
    summary="Thư chết / dead letters (relays and pushes given up), oldest first",
)
async def list_dead_letters(
    request: Request,
    _caller: OperatorCaller,
    target_type: Annotated[
        Literal["relay", "push"] | None,
        Query(description="relay: to a peer hub; push: to a system's callback URL"),
    ] = None,
    target_id: Annotated[
        str | None,
        Query(max_length=100, pattern=r"^[^\x00]+$", description="the peer hub or the system"),
    ] = None,
    after: Annotated[int, Query(ge=0, le=_MAX_ID)] = 0,
    limit: Annotated[int, Query(ge=1, le=1000)] = 100,
) -> DeadLettersOut:
    hub = hub_of(request)
    return await in_thread(
        hub.read,
        lambda s: dead_letter_page(
            s, target_type=target_type, target_id=target_id, after=after, limit=limit
        ),
    )


@router.get(
    "/deadletters/{entry_id}",
    response_model=DeadLetterOut,
    responses={**_ERRORS, **_NOT_FOUND},
    summary="Một thư chết / one dead letter (or one replayed since: see its state)",
)
async def show_dead_letter(
    request: Request, _caller: OperatorCaller, entry_id: EntryId
) -> DeadLetterOut:
    hub = hub_of(request)
    return await in_thread(hub.read, lambda s: get_dead_letter(s, entry_id=entry_id))


@router.post(
    "/deadletters/{entry_id}/replay",
    response_model=DeadLetterOut,
    responses={
        **_ERRORS,
        **_NOT_FOUND,
        409: {"description": "không phải thư chết / not a dead letter (details.state)"},
    },
    summary="Gửi lại một thư chết / put a dead letter back in the queue",
)
async def replay(request: Request, operator: OperatorCaller, entry_id: EntryId) -> DeadLetterOut:
    hub = hub_of(request)
    out: DeadLetterOut = await in_thread(
        hub.run,
        lambda s: replay_dead_letter(s, entry_id=entry_id, operator=operator.name, via="api"),
    )
    hub.wake()
    return out


@router.get(
    "/outbox",
    response_model=OutboxSummaryOut,
    responses=_ERRORS,
    summary="Hàng đợi gửi đi / outbox summary: counts by state and target, oldest waiting",
)
async def get_outbox(request: Request, _caller: OperatorCaller) -> OutboxSummaryOut:
    hub = hub_of(request)
    return await in_thread(hub.read, lambda s: outbox_summary(s))
