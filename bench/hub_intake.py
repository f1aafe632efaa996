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
import cProfile
import hashlib
import json
import os
import platform
import pstats
import random
import signal
import socket
import sqlite3
import statistics
import subprocess
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

import lienthong
from lienthong.client.vdxp import VdxpClient
from lienthong.edxml.attachments import Blob
from lienthong.edxml.builder import build
from lienthong.edxml.model import (
    Attachment,
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

MB = 1_000_000
SENDER_AGENCY = "000.00.00.H41"
SENDER_NAME = "Ủy ban nhân dân tỉnh Nghệ An"
RECIPIENT_AGENCY = "000.00.00.G22"
RECIPIENT_NAME = "Văn phòng Chính phủ"
SENDER_SYSTEM = "bench.qlvb.h41"
RECIPIENT_SYSTEM = "bench.qlvb.g22"
ATTACHMENT_BYTES = 12_000
CONCURRENCY = 4
WINDOW_PAGE = 100
_STOPPER = "bench-stop-on-eof"

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
        sender=Organization(
            organ_id=SENDER_AGENCY,
            organization_in_charge=SENDER_NAME,
            organ_name="Văn phòng Ủy ban nhân dân tỉnh Nghệ An",
            organ_add="Số 03 đường Trường Thi, thành phố Vinh, tỉnh Nghệ An",
            email="vanphong@nghean.gov.vn",
            telephone="02383844345",
            website="https://nghean.gov.vn",
        ),
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
            Attachment(
                name=f"{number}-UBND-VX_bao-cao-lien-thong.pdf",
                description=f"Báo cáo số {number}/UBND-VX về liên thông văn bản điện tử",
                content_type="application/pdf",
                content=Blob.from_bytes(content),
            )
        ],
    )


def pdf_attachment(number: int, size: int, rng: random.Random) -> bytes:
    """A structurally valid one-page PDF (unsigned) of about ``size`` bytes: catalog, page,
    Helvetica, one text content stream made distinct by random hex, a correct xref."""
    lines = [b"BT /F1 10 Tf 56 800 Td 12 TL"]
    body = 0
    budget = max(0, size - 700)  # the objects around the stream take ~ 650 bytes
    line_no = 0
    while body < budget:
        line_no += 1
        line = b"(Bao cao so %d, dong %d: %s) '" % (
            number,
            line_no,
            rng.randbytes(24).hex().encode(),
        )
        lines.append(line)
        body += len(line) + 1
    lines.append(b"ET")
    stream = b"\n".join(lines)
    objects = [
        b"<< /Type /Catalog /Pages 2 0 R >>",
        b"<< /Type /Pages /Kids [3 0 R] /Count 1 >>",
        b"<< /Type /Page /Parent 2 0 R /MediaBox [0 0 595 842] "
        b"/Resources << /Font << /F1 4 0 R >> >> /Contents 5 0 R >>",
        b"<< /Type /Font /Subtype /Type1 /BaseFont /Helvetica >>",
        b"<< /Length %d >>\nstream\n%s\nendstream" % (len(stream), stream),
    ]
    out = bytearray(b"%PDF-1.7\n%\xe2\xe3\xcf\xd3\n")
    offsets = []
    for i, obj in enumerate(objects, start=1):
        offsets.append(len(out))
        out += b"%d 0 obj\n%s\nendobj\n" % (i, obj)
    xref = len(out)
    out += b"xref\n0 %d\n0000000000 65535 f \n" % (len(objects) + 1)
    for offset in offsets:
        out += b"%010d 00000 n \n" % offset
    out += b"trailer\n<< /Size %d /Root 1 0 R >>\nstartxref\n%d\n%%%%EOF\n" % (
        len(objects) + 1,
        xref,
    )
    return bytes(out)


class Packages:
    """Distinct packages, built before any clock starts (number and attachment differ)."""

    def __init__(self, seed: int = 2026) -> None:
        self.rng = random.Random(seed)
        self.number = 1000

    def take(self, count: int) -> list[bytes]:
        out = []
        for _ in range(count):
            self.number += 1
            pdf = pdf_attachment(self.number, ATTACHMENT_BYTES, self.rng)
            out.append(build(edoc_model(self.number, pdf)))
        return out


# --------------------------------------------------------------------------- the hub


def serve_child(config_path: str) -> int:
    """The hub process: seed the directory, bind a free port, report it, serve."""
    import uvicorn

    from lienthong.core import logging as jsonlog
    from lienthong.core.settings import Settings
    from lienthong.hub import directory
    from lienthong.hub.app import Hub, create_app

    cfg = json.loads(Path(config_path).read_text(encoding="utf-8"))
    profiles: list[cProfile.Profile] = []
    if cfg.get("profile"):
        profiles = _profile_all_threads()
    jsonlog.configure()  # as `lienthong hub serve`: one JSON line per accepted package
    settings = Settings(
        data_dir=Path(cfg["data_dir"]), database_url=cfg["database_url"], hub_id="lienthong-bench"
    )
    hub = Hub(settings)
    creds: dict[str, dict[str, str]] = {}
    with hub.session() as s:
        directory.add_agency(s, code=SENDER_AGENCY, name=SENDER_NAME)
        directory.add_agency(s, code=RECIPIENT_AGENCY, name=RECIPIENT_NAME)
        for system_id, agency in (
            (SENDER_SYSTEM, SENDER_AGENCY),
            (RECIPIENT_SYSTEM, RECIPIENT_AGENCY),
        ):
            new = directory.add_system(s, system_id=system_id, agencies=[agency], name=system_id)
            creds[system_id] = {"secret": new.secret, "api_key": new.api_key}
    sock = socket.socket(socket.AF_INET, socket.SOCK_STREAM)
    sock.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
    sock.bind(("127.0.0.1", 0))
    port = int(sock.getsockname()[1])
    server = uvicorn.Server(
        uvicorn.Config(create_app(hub), log_level="warning", timeout_graceful_shutdown=10)
    )
    ready = Path(cfg["ready_file"])
    tmp = ready.with_suffix(".tmp")
    tmp.write_text(json.dumps({"port": port, "creds": creds}), encoding="utf-8")
    tmp.replace(ready)
    threading.Thread(target=_exit_on_eof, args=(server,), name=_STOPPER, daemon=True).start()
    try:
        server.run(sockets=[sock])
    finally:
        hub.close()
        if profiles:
            _dump_profiles(profiles, cfg["profile"])
    return 0


def _exit_on_eof(server: Any) -> None:
    """The parent closes our stdin to stop us (uvicorn re-raises SIGTERM after its graceful
    shutdown, which would skip closing the hub and writing the profile)."""
    sys.stdin.buffer.read()
    server.should_exit = True


def _profile_all_threads() -> list[cProfile.Profile]:
    """cProfile every thread of the process: the event loop (this thread) and each worker
    thread started later (the thread pool, the dispatcher) gets its own profiler."""
    profiles: list[cProfile.Profile] = []
    lock = threading.Lock()

    def start(_frame: Any, _event: str, _arg: Any) -> None:
        if threading.current_thread().name == _STOPPER:
            sys.setprofile(None)  # it only waits for the parent
            return
        profiler = cProfile.Profile()
        with lock:
            profiles.append(profiler)
        profiler.enable()  # replaces this hook, in this thread only

    threading.setprofile(start)
    main = cProfile.Profile()
    profiles.append(main)
    main.enable()
    return profiles


class _Snapshot:
    """Stats of a profiler still enabled in another thread, without disabling it there."""

    def __init__(self, profiler: cProfile.Profile) -> None:
        self.profiler = profiler
        self.stats: dict[Any, Any] = {}

    def create_stats(self) -> None:
        self.profiler.snapshot_stats()
        self.stats = self.profiler.stats


def _dump_profiles(profiles: list[cProfile.Profile], path: str) -> None:
    profiles[0].disable()
    stats = pstats.Stats(_Snapshot(profiles[0]))  # type: ignore[arg-type]
    for p in profiles[1:]:
        stats.add(_Snapshot(p))  # type: ignore[arg-type]
    stats.dump_stats(path)
    with open(path + ".txt", "w", encoding="utf-8") as out:
        report = pstats.Stats(path, stream=out)
        report.sort_stats("tottime").print_stats(45)
        report.sort_stats("cumulative").print_stats(60)


@dataclass
class HubProcess:
    proc: subprocess.Popen[bytes]
    url: str
    creds: dict[str, dict[str, str]]
    log_path: Path

    def rss(self) -> tuple[int, int]:
        """(current, peak) resident set size of the hub process, bytes (Linux)."""
        now = peak = 0
        with contextlib.suppress(OSError):
            for line in Path(f"/proc/{self.proc.pid}/status").read_text().splitlines():
                if line.startswith("VmRSS:"):
                    now = int(line.split()[1]) * 1024
                elif line.startswith("VmHWM:"):
                    peak = int(line.split()[1]) * 1024
        return now, peak

    def cpu(self) -> float:
        """CPU seconds (user + system) the hub process has used so far (Linux)."""
        try:
            fields = Path(f"/proc/{self.proc.pid}/stat").read_text().rsplit(")", 1)[1].split()
        except OSError:
            return 0.0
        return (int(fields[11]) + int(fields[12])) / os.sysconf("SC_CLK_TCK")

    def metrics(self) -> dict[str, int]:
        text = httpx.get(self.url + "/metrics", timeout=10).text
        out = {}
        for line in text.splitlines():
            if line and not line.startswith("#"):
                name, _, value = line.rpartition(" ")
                out[name] = int(float(value))
        return out

    def stop(self) -> int:
        """Graceful stop (stdin closed); SIGTERM, then SIGKILL if it hangs."""
        if self.proc.stdin is not None:
            self.proc.stdin.close()
        for action in (None, signal.SIGTERM, signal.SIGKILL):
            if action is not None and self.proc.poll() is None:
                self.proc.send_signal(action)
            try:
                return self.proc.wait(timeout=60)
            except subprocess.TimeoutExpired:
                continue
        return self.proc.wait()


def hub_database_url(work: Path, database_url: str) -> str:
    from lienthong.core.settings import Settings

    return Settings(data_dir=work / "hub", database_url=database_url).effective_database_url


def start_hub(work: Path, database_url: str, profile: str | None) -> HubProcess:
    data_dir = work / "hub"
    ready = work / "ready.json"
    config = work / "hub-config.json"
    config.write_text(
        json.dumps(
            {
                "data_dir": str(data_dir),
                "database_url": database_url,
                "ready_file": str(ready),
                "profile": profile,
            }
        ),
        encoding="utf-8",
    )
    log_path = work / "hub.log"
    with log_path.open("wb") as log:
        proc = subprocess.Popen(
            [sys.executable, os.path.abspath(__file__), "--serve-child", str(config)],
            stdin=subprocess.PIPE,
            stdout=log,
            stderr=subprocess.STDOUT,
        )
    deadline = time.monotonic() + 60
    while not ready.exists():
        if proc.poll() is not None or time.monotonic() > deadline:
            proc.kill()
            raise RuntimeError(f"the hub did not start:\n{_tail(log_path)}")
        time.sleep(0.05)
    info = json.loads(ready.read_text(encoding="utf-8"))
    url = f"http://127.0.0.1:{info['port']}"
    while True:
        try:
            if httpx.get(url + "/readyz", timeout=2).status_code == 200:
                break
        except httpx.HTTPError:
            pass
        if proc.poll() is not None or time.monotonic() > deadline:
            proc.kill()
            raise RuntimeError(f"the hub is not ready:\n{_tail(log_path)}")
        time.sleep(0.05)
    return HubProcess(proc, url, info["creds"], log_path)


def _tail(path: Path, lines: int = 30) -> str:
    try:
        return "\n".join(path.read_text(encoding="utf-8", errors="replace").splitlines()[-lines:])
    except OSError:
        return "(no log)"


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


def percentile(values: Sequence[float], q: float) -> float:
    """Nearest-rank percentile (q in 0..100)."""
    ordered = sorted(values)
    rank = max(1, min(len(ordered), int(-(-q * len(ordered) // 100))))
    return ordered[rank - 1]


def _nothing() -> None:
    return None


def run_clients(
    items: Sequence[Any],
    clients: int,
    make_worker: Callable[[], tuple[Callable[[Any], None], Callable[[], None]]],
) -> tuple[float, list[float]]:
    """Split ``items`` between ``clients`` threads; each thread builds its worker (its own
    HTTP connection, warmed up) before the common start; returns (wall seconds, latencies)."""
    chunks = [list(items[i::clients]) for i in range(clients)]
    latencies: list[list[float]] = [[] for _ in range(clients)]
    errors: list[BaseException] = []
    barrier = threading.Barrier(clients + 1)

    def body(index: int) -> None:
        close: Callable[[], None] = _nothing
        try:
            work, close = make_worker()
            barrier.wait()
            out = latencies[index]
            for item in chunks[index]:
                t0 = time.perf_counter()
                work(item)
                out.append(time.perf_counter() - t0)
        except BaseException as exc:  # reported by the main thread
            errors.append(exc)
            with contextlib.suppress(threading.BrokenBarrierError):
                barrier.abort()
        finally:
            close()

    threads = [threading.Thread(target=body, args=(i,)) for i in range(clients)]
    for t in threads:
        t.start()
    with contextlib.suppress(threading.BrokenBarrierError):
        barrier.wait()
    t0 = time.perf_counter()
    for t in threads:
        t.join()
    wall = time.perf_counter() - t0
    if errors:
        raise errors[0]
    return wall, [x for chunk in latencies for x in chunk]


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
                if r.status_code != 200 or len(r.content) not in sizes:
                    raise RuntimeError(f"fetch {message_id}: HTTP {r.status_code}")
                self.ack(http, message_id)

            return work, http.close

        wall, lat = run_clients(ids, clients, make)
        return Result(REST_RECEIVE, len(ids), clients, wall, lat, "per package: 2 requests")

    def vdxp_receive(self, ids: list[str], clients: int, sizes: set[int]) -> Result:
        def make() -> tuple[Callable[[Any], None], Callable[[], None]]:
            client, http = self.vdxp(RECIPIENT_SYSTEM)

            def work(message_id: str) -> None:
                if len(client.get_edoc(message_id)) not in sizes:
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
    lines: list[tuple[str, ...]] = [header]
    for r in rows:
        per_s = f"{r.per_s:,.0f}" if r.per_s else "-"
        p50 = f"{statistics.median(r.latencies) * 1e3:.2f}" if r.latencies else "-"
        p99 = f"{percentile(r.latencies, 99) * 1e3:.2f}" if r.latencies else "-"
        clients = str(r.clients) if r.clients else "-"
        hub_cpu = f"{r.hub_cpu_s / r.n * 1e3:.2f}" if r.hub_cpu_s is not None else "-"
        client_cpu = f"{r.client_cpu_s / r.n * 1e3:.2f}" if r.client_cpu_s is not None else "-"
        lines.append((r.label, str(r.n), clients, per_s, p50, p99, hub_cpu, client_cpu, r.note))
    widths = [max(len(line[i]) for line in lines) for i in range(len(header))]
    for i, line in enumerate(lines):
        cells = [
            c.ljust(w) if j in (0, 8) else c.rjust(w)
            for j, (c, w) in enumerate(zip(line, widths, strict=True))
        ]
        print("  ".join(cells).rstrip())
        if i == 0:
            print("  ".join("-" * w for w in widths))


def describe_machine(database: str) -> str:
    import fastapi
    import sqlalchemy
    import uvicorn

    cpu = platform.processor() or platform.machine()
    with contextlib.suppress(OSError):
        for line in Path("/proc/cpuinfo").read_text().splitlines():
            if line.startswith("model name"):
                cpu = line.split(":", 1)[1].strip()
                break
    return (
        f"{os.cpu_count()} CPUs (shared by the client and the hub), {cpu}; "
        f"Python {platform.python_version()}; uvicorn {uvicorn.__version__}, "
        f"fastapi {fastapi.__version__}, SQLAlchemy {sqlalchemy.__version__}, "
        f"httpx {httpx.__version__}; lienthong {lienthong.__version__}\n"
        f"database: {database}"
    )


def describe_hub_settings() -> str:
    """The hub runs on its defaults; name those that change the intake work."""
    from lienthong.core.settings import Settings

    defaults = Settings()
    names = ("signature_policy", "max_package_bytes", "signature_window_seconds")
    shown = [f"{n}={getattr(defaults, n)}" for n in names if hasattr(defaults, n)]
    return "hub settings: defaults (" + ", ".join(shown) + "); blobs in a local folder"


def _loadavg() -> str:
    try:
        return " ".join(Path("/proc/loadavg").read_text().split()[:3])
    except OSError:
        return "unknown"


def describe_source() -> str:
    """The commit measured and, when src/ differs from it (others edit concurrently), how:
    the files changed and a fingerprint of the working tree's differences."""
    root = Path(__file__).resolve().parents[1]

    def git(*args: str) -> str:
        return subprocess.run(
            ["git", "-C", str(root), *args], capture_output=True, text=True, check=True
        ).stdout

    try:
        commit = git("rev-parse", "--short", "HEAD").strip()
        changed = git("diff", "HEAD", "--name-only", "--", "src").split()
        untracked = git("ls-files", "--others", "--exclude-standard", "--", "src").split()
        diff = git("diff", "HEAD", "--", "src")
    except (OSError, subprocess.CalledProcessError):
        return "source: unknown (not a git checkout)"
    if not changed and not untracked:
        return f"source: commit {commit}, no local changes in src/"
    h = hashlib.sha256(diff.encode("utf-8"))
    for name in sorted(untracked):
        h.update(name.encode("utf-8"))
        with contextlib.suppress(OSError):
            h.update((root / name).read_bytes())
    return (
        f"source: commit {commit} + uncommitted changes in src/ ({len(changed)} modified, "
        f"{len(untracked)} new files; fingerprint {h.hexdigest()[:12]})"
    )


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
    print(f"load average at start: {_loadavg()} (other work on the machine skews the figures)")
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

    hub = start_hub(work, database_url, profile)
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
    print(f"load average at the end: {_loadavg()}")
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
    ap.add_argument("--serve-child", metavar="CONFIG", help=argparse.SUPPRESS)
    args = ap.parse_args(argv)
    if args.serve_child:
        return serve_child(args.serve_child)

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
