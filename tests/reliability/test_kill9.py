"""Reliability: ``kill -9`` a provincial hub at random moments while documents flow across
three hubs, each its own OS process (``lienthong hub serve``, embedded SQLite).

Phường Hưng Bình (``qlvb.hungbinh`` at the Nghệ An hub ``h41``) sends N small distinct
documents (``LIENTHONG_RELIABILITY_DOCS``: 500 in ``make test``, 2,000 in
``make reliability``, which CI runs too) to phường Bắc Hà (``qlvb.bacha`` at the Hà Tĩnh
hub ``h42``) through the national hub ``vn``;
Bắc Hà fetches, acknowledges and answers each with a status 03 that travels back the same
way to Hưng Bình, which fetches and acknowledges it. Meanwhile a killer thread sends
SIGKILL to ``h41`` every 1–5 s and restarts it after a random short pause, for as long as
documents are being sent. The sender resends the SAME bytes whenever ``h41`` is down or the
connection breaks mid-request (the contract: a resend is deduplicated, never delivered
twice), and sends every tenth document once more on purpose.

At the end: every document exactly once at Bắc Hà (the sender's bytes, plus the hubs'
TraceHeaders), every status exactly once back at Hưng Bình, the dedup answers as the API
promises, one message per document and per status on every hub, no dead letter and no
unfinished outbox entry anywhere, the deliveries' states and business statuses as expected,
and every hub's audit chain valid. The counts are printed for the CI log.

The killer's random schedule is seeded; the seed is printed and
``LIENTHONG_RELIABILITY_SEED`` replays the schedule (the moments of the kills relative to
the traffic still depend on the machine).
"""

from __future__ import annotations

import os
import queue
import random
import re
import signal
import sqlite3
import subprocess
import threading
import time
from collections import Counter, defaultdict
from collections.abc import Callable, Iterator
from dataclasses import dataclass, field
from functools import partial
from pathlib import Path
from typing import Any

import httpx
import pytest
from sqlalchemy import create_engine
from sqlalchemy.orm import Session

from lienthong.client.rest import HubClient, HubClientError
from lienthong.devnet.network import Network, provision, spawn, standard_plans
from lienthong.edxml.builder import build, now_timestamp
from lienthong.edxml.model import (
    DocumentCode,
    Edoc,
    Organization,
    PromulgationInfo,
    ResponseFor,
    Status,
)
from lienthong.hub import audit

#: ``make test`` runs 500 (the suite stays fast); ``make reliability`` (CI) runs 2,000
DOCS = int(os.environ.get("LIENTHONG_RELIABILITY_DOCS", "500"))
SEED_ENV = "LIENTHONG_RELIABILITY_SEED"
SENDER = "000.01.31.H41"  # UBND phường Hưng Bình (mẫu), system qlvb.hungbinh at h41
RECIPIENT = "000.01.31.H42"  # UBND phường Bắc Hà (mẫu), system qlvb.bacha at h42
VICTIM = "h41"
HUBS = ("vn", "h41", "h42")
SENDER_THREADS = 4
RECEIVER_THREADS = 4
COLLECTOR_THREADS = 2
POLL_PAGE = 200
RESEND_EVERY = 10  # every 10th document is sent twice on purpose, after its answer
#: the killer's rhythm: up for 1–5 s, then down for 0–1 s (plus the restart itself)
UP_SECONDS = (1.0, 5.0)
DOWN_SECONDS = (0.0, 1.0)
MIN_KILLS = 3
#: bounds: the killer works while documents are being sent, at most KILL_WINDOW; then
#: everything must be sent, delivered, answered and settled — and the network must never go
#: STALL_SECONDS without progress (a document or status more, an outbox entry fewer): a
#: stuck network fails, a slow one (a machine busy with other work: the hub's restarts
#: alone take tens of seconds then) does not. CONVERGE_CEILING only keeps a CI job from
#: hanging. A relay claimed by a killed process is released when it starts again (else
#: after its lease, 10 s here). The measured times are printed; speed is bench/'s business.
KILL_WINDOW = 30.0 + 0.15 * DOCS
STALL_SECONDS = 120.0
CONVERGE_CEILING = 1800.0 + 0.5 * DOCS
PROMULGATED = "2026/11/27"


def _say(capsys: pytest.CaptureFixture[str], text: str) -> None:
    with capsys.disabled():
        print(text, flush=True)


# ----------------------------------------------------------------------------- the network


class Cluster:
    """The three hub processes; ``h41`` is killed and restarted by the killer thread. Once
    closed, nothing is started any more and every process is killed."""

    def __init__(self, network: Network, logs: Path) -> None:
        self.network = network
        self.logs = logs
        self.procs: dict[str, subprocess.Popen[bytes]] = {}
        self.lock = threading.Lock()
        self.closed = False
        #: CPU seconds used by each hub's processes (every incarnation of the victim)
        self.cpu: defaultdict[str, float] = defaultdict(float)

    def start(self, hub_id: str) -> None:
        proc = spawn(self.network, hub_id, log=self.logs / f"{hub_id}.log")
        with self.lock:
            if not self.closed:
                self.procs[hub_id] = proc
                return
        proc.kill()
        proc.wait()
        raise RuntimeError("the cluster is closed")

    def kill(self, hub_id: str) -> None:
        with self.lock:
            proc = self.procs.pop(hub_id, None)
        if proc is not None:
            self._count_cpu(hub_id, proc)
            proc.send_signal(signal.SIGKILL)
            proc.wait()

    def _count_cpu(self, hub_id: str, proc: subprocess.Popen[bytes]) -> None:
        """Add the CPU time the process used so far (Linux ``/proc``; else nothing)."""
        try:
            fields = Path(f"/proc/{proc.pid}/stat").read_text().rpartition(")")[2].split()
        except OSError:
            return
        self.cpu[hub_id] += (int(fields[11]) + int(fields[12])) / os.sysconf("SC_CLK_TCK")

    def stop(self, timeout: float = 20) -> dict[str, int | None]:
        """A graceful stop of every hub (SIGTERM, then SIGKILL if it does not exit);
        returns their exit codes."""
        with self.lock:
            self.closed = True
            procs = dict(self.procs)
            self.procs.clear()
        for hub_id, proc in procs.items():
            self._count_cpu(hub_id, proc)
            proc.terminate()
        codes: dict[str, int | None] = {}
        for hub_id, proc in procs.items():
            try:
                codes[hub_id] = proc.wait(timeout=timeout)
            except subprocess.TimeoutExpired:
                proc.kill()
                proc.wait()
                codes[hub_id] = None
        return codes


@pytest.fixture
def cluster(tmp_path: Path) -> Iterator[Cluster]:
    plans = [p for p in standard_plans() if p.hub_id in HUBS]
    # a 10 s lease: a relay claimed by a killed process is taken over sooner (default 60 s)
    network = provision(plans, tmp_path / "net", signature_policy="off", relay_lease_seconds=10)
    logs = tmp_path / "logs"
    logs.mkdir()
    running = Cluster(network, logs)
    # a SIGTERM to the test run (a CI timeout) must not orphan the hubs: it interrupts the
    # test like Ctrl-C, so that this fixture's finalizer still runs
    previous = None
    if threading.current_thread() is threading.main_thread():
        previous = signal.signal(signal.SIGTERM, _interrupted)
    try:
        for hub_id in HUBS:
            running.start(hub_id)
        yield running
    finally:
        with running.lock:  # whatever happened: no hub process outlives the test
            running.closed = True
            procs = list(running.procs.values())
            running.procs.clear()
        for proc in procs:
            proc.kill()
            proc.wait()
        if previous is not None:
            signal.signal(signal.SIGTERM, previous)


def _interrupted(signum: int, _frame: Any) -> None:
    raise KeyboardInterrupt(f"signal {signum}")


# ----------------------------------------------------------------------------- packages


def _document(number: int) -> tuple[str, bytes]:
    edoc = Edoc(
        sender=Organization(organ_id=SENDER, organ_name="UBND phường Hưng Bình (mẫu)"),
        recipients=[Organization(organ_id=RECIPIENT, organ_name="UBND phường Bắc Hà (mẫu)")],
        code=DocumentCode(str(number), "UBND-HB"),
        promulgation=PromulgationInfo("Vinh", PROMULGATED),
        subject=f"Báo cáo số {number} về tình hình chuyển đổi số của phường",
    )
    data = build(edoc)
    assert edoc.document_id is not None
    return edoc.document_id, data


_P = rb"(?:[A-Za-z_][\w.-]*:)?"  # an element's namespace prefix, if any
#: the TraceHeader a hub inserts for itself when it hands a package to a system
_HUB_TRACE = re.compile(
    rb"<%(p)sTraceHeader>\s*<%(p)sOrganId>(?:%(hubs)s)</%(p)sOrganId>\s*<%(p)sTimestamp>[^<]*"
    rb"</%(p)sTimestamp>\s*</%(p)sTraceHeader>" % {b"p": _P, b"hubs": "|".join(HUBS).encode()}
)


def _as_sent(delivered: bytes) -> bytes:
    """The sender's bytes: the delivered package without the hubs' TraceHeaders."""
    return _HUB_TRACE.sub(b"", delivered)


def _status(document_id: str, number: int) -> bytes:
    return build(
        Status(
            sender=Organization(organ_id=RECIPIENT, organ_name="UBND phường Bắc Hà (mẫu)"),
            response_for=ResponseFor(
                organ_id=SENDER,
                code=f"{number}/UBND-HB",
                promulgation_date=PROMULGATED,
                document_id=document_id,
            ),
            status_code="03",
            description="Văn thư: Tiếp nhận văn bản điện tử, vào sổ văn bản đến",
            timestamp=now_timestamp(),
        )
    )


# ----------------------------------------------------------------------------- the run


@dataclass
class Answer:
    http_status: int
    message_id: str
    duplicate: bool
    code: str
    recipients: list[dict[str, Any]]
    #: an earlier attempt may have reached the hub (a broken connection, a 5xx, a 409 or
    #: an answered send): only then may the answer be "already accepted"
    resend: bool


@dataclass
class Run:
    n: int
    seed: int
    documents: list[tuple[str, bytes]]
    number_of: dict[str, int]
    stop: threading.Event = field(default_factory=threading.Event)
    lock: threading.Lock = field(default_factory=threading.Lock)
    next_doc: int = 0
    sent: int = 0
    attempts: int = 0
    resends: int = 0
    deliberate_resends: int = 0
    send_errors: Counter[str] = field(default_factory=Counter)
    server_errors: list[str] = field(default_factory=list)
    refusals: list[str] = field(default_factory=list)
    answers: dict[int, list[Answer]] = field(default_factory=lambda: defaultdict(list))
    kills: int = 0
    restarts: int = 0
    downtime: float = 0.0
    killer_error: str | None = None
    #: document id → message ids seen in Bắc Hà's inbox (one expected)
    received: dict[str, set[str]] = field(default_factory=lambda: defaultdict(set))
    received_wrong: list[str] = field(default_factory=list)
    statuses_sent: int = 0
    status_resends: int = 0
    status_answers: Counter[str] = field(default_factory=Counter)
    #: document id → status message ids seen in Hưng Bình's inbox (one expected)
    statuses: dict[str, set[str]] = field(default_factory=lambda: defaultdict(set))
    statuses_wrong: list[str] = field(default_factory=list)
    status_bytes: dict[str, bytes] = field(default_factory=dict)
    poll_errors: Counter[str] = field(default_factory=Counter)
    thread_errors: list[str] = field(default_factory=list)

    def take(self) -> int | None:
        with self.lock:
            if self.next_doc >= self.n:
                return None
            self.next_doc += 1
            return self.next_doc - 1

    def complete(self) -> bool:
        with self.lock:
            return len(self.received) >= self.n and len(self.statuses) >= self.n


def _guarded(run: Run, name: str, fn: Callable[[], None]) -> Callable[[], None]:
    def body() -> None:
        try:
            fn()
        except BaseException as exc:  # a thread's crash must fail the test, not vanish
            with run.lock:
                run.thread_errors.append(f"{name}: {type(exc).__name__}: {exc}")

    return body


def _sender(run: Run, url: str, key: str) -> None:
    """Send documents; resend the same bytes until the hub answers. Every RESEND_EVERY-th
    document is sent once more on purpose after its answer."""
    headers = {"Authorization": f"Bearer {key}", "Content-Type": "application/xml"}
    with httpx.Client(timeout=30) as http:
        while not run.stop.is_set():
            index = run.take()
            if index is None:
                return
            data = run.documents[index][1]
            reached = False  # whether an earlier attempt may have reached the hub
            for deliberate in (False, True) if index % RESEND_EVERY == 0 else (False,):
                answer, reached = _send_until_answered(run, http, url, headers, data, reached)
                if answer is None:
                    break  # refused (recorded) or stopped
                with run.lock:
                    run.answers[index].append(answer)
                    if deliberate:
                        run.deliberate_resends += 1
                    else:
                        run.sent += 1
                reached = True


def _send_until_answered(
    run: Run,
    http: httpx.Client,
    url: str,
    headers: dict[str, str],
    data: bytes,
    reached: bool,
) -> tuple[Answer | None, bool]:
    first = True
    while not run.stop.is_set():
        with run.lock:
            run.attempts += 1
            run.resends += not first
        first = False
        try:
            r = http.post(f"{url}/api/v1/packages", content=data, headers=headers)
        except (httpx.ConnectError, httpx.ConnectTimeout) as exc:  # never reached the hub
            with run.lock:
                run.send_errors[f"transport:{type(exc).__name__}"] += 1
            time.sleep(0.1)
            continue
        except httpx.HTTPError as exc:  # broke mid-request: the hub may have taken it
            reached = True
            with run.lock:
                run.send_errors[f"transport:{type(exc).__name__}"] += 1
            time.sleep(0.1)
            continue
        if r.status_code >= 500 or r.status_code == 409:  # 409 HUB_RETRY: "send again"
            reached = True
            with run.lock:
                run.send_errors[f"HTTP {r.status_code}"] += 1
                if r.status_code >= 500:
                    run.server_errors.append(r.text[:300])
            time.sleep(0.1)
            continue
        if r.status_code not in (200, 201):
            with run.lock:
                run.refusals.append(f"HTTP {r.status_code} {r.text[:300]}")
            return None, reached
        body = r.json()
        answer = Answer(
            r.status_code,
            body["message_id"],
            body["duplicate"],
            body["code"],
            body["recipients"],
            reached,
        )
        return answer, reached
    return None, reached


class Mailbox:
    """An agency system reading its inbox: one thread polls, ``workers`` threads fetch and
    acknowledge each message and hand it to ``handle``. A message is taken once; if its
    fetch or acknowledgement breaks it is released, and polled again if still there."""

    def __init__(
        self,
        run: Run,
        name: str,
        url: str,
        key: str,
        kind: str,
        handle: Callable[[HubClient, dict[str, Any], bytes], None],
    ) -> None:
        self.run, self.name, self.url, self.key, self.kind = run, name, url, key, kind
        self.handle = handle
        self.queue: queue.Queue[dict[str, Any]] = queue.Queue()
        self.taken: set[str] = set()

    def threads(self, workers: int) -> list[threading.Thread]:
        return [
            threading.Thread(
                target=_guarded(self.run, f"{self.name} poll", self._poll),
                name=f"{self.name}-poll",
                daemon=True,
            ),
            *(
                threading.Thread(
                    target=_guarded(self.run, f"{self.name} work", self._work),
                    name=f"{self.name}-{i}",
                    daemon=True,
                )
                for i in range(workers)
            ),
        ]

    def _error(self, what: str, exc: HubClientError) -> None:
        with self.run.lock:
            self.run.poll_errors[f"{self.name} {what} {exc.code}"] += 1

    def _poll(self) -> None:
        with HubClient(self.url, self.key, timeout=30) as client:
            while not self.run.stop.is_set():
                if self.queue.qsize() >= POLL_PAGE // 2:  # the workers have enough to do
                    time.sleep(0.1)
                    continue
                try:
                    items = client.inbox(kind=self.kind, limit=POLL_PAGE)
                except HubClientError as exc:
                    self._error("inbox", exc)
                    time.sleep(0.2)
                    continue
                new = 0
                for item in items:
                    with self.run.lock:
                        if item["message_id"] in self.taken:
                            continue
                        self.taken.add(item["message_id"])
                    self.queue.put(item)
                    new += 1
                if not new:
                    time.sleep(0.25)

    def _work(self) -> None:
        with HubClient(self.url, self.key, timeout=30) as client:
            while not self.run.stop.is_set():
                try:
                    item = self.queue.get(timeout=0.2)
                except queue.Empty:
                    continue
                mid = item["message_id"]
                try:
                    data = client.fetch(mid)
                    self.handle(client, item, data)  # counted once fetched
                    client.ack(mid)
                except HubClientError as exc:
                    self._error("fetch/ack", exc)
                    with self.run.lock:
                        self.taken.discard(mid)  # polled again if it is still there


def _at_bacha(run: Run, client: HubClient, item: dict[str, Any], data: bytes) -> None:
    """Bắc Hà got a document: count it, answer a status 03 once per document (resent,
    the same bytes, until its hub takes it)."""
    mid, doc_id = item["message_id"], item["document_id"]
    number = run.number_of.get(doc_id)
    with run.lock:
        if number is None or _as_sent(data) != run.documents[number - 1][1]:
            run.received_wrong.append(f"{mid} {doc_id}")
            return
        run.received[doc_id].add(mid)
        if doc_id in run.status_bytes:
            return  # answered already (a second copy is counted above, not answered)
        status = run.status_bytes[doc_id] = _status(doc_id, number)
    while not run.stop.is_set():
        try:
            answer = client.send(status, kind="status")
        except HubClientError as exc:
            with run.lock:
                run.status_resends += 1
                run.poll_errors[f"bacha status {exc.code}"] += 1
            time.sleep(0.1)
            continue
        with run.lock:
            run.statuses_sent += 1
            run.status_answers[answer["code"]] += 1
        return


def _at_hungbinh(run: Run, _client: HubClient, item: dict[str, Any], data: bytes) -> None:
    """Hưng Bình got a status back: count it."""
    mid, doc_id = item["message_id"], item["document_id"]
    with run.lock:
        if _as_sent(data) != run.status_bytes.get(doc_id) or item["status_code"] != "03":
            run.statuses_wrong.append(f"{mid} {doc_id} {item['status_code']}")
            return
        run.statuses[doc_id].add(mid)


def _killer(run: Run, cluster: Cluster, sending_done: threading.Event) -> None:
    """SIGKILL the provincial hub at random moments while documents are being sent (and
    at least MIN_KILLS times), restart it after a short random pause. Leaves it running."""
    rng = random.Random(run.seed)
    while True:
        until = time.monotonic() + rng.uniform(*UP_SECONDS)
        while time.monotonic() < until:
            if run.stop.is_set() or (sending_done.is_set() and run.kills >= MIN_KILLS):
                return
            time.sleep(0.02)
        cluster.kill(VICTIM)
        down_at = time.monotonic()
        with run.lock:
            run.kills += 1
        time.sleep(rng.uniform(*DOWN_SECONDS))
        try:
            cluster.start(VICTIM)
        except Exception as exc:
            with run.lock:
                run.killer_error = f"{VICTIM} did not restart: {exc}"
            return
        with run.lock:
            run.restarts += 1
            run.downtime += time.monotonic() - down_at


# ----------------------------------------------------------------------------- after the run


def _open_work(path: Path) -> int:
    """Outbox entries a hub has not finished (pending or in flight), read while it runs."""
    db = sqlite3.connect(f"file:{path}?mode=ro", uri=True, timeout=30)
    try:
        row = db.execute("SELECT count(*) FROM outbox WHERE state IN ('pending', 'inflight')")
        return int(row.fetchone()[0])
    finally:
        db.close()


@dataclass
class HubReport:
    hub_id: str
    messages: Counter[str]
    duplicates: int
    outbox: Counter[tuple[str, str]]
    relay_attempts: int
    retried_entries: int
    dead: list[str]
    audit: audit.VerifyResult
    # (kind, document id) → number of messages
    per_document: Counter[tuple[str, str]]
    # kind → Counter of (delivery state, business status)
    deliveries: dict[str, Counter[tuple[str, str | None]]]
    status_links: int  # statuses whose refers_to names a message of this hub
    edoc_ids: dict[str, set[str]]  # document id → message ids of the documents stored


def _inspect(path: Path, hub_id: str) -> HubReport:
    """Read one stopped hub's SQLite database (read-only)."""
    uri = f"file:{path}?mode=ro"
    db = sqlite3.connect(uri, uri=True)
    try:
        q = db.execute
        messages = Counter({k: n for k, n in q("SELECT kind, count(*) FROM message GROUP BY kind")})
        per_document = Counter(
            {
                (k, d): n
                for k, d, n in q(
                    "SELECT kind, document_id, count(*) FROM message GROUP BY kind, document_id"
                )
            }
        )
        outbox = Counter(
            {
                (a.split(":")[0], s): n
                for a, s, n in q(
                    "SELECT action, state, count(*) FROM outbox GROUP BY action, state"
                )
            }
        )
        relay_attempts, retried = q(
            "SELECT coalesce(sum(attempts), 0), coalesce(sum(attempts > 1), 0) FROM outbox "
            "WHERE action LIKE 'relay:%'"
        ).fetchone()
        dead = [
            f"#{i} {a} {m}: {e}"
            for i, a, m, e in q(
                "SELECT id, action, message_id, last_error FROM outbox WHERE state = 'dead'"
            )
        ]
        duplicates = q("SELECT count(*) FROM audit_event WHERE event = 'duplicate'").fetchone()[0]
        deliveries: dict[str, Counter[tuple[str, str | None]]] = defaultdict(Counter)
        for kind, state, business, n in q(
            "SELECT m.kind, d.state, d.business_status, count(*) FROM delivery d "
            "JOIN message m ON m.id = d.message_id GROUP BY m.kind, d.state, d.business_status"
        ):
            deliveries[kind][(state, business)] += n
        edoc_ids: dict[str, set[str]] = defaultdict(set)
        for mid, doc_id in q("SELECT id, document_id FROM message WHERE kind = 'edoc'"):
            edoc_ids[doc_id].add(mid)
        links = q(
            "SELECT count(*) FROM message s JOIN message o ON o.id = s.refers_to "
            "WHERE s.kind = 'status' AND o.kind = 'edoc'"
        ).fetchone()[0]
    finally:
        db.close()
    engine = create_engine("sqlite://", creator=lambda: sqlite3.connect(uri, uri=True))
    try:
        with Session(engine) as s:
            verified = audit.verify(s)
    finally:
        engine.dispose()
    return HubReport(
        hub_id,
        messages,
        duplicates,
        outbox,
        int(relay_attempts),
        int(retried),
        dead,
        verified,
        per_document,
        dict(deliveries),
        links,
        dict(edoc_ids),
    )


# ----------------------------------------------------------------------------- the test


@pytest.mark.slow
def test_kill9_of_a_provincial_hub_loses_and_duplicates_nothing(
    cluster: Cluster, capsys: pytest.CaptureFixture[str]
) -> None:
    seed = int(os.environ.get(SEED_ENV) or random.SystemRandom().randrange(1, 2**31))
    _say(capsys, f"\n[kill9] seed={seed} (replay: {SEED_ENV}={seed}) docs={DOCS}")
    network = cluster.network
    documents = [_document(n) for n in range(1, DOCS + 1)]
    run = Run(DOCS, seed, documents, {doc_id: n for n, (doc_id, _) in enumerate(documents, 1)})
    assert len(run.number_of) == DOCS  # distinct documents

    sending_done = threading.Event()
    h41, h42 = network.url("h41"), network.url("h42")
    senders = [
        threading.Thread(
            target=_guarded(run, "sender", lambda: _sender(run, h41, network.key("qlvb.hungbinh"))),
            name=f"sender-{i}",
            daemon=True,
        )
        for i in range(SENDER_THREADS)
    ]
    bacha = Mailbox(run, "bacha", h42, network.key("qlvb.bacha"), "edoc", partial(_at_bacha, run))
    hungbinh = Mailbox(
        run, "hungbinh", h41, network.key("qlvb.hungbinh"), "status", partial(_at_hungbinh, run)
    )
    others = [*bacha.threads(RECEIVER_THREADS), *hungbinh.threads(COLLECTOR_THREADS)]
    killer = threading.Thread(
        target=_guarded(run, "killer", lambda: _killer(run, cluster, sending_done)),
        name="killer",
        daemon=True,
    )
    started = time.monotonic()
    converged = False
    try:
        for t in [*others, killer, *senders]:
            t.start()
        kill_until = started + KILL_WINDOW
        for t in senders:
            t.join(timeout=max(0.0, kill_until - time.monotonic()))
        sending_done.set()  # the killer stops (once it has killed MIN_KILLS times)
        killer.join(timeout=60)
        kill_seconds = time.monotonic() - started
        _say(
            capsys,
            f"[kill9] kills stopped after {kill_seconds:.1f} s ({run.kills} kills): "
            f"{run.sent}/{DOCS} accepted, {len(run.received)} received, "
            f"{len(run.statuses)} statuses back",
        )
        ceiling = time.monotonic() + CONVERGE_CEILING
        last_report = last_progress = time.monotonic()
        open_work: dict[str, int] = {}
        progress: tuple[int, ...] = ()
        stalled = False
        while time.monotonic() < ceiling and not run.thread_errors:
            if run.complete():
                open_work = {h: _open_work(network.base_dir / h / "hub.db") for h in HUBS}
                if not any(open_work.values()):
                    converged = True
                    break
            now_progress = (
                run.sent,
                len(run.received),
                len(run.statuses),
                -sum(open_work.values()),
            )
            if now_progress != progress:
                progress, last_progress = now_progress, time.monotonic()
            elif time.monotonic() - last_progress > STALL_SECONDS:
                stalled = True
                break
            if time.monotonic() - last_report >= 15:
                last_report = time.monotonic()
                _say(
                    capsys,
                    f"[kill9] t={last_report - started:.0f} s: {run.sent} accepted, "
                    f"{len(run.received)} received, {len(run.statuses)} statuses back, "
                    f"outbox entries open: {open_work or 'not checked yet'}",
                )
            time.sleep(0.5)
        converge_seconds = time.monotonic() - started
    finally:
        run.stop.set()
        sending_done.set()
        for t in [*senders, *others, killer]:
            t.join(timeout=40)
    exit_codes = cluster.stop()
    reports = {h: _inspect(network.base_dir / h / "hub.db", h) for h in HUBS}
    wall = time.monotonic() - started

    # ------------------------------------------------------------------ the counts
    answered = [a for answers in run.answers.values() for a in answers]
    api_duplicates = sum(a.duplicate for a in answered)
    dup_received = {d: ids for d, ids in run.received.items() if len(ids) > 1}
    dup_statuses = {d: ids for d, ids in run.statuses.items() if len(ids) > 1}
    lines = [
        f"[kill9] seed={seed} docs={DOCS} wall={wall:.1f} s (kills for {kill_seconds:.1f} s, "
        f"converged={converged} at {converge_seconds:.1f} s), "
        f"{DOCS / converge_seconds:.1f} round trips (document + status)/s, "
        f"cpu: hubs {sum(cluster.cpu.values()):.1f} s, test process {time.process_time():.1f} s",
        f"[kill9] sender: accepted={run.sent} attempts={run.attempts} resends={run.resends} "
        f"deliberate resends={run.deliberate_resends} duplicates answered by the API="
        f"{api_duplicates} errors={dict(run.send_errors)} refusals={len(run.refusals)}",
        f"[kill9] killer: kills={run.kills} restarts={run.restarts} "
        f"downtime={run.downtime:.1f} s error={run.killer_error}",
        f"[kill9] Bắc Hà: received={len(run.received)} duplicates={len(dup_received)} "
        f"wrong={len(run.received_wrong)}; statuses sent={run.statuses_sent} "
        f"answers={dict(run.status_answers)} resends={run.status_resends}",
        f"[kill9] Hưng Bình: statuses back={len(run.statuses)} duplicates={len(dup_statuses)} "
        f"wrong={len(run.statuses_wrong)}; poll errors={dict(run.poll_errors)}",
    ]
    for r in reports.values():
        lines.append(
            f"[kill9] hub {r.hub_id}: messages={dict(r.messages)} duplicates absorbed="
            f"{r.duplicates} relay attempts={r.relay_attempts} (entries retried: "
            f"{r.retried_entries}) outbox={ {f'{a}/{s}': n for (a, s), n in r.outbox.items()} } "
            f"dead={len(r.dead)} audit={'ok' if r.audit.ok else r.audit.reason} "
            f"({r.audit.records} records) cpu={cluster.cpu[r.hub_id]:.1f} s "
            f"exit={exit_codes.get(r.hub_id)}"
        )
    _say(capsys, "\n".join(lines))
    summary = "\n".join(lines)

    # ------------------------------------------------------------------ the verdict
    assert not run.thread_errors, run.thread_errors
    assert run.killer_error is None, run.killer_error
    assert run.kills >= MIN_KILLS, f"too few kills ({run.kills})\n{summary}"
    assert not run.refusals, run.refusals[:5]
    assert not run.server_errors, f"the hub failed (HTTP 5xx): {run.server_errors[:3]}"
    assert run.sent == DOCS, f"not every document was accepted\n{summary}"
    assert converged, (
        f"the network did not converge ({'no progress for' if stalled else 'within'} "
        f"{STALL_SECONDS if stalled else CONVERGE_CEILING:.0f} s)\n{summary}"
    )

    # the dedup contract of POST /api/v1/packages, seen from the sender: 201 ACCEPTED for
    # the first send that reached the hub, 200 ALREADY_ACCEPTED with the same message id
    # for every resend after it, and never "already accepted" to a package not sent before
    assert run.deliberate_resends == len(range(0, DOCS, RESEND_EVERY)), summary
    for index, answers in run.answers.items():
        ids = {a.message_id for a in answers}
        assert len(ids) == 1, f"doc {index}: one package, several message ids {ids}"
        for a in answers:
            if a.duplicate:
                assert (a.http_status, a.code) == (200, "ALREADY_ACCEPTED"), (index, a)
                assert a.resend, f"doc {index}: 'already accepted' at its first send: {a}"
            else:
                assert (a.http_status, a.code) == (201, "ACCEPTED"), (index, a)
            assert [(x["agency"], x["state"]) for x in a.recipients][:1] in (
                [(RECIPIENT, "queued")],
                [(RECIPIENT, "relayed")],
            ), (index, a)
        if len(answers) > 1:  # the deliberate resend
            assert answers[1].duplicate, f"doc {index}: a resend was accepted anew: {answers}"
    # h41 stored each document once, under the message id it answered
    answered_ids = {documents[i][0]: {a.message_id for a in run.answers[i]} for i in range(DOCS)}
    assert reports["h41"].edoc_ids == answered_ids, "h41: stored ≠ answered message ids"

    # exactly once, end to end
    assert not run.received_wrong and not run.statuses_wrong, (
        run.received_wrong[:5],
        run.statuses_wrong[:5],
    )
    assert not dup_received, f"documents delivered twice at Bắc Hà: {list(dup_received)[:5]}"
    assert set(run.received) == set(run.number_of), "documents missing at Bắc Hà"
    assert not dup_statuses, f"statuses delivered twice at Hưng Bình: {list(dup_statuses)[:5]}"
    assert set(run.statuses) == set(run.number_of), "statuses missing at Hưng Bình"
    assert run.statuses_sent == DOCS and set(run.status_answers) == {"ACCEPTED"}, summary

    for r in reports.values():
        # one message per document and per status on every hub on the way
        many = {key: n for key, n in r.per_document.items() if n > 1}
        assert not many, f"{r.hub_id}: stored more than once: {list(many.items())[:5]}"
        assert r.messages == Counter(edoc=DOCS, status=DOCS), f"{r.hub_id}: {r.messages}"
        assert not r.dead, f"{r.hub_id}: dead letters {r.dead[:5]}"
        unfinished = {k: n for k, n in r.outbox.items() if k[1] != "done"}
        assert not unfinished, f"{r.hub_id}: outbox entries not done: {unfinished}"
        assert r.audit.ok, f"{r.hub_id}: audit chain broken: {r.audit}"
    # the transport state and the business status of every delivery, hub by hub
    relayed_03 = Counter({("relayed", "03"): DOCS})
    relayed = Counter({("relayed", None): DOCS})
    acked_03 = Counter({("acknowledged", "03"): DOCS})
    acked = Counter({("acknowledged", None): DOCS})
    assert reports["h41"].deliveries == {"edoc": relayed_03, "status": acked}
    assert reports["vn"].deliveries == {"edoc": relayed_03, "status": relayed}
    assert reports["h42"].deliveries == {"edoc": acked_03, "status": relayed}
    for r in reports.values():  # every status found the document it answers
        assert r.status_links == DOCS, f"{r.hub_id}: {r.status_links} statuses linked"
    # a graceful stop works after all this (uvicorn re-raises the SIGTERM it handled)
    assert all(code in (0, -signal.SIGTERM) for code in exit_codes.values()), exit_codes
