"""Routing: where each recipient of an accepted message goes, and what a revocation,
a replacement or a status does to earlier messages.

A recipient served by a (non-peer) system of this hub gets a local delivery; otherwise the
peer serving its level-1 code (else the default peer) gets a relay — for a non-standard
identifier (``vxp.saas.03``, no level-1 part) the peer its directory entry names — except a
hub the package already came through, which routes it itself. An unknown code of a level-1
part this hub serves fails here instead of going back up or to the default peer (the hubs
above route that part here: it would vanish or come back); a relayed package reports such
failures back (:mod:`lienthong.hub.outbox.reports`). A known agency nobody serves yet waits
here; an unknown or inactive one fails individually. A status goes to
``ResponseFor/OrganId`` and is linked to the original only when it comes from a party of it.
"""

from __future__ import annotations

from collections.abc import Sequence

from sqlalchemy import select, update
from sqlalchemy.orm import Session

from lienthong.edxml.model import Edoc, Status
from lienthong.hub import audit
from lienthong.hub.deliveries import NOT_FETCHED, RecipientOutcome, transition
from lienthong.hub.directory import find_agency
from lienthong.hub.errors import HubError
from lienthong.hub.federation import route_for
from lienthong.hub.models import (
    Delivery,
    DeliveryState,
    Message,
    Peer,
    System,
    SystemAgency,
    utcnow,
)
from lienthong.hub.outbox.queue import DISPATCH, Action, enqueue
from lienthong.protocol.hops import parse_hops

#: Receiver statuses move the original delivery's business status; 13 comes from the sender.
SENDER_STATUSES = {"13"}
#: Stages of the processing sequence (02 and 03 are the two answers at one stage). Statuses
#: cross hubs on parallel relays, so they may arrive out of order: a late one never moves a
#: delivery's business status back (it is still recorded and delivered).
_STAGE = {"01": 1, "02": 2, "03": 2, "04": 3, "05": 4, "06": 5}


def route(session: Session, *, message: Message, package: Edoc | Status) -> list[RecipientOutcome]:
    """One delivery per recipient of a new message (flushed), the outbox entries for local
    dispatch and for each peer relayed to; refuses a relayed package that can go nowhere."""
    if isinstance(package, Status):
        outcomes = _route_status(session, message=message, status=package)
    else:
        outcomes = _route_edoc(session, message=message, edoc=package)
    _refuse_unroutable(message, outcomes)
    enqueue(session, message_id=message.id, action=DISPATCH)
    session.flush()
    peers = session.scalars(
        select(Delivery.peer_id)
        .where(Delivery.message_id == message.id, Delivery.peer_id.is_not(None))
        .distinct()
    ).all()
    for peer_id in peers:
        enqueue(session, message_id=message.id, action=Action.relay(str(peer_id)))
    return outcomes


def served_locally(session: Session, code: str) -> bool:
    """Whether a (non-peer) system of this hub serves ``code``."""
    return (
        session.scalars(
            select(SystemAgency.agency_code)
            .join(System, System.id == SystemAgency.system_id)
            .where(
                SystemAgency.agency_code == code, System.peer.is_(False), System.active.is_(True)
            )
            .limit(1)
        ).first()
        is not None
    )


def _resolve(session: Session, code: str) -> tuple[str, str | None, str | None]:
    """(canonical code, failure code, peer id): served here → local; otherwise the peer
    that serves its level-1 code (or the default peer) — for a non-standard identifier,
    which has no level-1 part, the peer its directory entry names (or the default); a
    known agency nobody serves yet waits here; an unknown one fails."""
    canonical, failure = recipient(session, code)
    if failure == "HUB_RECIPIENT_INACTIVE" or served_locally(session, canonical):
        return canonical, failure, None
    agency = find_agency(session, code=canonical) if failure is None else None
    via = agency.via_peer if agency is not None and agency.nonstandard else None
    peer = route_for(session, canonical, via=via)
    if peer is not None:
        return canonical, None, peer.id
    return canonical, failure, None


def _default_route(session: Session, peer_id: str, code: str) -> bool:
    """``peer_id`` is where ``code`` goes only as the default (``*``) route."""
    peer = session.get(Peer, peer_id)
    return peer is not None and _level1(code) not in peer.serves.split(",")


def _level1(code: str) -> str:
    return code.strip().split(".")[-1].upper()


def _unknown_here(session: Session, code: str) -> bool:
    """An unknown agency whose level-1 part (``H42``) is this hub's: agencies of that part
    are served here, so the hub above routed it to us and nobody else will deliver it."""
    if recipient(session, code)[1] != "HUB_UNKNOWN_RECIPIENT":
        return False
    level1 = _level1(code)
    return (
        session.scalars(
            select(SystemAgency.agency_code)
            .join(System, System.id == SystemAgency.system_id)
            .where(
                SystemAgency.agency_code.endswith(f".{level1}", autoescape=True),
                System.peer.is_(False),
                System.active.is_(True),
            )
            .limit(1)
        ).first()
        is not None
    )


def recipient(session: Session, code: str) -> tuple[str, str | None]:
    """(canonical code, failure code or None)."""
    agency = find_agency(session, code=code)
    if agency is None:
        return code.strip(), "HUB_UNKNOWN_RECIPIENT"
    if not agency.active:
        return agency.code, "HUB_RECIPIENT_INACTIVE"
    return agency.code, None


_FAILURE_TEXT = {
    "HUB_UNKNOWN_RECIPIENT": "Không có nơi nhận này trong danh bạ / unknown recipient",
    "HUB_RECIPIENT_INACTIVE": "Nơi nhận đã ngừng hoạt động / recipient inactive",
    "HUB_WITHDRAWN_BEFORE_FETCH": "Văn bản gốc đã được thu hồi trước khi nhận / "
    "the original was withdrawn before it was fetched",
}


def no_route_reason(code: str) -> str:
    """Why an agency this hub does not know fails: it is in no directory here and no peer
    hub serves its level-1 code (``H42``) — the sender's next question."""
    level1 = code.strip().split(".")[-1].upper() or "?"
    return (
        f"{code} không có trong danh bạ và không có tuyến tới {level1} (không trục nào phục vụ "
        f"{level1}) / {code} is not in the directory and there is no route for {level1} "
        f"(no peer hub serves {level1})"
    )


def _add_delivery(
    session: Session,
    message: Message,
    code: str,
    failure: str | None,
    state: str | None = None,
    peer_id: str | None = None,
) -> RecipientOutcome:
    state = state or (DeliveryState.FAILED.value if failure else DeliveryState.QUEUED.value)
    reason = _FAILURE_TEXT.get(failure or "")
    if failure == "HUB_UNKNOWN_RECIPIENT":
        reason = no_route_reason(code)
    session.add(
        Delivery(
            message_id=message.id,
            recipient_code=code,
            state=state,
            failure_code=failure,
            failure_reason=reason,
            peer_id=peer_id,
        )
    )
    return RecipientOutcome(code, state, failure, reason)


def _route_edoc(session: Session, *, message: Message, edoc: Edoc) -> list[RecipientOutcome]:
    withdrawn: set[str] = set()
    if message.business_type == 1:
        addressed = {recipient(session, org.organ_id or "")[0] for org in edoc.recipients}
        withdrawn = _revoke(session, message=message, recipients=addressed)
    elif message.business_type == 3 and edoc.business and edoc.business.replacements:
        for rep in edoc.business.replacements:
            _supersede(
                session,
                message=message,
                document_id=rep.document_id or "",
                recipients=rep.organ_ids,
            )
    outcomes = []
    seen: set[str] = set()
    upstream = _upstream(message)
    for org in edoc.recipients:
        code, failure, peer_id = _resolve(session, org.organ_id or "")
        if (
            peer_id is not None
            and (peer_id in upstream or _default_route(session, peer_id, code))
            and _unknown_here(session, code)
        ):
            peer_id, failure = None, "HUB_UNKNOWN_RECIPIENT"
        if code in seen or peer_id in upstream:  # a hub the package came through routes it
            continue
        seen.add(code)
        if failure is None and code in withdrawn:
            # the original vanished from this inbox unseen: nothing left to revoke there
            outcomes.append(
                _add_delivery(
                    session,
                    message,
                    code,
                    "HUB_WITHDRAWN_BEFORE_FETCH",
                    DeliveryState.REVOKED.value,
                )
            )
        else:
            outcomes.append(_add_delivery(session, message, code, failure, peer_id=peer_id))
    return outcomes


def _original(
    session: Session, *, sender: str, document_id: str, before: Message
) -> Message | None:
    return session.scalars(
        select(Message)
        .where(
            Message.kind == "edoc",
            Message.sender_code == sender,
            Message.document_id == document_id,
            Message.id != before.id,
            Message.business_type != 1,
        )
        .order_by(Message.created_at.desc())
        .limit(1)
    ).first()


def _revoke(session: Session, *, message: Message, recipients: set[str]) -> set[str]:
    """Withdraw the unfetched deliveries, to the revocation's own recipients, of every
    earlier version of the document (the original and its updates); return those
    recipients. A revocation addressed to one recipient leaves the others' copies."""
    versions = session.scalars(
        select(Message).where(
            Message.kind == "edoc",
            Message.sender_code == message.sender_code,
            Message.document_id == (message.document_id or ""),
            Message.id != message.id,
            Message.business_type != 1,
        )
    ).all()
    withdrawn: set[str] = set()
    for original in versions:
        withdrawn |= _withdraw(
            session, original=original, by=message, event=audit.Event.REVOKED, only=recipients
        )
    return withdrawn


def _supersede(
    session: Session, *, message: Message, document_id: str, recipients: Sequence[str]
) -> None:
    original = _original(
        session, sender=message.sender_code, document_id=document_id, before=message
    )
    if original is not None:
        codes = {recipient(session, c)[0] for c in recipients} or None
        _withdraw(session, original=original, by=message, event=audit.Event.SUPERSEDED, only=codes)


def _withdraw(
    session: Session, *, original: Message, by: Message, event: str, only: set[str] | None = None
) -> set[str]:
    rows = session.scalars(
        select(Delivery).where(Delivery.message_id == original.id, Delivery.state.in_(NOT_FETCHED))
    ).all()
    withdrawn = set()
    for d in rows:
        code = d.recipient_code
        if only is not None and code not in only:
            continue
        if not transition(session, d, DeliveryState.REVOKED.value, expected=NOT_FETCHED):
            continue  # fetched meanwhile: that recipient gets the revocation instead
        withdrawn.add(code)
        audit.append(
            session,
            event=event,
            message_id=original.id,
            agency_code=code,
            detail={"by": by.id},
        )
    return withdrawn


def _upstream(message: Message) -> set[str | None]:
    """The hubs a relayed package came through (their ids are their peer ids here)."""
    return {hop.hub_id for hop in parse_hops(message.hops)}


def _known(session: Session, document_id: str, *, before: Message) -> bool:
    """Whether this hub holds a document of that id (sent here or through here)."""
    return (
        session.scalars(
            select(Message.id)
            .where(
                Message.kind == "edoc",
                Message.document_id == document_id,
                Message.id != before.id,
            )
            .limit(1)
        ).first()
        is not None
    )


def _refuse_unroutable(message: Message, outcomes: list[RecipientOutcome]) -> None:
    """A relayed package this hub can deliver to none of its recipients is refused: the
    hub that sent it keeps it as a dead letter with this reason, and its sender sees the
    failure, instead of a "relayed" that leads nowhere."""
    hops = parse_hops(message.hops)
    if not hops or any(o.state != DeliveryState.FAILED.value for o in outcomes):
        return
    last = hops[-1].hub_id
    failed = [o for o in outcomes if o.failure_code]
    cause = failed[0].failure_code if failed else "HUB_NO_ROUTE"
    raise HubError(
        "HUB_NO_ROUTE",
        f"Trục {last} chuyển đến nhưng trục này không chuyển được cho nơi nhận nào ({cause})",
        f"Relayed from hub {last}, but this hub can deliver to none of the recipients ({cause})",
        field="To/OrganId",
        status=422,
        details={"recipients": [o.agency_code for o in outcomes], "cause": cause},
    )


def _route_status(session: Session, *, message: Message, status: Status) -> list[RecipientOutcome]:
    rf = status.response_for
    addressee, failure, peer_id = _resolve(session, rf.organ_id or "")
    if peer_id in _upstream(message):
        return []  # back where it came from: not ours to route
    code = (status.status_code or "").strip()
    if code in SENDER_STATUSES:
        original = _original(
            session, sender=message.sender_code, document_id=rf.document_id or "", before=message
        )
    else:
        original = _original(
            session, sender=addressee, document_id=rf.document_id or "", before=message
        )
    # only a party of the original may report on it: the recipient that reports
    # (01–06, 15, 16) or the recipient asked to give it back (13)
    party = addressee if code in SENDER_STATUSES else message.sender_code
    if (
        original is not None
        and session.scalars(
            select(Delivery.id).where(
                Delivery.message_id == original.id, Delivery.recipient_code == party
            )
        ).first()
        is None
    ):
        original = None
    if original is None and _known(session, rf.document_id or "", before=message):
        # the document is held here and this sender is no party of it: a forged status
        raise HubError(
            "HUB_STATUS_NOT_A_PARTY",
            "Chỉ bên liên quan của văn bản được gửi trạng thái về nó (trạng thái 13: chỉ "
            "nơi gửi văn bản; các trạng thái khác: chỉ nơi nhận văn bản)",
            "Only a party of the document may send a status about it (13: only its sender; "
            "other statuses: only its recipients)",
            field="ResponseFor/DocumentId",
            status=403,
        )
    if original is not None:
        message.refers_to = original.id
        if code not in SENDER_STATUSES:
            later = [c for c, stage in _STAGE.items() if stage > _STAGE.get(code, 0)]
            session.execute(
                update(Delivery)
                .where(
                    Delivery.message_id == original.id,
                    Delivery.recipient_code == message.sender_code,
                    Delivery.business_status.is_(None)
                    | Delivery.business_status.not_in(later if code in _STAGE else []),
                )
                .values(business_status=code, updated_at=utcnow())
            )
        audit.append(
            session,
            event=audit.Event.STATUS,
            message_id=original.id,
            agency_code=message.sender_code,
            detail={"status": code, "status_message": message.id},
        )
    return [_add_delivery(session, message, addressee, failure, peer_id=peer_id)]
