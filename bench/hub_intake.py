"""Intake throughput and latency of the exchange hub, next to an HTTP and a durable-commit floor.

Usage::

    python bench/hub_intake.py                 # full run on SQLite (N = 300 per phase, ≈ 1 min)
    python bench/hub_intake.py --quick         # smoke run (N = 30)
    python bench/hub_intake.py --database-url postgresql://postgres@127.0.0.1:5432/test
    python bench/hub_intake.py --profile-server hub.pstats   # diagnosis only (slows the hub)

A real hub runs in a **child process** (uvicorn + uvloop + httptools, the application of
:func:`lienthong.hub.app.create_app`, JSON logs to a file, as ``lienthong hub serve``) on
127.0.0.1 and a free port, on a temporary data directory: SQLite (WAL, ``synchronous=FULL``)
and a local blob folder by default, or the given PostgreSQL database in a fresh schema
(``?options=-csearch_path%3D<schema>``) created here and dropped at the end. Two agencies,
each served by its own system, are seeded: every package goes from one to the other.

The client is this process: threads with one :class:`httpx.Client` each (keep-alive). The
machine's cores are shared by the client and the hub, so the client is kept light (at most
four sending threads, packages built before the clock starts).

Measured in the same run, in this order:

1. baselines: ``GET /healthz`` requests/s (same client, same concurrency: the HTTP floor);
   raw durable commits/s of stdlib ``sqlite3`` (WAL, ``synchronous=FULL``, one 20 KB row
   per transaction) on the same disk — and of psycopg on the same PostgreSQL when given;
2. ``POST /api/v1/packages`` (REST, bearer key), sequential and with 4 concurrent clients;
3. ``POST /sendEdoc`` through :class:`lienthong.client.vdxp.VdxpClient` (HMAC headers);
4. receive side: ``GET /api/v1/messages/{id}`` + ``POST …/ack`` per package (and the
   national platform's ``getEdoc`` + ``updateStatus``);
5. accept → available: from the start of the send to the moment ``GET /api/v1/inbox`` of the
   recipient first lists the message (a tight polling loop; the dispatcher must run in
   between) — on an idle hub, then under load (4 senders + 1 receiver listing its inbox);
   and the same interval inside the hub, from its audit log (``delivered`` − ``accepted``).

Every package is distinct (≈ 21 KB: a Vietnamese công văn built by
:func:`lienthong.edxml.builder.build`, one 12 KB attachment that is a valid, unsigned
one-page PDF); every answer is checked (``ACCEPTED``, sizes, the ids seen in the inbox).
Timings use ``time.perf_counter``; throughput = operations / wall time of the phase;
latency percentiles are nearest-rank (with N = 30, p99 is the maximum). Each phase also
reports the CPU time per operation of the hub process (``/proc/<pid>/stat``) and of this
client process. No goals are asserted: this is a measurement.
"""

from __future__ import annotations

import argparse
import contextlib
import os
import random
import sqlite3
import statistics
import sys
import tempfile
import threading
import time
import uuid
from collections.abc import Callable, Iterator, Sequence
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import httpx

from lienthong.client.vdxp import VdxpClient
from lienthong.edxml.builder import build
from lienthong.edxml.model import (
    Business,
    DocumentCode,
    DocumentType,
    Edoc,
    Organization,
    OtherInfo,
    PromulgationInfo,
    SignerInfo,
    TraceHeader,
)

sys.path.insert(0, str(Path(__file__).resolve().parents[1]))  # run as `python bench/X.py`
from bench.common import (
    MB,
    RECIPIENT_AGENCY,
    RECIPIENT_NAME,
    RECIPIENT_SYSTEM,
    SENDER_AGENCY,
    SENDER_SYSTEM,
    HubProcess,
    describe_source,
    filler_pdf,
    loadavg,
    machine_line,
    pdf_attachment,
    percentile,
    print_aligned,
    run_clients,
    sender,
    start_hub,
)

ATTACHMENT_BYTES = 12_000
CONCURRENCY = 4
WINDOW_PAGE = 100

# Row labels (the smoke test looks for them).
FLOOR_HTTP = "baseline: HTTP floor GET /healthz"
FLOOR_SQLITE = "baseline: raw SQLite durable commit (20 KB row)"
FLOOR_PG = "baseline: raw PostgreSQL durable commit (20 KB row)"
REST_SEND = "REST POST /api/v1/packages"
VDXP_SEND = "VDXP POST /sendEdoc (VdxpClient, HMAC)"
REST_RECEIVE = "receive: REST GET message + POST ack"
VDXP_RECEIVE = "receive: VDXP getEdoc + updateStatus"
AVAILABLE_IDLE = "accept → available, idle hub"
AVAILABLE_LOAD = "accept → available, under load"
SERVER_IDLE = "  same, server side (audit log), idle"
SERVER_LOAD = "  same, server side (audit log), load"
LABELS = (
    FLOOR_HTTP,
    FLOOR_SQLITE,
    REST_SEND,
    VDXP_SEND,
    REST_RECEIVE,
    VDXP_RECEIVE,
    AVAILABLE_IDLE,
    AVAILABLE_LOAD,
    SERVER_IDLE,
    SERVER_LOAD,
)


@dataclass(frozen=True)
class Config:
    n: int  # packages per phase
    floor_requests: int  # GET /healthz per floor phase
    commits: int  # raw durable commits
    latency_n: int  # packages of the idle accept → available phase
    warmup: int  # packages per API before the clock starts


FULL = Config(n=300, floor_requests=1500, commits=1000, latency_n=150, warmup=10)
QUICK = Config(n=30, floor_requests=150, commits=100, latency_n=20, warmup=3)


# --------------------------------------------------------------------------- packages


def edoc_model(number: int, content: bytes) -> Edoc:
    """A realistic công văn of a provincial People's Committee to the Government Office."""
    return Edoc(
        sender=sender(website="https://nghean.gov.vn"),
        recipients=[Organization(organ_id=RECIPIENT_AGENCY, organ_name=RECIPIENT_NAME)],
        code=DocumentCode(number=str(number), notation="UBND-VX"),
        promulgation=PromulgationInfo(place="Nghệ An", date="2026/11/20"),
        document_type=DocumentType(type="1", type_detail="0", type_name="Công văn"),
        subject=(
            f"V/v báo cáo số {number} về tình hình triển khai kết nối, liên thông gửi, nhận văn "
            "bản điện tử qua Trục liên thông văn bản quốc gia"
        ),
        content=(
            "Thực hiện Nghị định số 30/2020/NĐ-CP ngày 05/3/2020 của Chính phủ về công tác văn "
            "thư và Quyết định số 28/2018/QĐ-TTg của Thủ tướng Chính phủ về gửi, nhận văn bản "
            "điện tử giữa các cơ quan trong hệ thống hành chính nhà nước, Ủy ban nhân dân tỉnh "
            "báo cáo kết quả kết nối hệ thống quản lý văn bản và điều hành của các sở, ban, "
            "ngành, Ủy ban nhân dân cấp huyện và cấp xã trên địa bàn tỉnh."
        ),
        signer=SignerInfo(
            competence="KT. CHỦ TỊCH", position="PHÓ CHỦ TỊCH", full_name="Nguyễn Văn Đệ"
        ),
        due_date="2026/12/15",
        other_info=OtherInfo(
            priority="1",
            sphere_of_promulgation="Liên thông văn bản quốc gia",
            typer_notation="TVH",
            promulgation_amount="3",
            page_amount="3",
            appendixes=["Phụ lục: Danh sách cơ quan, đơn vị đã kết nối"],
        ),
        steering_type="1",
        to_places=["Như trên", "Chủ tịch, các Phó Chủ tịch UBND tỉnh", "Lưu: VT, VX"],
        trace_headers=[TraceHeader(organ_id=SENDER_AGENCY, timestamp="2026/11/20 08:30:15")],
        business=Business(doc_type="0", reason="Văn bản điện tử mới", paper="0"),
        attachments=[
            pdf_attachment(
                f"{number}-UBND-VX_bao-cao-lien-thong.pdf",
                f"Báo cáo số {number}/UBND-VX về liên thông văn bản điện tử",
                content,
            )
        ],
    )


class Packages:
    """Distinct packages, built before any clock starts (number and attachment differ)."""

    def __init__(self, seed: int = 2026) -> None:
        self.rng = random.Random(seed)
        self.number = 1000

    def take(self, count: int) -> list[bytes]:
        out = []
        for _ in range(count):
            self.number += 1
            pdf = filler_pdf(self.number, ATTACHMENT_BYTES, self.rng)
            out.append(build(edoc_model(self.number, pdf)))
        return out


def hub_database_url(work: Path, database_url: str) -> str:
    from lienthong.hub.settings import Settings

    return Settings(data_dir=work / "hub", database_url=database_url).effective_database_url


# --------------------------------------------------------------------------- PostgreSQL


def _with_options(url: str, schema: str) -> str:
    sep = "&" if "?" in url else "?"
    return f"{url}{sep}options=-csearch_path%3D{schema}"


@contextlib.contextmanager
def pg_schema(url: str) -> Iterator[str]:
    """A fresh schema on the server of ``url``, dropped at the end; yields the URL that
    puts it first on the search path."""
    import psycopg

    schema = f"lt_bench_{uuid.uuid4().hex[:12]}"
    with psycopg.connect(url, autocommit=True) as conn:
        conn.execute(f'CREATE SCHEMA "{schema}"')
    try:
        yield _with_options(url, schema)
    finally:
        with psycopg.connect(url, autocommit=True) as conn:
            conn.execute(f'DROP SCHEMA IF EXISTS "{schema}" CASCADE')


def pg_version(url: str) -> str:
    import psycopg

    with psycopg.connect(url) as conn:
        row = conn.execute("SHOW server_version").fetchone()
        sync = conn.execute("SHOW synchronous_commit").fetchone()
    return f"PostgreSQL {row[0] if row else '?'} (synchronous_commit={sync[0] if sync else '?'})"


# --------------------------------------------------------------------------- measuring


@dataclass
class Result:
    label: str
    n: int
    clients: int
    wall_s: float | None = None  # None: a latency-only row
    latencies: list[float] = field(default_factory=list)
    note: str = ""
    hub_cpu_s: float | None = None  # CPU seconds of the hub process during the phase
    client_cpu_s: float | None = None  # CPU seconds of this process during the phase

    @property
    def per_s(self) -> float | None:
        return self.n / self.wall_s if self.wall_s else None


class Bench:
    def __init__(self, hub: HubProcess) -> None:
        self.hub = hub
        self.sender_key = hub.creds[SENDER_SYSTEM]["api_key"]
        self.recipient_key = hub.creds[RECIPIENT_SYSTEM]["api_key"]
        self.sent: list[str] = []  # message ids accepted, in order
        self.idle_ids: list[str] = []
        self.loaded_ids: list[str] = []
        self.lock = threading.Lock()

    # -- clients ---------------------------------------------------------------------

    def http(self) -> httpx.Client:
        client = httpx.Client(base_url=self.hub.url, timeout=60)
        client.get("/healthz").raise_for_status()  # the connection is open before timing
        return client

    def vdxp(self, system_id: str) -> tuple[VdxpClient, httpx.Client]:
        http = self.http()
        secret = self.hub.creds[system_id]["secret"]
        return VdxpClient(self.hub.url, system_id, secret, http=http), http

    def rest_send(self, http: httpx.Client, package: bytes) -> str:
        r = http.post(
            "/api/v1/packages",
            content=package,
            headers={
                "Authorization": f"Bearer {self.sender_key}",
                "Content-Type": "application/xml",
            },
        )
        data = r.json()
        if r.status_code != 201 or data.get("code") != "ACCEPTED":
            raise RuntimeError(f"REST send refused: HTTP {r.status_code} {data}")
        return str(data["message_id"])

    def vdxp_send(self, client: VdxpClient, package: bytes) -> str:
        data = client.send_edoc(package, from_code=SENDER_AGENCY)
        if data.get("code") != "ACCEPTED" or data.get("failedRecipients"):
            raise RuntimeError(f"sendEdoc refused: {data}")
        return str(data["DocId"])

    def inbox(self, http: httpx.Client, limit: int = WINDOW_PAGE) -> list[dict[str, Any]]:
        r = http.get(
            "/api/v1/inbox",
            params={"limit": limit},
            headers={"Authorization": f"Bearer {self.recipient_key}"},
        )
        r.raise_for_status()
        items: list[dict[str, Any]] = r.json()["items"]
        return items

    def ack(self, http: httpx.Client, message_id: str) -> None:
        r = http.post(
            f"/api/v1/messages/{message_id}/ack",
            json={"ok": True},
            headers={"Authorization": f"Bearer {self.recipient_key}"},
        )
        if r.status_code != 200 or r.json()[0]["state"] != "acknowledged":
            raise RuntimeError(f"ack refused: HTTP {r.status_code} {r.text[:200]}")

    def _record(self, message_id: str) -> None:
        with self.lock:
            self.sent.append(message_id)

    def measured(self, phase: Callable[[], Result]) -> Result:
        """Run a phase, recording the CPU time of the hub and of this process."""
        hub0, client0 = self.hub.cpu(), time.process_time()
        result = phase()
        result.hub_cpu_s = self.hub.cpu() - hub0
        result.client_cpu_s = time.process_time() - client0
        return result

    # -- phases ----------------------------------------------------------------------

    def floor(self, requests: int, clients: int) -> Result:
        def make() -> tuple[Callable[[Any], None], Callable[[], None]]:
            http = self.http()

            def work(_item: Any) -> None:
                r = http.get("/healthz")
                if r.status_code != 200:
                    raise RuntimeError(f"/healthz: HTTP {r.status_code}")

            return work, http.close

        wall, lat = run_clients(range(requests), clients, make)
        return Result(FLOOR_HTTP, requests, clients, wall, lat, "sync endpoint, thread pool")

    def rest_intake(self, packages: list[bytes], clients: int) -> Result:
        def make() -> tuple[Callable[[Any], None], Callable[[], None]]:
            http = self.http()
            return (lambda p: self._record(self.rest_send(http, p))), http.close

        wall, lat = run_clients(packages, clients, make)
        return Result(REST_SEND, len(packages), clients, wall, lat, "201 ACCEPTED checked")

    def vdxp_intake(self, packages: list[bytes], clients: int) -> Result:
        def make() -> tuple[Callable[[Any], None], Callable[[], None]]:
            client, http = self.vdxp(SENDER_SYSTEM)
            return (lambda p: self._record(self.vdxp_send(client, p))), http.close

        wall, lat = run_clients(packages, clients, make)
        return Result(VDXP_SEND, len(packages), clients, wall, lat, "hash-file SDK form")

    def rest_receive(self, ids: list[str], clients: int, sizes: set[int]) -> Result:
        def make() -> tuple[Callable[[Any], None], Callable[[], None]]:
            http = self.http()
            auth = {"Authorization": f"Bearer {self.recipient_key}"}

            def work(message_id: str) -> None:
                r = http.get(f"/api/v1/messages/{message_id}", headers=auth)
                # delivered = the package as sent + this hub's TraceHeader
                if r.status_code != 200 or len(r.content) < min(sizes):
                    raise RuntimeError(f"fetch {message_id}: HTTP {r.status_code}")
                self.ack(http, message_id)

            return work, http.close

        wall, lat = run_clients(ids, clients, make)
        return Result(REST_RECEIVE, len(ids), clients, wall, lat, "per package: 2 requests")

    def vdxp_receive(self, ids: list[str], clients: int, sizes: set[int]) -> Result:
        def make() -> tuple[Callable[[Any], None], Callable[[], None]]:
            client, http = self.vdxp(RECIPIENT_SYSTEM)

            def work(message_id: str) -> None:
                if len(client.get_edoc(message_id)) < min(sizes):  # + the hub's TraceHeader
                    raise RuntimeError(f"getEdoc {message_id}: wrong size")
                client.update_status(message_id, "done")

            return work, http.close

        wall, lat = run_clients(ids, clients, make)
        return Result(VDXP_RECEIVE, len(ids), clients, wall, lat, "base64 in JSON; 2 requests")

    def drain(self) -> int:
        """Acknowledge whatever is still waiting (not timed)."""
        http = self.http()
        done = 0
        try:
            while items := self.inbox(http):
                for item in items:
                    self.ack(http, item["message_id"])
                    done += 1
        finally:
            http.close()
        return done

    def available_idle(self, packages: list[bytes]) -> Result:
        """One package at a time: send (REST), then poll the recipient's inbox in a tight
        loop until it is listed; acknowledge it (not timed) so the inbox stays short."""
        sender = self.http()
        receiver = self.http()
        latencies: list[float] = []
        posts: list[float] = []
        polls = 0
        self.idle_ids = []
        try:
            for package in packages:
                t0 = time.perf_counter()
                message_id = self.rest_send(sender, package)
                posts.append(time.perf_counter() - t0)
                while True:
                    polls += 1
                    if any(i["message_id"] == message_id for i in self.inbox(receiver)):
                        break
                latencies.append(time.perf_counter() - t0)
                self._record(message_id)
                self.idle_ids.append(message_id)
                self.ack(receiver, message_id)
        finally:
            sender.close()
            receiver.close()
        note = (
            f"POST alone p50 {statistics.median(posts) * 1e3:.1f} ms; "
            f"{polls / len(packages):.1f} polls/pkg"
        )
        return Result(AVAILABLE_IDLE, len(packages), 1, None, latencies, note)

    def available_loaded(self, packages: list[bytes], clients: int) -> Result:
        """``clients`` REST senders at full speed and one receiver that lists its whole
        inbox in a tight loop (as SDK software calls ``getReceivedEdocList``). It does not
        acknowledge in the loop (that would lengthen its cycle and be measured as hub
        latency); the inbox therefore grows to N items; it is drained afterwards."""
        started: dict[str, float] = {}
        seen: dict[str, float] = {}
        lock = threading.Lock()
        stop = threading.Event()
        poll_errors: list[BaseException] = []
        poll_times: list[float] = []

        def make() -> tuple[Callable[[Any], None], Callable[[], None]]:
            http = self.http()

            def work(package: bytes) -> None:
                t0 = time.perf_counter()
                message_id = self.rest_send(http, package)
                with lock:
                    started[message_id] = t0
                self._record(message_id)

            return work, http.close

        def poller() -> None:
            http = self.http()
            try:
                while not stop.is_set() or len(seen) < len(packages):
                    t0 = time.perf_counter()
                    items = self.inbox(http, limit=1000)
                    now = time.perf_counter()
                    poll_times.append(now - t0)
                    for item in items:
                        seen.setdefault(item["message_id"], now)
                    if stop.is_set() and now > deadline:
                        raise RuntimeError("messages never became available")
            except BaseException as exc:
                poll_errors.append(exc)
            finally:
                http.close()

        deadline = float("inf")
        thread = threading.Thread(target=poller)
        thread.start()
        try:
            wall, _lat = run_clients(packages, clients, make)
        finally:
            deadline = time.perf_counter() + 60
            stop.set()
            thread.join()
        if poll_errors:
            raise poll_errors[0]
        if set(started) - set(seen):
            raise RuntimeError("some messages were never listed")
        self.loaded_ids = list(started)
        latencies = [seen[m] - started[m] for m in started]
        note = (
            f"{clients} senders at {len(packages) / wall:,.0f} pkg/s; 1 receiver listing its "
            f"inbox: {len(poll_times)} polls, p50 {statistics.median(poll_times) * 1e3:.0f} / "
            f"p99 {percentile(poll_times, 99) * 1e3:.0f} ms"
        )
        return Result(AVAILABLE_LOAD, len(packages), clients + 1, None, latencies, note)


def audit_latencies(database_url: str, ids: Sequence[str]) -> list[float]:
    """Server-side accept → available of ``ids``: the ``delivered`` record's time minus the
    ``accepted`` record's time in the hub's audit log (both stamped inside the hub)."""
    from sqlalchemy import select

    from lienthong.core.db import make_engine
    from lienthong.hub.models import AuditEvent

    engine = make_engine(database_url)
    at: dict[tuple[str, str], float] = {}
    try:
        with engine.connect() as conn:
            wanted = list(ids)
            for i in range(0, len(wanted), 500):
                rows = conn.execute(
                    select(AuditEvent.message_id, AuditEvent.event, AuditEvent.at).where(
                        AuditEvent.message_id.in_(wanted[i : i + 500]),
                        AuditEvent.event.in_(("accepted", "delivered")),
                    )
                )
                for message_id, event, when in rows:
                    at[(str(message_id), str(event))] = when.timestamp()
    finally:
        engine.dispose()
    return [at[(m, "delivered")] - at[(m, "accepted")] for m in ids]


def sqlite_commits(path: Path, commits: int) -> Result:
    """stdlib sqlite3: WAL, synchronous=FULL, one 20 KB row per transaction."""
    conn = sqlite3.connect(path, isolation_level=None)
    try:
        conn.execute("PRAGMA journal_mode=WAL")
        conn.execute("PRAGMA synchronous=FULL")
        conn.execute("CREATE TABLE t (id INTEGER PRIMARY KEY, body BLOB NOT NULL)")
        rows = [os.urandom(20_000) for _ in range(commits)]
        latencies = []
        t0 = time.perf_counter()
        for row in rows:
            t1 = time.perf_counter()
            conn.execute("BEGIN IMMEDIATE")
            conn.execute("INSERT INTO t (body) VALUES (?)", (row,))
            conn.execute("COMMIT")
            latencies.append(time.perf_counter() - t1)
        wall = time.perf_counter() - t0
    finally:
        conn.close()
    return Result(FLOOR_SQLITE, commits, 1, wall, latencies, "WAL, synchronous=FULL, stdlib")


def pg_commits(url: str, commits: int) -> Result:
    """psycopg, autocommit: one 20 KB bytea row per transaction (synchronous_commit as set)."""
    import psycopg

    rows = [os.urandom(20_000) for _ in range(commits)]
    latencies = []
    with psycopg.connect(url, autocommit=True) as conn:
        conn.execute("CREATE TABLE bench_commit (id bigserial PRIMARY KEY, body bytea NOT NULL)")
        t0 = time.perf_counter()
        for row in rows:
            t1 = time.perf_counter()
            conn.execute("INSERT INTO bench_commit (body) VALUES (%s)", (row,))
            latencies.append(time.perf_counter() - t1)
        wall = time.perf_counter() - t0
        conn.execute("DROP TABLE bench_commit")
    return Result(FLOOR_PG, commits, 1, wall, latencies, "psycopg 3, autocommit")


# --------------------------------------------------------------------------- report


def print_table(rows: list[Result]) -> None:
    header = ("case", "n", "clients", "ops/s", "p50 ms", "p99 ms", "hub CPU", "client CPU", "note")
    lines: list[tuple[str, ...]] = []
    for r in rows:
        per_s = f"{r.per_s:,.0f}" if r.per_s else "-"
        p50 = f"{statistics.median(r.latencies) * 1e3:.2f}" if r.latencies else "-"
        p99 = f"{percentile(r.latencies, 99) * 1e3:.2f}" if r.latencies else "-"
        clients = str(r.clients) if r.clients else "-"
        hub_cpu = f"{r.hub_cpu_s / r.n * 1e3:.2f}" if r.hub_cpu_s is not None else "-"
        client_cpu = f"{r.client_cpu_s / r.n * 1e3:.2f}" if r.client_cpu_s is not None else "-"
        lines.append((r.label, str(r.n), clients, per_s, p50, p99, hub_cpu, client_cpu, r.note))
    print_aligned(header, lines)


def describe_machine(database: str) -> str:
    import fastapi
    import sqlalchemy
    import uvicorn

    libraries = (
        f"uvicorn {uvicorn.__version__}, fastapi {fastapi.__version__}, "
        f"SQLAlchemy {sqlalchemy.__version__}, httpx {httpx.__version__}"
    )
    machine = machine_line(libraries, " (shared by the client and the hub)")
    return f"{machine}\ndatabase: {database}"


def describe_hub_settings() -> str:
    """The hub runs on its defaults; name those that change the intake work."""
    from lienthong.hub.settings import Settings

    defaults = Settings()
    names = ("signature_policy", "max_package_bytes", "signature_window_seconds")
    shown = [f"{n}={getattr(defaults, n)}" for n in names if hasattr(defaults, n)]
    return "hub settings: defaults (" + ", ".join(shown) + "); blobs in a local folder"


def run(cfg: Config, work: Path, database_url: str, profile: str | None, quick: bool) -> int:
    db_label = (
        f"SQLite {sqlite3.sqlite_version} (WAL, synchronous=FULL) in {work}"
        if not database_url
        else pg_version(database_url)
    )
    print(f"Exchange hub intake benchmark ({'quick' if quick else 'full'} run)")
    print(describe_machine(db_label))
    print(describe_source())
    print(describe_hub_settings())
    print(f"load average at start: {loadavg()} (other work on the machine skews the figures)")
    if profile:
        print(f"PROFILING the hub (cProfile in every thread): figures are slowed; {profile}")

    made = Packages()
    warm = made.take(2 * cfg.warmup)
    phases = [made.take(cfg.n) for _ in range(4)]
    idle = made.take(cfg.latency_n)
    loaded = made.take(cfg.n)
    sizes = {len(p) for group in (warm, *phases, idle, loaded) for p in group}
    print(
        f"packages: {sum(len(g) for g in (warm, *phases, idle, loaded))} distinct, "
        f"{min(sizes) / 1000:.1f}–{max(sizes) / 1000:.1f} KB (one {ATTACHMENT_BYTES // 1000} KB "
        f"attachment); N = {cfg.n} per phase\n"
    )

    rows: list[Result] = []
    t0 = time.process_time()
    rows.append(sqlite_commits(work / "floor.db", cfg.commits))
    rows[-1].client_cpu_s = time.process_time() - t0
    if database_url:
        t0 = time.process_time()
        rows.append(pg_commits(database_url, cfg.commits))
        rows[-1].client_cpu_s = time.process_time() - t0

    settings = {"data_dir": str(work / "hub"), "database_url": database_url}
    hub = start_hub(work, settings, profile)
    try:
        bench = Bench(hub)
        m = bench.measured
        rows.insert(0, m(lambda: bench.floor(cfg.floor_requests, 1)))
        rows.insert(1, m(lambda: bench.floor(cfg.floor_requests, CONCURRENCY)))
        # warm-up: both APIs, neither timed nor counted
        bench.rest_intake(warm[: cfg.warmup], 1)
        bench.vdxp_intake(warm[cfg.warmup :], 1)
        bench.sent.clear()
        bench.drain()

        rows.append(m(lambda: bench.rest_intake(phases[0], 1)))
        rows.append(m(lambda: bench.rest_intake(phases[1], CONCURRENCY)))
        rows.append(m(lambda: bench.vdxp_intake(phases[2], 1)))
        rows.append(m(lambda: bench.vdxp_intake(phases[3], CONCURRENCY)))
        ids = list(bench.sent)
        if len(set(ids)) != 4 * cfg.n:
            raise RuntimeError(f"expected {4 * cfg.n} distinct message ids, got {len(set(ids))}")
        n = cfg.n
        rows.append(m(lambda: bench.rest_receive(ids[:n], 1, sizes)))
        rows.append(m(lambda: bench.rest_receive(ids[n : 2 * n], CONCURRENCY, sizes)))
        rows.append(m(lambda: bench.vdxp_receive(ids[2 * n : 3 * n], 1, sizes)))
        rows.append(m(lambda: bench.vdxp_receive(ids[3 * n :], CONCURRENCY, sizes)))
        left = bench.drain()
        if left:
            raise RuntimeError(f"{left} messages were still waiting after the receive phases")
        rows.append(m(lambda: bench.available_idle(idle)))
        rows.append(m(lambda: bench.available_loaded(loaded, CONCURRENCY)))
        bench.drain()

        metrics = hub.metrics()
        rss, peak = hub.rss()
    finally:
        code = hub.stop()
    hub_db = hub_database_url(work, database_url)
    note = "delivered − accepted record"
    for label, ids in ((SERVER_IDLE, bench.idle_ids), (SERVER_LOAD, bench.loaded_ids)):
        rows.append(Result(label, len(ids), 0, None, audit_latencies(hub_db, ids), note))
    print_table(rows)
    accepted = metrics.get("lienthong_accepted_total", 0)
    dispatched = metrics.get("lienthong_dispatched_total", 0)
    errors = sum(v for k, v in metrics.items() if k.startswith("lienthong_errors_total"))
    print(
        f"\nhub counters: accepted {accepted:,}, dispatched {dispatched:,}, errors {errors}; "
        f"hub process RSS at the end {rss / MB:.1f} MB (peak {peak / MB:.1f} MB); "
        f"hub exit code {code}"
    )
    print(f"load average at the end: {loadavg()}")
    print(
        "ops/s: requests (floors), commits, packages accepted, or packages received (fetch + "
        "ack) per second of wall time; p50/p99: per operation, nearest rank"
    )
    print(
        "hub CPU / client CPU: CPU milliseconds (user + system, all threads) per operation "
        "of the hub process / of this client process during the phase"
    )
    print(
        "accept → available: send start → first GET /api/v1/inbox listing the message "
        "(includes the POST, the dispatcher's commit and the polling interval)"
    )
    if profile:
        print(f"hub profile: {profile} (pstats) and {profile}.txt")
    expected = 2 * cfg.warmup + 4 * cfg.n + cfg.latency_n + cfg.n
    if accepted != expected:
        print(f"unexpected: {accepted} accepted, {expected} sent")
        return 1
    return 0


def main(argv: list[str] | None = None) -> int:
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0] if __doc__ else None)
    ap.add_argument("--quick", action="store_true", help="N = 30 per phase (smoke run)")
    ap.add_argument(
        "--database-url",
        default="",
        help="PostgreSQL URL (a fresh schema is created and dropped); default: SQLite",
    )
    ap.add_argument(
        "--profile-server",
        metavar="PATH",
        help="cProfile every thread of the hub; write pstats to PATH and a summary to PATH.txt",
    )
    args = ap.parse_args(argv)

    cfg = QUICK if args.quick else FULL
    profile = os.path.abspath(args.profile_server) if args.profile_server else None
    with tempfile.TemporaryDirectory(prefix="lienthong-hub-bench-") as tmp:
        work = Path(tmp)
        if args.database_url:
            with pg_schema(args.database_url) as url:
                return run(cfg, work, url, profile, args.quick)
        return run(cfg, work, "", profile, args.quick)


if __name__ == "__main__":
    sys.exit(main())
