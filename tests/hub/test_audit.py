"""The hub's hash-chained audit log: every state change leaves a record, ``audit.verify``
recomputes the chain and names the first tampered record, and ``lienthong audit verify``
says so with its exit code — on SQLite and PostgreSQL."""

from __future__ import annotations

import hashlib
import itertools
import json
import uuid
from collections.abc import Callable, Iterator, Sequence
from pathlib import Path
from typing import Any

import pytest
from sqlalchemy import select, text
from typer.testing import CliRunner

from lienthong.cli import app as cli_app
from lienthong.edxml.builder import build
from lienthong.edxml.model import (
    Business,
    DocumentCode,
    Edoc,
    Organization,
    Package,
    ReplacementInfo,
    ResponseFor,
    Status,
)
from lienthong.hub import audit, directory, intake, mailbox
from lienthong.hub.models import AuditEvent, Delivery, System
from lienthong.hub.runtime import Hub
from lienthong.hub.settings import Settings, SignaturePolicy

SENDER = "000.00.12.H41"  # Sở Thông tin và Truyền thông tỉnh Nghệ An (the factories' sender)
VPCP = "000.00.00.G22"  # Văn phòng Chính phủ
BNV = "000.00.00.G09"  # Bộ Nội vụ
UNKNOWN = "000.00.00.H98"  # not in the directory
DOC_ID = "000.00.12.H41,2024/03/05,215/STTTT-VP"


class Exchange:
    """A hub with three agencies and their systems, driven through the service layer."""

    def __init__(
        self,
        hub: Hub,
        tmp: Path,
        make_edoc: Callable[..., Edoc],
        make_status: Callable[..., Status],
    ) -> None:
        self.hub = hub
        self.tmp = tmp
        self.make_edoc = make_edoc
        self.make_status = make_status
        with hub.session() as s:
            directory.add_agency(s, code=SENDER, name="Sở Thông tin và Truyền thông tỉnh Nghệ An")
            directory.add_agency(s, code=VPCP, name="Văn phòng Chính phủ")
            directory.add_agency(s, code=BNV, name="Bộ Nội vụ")
            directory.add_system(s, system_id="sys.stttt", agencies=[SENDER])
            directory.add_system(s, system_id="sys.vpcp", agencies=[VPCP])
            directory.add_system(s, system_id="sys.bnv", agencies=[BNV])

    def edoc(self, number: str = "215", to: Sequence[str] = (VPCP,), **kw: Any) -> Edoc:
        return self.make_edoc(
            recipients=[Organization(organ_id=c, organ_name="Nơi nhận") for c in to],
            code=DocumentCode(number, "STTTT-VP"),
            **kw,
        )

    def status(self, code: str) -> Status:
        return self.make_status(
            sender=Organization(organ_id=VPCP, organ_name="Văn phòng Chính phủ"),
            response_for=ResponseFor(
                organ_id=SENDER,
                code="215/STTTT-VP",
                promulgation_date="2024/03/05",
                document_id=DOC_ID,
            ),
            status_code=code,
        )

    def send(self, system_id: str, package: Package | bytes) -> intake.AcceptResult:
        data = package if isinstance(package, bytes) else build(package)
        path = self.tmp / f"body-{uuid.uuid4().hex}.edxml"
        path.write_bytes(data)
        body = intake.Body(path, hashlib.sha256(data).hexdigest(), len(data))
        with self.hub.session() as s:
            system = s.get(System, system_id)
            assert system is not None
            return intake.accept(
                s,
                system=system,
                body=body,
                blobs=self.hub.blobs,
                limits=self.hub.limits,
                signature_policy=SignaturePolicy.OFF,
            )

    def fetch(self, system_id: str, message_id: str) -> None:
        with self.hub.session() as s:
            system = s.get(System, system_id)
            assert system is not None
            stream = mailbox.fetch(
                s, system=system, message_id=message_id, blobs=self.hub.blobs
            ).stream
            stream.close()

    def ack(self, system_id: str, message_id: str, ok: bool = True) -> None:
        with self.hub.session() as s:
            system = s.get(System, system_id)
            assert system is not None
            mailbox.acknowledge(s, system=system, message_id=message_id, ok=ok)

    def records(self) -> list[AuditEvent]:
        with self.hub.session() as s:
            return list(s.scalars(select(AuditEvent).order_by(AuditEvent.seq)))

    def trail(self, message_id: str) -> list[tuple[str, str | None]]:
        """(event, agency) of every record about ``message_id``, in order."""
        return [(r.event, r.agency_code) for r in self.records() if r.message_id == message_id]

    def verify(self) -> audit.VerifyResult:
        with self.hub.session() as s:
            return audit.verify(s)

    def sql(self, statement: str, **params: Any) -> None:
        with self.hub.engine.begin() as conn:
            conn.execute(text(statement), params)


def scenario(ex: Exchange) -> str:
    """Some traffic: a document sent, delivered, fetched and acknowledged, a status back."""
    sent = ex.send("sys.stttt", ex.edoc(to=(VPCP, BNV)))
    ex.hub.dispatch_now()
    ex.fetch("sys.vpcp", sent.message_id)
    ex.ack("sys.vpcp", sent.message_id)
    ex.send("sys.vpcp", ex.status("03"))
    ex.hub.dispatch_now()
    return sent.message_id


@pytest.fixture
def ex(
    hub: Hub, tmp_path: Path, make_edoc: Callable[..., Edoc], make_status: Callable[..., Status]
) -> Exchange:
    return Exchange(hub, tmp_path, make_edoc, make_status)


# --------------------------------------------------------------------------- events


def test_accepting_records_the_package_hash_and_each_failed_recipient(ex: Exchange) -> None:
    package = build(ex.edoc(to=(VPCP, UNKNOWN)))
    result = ex.send("sys.stttt", package)

    assert ex.trail(result.message_id) == [("accepted", SENDER), ("failed", UNKNOWN)]
    accepted, failed = (r for r in ex.records() if r.message_id == result.message_id)
    assert accepted.system_id == "sys.stttt"
    assert json.loads(accepted.detail) == {
        "kind": "edoc",
        "document_id": DOC_ID,
        "sha256": hashlib.sha256(package).hexdigest(),
        "size": len(package),
    }
    assert json.loads(failed.detail) == {"code": "HUB_UNKNOWN_RECIPIENT"}


def test_dispatch_records_one_delivered_event_per_recipient(ex: Exchange) -> None:
    result = ex.send("sys.stttt", ex.edoc(to=(VPCP, BNV)))
    ex.hub.dispatch_now()
    ex.hub.dispatch_now()
    delivered = [a for e, a in ex.trail(result.message_id) if e == "delivered"]
    assert sorted(delivered) == sorted([VPCP, BNV])


def test_fetch_and_acknowledgement_are_recorded_once_each(ex: Exchange) -> None:
    result = ex.send("sys.stttt", ex.edoc())
    ex.hub.dispatch_now()
    for _ in range(2):
        ex.fetch("sys.vpcp", result.message_id)
    for _ in range(2):
        ex.ack("sys.vpcp", result.message_id)

    assert ex.trail(result.message_id) == [
        ("accepted", SENDER),
        ("delivered", VPCP),
        ("fetched", VPCP),
        ("acknowledged", VPCP),
    ]
    fetched, acked = (r for r in ex.records() if r.event in ("fetched", "acknowledged"))
    assert fetched.system_id == acked.system_id == "sys.vpcp"


def test_a_failure_reported_by_the_recipient_is_recorded(ex: Exchange) -> None:
    result = ex.send("sys.stttt", ex.edoc())
    ex.hub.dispatch_now()
    ex.ack("sys.vpcp", result.message_id, ok=False)
    (record,) = [r for r in ex.records() if r.event == "failed"]
    assert (record.message_id, record.agency_code, record.system_id) == (
        result.message_id,
        VPCP,
        "sys.vpcp",
    )
    assert json.loads(record.detail) == {"ok": False}


def test_a_status_is_recorded_on_the_original_document(ex: Exchange) -> None:
    original = ex.send("sys.stttt", ex.edoc())
    ex.hub.dispatch_now()
    status = ex.send("sys.vpcp", ex.status("05"))

    (record,) = [r for r in ex.records() if r.event == "status"]
    assert (record.message_id, record.agency_code) == (original.message_id, VPCP)
    assert json.loads(record.detail) == {"status": "05", "status_message": status.message_id}
    assert ex.trail(status.message_id)[0] == ("accepted", VPCP)


def test_revocation_and_replacement_are_recorded(ex: Exchange) -> None:
    original = ex.send("sys.stttt", ex.edoc(to=(VPCP, BNV)))
    ex.hub.dispatch_now()
    replacement = ex.send(
        "sys.stttt",
        ex.edoc(
            "216",
            to=(BNV,),
            business=Business(
                doc_type="3",
                reason="Thay thế",
                paper="0",
                replacements=[ReplacementInfo(document_id=DOC_ID, organ_ids=[BNV])],
            ),
        ),
    )
    revocation = ex.send(
        "sys.stttt",
        ex.edoc(to=(VPCP, BNV), business=Business(doc_type="1", reason="Thu hồi", paper="0")),
    )

    trail = ex.trail(original.message_id)
    assert ("superseded", BNV) in trail
    assert ("revoked", VPCP) in trail
    by = {
        r.event: json.loads(r.detail)["by"]
        for r in ex.records()
        if r.event in ("superseded", "revoked")
    }
    assert by == {"superseded": replacement.message_id, "revoked": revocation.message_id}


def test_a_resend_is_recorded_as_a_duplicate_of_the_original(ex: Exchange) -> None:
    package = build(ex.edoc())
    first = ex.send("sys.stttt", package)
    ex.send("sys.stttt", package)
    ex.send("sys.stttt", package)
    duplicates = [r for r in ex.records() if r.event == "duplicate"]
    assert [(r.message_id, r.agency_code, r.system_id) for r in duplicates] == [
        (first.message_id, SENDER, "sys.stttt")
    ] * 2


def test_directory_changes_are_recorded_without_credentials(hub: Hub) -> None:
    with hub.session() as s:
        directory.add_agency(s, code=VPCP, name="Văn phòng Chính phủ")
        new = directory.add_system(s, system_id="sys.vpcp", agencies=[VPCP], secret="bí-mật-123")
        directory.deactivate_agency(s, code=VPCP)
    with hub.session() as s:
        records = list(s.scalars(select(AuditEvent).order_by(AuditEvent.seq)))
    assert [(r.event, r.agency_code, r.system_id) for r in records] == [
        ("agency_changed", VPCP, None),
        ("system_changed", None, "sys.vpcp"),
        ("agency_changed", VPCP, None),
    ]
    for r in records:
        assert new.secret not in r.detail and new.api_key not in r.detail
        assert directory.hash_api_key(new.api_key) not in r.detail


_STATE_OF_EVENT = {
    "delivered": "available",
    "fetched": "fetched",
    "acknowledged": "acknowledged",
    "failed": "failed",
    "revoked": "revoked",
    "superseded": "revoked",
}


def test_the_log_accounts_for_the_state_of_every_delivery(ex: Exchange) -> None:
    """Replaying each recipient's transport events gives its current state: no state
    change happens without a record."""
    scenario(ex)
    second = ex.send("sys.stttt", ex.edoc("216", to=(VPCP, BNV, UNKNOWN)))
    ex.send("sys.stttt", ex.edoc("217", to=(BNV,)))  # stays queued: never dispatched
    ex.hub.dispatch_now()
    ex.fetch("sys.bnv", second.message_id)
    ex.ack("sys.vpcp", second.message_id, ok=False)
    ex.send("sys.stttt", ex.edoc("218", to=(VPCP,)))  # queued again
    ex.send(
        "sys.stttt",
        ex.edoc("218", to=(VPCP,), business=Business(doc_type="1", reason="Thu hồi", paper="0")),
    )

    replayed: dict[tuple[str | None, str | None], str] = {}
    for r in ex.records():
        if r.event in _STATE_OF_EVENT:
            replayed[(r.message_id, r.agency_code)] = _STATE_OF_EVENT[r.event]
    with ex.hub.session() as s:
        deliveries = list(s.scalars(select(Delivery)))
    assert len(deliveries) >= 8
    for d in deliveries:
        expected = replayed.get((d.message_id, d.recipient_code), "queued")
        if d.state == "revoked" and d.failure_code == "HUB_WITHDRAWN_BEFORE_FETCH":
            expected = replayed.get((d.message_id, d.recipient_code), "revoked")
        assert d.state == expected, (d.message_id, d.recipient_code, d.state)


# --------------------------------------------------------------------------- verify


def test_an_empty_log_verifies(hub: Hub) -> None:
    with hub.session() as s:
        result = audit.verify(s)
    assert (result.ok, result.records, result.first_bad_seq) == (True, 0, None)
    assert result.head_hash == audit.GENESIS


def test_an_untouched_log_verifies_and_reports_its_head(ex: Exchange) -> None:
    scenario(ex)
    records = ex.records()
    assert [r.seq for r in records] == list(range(1, len(records) + 1))
    assert all(b.prev_hash == a.hash for a, b in itertools.pairwise(records))
    result = ex.verify()
    assert result.ok and result.first_bad_seq is None and result.reason is None
    assert result.records == len(records)
    assert result.head_hash == records[-1].hash


@pytest.fixture
def logged(ex: Exchange) -> Exchange:
    scenario(ex)
    assert len(ex.records()) >= 12 and ex.verify().ok
    return ex


def test_changing_a_records_detail_names_that_record(logged: Exchange) -> None:
    target = logged.records()[6]
    logged.sql(
        "UPDATE audit_event SET detail = :d WHERE seq = :s",
        d=json.dumps({"forged": True}),
        s=target.seq,
    )
    result = logged.verify()
    assert not result.ok
    assert result.first_bad_seq == target.seq


def test_changing_the_first_record_is_detected(logged: Exchange) -> None:
    logged.sql("UPDATE audit_event SET agency_code = '000.00.00.G01' WHERE seq = 1")
    assert logged.verify().first_bad_seq == 1


def test_deleting_a_middle_record_names_it(logged: Exchange) -> None:
    target = logged.records()[5].seq
    logged.sql("DELETE FROM audit_event WHERE seq = :s", s=target)
    result = logged.verify()
    assert not result.ok
    assert result.first_bad_seq == target


def test_deleting_the_last_record_names_it(logged: Exchange) -> None:
    last = logged.records()[-1].seq
    logged.sql("DELETE FROM audit_event WHERE seq = :s", s=last)
    result = logged.verify()
    assert not result.ok
    assert result.first_bad_seq == last


def test_swapping_two_records_contents_names_the_earlier_one(logged: Exchange) -> None:
    records = logged.records()
    columns = ("event", "message_id", "agency_code", "system_id", "detail")

    def content(r: AuditEvent) -> tuple[Any, ...]:
        return tuple(getattr(r, c) for c in columns)

    a = records[3]
    b = next(r for r in records[6:] if content(r) != content(a))
    for src, dst in ((a, b), (b, a)):
        logged.sql(
            "UPDATE audit_event SET event = :event, message_id = :message_id, "
            "agency_code = :agency_code, system_id = :system_id, detail = :detail "
            "WHERE seq = :seq",
            seq=dst.seq,
            **{c: getattr(src, c) for c in columns},
        )
    assert content(logged.records()[3]) == content(b)  # really swapped
    result = logged.verify()
    assert not result.ok
    assert result.first_bad_seq == a.seq


def test_rewriting_a_record_with_a_fresh_hash_breaks_the_next_link(logged: Exchange) -> None:
    records = logged.records()
    target = records[4]
    detail = json.dumps({"forged": True})
    canonical = audit._canonical(
        target.seq,
        target.at,
        target.event,
        target.message_id,
        target.agency_code,
        target.system_id,
        detail,
    )
    forged_hash = audit.chain_hash(target.prev_hash, canonical)
    logged.sql(
        "UPDATE audit_event SET detail = :d, hash = :h WHERE seq = :s",
        d=detail,
        h=forged_hash,
        s=target.seq,
    )
    result = logged.verify()
    assert not result.ok
    assert result.first_bad_seq == target.seq + 1


# --------------------------------------------------------------------------- CLI


@pytest.fixture
def cli_hub(database_url: str, tmp_path: Path) -> Iterator[tuple[Hub, Path, dict[str, str | None]]]:
    """A hub whose data the CLI finds: on SQLite the default database inside the data
    directory; on PostgreSQL the URL given through ``LIENTHONG_DATABASE_URL``."""
    data_dir = tmp_path / "cli-data"
    env: dict[str, str | None] = {
        "LIENTHONG_DATA_DIR": None,
        "LIENTHONG_BLOB_URL": None,
        "LIENTHONG_CONFIG": None,
        "LIENTHONG_DATABASE_URL": None,
        "COLUMNS": "200",
        "NO_COLOR": "1",
    }
    if database_url.startswith("sqlite"):
        settings = Settings(data_dir=data_dir)
    else:
        settings = Settings(data_dir=data_dir, database_url=database_url)
        env["LIENTHONG_DATABASE_URL"] = database_url
    instance = Hub(settings)
    yield instance, data_dir, env
    instance.close()


def test_cli_audit_verify_exits_0_when_intact_and_1_naming_the_tampered_record(
    cli_hub: tuple[Hub, Path, dict[str, str | None]],
    tmp_path: Path,
    make_edoc: Callable[..., Edoc],
    make_status: Callable[..., Status],
) -> None:
    hub, data_dir, env = cli_hub
    spool = tmp_path / "spool"
    spool.mkdir()
    ex = Exchange(hub, spool, make_edoc, make_status)
    scenario(ex)
    records = ex.records()
    runner = CliRunner()
    args = ["audit", "verify", "--data-dir", str(data_dir), "--json"]

    intact = runner.invoke(cli_app, args, env=env)
    assert intact.exit_code == 0, intact.output
    report = json.loads(intact.stdout)
    assert report["ok"] is True
    assert report["records"] == len(records)
    assert report["first_bad_seq"] is None
    assert report["head_hash"] == records[-1].hash

    target = records[len(records) // 2]
    ex.sql("UPDATE audit_event SET detail = :d WHERE seq = :s", d='{"forged":1}', s=target.seq)
    tampered = runner.invoke(cli_app, args, env=env)
    assert tampered.exit_code == 1, tampered.output
    report = json.loads(tampered.stdout)
    assert report["ok"] is False
    assert report["first_bad_seq"] == target.seq
    assert report["reason"]

    plain = runner.invoke(cli_app, args[:-1], env=env)
    assert plain.exit_code == 1
    assert f"#{target.seq}" in plain.stdout
