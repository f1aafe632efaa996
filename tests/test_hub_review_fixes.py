"""Regressions from the security review of the hub:

* ``audit.verify`` on a live hub (appends committing while it reads) reports no tampering,
  and a record slipped in past the head is still caught;
* hub processes starting together on an empty PostgreSQL all migrate it (no UniqueViolation);
* an attachment's declared content type reaches the response header only as a plain
  ``type/subtype`` token, with ``X-Content-Type-Options: nosniff`` (packages too);
* an attachment's blob is read in the thread pool, never on the event loop.
"""

from __future__ import annotations

import asyncio
import subprocess
import sys
import threading
import uuid
from collections.abc import Iterator
from datetime import UTC, datetime
from typing import Any

import pytest
from fastapi.testclient import TestClient
from sqlalchemy import select, text

from conftest import PG_URL, _schema_url, new_attachment, new_edoc, postgresql_reachable
from lienthong.core.db import make_engine
from lienthong.edxml.builder import build
from lienthong.edxml.model import Organization
from lienthong.hub import audit, directory
from lienthong.hub.http.app import create_app
from lienthong.hub.models import AuditEvent, AuditHead
from lienthong.hub.runtime import Hub

H41 = "000.00.00.H41"  # UBND tỉnh Nghệ An
G22 = "000.00.00.G22"  # Văn phòng Chính phủ
TIMEOUT = 120


# ------------------------------------------------------------------------------ audit


@pytest.mark.parametrize("database_url", ["postgresql"], indirect=True)
def test_verify_while_appends_continue_reports_no_tampering(hub: Hub) -> None:
    def one(s: Any) -> None:
        audit.append(s, event=audit.Event.FETCHED, agency_code=H41)

    def many(s: Any) -> None:  # a longer chain: each verify reads for a while
        for _ in range(1500):
            one(s)

    hub.run(many)
    stop = threading.Event()
    appended = 0
    errors: list[BaseException] = []

    def writer() -> None:
        nonlocal appended
        try:
            while not stop.is_set():
                hub.run(one)
                appended += 1
        except BaseException as exc:  # surfaced below
            errors.append(exc)

    thread = threading.Thread(target=writer)
    thread.start()
    try:
        results = []
        for _ in range(25):
            with hub.session() as s:
                results.append(audit.verify(s))
            results.append(hub.read(audit.verify))
    finally:
        stop.set()
        thread.join(TIMEOUT)
    assert not errors
    assert appended > 0, "the writer never appended while verifying"
    bad = [(r.reason, r.first_bad_seq) for r in results if not r.ok]
    assert bad == []
    assert all(r.records >= 1500 for r in results)
    with hub.session() as s:
        final = audit.verify(s)
    assert final.ok and final.records == 1500 + appended


def test_a_record_past_the_head_is_still_detected(hub: Hub) -> None:
    """Verify reads up to the head only; a record written behind append()'s back (the head
    left alone) must not go unnoticed for that."""
    for _ in range(3):
        hub.run(lambda s: audit.append(s, event=audit.Event.FETCHED, agency_code=H41))
    with hub.session() as s:
        head = s.get(AuditHead, 1)
        assert head is not None and head.seq == 3
        at = datetime.now(UTC)
        detail = '{"forged":true}'
        canonical = audit._canonical(4, at, audit.Event.REVOKED, None, H41, None, detail)
        s.add(
            AuditEvent(
                seq=4,
                at=at,
                event=audit.Event.REVOKED,
                message_id=None,
                agency_code=H41,
                system_id=None,
                detail=detail,
                prev_hash=head.hash,
                hash=audit.chain_hash(head.hash, canonical),
            )
        )
    with hub.session() as s:
        result = audit.verify(s)
    assert not result.ok
    assert result.first_bad_seq == 4
    assert result.reason == "records past the head"


# ------------------------------------------------------------------------- migrations

_MIGRATE = """
import sys
from lienthong.core.db import make_engine, migrate
from lienthong.hub.runtime import MIGRATIONS
engine = make_engine(sys.argv[1])
with engine.connect():
    pass
print("ready", flush=True)
sys.stdin.readline()
migrate(engine, MIGRATIONS)
engine.dispose()
print("migrated", flush=True)
"""


@pytest.fixture
def empty_pg_schema() -> Iterator[str]:
    if not postgresql_reachable():
        pytest.skip("no PostgreSQL reachable at LIENTHONG_TEST_DATABASE_URL")
    schema = f"lt_{uuid.uuid4().hex[:12]}"
    admin = make_engine(PG_URL)
    with admin.begin() as conn:
        conn.exec_driver_sql(f'CREATE SCHEMA "{schema}"')
    try:
        yield _schema_url(schema)
    finally:
        with admin.begin() as conn:
            conn.exec_driver_sql(f'DROP SCHEMA "{schema}" CASCADE')
        admin.dispose()


def test_three_processes_migrate_an_empty_postgresql_together(empty_pg_schema: str) -> None:
    procs = [
        subprocess.Popen(
            [sys.executable, "-c", _MIGRATE, empty_pg_schema],
            stdin=subprocess.PIPE,
            stdout=subprocess.PIPE,
            stderr=subprocess.PIPE,
            text=True,
        )
        for _ in range(3)
    ]
    try:
        for p in procs:  # all imported and connected ...
            assert p.stdout is not None
            assert p.stdout.readline().strip() == "ready"
        for p in procs:  # ... then released at once
            assert p.stdin is not None
            p.stdin.write("go\n")
            p.stdin.flush()
        outcomes = [p.communicate(timeout=TIMEOUT) for p in procs]
    finally:
        for p in procs:
            if p.poll() is None:
                p.kill()
                p.wait()
    for p, (out, err) in zip(procs, outcomes, strict=True):
        assert p.returncode == 0, err
        assert out.strip() == "migrated"
    engine = make_engine(empty_pg_schema)
    try:
        with engine.connect() as conn:
            versions = conn.execute(text("SELECT version_num FROM alembic_version")).all()
            assert len(versions) == 1
            conn.execute(select(AuditHead)).all()  # the schema is there
    finally:
        engine.dispose()


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

    def send_attachment(self, content_type: str, data: bytes = b"<script>alert(1)</script>") -> str:
        package = build(
            new_edoc(
                sender=Organization(organ_id=G22, organ_name="Văn phòng Chính phủ"),
                recipients=[Organization(organ_id=H41, organ_name="UBND tỉnh Nghệ An")],
                attachments=[new_attachment(name="a.pdf", data=data, content_type=content_type)],
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
