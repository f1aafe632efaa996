"""A hub that cannot deliver some recipients of a package relayed to it reports them back,
hop by hop, to the sender's hub (issue 10, point 4): the sender's timeline shows ``failed``
or ``expired`` with the code and the hub where it happened, instead of ``relayed`` for ever.

Three real hubs over HTTP (the devnet wiring): phường Hưng Bình at the Nghệ An hub ``h41``
sends through the national hub ``vn`` to the Hà Tĩnh hub ``h42``. The report's application
by itself (a service, on SQLite and PostgreSQL) is tested at the end.
"""

from __future__ import annotations

import hashlib
import time
from collections.abc import Callable, Iterator
from datetime import UTC, datetime, timedelta
from pathlib import Path
from typing import Any

import httpx
import pytest
from sqlalchemy import select, update

from lienthong.client.rest import HubClient
from lienthong.devnet import network
from lienthong.edxml.builder import build
from lienthong.edxml.model import DocumentCode, Edoc, Organization, PromulgationInfo
from lienthong.hub import audit, directory, federation, intake
from lienthong.hub.errors import HubError
from lienthong.hub.models import Delivery, OutboxEntry, System
from lienthong.hub.outbox import queue, reports
from lienthong.hub.runtime import Hub
from lienthong.hub.settings import Settings, SignaturePolicy
from lienthong.protocol.rest import DeliveryReportIn, ReportedRecipient

HUNG_BINH = "000.01.31.H41"  # qlvb.hungbinh at h41
BAC_HA = "000.01.31.H42"  # qlvb.bacha at h42
NOWHERE = "000.09.31.H42"  # in no directory: h41 and vn route it by its level-1 code


@pytest.fixture(scope="module")
def net(tmp_path_factory: pytest.TempPathFactory) -> Iterator[dict[str, Any]]:
    plans = [p for p in network.standard_plans() if p.hub_id in {"vn", "h41", "h42"}]
    wired = network.provision(plans, tmp_path_factory.mktemp("net"), signature_policy="off")
    with network.serve_in_process(wired) as running:
        yield {"net": wired, "hubs": {k: r.hub for k, r in running.items()}}


def _document(number: str, to: list[str]) -> bytes:
    return build(
        Edoc(
            sender=Organization(organ_id=HUNG_BINH, organ_name="UBND phường Hưng Bình"),
            recipients=[Organization(organ_id=code, organ_name="Nơi nhận") for code in to],
            code=DocumentCode(number, f"UBND-{time.monotonic_ns()}"),
            promulgation=PromulgationInfo("Vinh", "2026/11/27"),
            subject=f"Văn bản số {number}",
        )
    )


def _client(net: dict[str, Any], system_id: str) -> HubClient:
    wired: network.Network = net["net"]
    return HubClient(wired.url(wired.hub_of(system_id)), wired.key(system_id))


def _recipients(net: dict[str, Any], message_id: str) -> dict[str, dict[str, Any]]:
    timeline = _client(net, "qlvb.hungbinh").timeline(message_id)
    return {r["agency"]: r for r in timeline["recipients"]}


def _wait(what: str, done: Callable[[], bool], show: Callable[[], Any]) -> None:
    """Until ``done()``, bounded (generous: a busy machine is slow, a stuck network never)."""
    deadline = time.monotonic() + 90
    while not done():
        if time.monotonic() > deadline:
            raise AssertionError(f"{what}: not within 90 s ({show()})")
        time.sleep(0.1)


def _at(net: dict[str, Any], hub_id: str, code: str, sha: str) -> Delivery:
    """The delivery to ``code`` of the package with payload ``sha`` at hub ``hub_id``."""
    hub: Hub = net["hubs"][hub_id]

    def one(s: Any) -> Delivery:
        from lienthong.hub.models import Message

        return s.scalars(
            select(Delivery)
            .join(Message, Message.id == Delivery.message_id)
            .where(Message.payload_key == sha, Delivery.recipient_code == code)
        ).one()

    return hub.read(one)


def test_a_recipient_unknown_two_hubs_away_shows_failed_on_the_senders_timeline(
    net: dict[str, Any],
) -> None:
    data = _document("1", [BAC_HA, NOWHERE])
    sent = _client(net, "qlvb.hungbinh").send(data)
    message_id = sent["message_id"]
    assert {r["agency"]: r["state"] for r in sent["recipients"]} == {
        BAC_HA: "queued",
        NOWHERE: "queued",
    }

    _wait(
        "the failure comes back to h41",
        lambda: _recipients(net, message_id)[NOWHERE]["state"] == "failed",
        lambda: _recipients(net, message_id),
    )
    mine = _recipients(net, message_id)
    assert mine[NOWHERE]["failure_code"] == "HUB_UNKNOWN_RECIPIENT"
    assert "h42" in mine[NOWHERE]["failure_reason"]  # where it failed
    _wait(
        "the other recipient is relayed",
        lambda: _recipients(net, message_id)[BAC_HA]["state"] == "relayed",
        lambda: _recipients(net, message_id),
    )
    sha = hashlib.sha256(data).hexdigest()
    assert _at(net, "vn", NOWHERE, sha).state == "failed"  # and at the hub in between
    assert _at(net, "h42", BAC_HA, sha).state == "available"
    events = _client(net, "qlvb.hungbinh").timeline(message_id)["events"]
    assert ("failed", NOWHERE) in {(e["event"], e["agency"]) for e in events}
    with net["hubs"]["h41"].session() as s:
        assert audit.verify(s).ok


def test_an_unknown_code_of_the_senders_own_province_fails_at_once_not_up_and_lost(
    net: dict[str, Any],
) -> None:
    """Nghệ An's hub serves H41: an unknown H41 code is not sent up to the national hub (which
    routes H41 back down — the hub it came from — and would drop it)."""
    unknown_h41 = "000.09.31.H41"
    sent = _client(net, "qlvb.hungbinh").send(_document("5", [BAC_HA, unknown_h41]))
    outcome = {r["agency"]: (r["state"], r["failure_code"]) for r in sent["recipients"]}
    assert outcome == {BAC_HA: ("queued", None), unknown_h41: ("failed", "HUB_UNKNOWN_RECIPIENT")}


def test_a_package_refused_downstream_as_a_whole_is_reported_to_the_sender(
    net: dict[str, Any],
) -> None:
    sent = _client(net, "qlvb.hungbinh").send(_document("2", [NOWHERE]))
    message_id = sent["message_id"]
    _wait(
        "the refusal (h42 → vn dead letter) comes back to h41",
        lambda: _recipients(net, message_id)[NOWHERE]["state"] == "failed",
        lambda: _recipients(net, message_id),
    )
    failed = _recipients(net, message_id)[NOWHERE]
    assert failed["failure_code"] == "HUB_RELAY_REFUSED"
    assert "HUB_NO_ROUTE" in failed["failure_reason"] and "vn" in failed["failure_reason"]


def test_a_recipient_that_answers_fail_or_never_acknowledges_is_reported_back(
    net: dict[str, Any],
) -> None:
    sender = _client(net, "qlvb.hungbinh")
    rejected = sender.send(_document("3", [BAC_HA]))["message_id"]
    forgotten_data = _document("4", [BAC_HA])
    forgotten = sender.send(forgotten_data)["message_id"]
    bacha = _client(net, "qlvb.bacha")
    rejected_there = None

    def arrived() -> bool:
        nonlocal rejected_there
        codes = {i["code_number"]: i for i in bacha.inbox_all(kind="edoc")}
        if "3" in codes and "4" in codes:
            rejected_there = codes["3"]["message_id"]
            return True
        return False

    _wait("both reach Bắc Hà", arrived, lambda: bacha.inbox_all(kind="edoc"))
    assert rejected_there is not None
    bacha.ack(rejected_there, ok=False, reason="Tệp đính kèm không mở được")
    # the other one is never acknowledged: h42's retention expires it
    h42: Hub = net["hubs"]["h42"]
    with h42.session() as s:
        s.execute(
            update(Delivery)
            .where(Delivery.recipient_code == BAC_HA, Delivery.state == "available")
            .values(created_at=datetime.now(UTC) - timedelta(days=31))
        )
    assert h42.prune().expired >= 1

    _wait(
        "both outcomes come back to h41",
        lambda: (
            _recipients(net, rejected)[BAC_HA]["state"] == "failed"
            and _recipients(net, forgotten)[BAC_HA]["state"] == "expired"
        ),
        lambda: (_recipients(net, rejected), _recipients(net, forgotten)),
    )
    assert _recipients(net, rejected)[BAC_HA]["failure_code"] == "HUB_RECIPIENT_FAILED"
    assert "không mở được" in _recipients(net, rejected)[BAC_HA]["failure_reason"]
    assert _recipients(net, forgotten)[BAC_HA]["failure_code"] == "HUB_DELIVERY_EXPIRED"


def test_only_peer_hubs_may_report_and_only_on_packages_they_were_sent(
    net: dict[str, Any],
) -> None:
    wired: network.Network = net["net"]
    report = {
        "hub": "h42",
        "sha256": "0" * 64,
        "kind": "edoc",
        "sender": HUNG_BINH,
        "recipients": [{"agency": BAC_HA, "state": "failed", "hub": "h42"}],
    }
    as_agency = httpx.post(
        f"{wired.url('vn')}/api/v1/reports",
        json=report,
        headers={"Authorization": f"Bearer {wired.key('qlvb.g22')}"},
    )
    assert as_agency.status_code == 403 and as_agency.json()["error"]["code"] == "HUB_PEER_ONLY"


# ------------------------------------------------------------------------ the service alone


def test_apply_report_moves_relayed_deliveries_and_arms_the_report_further_up(
    database_url: str, tmp_path: Path, make_edoc: Callable[..., Edoc]
) -> None:
    """At the national hub: a package from h41 relayed to h42; h42 reports one recipient."""
    hub = Hub(
        Settings(
            data_dir=tmp_path / "d",
            database_url=database_url,
            blob_url=str(tmp_path / "b"),
            hub_id="vn",
            role="national",
        )
    )
    try:
        with hub.session() as s:
            for code in ("000.00.00.H41", "000.00.00.H42", "000.00.00.G22", HUNG_BINH):
                directory.add_agency(s, code=code, name=code)  # a peer sends as known codes
            directory.add_system(s, system_id="hub.h41", agencies=["000.00.00.H41"])
            directory.add_system(s, system_id="hub.h42", agencies=["000.00.00.H42"])
            s.get(System, "hub.h41").peer = True  # type: ignore[union-attr]
            s.get(System, "hub.h42").peer = True  # type: ignore[union-attr]
            directory.add_system(s, system_id="qlvb.g22", agencies=["000.00.00.G22"])
            federation.add_peer(
                s, peer_id="h41", url="http://h41", api_key="k", serves=["H41"], role="national"
            )
            federation.add_peer(
                s, peer_id="h42", url="http://h42", api_key="k", serves=["H42"], role="national"
            )
        data = build(
            make_edoc(
                sender=Organization(organ_id=HUNG_BINH, organ_name="Hưng Bình"),
                recipients=[Organization(organ_id=c, organ_name="x") for c in (BAC_HA, NOWHERE)],
                code=DocumentCode("9", "UBND"),
            )
        )
        path = tmp_path / "p.edxml"
        path.write_bytes(data)
        sha = hashlib.sha256(data).hexdigest()
        with hub.session() as s:
            peer_system = s.get(System, "hub.h41")
            assert peer_system is not None
            prepared = intake.prepare(
                s,
                system=peer_system,
                body=intake.Body(path, sha, len(data)),
                blobs=hub.blobs,
                limits=hub.limits,
                signature_policy=SignaturePolicy.OFF,
                hops="h41@1764000000",
            )
            message_id = intake.commit(s, system=peer_system, prepared=prepared).message_id
        with hub.session() as s:  # relayed to h42 (accepted there)
            s.execute(update(Delivery).values(state="relayed"))
        report = DeliveryReportIn(
            hub="h42",
            sha256=sha,
            kind="edoc",
            sender=HUNG_BINH,
            recipients=[
                ReportedRecipient(
                    agency=NOWHERE,
                    state="failed",
                    failure_code="HUB_UNKNOWN_RECIPIENT",
                    failure_reason="unknown recipient (trục / hub h42)",
                    hub="h42",
                )
            ],
        )
        with hub.session() as s:
            reporter = s.get(System, "hub.h42")
            assert reporter is not None
            assert reports.apply_report(s, system=reporter, report=report) == (
                message_id,
                [NOWHERE],
            )
        with hub.session() as s:  # a repeated report changes nothing
            reporter = s.get(System, "hub.h42")
            assert reporter is not None
            assert reports.apply_report(s, system=reporter, report=report)[1] == []
        with hub.session() as s:
            states = {
                d.recipient_code: (d.state, d.failure_code)
                for d in s.scalars(select(Delivery).where(Delivery.message_id == message_id))
            }
            assert states == {
                BAC_HA: ("relayed", None),
                NOWHERE: ("failed", "HUB_UNKNOWN_RECIPIENT"),
            }
            [entry] = s.scalars(select(OutboxEntry).where(OutboxEntry.action == "report:h41")).all()
            assert entry.message_id == message_id and entry.state == "pending"
            body = reports.report_body(s, message_id=message_id, hub_id="vn")
            forwarded = DeliveryReportIn.model_validate_json(body)
            assert forwarded.hub == "vn" and forwarded.sha256 == sha
            assert [(r.agency, r.hub) for r in forwarded.recipients] == [(NOWHERE, "h42")]
            assert audit.verify(s).ok
        with hub.session() as s:  # an agency's system may not report
            agency_system = s.get(System, "qlvb.g22")
            assert agency_system is not None
            with pytest.raises(HubError) as refused:
                reports.apply_report(s, system=agency_system, report=report)
            assert refused.value.code == "HUB_PEER_ONLY"
        # the report entry is claimed toward h41 (its URL), and re-armed while in flight it
        # is sent again after this attempt
        claims = hub.run(queue.claim, owner="vn:1")
        [claim] = [c for c in claims if c.target is queue.Target.REPORT]
        assert claim.url == "http://h41/api/v1/reports"
        hub.run(queue.report_upstream, message_id=message_id)
        state = hub.run(
            queue.settle,
            entry_id=claim.entry_id,
            outcome=queue.Outcome(ok=True),
            claimed_at=claim.claimed_at,
        )
        assert state == "pending"
    finally:
        hub.close()
