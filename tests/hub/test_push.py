"""Delivery by push to an agency system's callback URL, besides pull: signed, retried with
backoff, and a failed push never takes the document out of the inbox."""

from __future__ import annotations

import hashlib
import re
import threading
from collections.abc import Iterator
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from pathlib import Path
from typing import Any

import pytest

from lienthong.edxml.builder import build
from lienthong.edxml.model import DocumentCode, Edoc, Organization, PromulgationInfo
from lienthong.edxml.parser import parse
from lienthong.hub import directory, intake
from lienthong.hub.models import Delivery, OutboxEntry
from lienthong.hub.settings import SignaturePolicy
from lienthong.protocol.push import verify_push


class Receiver:
    def __init__(self, status: int = 200) -> None:
        self.status = status
        self.received: list[tuple[dict[str, str], bytes]] = []
        receiver = self

        class Handler(BaseHTTPRequestHandler):
            def do_POST(self) -> None:
                body = self.rfile.read(int(self.headers["Content-Length"]))
                receiver.received.append((dict(self.headers), body))
                self.send_response(receiver.status)
                self.end_headers()

            def log_message(self, *_: Any) -> None:
                pass

        self.server = ThreadingHTTPServer(("127.0.0.1", 0), Handler)
        self.url = f"http://127.0.0.1:{self.server.server_address[1]}/lienthong"
        threading.Thread(target=self.server.serve_forever, daemon=True).start()

    def close(self) -> None:
        self.server.shutdown()


@pytest.fixture
def receiver() -> Iterator[Receiver]:
    r = Receiver()
    yield r
    r.close()


def _send(hub: Any, tmp_path: Path, callback: str) -> tuple[str, bytes, str]:
    with hub.session() as s:
        directory.add_agency(s, code="000.00.00.H41", name="UBND tỉnh Nghệ An")
        directory.add_agency(s, code="000.00.00.G22", name="Văn phòng Chính phủ")
        directory.add_system(s, system_id="h41", agencies=["000.00.00.H41"])
        secret = directory.add_system(
            s, system_id="g22", agencies=["000.00.00.G22"], callback_url=callback
        ).secret
    data = build(
        Edoc(
            sender=Organization(organ_id="000.00.00.H41"),
            recipients=[Organization(organ_id="000.00.00.G22")],
            code=DocumentCode("21", "UBND-VX"),
            promulgation=PromulgationInfo("Vinh", "2026/11/27"),
            subject="Về việc đẩy văn bản tới hệ thống nhận",
        )
    )
    path = tmp_path / "p.edxml"
    path.write_bytes(data)
    with hub.session() as s:
        system = directory.get_system(s, system_id="h41")
        body = intake.Body(path, hashlib.sha256(data).hexdigest(), len(data))
        message_id = intake.accept(
            s,
            system=system,
            body=body,
            blobs=hub.blobs,
            limits=hub.limits,
            signature_policy=SignaturePolicy.OFF,
        ).message_id
    hub.dispatch_now()
    return message_id, data, secret


def _state(hub: Any, message_id: str) -> str:
    with hub.session() as s:
        return str(s.query(Delivery).filter(Delivery.message_id == message_id).one().state)


def test_a_system_with_a_callback_gets_the_package_pushed_and_signed(
    hub: Any, tmp_path: Path, receiver: Receiver
) -> None:
    message_id, data, secret = _send(hub, tmp_path, receiver.url)
    assert hub.relay_now() == 1
    [(headers, body)] = receiver.received
    assert headers["X-Lienthong-Message-Id"] == message_id
    # as a fetch gives it: the sender's bytes plus this hub's TraceHeader
    assert [t.organ_id for t in parse(body).trace_headers] == ["000.00.00.H41", "lienthong"]
    mine = rb"<edXML:TraceHeader><edXML:OrganId>lienthong</edXML:OrganId>.*?</edXML:TraceHeader>"
    assert re.sub(mine, b"", body) == data
    push = verify_push(secret, body, headers)  # when, which message and the bytes
    assert (push.message_id, push.kind) == (message_id, "edoc")
    assert _state(hub, message_id) == "fetched"


def test_a_failing_callback_is_retried_later_and_the_inbox_keeps_the_document(
    hub: Any, tmp_path: Path
) -> None:
    down = Receiver(status=503)
    try:
        message_id, _data, _secret = _send(hub, tmp_path, down.url)
        assert hub.relay_now() == 1
        assert hub.relay_now() == 0  # waits for its backoff
        with hub.session() as s:
            entry = s.query(OutboxEntry).filter(OutboxEntry.action == "push:g22").one()
            assert entry.state == "pending" and entry.attempts == 1
        assert _state(hub, message_id) == "available"  # still there for pull
    finally:
        down.close()
