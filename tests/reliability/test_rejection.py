"""(c) A peer that keeps refusing one package: only that package becomes a dead letter —
with the peer's typed reason, visible to its sender — while everything else flows; a
replay is refused again and comes back to the dead letters, nothing else changes.
Also: a document addressed across three hubs at once reaches each recipient once and
leaves no dead letter behind (a hub does not route back where a package came from)."""

from __future__ import annotations

from collections.abc import Iterator
from pathlib import Path

import pytest
from netkit import BAC_HA, GOVERNMENT_OFFICE, document, report, three_hubs, wait_until
from sqlalchemy import func, select

from lienthong.client.rest import HubClient
from lienthong.devnet import network
from lienthong.hub.models import Delivery, OutboxEntry
from lienthong.hub.outbox import queue

GOOD = 60
NOWHERE = "000.00.00.H99"  # a level-1 code no hub serves: the national hub has no route


@pytest.fixture
def net(tmp_path: Path) -> Iterator[tuple[network.Network, dict[str, network.Running]]]:
    plans = three_hubs()
    built = network.provision(plans, tmp_path, signature_policy="off")
    with network.serve_in_process(built) as running:
        yield built, running


def _count(hub: network.Running, recipient: str) -> int:
    return int(
        hub.hub.read(
            lambda s: s.scalar(
                select(func.count())
                .select_from(Delivery)
                .where(Delivery.recipient_code == recipient)
            )
        )
    )


def _dead(hub: network.Running) -> list[OutboxEntry]:
    return hub.hub.read(lambda s: queue.dead_letters(s))


def test_one_refused_package_is_the_only_dead_letter_and_stays_refused(
    net: tuple[network.Network, dict[str, network.Running]],
    capsys: pytest.CaptureFixture[str],
) -> None:
    built, running = net
    sender = HubClient(built.url("h41"), built.key("qlvb.hungbinh"))
    sent = []
    for n in range(GOOD):
        sent.append(sender.send(document(n, to=[BAC_HA], run="-c")))
        if n == GOOD // 2:
            poison = sender.send(document(9999, to=[NOWHERE], run="-c"))
    assert poison["recipients"][0]["state"] == "queued"  # h41 sends it up: it cannot know
    h41, h42 = running["h41"], running["h42"]
    wait_until(
        "the good documents reach Bắc Hà and the refused one is a dead letter",
        lambda: _count(h42, BAC_HA) >= GOOD and len(_dead(h41)) >= 1,
        timeout=90,
        show=lambda: f"{_count(h42, BAC_HA)}/{GOOD} arrived, {len(_dead(h41))} dead",
    )
    [dead] = _dead(h41)
    assert dead.message_id == poison["message_id"] and dead.attempts == 1
    assert (dead.last_error or "").startswith("HUB_NO_ROUTE")
    recipient = sender.timeline(poison["message_id"])["recipients"][0]
    assert recipient["state"] == "failed" and recipient["failure_code"] == "HUB_RELAY_REFUSED"
    assert all(not _dead(h) for key, h in running.items() if key != "h41")
    assert not running["h41"].hub.relayer.breaker.failing("relay:vn")  # the peer is healthy

    with h41.hub.session() as s:  # the operator replays it: refused again, for the same reason
        queue.replay(s, entry_id=dead.id)
    wait_until(
        "the replayed package is refused again",
        lambda: len(_dead(h41)) == 1,
        timeout=30,
        show=lambda: f"{len(_dead(h41))} dead",
    )
    [again] = _dead(h41)
    assert again.id == dead.id and again.attempts == 1
    assert (again.last_error or "").startswith("HUB_NO_ROUTE")
    relays = h41.hub.read(
        lambda s: s.scalars(select(OutboxEntry).where(OutboxEntry.action == "relay:vn")).all()
    )
    done = [e for e in relays if e.state == "done"]
    assert len(done) == GOOD and max(e.attempts for e in done) == 1
    assert _count(h42, BAC_HA) == GOOD  # each once
    report(
        capsys,
        "permanent refusal",
        documents=GOOD + 1,
        delivered=_count(h42, BAC_HA),
        dead_letters=len(_dead(h41)),
        reason=(again.last_error or "")[:40],
        replays_refused=1,
    )


def test_a_document_for_three_hubs_reaches_each_recipient_once_without_dead_letters(
    net: tuple[network.Network, dict[str, network.Running]],
) -> None:
    built, running = net
    local = "000.00.01.H41"  # Văn phòng UBND tỉnh Nghệ An, on the sender's own hub
    sender = HubClient(built.url("h41"), built.key("qlvb.hungbinh"))
    sent = sender.send(document(1, to=[local, GOVERNMENT_OFFICE, BAC_HA], run="-3"))
    where = {
        local: (running["h41"], "egov.h41"),
        GOVERNMENT_OFFICE: (running["vn"], "qlvb.g22"),
        BAC_HA: (running["h42"], "qlvb.bacha"),
    }
    wait_until(
        "every recipient has it",
        lambda: all(_count(hub, code) >= 1 for code, (hub, _) in where.items()),
        timeout=30,
        show=lambda: str({code: _count(hub, code) for code, (hub, _) in where.items()}),
    )
    for code, (hub, system) in where.items():
        assert _count(hub, code) == 1
        inbox = HubClient(built.url(hub.hub.settings.hub_id), built.key(system)).inbox_all()
        assert [i["recipient"] for i in inbox] == [code]
    for hub in running.values():  # nothing was routed back where it came from
        assert not _dead(hub), hub.hub.settings.hub_id
    timeline = sender.timeline(sent["message_id"])
    states = {r["agency"]: r["state"] for r in timeline["recipients"]}
    assert states[local] == "available" and states[GOVERNMENT_OFFICE] == "relayed"
    assert states[BAC_HA] == "relayed"
