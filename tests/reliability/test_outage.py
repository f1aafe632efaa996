"""(b) The national hub is cut off from a provincial hub (it answers 503) while documents
keep coming; then it is back. Everything queued is delivered, once; while it was cut off
the provincial hub knocked at a pace set by the backoff, not once per queued document."""

from __future__ import annotations

import itertools
import threading
import time
from collections.abc import Iterator
from pathlib import Path

import pytest
from gate import Gate
from netkit import BAC_HA, document, report, three_hubs, wait_until
from sqlalchemy import func, select

from lienthong.client.rest import HubClient
from lienthong.devnet import network
from lienthong.hub import federation
from lienthong.hub.models import Delivery, OutboxEntry
from lienthong.hub.outbox import queue

DOCS = 200
CUT_SECONDS = 10.0


@pytest.fixture
def cut_network(
    tmp_path: Path,
) -> Iterator[tuple[network.Network, dict[str, network.Running], Gate]]:
    net = network.provision(three_hubs(), tmp_path, signature_policy="off")
    gate = Gate(net.url("vn"))
    from lienthong.hub.runtime import Hub

    h41 = Hub(net.settings["h41"])  # the provincial hub reaches the national one via the gate
    with h41.session() as s:
        peer = s.get(federation.Peer, "vn")
        assert peer is not None
        peer.url = gate.url
    h41.close()
    try:
        with network.serve_in_process(net) as running:
            yield net, running, gate
    finally:
        gate.close()


def _rounds(times: list[float], gap: float = 0.5) -> list[float]:
    """Start times of bursts of requests (requests less than ``gap`` apart are one round)."""
    starts: list[float] = []
    last = float("-inf")
    for t in sorted(times):
        if t - last > gap:
            starts.append(t)
        last = t
    return starts


def test_a_cut_off_peer_gets_its_backlog_once_when_back_and_is_not_hammered(
    cut_network: tuple[network.Network, dict[str, network.Running], Gate],
    capsys: pytest.CaptureFixture[str],
) -> None:
    net, running, gate = cut_network
    sender = HubClient(net.url("h41"), net.key("qlvb.hungbinh"))
    gate.cut = True
    started = time.monotonic()

    def send(first: int) -> None:
        for n in range(first, DOCS, 4):
            sender.send(document(n, to=[BAC_HA], run="-b"))

    threads = [threading.Thread(target=send, args=(i,)) for i in range(4)]
    for t in threads:
        t.start()
    for t in threads:
        t.join()
    sent_at = time.monotonic()
    time.sleep(max(0.0, CUT_SECONDS - (sent_at - started)))
    gate.cut = False
    back_at = time.monotonic()
    during = [r for r in gate.requests() if r.at < back_at]
    assert during and all(r.status == 503 for r in during)

    h42 = running["h42"].hub

    def arrived() -> int:
        return int(
            h42.read(
                lambda s: s.scalar(
                    select(func.count())
                    .select_from(Delivery)
                    .where(Delivery.recipient_code == BAC_HA)
                )
            )
        )

    wait_until(
        "the backlog reaches Bắc Hà",
        lambda: arrived() >= DOCS,
        timeout=120,
        show=lambda: f"{arrived()}/{DOCS} arrived",
    )
    delivered_at = time.monotonic()
    time.sleep(1.0)  # anything extra (a duplicate) would show now

    # exactly once: one delivery per document at the far end, one message per document
    per_document = h42.read(
        lambda s: s.execute(
            select(Delivery.message_id, func.count())
            .where(Delivery.recipient_code == BAC_HA)
            .group_by(Delivery.message_id)
        ).all()
    )
    assert len(per_document) == DOCS and all(n == 1 for _, n in per_document)
    inbox = HubClient(net.url("h42"), net.key("qlvb.bacha")).inbox_all(kind="edoc")
    numbers = sorted(int(item["code_number"]) for item in inbox)
    assert numbers == list(range(DOCS))

    # no retry storm: while cut off, a handful of rounds, spaced at least by the backoff
    rounds = _rounds([r.at for r in during])
    gaps = [b - a for a, b in itertools.pairwise(rounds)]
    for k, gap in enumerate(gaps, start=1):
        floor = queue.BACKOFF_BASE.total_seconds() * 2 ** (k - 1) * 0.5
        assert gap >= floor * 0.95, (k, gap, floor)
    bound = 4 * running["h41"].hub.relayer.concurrency + len(rounds)
    assert len(during) <= bound < DOCS / 2
    relays = running["h41"].hub.read(
        lambda s: s.scalars(select(OutboxEntry).where(OutboxEntry.action == "relay:vn")).all()
    )
    assert len(relays) == DOCS and all(e.state == "done" for e in relays)
    through = [r for r in gate.requests() if r.at >= back_at]
    assert len(through) == DOCS and len({r.sha256 for r in through}) == DOCS  # each posted once
    assert all(200 <= r.status < 300 for r in through)
    report(
        capsys,
        "cut-off peer",
        documents=DOCS,
        cut_seconds=round(back_at - started, 1),
        requests_while_cut=len(during),
        rounds_while_cut=len(rounds),
        gaps_s=[round(g, 1) for g in gaps],
        max_attempts=max(e.attempts for e in relays),
        requests_after=len(through),
        backlog_delivered_s=round(delivered_at - back_at, 1),
    )
