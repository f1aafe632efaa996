"""End-to-end latency and throughput through three hubs, next to one hub in the same run.

Usage::

    python bench/federation.py                  # 300 docs one at a time, 1000 with 4 senders
    python bench/federation.py --quick          # smoke run (tiny)
    python bench/federation.py --docs 100 --throughput-docs 400 --concurrency 8
    python bench/federation.py --policy flag    # the hubs verify signatures at intake
    python bench/federation.py --profile /tmp/fed-prof   # diagnosis only (slows the hubs)

The network is a subset of :func:`lienthong.devnet.network.standard_plans` — the national hub
``vn`` and the provincial hubs ``h41`` (Nghệ An) and ``h42`` (Hà Tĩnh) — provisioned by
:func:`lienthong.devnet.network.provision` in a temporary directory: each hub has its own
embedded store (SQLite WAL + a local blob folder) and its own credentials, and each runs as
**its own OS process** (:func:`lienthong.devnet.network.spawn`, i.e. ``lienthong hub serve``:
uvicorn, one GIL per hub). The signature policy is ``off`` by default (no verification at
intake; the packages are unsigned), ``--policy flag`` verifies and records.

Two paths, measured side by side in the same run:

* **3 hubs**: commune Hưng Bình (system ``qlvb.hungbinh`` at h41) → h41 → national ``vn`` →
  h42 → commune Bắc Hà (system ``qlvb.bacha`` at h42): two relays and one push;
* **1 hub** (baseline): Hưng Bình → h41 → commune Lê Lợi (system ``qlvb.leloi`` at h41): one
  push.

Both receiving systems are registered with a **callback URL** served by a small HTTP
receiver inside this process (push delivery, ``HubPlan.callbacks``). The receiver stamps the
arrival time of every push as soon as its body is read, then checks
``X-Lienthong-Signature`` (``verify_push`` with the receiving system's secret)
and parses the package: its ``DocumentId`` says which document it is (message ids are per
hub), its TraceHeaders must name the hubs of its path in order, and around them the
sender's bytes must be intact (the delivering hub inserts one TraceHeader per hop, nothing
else changes). Latency = arrival − the moment the send (REST ``POST /api/v1/packages`` to h41
with :class:`lienthong.client.rest.HubClient`) started.

Phases, in this order:

1. per-post cost of an HTTP client in this process, to the receiver: ``httpx.post`` (a new
   client, i.e. a new TLS context and connection, for every post: what the relay and the
   push did before ``hub/relay.py``) and one kept-alive ``httpx.Client`` (what
   ``hub/relay.py`` does) — the floor of one hop, for reading the hub-to-hub steps;
2. warm-up (not counted);
3. latency: ``--docs`` documents per path, **one at a time** (the next send starts after the
   previous document arrived), the two paths alternating so that both see the same machine;
4. throughput: ``--throughput-docs`` documents per path with ``--concurrency`` senders (each
   sends its next document as soon as the hub answered); docs/s = documents / (last arrival
   − first send start); the 1-hub phase, then the 3-hub phase;
5. after the hubs stopped: where the time goes — each hub's audit log (``accepted``,
   ``delivered`` records, stamped inside the hubs, linked across hubs by the SHA-256 of the
   package as sent, which every ``accepted`` record holds: relays carry the sender's bytes)
   splits every phase's documents into intake, relay, dispatch and push steps.

Every document is checked: it arrives exactly once, at the right system, with a valid
signature and the expected trace; hub counters (accepted, relay/push attempts) are compared
with what was sent, retries and the failures the hubs logged are reported. ``--profile DIR``
(diagnosis only) runs each hub under cProfile in every thread (the hubs still start through
``spawn``: a ``sitecustomize`` on ``PYTHONPATH``) and writes ``DIR/<hub>.pstats``.
Packages are distinct realistic công văn (≈ 30 KB, built by
:func:`lienthong.edxml.builder.build`, one ≈ 20 KB one-page PDF attachment), built before
any clock starts. The hubs, this process and its receiver share the machine's cores. The
goal (p50 < 100 ms across three hubs) is printed with whether it is met; nothing else is
asserted. Ctrl-C (or SIGTERM) stops the hub processes.
"""

from __future__ import annotations

import argparse
import contextlib
import hashlib
import itertools
import json
import os
import random
import re
import signal
import statistics
import subprocess
import sys
import tempfile
import threading
import time
from collections import Counter
from collections.abc import Callable, Iterator, Sequence
from dataclasses import dataclass, field
from datetime import UTC
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from pathlib import Path
from typing import Any

import httpx

from lienthong.client.rest import HubClient
from lienthong.devnet import network as hubnet
from lienthong.edxml.builder import build
from lienthong.edxml.errors import EdxmlError
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
from lienthong.edxml.parser import parse
from lienthong.protocol.push import PushSignatureError, verify_push

sys.path.insert(0, str(Path(__file__).resolve().parents[1]))  # run as `python bench/X.py`
from bench.common import (
    describe_source,
    filler_pdf,
    loadavg,
    machine_line,
    pdf_attachment,
    percentile,
    print_aligned,
    run_clients,
    scrape_metrics,
    tail,
)

HUBS = ("vn", "h41", "h42")
SENDER_SYSTEM = "qlvb.hungbinh"
SENDER_CODE = "000.01.31.H41"
SENDER_NAME = "UBND phường Hưng Bình (mẫu)"
ATTACHMENT_BYTES = 20_000
GOAL_P50_S = 0.100
ARRIVAL_TIMEOUT_S = 30.0  # one document, one at a time
ATTEMPTS = "lienthong_relay_attempts_total"


@dataclass(frozen=True)
class Route:
    name: str  # "1 hub" / "3 hubs"
    way: str
    recipient_code: str
    recipient_name: str
    system: str  # the receiving system (push)
    hubs: tuple[str, ...]  # the hubs on the way, the receiving system's last

    @property
    def hub(self) -> str:
        return self.hubs[-1]


ONE = Route(
    "1 hub",
    "Hưng Bình → h41 → Lê Lợi",
    "000.02.31.H41",
    "UBND phường Lê Lợi (mẫu)",
    "qlvb.leloi",
    ("h41",),
)
THREE = Route(
    "3 hubs",
    "Hưng Bình → h41 → vn → h42 → Bắc Hà",
    "000.01.31.H42",
    "UBND phường Bắc Hà (mẫu)",
    "qlvb.bacha",
    ("h41", "vn", "h42"),
)
ROUTES = (ONE, THREE)

# Row labels (the smoke test looks for them).
PROBE_FRESH = "per post: a new httpx client each time"
PROBE_KEPT = "per post: one kept-alive httpx.Client"


def latency_label(route: Route) -> str:
    return f"latency, {route.name}: {route.way}"


def throughput_label(route: Route) -> str:
    return f"throughput, {route.name}: {route.way}"


@dataclass(frozen=True)
class Config:
    docs: int  # per path, one at a time
    throughput_docs: int  # per path, concurrent senders
    concurrency: int
    warmup: int  # per path
    probe: int  # posts per probe row


FULL = Config(docs=300, throughput_docs=1000, concurrency=4, warmup=5, probe=100)
QUICK = Config(docs=8, throughput_docs=16, concurrency=2, warmup=2, probe=10)


# --------------------------------------------------------------------------- packages


def edoc_model(number: int, route: Route, content: bytes) -> Edoc:
    """A công văn of the Hưng Bình ward People's Committee to another ward's."""
    return Edoc(
        sender=Organization(
            organ_id=SENDER_CODE,
            organization_in_charge="UBND thành phố Vinh (mẫu)",
            organ_name=SENDER_NAME,
            organ_add="Số 1 đường Lê Hồng Phong, phường Hưng Bình, thành phố Vinh, tỉnh Nghệ An",
            email="ubndhungbinh@nghean.gov.vn",
            telephone="02383844000",
        ),
        recipients=[Organization(organ_id=route.recipient_code, organ_name=route.recipient_name)],
        code=DocumentCode(number=str(number), notation="UBND-VP"),
        promulgation=PromulgationInfo(place="Vinh", date="2026/11/20"),
        document_type=DocumentType(type="1", type_detail="0", type_name="Công văn"),
        subject=(
            f"V/v phối hợp số {number} trong công tác cải cách hành chính và liên thông văn bản "
            "điện tử giữa Ủy ban nhân dân các phường"
        ),
        content=(
            "Thực hiện Nghị định số 30/2020/NĐ-CP ngày 05/3/2020 của Chính phủ về công tác văn "
            "thư, Ủy ban nhân dân phường Hưng Bình đề nghị Quý cơ quan phối hợp rà soát danh "
            "mục thủ tục hành chính liên thông và gửi ý kiến bằng văn bản điện tử."
        ),
        signer=SignerInfo(
            competence="TM. ỦY BAN NHÂN DÂN", position="CHỦ TỊCH", full_name="Trần Văn Hùng"
        ),
        due_date="2026/12/15",
        other_info=OtherInfo(
            priority="1",
            sphere_of_promulgation="Liên thông văn bản quốc gia",
            typer_notation="NTH",
            promulgation_amount="2",
            page_amount="1",
        ),
        steering_type="1",
        to_places=["Như trên", "Lưu: VT"],
        trace_headers=[TraceHeader(organ_id=SENDER_CODE, timestamp="2026/11/20 08:30:15")],
        business=Business(doc_type="0", reason="Văn bản điện tử mới", paper="0"),
        attachments=[
            pdf_attachment(
                f"{number}-UBND-VP_phoi-hop.pdf",
                f"Công văn số {number}/UBND-VP",
                content,
            )
        ],
    )


@dataclass(frozen=True)
class Doc:
    key: str  # the DocumentId: what identifies the document when it arrives
    data: bytes  # the package as sent
    digest: str  # its SHA-256, as each hub's ``accepted`` audit record holds it


class Packages:
    """Distinct packages, built before any clock starts (number and attachment differ)."""

    def __init__(self, seed: int = 2026) -> None:
        self.rng = random.Random(seed)
        self.number = 5000

    def take(self, route: Route, count: int) -> list[Doc]:
        out = []
        for _ in range(count):
            self.number += 1
            pdf = filler_pdf(self.number, ATTACHMENT_BYTES, self.rng)
            data = build(edoc_model(self.number, route, pdf))
            out.append(Doc(document_key(data), data, sha256(data)))
        return out


def document_key(data: bytes) -> str:
    package = parse(data)
    if not isinstance(package, Edoc) or not package.document_id:
        raise ValueError("not a document package")
    return package.document_id


def sha256(data: bytes) -> str:
    return hashlib.sha256(data).hexdigest()


# --------------------------------------------------------------------------- receiver


@dataclass(frozen=True)
class Arrival:
    at: float  # time.perf_counter()
    wall: float  # time.time(), to compare with the hubs' audit records
    system: str
    message_id: str
    hops: tuple[str, ...]  # the hubs the delivered TraceHeaders name, in order
    exact: bool  # the sender's bytes, unchanged around the inserted TraceHeaders


_TRACE_CLOSE = re.compile(rb"</((?:[A-Za-z_][\w.-]*:)?)TraceHeaderList\s*>")


def sent_intact(sent: bytes, delivered: bytes) -> bool:
    """``delivered`` is ``sent`` with bytes inserted where its TraceHeaderList closes, and
    nothing else changed (the hubs append their TraceHeaders there)."""
    close = _TRACE_CLOSE.search(sent)
    at = close.start() if close else len(sent)
    return (
        len(delivered) >= len(sent)
        and delivered.startswith(sent[:at])
        and delivered.endswith(sent[at:])
    )


class Receiver:
    """The receiving systems' callback endpoint, ``POST /push/<system id>``: the arrival is
    stamped as soon as the body is read; then the signature is checked with the system's
    secret and the package is parsed (which document, which hubs its TraceHeaders name,
    the sender's bytes intact). ``POST /probe`` only answers (the per-post client cost)."""

    def __init__(self) -> None:
        self.secrets: dict[str, str] = {}  # system id → secret, known after provisioning
        self.expected: dict[str, bytes] = {}  # document key → the package as sent
        self.arrivals: dict[str, list[Arrival]] = {}  # document key → arrivals
        self.unknown = 0  # pushes of documents not sent by this run
        self.refused: list[str] = []  # what was wrong with refused pushes
        self.cond = threading.Condition()
        receiver = self

        class Handler(BaseHTTPRequestHandler):
            protocol_version = "HTTP/1.1"  # keep-alive for clients that keep connections

            def do_POST(self) -> None:
                length = int(self.headers.get("Content-Length") or 0)
                body = self.rfile.read(length)
                at, wall = time.perf_counter(), time.time()
                status = 200
                if self.path != "/probe":
                    status = receiver.record(self.path, self.headers, body, at, wall)
                self.send_response(status)
                self.send_header("Content-Length", "0")
                self.end_headers()

            def log_message(self, *_args: Any) -> None:
                pass

        self.server = ThreadingHTTPServer(("127.0.0.1", 0), Handler)
        self.server.daemon_threads = True
        self.base = f"http://127.0.0.1:{self.server.server_address[1]}"
        self.thread = threading.Thread(target=self.server.serve_forever, daemon=True)
        self.thread.start()

    def url(self, system: str) -> str:
        return f"{self.base}/push/{system}"

    def expect(self, docs: Sequence[Doc]) -> None:
        with self.cond:
            self.expected.update((d.key, d.data) for d in docs)

    def record(self, path: str, headers: Any, body: bytes, at: float, wall: float) -> int:
        system = path.rsplit("/", 1)[-1]
        secret = self.secrets.get(system)
        signature = headers.get("X-Lienthong-Signature", "")
        message_id = headers.get("X-Lienthong-Message-Id", "")
        problem, key = "", ""
        hops: tuple[str, ...] = ()
        try:
            verify_push(secret or "", body, dict(headers.items()))
            signed = bool(secret and signature)
        except PushSignatureError:
            signed = False
        if not signed:
            problem = "bad or missing X-Lienthong-Signature"
        elif not message_id:
            problem = "no X-Lienthong-Message-Id"
        else:
            try:
                package = parse(body)
            except EdxmlError as exc:
                package, problem = None, f"not a valid package: {exc}"
            if isinstance(package, Edoc):
                key = package.document_id or ""
                hops = tuple(t.organ_id or "" for t in package.trace_headers if t.organ_id in HUBS)
            elif not problem:
                problem = "not a document package"
        with self.cond:
            if problem:
                self.refused.append(f"{system}: {problem}")
            elif key not in self.expected:
                self.unknown += 1
            else:
                exact = sent_intact(self.expected[key], body)
                arrival = Arrival(at, wall, system, message_id, hops, exact)
                self.arrivals.setdefault(key, []).append(arrival)
            self.cond.notify_all()
        return 400 if problem else 200

    def wait(self, keys: Sequence[str], timeout: float) -> None:
        """Until every document of ``keys`` arrived (or a push was refused)."""
        deadline = time.monotonic() + timeout
        with self.cond:
            while True:
                if self.refused:
                    raise RuntimeError(f"a push was refused: {self.refused[0]}")
                missing = sum(1 for k in keys if k not in self.arrivals)
                if not missing:
                    return
                left = deadline - time.monotonic()
                if left <= 0:
                    raise RuntimeError(f"{missing} of {len(keys)} documents never arrived")
                self.cond.wait(left)

    def first(self, key: str) -> Arrival:
        with self.cond:
            return self.arrivals[key][0]

    def close(self) -> None:
        self.server.shutdown()
        self.server.server_close()


def probe(url: str, posts: int) -> tuple[list[float], list[float]]:
    """Seconds per POST of a 30 KB body: fresh ``httpx.post`` each time, then one client."""
    body = os.urandom(30_000)
    fresh, kept = [], []
    httpx.post(url, content=body, timeout=30).raise_for_status()
    for _ in range(posts):
        t0 = time.perf_counter()
        httpx.post(url, content=body, timeout=30).raise_for_status()
        fresh.append(time.perf_counter() - t0)
    with httpx.Client(timeout=30) as client:
        client.post(url, content=body).raise_for_status()
        for _ in range(posts):
            t0 = time.perf_counter()
            client.post(url, content=body).raise_for_status()
            kept.append(time.perf_counter() - t0)
    return fresh, kept


# --------------------------------------------------------------------------- hubs


def proc_cpu(pid: int) -> float:
    """CPU seconds (user + system) used so far by process ``pid`` (Linux)."""
    try:
        fields = Path(f"/proc/{pid}/stat").read_text().rsplit(")", 1)[1].split()
    except OSError:
        return 0.0
    return (int(fields[11]) + int(fields[12])) / os.sysconf("SC_CLK_TCK")


@dataclass
class Hubs:
    network: hubnet.Network
    procs: dict[str, subprocess.Popen[bytes]] = field(default_factory=dict)
    exit_codes: dict[str, int] = field(default_factory=dict)

    def log(self, hub_id: str) -> Path:
        return self.network.base_dir / hub_id / "serve.log"

    def cpu(self) -> dict[str, float]:
        return {h: proc_cpu(p.pid) for h, p in self.procs.items()}

    def counters(self, hub_id: str) -> dict[str, int]:
        return scrape_metrics(self.network.url(hub_id))

    def logs(self) -> str:
        return "\n".join(f"--- {h} ({self.log(h)}):\n{tail(self.log(h), 15)}" for h in self.procs)

    def stop(self) -> None:
        """SIGINT, as Ctrl-C: uvicorn shuts down gracefully, then ``lienthong hub serve``
        closes the hub (worker, relay pool, database) and exits 0; SIGTERM, then SIGKILL,
        if a hub hangs. Every process started is waited for."""
        for proc in self.procs.values():
            if proc.poll() is None:
                proc.send_signal(signal.SIGINT)
        for hub_id, proc in self.procs.items():
            for then in (signal.SIGTERM, signal.SIGKILL, None):
                try:
                    self.exit_codes[hub_id] = proc.wait(timeout=20)
                    break
                except subprocess.TimeoutExpired:
                    if then is None:
                        raise
                    proc.send_signal(then)


_SITECUSTOMIZE = """\
# Written by bench/federation.py --profile: cProfile every thread of a hub process.
import os

if os.environ.get("LT_BENCH_PROFILE_DIR") and os.environ.get("LIENTHONG_CONFIG"):
    import atexit
    import sys

    sys.path.insert(0, {root!r})
    from bench.common import _dump_profiles, _profile_all_threads

    sys.path.remove({root!r})
    _hub = os.path.basename(os.path.dirname(os.environ["LIENTHONG_CONFIG"]))
    _out = os.path.join(os.environ["LT_BENCH_PROFILE_DIR"], _hub + ".pstats")
    atexit.register(_dump_profiles, _profile_all_threads(), _out)
"""


def profile_hubs(directory: Path) -> None:
    """Hub processes started after this call cProfile every thread (bench.common's profiler)
    and write ``<directory>/<hub id>.pstats`` and ``.pstats.txt`` when they exit. They still
    start through :func:`lienthong.devnet.network.spawn` (``lienthong hub serve``), which passes
    this process's environment on: a ``sitecustomize`` module on ``PYTHONPATH`` does it."""
    directory.mkdir(parents=True, exist_ok=True)
    site = directory / "site"
    site.mkdir(exist_ok=True)
    root = str(Path(__file__).resolve().parents[1])
    (site / "sitecustomize.py").write_text(_SITECUSTOMIZE.format(root=root), encoding="utf-8")
    paths = [str(site), *filter(None, [os.environ.get("PYTHONPATH")])]
    os.environ["PYTHONPATH"] = os.pathsep.join(paths)
    os.environ["LT_BENCH_PROFILE_DIR"] = str(directory)


@contextlib.contextmanager
def running_hubs(base: Path, receiver: Receiver, policy: str) -> Iterator[Hubs]:
    plans = [p for p in hubnet.standard_plans() if p.hub_id in HUBS]
    for plan in plans:
        for route in ROUTES:
            if plan.hub_id == route.hub:
                plan.callbacks[route.system] = receiver.url(route.system)
    network = hubnet.provision(plans, base, signature_policy=policy)
    for route in ROUTES:
        receiver.secrets[route.system] = str(network.credentials[route.system]["secret"])
    hubs = Hubs(network)
    try:
        for hub_id in HUBS:
            hubs.procs[hub_id] = hubnet.spawn(network, hub_id, log=hubs.log(hub_id))
        yield hubs
    finally:
        hubs.stop()


# --------------------------------------------------------------------------- measuring


@dataclass
class Sent:
    route: Route
    doc: Doc
    t0: float  # perf_counter at the start of the send
    wall0: float  # time.time() at the start of the send
    answered: float  # perf_counter when h41 answered 201


@dataclass
class Row:
    label: str
    route: Route
    sent: list[Sent]
    senders: int
    latencies: list[float]
    docs_per_s: float | None = None
    hub_cpu: dict[str, float] = field(default_factory=dict)  # CPU seconds in the phase
    note: str = ""


class Bench:
    def __init__(self, hubs: Hubs, receiver: Receiver) -> None:
        self.hubs = hubs
        self.receiver = receiver
        self.url = hubs.network.url("h41")
        self.key = hubs.network.key(SENDER_SYSTEM)
        self.sent: list[Sent] = []  # every document, warm-up included
        self.latency_cpu: dict[str, float] = {}  # hub → CPU seconds per latency-phase document
        self.lock = threading.Lock()

    def client(self) -> tuple[HubClient, httpx.Client]:
        http = httpx.Client(timeout=60)
        http.get(self.url + "/healthz").raise_for_status()  # connected before any clock
        return HubClient(self.url, self.key, http=http), http

    def send(self, client: HubClient, route: Route, doc: Doc) -> Sent:
        wall0, t0 = time.time(), time.perf_counter()
        data = client.send(doc.data)
        answered = time.perf_counter()
        failed = [r for r in data.get("recipients", []) if r.get("failure_code")]
        if data.get("code") != "ACCEPTED" or data.get("duplicate") or failed:
            raise RuntimeError(f"h41 did not accept the package: {data}")
        sent = Sent(route, doc, t0, wall0, answered)
        with self.lock:
            self.sent.append(sent)
        return sent

    def one_at_a_time(self, work: Sequence[tuple[Route, Doc]]) -> list[Sent]:
        client, http = self.client()
        out = []
        try:
            for route, doc in work:
                sent = self.send(client, route, doc)
                try:
                    self.receiver.wait([doc.key], ARRIVAL_TIMEOUT_S)
                except RuntimeError as exc:
                    raise RuntimeError(f"{route.name}: {exc}\n{self.hubs.logs()}") from None
                out.append(sent)
        finally:
            http.close()
        return out

    def latency(self, packages: dict[Route, list[Doc]], n: int) -> list[Row]:
        """``n`` documents per path, one at a time, the paths alternating (ABBA…)."""
        work = []
        for i in range(n):
            order = ROUTES if i % 2 == 0 else ROUTES[::-1]
            work += [(route, packages[route][i]) for route in order]
        cpu0 = self.hubs.cpu()
        sent = self.one_at_a_time(work)
        cpu1 = self.hubs.cpu()
        self.latency_cpu = {h: (cpu1[h] - cpu0[h]) / n for h in cpu0}  # per doc of each path
        rows = []
        for route in ROUTES:
            mine = [s for s in sent if s.route is route]
            lat = [self.receiver.first(s.doc.key).at - s.t0 for s in mine]
            post = statistics.median(s.answered - s.t0 for s in mine)
            note = (
                f"one at a time, paths alternating; POST to h41 answered p50 {post * 1e3:.1f} ms; "
                f"load {os.getloadavg()[0]:.1f}"
            )
            rows.append(Row(latency_label(route), route, mine, 1, lat, note=note))
        return rows

    def throughput(self, route: Route, packages: list[Doc], senders: int) -> Row:
        mine: list[Sent] = []

        def make() -> tuple[Callable[[Any], None], Callable[[], None]]:
            client, http = self.client()

            def work(doc: Doc) -> None:
                sent = self.send(client, route, doc)
                with self.lock:
                    mine.append(sent)

            return work, http.close

        cpu0 = self.hubs.cpu()
        wall, _ = run_clients(packages, senders, make)
        try:
            self.receiver.wait([s.doc.key for s in mine], max(60.0, len(packages) * 0.5))
        except RuntimeError as exc:
            raise RuntimeError(f"{route.name}: {exc}\n{self.hubs.logs()}") from None
        cpu1 = self.hubs.cpu()
        arrivals = [self.receiver.first(s.doc.key).at for s in mine]
        span = max(arrivals) - min(s.t0 for s in mine)
        lat = [a - s.t0 for a, s in zip(arrivals, mine, strict=True)]
        note = f"h41 accepted {len(packages) / wall:,.0f} docs/s; load {os.getloadavg()[0]:.1f}"
        return Row(
            throughput_label(route),
            route,
            mine,
            senders,
            lat,
            docs_per_s=len(packages) / span,
            hub_cpu={h: cpu1[h] - cpu0[h] for h in cpu0},
            note=note,
        )


# --------------------------------------------------------------------------- audit

AuditLog = tuple[dict[str, str], dict[tuple[str, str], float]]


def audit_times(database_url: str) -> AuditLog:
    """(body SHA-256 → message id, (message id, event) → first time) of one hub's audit log,
    for the ``accepted`` and ``delivered`` records."""
    from sqlalchemy import select

    from lienthong.core.db import make_engine
    from lienthong.hub.models import AuditEvent

    by_digest: dict[str, str] = {}
    at: dict[tuple[str, str], float] = {}
    engine = make_engine(database_url)
    try:
        with engine.connect() as conn:
            rows = conn.execute(
                select(AuditEvent.message_id, AuditEvent.event, AuditEvent.at, AuditEvent.detail)
                .where(AuditEvent.event.in_(("accepted", "delivered")))
                .order_by(AuditEvent.seq)
            )
            for message_id, event, when, detail in rows:
                if message_id is None:
                    continue
                stamp = when if when.tzinfo else when.replace(tzinfo=UTC)
                at.setdefault((str(message_id), str(event)), stamp.timestamp())
                if event == "accepted":
                    digest = json.loads(detail or "{}").get("sha256")
                    if digest:
                        by_digest[str(digest)] = str(message_id)
    finally:
        engine.dispose()
    return by_digest, at


@dataclass
class Step:
    label: str
    values: list[float]


def breakdown(
    logs: dict[str, AuditLog], receiver: Receiver, route: Route, sent: Sequence[Sent]
) -> tuple[list[Step], int]:
    """The steps of each document's way from the hubs' audit records; returns the steps and
    how many documents could not be traced (a record missing)."""
    way = route.hubs
    labels = ["send start → accepted at h41 (h41 intake)"]
    for prev, hub in itertools.pairwise(way):
        labels.append(
            f"accepted at {prev} → accepted at {hub} ({prev} dispatcher + relay POST + "
            f"{hub} intake)"
        )
    labels.append(f"accepted at {route.hub} → available ({route.hub} dispatcher)")
    labels.append(f"available → arrived at {route.system} ({route.hub} dispatcher: push POST)")
    steps = [Step(label, []) for label in labels]
    untraced = 0
    for s in sent:
        try:
            times = [s.wall0]
            for hub in way:
                by_digest, at = logs[hub]
                times.append(at[(by_digest[s.doc.digest], "accepted")])
            by_digest, at = logs[route.hub]
            times.append(at[(by_digest[s.doc.digest], "delivered")])
        except KeyError:
            untraced += 1
            continue
        times.append(receiver.first(s.doc.key).wall)
        for step, (a, b) in zip(steps, itertools.pairwise(times), strict=True):
            step.values.append(b - a)
    return steps, untraced


# --------------------------------------------------------------------------- report


def ms(seconds: float) -> str:
    return f"{seconds * 1e3:.1f}"


def print_rows(rows: list[Row], probes: list[tuple[str, list[float]]]) -> None:
    header = (
        "case",
        "n",
        "senders",
        "docs/s",
        "p50 ms",
        "p99 ms",
        "max ms",
        "vs 1 hub",
        "hub CPU ms/doc",
        "note",
    )
    lines: list[tuple[str, ...]] = []
    for label, values in probes:
        p50, p99, top = ms(statistics.median(values)), ms(percentile(values, 99)), ms(max(values))
        lines.append(
            (
                label,
                str(len(values)),
                "1",
                "-",
                p50,
                p99,
                top,
                "-",
                "-",
                "this process → receiver, 30 KB",
            )
        )
    base: dict[str, Row] = {}
    for r in rows:
        kind = r.label.split(",")[0]
        if r.route is ONE:
            base[kind] = r
            versus = "(baseline)"
        elif r.docs_per_s is not None:
            versus = f"{r.docs_per_s / (base[kind].docs_per_s or 1):.2f}× docs/s"
        else:
            ratio = statistics.median(r.latencies) / statistics.median(base[kind].latencies)
            versus = f"{ratio:.2f}× p50"
        n = len(r.sent)
        cpu = (
            " · ".join(f"{h} {r.hub_cpu[h] / n * 1e3:.1f}" for h in HUBS if r.hub_cpu.get(h)) or "-"
        )
        lines.append(
            (
                r.label,
                str(n),
                str(r.senders),
                f"{r.docs_per_s:,.1f}" if r.docs_per_s is not None else "-",
                ms(statistics.median(r.latencies)),
                ms(percentile(r.latencies, 99)),
                ms(max(r.latencies)),
                versus,
                cpu,
                r.note,
            )
        )
    print_aligned(header, lines)


def print_steps(title: str, steps: list[Step], untraced: int) -> None:
    n = len(steps[0].values) if steps else 0
    print(f"\n{title}, from the hubs' audit logs ({n} documents)")
    if not n:
        print("  (no document could be traced)")
        return
    total = sum(statistics.fmean(s.values) for s in steps)
    lines = [
        (
            s.label,
            ms(statistics.median(s.values)),
            ms(percentile(s.values, 99)),
            ms(statistics.fmean(s.values)),
            f"{statistics.fmean(s.values) / total * 100:.0f} %",
        )
        for s in steps
    ]
    lines.append(("total (send start → arrival)", "-", "-", ms(total), "100 %"))
    print_aligned(("step", "p50 ms", "p99 ms", "mean ms", "of mean"), lines)
    if untraced:
        print(f"  ({untraced} documents not traced: an audit record was missing)")


def check_deliveries(bench: Bench, receiver: Receiver) -> list[str]:
    """Every document arrived exactly once at its system, its TraceHeaders naming the hubs
    of its path in order, the sender's bytes intact around them; nothing else arrived."""
    problems = []
    for route in ROUTES:
        mine = [s for s in bench.sent if s.route is route]
        got = [a for s in mine for a in receiver.arrivals.get(s.doc.key, [])]
        once = sum(1 for s in mine if len(receiver.arrivals.get(s.doc.key, [])) == 1)
        wrong = sum(1 for a in got if a.system != route.system)
        traced = sum(1 for a in got if a.hops == route.hubs)
        intact = sum(1 for a in got if a.exact)
        print(
            f"delivery check, {route.name}: {once} of {len(mine)} documents arrived exactly once "
            f"at {route.system}; {wrong} at a wrong system; {traced} with TraceHeaders "
            f"{' → '.join(route.hubs)}; {intact} with the sender's bytes intact"
        )
        if once != len(mine) or wrong or traced != len(got) or intact != len(got):
            problems.append(
                f"{route.name}: {len(mine) - once} not exactly once, {wrong} misrouted, "
                f"{len(got) - traced} with another trace, {len(got) - intact} altered"
            )
    valid = sum(len(v) for v in receiver.arrivals.values()) + receiver.unknown
    print(
        f"pushes: {valid} with a valid signature (HMAC-SHA256, the system's secret), "
        f"{len(receiver.refused)} refused; {receiver.unknown} unknown documents"
    )
    if receiver.refused or receiver.unknown:
        problems.append(f"{len(receiver.refused)} pushes refused, {receiver.unknown} unknown")
    return problems


def expected_counts(bench: Bench) -> dict[str, int]:
    """Documents each hub accepts, and sends on (one relay or one push each)."""
    far = sum(1 for s in bench.sent if s.route is THREE)
    return {"h41": len(bench.sent), "vn": far, "h42": far}


def settled_counters(hubs: Hubs, expected: dict[str, int]) -> dict[str, dict[str, int]]:
    """Each hub's counters, once its relay/push attempts are all counted: a round's attempts
    are counted after its last settle, which may come after the push has arrived."""
    deadline = time.monotonic() + 15
    while True:
        counters = {h: hubs.counters(h) for h in HUBS}
        if time.monotonic() > deadline or all(
            counters[h].get(ATTEMPTS, 0) >= expected[h] for h in HUBS
        ):
            return counters
        time.sleep(0.1)


def check_counters(expected: dict[str, int], counters: dict[str, dict[str, int]]) -> list[str]:
    """Accepted per hub against what was sent; relay/push attempts beyond one per document
    are retries (reported with the failures the hubs logged, not a problem in themselves)."""
    problems, parts = [], []
    for hub in ("h41", "vn", "h42"):
        c = counters[hub]
        accepted = c.get("lienthong_accepted_total", 0)
        attempts = c.get(ATTEMPTS, 0)
        errors = sum(v for k, v in c.items() if k.startswith("lienthong_errors_total"))
        parts.append(
            f"{hub} accepted {accepted:,}, relay/push attempts {attempts:,} "
            f"({attempts - expected[hub]} retries), refusals {errors}"
        )
        if accepted != expected[hub] or attempts < expected[hub]:
            problems.append(
                f"{hub}: {accepted} accepted and {attempts} attempts, {expected[hub]} expected"
            )
    print("hub counters: " + "; ".join(parts))
    return problems


def relay_failures(hubs: Hubs) -> list[str]:
    """The failed relay/push attempts the hubs logged (``relay.failed``, retried, and
    ``relay.refused``, for good), counted."""
    seen: Counter[str] = Counter()
    for hub in HUBS:
        with contextlib.suppress(OSError):
            for line in hubs.log(hub).read_text(encoding="utf-8", errors="replace").splitlines():
                if '"relay.failed"' not in line and '"relay.refused"' not in line:
                    continue
                with contextlib.suppress(ValueError):
                    e = json.loads(line)
                    seen[f"{hub} → {e.get('target')}: {e.get('code')} {e.get('detail')}"] += 1
    return [f"{n} × {what}" for what, n in seen.most_common()]


def describe_machine() -> str:
    import fastapi
    import sqlalchemy
    import uvicorn

    libraries = (
        f"uvicorn {uvicorn.__version__}, fastapi {fastapi.__version__}, "
        f"SQLAlchemy {sqlalchemy.__version__}, httpx {httpx.__version__}"
    )
    return machine_line(libraries, " (shared by the 3 hub processes and this one)")


def run(cfg: Config, base: Path, policy: str, quick: bool, profile: Path | None) -> int:
    print(f"Federation benchmark ({'quick' if quick else 'full'} run)")
    print(describe_machine())
    print(describe_source())
    print(
        f"hubs: {', '.join(HUBS)} from standard_plans(), each its own process (`lienthong hub "
        f"serve`), SQLite (WAL) + local blob folder in {base}; signature_policy={policy}"
        + (" (no signature verification at intake)" if policy == "off" else "")
    )
    print(f"load average at start: {loadavg()} (other work on the machine skews the figures)")
    if profile:
        profile_hubs(profile)
        print(f"PROFILING every thread of the hubs (cProfile): figures are slowed; {profile}")

    made = Packages()
    warm = {r: made.take(r, cfg.warmup) for r in ROUTES}
    latency_packages = {r: made.take(r, cfg.docs) for r in ROUTES}
    throughput_packages = {r: made.take(r, cfg.throughput_docs) for r in ROUTES}
    docs = [
        d for g in (warm, latency_packages, throughput_packages) for ds in g.values() for d in ds
    ]
    sizes = [len(d.data) for d in docs]
    print(
        f"packages: {len(sizes)} distinct, {min(sizes) / 1000:.1f}–{max(sizes) / 1000:.1f} KB "
        f"(one {ATTACHMENT_BYTES // 1000} KB PDF attachment); latency: {cfg.docs} per path one at "
        f"a time; throughput: {cfg.throughput_docs} per path, {cfg.concurrency} senders\n"
    )

    receiver = Receiver()
    receiver.expect(docs)
    try:
        fresh, kept = probe(receiver.base + "/probe", cfg.probe)
        probes = [(PROBE_FRESH, fresh), (PROBE_KEPT, kept)]
        with running_hubs(base, receiver, policy) as hubs:
            bench = Bench(hubs, receiver)
            bench.one_at_a_time([(r, p) for r in ROUTES for p in warm[r]])
            rows = bench.latency(latency_packages, cfg.docs)
            for route in ROUTES:
                rows.append(bench.throughput(route, throughput_packages[route], cfg.concurrency))
            expected = expected_counts(bench)
            counters = settled_counters(hubs, expected)
        logs = {h: audit_times(hubs.network.settings[h].effective_database_url) for h in HUBS}
        print_rows(rows, probes)
        print(
            "\nlatency: send start (REST POST to h41) → the push's body read by the receiver; "
            "p50/p99 nearest rank; docs/s = documents / (last arrival − first send start);\n"
            "hub CPU: CPU ms (user + system) of each hub process per document of the phase"
        )
        cpu = {h: bench.latency_cpu.get(h, 0.0) * 1e3 for h in HUBS}
        print(
            f"latency phase, hub CPU per document: h41 {cpu['h41']:.1f} ms per pair (one document "
            f"of each path: two intakes and dispatches, a push and a relay); vn {cpu['vn']:.1f} "
            f"and h42 {cpu['h42']:.1f} ms (3-hub documents only)"
        )
        three = next(r for r in rows if r.route is THREE and r.docs_per_s is None)
        p50 = statistics.median(three.latencies)
        verdict = "MET" if p50 < GOAL_P50_S else "MISSED"
        print(
            f"\ngoal: p50 < {GOAL_P50_S * 1e3:.0f} ms across three hubs — {verdict} "
            f"(p50 {ms(p50)} ms, p99 {ms(percentile(three.latencies, 99))} ms)"
        )
        for row in rows:
            steps, untraced = breakdown(logs, receiver, row.route, row.sent)
            print_steps(row.label, steps, untraced)
        print()
        problems = check_deliveries(bench, receiver) + check_counters(expected, counters)
        failures = relay_failures(hubs)
        print("failed relay/push attempts logged: " + ("; ".join(failures) or "none"))
        codes = ", ".join(f"{h} {c}" for h, c in hubs.exit_codes.items())
        print(f"hub exit codes: {codes}")
        print(f"load average at the end: {loadavg()}")
    finally:
        receiver.close()
    if problems:
        print("PROBLEMS: " + "; ".join(problems))
        return 1
    return 0


def main(argv: list[str] | None = None) -> int:
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0] if __doc__ else None)
    ap.add_argument("--quick", action="store_true", help="tiny run (smoke test)")
    ap.add_argument("--docs", type=int, help=f"latency: documents per path (default {FULL.docs})")
    ap.add_argument(
        "--throughput-docs",
        type=int,
        help=f"throughput: documents per path (default {FULL.throughput_docs})",
    )
    ap.add_argument(
        "--concurrency",
        type=int,
        help=f"throughput: concurrent senders (default {FULL.concurrency})",
    )
    ap.add_argument(
        "--profile",
        metavar="DIR",
        type=Path,
        help="diagnosis only: cProfile every thread of each hub; DIR/<hub>.pstats and .txt",
    )
    ap.add_argument(
        "--policy",
        choices=("off", "flag"),
        default="off",
        help="the hubs' signature policy (default off: no verification at intake)",
    )
    args = ap.parse_args(argv)
    cfg = QUICK if args.quick else FULL
    cfg = Config(
        docs=args.docs or cfg.docs,
        throughput_docs=args.throughput_docs or cfg.throughput_docs,
        concurrency=args.concurrency or cfg.concurrency,
        warmup=cfg.warmup,
        probe=cfg.probe,
    )
    if min(cfg.docs, cfg.throughput_docs, cfg.concurrency) < 1:
        ap.error("--docs, --throughput-docs and --concurrency must be at least 1")

    def stop(_signum: int, _frame: Any) -> None:
        raise KeyboardInterrupt  # unwinds through the finally blocks: the hubs are stopped

    signal.signal(signal.SIGTERM, stop)
    try:
        with tempfile.TemporaryDirectory(prefix="lienthong-federation-bench-") as tmp:
            profile = args.profile.resolve() if args.profile else None
            return run(cfg, Path(tmp), args.policy, args.quick, profile)
    except KeyboardInterrupt:
        print("\ninterrupted: the hub processes were stopped", file=sys.stderr)
        return 130


if __name__ == "__main__":
    sys.exit(main())
