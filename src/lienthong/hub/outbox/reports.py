"""Failures reported back upstream: a hub that cannot deliver some recipients of a package
relayed to it tells the hub it came from, which records them and tells the hub before it,
and so on back to the sender's hub — where the sender's timeline shows ``failed`` or
``expired`` with the reason, instead of ``relayed`` for ever.

What fails is recorded where it happens (an unknown or inactive recipient at intake, a
recipient's system answering ``fail``, a delivery expiring unfetched, a relay further on
given up, a report from further on); each arms the message's ``report:<upstream hub>``
outbox entry (:func:`lienthong.hub.outbox.queue.report_upstream`). The relayer posts
:func:`report_body` — every failed or expired delivery of the message, so a report repeated
or overtaken by a later one does no harm — to the upstream hub's ``POST /api/v1/reports``,
which applies it with :func:`apply_report`: only to its deliveries relayed to the reporting
hub and not yet settled otherwise (``queued``: the report overtook the relay's own answer,
or ``relayed``). The package is named by the SHA-256 of the sender's bytes, its kind and its
sender: what every hub on its way stores alike.
"""

from __future__ import annotations

import json

from sqlalchemy import select
from sqlalchemy.orm import Session

from lienthong.hub import audit
from lienthong.hub.deliveries import transition
from lienthong.hub.errors import HubError, forbidden, not_found
from lienthong.hub.models import AuditEvent, Delivery, DeliveryState, Message, System
from lienthong.hub.outbox.queue import report_upstream
from lienthong.protocol.rest import DeliveryReportIn, ReportedRecipient

#: Delivery states a report carries (a failure here or further on).
REPORTED_STATES = (DeliveryState.FAILED.value, DeliveryState.EXPIRED.value)
#: What a report may change upstream: a relay not yet answered, or answered "accepted".
_REPORTABLE = (DeliveryState.QUEUED.value, DeliveryState.RELAYED.value)


def report_body(session: Session, *, message_id: str, hub_id: str) -> bytes:
    """The report of ``message_id``'s failed and expired deliveries, from hub ``hub_id``."""
    message = session.get(Message, message_id)
    if message is None:
        raise not_found("văn bản", "message", message_id)
    recipients = []
    for d in session.scalars(
        select(Delivery)
        .where(Delivery.message_id == message_id, Delivery.state.in_(REPORTED_STATES))
        .order_by(Delivery.id)
    ):
        where = _reported_from(session, message_id=message_id, agency=d.recipient_code)
        reason = d.failure_reason or ""
        if where is None:  # it failed here: say where
            where = hub_id
            reason = f"{reason} (trục / hub {hub_id})".strip()
        recipients.append(
            ReportedRecipient(
                agency=d.recipient_code,
                state="expired" if d.state == DeliveryState.EXPIRED.value else "failed",
                failure_code=(d.failure_code or "")[:64],
                failure_reason=reason[:1000],
                hub=where,
            )
        )
    report = DeliveryReportIn(
        hub=hub_id,
        sha256=message.payload_key,
        kind="status" if message.kind == "status" else "edoc",
        sender=message.sender_code,
        recipients=recipients,
    )
    return report.model_dump_json().encode("utf-8")


def _reported_from(session: Session, *, message_id: str, agency: str) -> str | None:
    """The hub further on where this delivery failed, when a report told us so."""
    events = session.scalars(
        select(AuditEvent.detail)
        .where(
            AuditEvent.message_id == message_id,
            AuditEvent.agency_code == agency,
            AuditEvent.event.in_([audit.Event.FAILED, audit.Event.EXPIRED]),
        )
        .order_by(AuditEvent.seq.desc())
        .limit(1)
    ).all()
    for detail in events:
        at = json.loads(detail or "{}").get("at_hub")
        return str(at) if at else None
    return None


def apply_report(
    session: Session, *, system: System, report: DeliveryReportIn
) -> tuple[str, list[str]]:
    """Record what a downstream hub reports (see the module); returns the message id and the
    recipients whose delivery changed here. Idempotent: a repeated report changes nothing."""
    if not system.peer:
        raise forbidden(
            "HUB_PEER_ONLY",
            "Chỉ trục ngang hàng được báo kết quả chuyển tiếp",
            "Only peer hubs may report relay outcomes",
        )
    message = session.scalars(
        select(Message).where(
            Message.payload_key == report.sha256,
            Message.kind == report.kind,
            Message.sender_code == report.sender,
        )
    ).first()
    if message is None:
        raise not_found("văn bản", "message", report.sha256)
    by_agency = {r.agency: r for r in report.recipients}
    if len(by_agency) != len(report.recipients):
        raise HubError(
            "REQUEST_INVALID",
            "Một nơi nhận được báo hai lần",
            "A recipient is reported twice",
            field="recipients",
            status=422,
        )
    deliveries = session.scalars(
        select(Delivery).where(
            Delivery.message_id == message.id,
            Delivery.peer_id == report.hub,
            Delivery.recipient_code.in_(list(by_agency)),
            Delivery.state.in_(_REPORTABLE),
        )
    ).all()
    updated = []
    for d in deliveries:
        r = by_agency[d.recipient_code]
        code = r.failure_code or "HUB_DOWNSTREAM_FAILED"
        if not transition(
            session,
            d,
            r.state,
            expected=_REPORTABLE,
            failure_code=code,
            failure_reason=r.failure_reason or None,
        ):
            continue
        updated.append(r.agency)
        audit.append(
            session,
            event=audit.Event.EXPIRED if r.state == "expired" else audit.Event.FAILED,
            message_id=message.id,
            agency_code=r.agency,
            system_id=system.id,
            detail={"peer": report.hub, "code": code, "at_hub": r.hub, "reported": True},
        )
    if updated:
        report_upstream(session, message_id=message.id)
    return message.id, updated
