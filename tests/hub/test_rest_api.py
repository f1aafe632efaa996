"""The hub's REST API v1 through :class:`lienthong.client.rest.HubClient` and raw requests:
sending, inbox with a cursor, fetching, attachments, acknowledgement, statuses, timeline,
sent list, the agency directory, a permission matrix over every endpoint, the error shape,
OpenAPI (and schemathesis against it), health, readiness and metrics.

Every test runs on SQLite and PostgreSQL.
"""

from __future__ import annotations

import base64
import hashlib
import io
import itertools
import re
import zipfile
from collections.abc import Callable, Iterator
from dataclasses import dataclass
from pathlib import Path
from typing import Any
from urllib.parse import unquote

import httpx
import pytest
from fastapi.testclient import TestClient

from lienthong.client.rest import HubClient, HubClientError
from lienthong.edxml.attachments import Blob
from lienthong.edxml.builder import build
from lienthong.edxml.model import (
    Attachment,
    DocumentCode,
    Organization,
    Status,
    TraceHeader,
)
from lienthong.edxml.parser import parse
from lienthong.hub import audit, directory
from lienthong.hub.http.app import create_app
from lienthong.hub.models import System
from lienthong.hub.runtime import Hub
from lienthong.hub.settings import Settings
from support import as_sent

BASE = "http://testserver"
H41 = "000.00.00.H41"  # UBND tỉnh Nghệ An
G22 = "000.00.00.G22"  # Văn phòng Chính phủ
H20 = "000.00.00.H20"  # UBND tỉnh Đồng Tháp
G17 = "000.00.00.G17"  # Bộ Tài chính (inactive below)
H14 = "000.00.00.H14"  # UBND tỉnh Sơn La
NAMES = {
    H41: "UBND tỉnh Nghệ An",
    G22: "Văn phòng Chính phủ",
    H20: "UBND tỉnh Đồng Tháp",
    G17: "Bộ Tài chính",
    H14: "UBND tỉnh Sơn La",
}
SYSTEMS = {"sys.h41": H41, "sys.g22": G22, "sys.dt": H20, "sys.h14": H14}
UNKNOWN = "000.00.00.H99"
PDF = b"%PDF-1.7\n" + bytes(range(256)) * 8 + b"\n%%EOF\n"
_numbers = itertools.count(500)

V1_PATHS = {
    ("post", "/api/v1/packages"),
    ("get", "/api/v1/inbox"),
    ("get", "/api/v1/messages/{message_id}"),
    ("get", "/api/v1/messages/{message_id}/attachments/{index}"),
    ("post", "/api/v1/messages/{message_id}/ack"),
    ("post", "/api/v1/messages/{message_id}/status"),
    ("get", "/api/v1/messages/{message_id}/timeline"),
    ("get", "/api/v1/sent"),
    ("get", "/api/v1/agencies"),
    ("post", "/api/v1/reports"),  # between hubs: peer keys only
}


# ----------------------------------------------------------------------------- helpers


@dataclass
class World:
    hub: Hub
    http: TestClient
    keys: dict[str, str]
    make_edoc: Callable[..., Any]

    def client(self, system_id: str) -> HubClient:
        return HubClient(BASE, self.keys[system_id], http=self.http)

    def auth(self, system_id: str) -> dict[str, str]:
        return {"Authorization": f"Bearer {self.keys[system_id]}"}

    def edoc(self, sender: str, *recipients: str, **overrides: Any) -> bytes:
        n = next(_numbers)
        return build(
            self.make_edoc(
                sender=Organization(organ_id=sender, organ_name=NAMES.get(sender, sender)),
                recipients=[
                    Organization(organ_id=r, organ_name=NAMES.get(r, "Cơ quan")) for r in recipients
                ],
                code=DocumentCode(str(n), "UBND-VP"),
                subject=f"V/v thử nghiệm REST số {n}",
                trace_headers=[TraceHeader(organ_id=sender, timestamp="2024/03/05 08:30:00")],
                **overrides,
            )
        )

    def post_package(self, system_id: str, package: bytes, **params: str) -> httpx.Response:
        return self.http.post(
            "/api/v1/packages",
            content=package,
            params=params,
            headers={**self.auth(system_id), "Content-Type": "application/xml"},
        )

    def send(self, system_id: str, package: bytes) -> str:
        r = self.post_package(system_id, package)
        assert r.status_code == 201, r.text
        message_id: str = r.json()["message_id"]
        return message_id


def assert_error(r: httpx.Response, code: str, status: int | None = None) -> dict[str, Any]:
    """``{"error": {code, field, message_vi, message_en}}`` with the stable code."""
    body = r.json()
    assert set(body) == {"error"}, body
    error: dict[str, Any] = body["error"]
    assert {"code", "field", "message_vi", "message_en"} <= set(error), error
    assert error["code"] == code, error
    assert isinstance(error["field"], str)
    assert error["message_vi"].strip() and error["message_en"].strip()
    assert not error["message_vi"].isascii(), "the Vietnamese message carries diacritics"
    if status is not None:
        assert r.status_code == status, r.text
    return error


def setup_world(hub: Hub, http: TestClient, make_edoc: Callable[..., Any]) -> World:
    keys: dict[str, str] = {}
    with hub.session() as s:
        for code, name in NAMES.items():
            directory.add_agency(s, code=code, name=name, active=code != G17)
        for system_id, agency in SYSTEMS.items():
            keys[system_id] = directory.add_system(
                s, system_id=system_id, agencies=[agency]
            ).api_key
    return World(hub, http, keys, make_edoc)


@pytest.fixture
def world(hub: Hub, make_edoc: Callable[..., Any]) -> Iterator[World]:
    with TestClient(create_app(hub, start_worker=False)) as http:
        yield setup_world(hub, http, make_edoc)
    with hub.session() as s:
        assert audit.verify(s).ok


# ----------------------------------------------------------------------------- sending


def test_send_package_created_then_already_accepted(world: World) -> None:
    package = world.edoc(H41, G22)
    r = world.post_package("sys.h41", package)
    assert r.status_code == 201, r.text
    first = r.json()
    assert first["code"] == "ACCEPTED" and first["duplicate"] is False
    assert first["kind"] == "edoc"
    assert first["recipients"] == [
        {"agency": G22, "state": "queued", "failure_code": None, "failure_reason": None}
    ]
    r = world.post_package("sys.h41", package)
    assert r.status_code == 200
    again = r.json()
    assert again["code"] == "ALREADY_ACCEPTED" and again["duplicate"] is True
    assert again["message_id"] == first["message_id"]
    world.hub.dispatch_now()
    assert len(world.client("sys.g22").inbox()) == 1  # one delivery, whatever the resends

    # typed refusals, in the REST error shape
    assert_error(world.post_package("sys.h41", package, kind="status"), "HUB_KIND_MISMATCH", 422)
    assert_error(world.post_package("sys.h41", world.edoc(G22, H41)), "HUB_NOT_YOUR_AGENCY", 403)


def test_send_package_refusals(world: World) -> None:
    r = world.post_package("sys.h41", b"<edXML>broken")
    assert r.status_code == 422
    assert r.json()["error"]["code"].startswith("EDXML_")
    assert_error(r, r.json()["error"]["code"])
    r = world.post_package("sys.h41", b"")
    assert r.status_code == 422 and r.json()["error"]["code"].startswith("EDXML_")


def test_hub_client_send(world: World) -> None:
    """The client's send (regression: it once passed ``headers=`` twice to httpx and raised
    TypeError before any request was made)."""
    client = world.client("sys.h41")
    package = world.edoc(H41, G22)
    first = client.send(package)
    assert first["code"] == "ACCEPTED"
    again = client.send(package, kind="edoc")
    assert again["message_id"] == first["message_id"] and again["code"] == "ALREADY_ACCEPTED"
    with pytest.raises(HubClientError) as info:
        client.send(package, kind="status")
    assert (info.value.code, info.value.http_status) == ("HUB_KIND_MISMATCH", 422)


def test_per_recipient_failures_do_not_fail_the_send(world: World) -> None:
    package = world.edoc(H41, G22, UNKNOWN, G17)
    r = world.post_package("sys.h41", package)
    assert r.status_code == 201
    answer = r.json()
    assert answer["code"] == "ACCEPTED"
    by_agency = {o["agency"]: o for o in answer["recipients"]}
    assert by_agency[G22]["state"] == "queued" and by_agency[G22]["failure_code"] is None
    assert by_agency[UNKNOWN]["state"] == "failed"
    assert by_agency[UNKNOWN]["failure_code"] == "HUB_UNKNOWN_RECIPIENT"
    assert by_agency[UNKNOWN]["failure_reason"]
    assert by_agency[G17]["failure_code"] == "HUB_RECIPIENT_INACTIVE"
    world.hub.dispatch_now()
    assert [i["message_id"] for i in world.client("sys.g22").inbox()] == [answer["message_id"]]
    [sent] = world.client("sys.h41").sent()
    assert {r["agency"]: r["state"] for r in sent["recipients"]} == {
        G22: "available",
        UNKNOWN: "failed",
        G17: "failed",
    }


@pytest.fixture
def small_world(
    database_url: str, tmp_path: Path, make_edoc: Callable[..., Any]
) -> Iterator[World]:
    hub = Hub(
        Settings(
            data_dir=tmp_path / "small",
            database_url=database_url,
            blob_url=str(tmp_path / "small-blobs"),
            max_package_bytes=4096,
        )
    )
    try:
        with TestClient(create_app(hub, start_worker=False)) as http:
            yield setup_world(hub, http, make_edoc)
    finally:
        hub.close()


def test_size_limit(small_world: World) -> None:
    w = small_world
    pdf = Attachment(
        name="Phụ lục.pdf", content_type="application/pdf", content=Blob.from_bytes(PDF * 4)
    )
    big = w.edoc(H41, G22, attachments=[pdf])
    assert len(big) > 4096 + 2
    assert_error(w.post_package("sys.h41", big), "HUB_TOO_LARGE", 413)

    def chunks() -> Iterator[bytes]:
        yield from (big[i : i + 512] for i in range(0, len(big), 512))

    r = w.http.post(
        "/api/v1/packages",
        content=chunks(),
        headers={**w.auth("sys.h41"), "Content-Type": "application/xml"},
    )
    assert_error(r, "HUB_TOO_LARGE", 413)
    assert list(w.hub.tmp_dir.iterdir()) == []
    assert w.client("sys.h41").sent() == []


def test_size_limit_boundary(small_world: World) -> None:
    """Exactly the limit is accepted; one byte more is 413 HUB_TOO_LARGE (regression: the
    SDK's CRLF slack once applied to REST bodies too, so 1–2 bytes over the limit got past
    the edge and came back as 422 EDXML_TOO_LARGE)."""
    w = small_world
    small = w.edoc(H41, G22)

    def sized(n: int) -> bytes:
        return small.replace(b"</edXML>", b" " * (n - len(small)) + b"</edXML>")

    assert w.post_package("sys.h41", sized(4096)).status_code == 201
    for size in (4097, 4098, 4099):
        assert_error(w.post_package("sys.h41", sized(size)), "HUB_TOO_LARGE", 413)


# ----------------------------------------------------------------------------- receiving


def test_inbox_cursor_and_kind(world: World) -> None:
    h41, g22 = world.client("sys.h41"), world.client("sys.g22")
    ids = [world.send("sys.h41", world.edoc(H41, G22)) for _ in range(5)]
    # a document from G22 to H41 and a status about it back to G22
    back = world.send("sys.g22", world.edoc(G22, H41))
    world.hub.dispatch_now()
    status = h41.status(back, agency=H41, status_code="01", description="Đã nhận")
    world.hub.dispatch_now()

    everything = g22.inbox()
    assert [i["message_id"] for i in everything] == [*ids, status["message_id"]]
    item = everything[0]
    assert set(item) >= {
        "message_id",
        "kind",
        "sender",
        "recipient",
        "state",
        "document_id",
        "code_number",
        "code_notation",
        "subject",
        "status_code",
        "size",
        "accepted_at",
    }
    assert (item["kind"], item["sender"], item["recipient"], item["state"]) == (
        "edoc",
        H41,
        G22,
        "available",
    )
    assert item["code_notation"] == "UBND-VP" and item["subject"].startswith("V/v thử nghiệm")
    assert item["document_id"].startswith(H41 + ",")

    # pages of two, following next_after
    seen: list[str] = []
    after = 0
    pages = 0
    while True:
        r = world.http.get(
            "/api/v1/inbox", params={"after": after, "limit": 2}, headers=world.auth("sys.g22")
        )
        assert r.status_code == 200
        page = r.json()
        seen += [i["message_id"] for i in page["items"]]
        pages += 1
        if page["next_after"] is None:
            assert len(page["items"]) < 2
            break
        assert len(page["items"]) == 2
        after = page["next_after"]
    # six items in pages of two: the third page is full, so a fourth (empty) one ends it
    assert seen == [*ids, status["message_id"]] and pages == 4
    assert [i["message_id"] for i in g22.inbox(after=0, limit=4)] == ids[:4]

    assert [i["message_id"] for i in g22.inbox(kind="edoc")] == ids
    [only] = g22.inbox(kind="status")
    assert (only["message_id"], only["kind"], only["status_code"]) == (
        status["message_id"],
        "status",
        "01",
    )
    r = world.http.get("/api/v1/inbox", params={"kind": "status"}, headers=world.auth("sys.g22"))
    assert r.json()["next_after"] is None


def test_fetch_streams_the_exact_bytes(world: World) -> None:
    package = world.edoc(H41, G22).replace(b"\n", b"\r\n")  # CRLF kept as sent
    message_id = world.send("sys.h41", package)
    g22 = world.client("sys.g22")
    world.hub.dispatch_now()
    r = world.http.get(f"/api/v1/messages/{message_id}", headers=world.auth("sys.g22"))
    assert r.status_code == 200
    # the sender's bytes with this hub's TraceHeader appended, nothing else changed
    assert r.content != package and as_sent(r.content) == package
    assert [t.organ_id for t in parse(r.content).trace_headers][-1] == "lienthong"
    assert r.headers["content-length"] == str(len(r.content))
    assert r.headers["x-message-kind"] == "edoc"
    assert r.headers["content-type"].startswith("application/xml")
    assert g22.fetch(message_id) == r.content
    assert g22.fetch(message_id, as_sent=True) == package
    [item] = g22.inbox()
    assert item["state"] == "fetched" and item["size"] == len(r.content)
    # the sender's system may read it too, as it sent it; the timeline shows who fetched
    assert world.client("sys.h41").fetch(message_id) == package
    events = [e["event"] for e in g22.timeline(message_id)["events"]]
    assert events.count("fetched") == 1


def _inner(package: bytes) -> bytes:
    found = re.findall(rb"<(?:\w+:)?ContentTransferEncoded[^>]*>([^<]*)<", package)
    assert len(found) == 1
    with zipfile.ZipFile(io.BytesIO(base64.b64decode(found[0]))) as archive:
        [name] = archive.namelist()
        return archive.read(name)


def test_attachment_of_an_official_sample_is_unwrapped(world: World, sample: Any) -> None:
    package = sample("edoc_update.edxml").read_bytes()
    message_id = world.send("sys.g22", package)
    world.hub.dispatch_now()
    # the sample is addressed to H41, H14 and G17 (inactive)
    r = world.http.get(
        f"/api/v1/messages/{message_id}/attachments/1", headers=world.auth("sys.h41")
    )
    assert r.status_code == 200, r.text
    inner = _inner(package)
    assert r.content == inner and len(inner) == 388347
    assert r.headers["x-content-sha256"] == hashlib.sha256(inner).hexdigest()
    assert r.headers["content-length"] == str(len(inner))
    disposition = r.headers["content-disposition"]
    assert disposition.startswith("attachment;")
    assert _filename(disposition) == "1896_QD-TTg_m_294779.doc"
    # the unwrapped .doc is labelled as what it is, not as the ZIP wrapper declared on the wire
    assert not r.content.startswith(b"PK\x03\x04")
    assert r.headers["content-type"].split(";")[0] == "application/msword"
    assert world.client("sys.h14").attachment(message_id, 1) == inner
    for index in (0, 2, 99):
        r = world.http.get(
            f"/api/v1/messages/{message_id}/attachments/{index}", headers=world.auth("sys.h41")
        )
        assert_error(r, "NOT_FOUND", 404)


def _filename(disposition: str) -> str:
    m = re.search(r"filename\*=UTF-8''([^;]+)", disposition)
    assert m is not None, disposition
    return unquote(m.group(1))


def test_attachment_with_a_vietnamese_file_name(world: World) -> None:
    name = "Công văn 215-STTTT-VP (bản ký số).pdf"
    attachment = Attachment(
        name=name,
        description="Bản ký số",
        content_type="application/pdf",
        content=Blob.from_bytes(PDF),
    )
    message_id = world.send("sys.h41", world.edoc(H41, G22, attachments=[attachment]))
    world.hub.dispatch_now()
    r = world.http.get(
        f"/api/v1/messages/{message_id}/attachments/1", headers=world.auth("sys.g22")
    )
    assert r.status_code == 200
    assert r.content == PDF
    assert r.headers["content-type"].startswith("application/pdf")
    assert r.headers["x-content-sha256"] == hashlib.sha256(PDF).hexdigest()
    assert _filename(r.headers["content-disposition"]) == name
    r.headers["content-disposition"].encode("ascii")  # header stays ASCII
    assert list(world.hub.tmp_dir.iterdir()) == []  # the spooled package was removed


def test_ack_and_failure(world: World) -> None:
    g22, h41 = world.client("sys.g22"), world.client("sys.h41")
    ok_id = world.send("sys.h41", world.edoc(H41, G22))
    bad_id = world.send("sys.h41", world.edoc(H41, G22))
    world.hub.dispatch_now()
    g22.fetch(ok_id)
    r = world.http.post(f"/api/v1/messages/{ok_id}/ack", headers=world.auth("sys.g22"))
    assert r.status_code == 200
    assert r.json() == [
        {"agency": G22, "state": "acknowledged", "failure_code": None, "failure_reason": None}
    ]
    assert [o["state"] for o in g22.ack(ok_id)] == ["acknowledged"]  # idempotent
    outcome = g22.ack(bad_id, ok=False, reason="Tệp đính kèm hỏng")
    assert outcome[0]["state"] == "failed" and outcome[0]["failure_reason"] == "Tệp đính kèm hỏng"
    assert outcome[0]["failure_code"] == "HUB_RECIPIENT_FAILED"
    assert g22.inbox() == []
    states = {m["message_id"]: m["recipients"][0] for m in h41.sent()}
    assert states[ok_id]["state"] == "acknowledged"
    assert states[bad_id]["state"] == "failed"
    assert states[bad_id]["failure_reason"] == "Tệp đính kèm hỏng"
    r = world.http.post(
        "/api/v1/messages/00000000-0000-0000-0000-000000000000/ack", headers=world.auth("sys.g22")
    )
    assert_error(r, "NOT_FOUND", 404)


def test_status_written_by_the_hub_reaches_the_sender(world: World) -> None:
    g22, h41 = world.client("sys.g22"), world.client("sys.h41")
    package = world.edoc(H41, G22)
    message_id = world.send("sys.h41", package)
    world.hub.dispatch_now()
    g22.fetch(message_id)
    g22.ack(message_id)
    answer = g22.status(
        message_id,
        agency=G22,
        status_code="03",
        description="Văn thư: đã vào sổ văn bản đến",
        staff={"department": "Văn thư", "staff": "Nguyễn Thị Ngọc Trâm"},
    )
    assert answer["kind"] == "status" and answer["code"] == "ACCEPTED"
    assert [r["agency"] for r in answer["recipients"]] == [H41]
    world.hub.dispatch_now()

    [item] = h41.inbox(kind="status")
    assert (item["message_id"], item["kind"], item["sender"], item["status_code"]) == (
        answer["message_id"],
        "status",
        G22,
        "03",
    )
    assert h41.inbox(kind="edoc") == []
    status = parse(h41.fetch(answer["message_id"]))
    try:
        assert isinstance(status, Status)
        assert status.status_code == "03" and status.sender.organ_id == G22
        original = parse(package)
        assert status.response_for.document_id == original.document_id  # type: ignore[union-attr]
        original.close()
        assert status.response_for.organ_id == H41
        assert status.staff is not None and status.staff.staff == "Nguyễn Thị Ngọc Trâm"
    finally:
        status.close()

    timeline = h41.timeline(message_id)
    assert timeline["message"]["message_id"] == message_id
    [recipient] = timeline["recipients"]
    assert (recipient["agency"], recipient["state"], recipient["business_status"]) == (
        G22,
        "acknowledged",
        "03",
    )
    [st] = timeline["statuses"]
    assert (st["message_id"], st["from"], st["status_code"]) == (answer["message_id"], G22, "03")
    events = [e["event"] for e in timeline["events"]]
    for event in ("accepted", "delivered", "fetched", "acknowledged", "status"):
        assert event in events, events
    assert all(re.fullmatch(r"[0-9a-f]{64}", e["hash"]) for e in timeline["events"])
    assert g22.timeline(message_id)["recipients"][0]["business_status"] == "03"
    # later statuses move the business status on
    g22.status(message_id, agency=G22, status_code="06", description="Hoàn thành")
    assert h41.timeline(message_id)["recipients"][0]["business_status"] == "06"

    # refusals: an agency the caller does not serve, an unknown agency, a bad code
    r = world.http.post(
        f"/api/v1/messages/{message_id}/status",
        json={"agency": H41, "status_code": "03"},
        headers=world.auth("sys.g22"),
    )
    assert_error(r, "HUB_NOT_YOUR_AGENCY", 403)
    r = world.http.post(
        f"/api/v1/messages/{message_id}/status",
        json={"agency": UNKNOWN, "status_code": "03"},
        headers=world.auth("sys.g22"),
    )
    assert_error(r, "AGENCY_NOT_FOUND", 404)


def test_cancellation_request_13_goes_to_the_recipient(world: World) -> None:
    """BUG (reported): for status 13 (the *sender* asks the recipient to give the document
    back) ``send_status`` sets ``ResponseFor/OrganId`` to the caller's own agency, so the
    hub routes the 13 back to the sender itself; the recipient never sees it. (In the
    official sample status_cancellation_13.edxml, From is the original sender G22 and
    ResponseFor/OrganId the recipient H41.)"""
    h41, g22 = world.client("sys.h41"), world.client("sys.g22")
    message_id = world.send("sys.h41", world.edoc(H41, G22))
    world.hub.dispatch_now()
    answer = h41.status(message_id, agency=H41, status_code="13", description="Đề nghị trả lại")
    world.hub.dispatch_now()
    assert [r["agency"] for r in answer["recipients"]] == [G22]
    assert [i["status_code"] for i in g22.inbox(kind="status")] == ["13"]
    assert h41.inbox(kind="status") == []


def test_status_text_not_allowed_in_xml_is_a_client_error(world: World) -> None:
    """BUG (reported): a description or staff value with a character XML cannot hold (a
    control character) makes the status builder raise inside the request: HTTP 500
    instead of a typed 422 (found by schemathesis)."""
    message_id = world.send("sys.h41", world.edoc(H41, G22))
    world.hub.dispatch_now()
    with TestClient(world.http.app, raise_server_exceptions=False) as http:
        for body in (
            {"agency": G22, "status_code": "03", "description": "Đã nhận\x01"},
            {"agency": G22, "status_code": "03", "staff": {"staff": "Trâm\x00"}},
        ):
            r = http.post(
                f"/api/v1/messages/{message_id}/status", json=body, headers=world.auth("sys.g22")
            )
            assert r.status_code == 422, r.text
            assert r.json()["error"]["code"].startswith("EDXML_")
    assert list(world.hub.tmp_dir.iterdir()) == []


def test_sent_list(world: World) -> None:
    h41 = world.client("sys.h41")
    doc = world.send("sys.h41", world.edoc(H41, G22, H14))
    back = world.send("sys.g22", world.edoc(G22, H41))
    world.hub.dispatch_now()
    st = h41.status(back, agency=H41, status_code="01")["message_id"]
    sent = h41.sent()
    assert [m["message_id"] for m in sent] == [st, doc]
    by_id = {m["message_id"]: m for m in sent}
    m = by_id[doc]
    assert (m["kind"], m["from"], m["code"]["notation"]) == ("edoc", H41, "UBND-VP")
    assert m["size"] > 0 and re.fullmatch(r"[0-9a-f]{64}", m["sha256"])
    assert [r["agency"] for r in m["recipients"]] == [G22, H14]
    assert by_id[st]["refers_to"] == back and by_id[st]["status_code"] == "01"
    assert [m["message_id"] for m in h41.sent(kind="edoc")] == [doc]
    assert [m["message_id"] for m in h41.sent(kind="status")] == [st]
    assert [m["message_id"] for m in world.client("sys.g22").sent()] == [back]


def test_agency_search_ignores_diacritics(world: World) -> None:
    client = world.client("sys.dt")
    with world.hub.session() as s:
        directory.add_agency(s, code="000.00.01.H20", name="Sở Nội vụ tỉnh Đồng Tháp")
        directory.add_agency(s, code="000.00.02.H20", name="Sở Y tế tỉnh Đồng Tháp")
    dong_thap = {H20, "000.00.01.H20", "000.00.02.H20"}
    for q in ("dong thap", "Đồng Tháp", "DONG THAP", "đồng tháp", "dong tháp"):
        assert {a["code"] for a in client.agencies(q)} == dong_thap, q
    for q in ("đ", "d", "Đ", "D"):
        assert dong_thap <= {a["code"] for a in client.agencies(q)}, q
    [nghe_an] = client.agencies("nghe an")
    assert nghe_an == {
        "code": H41,
        "name": "UBND tỉnh Nghệ An",
        "parent_code": None,
        "level": 1,
        "active": True,
        "old_code": None,
        "nonstandard": False,
    }
    [child] = client.agencies("noi vu")
    assert (child["parent_code"], child["level"]) == (H20, 2)
    assert [a["code"] for a in client.agencies("H41")] == [H41]  # by code
    assert client.agencies("không có cơ quan này") == []
    assert len(client.agencies()) == len(NAMES) + 2
    assert len(client.agencies(limit=2)) == 2
    r = world.http.get(
        "/api/v1/agencies", params={"limit": 2, "offset": 2}, headers=world.auth("sys.dt")
    )
    assert [a["code"] for a in r.json()] == sorted(a["code"] for a in client.agencies())[2:4]


# ----------------------------------------------------------------------------- permissions


def test_permission_matrix_of_every_endpoint(world: World) -> None:
    """No key, a wrong key, another agency's system and the right system, for every endpoint:
    the outsider never sees the data."""
    package = world.edoc(
        H41,
        G22,
        attachments=[
            Attachment(
                name="Tờ trình.pdf", content_type="application/pdf", content=Blob.from_bytes(PDF)
            )
        ],
    )
    message_id = world.send("sys.h41", package)
    world.hub.dispatch_now()
    new_package = world.edoc(H41, G22)
    m = f"/api/v1/messages/{message_id}"
    with world.hub.session() as s:
        peer = directory.add_system(s, system_id="hub.peer", agencies=[H20])
        world.keys["hub.peer"] = peer.api_key
        s.get(System, "hub.peer").peer = True  # type: ignore[union-attr]
    report = {
        "hub": "peer",
        "sha256": hashlib.sha256(package).hexdigest(),
        "kind": "edoc",
        "sender": H41,
        "recipients": [{"agency": G22, "state": "failed", "hub": "peer"}],
    }
    # (method, path, request kwargs, who is right, what the outsider gets)
    cases: list[tuple[str, str, dict[str, Any], str, Callable[[httpx.Response], None]]] = [
        ("POST", "/api/v1/packages", {"content": new_package}, "sys.h41", _refused(403)),
        ("GET", "/api/v1/inbox", {}, "sys.g22", _empty("items")),
        ("GET", m, {}, "sys.g22", _refused(404)),
        ("GET", f"{m}/attachments/1", {}, "sys.g22", _refused(404)),
        ("GET", f"{m}/timeline", {}, "sys.g22", _refused(404)),
        (
            "POST",
            f"{m}/status",
            {"json": {"agency": G22, "status_code": "01"}},
            "sys.g22",
            _refused(404),
        ),
        ("POST", f"{m}/ack", {"json": {"ok": True}}, "sys.g22", _refused(404)),
        ("GET", "/api/v1/sent", {}, "sys.h41", _empty(None)),
        ("GET", "/api/v1/agencies", {"params": {"q": "nghe an"}}, "sys.h41", _ok),
        # between hubs: only a peer hub's key (here a report that changes nothing)
        ("POST", "/api/v1/reports", {"json": report}, "hub.peer", _refused(403)),
    ]
    for method, path, kwargs, right, outsider_sees in cases:
        r = world.http.request(method, path, **kwargs)
        assert_error(r, "AUTH_API_KEY_REQUIRED", 401)
        assert r.json()["error"]["field"] == "Authorization"
        for bad in ("Bearer lt_not-a-key", "Bearer ", "Basic dXNlcjpwYXNz", "lt_no-scheme"):
            r = world.http.request(method, path, headers={"Authorization": bad}, **kwargs)
            expected = "AUTH_API_KEY_INVALID" if bad.startswith("Bearer lt_") else None
            if expected:
                assert_error(r, expected, 401)
            else:
                assert r.status_code == 401, (path, bad)
                assert r.json()["error"]["code"].startswith("AUTH_API_KEY_")
        r = world.http.request(method, path, headers=world.auth("sys.dt"), **kwargs)
        outsider_sees(r)
        assert "thử nghiệm REST" not in r.text, (path, r.text)  # never the document's data
        r = world.http.request(method, path, headers=world.auth(right), **kwargs)
        assert r.status_code in (200, 201), (path, r.text)
    # the right system's answers carried the data
    assert world.client("sys.g22").timeline(message_id)["recipients"][0]["state"] == "acknowledged"
    paths = {(method.lower(), _template(path)) for method, path, *_ in cases}
    assert paths == V1_PATHS


def _template(path: str) -> str:
    path = re.sub(r"/messages/[^/]+", "/messages/{message_id}", path)
    return re.sub(r"/attachments/\d+", "/attachments/{index}", path)


def _refused(status: int) -> Callable[[httpx.Response], None]:
    def check(r: httpx.Response) -> None:
        assert r.status_code == status, r.text
        assert "error" in r.json()
        assert PDF.decode("latin-1") not in r.text

    return check


def _empty(field: str | None) -> Callable[[httpx.Response], None]:
    def check(r: httpx.Response) -> None:
        assert r.status_code == 200, r.text
        body = r.json()
        assert (body[field] if field else body) == []

    return check


def _ok(r: httpx.Response) -> None:
    assert r.status_code == 200 and r.json()[0]["code"] == H41


# ----------------------------------------------------------------------------- robustness


HOSTILE_QUERIES = [
    ("GET", "/api/v1/inbox?after=9223372036854775808"),
    ("GET", "/api/v1/agencies?offset=9223372036854775808"),
    ("GET", "/api/v1/messages/%00"),
    ("GET", "/api/v1/messages/%00/timeline"),
    ("GET", "/api/v1/messages/%00/attachments/1"),
    ("POST", "/api/v1/messages/%00/ack"),
    ("POST", "/api/v1/messages/%00/status"),
    ("GET", "/api/v1/agencies?q=%00"),
]


@pytest.mark.parametrize(("method", "url"), HOSTILE_QUERIES)
def test_hostile_parameters_are_refused_not_a_server_error(
    hub: Hub, make_edoc: Callable[..., Any], method: str, url: str
) -> None:
    """Regression (found by this suite and schemathesis): a cursor beyond BIGINT (both
    databases) and a NUL byte (PostgreSQL) once reached the database and came back as 500."""
    with TestClient(create_app(hub, start_worker=False), raise_server_exceptions=False) as http:
        w = setup_world(hub, http, make_edoc)
        body = {"agency": G22, "status_code": "01"} if url.endswith("/status") else None
        r = http.request(method, url, headers=w.auth("sys.g22"), json=body)
        assert r.status_code < 500, r.text
        assert r.status_code in (200, 404, 422)


def test_request_validation_errors_use_the_error_shape(world: World) -> None:
    """FastAPI's own request validation answers in the error shape too (REQUEST_INVALID)."""
    r = world.http.get("/api/v1/inbox", params={"limit": 0}, headers=world.auth("sys.g22"))
    assert r.status_code == 422
    error = assert_error(r, "REQUEST_INVALID", 422)
    assert error["field"] == "limit"
    r = world.http.get("/api/v1/messages/not-a-uuid", headers=world.auth("sys.g22"))
    assert assert_error(r, "REQUEST_INVALID", 422)["field"] == "message_id"


def test_invalid_status_code_is_refused(world: World) -> None:
    message_id = world.send("sys.h41", world.edoc(H41, G22))
    world.hub.dispatch_now()
    r = world.http.post(
        f"/api/v1/messages/{message_id}/status",
        json={"agency": G22, "status_code": "99"},
        headers=world.auth("sys.g22"),
    )
    assert r.status_code == 422
    assert world.client("sys.h41").inbox() == []


# ----------------------------------------------------------------------------- OpenAPI & ops


def test_openapi_documents_every_v1_path(world: World) -> None:
    r = world.http.get("/openapi.json")
    assert r.status_code == 200
    spec = r.json()
    documented = {
        (method, path)
        for path, ops in spec["paths"].items()
        for method in ops
        if path.startswith("/api/v1")
    }
    assert documented == V1_PATHS
    # the national platform's API is not part of this document
    assert not any(p.startswith("/sendEdoc") for p in spec["paths"])
    for path, ops in spec["paths"].items():
        for op in ops.values():
            assert op.get("summary"), path
            assert "401" in op["responses"], path
    body = spec["paths"]["/api/v1/packages"]["post"]["requestBody"]["content"]
    assert {"application/xml", "application/octet-stream"} <= set(body)


def test_schemathesis_finds_no_server_error(world: World) -> None:
    """Property-based requests generated from /openapi.json, in-process against the ASGI
    app, with the bearer key of a seeded system; some requests target a real message."""
    schemathesis = pytest.importorskip("schemathesis")
    from hypothesis import HealthCheck, Phase, given, settings
    from hypothesis import strategies as st
    from schemathesis.checks import not_a_server_error

    package = world.edoc(
        H41,
        G22,
        attachments=[
            Attachment(
                name="Tờ trình.pdf", content_type="application/pdf", content=Blob.from_bytes(PDF)
            )
        ],
    )
    message_id = world.send("sys.h41", package)
    world.hub.dispatch_now()
    schema = schemathesis.openapi.from_asgi("/openapi.json", world.http.app)
    headers = world.auth("sys.g22")
    failures: list[str] = []
    statuses: dict[str, set[int]] = {}

    def real_message(case: Any) -> Any:
        if case.path_parameters and "message_id" in case.path_parameters:
            case.path_parameters["message_id"] = message_id
            if "index" in case.path_parameters:
                case.path_parameters["index"] = 1
            if isinstance(case.body, dict) and "agency" in case.body:
                case.body["agency"] = G22
        return case

    def fuzz(label: str, strategy: Any) -> None:
        @given(case=strategy)
        @settings(
            max_examples=50,
            deadline=None,
            derandomize=True,
            phases=[Phase.explicit, Phase.generate, Phase.target],  # no shrinking: bounded
            database=None,
            suppress_health_check=list(HealthCheck),
        )
        def run(case: Any) -> None:
            response = case.call_and_validate(headers=headers, checks=[not_a_server_error])
            statuses.setdefault(label, set()).add(response.status_code)

        try:
            run()
        except Exception as exc:  # collect every operation's failure, then report them all
            failures.append(f"{label}: {str(exc)[:1500]}")

    for result in schema.get_all_operations():
        operation = result.ok()
        if operation.path.startswith("/api/v1"):
            fuzz(
                operation.label,
                st.one_of(operation.as_strategy(), operation.as_strategy().map(real_message)),
            )
    assert not failures, "\n\n".join(failures)
    # the key was used (never 401) and every operation but sending (random bytes are no
    # package) succeeded at least once
    assert len(statuses) == len(V1_PATHS)
    for label, seen in statuses.items():
        assert 401 not in seen, label
        if label == "POST /api/v1/reports":  # a peer hub's call: an agency system is refused
            assert seen <= {403, 422}, seen
        elif label != "POST /api/v1/packages":
            assert any(200 <= s < 300 for s in seen), (label, seen)


def test_health_readiness_and_metrics(world: World) -> None:
    r = world.http.get("/healthz")
    assert (r.status_code, r.json()) == (
        200,
        {"status": "ok", "hub": "lienthong", "role": "provincial"},
    )
    r = world.http.get("/readyz")
    assert (r.status_code, r.json()) == (200, {"status": "ready"})
    world.send("sys.h41", world.edoc(H41, G22))
    world.http.get("/api/v1/inbox", headers={"Authorization": "Bearer lt_wrong"})
    r = world.http.get("/metrics")
    assert r.status_code == 200 and r.headers["content-type"].startswith("text/plain")
    assert "lienthong_accepted_total 1" in r.text
    assert 'lienthong_errors_total{code="AUTH_API_KEY_INVALID"} 1' in r.text
    assert "# TYPE lienthong_accepted_total counter" in r.text
    # the accepted package waits for the dispatcher (no worker in this test)
    assert "# TYPE lienthong_outbox gauge" in r.text
    assert 'lienthong_outbox{state="pending"} 1' in r.text
    world.hub.dispatch_now()
    assert 'lienthong_outbox{state="pending"} 0' in world.http.get("/metrics").text
