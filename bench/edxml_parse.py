"""Throughput and memory of ``lienthong.edxml.parser.parse``, next to bare lxml.

Usage::

    python bench/edxml_parse.py            # full run (about 10–20 s, ~350 MB of temporary files)
    python bench/edxml_parse.py --quick    # smoke run: small sizes, few repeats

Three measurements, each with a baseline taken in the same run on the same bytes:

1. **Small package** (~20 KB, built by :func:`lienthong.edxml.builder.build` from a
   realistic Vietnamese edoc with a ~12 KB attachment): ``parse(bytes)`` — full parse:
   model, base64 decode, SHA-256 — against bare ``lxml.etree.fromstring``.
   Goal: at most 2× the time of bare lxml.
2. **Large package** (50 MB attachment, written to a temporary file while streaming):
   ``parse(path)``, which takes the streaming path above the 8 MiB inline threshold,
   against ``lxml.etree.fromstring(data, XMLParser(huge_tree=True))``.
   Goal: at least 200 MB/s.
3. **Peak RSS growth** of ``parse(path)`` on a 200 MB attachment, measured in a child
   process with ``getrusage(RUSAGE_SELF).ru_maxrss`` before/after, next to the bare lxml
   huge_tree parse of the 50 MB package (also in a child). Goal: below 64 MB.

Units: MB = 10**6 bytes; throughput is package bytes (what the parser reads) per second.
Timings use ``time.perf_counter``, a warm-up, and the median of several repeats in which
the candidate and the baseline alternate.
"""

from __future__ import annotations

import argparse
import binascii
import hashlib
import json
import os
import random
import resource
import statistics
import subprocess
import sys
import tempfile
import time
from collections.abc import Callable, Iterator
from dataclasses import dataclass
from pathlib import Path

from lxml import etree

from lienthong.edxml.attachments import DEFAULT_LIMITS
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
from lienthong.edxml.parser import parse

sys.path.insert(0, str(Path(__file__).resolve().parents[1]))  # run as `python bench/X.py`
from bench.common import (
    MB,
    batch_seconds,
    describe_source,
    machine_line,
    pdf_attachment,
    print_aligned,
    sender,
)

_GEN_CHUNK = 3 << 20  # raw bytes per generated chunk: a multiple of 3, so no inner padding
_MARKER = b"\xfb\xefLIENTHONG-BENCH-PLACEHOLDER\xfb\xef"

# Row labels (the smoke test looks for them).
SMALL_LXML = "small: bare lxml.etree.fromstring"
SMALL_PARSE = "small: parse(bytes)"
LARGE_LXML = "large: bare lxml fromstring huge_tree"
LARGE_PARSE = "large: parse(path) streaming"
RSS_LXML = "peak RSS: bare lxml huge_tree"
RSS_PARSE = "peak RSS: parse(path) streaming"
LABELS = (SMALL_LXML, SMALL_PARSE, LARGE_LXML, LARGE_PARSE, RSS_LXML, RSS_PARSE)

GOAL_SMALL_RATIO = 2.0
GOAL_STREAM_MBPS = 200.0
GOAL_RSS_MB = 64.0


@dataclass(frozen=True)
class Config:
    small_attachment: int
    small_repeats: int
    small_min_batch_s: float
    large_attachment: int
    large_repeats: int
    rss_attachment: int


FULL = Config(
    small_attachment=12_000,
    small_repeats=7,
    small_min_batch_s=0.25,
    large_attachment=50 * MB,
    large_repeats=5,
    rss_attachment=200 * MB,
)
QUICK = Config(
    small_attachment=12_000,
    small_repeats=2,
    small_min_batch_s=0.02,
    large_attachment=9 * MB,  # still above the 8 MiB inline threshold once base64-encoded
    large_repeats=1,
    rss_attachment=12 * MB,
)


# --------------------------------------------------------------------------- inputs


def attachment_chunks(size: int, seed: int) -> Iterator[bytes]:
    """Deterministic, incompressible, PDF-looking content, ``size`` bytes in chunks whose
    length is a multiple of 3 (except the last), never all in memory."""
    rng = random.Random(seed)
    header = b"%PDF-1.7\n%\xe2\xe3\xcf\xd3\n"
    left = size
    first = True
    while left > 0:
        n = min(_GEN_CHUNK, left)
        if first and n >= len(header):
            chunk = header + rng.randbytes(n - len(header))
        else:
            chunk = rng.randbytes(n)
        first = False
        left -= n
        yield chunk


def edoc_model(content: bytes) -> Edoc:
    """A realistic outgoing official letter (công văn) of a provincial People's Committee."""
    recipients = [
        Organization(organ_id="000.00.00.G22", organ_name="Văn phòng Chính phủ"),
        Organization(organ_id="000.00.00.G12", organ_name="Bộ Thông tin và Truyền thông"),
        Organization(
            organ_id="000.00.12.H41",
            organ_name="Sở Thông tin và Truyền thông tỉnh Nghệ An",
            organ_add="Số 16 đường Trường Thi, thành phố Vinh, tỉnh Nghệ An",
            email="stttt@nghean.gov.vn",
            telephone="02383844727",
        ),
        Organization(organ_id="000.00.13.H41", organ_name="Sở Nội vụ tỉnh Nghệ An"),
        Organization(organ_id="000.00.14.H41", organ_name="Sở Tài chính tỉnh Nghệ An"),
    ]
    return Edoc(
        sender=sender(fax="02383843049", website="https://nghean.gov.vn"),
        recipients=recipients,
        code=DocumentCode(number="4521", notation="UBND-VX"),
        promulgation=PromulgationInfo(place="Nghệ An", date="2026/11/20"),
        document_type=DocumentType(type="1", type_detail="0", type_name="Công văn"),
        subject=(
            "V/v triển khai kết nối, liên thông gửi, nhận văn bản điện tử qua Trục liên thông "
            "văn bản quốc gia và chuẩn hóa mã định danh điện tử của các cơ quan, đơn vị"
        ),
        content=(
            "Thực hiện Nghị định số 30/2020/NĐ-CP ngày 05/3/2020 của Chính phủ về công tác văn "
            "thư và Quyết định số 28/2018/QĐ-TTg của Thủ tướng Chính phủ về gửi, nhận văn bản "
            "điện tử giữa các cơ quan trong hệ thống hành chính nhà nước, Ủy ban nhân dân tỉnh "
            "đề nghị các sở, ban, ngành hoàn thành việc kết nối hệ thống quản lý văn bản và "
            "điều hành với Trục liên thông văn bản quốc gia trước ngày 15 tháng 12 năm 2026."
        ),
        signer=SignerInfo(
            competence="KT. CHỦ TỊCH", position="PHÓ CHỦ TỊCH", full_name="Nguyễn Văn Đệ"
        ),
        due_date="2026/12/15",
        other_info=OtherInfo(
            priority="1",
            sphere_of_promulgation="Liên thông văn bản quốc gia",
            typer_notation="TVH",
            promulgation_amount="12",
            page_amount="3",
            direction="Các đơn vị báo cáo kết quả về Sở Thông tin và Truyền thông.",
            appendixes=[
                "Phụ lục I: Danh mục mã định danh điện tử của các cơ quan, đơn vị",
                "Phụ lục II: Kế hoạch kết nối, thử nghiệm và vận hành chính thức",
            ],
        ),
        steering_type="1",
        to_places=[
            "Như trên",
            "Chủ tịch, các Phó Chủ tịch UBND tỉnh",
            "Chánh Văn phòng, các Phó Chánh Văn phòng UBND tỉnh",
            "Lưu: VT, VX (Hoàng)",
        ],
        trace_headers=[TraceHeader(organ_id="000.00.00.H41", timestamp="2026/11/20 08:30:15")],
        business=Business(doc_type="0", reason="Văn bản điện tử mới", paper="0"),
        attachments=[
            pdf_attachment(
                "4521-UBND-VX_trien-khai-lien-thong.pdf",
                "Công văn số 4521/UBND-VX về triển khai liên thông văn bản",
                content,
            )
        ],
    )


def small_package(attachment_size: int) -> bytes:
    return build(edoc_model(b"".join(attachment_chunks(attachment_size, seed=20))))


@dataclass(frozen=True)
class LargePackage:
    path: Path
    size: int
    attachment_size: int
    sha256: str


def write_large_package(path: Path, attachment_size: int, seed: int) -> LargePackage:
    """Write a package with one ``attachment_size``-byte attachment, streaming: the header
    and trailer come from the builder, the base64 text is written chunk by chunk."""
    template = build(edoc_model(_MARKER))
    marker = binascii.b2a_base64(_MARKER, newline=False)
    if template.count(marker) != 1:
        raise RuntimeError("placeholder attachment not found exactly once in the template")
    cut = template.index(marker)
    h = hashlib.sha256()
    with path.open("wb") as fh:
        fh.write(template[:cut])
        for chunk in attachment_chunks(attachment_size, seed):
            h.update(chunk)
            fh.write(binascii.b2a_base64(chunk, newline=False))
        fh.write(template[cut + len(marker) :])
    return LargePackage(path, path.stat().st_size, attachment_size, h.hexdigest())


# --------------------------------------------------------------------------- timing


def calibrate(fn: Callable[[], object], min_seconds: float) -> int:
    """Iterations of ``fn`` needed for one timed batch to last at least ``min_seconds``."""
    n = 1
    while True:
        t0 = time.perf_counter()
        for _ in range(n):
            fn()
        elapsed = time.perf_counter() - t0
        if elapsed >= min_seconds:
            return n
        n = max(n * 2, int(n * min_seconds / max(elapsed, 1e-9) * 1.2))


@dataclass(frozen=True)
class Timing:
    median_s: float
    runs: list[float]


def alternate(
    fns: dict[str, Callable[[], float]], repeats: int, warmup: int = 1
) -> dict[str, Timing]:
    """Run every ``fn`` (which returns seconds per operation) ``warmup`` + ``repeats``
    times, alternating between them; return the median of the timed repeats."""
    for _ in range(warmup):
        for fn in fns.values():
            fn()
    runs: dict[str, list[float]] = {name: [] for name in fns}
    for _ in range(repeats):
        for name, fn in fns.items():
            runs[name].append(fn())
    return {name: Timing(statistics.median(r), r) for name, r in runs.items()}


# --------------------------------------------------------------------------- measurements


@dataclass(frozen=True)
class Row:
    label: str
    size: int
    seconds: float | None = None
    rss_growth: int | None = None  # bytes
    ratio: float | None = None  # candidate time / baseline time, or growth / growth
    goal: str = ""


def bench_small(cfg: Config) -> tuple[Row, Row]:
    data = small_package(cfg.small_attachment)
    package = parse(data)  # sanity: it is the package we think it is
    assert package.kind == "edoc" and len(package.attachments) == 1
    content = package.attachments[0].content
    assert content is not None and content.size == cfg.small_attachment
    package.close()

    def run_lxml() -> None:
        etree.fromstring(data)

    def run_parse() -> None:
        parse(data).close()

    n_lxml = calibrate(run_lxml, cfg.small_min_batch_s)
    n_parse = calibrate(run_parse, cfg.small_min_batch_s)
    t = alternate(
        {
            "lxml": lambda: batch_seconds(run_lxml, n_lxml),
            "parse": lambda: batch_seconds(run_parse, n_parse),
        },
        cfg.small_repeats,
    )
    ratio = t["parse"].median_s / t["lxml"].median_s
    verdict = "met" if ratio <= GOAL_SMALL_RATIO else "MISSED"
    return (
        Row(SMALL_LXML, len(data), t["lxml"].median_s),
        Row(
            SMALL_PARSE,
            len(data),
            t["parse"].median_s,
            ratio=ratio,
            goal=f"≤ {GOAL_SMALL_RATIO:g}× lxml: {verdict}",
        ),
    )


def bench_large(cfg: Config, pkg: LargePackage) -> tuple[Row, Row]:
    if pkg.size <= DEFAULT_LIMITS.inline_threshold:
        raise RuntimeError("the large package would not take the streaming path")
    package = parse(pkg.path)
    content = package.attachments[0].content if package.kind == "edoc" else None
    assert content is not None and content.sha256 == pkg.sha256, "wrong decoded content"
    package.close()
    data = pkg.path.read_bytes()
    huge = etree.XMLParser(huge_tree=True)

    def run_lxml() -> float:
        t0 = time.perf_counter()
        root = etree.fromstring(data, huge)
        elapsed = time.perf_counter() - t0
        del root
        return elapsed

    def run_parse() -> float:
        t0 = time.perf_counter()
        result = parse(pkg.path)
        elapsed = time.perf_counter() - t0
        result.close()
        return elapsed

    t = alternate({"lxml": run_lxml, "parse": run_parse}, cfg.large_repeats)
    mbps = pkg.size / t["parse"].median_s / MB
    verdict = "met" if mbps >= GOAL_STREAM_MBPS else "MISSED"
    return (
        Row(LARGE_LXML, pkg.size, t["lxml"].median_s),
        Row(
            LARGE_PARSE,
            pkg.size,
            t["parse"].median_s,
            ratio=t["parse"].median_s / t["lxml"].median_s,
            goal=f"≥ {GOAL_STREAM_MBPS:g} MB/s: {verdict}",
        ),
    )


def child_rss(mode: str, path: Path) -> dict[str, int | str]:
    """Run in a child process: peak RSS before and after one parse (KiB on Linux)."""
    if mode == "lxml":
        data = path.read_bytes()  # the input buffer is not counted: lxml needs it in memory
        huge = etree.XMLParser(huge_tree=True)
        before = resource.getrusage(resource.RUSAGE_SELF).ru_maxrss
        root = etree.fromstring(data, huge)
        after = resource.getrusage(resource.RUSAGE_SELF).ru_maxrss
        return {"before_kib": before, "after_kib": after, "root": str(root.tag)}
    before = resource.getrusage(resource.RUSAGE_SELF).ru_maxrss
    package = parse(path)
    after = resource.getrusage(resource.RUSAGE_SELF).ru_maxrss
    content = package.attachments[0].content if package.kind == "edoc" else None
    sha = content.sha256 if content is not None else ""
    package.close()
    return {"before_kib": before, "after_kib": after, "sha256": sha}


def rss_growth(mode: str, path: Path) -> tuple[int, dict[str, int | str]]:
    # Through a small launcher process: a child started directly inherits the parent's
    # peak RSS in its ru_maxrss on Linux (vfork + exec keep the high-water mark of the
    # parent's memory), which would hide the growth we want to see.
    launcher = "import subprocess, sys; sys.exit(subprocess.call(sys.argv[1:]))"
    child = [sys.executable, os.path.abspath(__file__), "--child-rss", mode, str(path)]
    proc = subprocess.run(
        [sys.executable, "-c", launcher, *child],
        capture_output=True,
        text=True,
        check=True,
    )
    result: dict[str, int | str] = json.loads(proc.stdout)
    growth_kib = int(result["after_kib"]) - int(result["before_kib"])
    return growth_kib * 1024, result


def bench_rss(baseline: LargePackage, pkg: LargePackage) -> tuple[Row, Row]:
    base_growth, _ = rss_growth("lxml", baseline.path)
    growth, result = rss_growth("parse", pkg.path)
    assert result["sha256"] == pkg.sha256, "wrong decoded content in the child"
    verdict = "met" if growth < GOAL_RSS_MB * MB else "MISSED"
    return (
        Row(RSS_LXML, baseline.size, rss_growth=base_growth),
        Row(
            RSS_PARSE,
            pkg.size,
            rss_growth=growth,
            ratio=growth / base_growth if base_growth else None,
            goal=f"< {GOAL_RSS_MB:g} MB growth: {verdict}",
        ),
    )


# --------------------------------------------------------------------------- report


def fmt_size(n: int) -> str:
    if n >= MB:
        return f"{n / MB:.1f} MB"
    return f"{n / 1000:.1f} KB"


def print_table(rows: list[Row]) -> None:
    header = ("case", "package", "median", "pkg/s", "MB/s", "RSS growth", "vs lxml", "goal")
    lines: list[tuple[str, ...]] = []
    for r in rows:
        if r.seconds is not None:
            median = f"{r.seconds * 1e3:.3f} ms" if r.seconds < 1 else f"{r.seconds:.3f} s"
            per_s = f"{1 / r.seconds:,.0f}"
            mbps = f"{r.size / r.seconds / MB:,.1f}"
        else:
            median = per_s = mbps = "-"
        growth = f"{r.rss_growth / MB:.1f} MB" if r.rss_growth is not None else "-"
        baseline = "-" if r.goal else "(baseline)"
        ratio = f"{r.ratio:.2f}×" if r.ratio is not None else baseline
        lines.append((r.label, fmt_size(r.size), median, per_s, mbps, growth, ratio, r.goal))
    print_aligned(header, lines)


def describe_machine() -> str:
    lxml_version = ".".join(map(str, etree.LXML_VERSION))
    libxml2 = ".".join(map(str, etree.LIBXML_VERSION))
    return machine_line(f"lxml {lxml_version} (libxml2 {libxml2})")


def main(argv: list[str] | None = None) -> int:
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0] if __doc__ else None)
    ap.add_argument("--quick", action="store_true", help="small sizes, few repeats")
    ap.add_argument("--child-rss", nargs=2, metavar=("MODE", "PATH"), help=argparse.SUPPRESS)
    args = ap.parse_args(argv)
    if args.child_rss:
        mode, path = args.child_rss
        print(json.dumps(child_rss(mode, Path(path))))
        return 0

    cfg = QUICK if args.quick else FULL
    print(f"edXML parse benchmark ({'quick' if args.quick else 'full'} run)")
    print(describe_machine())
    print(describe_source())
    print("MB = 10^6 bytes; throughput = package bytes per second; median of repeats\n")
    rows: list[Row] = []
    rows.extend(bench_small(cfg))
    with tempfile.TemporaryDirectory(prefix="lienthong-bench-") as tmp:
        large = write_large_package(Path(tmp, "large.edxml"), cfg.large_attachment, seed=50)
        rows.extend(bench_large(cfg, large))
        huge = write_large_package(Path(tmp, "rss.edxml"), cfg.rss_attachment, seed=200)
        rows.extend(bench_rss(large, huge))
    print_table(rows)
    print("\nvs lxml: time (or RSS growth) of parse divided by that of the bare lxml baseline")
    print(f"small: attachment {fmt_size(cfg.small_attachment)} (decoded) in the package")
    stream = rows[3]
    if stream.seconds:
        print(
            f"large: attachment {fmt_size(cfg.large_attachment)} (decoded), "
            f"{cfg.large_attachment / stream.seconds / MB:,.1f} MB/s of decoded output"
        )
    print(
        f"peak RSS: parse(path) of a {fmt_size(cfg.rss_attachment)} attachment; baseline: lxml "
        f"on the large package, its {fmt_size(large.size)} input buffer not counted"
    )
    return 0


if __name__ == "__main__":
    sys.exit(main())
