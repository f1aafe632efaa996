"""The outbox across restarts and under load (issue 10, point 4), on SQLite and PostgreSQL:

* a process started again releases the relay claims its killed predecessor held (same
  instance id) at once, instead of leaving them to their lease; another live process's
  claims are left alone;
* backpressure: a package that would be relayed to a peer whose backlog is full is refused
  with 503 ``HUB_BUSY`` and ``Retry-After``, nothing written, while packages for elsewhere
  (and resends of accepted ones) still go through.
"""

from __future__ import annotations

import dataclasses
import hashlib
import socket
import threading
import time
import uuid
from collections.abc import Callable, Iterator
from datetime import UTC, datetime, timedelta
from pathlib import Path

import pytest
from fastapi.testclient import TestClient
from sqlalchemy import func, select

from lienthong.edxml.builder import build
from lienthong.edxml.model import DocumentCode, Edoc, Organization
from lienthong.hub import directory, federation, intake
from lienthong.hub.errors import HubError
from lienthong.hub.http.app import create_app
from lienthong.hub.models import Message, OutboxEntry, System
from lienthong.hub.outbox import queue
from lienthong.hub.runtime import Hub
from lienthong.hub.settings import Settings

SENDER = "000.01.31.H41"  # served here
LOCAL = "000.00.00.H41"  # served here
FAR = "000.00.00.G22"  # reached through the default peer "vn"


def _dead_url() -> str:
    """A URL where nothing listens (connections are refused at once)."""
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return f"http://127.0.0.1:{s.getsockname()[1]}"


def _hub(database_url: str, tmp_path: Path, **settings: object) -> Hub:
    return Hub(
        Settings(
            data_dir=tmp_path / "data",
            database_url=database_url,
            blob_url=str(tmp_path / "blobs"),
            hub_id="h41",
            signature_policy="off",
            **settings,  # type: ignore[arg-type]
        )
    )


@pytest.fixture
def provisioned(database_url: str, tmp_path: Path) -> Iterator[tuple[str, str]]:
    """A provincial hub's database with a sender, a local recipient and a default peer that
    does not answer; yields (database url, the sender's API key)."""
    hub = _hub(database_url, tmp_path)
    try:
        with hub.session() as s:
            directory.add_agency(s, code=SENDER, name="UBND phường Hưng Bình")
            directory.add_agency(s, code=LOCAL, name="UBND tỉnh Nghệ An")
            key = directory.add_system(s, system_id="qlvb.xa", agencies=[SENDER]).api_key
            directory.add_system(s, system_id="egov", agencies=[LOCAL])
            federation.add_peer(s, peer_id="vn", url=_dead_url(), api_key="k", serves=["*"])
    finally:
        hub.close()
    yield database_url, key


def _package(make_edoc: Callable[..., Edoc], number: str, to: str) -> bytes:
    return build(
        make_edoc(
            sender=Organization(organ_id=SENDER, organ_name="UBND phường Hưng Bình"),
            recipients=[Organization(organ_id=to, organ_name="Nơi nhận")],
            code=DocumentCode(number, "UBND"),
        )
    )


def _receive(hub: Hub, data: bytes) -> intake.AcceptResult:
    path = hub.tmp_dir / f"{uuid.uuid4().hex}.edxml"
    path.write_bytes(data)
    body = intake.Body(path, hashlib.sha256(data).hexdigest(), len(data))
    with hub.session() as s:
        system = s.get(System, "qlvb.xa")
        assert system is not None
        s.expunge(system)
    return intake.receive(hub, system=system, body=body)


def _relays(hub: Hub) -> list[OutboxEntry]:
    def rows(s: object) -> list[OutboxEntry]:
        return list(
            s.scalars(  # type: ignore[attr-defined]
                select(OutboxEntry).where(OutboxEntry.action == "relay:vn").order_by(OutboxEntry.id)
            )
        )

    return hub.read(rows)


# ------------------------------------------------------------------------ claims at restart


def test_a_restarted_process_releases_its_own_claims_at_once(
    provisioned: tuple[str, str], tmp_path: Path, make_edoc: Callable[..., Edoc]
) -> None:
    database_url, _ = provisioned
    first = _hub(database_url, tmp_path, instance_id="node-1:8080")
    try:
        _receive(first, _package(make_edoc, "1", FAR))
        _receive(first, _package(make_edoc, "2", FAR))
        # node-1 claims both relays (a 60 s lease) and is killed before it settles them;
        # another process, node-2, holds a claim of its own at that moment
        mine = first.run(queue.claim, limit=1, owner="node-1:8080")
        theirs = first.run(queue.claim, limit=1, owner="node-2:8080")
        assert len(mine) == len(theirs) == 1
    finally:
        first.close()  # (a kill: nothing settled)
    before = {e.id: e for e in _relays(first)}
    assert {e.state for e in before.values()} == {"inflight"}

    again = _hub(database_url, tmp_path, instance_id="node-1:8080")
    try:
        again.relayer.breaker.reset()
        again.start_worker()
        # its own claim is tried again now — the peer is down, so it fails and waits for its
        # backoff — long before the 60 s lease would have let anyone take it over
        deadline = time.monotonic() + 20
        while time.monotonic() < deadline:
            entry = next(e for e in _relays(again) if e.id == mine[0].entry_id)
            if entry.attempts == 2 and entry.state == "pending":
                break
            time.sleep(0.1)
        again.stop_worker()
        after = {e.id: e for e in _relays(again)}
    finally:
        again.close()
    released = after[mine[0].entry_id]
    assert released.attempts == 2 and released.state == "pending"
    assert (released.last_error or "").startswith("HUB_RELAY_UNREACHABLE")
    other = after[theirs[0].entry_id]  # node-2 is alive: its claim is left to it
    assert other.state == "inflight" and other.claimed_by == "node-2:8080"
    assert other.attempts == 1


def test_release_claims_of_gives_back_only_that_instances_inflight_entries(
    provisioned: tuple[str, str], tmp_path: Path, make_edoc: Callable[..., Edoc]
) -> None:
    database_url, _ = provisioned
    hub = _hub(database_url, tmp_path)
    try:
        for n in range(3):
            _receive(hub, _package(make_edoc, str(n), FAR))
        hub.run(queue.claim, limit=2, owner="a")
        hub.run(queue.claim, limit=1, owner="b")
        now = datetime.now(UTC)
        assert hub.run(queue.release_claims_of, owner="a", now=now) == 2
        assert hub.run(queue.release_claims_of, owner="a", now=now) == 0
        states = sorted((e.state, e.claimed_by or "") for e in _relays(hub))
        assert states == [("inflight", "b"), ("pending", ""), ("pending", "")]
        # released entries are due now: the next claim takes them (lease not waited for)
        again = hub.run(queue.claim, limit=5, owner="a", now=now + timedelta(seconds=1))
        assert len(again) == 2
    finally:
        hub.close()


# ------------------------------------------------------------------------ backpressure


def test_intake_refuses_with_hub_busy_when_a_peers_backlog_is_full(
    provisioned: tuple[str, str], tmp_path: Path, make_edoc: Callable[..., Edoc]
) -> None:
    database_url, key = provisioned
    hub = _hub(database_url, tmp_path, max_relay_backlog=2)
    try:
        first = _receive(hub, _package(make_edoc, "1", FAR))
        _receive(hub, _package(make_edoc, "2", FAR))
        assert hub.busy_targets(max_age=0) == frozenset({"relay:vn"})
        with pytest.raises(HubError) as refused:
            _receive(hub, _package(make_edoc, "3", FAR))
        assert refused.value.code == "HUB_BUSY" and refused.value.status == 503
        assert refused.value.details["peers"] == ["vn"]
        # nothing of it was written; a resend of an accepted one and a local package pass
        again = _receive(hub, _package(make_edoc, "1", FAR))
        assert again.duplicate and again.message_id == first.message_id
        local = _receive(hub, _package(make_edoc, "4", LOCAL))
        assert not local.duplicate

        with TestClient(create_app(hub, start_worker=False)) as http:
            answer = http.post(
                "/api/v1/packages",
                content=_package(make_edoc, "5", FAR),
                headers={"Authorization": f"Bearer {key}"},
            )
        assert answer.status_code == 503, answer.text
        assert answer.json()["error"]["code"] == "HUB_BUSY"
        assert int(answer.headers["Retry-After"]) > 0
        count = hub.read(lambda s: s.scalar(select(func.count()).select_from(Message)))
        assert count == 3  # 1, 2 and the local one

        # the backlog drains (relayed, or given up): intake takes packages for it again
        with hub.session() as s:
            for e in s.scalars(select(OutboxEntry).where(OutboxEntry.action == "relay:vn")):
                e.state = "done"
        assert hub.busy_targets(max_age=0) == frozenset()
        assert not _receive(hub, _package(make_edoc, "5", FAR)).duplicate
    finally:
        hub.close()


def test_no_backlog_limit_when_set_to_zero(
    provisioned: tuple[str, str], tmp_path: Path, make_edoc: Callable[..., Edoc]
) -> None:
    database_url, _ = provisioned
    hub = _hub(database_url, tmp_path, max_relay_backlog=0)
    try:
        for n in range(3):
            _receive(hub, _package(make_edoc, str(n), FAR))
        assert hub.busy_targets(max_age=0) == frozenset()
        assert len(_relays(hub)) == 3
    finally:
        hub.close()


def test_a_claim_grown_old_before_its_turn_is_given_back_not_posted(
    provisioned: tuple[str, str], tmp_path: Path, make_edoc: Callable[..., Edoc]
) -> None:
    """On a busy machine a round's last claims may wait long for a free sender thread; past
    half the lease they are given back instead of posted (past the lease another process
    could take them over: a double post)."""
    database_url, _ = provisioned
    hub = _hub(database_url, tmp_path, instance_id="me")
    try:
        _receive(hub, _package(make_edoc, "1", FAR))
        _receive(hub, _package(make_edoc, "2", FAR))
        [claimed] = hub.run(queue.claim, limit=1, owner="me")
        # its turn comes 45 s after it was claimed (a 60 s lease)
        old = dataclasses.replace(claimed, claimed_at=datetime.now(UTC) - timedelta(seconds=45))
        [theirs] = hub.run(queue.claim, limit=1, owner="other")
        _pool, client = hub.relayer._http()
        assert hub.relayer._attempt(client, old, timedelta(seconds=30)) is None  # not posted
        hub.run(queue.release, entry_ids=[old.entry_id, theirs.entry_id], owner="me")
        rows = {e.id: e for e in _relays(hub)}
        assert (rows[old.entry_id].state, rows[old.entry_id].attempts) == ("pending", 0)
        assert rows[old.entry_id].last_error is None  # no attempt was made
        assert (rows[theirs.entry_id].state, rows[theirs.entry_id].claimed_by) == (
            "inflight",
            "other",
        )
    finally:
        hub.close()


def test_a_connection_the_peer_closed_while_idle_is_not_a_failed_attempt(
    provisioned: tuple[str, str], tmp_path: Path, make_edoc: Callable[..., Edoc]
) -> None:
    """A kept-alive connection the peer's server closes as we reuse it (its idle timeout; a
    race a busy machine makes likely) fails the request before the peer saw it: the relay
    goes again at once on a new connection instead of counting as a failure with backoff."""
    database_url, _ = provisioned
    server = socket.socket()
    server.bind(("127.0.0.1", 0))
    server.listen()
    seen: list[bytes] = []

    def serve() -> None:
        for n in range(2):
            conn, _ = server.accept()
            with conn:
                conn.settimeout(10)
                data = b""
                while not (n == 0 and b"\r\n\r\n" in data) and not data.endswith(b"0\r\n\r\n"):
                    chunk = conn.recv(1 << 16)
                    if not chunk:
                        break
                    data += chunk
                seen.append(data)
                if n == 1:  # the second connection is answered
                    conn.sendall(
                        b"HTTP/1.1 201 Created\r\ncontent-type: application/json\r\n"
                        b"content-length: 2\r\nconnection: close\r\n\r\n{}"
                    )
                # the first is closed without an answer, as a server closing an idle one

    thread = threading.Thread(target=serve, daemon=True)
    thread.start()
    hub = _hub(database_url, tmp_path)
    try:
        _receive(hub, _package(make_edoc, "1", FAR))
        [claim] = hub.run(queue.claim, limit=1, owner="me")
        url = f"http://127.0.0.1:{server.getsockname()[1]}/api/v1/packages"
        _pool, client = hub.relayer._http()
        outcome = hub.relayer._post(client, dataclasses.replace(claim, url=url))
        assert outcome.ok, outcome
        assert len(seen) == 2 and all(s.startswith(b"POST /api/v1/packages") for s in seen)
    finally:
        thread.join(timeout=10)
        server.close()
        hub.close()
