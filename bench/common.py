"""What the benchmarks share: the hub in a child process, the machine and source lines,
the table, timing and percentile helpers, the filler PDF of the packages.

Run as a script (``python bench/common.py CONFIG``) this module is that hub child: it seeds
the directory, binds a free port on 127.0.0.1, reports it in the ready file and serves until
its stdin closes.
"""

from __future__ import annotations

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
import subprocess
import sys
import threading
import time
from collections.abc import Callable, Sequence
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import httpx

import lienthong
from lienthong.devnet.network import wait_ready
from lienthong.edxml.attachments import Blob
from lienthong.edxml.model import Attachment, Organization

ROOT = Path(__file__).resolve().parents[1]
MB = 1_000_000
SENDER_AGENCY = "000.00.00.H41"
SENDER_NAME = "Ủy ban nhân dân tỉnh Nghệ An"
RECIPIENT_AGENCY = "000.00.00.G22"
RECIPIENT_NAME = "Văn phòng Chính phủ"
SENDER_SYSTEM = "bench.qlvb.h41"
RECIPIENT_SYSTEM = "bench.qlvb.g22"
_STOPPER = "bench-stop-on-eof"


# --------------------------------------------------------------------------- report


def machine_line(libraries: str, cpus: str = "") -> str:
    """``N CPUs<cpus>, <model>; Python x.y.z; <libraries>; lienthong v``."""
    cpu = platform.processor() or platform.machine()
    with contextlib.suppress(OSError):
        for line in Path("/proc/cpuinfo").read_text().splitlines():
            if line.startswith("model name"):
                cpu = line.split(":", 1)[1].strip()
                break
    return (
        f"{os.cpu_count()} CPUs{cpus}, {cpu}; Python {platform.python_version()}; "
        f"{libraries}; lienthong {lienthong.__version__}"
    )


def describe_source() -> str:
    """The commit measured and, when src/ differs from it (others edit concurrently), how:
    the files changed and a fingerprint of the working tree's differences."""

    def git(*args: str) -> str:
        return subprocess.run(
            ["git", "-C", str(ROOT), *args], capture_output=True, text=True, check=True
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
            h.update((ROOT / name).read_bytes())
    return (
        f"source: commit {commit} + uncommitted changes in src/ ({len(changed)} modified, "
        f"{len(untracked)} new files; fingerprint {h.hexdigest()[:12]})"
    )


def loadavg() -> str:
    try:
        return " ".join(Path("/proc/loadavg").read_text().split()[:3])
    except OSError:
        return "unknown"


def print_aligned(header: tuple[str, ...], rows: Sequence[tuple[str, ...]]) -> None:
    """Aligned columns (the first and the last to the left), a rule under the header."""
    lines = [header, *rows]
    widths = [max(len(line[i]) for line in lines) for i in range(len(header))]
    for i, line in enumerate(lines):
        cells = [
            c.ljust(w) if j in (0, len(header) - 1) else c.rjust(w)
            for j, (c, w) in enumerate(zip(line, widths, strict=True))
        ]
        print("  ".join(cells).rstrip())
        if i == 0:
            print("  ".join("-" * w for w in widths))


# --------------------------------------------------------------------------- timing


def percentile(values: Sequence[float], q: float) -> float:
    """Nearest-rank percentile (q in 0..100)."""
    ordered = sorted(values)
    rank = max(1, min(len(ordered), int(-(-q * len(ordered) // 100))))
    return ordered[rank - 1]


def batch_seconds(fn: Callable[[], object], n: int) -> float:
    """Seconds per call of ``fn``, over ``n`` calls in a row."""
    t0 = time.perf_counter()
    for _ in range(n):
        fn()
    return (time.perf_counter() - t0) / n


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


# --------------------------------------------------------------------------- packages


def sender(**more: str) -> Organization:
    """The office of the provincial People's Committee (``more``: fax, website)."""
    return Organization(
        organ_id=SENDER_AGENCY,
        organization_in_charge=SENDER_NAME,
        organ_name="Văn phòng Ủy ban nhân dân tỉnh Nghệ An",
        organ_add="Số 03 đường Trường Thi, thành phố Vinh, tỉnh Nghệ An",
        email="vanphong@nghean.gov.vn",
        telephone="02383844345",
        **more,
    )


def pdf_attachment(name: str, description: str, content: bytes) -> Attachment:
    return Attachment(
        name=name,
        description=description,
        content_type="application/pdf",
        content=Blob.from_bytes(content),
    )


def filler_pdf(number: int, size: int, rng: random.Random) -> bytes:
    """A structurally valid one-page PDF (unsigned) of about ``size`` bytes: catalog, page,
    Helvetica, one text content stream made distinct by random hex, a correct xref."""
    lines = [b"BT /F1 10 Tf 56 800 Td 12 TL"]
    body = 0
    line_no = 0
    while body < max(0, size - 700):  # the objects around the stream take ~ 650 bytes
        line_no += 1
        hex_text = rng.randbytes(24).hex().encode()
        line = b"(Bao cao so %d, dong %d: %s) '" % (number, line_no, hex_text)
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


# --------------------------------------------------------------------------- the hub


def serve_child(config_path: str) -> int:
    """The hub process: seed the directory, bind a free port, report it, serve."""
    import uvicorn

    from lienthong.core import logging as jsonlog
    from lienthong.hub import directory
    from lienthong.hub.http.app import create_app
    from lienthong.hub.runtime import Hub
    from lienthong.hub.settings import Settings

    cfg = json.loads(Path(config_path).read_text(encoding="utf-8"))
    profiles: list[cProfile.Profile] = []
    if cfg.get("profile"):
        profiles = _profile_all_threads()
    jsonlog.configure()  # as `lienthong hub serve`: one JSON line per accepted package
    paths = {k: Path(v) for k, v in cfg["settings"].items() if k.endswith("_dir")}
    hub = Hub(Settings(hub_id="lienthong-bench", **{**cfg["settings"], **paths}))
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
    info = {"port": port, "creds": creds, "trust": repr(hub.trust)}
    tmp.write_text(json.dumps(info), encoding="utf-8")
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
    creds: dict[str, dict[str, str]]  # system id → secret, api_key
    trust: str  # repr of the hub's trust store
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
        return scrape_metrics(self.url)

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


def start_hub(base: Path, settings: dict[str, str], profile: str | None = None) -> HubProcess:
    """A hub child with ``Settings(**settings)`` (paths as strings); its config, ready file
    and log in ``base``. ``profile``: cProfile every thread, pstats to that path."""
    base.mkdir(parents=True, exist_ok=True)
    ready = base / "ready.json"
    config = base / "config.json"
    child = {"settings": settings, "ready_file": str(ready), "profile": profile}
    config.write_text(json.dumps(child), encoding="utf-8")
    log_path = base / "hub.log"
    with log_path.open("wb") as log:
        proc = subprocess.Popen(
            [sys.executable, os.path.abspath(__file__), str(config)],
            stdin=subprocess.PIPE,
            stdout=log,
            stderr=subprocess.STDOUT,
        )
    deadline = time.monotonic() + 60
    while not ready.exists():
        if proc.poll() is not None or time.monotonic() > deadline:
            proc.kill()
            raise RuntimeError(f"the hub did not start:\n{tail(log_path)}")
        time.sleep(0.05)
    info = json.loads(ready.read_text(encoding="utf-8"))
    url = f"http://127.0.0.1:{info['port']}"
    try:
        wait_ready(url, timeout=max(1.0, deadline - time.monotonic()), proc=proc)
    except RuntimeError:
        proc.kill()
        raise RuntimeError(f"the hub is not ready:\n{tail(log_path)}") from None
    return HubProcess(proc, url, info["creds"], info["trust"], log_path)


def tail(path: Path, lines: int = 30) -> str:
    try:
        return "\n".join(path.read_text(encoding="utf-8", errors="replace").splitlines()[-lines:])
    except OSError:
        return "(no log)"


if __name__ == "__main__":
    sys.exit(serve_child(sys.argv[1]))


def scrape_metrics(url: str) -> dict[str, int]:
    """A hub's ``/metrics`` as {sample name with labels: value}."""
    text = httpx.get(url + "/metrics", timeout=10).text
    out = {}
    for line in text.splitlines():
        if line and not line.startswith("#"):
            name, _, value = line.rpartition(" ")
            out[name] = int(float(value))
    return out
