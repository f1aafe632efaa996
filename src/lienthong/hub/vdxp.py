"""The national platform's API (VDXP), at the root of the hub's address, so software built
on the official SDK connects unchanged: its endpoint setting is simply the hub's URL.

Every call is authenticated by the ``XroadVnpt-*`` HMAC header scheme
(:mod:`lienthong.protocol.xroad`). Answers carry the platform's fields (``status``,
``ErrorCode``, ``ErrorDesc``, ``DocId``, ``data``) plus our stable ``code``; errors also use
the matching HTTP status.
"""

from __future__ import annotations

import base64
import hashlib
import json
from collections.abc import Callable
from datetime import UTC, datetime, timedelta
from typing import Any

from fastapi import APIRouter, Request
from fastapi.responses import JSONResponse, StreamingResponse
from sqlalchemy.exc import IntegrityError
from sqlalchemy.orm import Session

from lienthong.hub import directory, service
from lienthong.hub.app import Hub, hub_of, in_thread, too_large
from lienthong.hub.errors import HubError
from lienthong.hub.models import Agency, SeenSignature, System, SystemAgency
from lienthong.protocol.xroad import (
    SystemCredentials,
    VdxpAuthError,
    VerifiedRequest,
    hash_file_forms,
    verify_request,
)

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


def ok(desc: str = "Thành công / success", **fields: Any) -> JSONResponse:
    return JSONResponse({"status": "OK", "ErrorCode": 0, "ErrorDesc": desc, **fields})


def vdxp_error(exc: HubError) -> JSONResponse:
    number = next((n for prefix, n in _ERROR_NUMBERS if exc.code.startswith(prefix)), 422)
    status = exc.status if exc.status >= 400 else number
    return JSONResponse(
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


# ------------------------------------------------------------------------ authentication


def _authenticate(hub: Hub, headers: dict[str, str], path: str) -> tuple[System, VerifiedRequest]:
    def run(s: Session) -> tuple[System, VerifiedRequest]:
        systems: dict[str, System] = {}

        def secret_for(system_id: str) -> SystemCredentials | None:
            system = directory.get_system(s, system_id=system_id)
            if system is None:
                return None
            systems[system_id] = system
            return SystemCredentials(system.id, system.secret, system.legacy_sdk)

        def seen(signature: str) -> bool:
            # a signature is good for one request (fresh-signing systems)
            if s.get(SeenSignature, signature) is not None:
                return True
            s.add(
                SeenSignature(
                    signature=signature,
                    system_id=next(iter(systems), ""),
                    operation=path[:64],
                    seen_at=datetime.now(UTC),
                )
            )
            s.flush()
            return False

        try:
            verified = verify_request(
                headers,
                secret_for=secret_for,
                now=datetime.now(UTC),
                window=timedelta(seconds=hub.settings.signature_window_seconds),
                seen=seen,
            )
        except VdxpAuthError as exc:
            raise HubError(exc.code.value, exc.message_vi, exc.message_en, status=401) from None
        if verified.legacy:
            _bind_legacy(s, verified, path)
        return systems[verified.system_id], verified

    try:
        return hub.run(run, retries=1)
    except IntegrityError:  # a concurrent identical signature lost the insert race: a replay
        raise HubError(
            "AUTH_REPLAYED", "Chữ ký đã được dùng", "Signature already used", status=401
        ) from None


#: Operations a legacy SDK signature (repeatable for ever) may never authorise: they
#: change the directory, and their body is not covered by the signature.
_FRESH_SIGNATURE_ONLY = {"/registerAgency", "/deleteAgency"}


def _bind_legacy(s: Session, verified: VerifiedRequest, path: str) -> None:
    """A legacy SDK repeats its signatures; tie each to the operation it was first used
    for, so a captured poll cannot be replayed as another call."""
    if path in _FRESH_SIGNATURE_ONLY:
        raise HubError(
            "AUTH_FRESH_SIGNATURE_REQUIRED",
            "Thao tác danh bạ cần chữ ký mới; hệ thống đăng ký --legacy-sdk không được dùng",
            "Directory changes need a fresh signature; not allowed for a --legacy-sdk system",
            status=403,
        )
    key = hashlib.sha256(f"legacy {verified.signature}".encode()).hexdigest()
    row = s.get(SeenSignature, key)
    if row is None:
        s.add(
            SeenSignature(
                signature=key,
                system_id=verified.system_id,
                operation=path[:64],
                seen_at=datetime.now(UTC),
            )
        )
        s.flush()
    elif row.operation != path[:64]:
        raise HubError(
            "AUTH_REPLAYED",
            "Chữ ký này đã được dùng cho thao tác khác",
            "This signature was used for another operation",
            status=401,
        )


async def _auth(request: Request) -> tuple[Hub, System, VerifiedRequest]:
    hub = hub_of(request)
    system, verified = await in_thread(_authenticate, hub, dict(request.headers), request.url.path)
    return hub, system, verified


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
async def send_edoc(request: Request) -> JSONResponse:
    from lienthong.hub.api import accept_body

    hub, system, verified = await _auth(request)
    kind = _kind(verified)
    body = await hub.spool(request, slack=2)
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
    result = await accept_body(hub, system, body, kind, declared_sender=verified.value("from"))
    if result.duplicate:
        return ok(
            "Gói tin đã được tiếp nhận trước đó / already accepted",
            DocId=result.message_id,
            code="ALREADY_ACCEPTED",
        )
    failed = [o.agency_code for o in result.recipients if o.failure_code]
    return ok(DocId=result.message_id, code="ACCEPTED", failedRecipients=failed)


@router.post("/getReceivedEdocList")
async def get_received_list(request: Request) -> JSONResponse:
    hub, system, verified = await _auth(request)
    kind = _kind(verified)

    def run(s: Session) -> list[dict[str, Any]]:
        items: dict[str, dict[str, Any]] = {}
        after = 0
        while True:
            page = service.inbox(
                s, system=system, kind=kind, after=after, limit=1000, hub_id=hub.settings.hub_id
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

    return ok(data=await in_thread(hub.read, run))


def _fetch(hub: Hub, system: System, doc_id: str) -> service.Fetched:
    return hub.run(
        lambda s: service.fetch(
            s, system=system, message_id=doc_id, blobs=hub.blobs, hub_id=hub.settings.hub_id
        )
    )


@router.post("/getEdoc")
async def get_edoc(request: Request) -> StreamingResponse:
    """The platform's answer (``data`` = base64 of the whole package), streamed: memory
    stays at one chunk whatever the package size."""
    hub, system, verified = await _auth(request)
    doc_id = _required(verified, "docId")
    stream = (await in_thread(_fetch, hub, system, doc_id)).stream
    head = (
        json.dumps(
            {"status": "OK", "ErrorCode": 0, "ErrorDesc": "Thành công / success"},
            ensure_ascii=False,
        )[:-1]
        + ',"data":"'
    )

    def chunks() -> Any:
        yield head.encode("utf-8")
        with stream:
            while data := stream.read(3 * (1 << 18)):  # a multiple of 3: no inner padding
                yield base64.b64encode(data)
        yield b'"}'

    return StreamingResponse(chunks(), media_type="application/json")


@router.get("/downloadEdoc")
@router.post("/downloadEdoc")
async def download_edoc(request: Request) -> StreamingResponse:
    hub, system, verified = await _auth(request)
    doc_id = _required(verified, "docId")
    got = await in_thread(_fetch, hub, system, doc_id)

    def chunks() -> Any:
        with got.stream:
            while data := got.stream.read(1 << 20):
                yield data

    return StreamingResponse(
        chunks(),
        media_type="application/octet-stream",
        headers={"Content-Length": str(got.size)},
    )


@router.post("/updateStatus")
async def update_status(request: Request) -> JSONResponse:
    hub, system, verified = await _auth(request)
    doc_id = _required(verified, "docId")
    status = _required(verified, "status").lower()
    if status == "processing":
        return ok()
    if status not in {"done", "fail"}:
        raise HubError(
            "HUB_PARAMETER_INVALID",
            "status phải là done, fail hoặc processing",
            "status must be done, fail or processing",
            field="status",
        )
    await in_thread(
        hub.run,
        lambda s: service.acknowledge(s, system=system, message_id=doc_id, ok=status == "done"),
    )
    return ok()


@router.post("/getSentEdocList")
async def get_sent_list(request: Request) -> JSONResponse:
    hub, system, verified = await _auth(request)
    kind = (verified.value("messagetype") or "").lower() or None
    doc_id = verified.value("docId") or None

    def run(s: Session) -> list[dict[str, Any]]:
        out = []
        for m, deliveries in service.sent(
            s, system=system, kind=kind, message_id=doc_id, limit=1000
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

    return ok(data=await in_thread(hub.read, run))


async def _count(request: Request, kind: str) -> JSONResponse:
    hub, system, _verified = await _auth(request)
    n = await in_thread(hub.read, lambda s: service.count_pending(s, system=system, kind=kind))
    return ok(count=n)


@router.get("/countReceiveEdoc")
@router.post("/countReceiveEdoc")
async def count_receive_edoc(request: Request) -> JSONResponse:
    return await _count(request, "edoc")


@router.get("/countReceiveStatus")
@router.post("/countReceiveStatus")
async def count_receive_status(request: Request) -> JSONResponse:
    return await _count(request, "status")


# ------------------------------------------------------------------------ directory


def _agencies(
    hub: Hub, fn: Callable[[Session], list[Agency]], shape: Callable[[Agency], dict[str, Any]]
) -> list[dict[str, Any]]:
    return hub.read(lambda s: [shape(a) for a in fn(s)])


@router.post("/getAgenciesList")
async def get_agencies_list(request: Request) -> JSONResponse:
    hub, _system, _verified = await _auth(request)
    data = await in_thread(
        _agencies,
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
async def get_agencies_list_qd20(request: Request) -> JSONResponse:
    hub, _system, verified = await _auth(request)
    level = verified.value("level")

    def rows(s: Session) -> list[Agency]:
        found = directory.search_agencies(s, limit=1_000_000, active_only=True)
        return [a for a in found if not level or str(a.level) == level]

    data = await in_thread(
        _agencies,
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
async def get_synchronize_unit(request: Request) -> JSONResponse:
    hub, _system, verified = await _auth(request)
    since = verified.value("sinceVersion") or "0"
    version = int(since) if since.isdigit() else 0
    data = await in_thread(
        _agencies,
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


def _may_manage(s: Session, system: System, code: str) -> None:
    """A system manages the agencies it serves and everything below them."""
    canonical = directory.canonical_code(code)
    served = directory.served_agencies(s, system_id=system.id)
    from lienthong.edxml.agency import parse_agency_code

    parsed, _ = parse_agency_code(canonical)
    lineage = {canonical} | {a.canonical for a in parsed.ancestors()}
    if not lineage & served:
        raise HubError(
            "HUB_NOT_YOUR_AGENCY",
            f"Hệ thống {system.id} không quản lý cơ quan {code}",
            f"System {system.id} does not manage agency {code}",
            field="code",
            status=403,
        )


@router.post("/registerAgency")
async def register_agency(request: Request) -> JSONResponse:
    hub, system, _verified = await _auth(request)
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

    def run(s: Session) -> None:
        code = directory.canonical_code(str(payload.get("code") or ""))
        _may_manage(s, system, code)
        existing = s.get(Agency, code)
        name = str(payload.get("name") or "")
        if existing is not None:
            # an existing agency: only the system that already serves it may change its
            # contact data, and nothing else (not its status, not who serves it)
            if code not in directory.served_agencies(s, system_id=system.id):
                raise HubError(
                    "HUB_NOT_YOUR_AGENCY",
                    f"Cơ quan {code} đã có và do hệ thống khác phục vụ",
                    f"Agency {code} exists and is served by another system",
                    field="code",
                    status=403,
                )
            directory.add_agency(
                s,
                code=code,
                name=name or existing.name,
                parent_code=existing.parent_code,
                email=payload.get("mail") or existing.email,
                phone=payload.get("mobile") or existing.phone,
                old_code=existing.old_code,
                active=existing.active,
            )
            return
        pcode = str(payload.get("pcode") or "")
        parent = pcode if pcode and s.get(Agency, pcode) is not None else None
        agency = directory.add_agency(
            s,
            code=code,
            name=name,
            parent_code=parent,
            email=payload.get("mail"),
            phone=payload.get("mobile"),
        )
        s.add(SystemAgency(system_id=system.id, agency_code=agency.code))

    await in_thread(hub.run, run)
    return ok()


@router.post("/deleteAgency")
async def delete_agency(request: Request) -> JSONResponse:
    hub, system, verified = await _auth(request)
    code = _required(verified, "AgencyCode")

    def run(s: Session) -> None:
        canonical = directory.canonical_code(code)
        if canonical not in directory.served_agencies(s, system_id=system.id):
            raise HubError(
                "HUB_NOT_YOUR_AGENCY",
                f"Hệ thống {system.id} không phục vụ cơ quan {code}",
                f"System {system.id} does not serve agency {code}",
                field="AgencyCode",
                status=403,
            )
        directory.deactivate_agency(s, code=canonical)

    await in_thread(hub.run, run)
    return ok()
