"""Several hub instances on ONE database, as several hub processes would be: no document is
delivered twice, a package raced in from many clients is stored once, and the audit chain
stays one valid line.

The thread tests open two :class:`Hub` objects (two engines, two connection pools) on the
same database and run on SQLite (one file, ``BEGIN IMMEDIATE``) and PostgreSQL
(``FOR UPDATE SKIP LOCKED``). The process test starts two real OS processes
(``tests/hub/helpers/dispatch_worker.py``) on one PostgreSQL schema.
"""

from __future__ import annotations

import hashlib
import json
import os
import subprocess
import sys
import threading
import uuid
from collections import Counter
from collections.abc import Callable, Iterator
from concurrent.futures import ThreadPoolExecutor
from functools import partial
from pathlib import Path
from typing import Any

import pytest
from sqlalchemy import func, select

from lienthong.edxml.builder import build
from lienthong.edxml.model import DocumentCode, Edoc, Organization
from lienthong.hub import audit, directory, intake
from lienthong.hub.models import AuditEvent, Delivery, Message, OutboxEntry, System
from lienthong.hub.runtime import Hub
from lienthong.hub.settings import Settings, SignaturePolicy
from support import postgresql_reachable

SENDER = "000.00.12.H41"  # Sở Thông tin và Truyền thông tỉnh Nghệ An (the factories' sender)
RECIPIENTS = ("000.00.00.G22", "000.00.00.H53")  # Văn phòng Chính phủ, UBND tỉnh Tây Ninh
WORKER = Path(__file__).resolve().parent / "helpers" / "dispatch_worker.py"
TIMEOUT = 60


class Pair:
    """Two hubs on the same database and blob folder, and a spool for request bodies."""

    def __init__(self, database_url: str, tmp: Path, make_edoc: Callable[..., Edoc]) -> None:
        self.tmp = tmp
        self.make_edoc = make_edoc
        self.spool = tmp / "spool"
        self.spool.mkdir()
        self.hubs = [
            Hub(
                Settings(
                    data_dir=tmp / name,
                    database_url=database_url,
                    blob_url=str(tmp / "blobs"),
                    # processes of one hub share the key sealing its stored secrets
                    secret_key_file=tmp / "secret.key",
                )
            )
            for name in ("hub-a", "hub-b")
        ]
        with self.a.session() as s:
            directory.add_agency(s, code=SENDER, name="Sở Thông tin và Truyền thông tỉnh Nghệ An")
            directory.add_agency(s, code=RECIPIENTS[0], name="Văn phòng Chính phủ")
            directory.add_agency(s, code=RECIPIENTS[1], name="UBND tỉnh Tây Ninh")
            directory.add_system(s, system_id="sys.stttt", agencies=[SENDER])

    @property
    def a(self) -> Hub:
        return self.hubs[0]

    @property
    def b(self) -> Hub:
        return self.hubs[1]

    def close(self) -> None:
        for hub in self.hubs:
            hub.close()

    def package(self, number: int) -> bytes:
        return build(
            self.make_edoc(
                recipients=[Organization(organ_id=c, organ_name="Nơi nhận") for c in RECIPIENTS],
                code=DocumentCode(str(number), "STTTT-VP"),
            )
        )

    def body(self, data: bytes) -> intake.Body:
        path = self.spool / f"body-{uuid.uuid4().hex}.edxml"
        path.write_bytes(data)
        return intake.Body(path, hashlib.sha256(data).hexdigest(), len(data))

    def accept(self, hub: Hub, data: bytes) -> intake.AcceptResult:
        body = self.body(data)

        def run(s: Any) -> intake.AcceptResult:
            system = s.get(System, "sys.stttt")
            return intake.accept(
                s,
                system=system,
                body=body,
                blobs=hub.blobs,
                limits=hub.limits,
                signature_policy=SignaturePolicy.OFF,
            )

        return hub.run(run)

    def count(self, model: type[Any], *where: Any) -> int:
        with self.a.session() as s:
            return int(s.scalar(select(func.count()).select_from(model).where(*where)) or 0)

    def assert_delivered_exactly_once(self, messages: int) -> None:
        """Every delivery available, with exactly one DELIVERED record; outbox all done,
        each entry claimed once; the audit chain intact."""
        with self.a.session() as s:
            states = Counter(s.scalars(select(Delivery.state)))
            delivered = Counter(
                s.execute(
                    select(AuditEvent.message_id, AuditEvent.agency_code).where(
                        AuditEvent.event == audit.Event.DELIVERED
                    )
                ).all()
            )
            outbox = Counter(s.execute(select(OutboxEntry.state, OutboxEntry.attempts)).all())
            result = audit.verify(s)
        assert states == {"available": messages * len(RECIPIENTS)}
        assert len(delivered) == messages * len(RECIPIENTS)
        assert set(delivered.values()) == {1}, [k for k, v in delivered.items() if v > 1][:5]
        assert outbox == {("done", 1): messages}
        assert result.ok, result


@pytest.fixture
def pair(database_url: str, tmp_path: Path, make_edoc: Callable[..., Edoc]) -> Iterator[Pair]:
    instance = Pair(database_url, tmp_path, make_edoc)
    yield instance
    instance.close()


def run_together(*fns: Callable[[], Any]) -> list[Any]:
    """Run the functions in threads released at the same moment; re-raise any error."""
    barrier = threading.Barrier(len(fns))

    def start(fn: Callable[[], Any]) -> Any:
        barrier.wait(timeout=TIMEOUT)
        return fn()

    with ThreadPoolExecutor(len(fns)) as pool:
        futures = [pool.submit(start, fn) for fn in fns]
        return [f.result(timeout=TIMEOUT) for f in futures]


# --------------------------------------------------------------------------- threads


def test_two_hubs_dispatching_at_once_deliver_every_document_exactly_once(pair: Pair) -> None:
    messages = 300
    for n in range(1, messages + 1):
        pair.accept(pair.a if n % 2 else pair.b, pair.package(n))
    assert pair.count(Delivery, Delivery.state == "queued") == messages * len(RECIPIENTS)

    handled = run_together(pair.a.dispatch_now, pair.b.dispatch_now)

    assert sum(handled) == messages
    pair.assert_delivered_exactly_once(messages)
    assert pair.a.dispatch_now() == pair.b.dispatch_now() == 0


def test_the_same_package_raced_in_from_eight_clients_is_stored_once(pair: Pair) -> None:
    for round_ in range(3):  # a few rounds: each one a fresh race
        data = pair.package(500 + round_)
        hubs = [pair.hubs[i % 2] for i in range(8)]
        results = run_together(*(partial(pair.accept, hub, data) for hub in hubs))
        assert len({r.message_id for r in results}) == 1
        assert sorted(r.duplicate for r in results) == [False] + [True] * 7
        message_id = results[0].message_id
        assert all(len(r.recipients) == len(RECIPIENTS) for r in results)
        assert pair.count(Message, Message.id == message_id) == 1
        assert pair.count(Delivery, Delivery.message_id == message_id) == len(RECIPIENTS)
        assert pair.count(OutboxEntry, OutboxEntry.message_id == message_id) == 1
        assert pair.count(AuditEvent, AuditEvent.message_id == message_id) == 8  # 1 + 7
        assert (
            pair.count(
                AuditEvent,
                AuditEvent.message_id == message_id,
                AuditEvent.event == audit.Event.DUPLICATE,
            )
            == 7
        )
    assert pair.count(Message) == 3
    with pair.b.session() as s:
        assert audit.verify(s).ok


def test_the_audit_chain_stays_one_valid_line_under_concurrent_appends(pair: Pair) -> None:
    with pair.a.session() as s:
        before = audit.verify(s).records
    per_thread = 8
    threads = 6

    def worker(index: int) -> None:
        hub = pair.hubs[index % 2]
        for k in range(per_thread):
            pair.accept(hub, pair.package(1000 + index * per_thread + k))
            hub.run(
                lambda s, k=k: audit.append(
                    s, event="test_note", system_id=f"thread-{index}", detail={"k": k}
                )
            )
            if k % 3 == 2:
                hub.dispatch_now()
        hub.dispatch_now()

    run_together(*(partial(worker, i) for i in range(threads)))
    pair.a.dispatch_now()

    documents = threads * per_thread
    expected = before + documents * (1 + len(RECIPIENTS)) + documents  # accepted, delivered, note
    with pair.b.session() as s:
        result = audit.verify(s)
        seqs = list(s.scalars(select(AuditEvent.seq).order_by(AuditEvent.seq)))
        hashes = list(s.scalars(select(AuditEvent.hash)))
    assert result.ok, result
    assert result.records == expected
    assert seqs == list(range(1, expected + 1))
    assert len(set(hashes)) == expected
    pair.assert_delivered_exactly_once(documents)


def test_the_first_records_written_at_once_on_a_fresh_database_are_all_kept(
    database_url: str, tmp_path: Path
) -> None:
    """No audit record exists yet (so no chain head either) and two hubs write their
    first ones in the same moment, in plain units of work (as ``lienthong agency add``
    does): both commit, and the chain is one line."""
    hubs = [
        Hub(
            Settings(
                data_dir=tmp_path / n,
                database_url=database_url,
                blob_url=str(tmp_path),
                secret_key_file=tmp_path / "secret.key",
            )
        )
        for n in ("hub-a", "hub-b")
    ]
    barrier = threading.Barrier(2)

    def first_write(index: int) -> None:
        with hubs[index].session() as s:
            barrier.wait(timeout=TIMEOUT)
            audit.append(s, event="test_note", system_id=f"hub-{index}")
            # hold the transaction open a moment so that both appends overlap
            threading.Event().wait(0.3)

    try:
        with ThreadPoolExecutor(2) as pool:
            futures = [pool.submit(first_write, i) for i in range(2)]
            errors = [f.exception(timeout=TIMEOUT) for f in futures]
        assert errors == [None, None]
        with hubs[0].session() as s:
            result = audit.verify(s)
        assert (result.ok, result.records) == (True, 2)
    finally:
        for hub in hubs:
            hub.close()


# --------------------------------------------------------------------------- processes


@pytest.mark.skipif(not postgresql_reachable(), reason="needs a reachable PostgreSQL")
@pytest.mark.parametrize("database_url", ["postgresql"], indirect=True)
def test_two_hub_processes_on_one_postgresql_never_deliver_twice(
    database_url: str, pair: Pair, tmp_path: Path
) -> None:
    before, during = 120, 80
    for n in range(1, before + 1):
        pair.accept(pair.a, pair.package(n))
    go, stop = tmp_path / "go", tmp_path / "stop"
    workers = []
    logs = []
    for name in ("proc-1", "proc-2"):
        log = (tmp_path / f"{name}.stderr").open("w")
        logs.append(log)
        workers.append(
            subprocess.Popen(
                [
                    sys.executable,
                    str(WORKER),
                    "--database-url",
                    database_url,
                    "--data-dir",
                    str(tmp_path / name),
                    "--blob-dir",
                    str(tmp_path / "blobs"),
                    "--go",
                    str(go),
                    "--stop",
                    str(stop),
                    "--batch",
                    "7",
                    "--deadline",
                    str(TIMEOUT - 10),
                    "--secret-key-file",
                    str(tmp_path / "secret.key"),
                ],
                stdout=subprocess.PIPE,
                stderr=log,
                text=True,
                env={**os.environ, "PYTHONUNBUFFERED": "1"},
            )
        )
    # a worker stuck before "ready" must not hang the suite: kill it, readline then ends
    watchdog = threading.Timer(TIMEOUT, lambda: [p.kill() for p in workers if p.poll() is None])
    watchdog.start()
    try:
        for proc, name in zip(workers, ("proc-1", "proc-2"), strict=True):
            assert proc.stdout is not None
            line = proc.stdout.readline().strip()
            assert line == "ready", (name, line, (tmp_path / f"{name}.stderr").read_text())
        go.touch()
        for n in range(before + 1, before + during + 1):  # new work while they dispatch
            pair.accept(pair.b, pair.package(n))
        stop.touch()
        reports = []
        for proc, name in zip(workers, ("proc-1", "proc-2"), strict=True):
            out, _ = proc.communicate(timeout=TIMEOUT)
            stderr = (tmp_path / f"{name}.stderr").read_text()
            assert proc.returncode == 0, (name, proc.returncode, stderr[-2000:])
            reports.append(json.loads(out.strip().splitlines()[-1]))
    finally:
        watchdog.cancel()
        for proc in workers:
            if proc.poll() is None:
                proc.kill()
                proc.wait(timeout=10)
        for log in logs:
            log.close()

    assert sum(r["handled"] for r in reports) == before + during
    pair.assert_delivered_exactly_once(before + during)
