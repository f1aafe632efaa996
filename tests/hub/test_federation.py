"""Two hubs relaying to each other over real HTTP: a commune of a province reaches a
ministry through the national hub, the ministry's status comes back the same way; loops
are refused; an unreachable peer is retried with backoff; refusals become dead letters."""

from __future__ import annotations

import hashlib
import random
import re
import socket
import time
from collections import Counter
from collections.abc import Iterator
from dataclasses import dataclass
from datetime import UTC, datetime, timedelta
from pathlib import Path
from typing import Any

import httpx
import pytest

from lienthong.client.rest import HubClient
from lienthong.devnet.network import start_server
from lienthong.edxml.builder import build, now_timestamp
from lienthong.edxml.model import (
    DocumentCode,
    Edoc,
    Organization,
    PromulgationInfo,
    ResponseFor,
    Status,
)
from lienthong.edxml.parser import parse
from lienthong.hub import directory, federation, intake, sealed
from lienthong.hub.models import OutboxEntry
from lienthong.hub.outbox import queue
from lienthong.hub.runtime import Hub
from lienthong.hub.settings import Settings, SignaturePolicy
from lienthong.protocol import hops

COMMUNE = "000.01.31.H41"  # UBND phường Hưng Bình, behind the provincial hub
MINISTRY = "000.00.00.G22"  # Văn phòng Chính phủ, at the national hub


def _port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return int(s.getsockname()[1])


@dataclass
class Net:
    national: Hub
    provincial: Hub
    n_url: str
    p_url: str
    commune_key: str
    ministry_key: str


@pytest.fixture
def net(tmp_path: Path) -> Iterator[Net]:
    n_port, p_port = _port(), _port()
    national = Hub(Settings(data_dir=tmp_path / "n", hub_id="vn", signature_policy="off"))
    provincial = Hub(Settings(data_dir=tmp_path / "p", hub_id="h41", signature_policy="off"))
    n_url, p_url = f"http://127.0.0.1:{n_port}", f"http://127.0.0.1:{p_port}"
    with national.session() as s:
        directory.add_agency(s, code=MINISTRY, name="Văn phòng Chính phủ")
        directory.add_agency(s, code="000.00.00.H41", name="UBND tỉnh Nghệ An")
        # what `agency register-up` and `agency sync` keep aligned: a peer sends only as
        # agencies the receiving hub knows
        directory.add_agency(s, code=COMMUNE, name="UBND phường Hưng Bình")
        ministry = directory.add_system(s, system_id="qlvb.g22", agencies=[MINISTRY])
        from_p = directory.add_system(s, system_id="hub.h41", agencies=["000.00.00.H41"])
        from_p.system.peer = True
    with provincial.session() as s:
        directory.add_agency(s, code="000.00.00.H41", name="UBND tỉnh Nghệ An")
        directory.add_agency(s, code=COMMUNE, name="UBND phường Hưng Bình")
        directory.add_agency(s, code=MINISTRY, name="Văn phòng Chính phủ")
        commune = directory.add_system(s, system_id="qlvb.xa", agencies=[COMMUNE])
        from_n = directory.add_system(s, system_id="hub.vn", agencies=["000.00.00.H41"])
        from_n.system.peer = True
        federation.add_peer(s, peer_id="vn", url=n_url, api_key=from_p.api_key, serves=["*"])
    with national.session() as s:
        federation.add_peer(s, peer_id="h41", url=p_url, api_key=from_n.api_key, serves=["H41"])
    servers = [start_server(national, n_port), start_server(provincial, p_port)]
    try:
        yield Net(national, provincial, n_url, p_url, commune.api_key, ministry.api_key)
    finally:
        for server in servers:
            server.should_exit = True
        national.close()
        provincial.close()


def _peer_key(s: Any, peer_id: str) -> str:
    peer = s.get(federation.Peer, peer_id)
    assert peer is not None
    return sealed.peer_key(s, peer)


def _document(number: str, to: str = MINISTRY) -> bytes:
    return build(
        Edoc(
            sender=Organization(organ_id=COMMUNE, organ_name="UBND phường Hưng Bình"),
            recipients=[Organization(organ_id=to)],
            code=DocumentCode(number, "UBND"),
            promulgation=PromulgationInfo("Vinh", "2026/11/27"),
            subject="Báo cáo tình hình chuyển đổi số của phường",
        )
    )


def _busy(hub: Hub) -> bool:
    """Work the hub still has to do now (its own worker thread may be doing it)."""
    now = datetime.now(UTC)
    with hub.session() as s:
        for e in s.query(OutboxEntry).filter(OutboxEntry.state.in_(["pending", "inflight"])):
            due = e.next_at.replace(tzinfo=UTC) if e.next_at.tzinfo is None else e.next_at
            if e.state == "inflight" or due <= now:
                return True
    return False


def _settle_all(*hubs: Hub) -> None:
    """Run dispatch and relays until both hubs are idle (bounded: the servers' own
    workers run too, so an entry may be in flight in another thread for a moment)."""
    deadline = time.monotonic() + 20
    while time.monotonic() < deadline:
        moved = sum(h.dispatch_now() + h.relay_now() for h in hubs)
        if not moved and not any(_busy(h) for h in hubs):
            return
        time.sleep(0.05)
    raise AssertionError("the hubs did not settle")


def test_a_document_and_its_status_cross_two_hubs(net: Net) -> None:
    commune = HubClient(net.p_url, net.commune_key)
    ministry = HubClient(net.n_url, net.ministry_key)
    package = _document("11")
    sent = commune.send(package)
    assert sent["recipients"][0]["state"] == "queued"
    _settle_all(net.provincial, net.national)
    inbox = ministry.inbox(kind="edoc")
    assert len(inbox) == 1 and inbox[0]["sender"] == COMMUNE
    national_id = inbox[0]["message_id"]
    delivered = ministry.fetch(national_id)
    # the sender's bytes, plus one TraceHeader per hub it passed through (this one last)
    trace = [(t.organ_id, t.timestamp) for t in parse(delivered).trace_headers]
    assert [organ for organ, _ in trace] == [COMMUNE, "h41", "vn"]
    assert all(re.fullmatch(r"\d{4}/\d\d/\d\d \d\d:\d\d:\d\d", at or "") for _, at in trace)
    added = re.sub(
        rb"<edXML:TraceHeader><edXML:OrganId>(h41|vn)</edXML:OrganId>.*?</edXML:TraceHeader>",
        b"",
        delivered,
    )
    assert added == package
    ministry.ack(national_id)
    ministry.status(national_id, agency=MINISTRY, status_code="03", description="Đã vào sổ")
    _settle_all(net.national, net.provincial)
    statuses = commune.inbox(kind="status")
    assert len(statuses) == 1 and statuses[0]["sender"] == MINISTRY
    assert statuses[0]["status_code"] == "03"
    timeline = commune.timeline(sent["message_id"])
    assert timeline["recipients"][0]["state"] == "relayed"
    # resending the same package through the same route creates nothing new anywhere
    again = commune.send(package)
    assert again["duplicate"] is True and again["message_id"] == sent["message_id"]
    _settle_all(net.provincial, net.national)
    assert len(ministry.inbox(kind="edoc")) == 0


def test_a_route_back_where_the_package_came_from_is_refused_and_becomes_a_dead_letter(
    net: Net,
) -> None:
    with net.national.session() as s:  # misconfiguration: H53 sent back to the province
        federation.add_peer(
            s,
            peer_id="h41",
            url=net.p_url,
            api_key=_peer_key(s, "h41"),
            serves=["H41", "H53"],
        )
    commune = HubClient(net.p_url, net.commune_key)
    sent = commune.send(_document("12", to="000.00.00.H53"))
    _settle_all(net.provincial, net.national)
    with net.provincial.session() as s:
        dead = queue.dead_letters(s)
    assert len(dead) == 1 and (dead[0].last_error or "").startswith("HUB_NO_ROUTE")
    with net.national.session() as s:
        assert queue.dead_letters(s) == []  # refused at once, never sent back
    recipient = commune.timeline(sent["message_id"])["recipients"][0]
    assert recipient["state"] == "failed" and recipient["failure_code"] == "HUB_RELAY_REFUSED"


def test_a_package_that_already_passed_through_this_hub_is_refused(net: Net) -> None:
    with net.national.session() as s:
        key = _peer_key(s, "h41")  # the national hub's key on the province
    response = httpx.post(
        f"{net.p_url}/api/v1/packages",
        content=_document("15"),
        headers={"Authorization": f"Bearer {key}", hops.HOPS_HEADER: "h41,vn"},
    )
    assert response.status_code == 422
    assert response.json()["error"]["code"] == "HUB_LOOP"


def test_an_unreachable_peer_is_retried_with_backoff_not_hammered(tmp_path: Path, net: Net) -> None:
    with net.provincial.session() as s:
        federation.add_peer(
            s, peer_id="vn", url=f"http://127.0.0.1:{_port()}", api_key="x", serves=["*"]
        )
    commune = HubClient(net.p_url, net.commune_key)
    commune.send(_document("13"))
    deadline = time.monotonic() + 20
    while _busy(net.provincial) and time.monotonic() < deadline:
        net.provincial.relay_now()  # the hub's own worker may be the one that tries
        time.sleep(0.02)
    for _ in range(10):  # hammering the queue does not bring the next try forward
        net.provincial.relay_now()
    with net.provincial.session() as s:
        entry = s.query(OutboxEntry).filter(OutboxEntry.action == "relay:vn").one()
        assert entry.state == "pending" and entry.attempts == 1
        assert (entry.last_error or "").startswith("HUB_RELAY_UNREACHABLE")
        due = entry.next_at.replace(tzinfo=UTC) if entry.next_at.tzinfo is None else entry.next_at
        assert due > datetime.now(UTC)


def test_backoff_grows_exponentially_with_bounded_jitter() -> None:
    rng = random.Random(7)
    waits = [queue.backoff(n, rng=rng) for n in range(1, 12)]
    for n, wait in enumerate(waits, start=1):
        base = min(queue.BACKOFF_CAP, queue.BACKOFF_BASE * 2 ** (n - 1))
        assert base * 0.5 <= wait <= base * 1.5
    assert waits[-1] <= queue.BACKOFF_CAP * 1.5
    assert waits[0] < timedelta(seconds=4) < waits[3]


def test_a_dead_letter_can_be_replayed(net: Net) -> None:
    with net.provincial.session() as s:
        federation.add_peer(s, peer_id="vn", url=net.n_url, api_key="wrong-key", serves=["*"])
    commune = HubClient(net.p_url, net.commune_key)
    commune.send(_document("14"))
    net.provincial.relay_now()
    with net.provincial.session() as s:
        entry = s.query(OutboxEntry).filter(OutboxEntry.action == "relay:vn").one()
        entry.created_at = datetime.now(UTC) - queue.LIFETIME - timedelta(minutes=1)
        entry.next_at = datetime.now(UTC)
    net.provincial.relayer.breaker.reset()  # and the peer's own wait is over
    # still refused (401 is retried) and now past its lifetime: given up — by this call or
    # by the hub's own worker, which may hold the entry at this moment (bounded wait)
    deadline = time.monotonic() + 20
    while not net.provincial.read(queue.dead_letters) and time.monotonic() < deadline:
        net.provincial.relay_now()
        time.sleep(0.05)
    with net.provincial.session() as s:
        [dead] = queue.dead_letters(s)
        assert (dead.last_error or "").startswith("HUB_RELAY_EXPIRED")
        good = s.get(federation.Peer, "vn")
        assert good is not None
        with net.national.session() as ns:
            key = directory.add_system(ns, system_id="hub.h41", agencies=["000.00.00.H41"])
            key.system.peer = True
        federation.add_peer(s, peer_id="vn", url=net.n_url, api_key=key.api_key, serves=["*"])
        queue.replay(s, entry_id=dead.id)
    _settle_all(net.provincial, net.national)
    assert len(HubClient(net.n_url, net.ministry_key).inbox(kind="edoc")) == 1


def _unused(*_: Any) -> None:  # keep imports used by type checkers honest
    _ = (Status, ResponseFor, now_timestamp)


def test_dead_letters_are_listed_shown_and_replayed_from_the_cli(tmp_path: Path) -> None:
    import json

    from typer.testing import CliRunner

    from lienthong.cli import app

    data = str(tmp_path / "hub")
    hub = Hub(Settings(data_dir=Path(data), hub_id="h41"))
    try:
        with hub.session() as s:
            directory.add_agency(s, code=COMMUNE, name="UBND phường Hưng Bình")
            key = directory.add_system(s, system_id="qlvb.xa", agencies=[COMMUNE]).api_key
    finally:
        hub.close()
    runner = CliRunner()
    added = runner.invoke(
        app,
        [
            "peer",
            "add",
            "vn",
            "--url",
            f"http://127.0.0.1:{_port()}",
            "--api-key",
            "k",
            "--serves",
            "*",
            "--data-dir",
            data,
        ],
    )
    assert added.exit_code == 0, added.output
    hub = Hub(Settings(data_dir=Path(data), hub_id="h41"))
    try:
        from fastapi.testclient import TestClient

        from lienthong.hub.http.app import create_app

        with TestClient(create_app(hub, start_worker=False)) as http:
            HubClient("http://testserver", key, http=http).send(_document("15"))
        with hub.session() as s:  # pretend the peer refused it for good
            entry = s.query(OutboxEntry).filter(OutboxEntry.action == "relay:vn").one()
            entry.state, entry.last_error = "dead", "HUB_LOOP: HTTP 422"
            entry_id = entry.id
    finally:
        hub.close()
    listed = runner.invoke(app, ["deadletter", "list", "--json", "--data-dir", data])
    assert listed.exit_code == 0
    assert [r["id"] for r in json.loads(listed.output)] == [entry_id]
    shown = runner.invoke(app, ["deadletter", "show", str(entry_id), "--data-dir", data])
    assert "HUB_LOOP" in shown.output
    replayed = runner.invoke(app, ["deadletter", "replay", str(entry_id), "--data-dir", data])
    assert replayed.exit_code == 0
    assert (
        json.loads(runner.invoke(app, ["deadletter", "list", "--json", "--data-dir", data]).output)
        == []
    )
    missing = runner.invoke(app, ["deadletter", "replay", "999", "--data-dir", data])
    assert missing.exit_code == 2 and "DEADLETTER_NOT_FOUND" in missing.output


def test_a_package_the_peer_refuses_for_good_goes_to_dead_letters_and_the_rest_flows(
    net: Net, caplog: pytest.LogCaptureFixture
) -> None:
    import logging

    from fpdf import FPDF

    caplog.set_level(logging.INFO, logger="lienthong.hub")

    from lienthong.edxml.attachments import Blob
    from lienthong.edxml.model import Attachment

    net.national.settings = net.national.settings.with_(signature_policy="require")
    doc = FPDF()
    doc.add_page()
    doc.set_font("helvetica", size=12)
    doc.cell(0, 10, "unsigned")
    poisoned = build(
        Edoc(
            sender=Organization(organ_id=COMMUNE),
            recipients=[Organization(organ_id=MINISTRY)],
            code=DocumentCode("90", "UBND"),
            promulgation=PromulgationInfo("Vinh", "2026/11/27"),
            subject="Văn bản PDF chưa ký",
            attachments=[
                Attachment(
                    name="chua-ky.pdf",
                    content_type="application/pdf",
                    content=Blob.from_bytes(bytes(doc.output())),
                )
            ],
        )
    )
    commune = HubClient(net.p_url, net.commune_key)
    bad = commune.send(poisoned)
    good = [commune.send(_document(str(n))) for n in range(91, 94)]
    _settle_all(net.provincial, net.national)
    with net.provincial.session() as s:
        dead = queue.dead_letters(s)
    assert [d.message_id for d in dead] == [bad["message_id"]]
    assert (dead[0].last_error or "").startswith("HUB_SIGNATURE_REQUIRED")
    assert commune.timeline(bad["message_id"])["recipients"][0]["state"] == "failed"
    assert all(
        commune.timeline(g["message_id"])["recipients"][0]["state"] == "relayed" for g in good
    )
    assert len(HubClient(net.n_url, net.ministry_key).inbox(kind="edoc")) == 3
    # given up for good: an operator must look, so it is logged as a warning, and counted
    warned = {r.msg for r in caplog.records if r.levelno == logging.WARNING}
    assert {"relay.refused", "relay.dead_letter"} <= warned
    assert 'lienthong_relay_dead_total{code="HUB_SIGNATURE_REQUIRED"} 1' in (
        net.provincial.metrics.render().splitlines()
    )


def test_a_document_revoked_before_it_left_is_not_relayed(net: Net) -> None:
    with net.provincial.session() as s:  # the national hub is unreachable for now
        federation.add_peer(
            s, peer_id="vn", url=f"http://127.0.0.1:{_port()}", api_key="x", serves=["*"]
        )
    commune = HubClient(net.p_url, net.commune_key)
    original = _document("31")
    commune.send(original)
    deadline = time.monotonic() + 20
    while _busy(net.provincial) and time.monotonic() < deadline:
        net.provincial.relay_now()
        time.sleep(0.02)
    revocation = original.replace(b"<edXML:BussinessDocType>0<", b"<edXML:BussinessDocType>1<")
    commune.send(revocation)
    with net.provincial.session() as s:
        entries = s.query(OutboxEntry).filter(OutboxEntry.action == "relay:vn").all()
        for e in entries:
            e.next_at = datetime.now(UTC)
    net.provincial.relayer.breaker.reset()  # and the peer's own wait is over
    net.provincial.relay_now()
    with net.provincial.session() as s:
        states = {
            e.id: (e.state, e.attempts)
            for e in s.query(OutboxEntry).filter(OutboxEntry.action == "relay:vn")
        }
    assert all(state == "done" for state, _ in states.values()), states
    assert max(attempts for _, attempts in states.values()) == 1  # nothing posted again


def test_a_backlog_for_one_peer_does_not_hold_up_the_others(hub: Any, tmp_path: Path) -> None:
    """The national hub after one province's outage: its backlog for that province is
    claimed side by side with the others', not before them."""

    with hub.session() as s:
        directory.add_agency(s, code=MINISTRY, name="Văn phòng Chính phủ")
        directory.add_system(s, system_id="qlvb.g22", agencies=[MINISTRY])
        federation.add_peer(s, peer_id="h41", url="http://h41.invalid", api_key="k", serves=["H41"])
        federation.add_peer(s, peer_id="h42", url="http://h42.invalid", api_key="k", serves=["H42"])

    def send(n: int, to: str) -> None:
        data = build(
            Edoc(
                sender=Organization(organ_id=MINISTRY),
                recipients=[Organization(organ_id=to)],
                code=DocumentCode(str(n), "VPCP"),
                promulgation=PromulgationInfo("Hà Nội", "2026/11/27"),
                subject="Công văn gửi các tỉnh",
            )
        )
        path = tmp_path / f"{n}.edxml"
        path.write_bytes(data)
        body = intake.Body(path, hashlib.sha256(data).hexdigest(), len(data))
        with hub.session() as s:
            system = directory.get_system(s, system_id="qlvb.g22")
            intake.accept(
                s,
                system=system,
                body=body,
                blobs=hub.blobs,
                limits=hub.limits,
                signature_policy=SignaturePolicy.OFF,
            )

    for n in range(40):
        send(n, "000.00.00.H41")
    send(99, "000.00.00.H42")
    with hub.session() as s:
        claimed = queue.claim(s, limit=8)
    by_target = Counter(c.target_id for c in claimed)
    assert by_target == {"h41": 4, "h42": 1}  # an even share each, oldest first within it


def test_a_peer_that_relays_to_us_is_up_so_our_queue_for_it_goes_now(
    hub: Any, tmp_path: Path
) -> None:
    """After an outage we wait for a probe; but a relay *from* that peer proves it is up."""
    from fastapi.testclient import TestClient

    from lienthong.hub.http.app import create_app
    from lienthong.hub.outbox.queue import Outcome

    with hub.session() as s:
        directory.add_agency(s, code="000.00.00.H41", name="UBND tỉnh Nghệ An")
        directory.add_agency(s, code=COMMUNE, name="UBND phường Hưng Bình")
        directory.add_agency(s, code=MINISTRY, name="Văn phòng Chính phủ")
        commune = directory.add_system(s, system_id="qlvb.xa", agencies=[COMMUNE])
        from_vn = directory.add_system(s, system_id="hub.vn", agencies=["000.00.00.H41"])
        from_vn.system.peer = True
        federation.add_peer(s, peer_id="vn", url="http://vn.invalid", api_key="k", serves=["*"])
    with TestClient(create_app(hub, start_worker=False)) as http:
        auth = {"Authorization": f"Bearer {commune.api_key}"}
        assert http.post("/api/v1/packages", content=_document("41"), headers=auth).is_success
        with hub.session() as s:
            [c] = queue.claim(s)
            queue.settle(s, entry_id=c.entry_id, outcome=Outcome(ok=False, code="X"))
        hub.relayer.breaker.record("relay:vn", Outcome(ok=False, code="X"))
        assert hub.relayer.breaker.failing("relay:vn")

        # an agency system may not claim hops; the peer hub may
        hop_header = {hops.HOPS_HEADER: "vn@1795764601"}
        refused = http.post(
            "/api/v1/packages", content=_document("43"), headers={**auth, **hop_header}
        )
        assert refused.status_code == 403
        assert refused.json()["error"]["code"] == "HUB_HOPS_FORBIDDEN"
        assert hub.relayer.breaker.failing("relay:vn")
        peer_auth = {"Authorization": f"Bearer {from_vn.api_key}", **hop_header}
        from_ministry = build(
            Edoc(
                sender=Organization(organ_id=MINISTRY),
                recipients=[Organization(organ_id=COMMUNE)],
                code=DocumentCode("42", "VPCP"),
                promulgation=PromulgationInfo("Hà Nội", "2026/11/27"),
                subject="Công văn gửi phường",
            )
        )
        r = http.post("/api/v1/packages", content=from_ministry, headers=peer_auth)
        assert r.status_code == 201, r.text
    assert not hub.relayer.breaker.failing("relay:vn")
    with hub.session() as s:
        entry = s.query(OutboxEntry).filter(OutboxEntry.action == "relay:vn").one()
        due = entry.next_at.replace(tzinfo=UTC) if entry.next_at.tzinfo is None else entry.next_at
        assert entry.state == "pending" and due <= datetime.now(UTC)


def test_peer_add_refuses_an_id_that_is_not_the_peers_hub_id(net: Net, tmp_path: Path) -> None:
    from typer.testing import CliRunner

    from lienthong.cli import app

    def add(peer_id: str) -> Any:
        args = ["peer", "add", peer_id, "--url", net.n_url, "--api-key", "k", "--serves", "*"]
        return CliRunner().invoke(app, [*args, "--data-dir", str(tmp_path / "h")])

    wrong = add("national")  # the national hub of the fixture calls itself "vn"
    assert wrong.exit_code == 1 and "'vn'" in wrong.output
    right = add("vn")
    assert right.exit_code == 0, right.output
