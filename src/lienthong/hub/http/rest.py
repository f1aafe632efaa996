"""REST API v1: our own, documented by OpenAPI (``/openapi.json``, ``/docs``).

Authentication: ``Authorization: Bearer <API key>`` of a registered system (an operator's key
is refused: 403 ``AUTH_SYSTEM_KEY_REQUIRED``; see :mod:`lienthong.hub.authn`). Every error is
``{"error": {"code", "field", "message_vi", "message_en"}}`` with a stable code. Shapes are in
:mod:`lienthong.protocol.rest`.
"""

from __future__ import annotations

import re
import shutil
import tempfile
from collections.abc import Iterator
from datetime import UTC, datetime
from pathlib import Path
from typing import Annotated, Any, BinaryIO, Literal
from urllib.parse import quote

from fastapi import APIRouter, Query, Request
from fastapi import Path as FastApiPath
from fastapi.responses import JSONResponse, StreamingResponse
from pydantic import BaseModel

from lienthong.edxml.builder import wire_content_type
from lienthong.edxml.parser import parse
from lienthong.hub import directory, intake, mailbox
from lienthong.hub.deliveries import RecipientOutcome
from lienthong.hub.errors import HubError, not_found
from lienthong.hub.federation import check_hops
from lienthong.hub.http.deps import HubDep, SystemCaller, in_thread, read_json, spool
from lienthong.hub.models import System
from lienthong.hub.outbox import reports
from lienthong.hub.runtime import Hub
from lienthong.protocol.hops import HOPS_HEADER, parse_hops
from lienthong.protocol.rest import (
    AcceptOut,
    AckIn,
    AgencyOut,
    DeliveryReportIn,
    DeliveryReportOut,
    InboxItemOut,
    InboxOut,
    RecipientOut,
    StatusIn,
)

router = APIRouter(prefix="/api/v1", tags=["v1"])

_ERRORS: dict[int | str, dict[str, Any]] = {
    401: {"description": "Thiếu hoặc sai khóa API / missing or wrong API key"},
    403: {"description": "Khóa của người vận hành / an operator's key (AUTH_SYSTEM_KEY_REQUIRED)"},
    404: {"description": "Không tìm thấy / not found"},
}
#: Message ids are UUIDs; anything else is refused before it reaches the database.
MessageId = Annotated[str, FastApiPath(pattern=r"^[0-9a-fA-F-]{36}$", description="message id")]
_MAX_CURSOR = 2**62


def _json_body(model: type[BaseModel], *, required: bool) -> dict[str, Any]:
    """The OpenAPI request body of a route that reads its JSON itself, after
    authentication (see :func:`lienthong.hub.http.deps.read_json`)."""
    return {
        "requestBody": {
            "required": required,
            "content": {"application/json": {"schema": model.model_json_schema()}},
        }
    }


def _recipients(outcomes: list[RecipientOutcome]) -> list[RecipientOut]:
    return [
        RecipientOut(
            agency=o.agency_code,
            state=o.state,
            failure_code=o.failure_code,
            failure_reason=o.failure_reason,
        )
        for o in outcomes
    ]


def _accept_out(result: intake.AcceptResult) -> AcceptOut:
    return AcceptOut(
        message_id=result.message_id,
        kind="status" if result.kind == "status" else "edoc",
        duplicate=result.duplicate,
        code="ALREADY_ACCEPTED" if result.duplicate else "ACCEPTED",
        recipients=_recipients(result.recipients),
    )


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
    hub: HubDep,
    system: SystemCaller,
    kind: Annotated[Literal["edoc", "status"] | None, Query()] = None,
) -> Any:
    """The body is the .edxml package itself (streamed, size-limited)."""
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
    body = await spool(hub, request)
    result = await in_thread(
        intake.receive, hub, system=system, body=body, kind=kind, hops=hops or None
    )
    if hops:  # the hub that just sent us this is up: stop waiting to relay to it
        await in_thread(hub.relayer.peer_alive, parse_hops(hops)[-1].hub_id)
    out = _accept_out(result)
    if result.duplicate:
        return JSONResponse(out.model_dump(), status_code=200)
    return out


@router.get("/inbox", response_model=InboxOut, responses=_ERRORS, summary="Hộp thư đến / inbox")
def get_inbox(
    hub: HubDep,
    system: SystemCaller,
    kind: Annotated[Literal["edoc", "status"] | None, Query()] = None,
    after: Annotated[int, Query(ge=0, le=_MAX_CURSOR)] = 0,
    limit: Annotated[int, Query(ge=1, le=1000)] = 100,
) -> InboxOut:
    items = hub.read(
        mailbox.inbox,
        system=system,
        kind=kind,
        after=after,
        limit=limit,
        hub_id=hub.settings.hub_id,
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
                linked=i.linked,
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
def get_message(
    hub: HubDep,
    system: SystemCaller,
    message_id: MessageId,
    as_sent: Annotated[bool, Query()] = False,
) -> StreamingResponse:
    hub_id = "" if as_sent else hub.settings.hub_id
    got = hub.run(
        mailbox.fetch, system=system, message_id=message_id, blobs=hub.blobs, hub_id=hub_id
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


def _iterate(stream: BinaryIO, chunk: int = 1 << 20) -> Iterator[bytes]:
    try:
        while data := stream.read(chunk):
            yield data
    finally:
        stream.close()


def download_name(declared: str | None, fallback: str) -> str:
    """The file name a download is offered under: the last part of the sender's name (no
    folder, no ``..``, no control characters or quotes), else ``fallback``."""
    name = re.split(r"[/\\]", declared or "")[-1]
    name = "".join(c for c in name if c.isprintable() and c not in '"\x7f')
    name = name.strip().lstrip(".").strip()
    return name[:200] or fallback


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
def get_attachment(
    hub: HubDep,
    system: SystemCaller,
    message_id: MessageId,
    index: int,
) -> StreamingResponse:
    stream = hub.run(mailbox.fetch, system=system, message_id=message_id, blobs=hub.blobs).stream
    fd, spooled = tempfile.mkstemp(dir=hub.tmp_dir, prefix="att-")
    tmp = Path(spooled)
    try:
        with open(fd, "wb") as out, stream:
            shutil.copyfileobj(stream, out, 1 << 20)
        package = parse(tmp, limits=hub.limits, attachment=index if index >= 1 else None)
    finally:
        tmp.unlink(missing_ok=True)
    attachments = getattr(package, "attachments", [])
    if not 1 <= index <= len(attachments) or attachments[index - 1].content is None:
        package.close()
        raise not_found("tệp đính kèm", "attachment", f"{message_id}/{index}")
    att = attachments[index - 1]
    blob = att.content
    assert blob is not None

    def chunks() -> Iterator[bytes]:
        try:
            yield from blob.chunks()
        finally:
            package.close()

    name = download_name(att.name, f"attachment-{index}")
    return StreamingResponse(
        chunks(),
        media_type=_safe_media_type(wire_content_type(att)),
        headers={
            "Content-Disposition": f"attachment; filename*=UTF-8''{quote(name, safe='')}",
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
    openapi_extra=_json_body(AckIn, required=False),
)
async def ack_message(
    request: Request, hub: HubDep, system: SystemCaller, message_id: MessageId
) -> list[RecipientOut]:
    ack = await read_json(request, AckIn, default=AckIn())
    outcomes = await in_thread(
        hub.run,
        mailbox.acknowledge,
        system=system,
        message_id=message_id,
        ok=ack.ok,
        reason=ack.reason,
    )
    return _recipients(outcomes)


@router.post(
    "/messages/{message_id}/status",
    response_model=AcceptOut,
    status_code=201,
    responses={**_ERRORS, 403: {"description": "agency not served by the caller"}},
    summary="Gửi trạng thái xử lý / send a processing status",
    openapi_extra=_json_body(StatusIn, required=True),
)
async def send_status(
    request: Request, hub: HubDep, system: SystemCaller, message_id: MessageId
) -> AcceptOut:
    """The hub writes the status package (edXML) for the caller and routes it: statuses
    01–06, 15, 16 from a recipient go back to the document's sender; 13 (the sender asks
    for the document back) goes to the named recipient."""
    status = await read_json(request, StatusIn)
    return await in_thread(_send_status, hub, system, message_id, status)


def _send_status(hub: Hub, system: System, message_id: str, status: StatusIn) -> AcceptOut:
    data = hub.read(
        mailbox.status_package,
        system=system,
        message_id=message_id,
        agency=status.agency,
        status_code=status.status_code,
        description=status.description,
        staff=status.staff,
        recipient=status.recipient,
    )
    body = intake.body_from_bytes(hub.tmp_dir, data)
    return _accept_out(intake.receive(hub, system=system, body=body, kind="status"))


@router.post(
    "/reports",
    response_model=DeliveryReportOut,
    responses={
        **_ERRORS,
        403: {"description": "not a peer hub (HUB_PEER_ONLY)"},
        404: {"description": "no such relayed package here"},
    },
    summary="Báo nơi nhận không chuyển được (giữa các trục) / report failed deliveries "
    "(between hubs)",
)
def post_report(hub: HubDep, system: SystemCaller, report: DeliveryReportIn) -> DeliveryReportOut:
    """A hub this hub relayed a package to reports the recipients it could not deliver
    (failed or expired there or further on); they change here from ``relayed`` to
    ``failed``/``expired`` and the report goes on to the hub the package came from."""
    message_id, updated = hub.run(reports.apply_report, system=system, report=report)
    if updated:
        hub.wake()
    return DeliveryReportOut(message_id=message_id, updated=updated)


@router.get(
    "/messages/{message_id}/timeline",
    responses=_ERRORS,
    summary="Diễn biến theo từng nơi nhận / per-recipient timeline",
)
def get_timeline(hub: HubDep, system: SystemCaller, message_id: MessageId) -> dict[str, Any]:
    return hub.read(mailbox.timeline, system=system, message_id=message_id)


@router.get("/sent", responses=_ERRORS, summary="Văn bản đã gửi / sent messages")
def get_sent(
    hub: HubDep,
    system: SystemCaller,
    kind: Annotated[Literal["edoc", "status"] | None, Query()] = None,
    limit: Annotated[int, Query(ge=1, le=1000)] = 100,
) -> list[dict[str, Any]]:
    return [
        {**mailbox.message_json(m), "recipients": [mailbox.delivery_json(d) for d in ds]}
        for m, ds in hub.read(mailbox.sent, system=system, kind=kind, limit=limit)
    ]


@router.get(
    "/agencies",
    response_model=list[AgencyOut],
    responses=_ERRORS,
    summary="Danh bạ cơ quan (tìm không dấu) / agency directory (diacritic-insensitive)",
)
def get_agencies(
    hub: HubDep,
    system: SystemCaller,
    q: Annotated[str, Query(max_length=200, pattern=r"^[^\x00]*$")] = "",
    limit: Annotated[int, Query(ge=1, le=1000)] = 100,
    offset: Annotated[int, Query(ge=0, le=_MAX_CURSOR)] = 0,
) -> list[AgencyOut]:
    rows = hub.read(directory.search_agencies, query=q, limit=limit, offset=offset)
    return [
        AgencyOut(
            code=a.code,
            name=a.name,
            parent_code=a.parent_code,
            level=a.level,
            active=a.active,
            old_code=a.old_code,
            nonstandard=a.nonstandard,
        )
        for a in rows
    ]
