"""The national platform's API (VDXP), at the root of the hub's address, so software built
on the official SDK connects unchanged: its endpoint setting is simply the hub's URL.

Every call is authenticated by the ``XroadVnpt-*`` HMAC header scheme
(:mod:`lienthong.protocol.xroad`). Answers carry the platform's fields (``status``,
``ErrorCode``, ``ErrorDesc``, ``DocId``, ``data``) plus our stable ``code``; errors also use
the matching HTTP status.
"""

from __future__ import annotations

import base64
import json
from collections.abc import Callable, Iterator
from datetime import UTC, datetime, timedelta
from typing import Any

from fastapi import APIRouter, Request
from fastapi.responses import JSONResponse, StreamingResponse
from sqlalchemy.orm import Session

from lienthong.hub import directory, intake, mailbox
from lienthong.hub.errors import HubError
from lienthong.hub.http.deps import HubDep, SignedCall, SignedCaller, in_thread, spool, too_large
from lienthong.hub.models import Agency
from lienthong.hub.runtime import Hub
from lienthong.protocol.xroad import VerifiedRequest, hash_file_forms

router = APIRouter(tags=["vdxp"], include_in_schema=False)

#: Numeric ErrorCode families of the platform's answers; ``code`` keeps the precise one.
_ERROR_NUMBERS = (
    ("AUTH_", 401),
    ("HUB_PARAMETER_", 400),
    ("HUB_NOT_YOUR_AGENCY", 403),
    ("HUB_TOO_LARGE", 413),
    ("HUB_HASH_MISMATCH", 400),
    ("NOT_FOUND", 404),
    ("AGENCY_NOT_FOUND", 404),
)
_VN = timedelta(hours=7)
_SMALL_BODY = 64 * 1024  # JSON bodies of directory calls
_MAX_LIST = 1000  # items per getReceivedEdocList answer; the rest after acknowledgement
_DELIVERY_STATUS = {
    "available": ("INITIAL", "Chưa nhận / not fetched yet"),
    "fetched": ("PROCESSING", "Đã lấy, chưa xác nhận / fetched, not acknowledged"),
    "acknowledged": ("DONE", "Đã nhận / received"),
    "failed": ("FAIL", "Lỗi / failed"),
    "queued": ("INITIAL", "Đang chuyển / queued"),
    "revoked": ("FAIL", "Đã thu hồi / revoked"),
    "expired": ("FAIL", "Hết hạn / expired"),
}


def without_nulls(value: Any) -> Any:
    """``value`` with every JSON ``null`` left out (keys of objects, items of arrays).

    The official SDK reads each key that is present with Gson's ``getAsString()``, which
    throws ``UnsupportedOperationException: JsonNull`` on a ``null`` and kills the calling
    program: on this API a value is a string (or a number, a boolean) or it is absent."""
    if isinstance(value, dict):
        return {k: without_nulls(v) for k, v in value.items() if v is not None}
    if isinstance(value, list | tuple):
        return [without_nulls(v) for v in value if v is not None]
    return value


def answer(content: dict[str, Any], status_code: int = 200) -> JSONResponse:
    """Every JSON answer of this API goes out through here (see :func:`without_nulls`)."""
    return JSONResponse(without_nulls(content), status_code=status_code)


def ok(desc: str = "Thành công / success", **fields: Any) -> JSONResponse:
    return answer({"status": "OK", "ErrorCode": 0, "ErrorDesc": desc, **fields})


def vdxp_error(exc: HubError) -> JSONResponse:
    number = next((n for prefix, n in _ERROR_NUMBERS if exc.code.startswith(prefix)), 422)
    status = exc.status if exc.status >= 400 else number
    return answer(
        {
            "status": "FAIL",
            "ErrorCode": number,
            "ErrorDesc": f"{exc.message_vi} / {exc.message_en}",
            "code": exc.code,
            "field": exc.field,
        },
        status_code=status,
    )


def _time(at: datetime) -> str:
    at = at.replace(tzinfo=UTC) if at.tzinfo is None else at
    return (at.astimezone(UTC) + _VN).strftime("%Y-%m-%d %H:%M:%S")


def _required(verified: VerifiedRequest, name: str) -> str:
    value = verified.value(name)
    if not value:
        raise HubError(
            "HUB_PARAMETER_REQUIRED",
            f"Thiếu tham số {name}",
            f"Missing parameter {name}",
            field=name,
            status=400,
        )
    return value


def _kind(verified: VerifiedRequest) -> str:
    kind = (verified.value("messagetype") or "edoc").lower()
    if kind not in {"edoc", "status"}:
        raise HubError(
            "HUB_PARAMETER_INVALID",
            "messagetype phải là edoc hoặc status",
            "messagetype must be edoc or status",
            field="messagetype",
            status=400,
        )
    return kind


# ------------------------------------------------------------------------ documents


@router.post("/sendEdoc")
async def send_edoc(request: Request, hub: HubDep, call: SignedCaller) -> JSONResponse:
    system, verified = call.system, call.verified
    kind = _kind(verified)
    body = await spool(hub, request, slack=2)
    declared = verified.value("hash-file")
    if not declared:
        # The signature covers neither the path nor the body: only a signed hash-file binds
        # this request to its content (the SDK always signs it). Without it, a captured
        # signature of any other call could carry an arbitrary package.
        body.path.unlink(missing_ok=True)
        raise HubError(
            "AUTH_HASH_FILE_NOT_SIGNED",
            "sendEdoc phải ký hash-file của gói tin",
            "sendEdoc must sign the package's hash-file",
            field="hash-file",
            status=401,
        )
    wanted = declared.strip().lower()
    if wanted in hash_file_forms(bytes.fromhex(body.sha256)):
        pass
    elif body.trimmed_sha256 and wanted in hash_file_forms(bytes.fromhex(body.trimmed_sha256)):
        body = body.trim_crlf()
    else:
        body.path.unlink(missing_ok=True)
        raise HubError(
            "HUB_HASH_MISMATCH",
            "hash-file không khớp với nội dung gửi lên",
            "hash-file does not match the uploaded content",
            field="hash-file",
        )
    if body.size > hub.settings.max_package_bytes:
        body.path.unlink(missing_ok=True)
        raise too_large(hub.settings.max_package_bytes)
    result = await in_thread(
        intake.receive,
        hub,
        system=system,
        body=body,
        kind=kind,
        declared_sender=verified.value("from"),
    )
    if result.duplicate:
        return ok(
            "Gói tin đã được tiếp nhận trước đó / already accepted",
            DocId=result.message_id,
            code="ALREADY_ACCEPTED",
        )
    failed = [o.agency_code for o in result.recipients if o.failure_code]
    return ok(DocId=result.message_id, code="ACCEPTED", failedRecipients=failed)


@router.post("/getReceivedEdocList")
def get_received_list(hub: HubDep, call: SignedCaller) -> JSONResponse:
    kind = _kind(call.verified)

    def run(s: Session) -> list[dict[str, Any]]:
        items: dict[str, dict[str, Any]] = {}
        after = 0
        while True:
            page = mailbox.inbox(
                s,
                system=call.system,
                kind=kind,
                after=after,
                limit=1000,
                hub_id=hub.settings.hub_id,
            )
            for i in page:
                item = items.get(i.message_id)
                if item is None:
                    code, desc = _DELIVERY_STATUS.get(i.state, ("INITIAL", ""))
                    items[i.message_id] = {
                        "docId": i.message_id,
                        "serviceType": "eDoc",
                        "messageType": i.kind,
                        "created_time": _time(i.created_at),
                        "updated_time": _time(i.updated_at),
                        "from": i.sender_code,
                        "to": i.recipient_code,
                        "status": code,
                        "status_desc": desc,
                        "contentLength": i.size,
                    }
                else:
                    item["to"] += "," + i.recipient_code
            if len(page) < 1000 or len(items) >= _MAX_LIST:
                return list(items.values())[:_MAX_LIST]
            after = page[-1].delivery_id

    return ok(data=hub.read(run))


def _fetch(hub: Hub, call: SignedCall) -> mailbox.Fetched:
    doc_id = _required(call.verified, "docId")
    return hub.run(
        mailbox.fetch,
        system=call.system,
        message_id=doc_id,
        blobs=hub.blobs,
        hub_id=hub.settings.hub_id,
    )


@router.post("/getEdoc")
def get_edoc(hub: HubDep, call: SignedCaller) -> StreamingResponse:
    """The platform's answer (``data`` = base64 of the whole package), streamed: memory
    stays at one chunk whatever the package size."""
    stream = _fetch(hub, call).stream
    head = (
        json.dumps(
            {"status": "OK", "ErrorCode": 0, "ErrorDesc": "Thành công / success"},
            ensure_ascii=False,
        )[:-1]
        + ',"data":"'
    )

    def chunks() -> Iterator[bytes]:
        yield head.encode("utf-8")
        with stream:
            while data := stream.read(3 * (1 << 18)):  # a multiple of 3: no inner padding
                yield base64.b64encode(data)
        yield b'"}'

    return StreamingResponse(chunks(), media_type="application/json")


@router.get("/downloadEdoc")
@router.post("/downloadEdoc")
def download_edoc(hub: HubDep, call: SignedCaller) -> StreamingResponse:
    got = _fetch(hub, call)

    def chunks() -> Iterator[bytes]:
        with got.stream:
            while data := got.stream.read(1 << 20):
                yield data

    return StreamingResponse(
        chunks(),
        media_type="application/octet-stream",
        headers={"Content-Length": str(got.size)},
    )


@router.post("/updateStatus")
def update_status(hub: HubDep, call: SignedCaller) -> JSONResponse:
    doc_id = _required(call.verified, "docId")
    status = _required(call.verified, "status").lower()
    if status == "processing":
        return ok()
    if status not in {"done", "fail"}:
        raise HubError(
            "HUB_PARAMETER_INVALID",
            "status phải là done, fail hoặc processing",
            "status must be done, fail or processing",
            field="status",
        )
    hub.run(mailbox.acknowledge, system=call.system, message_id=doc_id, ok=status == "done")
    return ok()


@router.post("/getSentEdocList")
def get_sent_list(hub: HubDep, call: SignedCaller) -> JSONResponse:
    kind = (call.verified.value("messagetype") or "").lower() or None
    doc_id = call.verified.value("docId") or None

    def run(s: Session) -> list[dict[str, Any]]:
        out = []
        for m, deliveries in mailbox.sent(
            s, system=call.system, kind=kind, message_id=doc_id, limit=1000
        ):
            for d in deliveries:
                receive, receive_desc = _DELIVERY_STATUS.get(d.state, ("INITIAL", ""))
                out.append(
                    {
                        "serviceType": "eDoc",
                        "messageType": m.kind,
                        "senderDocId": m.id,
                        "receiverDocId": m.id,
                        "fromCode": m.sender_code,
                        "toCode": d.recipient_code,
                        "title": m.subject,
                        "notation": f"{m.code_number or ''}/{m.code_notation or ''}",
                        "sentTime": _time(m.created_at),
                        "receivedTime": _time(d.updated_at) if d.state == "acknowledged" else None,
                        "sendStatus": "DONE",
                        "sendStatusDesc": "Đã tiếp nhận / accepted",
                        "receiveStatus": receive,
                        "receiveStatusDesc": d.failure_reason or receive_desc,
                        "businessStatus": d.business_status,
                    }
                )
        return out

    return ok(data=hub.read(run))


@router.get("/countReceiveEdoc")
@router.post("/countReceiveEdoc")
def count_receive_edoc(hub: HubDep, call: SignedCaller) -> JSONResponse:
    return ok(count=hub.read(mailbox.count_pending, system=call.system, kind="edoc"))


@router.get("/countReceiveStatus")
@router.post("/countReceiveStatus")
def count_receive_status(hub: HubDep, call: SignedCaller) -> JSONResponse:
    return ok(count=hub.read(mailbox.count_pending, system=call.system, kind="status"))


# ------------------------------------------------------------------------ directory


def _agencies(
    hub: Hub, fn: Callable[[Session], list[Agency]], shape: Callable[[Agency], dict[str, Any]]
) -> list[dict[str, Any]]:
    return hub.read(lambda s: [shape(a) for a in fn(s)])


@router.post("/getAgenciesList")
def get_agencies_list(hub: HubDep, _call: SignedCaller) -> JSONResponse:
    data = _agencies(
        hub,
        lambda s: directory.search_agencies(s, limit=1_000_000, active_only=True),
        lambda a: {
            "id": a.code,
            "pid": a.parent_code,
            "code": a.code,
            "name": a.name,
            "mail": a.email,
            "oldCode": a.old_code,
        },
    )
    return ok(data=data)


@router.post("/getAgenciesListQD20")
def get_agencies_list_qd20(hub: HubDep, call: SignedCaller) -> JSONResponse:
    level = call.verified.value("level")

    def rows(s: Session) -> list[Agency]:
        found = directory.search_agencies(s, limit=1_000_000, active_only=True)
        return [a for a in found if not level or str(a.level) == level]

    data = _agencies(
        hub,
        rows,
        lambda a: {
            "id": a.code,
            "code": a.code,
            "name": a.name,
            "mail": a.email,
            "code102": a.old_code,
        },
    )
    return ok(data=data)


@router.post("/getSynchronizeUnit")
def get_synchronize_unit(hub: HubDep, call: SignedCaller) -> JSONResponse:
    since = call.verified.value("sinceVersion") or "0"
    version = int(since) if since.isdigit() else 0
    data = _agencies(
        hub,
        lambda s: directory.changes_since(s, version=version),
        lambda a: {
            "id": a.code,
            "pid": a.parent_code,
            "code": a.code,
            "name": a.name,
            "mail": a.email,
            "centerCode": hub.settings.hub_id,
            "version": a.version,
            "deleted": not a.active,
            "modifyDate": _time(a.updated_at),
            "isAgency": True,
        },
    )
    return ok(data=data)


@router.post("/registerAgency")
async def register_agency(request: Request, hub: HubDep, call: SignedCaller) -> JSONResponse:
    body = b""
    async for chunk in request.stream():
        body += chunk
        if len(body) > _SMALL_BODY:
            raise too_large(_SMALL_BODY)
    try:
        payload = json.loads(body)
    except ValueError:
        payload = None
    if not isinstance(payload, dict):
        raise HubError("HUB_PARAMETER_INVALID", "Nội dung phải là JSON", "The body must be JSON")
    await in_thread(
        hub.run,
        directory.register_agency,
        system=call.system,
        code=str(payload.get("code") or ""),
        name=str(payload.get("name") or ""),
        parent_code=str(payload.get("pcode") or ""),
        email=payload.get("mail"),
        phone=payload.get("mobile"),
    )
    return ok()


@router.post("/deleteAgency")
def delete_agency(hub: HubDep, call: SignedCaller) -> JSONResponse:
    code = _required(call.verified, "AgencyCode")
    hub.run(directory.unregister_agency, system=call.system, code=code)
    return ok()
