"""The hub's national-platform-compatible API as software built on the official SDK uses it.

Through :class:`lienthong.client.vdxp.VdxpClient` (which speaks like SDK 2.0.1) and, where the
client cannot express a case, with hand-built requests signed by
:func:`lienthong.protocol.xroad.sign_headers`. Every test runs on SQLite and PostgreSQL.
"""

from __future__ import annotations

import asyncio
import base64
import hashlib
import itertools
import json
import re
from collections.abc import Callable, Iterator
from dataclasses import dataclass
from datetime import datetime, timedelta
from pathlib import Path
from typing import Any

import httpx
import pytest
from fastapi.testclient import TestClient
from sqlalchemy import func, select

from lienthong.client.vdxp import VdxpClient, VdxpClientError
from lienthong.edxml.attachments import Blob
from lienthong.edxml.builder import build
from lienthong.edxml.model import Attachment, DocumentCode, Organization, ResponseFor, TraceHeader
from lienthong.edxml.parser import parse
from lienthong.hub import audit, directory
from lienthong.hub.http.app import create_app
from lienthong.hub.models import Delivery, Message
from lienthong.hub.runtime import Hub
from lienthong.hub.settings import Settings
from lienthong.protocol.xroad import VN_TZ, format_timestamp, hash_file_forms, sign_headers
from support import as_sent

BASE = "http://testserver"
H41 = "000.00.00.H41"  # UBND tỉnh Nghệ An
G22 = "000.00.00.G22"  # Văn phòng Chính phủ
H20 = "000.00.00.H20"  # UBND tỉnh Đồng Tháp (served by an unrelated system)
H14 = "000.00.00.H14"  # UBND tỉnh Sơn La (served by a system on the legacy SDK)
G17 = "000.00.00.G17"  # Bộ Tài chính (no system: only a recipient)
NAMES = {
    H41: "UBND tỉnh Nghệ An",
    G22: "Văn phòng Chính phủ",
    H20: "UBND tỉnh Đồng Tháp",
    H14: "UBND tỉnh Sơn La",
    G17: "Bộ Tài chính",
}
SYSTEMS = {"sys.h41": H41, "sys.g22": G22, "sys.dt": H20, "sys.legacy": H14}
TIME_RE = re.compile(r"\d{4}-\d{2}-\d{2} \d{2}:\d{2}:\d{2}")
_numbers = itertools.count(100)


# ----------------------------------------------------------------------------- helpers


@dataclass
class World:
    hub: Hub
    http: TestClient
    secrets: dict[str, str]
    make_edoc: Callable[..., Any]
    make_status: Callable[..., Any]

    def client(self, system_id: str, **kwargs: Any) -> VdxpClient:
        return VdxpClient(BASE, system_id, self.secrets[system_id], http=self.http, **kwargs)

    def edoc(self, sender: str, *recipients: str, **overrides: Any) -> bytes:
        n = next(_numbers)
        return build(
            self.make_edoc(
                sender=Organization(organ_id=sender, organ_name=NAMES.get(sender, sender)),
                recipients=[
                    Organization(organ_id=r, organ_name=NAMES.get(r, "Cơ quan")) for r in recipients
                ],
                code=DocumentCode(str(n), "UBND-VP"),
                subject=f"V/v thử nghiệm liên thông số {n}",
                trace_headers=[TraceHeader(organ_id=sender, timestamp="2024/03/05 08:30:00")],
                **overrides,
            )
        )

    def status(self, sender: str, original: bytes, code: str = "03") -> bytes:
        doc = parse(original)
        try:
            response_for = ResponseFor(
                organ_id=doc.sender.organ_id,
                code=f"{doc.code.number}/{doc.code.notation}",  # type: ignore[union-attr]
                promulgation_date="2024/03/05",
                document_id=doc.document_id,  # type: ignore[union-attr]
            )
        finally:
            doc.close()
        return build(
            self.make_status(
                sender=Organization(organ_id=sender, organ_name=NAMES[sender]),
                response_for=response_for,
                status_code=code,
            )
        )

    def raw(
        self,
        system_id: str,
        operation: str,
        params: dict[str, str] | None = None,
        *,
        body: bytes | Any = b"",
        content_type: str = "application/json",
        method: str = "POST",
        secret: str | None = None,
        extra_headers: dict[str, str] | None = None,
    ) -> httpx.Response:
        """A hand-built request signed exactly as the SDK signs it."""
        headers = sign_headers(
            system_id,
            secret if secret is not None else self.secrets[system_id],
            params or {},
            content_type=content_type,
        )
        headers.update(extra_headers or {})
        raw_headers = [(k.encode("ascii"), v.encode("utf-8")) for k, v in headers.items()]
        return self.http.request(method, f"/{operation}", headers=raw_headers, content=body)

    def count(self, model: Any) -> int:
        with self.hub.session() as s:
            return int(s.scalar(select(func.count()).select_from(model)) or 0)


def assert_fail(answer: Any, code: str, http_status: int | None = None) -> dict[str, Any]:
    """An error answer in the platform's shape: status FAIL, a non-zero ErrorCode, a
    bilingual ErrorDesc and our stable ``code``."""
    if isinstance(answer, VdxpClientError):
        data = answer.response
        status = answer.http_status
    else:
        data = answer.json()
        status = answer.status_code
    assert data is not None
    assert data["code"] == code, data
    assert data["status"] == "FAIL"
    assert isinstance(data["ErrorCode"], int) and data["ErrorCode"] != 0
    vi, sep, en = data["ErrorDesc"].partition(" / ")
    assert sep and vi.strip() and en.strip(), data["ErrorDesc"]
    assert not vi.isascii(), "the Vietnamese half carries diacritics"
    if http_status is not None:
        assert status == http_status
    return data


def fails(call: Callable[[], Any], code: str, http_status: int | None = None) -> dict[str, Any]:
    with pytest.raises(VdxpClientError) as info:
        call()
    return assert_fail(info.value, code, http_status)


def short_hash_package(world: World, sender: str, *recipients: str) -> bytes:
    """A package whose SDK-form hash-file is shorter than 64 digits (a byte below 0x10)."""
    for _ in range(50):
        package = world.edoc(sender, *recipients)
        correct, sdk = hash_file_forms(hashlib.sha256(package).digest())
        if len(sdk) < len(correct):
            return package
    raise AssertionError("no package with a short SDK hash in 50 tries")


def tmp_files(hub: Hub) -> list[Path]:
    return sorted(hub.tmp_dir.iterdir())


@pytest.fixture
def world(
    hub: Hub, make_edoc: Callable[..., Any], make_status: Callable[..., Any]
) -> Iterator[World]:
    secrets: dict[str, str] = {}
    with hub.session() as s:
        for code, name in NAMES.items():
            directory.add_agency(s, code=code, name=name)
        for system_id, agency in SYSTEMS.items():
            secrets[system_id] = directory.add_system(
                s, system_id=system_id, agencies=[agency], legacy_sdk=system_id == "sys.legacy"
            ).secret
    with TestClient(create_app(hub, start_worker=False)) as http:
        yield World(hub, http, secrets, make_edoc, make_status)
    with hub.session() as s:
        assert audit.verify(s).ok


# ----------------------------------------------------------------------------- sendEdoc bodies


def test_send_edoc_keeps_the_original_bytes_whatever_the_body_form(world: World) -> None:
    sender, receiver = world.client("sys.h41"), world.client("sys.g22")
    sent: dict[str, bytes] = {}

    # 1. what SDK 2.0.1 sends: package + CRLF, hash-file without zero-padding
    sdk_package = short_hash_package(world, H41, G22)
    sent[sender.send_edoc(sdk_package, from_code=H41)["DocId"]] = sdk_package
    # 2. package + CRLF with the correct 64-digit hash
    hex_package = world.edoc(H41, G22)
    sent[sender.send_edoc(hex_package, from_code=H41, hash_form="hex")["DocId"]] = hex_package
    # 3. no trailing CRLF (another client), correct hash, upper-case hex
    bare = world.edoc(H41, G22)
    params = {
        "from": H41,
        "servicetype": "eDoc",
        "messagetype": "edoc",
        "hash-file": hashlib.sha256(bare).hexdigest().upper(),
    }
    r = world.raw("sys.h41", "sendEdoc", params, body=bare, content_type="application/octet-stream")
    assert r.status_code == 200 and r.json()["status"] == "OK", r.text
    sent[r.json()["DocId"]] = bare
    # 4. a package with CRLF line endings of its own (ending in CRLF), sent by the SDK
    crlf = world.edoc(H41, G22).replace(b"\n", b"\r\n")
    assert crlf.endswith(b"\r\n")
    sent[sender.send_edoc(crlf, from_code=H41)["DocId"]] = crlf

    assert len(sent) == 4
    world.hub.dispatch_now()
    listed = {item["docId"] for item in receiver.get_received_list("edoc")["data"]}
    assert listed == set(sent)
    for doc_id, package in sent.items():  # as sent, plus this hub's TraceHeader
        delivered = receiver.get_edoc(doc_id)
        assert delivered != package and as_sent(delivered) == package
        assert receiver.download_edoc(doc_id) == delivered
    with world.hub.session() as s:
        sizes = {m.id: m.payload_size for m in s.scalars(select(Message))}
    assert sizes == {doc_id: len(p) for doc_id, p in sent.items()}
    assert tmp_files(world.hub) == []


def test_wrong_hash_file_is_refused_and_nothing_is_stored(world: World) -> None:
    package = world.edoc(H41, G22)
    other = hashlib.sha256(package + b"x").hexdigest()
    params = {"from": H41, "servicetype": "eDoc", "messagetype": "edoc", "hash-file": other}
    r = world.raw(
        "sys.h41",
        "sendEdoc",
        params,
        body=package + b"\r\n",
        content_type="application/octet-stream",
    )
    data = assert_fail(r, "HUB_HASH_MISMATCH", 400)
    assert data["field"] == "hash-file"
    # an SDK-form hash of other bytes is refused too
    params["hash-file"] = hash_file_forms(hashlib.sha256(b"other").digest())[1]
    r = world.raw(
        "sys.h41", "sendEdoc", params, body=package, content_type="application/octet-stream"
    )
    assert_fail(r, "HUB_HASH_MISMATCH", 400)
    assert world.count(Message) == 0
    assert tmp_files(world.hub) == []


def test_from_header_must_be_the_packages_sender(world: World) -> None:
    sender = world.client("sys.h41")
    package = world.edoc(H41, G22)
    data = fails(lambda: sender.send_edoc(package, from_code=G22), "HUB_FROM_MISMATCH", 422)
    assert data["field"] == "from"
    # sending as an agency the system does not serve at all
    foreign = world.edoc(G22, H41)
    fails(lambda: sender.send_edoc(foreign, from_code=G22), "HUB_NOT_YOUR_AGENCY", 403)
    assert world.count(Message) == 0
    # the right header is accepted
    assert sender.send_edoc(package, from_code=H41)["code"] == "ACCEPTED"


def test_message_type_must_match_the_package(world: World) -> None:
    sender, receiver = world.client("sys.h41"), world.client("sys.g22")
    package = world.edoc(H41, G22)
    fails(
        lambda: sender.send_edoc(package, from_code=H41, message_type="status"),
        "HUB_KIND_MISMATCH",
        422,
    )
    status = world.status(G22, package)
    fails(
        lambda: receiver.send_edoc(status, from_code=G22, message_type="edoc"),
        "HUB_KIND_MISMATCH",
        422,
    )
    fails(
        lambda: sender.send_edoc(package, from_code=H41, message_type="knobstick"),
        "HUB_PARAMETER_INVALID",
        400,
    )
    assert world.count(Message) == 0


# ----------------------------------------------------------------------------- size limit


@pytest.fixture
def small_world(
    database_url: str,
    tmp_path: Path,
    make_edoc: Callable[..., Any],
    make_status: Callable[..., Any],
) -> Iterator[World]:
    """A hub that accepts packages of at most 4 KB."""
    hub = Hub(
        Settings(
            data_dir=tmp_path / "small",
            database_url=database_url,
            blob_url=str(tmp_path / "small-blobs"),
            max_package_bytes=4096,
        )
    )
    secrets: dict[str, str] = {}
    with hub.session() as s:
        for code in (H41, G22):
            directory.add_agency(s, code=code, name=NAMES[code])
        secrets["sys.h41"] = directory.add_system(s, system_id="sys.h41", agencies=[H41]).secret
    try:
        with TestClient(create_app(hub, start_worker=False)) as http:
            yield World(hub, http, secrets, make_edoc, make_status)
    finally:
        hub.close()


def _asgi_post(app: Any, path: str, headers: dict[str, str], declared: int) -> tuple[int, int]:
    """POST straight into the ASGI app; returns (HTTP status, times the app asked for body)."""
    asked = 0
    status = 0

    async def receive() -> dict[str, Any]:
        nonlocal asked
        asked += 1
        return {"type": "http.request", "body": b"<" * 65536, "more_body": True}

    async def send(message: dict[str, Any]) -> None:
        nonlocal status
        if message["type"] == "http.response.start":
            status = message["status"]

    scope = {
        "type": "http",
        "asgi": {"version": "3.0"},
        "http_version": "1.1",
        "method": "POST",
        "scheme": "http",
        "path": path,
        "raw_path": path.encode(),
        "query_string": b"",
        "root_path": "",
        "headers": [(k.lower().encode(), v.encode()) for k, v in headers.items()]
        + [(b"content-length", str(declared).encode()), (b"host", b"testserver")],
        "client": ("127.0.0.1", 5000),
        "server": ("testserver", 80),
    }
    asyncio.run(app(scope, receive, send))
    return status, asked


def test_size_limit_is_checked_before_reading_the_body(small_world: World) -> None:
    w = small_world
    pdf = Attachment(
        name="Phụ lục.pdf",
        content_type="application/pdf",
        content=Blob.from_bytes(b"%PDF-1.7\n" + bytes(range(256)) * 20),
    )
    big = w.edoc(H41, G22, attachments=[pdf])
    assert len(big) > 4096 + 2
    params = {
        "from": H41,
        "servicetype": "eDoc",
        "messagetype": "edoc",
        "hash-file": hashlib.sha256(big).hexdigest(),
    }

    # Content-Length declares too much: refused, body never read, nothing spooled
    r = w.raw("sys.h41", "sendEdoc", params, body=big, content_type="application/octet-stream")
    data = assert_fail(r, "HUB_TOO_LARGE", 413)
    assert data["ErrorCode"] == 413
    assert tmp_files(w.hub) == []
    headers = sign_headers(
        "sys.h41", w.secrets["sys.h41"], params, content_type="application/octet-stream"
    )
    status, asked = _asgi_post(w.http.app, "/sendEdoc", headers, 10**9)
    assert (status, asked) == (413, 0)
    assert tmp_files(w.hub) == []

    # no Content-Length (chunked): refused while streaming, the partial spool is removed
    def chunks() -> Iterator[bytes]:
        for i in range(0, len(big), 1000):
            yield big[i : i + 1000]

    r = w.raw("sys.h41", "sendEdoc", params, body=chunks(), content_type="application/octet-stream")
    assert "content-length" not in {k.lower() for k in r.request.headers}
    assert_fail(r, "HUB_TOO_LARGE", 413)
    assert tmp_files(w.hub) == []
    assert w.count(Message) == 0

    # a package of exactly the limit, plus the SDK's CRLF, still goes through
    small = w.edoc(H41, G22)
    padded = small.replace(b"</edXML>", b" " * (4096 - len(small)) + b"</edXML>")
    assert len(padded) == 4096
    answer = w.client("sys.h41").send_edoc(padded, from_code=H41)
    assert answer["code"] == "ACCEPTED"
    assert w.client("sys.h41").get_edoc(answer["DocId"]) == padded
    # one byte more is over the limit, CRLF or not
    over = small.replace(b"</edXML>", b" " * (4097 - len(small)) + b"</edXML>")
    fails(lambda: w.client("sys.h41").send_edoc(over, from_code=H41), "HUB_TOO_LARGE", 413)
    params["hash-file"] = hashlib.sha256(over).hexdigest()
    r = w.raw("sys.h41", "sendEdoc", params, body=over, content_type="application/octet-stream")
    assert_fail(r, "HUB_TOO_LARGE", 413)
    assert w.count(Message) == 1
    assert tmp_files(w.hub) == []


# ----------------------------------------------------------------------------- authentication


def test_wrong_secret_and_unknown_system_are_refused(world: World) -> None:
    package = world.edoc(H41, G22)
    bad = VdxpClient(BASE, "sys.h41", "not-the-secret", http=world.http)
    fails(lambda: bad.send_edoc(package, from_code=H41), "AUTH_BAD_SIGNATURE", 401)
    fails(lambda: bad.get_received_list(), "AUTH_BAD_SIGNATURE", 401)
    ghost = VdxpClient(BASE, "sys.ghost", world.secrets["sys.h41"], http=world.http)
    # an unknown system is answered as a wrong secret: no system enumeration
    fails(lambda: ghost.count_receive_edoc(), "AUTH_BAD_SIGNATURE", 401)
    fails(lambda: ghost.send_edoc(package, from_code=H41), "AUTH_BAD_SIGNATURE", 401)
    # a header altered after signing
    r = world.raw(
        "sys.g22",
        "getReceivedEdocList",
        {"servicetype": "eDoc", "messagetype": "edoc"},
        extra_headers={"XroadVnpt-messagetype": "status"},
    )
    assert_fail(r, "AUTH_SIGNED_VALUE_MISMATCH", 401)
    # no signature at all
    r = world.http.post("/getReceivedEdocList", headers={"XroadVnpt-systemid": "sys.g22"})
    assert_fail(r, "AUTH_MISSING_HEADER", 401)
    assert world.count(Message) == 0


def test_stale_timestamp_refused_except_for_a_legacy_system(world: World) -> None:
    hour_ago = datetime.now(VN_TZ) - timedelta(hours=1)
    in_future = datetime.now(VN_TZ) + timedelta(hours=1)
    for when in (hour_ago, in_future):
        normal = world.client("sys.h41", clock=lambda when=when: when)
        fails(lambda n=normal: n.get_received_list(), "AUTH_STALE_TIMESTAMP", 401)
        legacy = world.client("sys.legacy", clock=lambda when=when: when)
        assert legacy.get_received_list()["status"] == "OK"
    # days old, legacy: still accepted, sending included
    old = datetime.now(VN_TZ) - timedelta(days=3)
    legacy = world.client("sys.legacy", clock=lambda: old)
    assert legacy.send_edoc(world.edoc(H14, G22), from_code=H14)["code"] == "ACCEPTED"


def test_repeated_poll_is_a_replay_except_for_a_legacy_system(world: World) -> None:
    fixed = world.client("sys.h41", legacy_fixed_timestamp=True)
    assert fixed.get_received_list()["status"] == "OK"
    fails(lambda: fixed.get_received_list(), "AUTH_REPLAYED", 401)
    assert fixed.count_receive_edoc()["count"] == 0  # another call: another signature
    fails(lambda: fixed.count_receive_edoc(), "AUTH_REPLAYED", 401)
    # a fresh timestamp per call (what a correct client does) is never a replay
    fresh = world.client("sys.h41")
    for _ in range(3):
        assert fresh.count_receive_edoc()["count"] == 0
    legacy = world.client("sys.legacy", legacy_fixed_timestamp=True)
    for _ in range(3):
        assert legacy.get_received_list()["status"] == "OK"
        assert legacy.count_receive_edoc()["count"] == 0


def test_replayed_send_from_a_legacy_system_is_harmless(world: World) -> None:
    legacy = world.client("sys.legacy", legacy_fixed_timestamp=True)
    package = world.edoc(H14, G22)
    first = legacy.send_edoc(package, from_code=H14)
    again = legacy.send_edoc(package, from_code=H14)  # byte-identical request, same signature
    assert first["code"] == "ACCEPTED"
    assert again["DocId"] == first["DocId"] and again["code"] == "ALREADY_ACCEPTED"
    assert again["status"] == "OK" and again["ErrorCode"] == 0
    world.hub.dispatch_now()
    receiver = world.client("sys.g22")
    assert [i["docId"] for i in receiver.get_received_list()["data"]] == [first["DocId"]]
    assert world.count(Message) == 1 and world.count(Delivery) == 1
    assert len(legacy.get_sent_list()["data"]) == 1
    # the same replay from a normal system is refused before anything happens
    normal = world.client("sys.h41", legacy_fixed_timestamp=True)
    other = world.edoc(H41, G22)
    assert normal.send_edoc(other, from_code=H41)["code"] == "ACCEPTED"
    fails(lambda: normal.send_edoc(other, from_code=H41), "AUTH_REPLAYED", 401)
    assert world.count(Message) == 2


def test_a_legacy_poll_signature_cannot_be_turned_into_a_send(world: World) -> None:
    """Security regression (found by this suite): the signature covers neither the path nor
    the body, so for a legacy system (no freshness window, no replay check) the headers of
    any captured call — here a ``countReceiveEdoc`` poll — could be replayed against
    ``/sendEdoc`` with a body of the attacker's choice. sendEdoc now requires a signed
    ``hash-file`` (SDK 2.0.1 always signs it), which binds the request to its package."""
    poll = sign_headers("sys.legacy", world.secrets["sys.legacy"], {})
    raw_headers = [(k.encode(), v.encode()) for k, v in poll.items()]
    r = world.http.get("/countReceiveEdoc", headers=raw_headers)
    assert r.json()["status"] == "OK"
    forged = world.edoc(H14, G22)
    r = world.http.post("/sendEdoc", headers=raw_headers, content=forged)
    # a repeated legacy signature can only repeat its signed values, and sendEdoc needs a
    # signed hash-file, which the poll does not carry
    assert_fail(r, "AUTH_HASH_FILE_NOT_SIGNED", 401)
    # the same without a hash-file from a normal system, freshly signed: refused too
    r = world.raw(
        "sys.h41",
        "sendEdoc",
        {"from": H41, "messagetype": "edoc"},
        body=world.edoc(H41, G22) + b"\r\n",
        content_type="application/octet-stream",
    )
    assert_fail(r, "AUTH_HASH_FILE_NOT_SIGNED", 401)
    assert world.count(Message) == 0
    assert tmp_files(world.hub) == []


# ----------------------------------------------------------------------------- receiving


def test_full_receive_flow(world: World) -> None:
    sender, receiver = world.client("sys.h41"), world.client("sys.g22")
    package = world.edoc(H41, G22, G17)
    doc_id = sender.send_edoc(package, from_code=H41)["DocId"]
    assert receiver.count_receive_edoc()["count"] == 0  # queued until dispatched
    world.hub.dispatch_now()

    counted = receiver.count_receive_edoc()
    assert (counted["status"], counted["ErrorCode"], counted["count"]) == ("OK", 0, 1)
    assert receiver.count_receive_status()["count"] == 0
    assert receiver.get_received_list("status")["data"] == []
    listed = receiver.get_received_list("edoc")
    assert listed["status"] == "OK" and listed["ErrorCode"] == 0
    [item] = listed["data"]
    for name in (
        "docId",
        "serviceType",
        "messageType",
        "created_time",
        "updated_time",
        "from",
        "to",
        "status",
        "status_desc",
    ):
        assert name in item, name
    assert item["docId"] == doc_id
    assert (item["serviceType"], item["messageType"]) == ("eDoc", "edoc")
    assert (item["from"], item["to"]) == (H41, G22)
    assert item["status"] == "INITIAL" and item["status_desc"]
    assert TIME_RE.fullmatch(item["created_time"]) and TIME_RE.fullmatch(item["updated_time"])
    # getEdoc: base64 of the whole package (with this hub's TraceHeader), by hand and by
    # the client; the listing gave its size as delivered
    r = world.raw("sys.g22", "getEdoc", {"docId": doc_id})
    assert r.status_code == 200 and r.json()["status"] == "OK"
    delivered = base64.b64decode(r.json()["data"])
    assert as_sent(delivered) == package and item["contentLength"] == len(delivered)
    assert receiver.get_edoc(doc_id) == delivered
    [fetched] = receiver.get_received_list("edoc")["data"]
    assert fetched["status"] == "PROCESSING"  # fetched, not acknowledged
    # downloadEdoc: the raw stream
    r = world.raw("sys.g22", "downloadEdoc", {"docId": doc_id}, method="GET")
    assert r.status_code == 200 and r.content == delivered
    assert r.headers["content-type"] == "application/octet-stream"
    assert r.headers["content-length"] == str(len(delivered))
    assert receiver.download_edoc(doc_id) == delivered

    # updateStatus done: gone from the list and the count; idempotent
    assert receiver.update_status(doc_id, "processing")["status"] == "OK"
    assert receiver.count_receive_edoc()["count"] == 1
    assert receiver.update_status(doc_id, "done")["status"] == "OK"
    assert receiver.get_received_list("edoc")["data"] == []
    assert receiver.count_receive_edoc()["count"] == 0
    assert receiver.update_status(doc_id, "done")["status"] == "OK"
    fails(lambda: receiver.update_status(doc_id, "maybe"), "HUB_PARAMETER_INVALID")
    fails(lambda: receiver.update_status("no-such-doc", "done"), "NOT_FOUND", 404)
    fails(lambda: receiver.get_edoc("no-such-doc"), "NOT_FOUND", 404)
    assert_fail(world.raw("sys.g22", "getEdoc", {}), "HUB_PARAMETER_REQUIRED", 400)
    # the acknowledged document can still be read again by its recipient
    assert receiver.get_edoc(doc_id) == delivered

    # the sender's view: one row per recipient
    sent = sender.get_sent_list("edoc")
    assert sent["status"] == "OK"
    rows = {row["toCode"]: row for row in sent["data"]}
    assert set(rows) == {G22, G17}
    row = rows[G22]
    for name in (
        "serviceType",
        "messageType",
        "senderDocId",
        "receiverDocId",
        "fromCode",
        "toCode",
        "title",
        "notation",
        "sentTime",
        "receivedTime",
        "sendStatus",
        "sendStatusDesc",
        "receiveStatus",
        "receiveStatusDesc",
    ):
        assert name in row, name
    assert row["senderDocId"] == doc_id and row["fromCode"] == H41
    assert (row["serviceType"], row["messageType"]) == ("eDoc", "edoc")
    assert row["title"].startswith("V/v thử nghiệm liên thông số")
    assert row["notation"].endswith("/UBND-VP")
    assert row["sendStatus"] == "DONE" and row["receiveStatus"] == "DONE"
    assert TIME_RE.fullmatch(row["sentTime"]) and TIME_RE.fullmatch(row["receivedTime"])
    assert rows[G17]["receiveStatus"] == "INITIAL" and "receivedTime" not in rows[G17]
    assert [r["toCode"] for r in sender.get_sent_list("edoc", doc_id)["data"]] == [G22, G17]
    assert sender.get_sent_list("status")["data"] == []
    # the receiver sent nothing
    assert receiver.get_sent_list("edoc")["data"] == []


def test_update_status_fail_shows_failed_to_the_sender(world: World) -> None:
    sender, receiver = world.client("sys.h41"), world.client("sys.g22")
    doc_id = sender.send_edoc(world.edoc(H41, G22), from_code=H41)["DocId"]
    world.hub.dispatch_now()
    assert receiver.get_edoc(doc_id)
    assert receiver.update_status(doc_id, "fail")["status"] == "OK"
    assert receiver.get_received_list("edoc")["data"] == []
    [row] = sender.get_sent_list("edoc", doc_id)["data"]
    assert row["receiveStatus"] == "FAIL" and row["receiveStatusDesc"]
    assert "receivedTime" not in row  # not received: absent, never null (the SDK's Gson)


def test_a_system_cannot_read_documents_for_agencies_it_does_not_serve(world: World) -> None:
    sender, outsider = world.client("sys.h41"), world.client("sys.dt")
    package = world.edoc(H41, G22)
    doc_id = sender.send_edoc(package, from_code=H41)["DocId"]
    world.hub.dispatch_now()
    assert outsider.get_received_list("edoc")["data"] == []
    assert outsider.count_receive_edoc()["count"] == 0
    assert outsider.get_sent_list("edoc")["data"] == []
    fails(lambda: outsider.get_edoc(doc_id), "NOT_FOUND", 404)
    with pytest.raises(VdxpClientError) as info:
        outsider.download_edoc(doc_id)
    assert_fail(info.value, "NOT_FOUND", 404)
    fails(lambda: outsider.update_status(doc_id, "done"), "NOT_FOUND", 404)
    # and the recipient's delivery was not touched by those attempts
    [item] = world.client("sys.g22").get_received_list("edoc")["data"]
    assert item["status"] == "INITIAL"
    # the same answer for a document that does not exist (no probing)
    assert (
        fails(lambda: outsider.get_edoc(doc_id), "NOT_FOUND")["ErrorCode"]
        == fails(lambda: outsider.get_edoc("00000000-0000-0000-0000-000000000000"), "NOT_FOUND")[
            "ErrorCode"
        ]
    )
    # the sender's own system may read what it sent
    assert sender.get_edoc(doc_id) == package


def test_status_goes_back_to_the_sender(world: World) -> None:
    sender, receiver = world.client("sys.h41"), world.client("sys.g22")
    package = world.edoc(H41, G22)
    doc_id = sender.send_edoc(package, from_code=H41)["DocId"]
    world.hub.dispatch_now()
    assert as_sent(receiver.get_edoc(doc_id)) == package
    receiver.update_status(doc_id, "done")

    status = world.status(G22, package, "03")
    answer = receiver.send_edoc(status, from_code=G22, message_type="status")
    assert answer["code"] == "ACCEPTED"
    status_id = answer["DocId"]
    world.hub.dispatch_now()
    assert sender.count_receive_status()["count"] == 1
    assert sender.count_receive_edoc()["count"] == 0
    assert sender.get_received_list("edoc")["data"] == []
    [item] = sender.get_received_list("status")["data"]
    assert item["docId"] == status_id
    assert (item["messageType"], item["from"], item["to"]) == ("status", G22, H41)
    assert sender.get_edoc(status_id) == status
    [row] = sender.get_sent_list("edoc", doc_id)["data"]
    assert row["businessStatus"] == "03"
    assert [r["messageType"] for r in receiver.get_sent_list("status")["data"]] == ["status"]
    sender.update_status(status_id, "done")
    assert sender.count_receive_status()["count"] == 0
    # the same status sent twice: one delivery
    again = receiver.send_edoc(status, from_code=G22, message_type="status")
    assert again["DocId"] == status_id and again["code"] == "ALREADY_ACCEPTED"


# ----------------------------------------------------------------------------- no JSON null


def nulls_in(text: str) -> list[str]:
    """Where the JSON ``text`` holds a ``null`` (paths like ``data[0].mail``)."""
    found: list[str] = []

    def walk(value: Any, path: str) -> None:
        if value is None:
            found.append(path or "(top)")
        elif isinstance(value, dict):
            for k, v in value.items():
                walk(v, f"{path}.{k}" if path else k)
        elif isinstance(value, list):
            for i, v in enumerate(value):
                walk(v, f"{path}[{i}]")

    walk(json.loads(text), "")
    return found


def test_no_answer_of_the_national_api_carries_json_null(world: World) -> None:
    """The official SDK reads every key that is present with Gson's ``getAsString()``: a JSON
    ``null`` throws ``UnsupportedOperationException: JsonNull`` and the agency's program dies
    (issue 10 §1b: ``getAgenciesList`` on agencies without ``mail``, parent or old code).
    Every answer — directory, lists, counts, sync, sends, acknowledgements, errors — is
    collected here with the optional values unset, and none may hold a ``null``."""
    with world.hub.session() as s:  # no mail, no parent, no old code, no phone
        directory.add_agency(s, code=CHILD, name="Sở Nội vụ tỉnh Nghệ An")
    package = world.edoc(H41, G22, G17)
    answers: dict[str, httpx.Response] = {}

    def call(label: str, system_id: str, operation: str, **kw: Any) -> dict[str, Any]:
        r = world.raw(system_id, operation, **kw)
        answers[label] = r
        data: dict[str, Any] = r.json()
        return data

    digest = hashlib.sha256(package).hexdigest()
    send = {"from": H41, "messagetype": "edoc", "hash-file": digest}
    octets = "application/octet-stream"
    doc_id = call(
        "sendEdoc", "sys.h41", "sendEdoc", params=send, body=package, content_type=octets
    )["DocId"]
    call("sendEdoc again", "sys.h41", "sendEdoc", params=send, body=package, content_type=octets)
    world.hub.dispatch_now()
    for system_id in ("sys.h41", "sys.g22"):
        for kind in ("edoc", "status"):
            call(
                f"list {kind} {system_id}",
                system_id,
                "getReceivedEdocList",
                params={"messagetype": kind},
            )
        call(f"count {system_id}", system_id, "countReceiveEdoc", method="GET")
        call(f"count status {system_id}", system_id, "countReceiveStatus", method="GET")
    # sent before anything was received: no receivedTime, no business status yet
    rows = call(
        "sent, nothing received", "sys.h41", "getSentEdocList", params={"messagetype": "edoc"}
    )["data"]
    assert {r["toCode"] for r in rows} == {G22, G17}
    call("updateStatus", "sys.g22", "updateStatus", params={"docId": doc_id, "status": "done"})
    call("sent, one received", "sys.h41", "getSentEdocList", params={"docId": doc_id})
    directory_rows = call("getAgenciesList", "sys.g22", "getAgenciesList")["data"]
    child = next(r for r in directory_rows if r["code"] == CHILD)
    assert child["pid"] == H41 and "mail" not in child and "oldCode" not in child
    call("getAgenciesListQD20", "sys.g22", "getAgenciesListQD20")
    call("getAgenciesListQD20 level 1", "sys.g22", "getAgenciesListQD20", params={"level": "1"})
    call("getSynchronizeUnit", "sys.g22", "getSynchronizeUnit")
    call("getEdoc", "sys.g22", "getEdoc", params={"docId": doc_id})
    unit = {"code": "000.00.02.H41", "name": "Sở Tư pháp tỉnh Nghệ An", "pcode": H41}
    call("registerAgency", "sys.h41", "registerAgency", body=json.dumps(unit).encode())
    call("deleteAgency", "sys.h41", "deleteAgency", params={"AgencyCode": unit["code"]})
    assert all(answers[k].json()["status"] == "OK" for k in ("getEdoc", "deleteAgency"))
    # error answers: no field to name, an unknown document, a bad parameter
    answers["no signature"] = world.http.post("/getReceivedEdocList")
    call("not found", "sys.g22", "getEdoc", params={"docId": "0" * 8})
    call("bad messagetype", "sys.g22", "getReceivedEdocList", params={"messagetype": "x"})
    call("wrong secret", "sys.g22", "countReceiveEdoc", secret="not-the-secret")

    assert {label: nulls_in(r.text) for label, r in answers.items() if nulls_in(r.text)} == {}
    assert all(r.headers["content-type"].startswith("application/json") for r in answers.values())


# ----------------------------------------------------------------------------- directory


CHILD = "000.00.01.H41"  # a department under UBND tỉnh Nghệ An
FOREIGN_CHILD = "000.00.01.H20"


def test_directory_lists(world: World) -> None:
    client = world.client("sys.g22")
    with world.hub.session() as s:
        directory.add_agency(
            s, code=CHILD, name="Sở Nội vụ tỉnh Nghệ An", email="snv@nghean.gov.vn"
        )
    data = client.get_agencies_list()
    assert data["status"] == "OK"
    rows = {row["code"]: row for row in data["data"]}
    assert set(rows) == {*NAMES, CHILD}
    assert set(rows[CHILD]) >= {"id", "pid", "code", "name", "mail"}
    assert "oldCode" not in rows[CHILD]  # none: absent, never null (the SDK's Gson)
    assert rows[CHILD]["pid"] == H41 and rows[CHILD]["mail"] == "snv@nghean.gov.vn"
    assert rows[H41]["name"] == "UBND tỉnh Nghệ An" and "pid" not in rows[H41]

    level1 = client.get_agencies_list_qd20(1)["data"]
    assert {row["code"] for row in level1} == set(NAMES)
    assert set(level1[0]) >= {"id", "code", "name"}
    assert [row["code"] for row in client.get_agencies_list_qd20("2")["data"]] == [CHILD]
    assert len(client.get_agencies_list_qd20()["data"]) == len(NAMES) + 1


def _sync(world: World, system_id: str, version: int | None = None) -> list[dict[str, Any]]:
    """getSynchronizeUnit, incremental after ``version`` when given (signed ``sinceVersion``:
    ``version`` itself is the SDK's protocol header ``XroadVnpt-version``)."""
    data = world.client(system_id).get_synchronize_unit(since_version=version)
    assert data["status"] == "OK"
    rows: list[dict[str, Any]] = data["data"]
    return rows


def test_synchronize_unit_since_version(world: World) -> None:
    """Incremental synchronisation by a signed ``sinceVersion``, by the client and by hand;
    ``version`` cannot be a signed parameter (it is the SDK's protocol header, which
    ``sign_headers`` sets itself)."""
    full = _sync(world, "sys.g22")
    newest = max(row["version"] for row in full)
    assert sorted(row["version"] for row in full) == [row["version"] for row in full]
    assert _sync(world, "sys.g22", newest) == []
    assert len(_sync(world, "sys.g22", newest - 1)) == 1
    assert len(_sync(world, "sys.g22", 0)) == len(NAMES)
    r = world.raw("sys.g22", "getSynchronizeUnit", {"sinceVersion": str(newest - 2)})
    assert r.status_code == 200 and len(r.json()["data"]) == 2
    # a non-number is read as "from the start"
    r = world.raw("sys.g22", "getSynchronizeUnit", {"sinceVersion": "abc"})
    assert len(r.json()["data"]) == len(NAMES)
    # the SDK's protocol header is untouched by the hub's own parameter
    r = world.raw("sys.g22", "getSynchronizeUnit", {"sinceVersion": "0"})
    assert r.request.headers["XroadVnpt-version"] == "3.0.201608"
    with pytest.raises(ValueError, match="version"):
        sign_headers("sys.g22", world.secrets["sys.g22"], {"version": "3"})


def test_register_sync_and_delete_agency(world: World) -> None:
    h41 = world.client("sys.h41")
    full = _sync(world, "sys.h41")
    assert {row["code"] for row in full} == set(NAMES)
    # top-level agencies without mail: "pid" and "mail" absent (never null)
    assert set(full[0]) >= {
        "id",
        "code",
        "name",
        "centerCode",
        "version",
        "deleted",
        "modifyDate",
        "isAgency",
    }
    version = max(row["version"] for row in full)
    assert _sync(world, "sys.h41", version) == []

    # register a department under the system's own agency
    answer = h41.register_agency(
        {
            "id": "",
            "pcode": H41,
            "code": CHILD,
            "name": "Sở Nội vụ tỉnh Nghệ An",
            "mail": "snv@nghean.gov.vn",
            "mobile": "0238 3844 000",
            "fax": "",
        }
    )
    assert answer["status"] == "OK" and answer["ErrorCode"] == 0
    [changed] = _sync(world, "sys.g22", version)
    assert (changed["code"], changed["pid"], changed["deleted"]) == (CHILD, H41, False)
    assert changed["name"] == "Sở Nội vụ tỉnh Nghệ An" and changed["version"] > version
    assert any(r["code"] == CHILD for r in world.client("sys.g22").get_agencies_list()["data"])

    # the new agency is served by the registering system: it receives and sends for it
    g22 = world.client("sys.g22")
    to_child = g22.send_edoc(world.edoc(G22, CHILD), from_code=G22)["DocId"]
    world.hub.dispatch_now()
    assert [i["docId"] for i in h41.get_received_list()["data"]] == [to_child]
    assert [i["to"] for i in h41.get_received_list()["data"]] == [CHILD]
    assert h41.send_edoc(world.edoc(CHILD, G22), from_code=CHILD)["code"] == "ACCEPTED"

    # not under an agency the system serves: refused, nothing created
    for code in (FOREIGN_CHILD, G17):
        fails(
            lambda code=code: h41.register_agency({"pcode": H20, "code": code, "name": "Sở X"}),
            "HUB_NOT_YOUR_AGENCY",
            403,
        )
    assert FOREIGN_CHILD not in {r["code"] for r in g22.get_agencies_list()["data"]}
    r = world.raw("sys.h41", "registerAgency", body=b"not json")
    assert_fail(r, "HUB_PARAMETER_INVALID")

    # delete: only one's own; the deleted agency leaves the lists and the sync says so
    fails(lambda: h41.delete_agency(G22), "HUB_NOT_YOUR_AGENCY", 403)
    version = max(row["version"] for row in _sync(world, "sys.h41"))
    assert h41.delete_agency(CHILD)["status"] == "OK"
    [deleted] = _sync(world, "sys.g22", version)
    assert (deleted["code"], deleted["deleted"]) == (CHILD, True)
    assert CHILD not in {r["code"] for r in g22.get_agencies_list()["data"]}
    assert CHILD not in {r["code"] for r in g22.get_agencies_list_qd20(2)["data"]}
    # sending to it now fails for that recipient only
    answer = g22.send_edoc(world.edoc(G22, CHILD, H41), from_code=G22)
    assert answer["code"] == "ACCEPTED" and answer["failedRecipients"] == [CHILD]
    # an agency the system does not serve: refused, whether it exists or not (no probing)
    fails(lambda: h41.delete_agency("000.00.09.H41"), "HUB_NOT_YOUR_AGENCY", 403)


# ----------------------------------------------------------------------------- official samples


EXPECTED_REJECTIONS = {"edoc_new.edxml": "EDXML_STRAY_BYTES"}


def test_official_samples_through_send_edoc(world: World, samples_dir: Path) -> None:
    with world.hub.session() as s:
        for code in ("002.00.20.H13", "000.00.15.H51"):
            directory.add_agency(s, code=code, name=f"Cơ quan mẫu {code}")
        world.secrets["sys.h13"] = directory.add_system(
            s, system_id="sys.h13", agencies=["002.00.20.H13"]
        ).secret
    h41, g22 = world.client("sys.h41"), world.client("sys.g22")
    by_sender = {H41: h41, G22: g22, "002.00.20.H13": world.client("sys.h13")}
    order = sorted(samples_dir.glob("*.edxml"), key=lambda p: (p.name.startswith("status"), p.name))
    accepted: dict[str, str] = {}
    rejected: dict[str, str] = {}
    for path in order:
        data = path.read_bytes()
        kind = "status" if path.name.startswith("status") else "edoc"
        sender_code = _sample_sender(data)
        client = by_sender[sender_code]
        try:
            answer = client.send_edoc(data, from_code=sender_code, message_type=kind)
        except VdxpClientError as exc:
            rejected[path.name] = assert_fail(exc, exc.response["code"])["code"]  # type: ignore[index]
        else:
            assert answer["status"] == "OK" and answer["code"] == "ACCEPTED", path.name
            accepted[path.name] = answer["DocId"]
    assert len(accepted) + len(rejected) == 15
    for name, code in EXPECTED_REJECTIONS.items():
        assert rejected.get(name) == code, rejected
    assert all(code.startswith("EDXML_") for code in rejected.values()), rejected
    assert set(rejected) <= {"edoc_new.edxml", "edoc.edxml"}, rejected
    for name in ("edoc_revocation.edxml", "edoc_update.edxml", "edoc_replacement.edxml"):
        assert name in accepted

    world.hub.dispatch_now()
    # the stored packages are the samples, byte for byte
    for name, doc_id in accepted.items():
        assert (
            by_sender[_sample_sender((samples_dir / name).read_bytes())].get_edoc(doc_id)
            == (samples_dir / name).read_bytes()
        )
    # statuses from Nghệ An reach the Government Office; 13 goes the other way
    to_g22 = {i["docId"] for i in g22.get_received_list("status")["data"]}
    from_h41 = {d for n, d in accepted.items() if n.startswith("status") and "_13" not in n}
    assert to_g22 == from_h41
    assert accepted["status_cancellation_13.edxml"] in {
        i["docId"] for i in h41.get_received_list("status")["data"]
    }


def _sample_sender(data: bytes) -> str:
    m = re.search(rb"<edXML:From>\s*<edXML:OrganId>([^<]+)</edXML:OrganId>", data)
    assert m is not None
    return m.group(1).decode()


def test_every_error_answer_has_the_platform_shape(world: World) -> None:
    """Error answers of every kind, collected: each must be FAIL / ErrorCode / ErrorDesc / code."""
    r = world.http.post("/getReceivedEdocList")
    assert_fail(r, "AUTH_MISSING_HEADER", 401)
    r = world.raw("sys.h41", "getReceivedEdocList", {"messagetype": "knobstick"})
    assert_fail(r, "HUB_PARAMETER_INVALID", 400)
    broken = b"<edXML>not a package"
    r = world.raw(
        "sys.h41",
        "sendEdoc",
        {"from": H41, "messagetype": "edoc", "hash-file": hashlib.sha256(broken).hexdigest()},
        body=broken,
        content_type="application/octet-stream",
    )
    data = assert_fail(r, r.json()["code"])
    assert data["code"].startswith("EDXML_") and r.status_code == 422
    r = world.raw("sys.h41", "deleteAgency", {})
    assert_fail(r, "HUB_PARAMETER_REQUIRED", 400)


def test_timestamp_format_is_the_sdks(world: World) -> None:
    """Sanity: the helper used by these tests signs like the SDK (ddMMyyyy'T'HHmmss+SSSS)."""
    ts = format_timestamp(datetime(2025, 3, 14, 9, 26, 53, 589_000, tzinfo=VN_TZ))
    assert ts == "14032025T092653+0589"
    headers = sign_headers("sys.h41", world.secrets["sys.h41"], {}, timestamp=ts)
    assert headers["XroadVnpt-timestamp"] == ts


def test_register_agency_cannot_take_over_an_agency_served_by_another_system(
    world: World,
) -> None:
    """Review finding: registerAgency under one's own province used to re-register an
    existing department to the caller, handing it that department's mailbox."""
    victim = "000.00.12.H41"
    with world.hub.session() as s:
        directory.add_agency(s, code=victim, name="Sở Thông tin và Truyền thông")
        directory.add_system(s, system_id="sys.stttt", agencies=[victim])
    h41 = world.client("sys.h41")
    before = {r["code"]: r for r in h41.get_agencies_list()["data"]}
    r = world.raw(
        "sys.h41",
        "registerAgency",
        {},
        body=json.dumps({"code": victim, "name": "renamed by attacker", "pcode": H41}).encode(),
    )
    assert r.json()["code"] == "HUB_NOT_YOUR_AGENCY" and r.status_code == 403
    after = {r["code"]: r for r in h41.get_agencies_list()["data"]}
    assert after[victim]["name"] == before[victim]["name"]


def test_legacy_signatures_cannot_change_the_directory(world: World) -> None:
    legacy = world.client("sys.legacy")
    with pytest.raises(VdxpClientError) as info:
        legacy.register_agency({"code": "000.09.00.H14", "name": "Phòng mới", "pcode": H14})
    assert info.value.response is not None
    assert info.value.response["code"] == "AUTH_FRESH_SIGNATURE_REQUIRED"
