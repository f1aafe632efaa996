"""REST API v1: our own, documented by OpenAPI (``/openapi.json``, ``/docs``).

Authentication: ``Authorization: Bearer <API key>`` of a registered system (an operator's
key is refused: 403 ``AUTH_SYSTEM_KEY_REQUIRED``; see :mod:`lienthong.hub.admin`). Every error
is ``{"error": {"code", "field", "message_vi", "message_en"}}`` with a stable code.
"""

from __future__ import annotations

import logging
import re
import shutil
import tempfile
from datetime import UTC, datetime
from pathlib import Path
from typing import Annotated, Any, Literal

from fastapi import APIRouter, Depends, Header, Query, Request
from fastapi import Path as FastApiPath
from fastapi.responses import StreamingResponse
from pydantic import BaseModel, Field
from sqlalchemy import select

from lienthong.edxml.builder import build, wire_content_type
from lienthong.edxml.errors import EdxmlError
from lienthong.edxml.model import Organization, ResponseFor, StaffInfo, Status
from lienthong.edxml.parser import parse
from lienthong.hub import directory, service
from lienthong.hub.app import Hub, hub_of, in_thread
from lienthong.hub.errors import HubError, not_found
from lienthong.hub.models import Delivery, Message, System

log = logging.getLogger("lienthong.hub")
router = APIRouter(prefix="/api/v1", tags=["v1"])

_ERRORS: dict[int | str, dict[str, Any]] = {
    401: {"description": "Thiếu hoặc sai khóa API / missing or wrong API key"},
    403: {"description": "Khóa của người vận hành / an operator's key (AUTH_SYSTEM_KEY_REQUIRED)"},
    404: {"description": "Không tìm thấy / not found"},
}


class ErrorBody(BaseModel):
    code: str
    field: str = ""
    message_vi: str
    message_en: str


class RecipientOut(BaseModel):
    agency: str
    state: str
    failure_code: str | None = None
    failure_reason: str | None = None


class AcceptOut(BaseModel):
    message_id: str
    kind: Literal["edoc", "status"]
    duplicate: bool = Field(description="true: this package was accepted before; nothing new")
    code: str = Field(description="ACCEPTED or ALREADY_ACCEPTED")
    recipients: list[RecipientOut]


class InboxItemOut(BaseModel):
    message_id: str
    kind: str
    sender: str
    recipient: str
    state: str
    document_id: str | None
    code_number: str | None
    code_notation: str | None
    subject: str | None
    status_code: str | None
    size: int
    accepted_at: datetime


class InboxOut(BaseModel):
    items: list[InboxItemOut]
    next_after: int | None = Field(description="cursor for the next page (null: no more)")


class AckIn(BaseModel):
    ok: bool = True
    reason: str | None = Field(default=None, max_length=1000)


class StatusIn(BaseModel):
    agency: str = Field(description="the agency reporting (must be served by the caller)")
    status_code: Literal["01", "02", "03", "04", "05", "06", "13", "15", "16"]
    description: str = Field(default="", max_length=2000)
    staff: dict[str, Annotated[str, Field(max_length=200)]] | None = Field(
        default=None, max_length=8
    )
    recipient: str | None = Field(
        default=None,
        description="status 13 only: the recipient asked to give the document back "
        "(may be left out when the document had a single recipient)",
    )


class AgencyOut(BaseModel):
    code: str
    name: str
    parent_code: str | None
    level: int
    active: bool
    old_code: str | None


def bearer_key(authorization: str | None) -> str:
    """The key of ``Authorization: Bearer <key>``; 401 ``AUTH_API_KEY_REQUIRED`` without."""
    if not authorization or not authorization.lower().startswith("bearer "):
        raise HubError(
            "AUTH_API_KEY_REQUIRED",
            "Thiếu khóa API (Authorization: Bearer …)",
            "Missing API key (Authorization: Bearer …)",
            field="Authorization",
            status=401,
        )
    return authorization[7:].strip()


def invalid_key() -> HubError:
    return HubError(
        "AUTH_API_KEY_INVALID",
        "Khóa API không hợp lệ",
        "Invalid API key",
        field="Authorization",
        status=401,
    )


async def _auth(request: Request, authorization: Annotated[str | None, Header()] = None) -> System:
    hub = hub_of(request)
    key = bearer_key(authorization)
    system: System | None = await in_thread(
        hub.read, lambda s: directory.system_by_api_key(s, api_key=key)
    )
    if system is None:
        from lienthong.hub import admin

        if await in_thread(hub.read, lambda s: admin.operator_by_api_key(s, api_key=key)):
            raise admin.system_key_required()
        raise invalid_key()
    return system


Caller = Annotated[System, Depends(_auth)]
#: Message ids are UUIDs; anything else is refused before it reaches the database.
MessageId = Annotated[str, FastApiPath(pattern=r"^[0-9a-fA-F-]{36}$", description="message id")]
_MAX_CURSOR = 2**62


def _accept_out(result: service.AcceptResult) -> AcceptOut:
    return AcceptOut(
        message_id=result.message_id,
        kind="status" if result.kind == "status" else "edoc",
        duplicate=result.duplicate,
        code="ALREADY_ACCEPTED" if result.duplicate else "ACCEPTED",
        recipients=[
            RecipientOut(
                agency=o.agency_code,
                state=o.state,
                failure_code=o.failure_code,
                failure_reason=o.failure_reason,
            )
            for o in result.recipients
        ],
    )


async def accept_body(
    hub: Hub,
    system: System,
    body: service.Body,
    kind: str | None,
    declared_sender: str | None = None,
    hops: str | None = None,
) -> service.AcceptResult:
    try:
        # the slow, read-only part first (no write lock held), then one short write
        prepared: service.Prepared = await in_thread(
            hub.read,
            lambda s: service.prepare(
                s,
                system=system,
                body=body,
                blobs=hub.blobs,
                limits=hub.limits,
                expected_kind=kind,
                declared_sender=declared_sender,
                signature_policy=hub.settings.signature_policy,
                trust=hub.trust,
                hops=hops,
            ),
        )
        result: service.AcceptResult = await in_thread(
            hub.run, lambda s: service.commit(s, system=system, prepared=prepared)
        )
    finally:
        body.path.unlink(missing_ok=True)
    hub.metrics.inc(
        "lienthong_accepted_total" if not result.duplicate else "lienthong_duplicates_total"
    )
    log.info(
        "package.duplicate" if result.duplicate else "package.accepted",
        extra={
            "message_id": result.message_id,
            "kind": result.kind,
            "system_id": system.id,
            "recipients": len(result.recipients),
            "failed_recipients": [o.agency_code for o in result.recipients if o.failure_code],
        },
    )
    if not result.duplicate:
        hub.wake()
    return result


@router.post(
    "/packages",
    response_model=AcceptOut,
    status_code=201,
    summary="Gửi gói tin / send a package",
    responses={
        **_ERRORS,
        200: {"model": AcceptOut, "description": "already accepted"},
        413: {"description": "too large"},
        422: {"description": "invalid package"},
        403: {"description": "may not send as this agency"},
    },
    openapi_extra={
        "requestBody": {
            "required": True,
            "content": {
                "application/xml": {"schema": {"type": "string", "format": "binary"}},
                "application/octet-stream": {"schema": {"type": "string", "format": "binary"}},
            },
        }
    },
)
async def send_package(
    request: Request,
    system: Caller,
    kind: Annotated[Literal["edoc", "status"] | None, Query()] = None,
) -> Any:
    """The body is the .edxml package itself (streamed, size-limited)."""
    hub = hub_of(request)
    from lienthong.hub.federation import HOPS_HEADER, check_hops, parse_hops

    raw_hops = request.headers.get(HOPS_HEADER)
    if raw_hops and not system.peer:
        raise HubError(
            "HUB_HOPS_FORBIDDEN",
            f"Chỉ trục ngang hàng được gửi tiêu đề {HOPS_HEADER}",
            f"Only peer hubs may send the {HOPS_HEADER} header",
            field=HOPS_HEADER,
            status=403,
        )
    hops = check_hops(raw_hops, hub.settings.hub_id)
    body = await hub.spool(request)
    result = await accept_body(hub, system, body, kind, hops=hops or None)
    if hops:  # the hub that just sent us this is up: stop waiting to relay to it
        await in_thread(hub.relayer.peer_alive, parse_hops(hops)[-1].hub_id)
    out = _accept_out(result)
    if result.duplicate:
        from fastapi.responses import JSONResponse

        return JSONResponse(out.model_dump(), status_code=200)
    return out


@router.get("/inbox", response_model=InboxOut, responses=_ERRORS, summary="Hộp thư đến / inbox")
async def get_inbox(
    request: Request,
    system: Caller,
    kind: Annotated[Literal["edoc", "status"] | None, Query()] = None,
    after: Annotated[int, Query(ge=0, le=_MAX_CURSOR)] = 0,
    limit: Annotated[int, Query(ge=1, le=1000)] = 100,
) -> InboxOut:
    hub = hub_of(request)
    items = await in_thread(
        hub.read,
        lambda s: service.inbox(
            s, system=system, kind=kind, after=after, limit=limit, hub_id=hub.settings.hub_id
        ),
    )
    return InboxOut(
        items=[
            InboxItemOut(
                message_id=i.message_id,
                kind=i.kind,
                sender=i.sender_code,
                recipient=i.recipient_code,
                state=i.state,
                document_id=i.document_id,
                code_number=i.code_number,
                code_notation=i.code_notation,
                subject=i.subject,
                status_code=i.status_code,
                size=i.size,
                accepted_at=_utc(i.created_at),
            )
            for i in items
        ],
        next_after=items[-1].delivery_id if len(items) == limit else None,
    )


def _utc(at: datetime) -> datetime:
    return at.replace(tzinfo=UTC) if at.tzinfo is None else at


@router.get(
    "/messages/{message_id}",
    responses={**_ERRORS, 200: {"content": {"application/xml": {}}, "description": "the package"}},
    response_class=StreamingResponse,
    summary="Lấy gói tin / fetch a package",
    description=(
        "Gói tin kèm một TraceHeader cho mỗi trục đã đi qua (trục này sau cùng); "
        "`as_sent=true`: đúng các byte nơi gửi đã gửi (để tự kiểm tra chữ ký gói tin). / "
        "The package with one TraceHeader per hub it passed through (this one last); "
        "`as_sent=true`: the exact bytes the sender sent (to verify its package signature)."
    ),
)
async def get_message(
    request: Request,
    system: Caller,
    message_id: MessageId,
    as_sent: Annotated[bool, Query()] = False,
) -> StreamingResponse:
    hub = hub_of(request)
    hub_id = "" if as_sent else hub.settings.hub_id
    got = await in_thread(
        hub.run,
        lambda s: service.fetch(
            s, system=system, message_id=message_id, blobs=hub.blobs, hub_id=hub_id
        ),
    )
    return StreamingResponse(
        _iterate(got.stream),
        media_type="application/xml",
        headers={
            "X-Message-Kind": got.message.kind,
            "Content-Length": str(got.size),
            "X-Content-Type-Options": "nosniff",
        },
    )


def _iterate(stream: Any, chunk: int = 1 << 20) -> Any:
    try:
        while data := stream.read(chunk):
            yield data
    finally:
        stream.close()


#: ``type/subtype`` made of RFC 7230 token characters (ASCII only, no parameters).
_MEDIA_TYPE = re.compile(r"[!#$%&'*+.^_`|~0-9A-Za-z-]+/[!#$%&'*+.^_`|~0-9A-Za-z-]+", re.ASCII)


def _safe_media_type(declared: str) -> str:
    """The sender's declared content type if it is a plain ``type/subtype``, else bytes."""
    media_type = declared.split(";", 1)[0].strip()
    return media_type if _MEDIA_TYPE.fullmatch(media_type) else "application/octet-stream"


@router.get(
    "/messages/{message_id}/attachments/{index}",
    responses=_ERRORS,
    response_class=StreamingResponse,
    summary="Tải một tệp đính kèm / stream one attachment (1-based)",
)
async def get_attachment(
    request: Request,
    system: Caller,
    message_id: MessageId,
    index: int,
) -> StreamingResponse:
    hub = hub_of(request)
    stream = (
        await in_thread(
            hub.run,
            lambda s: service.fetch(s, system=system, message_id=message_id, blobs=hub.blobs),
        )
    ).stream
    fd, spooled = tempfile.mkstemp(dir=hub.tmp_dir, prefix="att-")
    tmp = Path(spooled)

    def spool() -> None:  # blocking (a blob store may be S3): in the thread pool
        with open(fd, "wb") as out, stream:
            shutil.copyfileobj(stream, out, 1 << 20)

    try:
        await in_thread(spool)
        package = await in_thread(lambda: parse(tmp, limits=hub.limits))
    finally:
        tmp.unlink(missing_ok=True)
    attachments = getattr(package, "attachments", [])
    if not 1 <= index <= len(attachments) or attachments[index - 1].content is None:
        package.close()
        raise not_found("tệp đính kèm", "attachment", f"{message_id}/{index}")
    att = attachments[index - 1]
    blob = att.content
    assert blob is not None

    def chunks() -> Any:
        try:
            yield from blob.chunks()
        finally:
            package.close()

    name = (att.name or f"attachment-{index}").replace('"', "")
    from urllib.parse import quote

    return StreamingResponse(
        chunks(),
        media_type=_safe_media_type(wire_content_type(att)),
        headers={
            "Content-Disposition": f"attachment; filename*=UTF-8''{quote(name)}",
            "Content-Length": str(blob.size),
            "X-Content-SHA256": blob.sha256,
            "X-Content-Type-Options": "nosniff",
        },
    )


@router.post(
    "/messages/{message_id}/ack",
    response_model=list[RecipientOut],
    responses=_ERRORS,
    summary="Xác nhận đã nhận / acknowledge (transport)",
)
async def ack_message(
    request: Request, system: Caller, message_id: MessageId, ack: AckIn | None = None
) -> list[RecipientOut]:
    hub = hub_of(request)
    ack = ack or AckIn()
    outcomes = await in_thread(
        hub.run,
        lambda s: service.acknowledge(
            s, system=system, message_id=message_id, ok=ack.ok, reason=ack.reason
        ),
    )
    return [
        RecipientOut(
            agency=o.agency_code,
            state=o.state,
            failure_code=o.failure_code,
            failure_reason=o.failure_reason,
        )
        for o in outcomes
    ]


@router.post(
    "/messages/{message_id}/status",
    response_model=AcceptOut,
    status_code=201,
    responses={**_ERRORS, 403: {"description": "agency not served by the caller"}},
    summary="Gửi trạng thái xử lý / send a processing status",
)
async def send_status(
    request: Request, system: Caller, message_id: MessageId, status: StatusIn
) -> AcceptOut:
    """The hub writes the status package (edXML) for the caller and routes it: statuses
    01–06, 15, 16 from a recipient go back to the document's sender; 13 (the sender asks
    for the document back) goes to the named recipient."""
    hub = hub_of(request)

    def prepare(s: Any) -> tuple[Message, Any, str]:
        original = _visible_message(s, system, message_id)
        agency = directory.get_agency(s, code=status.agency)
        addressee = original.sender_code
        if status.status_code == "13":
            recipients = [
                d.recipient_code
                for d in s.scalars(select(Delivery).where(Delivery.message_id == original.id))
            ]
            wanted = directory.canonical_code(status.recipient) if status.recipient else None
            if wanted is None and len(recipients) == 1:
                wanted = recipients[0]
            if wanted is None or wanted not in recipients:
                raise HubError(
                    "HUB_STATUS_RECIPIENT_REQUIRED",
                    "Trạng thái 13 phải nêu nơi nhận (recipient) của văn bản",
                    "Status 13 must name one of the document's recipients (recipient)",
                    field="recipient",
                    status=422,
                )
            addressee = wanted
        return original, agency, addressee

    original, agency, addressee = await in_thread(hub.run, prepare)
    staff = StaffInfo(
        **{
            k: v
            for k, v in (status.staff or {}).items()
            if k in {"department", "staff", "email", "mobile"}
        }
    )
    package = Status(
        sender=Organization(organ_id=agency.code, organ_name=agency.name),
        response_for=ResponseFor(
            organ_id=addressee,
            code=f"{original.code_number or ''}/{original.code_notation or ''}",
            document_id=original.document_id,
        ),
        staff=staff if status.staff else None,
        status_code=status.status_code,
        description=status.description,
        timestamp=_vn_now(),
    )
    try:
        data = build(package)
    except EdxmlError as exc:
        raise HubError.from_problem(exc.problem) from None
    body = _body_from_bytes(hub, data)
    result = await accept_body(hub, system, body, "status")
    return _accept_out(result)


def _vn_now() -> str:
    from lienthong.edxml.builder import now_timestamp

    return now_timestamp()


def _body_from_bytes(hub: Hub, data: bytes) -> service.Body:
    import hashlib

    fd, name = tempfile.mkstemp(dir=hub.tmp_dir, prefix="status-")
    with open(fd, "wb") as fh:
        fh.write(data)
    return service.Body(path=Path(name), sha256=hashlib.sha256(data).hexdigest(), size=len(data))


def _visible_message(s: Any, system: System, message_id: str) -> Message:
    info = service.timeline(s, system=system, message_id=message_id)  # authorises
    message = s.get(Message, info["message"]["message_id"])
    assert message is not None
    return message  # type: ignore[no-any-return]


@router.get(
    "/messages/{message_id}/timeline",
    responses=_ERRORS,
    summary="Diễn biến theo từng nơi nhận / per-recipient timeline",
)
async def get_timeline(request: Request, system: Caller, message_id: MessageId) -> dict[str, Any]:
    hub = hub_of(request)
    return await in_thread(
        hub.read, lambda s: service.timeline(s, system=system, message_id=message_id)
    )


@router.get("/sent", responses=_ERRORS, summary="Văn bản đã gửi / sent messages")
async def get_sent(
    request: Request,
    system: Caller,
    kind: Annotated[Literal["edoc", "status"] | None, Query()] = None,
    limit: Annotated[int, Query(ge=1, le=1000)] = 100,
) -> list[dict[str, Any]]:
    hub = hub_of(request)

    def run(s: Any) -> list[dict[str, Any]]:
        return [
            {**service.message_json(m), "recipients": [service.delivery_json(d) for d in ds]}
            for m, ds in service.sent(s, system=system, kind=kind, limit=limit)
        ]

    return await in_thread(hub.read, run)


@router.get(
    "/agencies",
    response_model=list[AgencyOut],
    responses=_ERRORS,
    summary="Danh bạ cơ quan (tìm không dấu) / agency directory (diacritic-insensitive)",
)
async def get_agencies(
    request: Request,
    system: Caller,
    q: Annotated[str, Query(max_length=200, pattern=r"^[^\x00]*$")] = "",
    limit: Annotated[int, Query(ge=1, le=1000)] = 100,
    offset: Annotated[int, Query(ge=0, le=_MAX_CURSOR)] = 0,
) -> list[AgencyOut]:
    hub = hub_of(request)
    rows = await in_thread(
        hub.read, lambda s: directory.search_agencies(s, query=q, limit=limit, offset=offset)
    )
    return [
        AgencyOut(
            code=a.code,
            name=a.name,
            parent_code=a.parent_code,
            level=a.level,
            active=a.active,
            old_code=a.old_code,
        )
        for a in rows
    ]
