"""Downloads are safe to open: an attachment's declared content type reaches the response
header only as a plain ``type/subtype`` token, with ``X-Content-Type-Options: nosniff``
(packages too), and the blob is read in the thread pool, never on the event loop."""

from __future__ import annotations

import asyncio
from collections.abc import Iterator
from typing import Any
from urllib.parse import unquote

import pytest
from fastapi.testclient import TestClient

from lienthong.edxml.builder import build
from lienthong.edxml.model import Organization
from lienthong.hub import directory
from lienthong.hub.http.app import create_app
from lienthong.hub.runtime import Hub
from support import new_attachment, new_edoc

H41 = "000.00.00.H41"  # UBND tỉnh Nghệ An
G22 = "000.00.00.G22"  # Văn phòng Chính phủ
TIMEOUT = 120


# ------------------------------------------------------------------------ attachments


class World:
    def __init__(self, hub: Hub, http: TestClient) -> None:
        self.hub = hub
        self.http = http
        with hub.session() as s:
            directory.add_agency(s, code=H41, name="UBND tỉnh Nghệ An")
            directory.add_agency(s, code=G22, name="Văn phòng Chính phủ")
            self.h41 = directory.add_system(s, system_id="sys.h41", agencies=[H41]).api_key
            self.g22 = directory.add_system(s, system_id="sys.g22", agencies=[G22]).api_key

    def send_attachment(
        self,
        content_type: str,
        data: bytes = b"<script>alert(1)</script>",
        name: str = "a.pdf",
    ) -> str:
        package = build(
            new_edoc(
                sender=Organization(organ_id=G22, organ_name="Văn phòng Chính phủ"),
                recipients=[Organization(organ_id=H41, organ_name="UBND tỉnh Nghệ An")],
                attachments=[new_attachment(name=name, data=data, content_type=content_type)],
            )
        )
        r = self.http.post(
            "/api/v1/packages",
            content=package,
            headers={"Authorization": f"Bearer {self.g22}", "Content-Type": "application/xml"},
        )
        assert r.status_code == 201, r.text
        self.hub.dispatch_now()
        message_id: str = r.json()["message_id"]
        return message_id

    def get(self, path: str) -> Any:
        return self.http.get(path, headers={"Authorization": f"Bearer {self.h41}"})


@pytest.fixture
def world(hub: Hub) -> Iterator[World]:
    with TestClient(create_app(hub, start_worker=False), raise_server_exceptions=False) as http:
        yield World(hub, http)


@pytest.mark.parametrize(
    ("declared", "served"),
    [
        ("văn bản/pdf", "application/octet-stream"),  # not ASCII: once a 500
        ("application/pdf", "application/pdf"),
        ("application/vnd.openxmlformats-officedocument.wordprocessingml.document",) * 2,
        ("application/pdf; name=a.pdf", "application/pdf"),  # parameters dropped
        ("text/html", "text/html"),  # a valid token stays, but never sniffed or inline
        ("text/html<script>", "application/octet-stream"),
        ("application/pdf, text/html", "application/octet-stream"),
        ("pdf", "application/octet-stream"),
        ("application/", "application/octet-stream"),
        ("application/pdf/x", "application/octet-stream"),
        ('application/"pdf"', "application/octet-stream"),
    ],
)
def test_attachment_content_type_is_a_plain_token_and_never_sniffed(
    world: World, declared: str, served: str
) -> None:
    message_id = world.send_attachment(declared)
    r = world.get(f"/api/v1/messages/{message_id}/attachments/1")
    assert r.status_code == 200, r.text
    assert r.content == b"<script>alert(1)</script>"
    assert r.headers["content-type"].split(";")[0] == served
    assert r.headers["x-content-type-options"] == "nosniff"
    assert r.headers["content-disposition"].startswith("attachment;")


@pytest.mark.parametrize(
    ("declared", "offered"),
    [
        ("../../etc/cron.d/x.pdf", "x.pdf"),
        ("..\\..\\Windows\\Tờ trình.pdf", "Tờ trình.pdf"),
        ("phụ lục/../..", "attachment-1"),
        ("..", "attachment-1"),
        ('a"b\r\nSet-Cookie: x.pdf', "abSet-Cookie: x.pdf"),
        ("Quyết định 12/QĐ-UBND.pdf", "QĐ-UBND.pdf"),
    ],
)
def test_a_download_name_never_carries_a_folder(world: World, declared: str, offered: str) -> None:
    """Issue 10 §3.7: the name in ``Content-Disposition`` is a bare file name."""
    message_id = world.send_attachment("application/pdf", name=declared)
    r = world.get(f"/api/v1/messages/{message_id}/attachments/1")
    assert r.status_code == 200, r.text
    disposition = r.headers["content-disposition"]
    assert disposition.startswith("attachment; filename*=UTF-8''")
    encoded = disposition.split("''", 1)[1]
    assert "/" not in encoded and "\\" not in encoded and '"' not in encoded
    assert unquote(encoded) == offered


def test_package_response_is_never_sniffed(world: World) -> None:
    message_id = world.send_attachment("application/pdf")
    r = world.get(f"/api/v1/messages/{message_id}")
    assert r.status_code == 200, r.text
    assert r.headers["content-type"].startswith("application/xml")
    assert r.headers["x-content-type-options"] == "nosniff"


def _on_event_loop() -> bool:
    try:
        asyncio.get_running_loop()
    except RuntimeError:
        return False
    return True


class _WatchedStream:
    def __init__(self, inner: Any, reads: list[bool]) -> None:
        self.inner = inner
        self.reads = reads

    def read(self, size: int = -1) -> bytes:
        self.reads.append(_on_event_loop())
        data: bytes = self.inner.read(size)
        return data

    def close(self) -> None:
        self.inner.close()

    def __enter__(self) -> _WatchedStream:
        return self

    def __exit__(self, *exc: object) -> None:
        self.close()


class _WatchedBlobs:
    """The hub's blob store, recording for every read whether it ran on the event loop."""

    def __init__(self, inner: Any) -> None:
        self.inner = inner
        self.reads: list[bool] = []

    def open(self, key: str) -> _WatchedStream:
        return _WatchedStream(self.inner.open(key), self.reads)

    def __getattr__(self, name: str) -> Any:
        return getattr(self.inner, name)


def test_attachment_blob_is_read_off_the_event_loop(
    world: World, monkeypatch: pytest.MonkeyPatch
) -> None:
    data = b"%PDF-1.7\n" + bytes(range(256)) * 4096 + b"\n%%EOF\n"  # > one 1 MiB chunk
    message_id = world.send_attachment("application/pdf", data)
    watched = _WatchedBlobs(world.hub.blobs)
    monkeypatch.setattr(world.hub, "blobs", watched)
    r = world.get(f"/api/v1/messages/{message_id}/attachments/1")
    assert r.status_code == 200, r.text
    assert r.content == data
    assert len(watched.reads) >= 2, "the blob was not read through the store"
    assert not any(watched.reads), "the blob was read on the event loop"
    assert not list(world.hub.tmp_dir.glob("att-*")), "the spooled package was left behind"
