"""(d) Two processes of one provincial hub share one PostgreSQL database (behind a load
balancer, say): both take documents in, both relay from the same outbox to the national
hub — and the national hub receives every package exactly once."""

from __future__ import annotations

import threading
from collections import Counter
from pathlib import Path

import pytest
from gate import Gate
from netkit import GOVERNMENT_OFFICE, document, report, three_hubs, wait_until
from sqlalchemy import func, select

from lienthong.client.rest import HubClient
from lienthong.core.db import make_engine
from lienthong.devnet import network
from lienthong.hub import federation
from lienthong.hub.models import Delivery, OutboxEntry
from lienthong.hub.runtime import Hub

DOCS = 300


def relays(database_url: str) -> list[tuple[str, int]]:
    """(state, attempts) of every relay to the national hub in h41's database."""
    engine = make_engine(database_url)
    try:
        with engine.connect() as conn:
            rows = conn.execute(
                select(OutboxEntry.state, OutboxEntry.attempts).where(
                    OutboxEntry.action == "relay:vn"
                )
            ).all()
    finally:
        engine.dispose()
    return [(str(state), int(attempts)) for state, attempts in rows]


def test_two_processes_on_one_postgresql_relay_each_package_once(
    tmp_path: Path, postgresql_url: str, capsys: pytest.CaptureFixture[str]
) -> None:
    plans = [p for p in three_hubs() if p.hub_id in {"vn", "h41"}]
    net = network.provision(
        plans, tmp_path, signature_policy="off", overrides={"h41": {"database_url": postgresql_url}}
    )
    gate = Gate(net.url("vn"))
    hub = Hub(net.settings["h41"])
    with hub.session() as s:
        peer = s.get(federation.Peer, "vn")
        assert peer is not None
        peer.url = gate.url
    hub.close()
    second_port = network.free_port()
    processes = []
    try:
        with network.serve_in_process(net, ["vn"]) as running:
            processes.append(network.spawn(net, "h41"))
            processes.append(network.spawn(net, "h41", port=second_port))
            urls = [net.url("h41"), f"http://127.0.0.1:{second_port}"]
            key = net.key("qlvb.hungbinh")

            def send(worker: int) -> None:
                client = HubClient(urls[worker % 2], key)
                for n in range(worker, DOCS, 4):
                    client.send(document(n, to=[GOVERNMENT_OFFICE], run="-d"))

            threads = [threading.Thread(target=send, args=(w,)) for w in range(4)]
            for t in threads:
                t.start()
            for t in threads:
                t.join()
            vn = running["vn"].hub

            def arrived() -> int:
                return int(
                    vn.read(
                        lambda s: s.scalar(
                            select(func.count())
                            .select_from(Delivery)
                            .where(Delivery.recipient_code == GOVERNMENT_OFFICE)
                        )
                    )
                )

            def recorded() -> int:  # the gate records a post once vn's answer is back
                return len({r.sha256 for r in gate.requests() if r.path == "/api/v1/packages"})

            def unsettled() -> int:  # h41 settles a relay after the answer, in its own time
                return len([row for row in relays(postgresql_url) if row[0] != "done"])

            # everything has happened — not only vn's side of it — before anything is
            # counted: on a busy machine each step of a relay may lag the previous one
            wait_until(
                "every package reaches the national hub, through the gate, settled at h41",
                lambda: arrived() >= DOCS and recorded() >= DOCS and unsettled() == 0,
                timeout=240,
                show=lambda: (
                    f"{arrived()}/{DOCS} at vn, {recorded()} seen by the gate, "
                    f"{unsettled()} unsettled at h41"
                ),
            )
            posts = [r for r in gate.requests() if r.path == "/api/v1/packages"]
            inbox = HubClient(net.url("vn"), net.key("qlvb.g22")).inbox_all(kind="edoc")
    finally:
        for proc in processes:
            proc.terminate()
        for proc in processes:
            proc.wait(timeout=30)
        gate.close()

    per_body = Counter(r.sha256 for r in posts)
    assert len(per_body) == DOCS and set(per_body.values()) == {1}, per_body.most_common(3)
    assert all(r.status == 201 for r in posts)
    by_process = Counter(r.agent for r in posts)
    assert len(by_process) == 2, by_process  # both processes relayed
    assert sorted(int(i["code_number"]) for i in inbox) == list(range(DOCS))
    rows = relays(postgresql_url)
    assert len(rows) == DOCS and {(state, attempts) for state, attempts in rows} == {("done", 1)}
    report(
        capsys,
        "two processes, one PostgreSQL",
        documents=DOCS,
        posts_to_national=len(posts),
        duplicates=sum(n - 1 for n in per_body.values()),
        relayed_by_process=sorted(by_process.values()),
    )
