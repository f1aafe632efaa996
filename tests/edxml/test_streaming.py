"""The streaming parser: bounded memory on large attachments, and one result whatever the
source (bytes, path, binary stream) and whatever the path (inline or streaming splitter).

The 200 MB cases run in a child process (this file run as a script) so that the peak RSS
is measured cleanly: the child writes the package to a temporary file while generating the
attachment (deterministic pseudo-random bytes, 1 MiB at a time, SHA-256 computed on the
way), records its RSS after its imports and its peak RSS after writing and after
``parse(path)``, and prints one JSON line that the test checks.

Peak RSS: on Linux ``getrusage(RUSAGE_SELF).ru_maxrss`` is inherited across fork/exec (a
child of a 150 MB pytest process starts with ru_maxrss = 150 MB), which would hide any
growth below the parent's size. The child therefore uses the kernel's per-process high
water mark ``VmHWM`` from ``/proc/self/status`` and resets it (``/proc/self/clear_refs``)
before each phase; ``ru_maxrss`` is still recorded for reference. Elsewhere it falls back
to ``ru_maxrss``.
"""

from __future__ import annotations

import binascii
import hashlib
import io
import json
import os
import random
import resource
import subprocess
import sys
import tempfile
import time
import zipfile
from collections.abc import Iterator
from typing import IO, Any

import pytest

from lienthong.edxml.attachments import Blob, Limits
from lienthong.edxml.builder import build
from lienthong.edxml.model import (
    NS,
    Attachment,
    DocumentCode,
    Edoc,
    Organization,
    PromulgationInfo,
    TraceHeader,
)
from lienthong.edxml.parser import parse

MiB = 1 << 20
BIG_MIB = 200
RSS_GROWTH_LIMIT = 64 * MiB
CHILD_TIMEOUT = 300
CTE_OPEN = f'<edXML:ContentTransferEncoded xmlns:edXML="{NS}">'.encode()
CTE_CLOSE = b"</edXML:ContentTransferEncoded>"
SUBJECT = "Về việc tiếp nhận văn bản điện tử có tệp đính kèm lớn"
_B64_CHUNK = 3 * (1 << 18)  # multiple of 3: base64 chunks concatenate without padding


def make_edoc(*attachments: tuple[str, bytes]) -> Edoc:
    edoc = Edoc(
        sender=Organization(organ_id="000.00.00.G22", organ_name="Văn phòng Chính phủ"),
        recipients=[
            Organization(organ_id="000.00.00.H01", organ_name="Bộ Thử nghiệm"),
            Organization(organ_id="000.00.00.H02", organ_name="Sở Đường sắt"),
        ],
        code=DocumentCode(number="7816", notation="VPCP-TTĐT"),
        promulgation=PromulgationInfo(place="Hà Nội", date="2024/01/02"),
        subject=SUBJECT,
        content="Nội dung có ký tự đặc biệt: <, >, & và “ngoặc kép”.",
        trace_headers=[TraceHeader(organ_id="000.00.00.G22", timestamp="2024/01/02 10:00:00")],
    )
    for i, (name, data) in enumerate(attachments, start=1):
        edoc.attachments.append(
            Attachment(
                content_id=f"cid:att-{i}",
                name=name,
                description=f"Tệp đính kèm số {i}",
                content=Blob.from_bytes(data),
            )
        )
    return edoc


def frame(name: str) -> tuple[bytes, bytes]:
    """The bytes of a one-attachment package before and after its base64 text."""
    data = build(make_edoc((name, b"")))
    cut = data.index(CTE_OPEN + CTE_CLOSE) + len(CTE_OPEN)
    return data[:cut], data[cut:]


def maxrss() -> int:
    """``ru_maxrss`` in bytes (Linux reports KiB); inherited from the parent process."""
    return resource.getrusage(resource.RUSAGE_SELF).ru_maxrss * 1024


def _status_kib(key: str) -> int | None:
    try:
        with open("/proc/self/status", encoding="ascii") as fh:
            for line in fh:
                if line.startswith(key + ":"):
                    return int(line.split()[1])
    except OSError:
        pass
    return None


def current_rss() -> int:
    kib = _status_kib("VmRSS")
    return kib * 1024 if kib is not None else maxrss()


def reset_peak_rss() -> bool:
    """Reset this process' high-water mark (Linux >= 4.0); False when not possible."""
    try:
        with open("/proc/self/clear_refs", "w", encoding="ascii") as fh:
            fh.write("5")
        return True
    except OSError:
        return False


def peak_rss() -> int:
    """Peak RSS of this process since the last reset, in bytes."""
    kib = _status_kib("VmHWM")
    return kib * 1024 if kib is not None else maxrss()


# --------------------------------------------------------------------------- child process


def random_blocks(mib: int, h: Any) -> Iterator[bytes]:
    """``mib`` deterministic pseudo-random MiB, hashed into ``h`` on the way."""
    rng = random.Random(1)
    for _ in range(mib):
        block = rng.randbytes(MiB)
        h.update(block)
        yield block


class Base64Writer:
    """Streams base64 into ``out`` (no line breaks), carrying partial 3-byte groups."""

    def __init__(self, out: IO[bytes]) -> None:
        self.out = out
        self.carry = b""

    def write(self, data: bytes) -> None:
        if self.carry:
            data = self.carry + data
        n = len(data) - len(data) % 3
        self.out.write(binascii.b2a_base64(data[:n], newline=False))
        self.carry = data[n:]

    def close(self) -> None:
        self.out.write(binascii.b2a_base64(self.carry, newline=False))
        self.carry = b""


def write_big_package(mode: str, workdir: str, mib: int) -> tuple[str, str]:
    """Write the package to ``workdir``; return its path and the attachment's SHA-256."""
    h = hashlib.sha256()
    path = os.path.join(workdir, f"big-{mode}.edxml")
    head, tail = frame("big.pdf")
    with open(path, "wb") as out:
        out.write(head)
        encoder = Base64Writer(out)
        if mode == "plain":
            for block in random_blocks(mib, h):
                encoder.write(block)
        else:  # the same attachment, ZIP-wrapped as the VNPT library sends it
            zip_path = os.path.join(workdir, "big.zip")
            with (
                zipfile.ZipFile(zip_path, "w", zipfile.ZIP_DEFLATED, compresslevel=1) as zf,
                zf.open("big.pdf", "w") as member,
            ):
                for block in random_blocks(mib, h):
                    member.write(block)
            with open(zip_path, "rb") as zipped:
                while chunk := zipped.read(_B64_CHUNK):
                    encoder.write(chunk)
            os.remove(zip_path)
        encoder.close()
        out.write(tail)
    return path, h.hexdigest()


def child(mode: str, workdir: str, mib: int) -> None:
    rss_import = current_rss()
    ru_maxrss_import = maxrss()
    resettable = reset_peak_rss()
    started = time.perf_counter()
    path, expected_sha = write_big_package(mode, workdir, mib)
    generated = time.perf_counter()
    rss_generated = peak_rss()
    reset_peak_rss()
    pkg = parse(path, limits=Limits(spool_dir=workdir))
    parsed = time.perf_counter()
    rss_parsed = peak_rss()
    ru_maxrss_parsed = maxrss()
    att = pkg.attachments[0]
    assert att.content is not None, att.problem
    rehash = hashlib.sha256()
    read = 0
    for chunk in att.content.chunks():  # the content itself, not only its claimed hash
        rehash.update(chunk)
        read += len(chunk)
    result = {
        "mode": mode,
        "package_bytes": os.path.getsize(path),
        "size": att.content.size,
        "read": read,
        "sha256": att.content.sha256,
        "rehash": rehash.hexdigest(),
        "expected_sha256": expected_sha,
        "unwrapped_zip": att.unwrapped_zip,
        "problem": str(att.problem) if att.problem else None,
        "rss_import": rss_import,
        "rss_generated": rss_generated,
        "rss_parsed": rss_parsed,
        "rss_final": peak_rss(),
        "peak_reset": resettable,
        "ru_maxrss_import": ru_maxrss_import,
        "ru_maxrss_parsed": ru_maxrss_parsed,
        "seconds_generate": round(generated - started, 2),
        "seconds_parse": round(parsed - generated, 2),
    }
    pkg.close()
    os.remove(path)
    print(json.dumps(result))


@pytest.mark.slow
@pytest.mark.parametrize("mode", ["plain", "zip"])
def test_200mb_attachment_parses_in_bounded_memory(mode: str) -> None:
    with tempfile.TemporaryDirectory(prefix="lienthong-stream-") as workdir:
        proc = subprocess.run(
            [sys.executable, os.path.abspath(__file__), mode, workdir, str(BIG_MIB)],
            capture_output=True,
            text=True,
            timeout=CHILD_TIMEOUT,
            check=False,
        )
        leftovers = os.listdir(workdir)
    assert proc.returncode == 0, proc.stderr[-3000:]
    r = json.loads(proc.stdout.strip().splitlines()[-1])
    growth = r["rss_parsed"] - r["rss_import"]
    after_generation = (r["rss_generated"] - r["rss_import"]) / MiB
    after_reread = (r["rss_final"] - r["rss_import"]) / MiB
    print(
        f"\n[{mode}] package {r['package_bytes'] / MiB:.0f} MiB: generate "
        f"{r['seconds_generate']}s, parse {r['seconds_parse']}s; RSS after imports "
        f"{r['rss_import'] / MiB:.1f} MiB, peak growth while parsing {growth / MiB:.1f} MiB "
        f"(generating {after_generation:.1f} MiB, parse + re-reading the blob "
        f"{after_reread:.1f} MiB; VmHWM reset: {r['peak_reset']}; ru_maxrss "
        f"{r['ru_maxrss_import'] / MiB:.0f} -> {r['ru_maxrss_parsed'] / MiB:.0f} MiB)"
    )
    assert r["problem"] is None
    assert r["size"] == r["read"] == BIG_MIB * MiB
    assert r["sha256"] == r["rehash"] == r["expected_sha256"]
    assert r["unwrapped_zip"] is (mode == "zip")
    assert growth < RSS_GROWTH_LIMIT, f"peak RSS grew by {growth / MiB:.1f} MiB"
    assert r["rss_final"] - r["rss_import"] < RSS_GROWTH_LIMIT
    assert not leftovers, leftovers  # spooled attachments are anonymous temporary files


# --------------------------------------------------------------------------- same result


def rich_package() -> bytes:
    """Several attachments (random, ZIP-wrapped, empty, text) plus comments, CDATA and a
    processing instruction in the markup: what the splitter has to step over."""
    rng = random.Random(5)
    zipped = io.BytesIO()
    with zipfile.ZipFile(zipped, "w", zipfile.ZIP_DEFLATED) as archive:
        archive.writestr("bao-cao.pdf", b"%PDF-1.4 " + rng.randbytes(20_000))
    data = build(
        make_edoc(
            ("quyet-dinh.pdf", rng.randbytes(150_000)),
            ("phu-luc.pdf", zipped.getvalue()),
            ("rong.txt", b""),
            ("ghi-chu.txt", "Tiếng Việt có dấu — đ Đ ư ơ".encode() * 50),
        )
    )
    data = data.replace(
        b"  <AttachmentEncoded>\n",
        b"  <!-- comment with <ContentTransferEncoded>Zm9v</ContentTransferEncoded> -->\n"
        b'  <?lienthong note="<Attachment>"?>\n  <AttachmentEncoded>\n',
        1,
    )
    return data.replace(
        f"<edXML:Subject>{SUBJECT}</edXML:Subject>".encode(),
        f"<edXML:Subject>{SUBJECT}<![CDATA[ <a>&amp;</a> ]]></edXML:Subject>".encode(),
        1,
    )


def normalise(pkg: Any) -> Any:
    """A comparable picture of a parsed package: blobs become (size, sha256, bytes)."""
    if isinstance(pkg, Blob):
        return ("blob", pkg.size, pkg.sha256, pkg.read_bytes())
    if isinstance(pkg, list):
        return [normalise(x) for x in pkg]
    if hasattr(pkg, "__dataclass_fields__"):
        return {name: normalise(getattr(pkg, name)) for name in pkg.__dataclass_fields__}
    return pkg


def parsed(source: Any, limits: Limits) -> Any:
    pkg = parse(source, limits=limits)
    try:
        return normalise(pkg)
    finally:
        pkg.close()


SMALL_THRESHOLD = Limits(inline_threshold=1024)


def test_rich_package_sanity() -> None:
    data = rich_package()
    assert len(data) > 200_000 > SMALL_THRESHOLD.inline_threshold
    inline = parsed(data, Limits())
    atts = inline["attachments"]
    assert [a["name"] for a in atts] == ["quyet-dinh.pdf", "phu-luc.pdf", "rong.txt", "ghi-chu.txt"]
    assert [a["problem"] for a in atts] == [None] * 4
    assert [a["unwrapped_zip"] for a in atts] == [False, True, False, False]
    assert atts[1]["content"][3].startswith(b"%PDF-1.4 ")
    assert atts[2]["content"][1] == 0
    assert inline["subject"] == SUBJECT + " <a>&amp;</a>"  # values are stripped


def test_bytes_above_inline_threshold_same_as_inline() -> None:
    data = rich_package()
    assert parsed(data, SMALL_THRESHOLD) == parsed(data, Limits())


def test_open_file_object_same_as_inline(tmp_path: Any) -> None:
    data = rich_package()
    path = tmp_path / "pkg.edxml"
    path.write_bytes(data)
    inline = parsed(data, Limits())
    with open(path, "rb") as fh:
        assert parsed(fh, SMALL_THRESHOLD) == inline
    with open(path, "rb") as fh:  # a small package read from a stream: inline path
        assert parsed(fh, Limits()) == inline
    assert parsed(io.BytesIO(data), SMALL_THRESHOLD) == inline
    assert parsed(path, SMALL_THRESHOLD) == inline
    assert parsed(str(path), Limits()) == inline


class ShortReads(io.RawIOBase):
    """A raw stream (socket, pipe) that returns at most ``n`` bytes per read, as
    ``io.RawIOBase.read`` is allowed to."""

    def __init__(self, data: bytes, n: int = 1000) -> None:
        self.data = memoryview(data)
        self.pos = 0
        self.n = n

    def readable(self) -> bool:
        return True

    def readinto(self, buffer: Any) -> int:
        k = min(len(buffer), self.n, len(self.data) - self.pos)
        buffer[:k] = self.data[self.pos : self.pos + k]
        self.pos += k
        return k


@pytest.mark.parametrize("limits", [Limits(), SMALL_THRESHOLD], ids=["default", "small-threshold"])
def test_raw_stream_with_short_reads_same_as_inline(limits: Limits) -> None:
    data = rich_package()
    inline = parsed(data, Limits())
    assert parsed(io.BufferedReader(ShortReads(data)), limits) == inline  # control
    assert parsed(ShortReads(data), limits) == inline


@pytest.mark.parametrize("chunk_size", [1, 3, 7, 31, 64, 1000, 4096])
def test_chunk_boundaries_do_not_change_the_result(chunk_size: int) -> None:
    """Every token of the package straddles some chunk boundary for one of these sizes."""
    data = rich_package()
    small = build(make_edoc(("a.pdf", b"hello world"), ("b.txt", b"\x00\x01\x02")))
    for package in (small, data) if chunk_size >= 31 else (small,):
        limits = Limits(inline_threshold=0, chunk_size=chunk_size)
        assert parsed(package, limits) == parsed(package, Limits())


@pytest.mark.parametrize("into_tag", [0, 10], ids=["tag-after-boundary", "tag-across-boundary"])
def test_end_tag_across_the_default_4mib_chunk_boundary(into_tag: int) -> None:
    """Default limits: a > 8 MiB package is streamed in 4 MiB chunks. Place the first
    attachment's ``</edXML:ContentTransferEncoded>`` ``into_tag`` bytes across the 4 MiB
    boundary (whitespace inside base64 text is allowed and ignored, so the offset can be
    tuned exactly). 0 is the control: the tag starts right at the boundary."""
    chunk = Limits().chunk_size
    first = random.Random(2).randbytes(5 * MiB // 2)  # base64: 3.3 MiB, ends before 4 MiB
    second = random.Random(3).randbytes(4 * MiB)  # makes the package > inline_threshold
    data = build(make_edoc(("a.pdf", first), ("b.pdf", second)))
    close = data.index(CTE_CLOSE)
    pad = chunk - close - into_tag
    assert pad > 0
    data = data[:close] + b"\n" * pad + data[close:]
    assert data.index(CTE_CLOSE) == chunk - into_tag
    assert len(data) > Limits().inline_threshold
    pkg = parse(data)
    try:
        assert [a.problem for a in pkg.attachments] == [None, None]
        assert [a.content.sha256 for a in pkg.attachments if a.content] == [
            hashlib.sha256(first).hexdigest(),
            hashlib.sha256(second).hexdigest(),
        ]
    finally:
        pkg.close()


# --------------------------------------------------------------------------- script mode

if __name__ == "__main__":
    child(sys.argv[1], sys.argv[2], int(sys.argv[3]))
