"""Retention (issue 10, point 4): deliveries nobody acknowledges expire after their lifetime,
done outbox entries and stale signatures are deleted — by ``lienthong hub prune`` and by
the hub's own housekeeping — while messages and the audit chain stay (``audit verify``
still passes). On SQLite and PostgreSQL."""

from __future__ import annotations

import hashlib
import json
import uuid
from collections.abc import Callable
from datetime import UTC, datetime, timedelta
from pathlib import Path
from typing import Any

import pytest
from sqlalchemy import func, select, update
from typer.testing import CliRunner

from lienthong.cli import app
from lienthong.edxml.builder import build
from lienthong.edxml.model import DocumentCode, Edoc, Organization
from lienthong.hub import audit, directory, intake, mailbox, retention
from lienthong.hub.models import AuditEvent, Delivery, OutboxEntry, SeenSignature, System
from lienthong.hub.runtime import Hub
from lienthong.hub.settings import Settings, SignaturePolicy

SENDER = "000.00.12.H41"
RECIPIENT = "000.00.00.G22"
OTHER = "000.00.00.G09"


def _setup(hub: Hub) -> None:
    with hub.session() as s:
        directory.add_agency(s, code=SENDER, name="Sở Thông tin và Truyền thông")
        directory.add_agency(s, code=RECIPIENT, name="Văn phòng Chính phủ")
        directory.add_agency(s, code=OTHER, name="Bộ Nội vụ")
        directory.add_system(s, system_id="sys.sender", agencies=[SENDER])
        directory.add_system(s, system_id="sys.vpcp", agencies=[RECIPIENT])
        directory.add_system(s, system_id="sys.bnv", agencies=[OTHER])


def _send(hub: Hub, make_edoc: Callable[..., Edoc], tmp: Path, number: str, to: list[str]) -> str:
    data = build(
        make_edoc(
            sender=Organization(organ_id=SENDER, organ_name="Sở"),
            recipients=[Organization(organ_id=c, organ_name="Nơi nhận") for c in to],
            code=DocumentCode(number, "STTTT"),
        )
    )
    path = tmp / f"{uuid.uuid4().hex}.edxml"
    path.write_bytes(data)
    body = intake.Body(path, hashlib.sha256(data).hexdigest(), len(data))
    with hub.session() as s:
        system = s.get(System, "sys.sender")
        assert system is not None
        result = intake.accept(
            s,
            system=system,
            body=body,
            blobs=hub.blobs,
            limits=hub.limits,
            signature_policy=SignaturePolicy.OFF,
        )
    hub.dispatch_now()
    return result.message_id


def _age(hub: Hub, message_id: str, days: float) -> None:
    """Pretend the message was accepted ``days`` ago."""
    with hub.session() as s:
        s.execute(
            update(Delivery)
            .where(Delivery.message_id == message_id)
            .values(created_at=datetime.now(UTC) - timedelta(days=days))
        )


def _states(hub: Hub, message_id: str) -> dict[str, tuple[str, str | None]]:
    with hub.session() as s:
        return {
            d.recipient_code: (d.state, d.failure_code)
            for d in s.scalars(select(Delivery).where(Delivery.message_id == message_id))
        }


def _system(hub: Hub, system_id: str) -> System:
    with hub.session() as s:
        system = s.get(System, system_id)
        assert system is not None
        s.expunge(system)
        return system


def test_deliveries_nobody_acknowledges_expire_after_their_lifetime(
    hub: Hub, make_edoc: Callable[..., Edoc], tmp_path: Path
) -> None:
    _setup(hub)
    old = _send(hub, make_edoc, tmp_path, "1", [RECIPIENT, OTHER])
    young = _send(hub, make_edoc, tmp_path, "2", [RECIPIENT])
    with hub.session() as s:  # the Ministry fetched the old one, never acknowledged it
        mailbox.fetch(
            s, system=_system(hub, "sys.bnv"), message_id=old, blobs=hub.blobs
        ).stream.close()
    _age(hub, old, 31)
    _age(hub, young, 29)
    done = _send(hub, make_edoc, tmp_path, "3", [RECIPIENT])
    with hub.session() as s:
        mailbox.acknowledge(s, system=_system(hub, "sys.vpcp"), message_id=done)
    _age(hub, done, 31)

    result = hub.prune()  # the default lifetime: 30 days

    assert result.expired == 2
    assert _states(hub, old) == {
        RECIPIENT: ("expired", retention.EXPIRED_CODE),
        OTHER: ("expired", retention.EXPIRED_CODE),
    }
    assert _states(hub, young) == {RECIPIENT: ("available", None)}
    assert _states(hub, done) == {RECIPIENT: ("acknowledged", None)}
    inbox = hub.read(mailbox.inbox, system=_system(hub, "sys.vpcp"))
    assert [i.message_id for i in inbox] == [young]  # the expired one left the inbox
    timeline = hub.read(mailbox.timeline, system=_system(hub, "sys.sender"), message_id=old)
    assert {r["state"] for r in timeline["recipients"]} == {"expired"}
    assert [e["event"] for e in timeline["events"]].count("expired") == 2
    with hub.session() as s:
        assert audit.verify(s).ok
    assert hub.prune().expired == 0  # nothing twice


def test_a_lifetime_of_zero_keeps_deliveries_for_ever(
    database_url: str, tmp_path: Path, make_edoc: Callable[..., Edoc]
) -> None:
    hub = Hub(
        Settings(
            data_dir=tmp_path / "data",
            database_url=database_url,
            blob_url=str(tmp_path / "blobs"),
            delivery_lifetime_days=0,
        )
    )
    try:
        _setup(hub)
        old = _send(hub, make_edoc, tmp_path, "1", [RECIPIENT])
        _age(hub, old, 3650)
        assert hub.prune().expired == 0
        assert _states(hub, old) == {RECIPIENT: ("available", None)}
    finally:
        hub.close()


def test_done_outbox_entries_are_deleted_after_the_retention_and_the_chain_still_verifies(
    hub: Hub, make_edoc: Callable[..., Edoc], tmp_path: Path
) -> None:
    _setup(hub)
    old = _send(hub, make_edoc, tmp_path, "1", [RECIPIENT])
    recent = _send(hub, make_edoc, tmp_path, "2", [RECIPIENT])
    waiting = _send(hub, make_edoc, tmp_path, "3", [RECIPIENT])
    with hub.session() as s:
        long_ago = datetime.now(UTC) - timedelta(days=8)
        s.execute(
            update(OutboxEntry)
            .where(OutboxEntry.message_id == old)
            .values(updated_at=long_ago)
            .execution_options(synchronize_session=False)
        )
        # an entry still to do (or a dead letter) is never pruned, however old
        s.execute(
            update(OutboxEntry)
            .where(OutboxEntry.message_id == waiting)
            .values(state="dead", updated_at=long_ago, last_error="HUB_LOOP: x")
            .execution_options(synchronize_session=False)
        )

    result = hub.prune()  # the default retention: 7 days

    assert result.outbox_deleted == 1
    with hub.session() as s:
        left = dict(s.execute(select(OutboxEntry.message_id, OutboxEntry.state)).all())
        assert left == {recent: "done", waiting: "dead"}
        pruned = s.scalars(select(AuditEvent).where(AuditEvent.event == "pruned")).one()
        assert json.loads(pruned.detail)["outbox_deleted"] == 1
        assert audit.verify(s).ok
    # the message and its delivery stay (deduplication is permanent, evidence is kept)
    assert _states(hub, old) == {RECIPIENT: ("available", None)}


def test_stale_signatures_are_forgotten_by_prune(hub: Hub) -> None:
    now = datetime.now(UTC)
    window = hub.settings.signature_window_seconds
    with hub.session() as s:
        s.add(SeenSignature(signature="old", system_id="x", seen_at=now - timedelta(hours=1)))
        s.add(SeenSignature(signature="new", system_id="x", seen_at=now))
    assert 2 * window < 3600
    assert hub.prune().signatures_forgotten == 1
    with hub.session() as s:
        assert list(s.scalars(select(SeenSignature.signature))) == ["new"]


def test_the_running_hub_prunes_in_its_housekeeping(
    hub: Hub, make_edoc: Callable[..., Edoc], tmp_path: Path
) -> None:
    _setup(hub)
    old = _send(hub, make_edoc, tmp_path, "1", [RECIPIENT])
    _age(hub, old, 40)
    hub._last_housekeeping = -1e9  # its minute is up
    hub._housekeeping()
    assert _states(hub, old) == {RECIPIENT: ("expired", retention.EXPIRED_CODE)}


def test_hub_prune_command_then_audit_verify(
    tmp_path: Path, make_edoc: Callable[..., Edoc], monkeypatch: pytest.MonkeyPatch
) -> None:
    data_dir = tmp_path / "hub"
    hub = Hub(Settings(data_dir=data_dir))
    try:
        _setup(hub)
        old = _send(hub, make_edoc, tmp_path, "1", [RECIPIENT])
        _age(hub, old, 3)
    finally:
        hub.close()
    runner = CliRunner()
    monkeypatch.setenv("LIENTHONG_DELIVERY_LIFETIME_DAYS", "2")
    pruned = runner.invoke(app, ["hub", "prune", "--data-dir", str(data_dir), "--json"])
    assert pruned.exit_code == 0, pruned.output
    out: dict[str, Any] = json.loads(pruned.stdout)
    assert out["expired_deliveries"] == 1 and out["delivery_lifetime_days"] == 2
    verified = runner.invoke(app, ["audit", "verify", "--data-dir", str(data_dir), "--json"])
    assert verified.exit_code == 0, verified.output
    assert json.loads(verified.stdout)["ok"] is True
    hub = Hub(Settings(data_dir=data_dir))
    try:
        assert _states(hub, old) == {RECIPIENT: ("expired", retention.EXPIRED_CODE)}
        with hub.session() as s:
            assert s.scalar(select(func.count()).select_from(AuditEvent)) > 0
    finally:
        hub.close()


def test_retention_settings_refuse_negative_values() -> None:
    with pytest.raises(ValueError, match="delivery_lifetime_days"):
        Settings.load(environ={"LIENTHONG_DELIVERY_LIFETIME_DAYS": "-1"})
    loaded = Settings.load(
        environ={"LIENTHONG_OUTBOX_RETENTION_DAYS": "0", "LIENTHONG_MAX_RELAY_BACKLOG": "50"}
    )
    assert loaded.outbox_retention_days == 0 and loaded.max_relay_backlog == 50
