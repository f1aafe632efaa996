"""Hostile corpus for the edXML parser.

Every case is a valid package built with :func:`lienthong.edxml.builder.build` and then
corrupted. Each must end in a typed :class:`EdxmlError` (or, for an attachment that cannot
be decoded, a typed ``Attachment.problem`` that ``strict=True`` turns into a raise) with the
exact :class:`Code`, through both parser paths: the inline one (default limits) and the
streaming splitter (``inline_threshold=0`` and small chunks).

Bounded resources:

* memory — each case runs in-process under ``tracemalloc`` and its peak is asserted, as is
  the growth of the process' peak RSS during the case (on Linux the kernel high-water mark
  ``VmHWM`` is reset before the case through ``/proc/self/clear_refs``, so C allocations
  made by lxml or zlib count too; elsewhere the growth of ``ru_maxrss``);
* time — no wall-clock assertion. ``test_corpus_terminates_in_subprocess`` runs the whole
  corpus once in a child process with a generous ``timeout=`` and an address-space limit,
  so a hang or a runaway allocation fails that test; a ``faulthandler`` watchdog also stops
  the run (with tracebacks) if an in-process case ever hangs.

Run as a script (``python tests/edxml/test_hostile.py``) the module executes the corpus and prints
one JSON line per case: that is what the subprocess guard does.
"""

from __future__ import annotations

import faulthandler
import functools
import io
import json
import os
import random
import resource
import struct
import subprocess
import sys
import tracemalloc
import zipfile
from collections.abc import Callable, Iterator
from dataclasses import dataclass, field
from typing import Any

import pytest

from lienthong.edxml.attachments import Blob, Limits
from lienthong.edxml.builder import build
from lienthong.edxml.errors import Code, EdxmlError, Problem
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
GiB = 1 << 30
PATHS = ("inline", "streaming")
STREAM_CHUNK = 4096
#: generic bound on what one hostile case may allocate (Python heap, tracemalloc)
CASE_HEAP_LIMIT = 16 * MiB
#: bound on the growth of the process' peak RSS during one case
CASE_RSS_LIMIT = 96 * MiB
#: the corpus child may not map more than this (the 1 GiB / 200 MB cases must not inflate)
CORPUS_ADDRESS_SPACE = 1 * GiB
CORPUS_TIMEOUT = 240
WATCHDOG_SECONDS = 180

DECL = b'<?xml version="1.0" encoding="UTF-8"?>\n'
CTE_OPEN = f'<edXML:ContentTransferEncoded xmlns:edXML="{NS}">'.encode()
CTE_CLOSE = b"</edXML:ContentTransferEncoded>"
SUBJECT = "Về việc thử nghiệm gói tin độc hại"
HELLO = b"hello world"
HELLO_B64 = b"aGVsbG8gd29ybGQ="


# --------------------------------------------------------------------------- base packages


def make_edoc(*attachments: tuple[str, bytes]) -> Edoc:
    edoc = Edoc(
        sender=Organization(organ_id="000.00.00.G22", organ_name="Văn phòng Chính phủ"),
        recipients=[Organization(organ_id="000.00.00.H01", organ_name="Bộ Thử nghiệm")],
        code=DocumentCode(number="12", notation="QĐ-UBND"),
        promulgation=PromulgationInfo(place="Hà Nội", date="2024/01/02"),
        subject=SUBJECT,
        trace_headers=[TraceHeader(organ_id="000.00.00.G22", timestamp="2024/01/02 10:00:00")],
    )
    for i, (name, data) in enumerate(attachments, start=1):
        edoc.attachments.append(
            Attachment(
                content_id=f"cid:att-{i}",
                name=name,
                description=f"Tệp {i}",
                content=Blob.from_bytes(data),
            )
        )
    return edoc


def package(*attachments: tuple[str, bytes]) -> bytes:
    return build(make_edoc(*attachments))


@functools.cache
def base() -> bytes:
    """A valid package with one small attachment (``hello world``)."""
    data = package(("a.pdf", HELLO))
    assert data.startswith(DECL) and data.count(CTE_OPEN) == 1
    return data


def replace_once(data: bytes, old: bytes, new: bytes) -> bytes:
    assert data.count(old) == 1, old
    return data.replace(old, new)


def with_content(text: bytes) -> bytes:
    """The base package with ``text`` as the raw content of its ContentTransferEncoded."""
    return replace_once(base(), CTE_OPEN + HELLO_B64 + CTE_CLOSE, CTE_OPEN + text + CTE_CLOSE)


def with_subject(inner: bytes) -> bytes:
    old = f"<edXML:Subject>{SUBJECT}</edXML:Subject>".encode()
    return replace_once(base(), old, b"<edXML:Subject>" + inner + b"</edXML:Subject>")


def with_prolog(prolog: bytes, body: bytes | None = None) -> bytes:
    """``<?xml …?>`` + ``prolog`` + the rest of the base package (or ``body``)."""
    rest = base()[len(DECL) :] if body is None else body
    return DECL + prolog + rest


def with_zip(zipped: bytes, name: str = "a.pdf") -> bytes:
    return package((name, zipped))


# --------------------------------------------------------------------------- ZIP crafting


def small_zip(payload: bytes = HELLO * 100, name: str = "inner.pdf") -> bytes:
    buf = io.BytesIO()
    with zipfile.ZipFile(buf, "w", zipfile.ZIP_DEFLATED) as archive:
        archive.writestr(name, payload)
    return buf.getvalue()


def _central_directory(z: bytes | bytearray) -> int:
    cd = z.find(b"PK\x01\x02")
    assert z[:4] == b"PK\x03\x04" and cd > 0
    return cd


def patch_uncompressed_size(z: bytes, size: int) -> bytes:
    """Declare ``size`` uncompressed bytes in the local header and the central directory."""
    out = bytearray(z)
    struct.pack_into("<I", out, 22, size)  # local file header: uncompressed size
    struct.pack_into("<I", out, _central_directory(out) + 24, size)  # central directory
    return bytes(out)


def patch_flags(z: bytes, bits: int) -> bytes:
    """Set general-purpose flag ``bits`` (bit 0: encrypted) in both headers."""
    out = bytearray(z)
    cd = _central_directory(out)
    for offset in (6, cd + 8):
        (flags,) = struct.unpack_from("<H", out, offset)
        struct.pack_into("<H", out, offset, flags | bits)
    return bytes(out)


def corrupt_deflate(z: bytes) -> bytes:
    """Overwrite the compressed stream with 0xFF (deflate block type 3: reserved/invalid)."""
    out = bytearray(z)
    (csize,) = struct.unpack_from("<I", out, 18)
    name_len, extra_len = struct.unpack_from("<HH", out, 26)
    start = 30 + name_len + extra_len
    out[start : start + csize] = b"\xff" * csize
    return bytes(out)


def streamed_zip(name: str, blocks: Iterator[bytes]) -> bytes:
    """Deflate ``blocks`` into a one-entry ZIP without ever holding the payload."""
    buf = io.BytesIO()
    with (
        zipfile.ZipFile(buf, "w", zipfile.ZIP_DEFLATED, compresslevel=9) as archive,
        archive.open(name, "w") as member,
    ):
        for block in blocks:
            member.write(block)
    return buf.getvalue()


@functools.cache
def zero_bomb() -> bytes:
    """200 MiB of zeros deflated to ~200 KB (ratio ~1000:1)."""
    zero = bytes(MiB)
    data = streamed_zip("bomb.pdf", (zero for _ in range(200)))
    assert len(data) < 400_000
    return data


@functools.cache
def medium_ratio_zip() -> bytes:
    """4 MiB that deflate about 25:1: fine by default, a bomb for ``max_zip_ratio=10``."""
    rng = random.Random(7)
    data = streamed_zip("medium.pdf", (rng.randbytes(64) + bytes(1984) for _ in range(2048)))
    ratio = (4 * MiB) // len(data)
    assert 10 < ratio < 100, ratio
    return data


def deep_nesting(levels: int = 100_000) -> bytes:
    inner = b"<edXML:Subject>" + SUBJECT.encode() + b"</edXML:Subject>"
    nested = b"<x>" * levels + b"</x>" * levels
    return replace_once(with_subject(SUBJECT.encode()), inner, inner + nested)


def billion_laughs() -> bytes:
    entities = [b'<!ENTITY lol "lol">']
    for i in range(1, 10):
        ref = b"&lol;" if i == 1 else b"&lol%d;" % (i - 1)
        entities.append(b'<!ENTITY lol%d "%s">' % (i, ref * 10))
    prolog = b"<!DOCTYPE edXML [" + b"".join(entities) + b"]>\n"
    return with_prolog(prolog, with_subject(b"&lol9;")[len(DECL) :])


XXE_PROLOG = b'<!DOCTYPE edXML [<!ENTITY x SYSTEM "file:///etc/passwd">]>\n'


def xxe() -> bytes:
    return with_prolog(XXE_PROLOG, with_subject(b"&x;")[len(DECL) :])


def utf16le_without_bom(data: bytes) -> bytes:
    text = data.decode("utf-8").replace('encoding="UTF-8"', 'encoding="UTF-16"', 1)
    return text.encode("utf-16-le")


def truncated_in_attachment_text() -> bytes:
    data = base()
    return data[: data.index(HELLO_B64) + 7]


def truncated_in_tag() -> bytes:
    data = base()
    return data[: data.index(b"<edXML:Subject>") + 9]


# --------------------------------------------------------------------------- the corpus


@dataclass(frozen=True)
class Case:
    name: str
    make: Callable[[], bytes]
    code: Code
    #: "raise": parse raises; "attachment": parse returns, the attachment has the problem
    #: (and strict=True raises it)
    where: str = "raise"
    limits: dict[str, Any] = field(default_factory=dict)
    paths: tuple[str, ...] = PATHS
    heap_limit: int = CASE_HEAP_LIMIT


CASES = [
    # DTDs and entities: refused before any entity can be declared
    Case("xxe-file-etc-passwd", xxe, Code.DOCTYPE_FORBIDDEN),
    Case("billion-laughs", billion_laughs, Code.DOCTYPE_FORBIDDEN),
    Case(
        "doctype-after-comment",
        lambda: with_prolog(b"<!-- a harmless comment -->\n<!DOCTYPE edXML>\n"),
        Code.DOCTYPE_FORBIDDEN,
    ),
    Case(
        "doctype-after-comment-longer-than-a-chunk",
        lambda: with_prolog(b"<!--" + b"x" * (3 * STREAM_CHUNK) + b"-->\n" + XXE_PROLOG),
        Code.DOCTYPE_FORBIDDEN,
    ),
    Case(
        "doctype-after-bom-and-whitespace",
        lambda: b"\xef\xbb\xbf \n" + with_prolog(XXE_PROLOG),
        Code.DOCTYPE_FORBIDDEN,
    ),
    Case(
        "external-parameter-entity",
        lambda: with_prolog(
            b'<!DOCTYPE edXML [<!ENTITY % ext SYSTEM "http://127.0.0.1:9/evil.dtd"> %ext;]>\n'
        ),
        Code.DOCTYPE_FORBIDDEN,
    ),
    Case("undefined-entity-without-dtd", lambda: with_subject(b"&foo;"), Code.MALFORMED),
    # ZIP-wrapped attachments
    Case(
        "zip-declares-1-GiB",
        lambda: with_zip(patch_uncompressed_size(small_zip(), GiB)),
        Code.ZIP_BOMB,
        where="attachment",
    ),
    Case(
        "zip-declares-1-GiB-attachment-limit-above",
        lambda: with_zip(patch_uncompressed_size(small_zip(), GiB)),
        Code.ZIP_BOMB,  # then the ratio guard refuses it
        where="attachment",
        limits={"max_attachment_bytes": 2 * GiB},
    ),
    Case("zip-bomb-200MB-zeros", lambda: with_zip(zero_bomb()), Code.ZIP_BOMB, where="attachment"),
    Case(
        "zip-bomb-200MB-zeros-low-attachment-limit",
        lambda: with_zip(zero_bomb()),
        Code.ZIP_BOMB,
        where="attachment",
        limits={"max_attachment_bytes": 64 * MiB},
    ),
    Case(
        "zip-ratio-25-with-max-ratio-10",
        lambda: with_zip(medium_ratio_zip()),
        Code.ZIP_BOMB,
        where="attachment",
        limits={"max_zip_ratio": 10},
    ),
    Case(
        "zip-bomb-declaring-less-than-it-inflates",
        lambda: with_zip(patch_uncompressed_size(zero_bomb(), 2 * MiB)),
        Code.ZIP_INVALID,  # zipfile stops at the declared size, then the CRC fails
        where="attachment",
    ),
    Case(
        "zip-entry-corrupt-deflate-stream",
        lambda: with_zip(corrupt_deflate(small_zip())),
        Code.ZIP_INVALID,
        where="attachment",
    ),
    # base64
    Case(
        "base64-non-alphabet",
        lambda: with_content(b"aGVs*G8gd29y$GQ="),
        Code.BASE64_INVALID,
        where="attachment",
    ),
    Case(
        "base64-data-after-padding",
        lambda: with_content(HELLO_B64 + b"aGVs"),
        Code.BASE64_INVALID,
        where="attachment",
    ),
    Case(
        "base64-truncated-final-group-of-1",
        lambda: with_content(b"aGVsbG8gd29ybGQhA"),  # 17 characters: 16 + 1
        Code.BASE64_INVALID,
        where="attachment",
    ),
    Case(
        "attachment-over-max-attachment-bytes",
        lambda: package(("a.pdf", bytes(range(256)) * 64)),
        Code.ATTACHMENT_TOO_LARGE,
        where="attachment",
        limits={"max_attachment_bytes": 4096},
    ),
    # root, namespace, structure
    Case(
        "wrong-namespace-go-vn-eDoc",
        lambda: replace_once(
            base(), f'<edXML xmlns="{NS}">'.encode(), b'<edXML xmlns="http://www.go.vn/eDoc">'
        ),
        Code.WRONG_NAMESPACE,
    ),
    Case(
        "wrong-root",
        lambda: replace_once(
            replace_once(
                base(), f'<edXML xmlns="{NS}">'.encode(), f'<Package xmlns="{NS}">'.encode()
            ),
            b"</edXML>\n",
            b"</Package>\n",
        ),
        Code.WRONG_ROOT,
    ),
    Case(
        "deep-nesting-100000-in-MessageHeader",
        deep_nesting,
        Code.TOO_DEEP,
        # 700 KB of markup; the splitter keeps one bytes object per tag (see
        # test_streaming_markup_heap_is_proportionate), hence the larger bound
        heap_limit=48 * MiB,
    ),
    # bytes before / around the XML
    Case("stray-bytes-before-declaration", lambda: b"garbage\x00" + base(), Code.STRAY_BYTES),
    Case(
        "utf16-bom",
        lambda: b"\xff\xfe" + base().decode().replace("UTF-8", "UTF-16").encode("utf-16-le"),
        Code.ENCODING,
    ),
    Case(
        "utf32-bom",
        lambda: b"\xff\xfe\x00\x00" + base().decode().encode("utf-32-le"),
        Code.ENCODING,
    ),
    Case("utf16le-without-bom", lambda: utf16le_without_bom(base()), Code.ENCODING),
    Case(
        "encoding-iso-8859-1",
        lambda: replace_once(base(), b'encoding="UTF-8"', b'encoding="ISO-8859-1"'),
        Code.ENCODING,
    ),
    Case("empty", lambda: b"", Code.EMPTY),
    Case("whitespace-only", lambda: b" \r\n\t  \n", Code.EMPTY),
    # sizes
    Case(
        "package-over-max-package-bytes",
        base,
        Code.TOO_LARGE,
        limits={"max_package_bytes": 1000},
    ),
    Case(
        "markup-over-max-markup-bytes",
        lambda: with_subject(("ầ" * 6000).encode()),
        Code.TOO_LARGE,
        limits={"max_markup_bytes": 8192},
        paths=("streaming",),  # the inline path parses packages <= inline_threshold whole
    ),
    Case(
        "more-attachments-than-max-attachments",
        lambda: package(*((f"t{i}.pdf", b"%d" % i) for i in range(5))),
        Code.TOO_LARGE,
        limits={"max_attachments": 4},
    ),
    # attachment markup
    Case(
        "content-transfer-encoded-with-child-element",
        lambda: with_content(b"aGVs<edXML:x>bG8g</edXML:x>d29ybGQ="),
        Code.ATTACHMENT_CONTENT,  # structural: the package is refused on both paths
    ),
    # truncation
    Case("truncated-in-attachment-text", truncated_in_attachment_text, Code.MALFORMED),
    Case("truncated-in-a-tag", truncated_in_tag, Code.MALFORMED),
    Case(
        "unterminated-comment",
        lambda: replace_once(base(), b"<AttachmentEncoded>", b"<!-- <AttachmentEncoded>"),
        Code.MALFORMED,
    ),
]
CASES_BY_NAME = {case.name: case for case in CASES}
assert len(CASES_BY_NAME) == len(CASES)


def path_limits(path: str, **kwargs: Any) -> Limits:
    """Default limits (inline path), or a streaming split forced by ``inline_threshold=0``."""
    if path == "inline":
        return Limits(**kwargs)
    return Limits(inline_threshold=0, chunk_size=STREAM_CHUNK, **kwargs)


def limits_for(case: Case, path: str) -> Limits:
    return path_limits(path, **case.limits)


@functools.cache
def case_bytes(name: str) -> bytes:
    return CASES_BY_NAME[name].make()


def outcome(data: bytes, limits: Limits, *, strict: bool = False) -> tuple[str, Code | None, Any]:
    """("raise", code, problem) | ("attachment", code, problem) | ("ok", None, package).

    Anything but an EdxmlError propagates: the parser promises typed errors only."""
    try:
        pkg = parse(data, limits=limits, strict=strict)
    except EdxmlError as exc:
        return "raise", exc.code, exc.problem
    problems = [a.problem for a in getattr(pkg, "attachments", []) if a.problem is not None]
    pkg.close()
    if problems:
        return "attachment", problems[0].code, problems[0]
    return "ok", None, pkg


def _status_kib(key: str) -> int | None:
    try:
        with open("/proc/self/status", encoding="ascii") as fh:
            for line in fh:
                if line.startswith(key + ":"):
                    return int(line.split()[1])
    except OSError:
        pass
    return None


class PeakRss:
    """Growth of the peak RSS over a block: exact on Linux (VmHWM reset before the block),
    a lower bound elsewhere (``ru_maxrss`` only moves when the old peak is exceeded)."""

    def __enter__(self) -> PeakRss:
        try:
            with open("/proc/self/clear_refs", "w", encoding="ascii") as fh:
                fh.write("5")
            self.exact = _status_kib("VmHWM") is not None
        except OSError:
            self.exact = False
        self.before = self._now()
        self.growth = 0
        return self

    def _now(self) -> int:
        if self.exact:
            return (_status_kib("VmRSS") or 0) * 1024
        return resource.getrusage(resource.RUSAGE_SELF).ru_maxrss * 1024

    def __exit__(self, *exc: object) -> None:
        peak = (_status_kib("VmHWM") or 0) * 1024 if self.exact else self._now()
        self.growth = peak - self.before


def assert_messages(p: Problem) -> None:
    assert isinstance(p, Problem)
    assert p.message_vi.strip(), p
    assert p.message_en.strip(), p
    assert p.message_vi != p.message_en


@pytest.fixture(autouse=True)
def _watchdog() -> Iterator[None]:
    """Backstop: a case hanging in C code (no Python bytecode runs) still ends the run."""
    faulthandler.dump_traceback_later(WATCHDOG_SECONDS, exit=True)
    try:
        yield
    finally:
        faulthandler.cancel_dump_traceback_later()


# --------------------------------------------------------------------------- hang guard


def _corpus_child() -> None:
    """Run every case, both paths; one JSON line per case. Used by the guard below."""
    for case in CASES:
        for path in case.paths:
            print(json.dumps({"start": case.name, "path": path}), flush=True)
            try:
                kind, code, _ = outcome(case_bytes(case.name), limits_for(case, path))
                result = {"kind": kind, "code": code}
            except BaseException as exc:  # report, keep going: the tests say which is wrong
                result = {"kind": "exception", "code": f"{type(exc).__name__}: {exc}"[:200]}
            print(json.dumps({"done": case.name, "path": path, **result}), flush=True)


def _limit_address_space() -> None:
    resource.setrlimit(resource.RLIMIT_AS, (CORPUS_ADDRESS_SPACE, CORPUS_ADDRESS_SPACE))


def test_corpus_terminates_in_subprocess() -> None:
    """The whole corpus finishes within a generous timeout and 1 GiB of address space."""
    try:
        proc = subprocess.run(
            [sys.executable, os.path.abspath(__file__)],
            capture_output=True,
            text=True,
            timeout=CORPUS_TIMEOUT,
            preexec_fn=_limit_address_space,
            check=False,
        )
    except subprocess.TimeoutExpired as exc:
        out = exc.stdout or ""
        out = out.decode() if isinstance(out, bytes) else out
        last = out.strip().splitlines()[-1:] or ["(nothing)"]
        pytest.fail(f"hostile corpus did not finish in {CORPUS_TIMEOUT}s; last line: {last[0]}")
    assert proc.returncode == 0, proc.stderr[-3000:]
    lines = [json.loads(line) for line in proc.stdout.splitlines()]
    done = {(d["done"], d["path"]) for d in lines if "done" in d}
    expected = {(c.name, p) for c in CASES for p in c.paths}
    assert done == expected
    oom = [d for d in lines if "MemoryError" in str(d.get("code"))]
    assert not oom, oom


# --------------------------------------------------------------------------- the cases


@pytest.mark.parametrize("path", PATHS)
@pytest.mark.parametrize("case", CASES, ids=lambda c: c.name)
def test_hostile_case(case: Case, path: str) -> None:
    if path not in case.paths:
        pytest.skip(f"{case.name} applies to the {'/'.join(case.paths)} path only")
    data = case_bytes(case.name)
    limits = limits_for(case, path)
    with PeakRss() as rss:
        tracemalloc.start()
        try:
            kind, code, found = outcome(data, limits)
            heap_peak = tracemalloc.get_traced_memory()[1]
        finally:
            tracemalloc.stop()
    rss_growth = rss.growth
    assert (kind, code) == (case.where, case.code), found
    assert_messages(found)
    assert heap_peak < case.heap_limit, f"heap peak {heap_peak / MiB:.1f} MiB"
    assert rss_growth < CASE_RSS_LIMIT, f"peak RSS grew by {rss_growth / MiB:.1f} MiB"
    if case.where == "attachment":
        with pytest.raises(EdxmlError) as raised:
            parse(data, limits=limits, strict=True)
        assert raised.value.code is case.code
        assert_messages(raised.value.problem)


def _secrets() -> list[str]:
    lines = ["root:x:0:0", "/bin/bash", "/usr/sbin/nologin"]
    if os.path.exists("/etc/passwd"):
        with open("/etc/passwd", encoding="utf-8", errors="replace") as fh:
            lines += [line.strip() for line in fh if line.strip()][:5]
    return lines


def _assert_no_secret(exc: EdxmlError) -> None:
    p = exc.problem
    seen = " ".join([str(exc), repr(exc), p.message_vi, p.message_en, p.field, repr(p)])
    for secret in _secrets():
        assert secret not in seen


@pytest.mark.parametrize("path", PATHS)
def test_xxe_never_reads_the_file(path: str) -> None:
    with pytest.raises(EdxmlError) as raised:
        parse(xxe(), limits=path_limits(path))
    assert raised.value.code is Code.DOCTYPE_FORBIDDEN
    _assert_no_secret(raised.value)


@pytest.mark.parametrize("path", PATHS)
def test_dtd_in_utf16_without_bom_is_refused_too(path: str) -> None:
    """The byte-level DOCTYPE check cannot see ``<!DOCTYPE`` in UTF-16 without a BOM (each
    ASCII byte is followed by NUL); such a package must still be refused, typed, with
    nothing expanded or read. (Which code is a matter of taste: any refusal is safe.)"""
    for data in (utf16le_without_bom(xxe()), utf16le_without_bom(billion_laughs())):
        tracemalloc.start()
        try:
            with pytest.raises(EdxmlError) as raised:
                parse(data, limits=path_limits(path))
            heap_peak = tracemalloc.get_traced_memory()[1]
        finally:
            tracemalloc.stop()
        assert raised.value.code in {Code.ENCODING, Code.DOCTYPE_FORBIDDEN, Code.MALFORMED}
        assert_messages(raised.value.problem)
        _assert_no_secret(raised.value)
        assert heap_peak < CASE_HEAP_LIMIT


def test_zip_bomb_is_really_a_bomb() -> None:
    """Sanity of the corpus itself: the bomb is small and declares 200 MiB."""
    bomb = zero_bomb()
    info = zipfile.ZipFile(io.BytesIO(bomb)).infolist()[0]
    assert info.file_size == 200 * MiB and info.compress_size < 400_000
    lying = zipfile.ZipFile(io.BytesIO(patch_uncompressed_size(small_zip(), GiB))).infolist()[0]
    assert lying.file_size == GiB and lying.compress_size < 100


@pytest.mark.parametrize("path", PATHS)
def test_medium_ratio_zip_is_accepted_by_default(path: str) -> None:
    """Positive control for the ratio case: by default the same ZIP is simply unwrapped."""
    pkg = parse(with_zip(medium_ratio_zip()), limits=path_limits(path))
    att = pkg.attachments[0]
    assert att.problem is None and att.unwrapped_zip and att.content is not None
    assert att.content.size == 4 * MiB
    pkg.close()


@pytest.mark.parametrize("path", PATHS)
def test_encrypted_zip_entry_is_kept_as_sent(path: str) -> None:
    """An encrypted single-entry ZIP cannot be unwrapped (zipfile raises RuntimeError
    without a password). It is the user's own file: kept as it is, never an untyped
    exception."""
    zipped = patch_flags(small_zip(), 0x1)
    pkg = parse(with_zip(zipped), limits=path_limits(path))
    att = pkg.attachments[0]
    assert att.problem is None and not att.unwrapped_zip
    assert att.content is not None and att.content.read_bytes() == zipped
    pkg.close()


# --------------------------------------------------------------------------- markup tricks


FAKE_CTE = b"<edXML:ContentTransferEncoded>Zm9vYmFy</edXML:ContentTransferEncoded>"


def hidden_cte_packages() -> dict[str, bytes]:
    comment = b"<!-- <Attachment><ContentId>cid:x</ContentId>" + FAKE_CTE + b"</Attachment> -->\n"
    return {
        "comment-in-AttachmentEncoded": replace_once(
            base(), b"  </AttachmentEncoded>", comment + b"  </AttachmentEncoded>"
        ),
        "comment-before-root": with_prolog(comment),
        "cdata-in-subject": with_subject(b"<![CDATA[" + FAKE_CTE + b"]]>"),
        "cdata-in-attachment-description": replace_once(
            base(),
            "<Description>Tệp 1</Description>".encode(),
            b"<Description><![CDATA[" + FAKE_CTE + b"]]></Description>",
        ),
        "processing-instruction": replace_once(
            base(), b"<AttachmentEncoded>", b"<AttachmentEncoded><?pi " + FAKE_CTE + b"?>"
        ),
    }


def summary(data: bytes, limits: Limits) -> dict[str, Any]:
    pkg = parse(data, limits=limits)
    assert isinstance(pkg, Edoc)
    out = {
        "subject": pkg.subject,
        "descriptions": [a.description for a in pkg.attachments],
        "attachments": [
            (a.content.size, a.content.sha256, a.content.read_bytes()) if a.content else None
            for a in pkg.attachments
        ],
        "problems": [a.problem for a in pkg.attachments],
    }
    pkg.close()
    return out


@pytest.mark.parametrize("name", list(hidden_cte_packages()))
def test_cte_inside_comment_cdata_or_pi_is_not_an_attachment(name: str) -> None:
    data = hidden_cte_packages()[name]
    inline = summary(data, Limits())
    streaming = summary(data, Limits(inline_threshold=0, chunk_size=STREAM_CHUNK))
    assert inline == streaming
    assert len(inline["attachments"]) == 1
    assert inline["attachments"][0][2] == HELLO
    assert inline["problems"] == [None]
    if name == "cdata-in-subject":
        assert inline["subject"] == FAKE_CTE.decode()
    if name == "cdata-in-attachment-description":
        assert inline["descriptions"] == [FAKE_CTE.decode()]


def _any_outcome(data: bytes, limits: Limits) -> tuple[str, Code | None, bytes | None]:
    """(kind, code, decoded content) — comparable across paths."""
    try:
        pkg = parse(data, limits=limits)
    except EdxmlError as exc:
        return "raise", exc.code, None
    att = pkg.attachments[0]
    body = att.content.read_bytes() if att.content is not None else None
    pkg.close()
    if att.problem is not None:
        return "attachment", att.problem.code, None
    return "ok", None, body


MARKUP_IN_CTE = {
    "character-reference": HELLO_B64[:-1] + b"&#61;",
    "cdata-section": b"aGVsbG8g<![CDATA[d29y]]>bGQ=",
    "comment": b"aGVsbG8g<!-- note -->d29ybGQ=",
    "processing-instruction": b"aGVsbG8g<?pi x?>d29ybGQ=",
}


@pytest.mark.parametrize("name", list(MARKUP_IN_CTE))
def test_markup_inside_cte_text_same_result_on_both_paths(name: str) -> None:
    """Two paths, one result (docs/architecture.md): whatever the verdict on XML markup
    inside ContentTransferEncoded, inline and streaming must agree."""
    data = with_content(MARKUP_IN_CTE[name])
    inline = _any_outcome(data, Limits())
    streaming = _any_outcome(data, Limits(inline_threshold=0, chunk_size=STREAM_CHUNK))
    assert inline == streaming


# --------------------------------------------------------------------------- chunking


@functools.cache
def bare() -> bytes:
    """A valid package without attachments: no ContentTransferEncoded to trip over."""
    return package()


PROLOG_CASES = {
    "stray-bytes": (lambda: b"garbage\x00" + bare(), Code.STRAY_BYTES),
    "encoding-iso-8859-1": (
        lambda: replace_once(bare(), b'encoding="UTF-8"', b'encoding="ISO-8859-1"'),
        Code.ENCODING,
    ),
    "utf16-bom": (
        lambda: b"\xff\xfe" + bare().decode().replace("UTF-8", "UTF-16").encode("utf-16-le"),
        Code.ENCODING,
    ),
    "doctype-after-bom-and-whitespace": (
        lambda: b"\xef\xbb\xbf \n" + DECL + XXE_PROLOG + bare()[len(DECL) :],
        Code.DOCTYPE_FORBIDDEN,
    ),
}


@pytest.mark.parametrize("chunk_size", [1, 7, 16])
@pytest.mark.parametrize("name", list(PROLOG_CASES))
def test_prolog_checks_do_not_depend_on_chunk_size(name: str, chunk_size: int) -> None:
    """The streaming splitter checks the prolog on the first buffer it holds; the verdict
    must not change when that buffer is shorter than the XML declaration."""
    make, code = PROLOG_CASES[name]
    data = make()
    assert outcome(data, path_limits("streaming"))[:2] == ("raise", code)
    limits = Limits(inline_threshold=0, chunk_size=chunk_size)
    kind, found_code, found = outcome(data, limits)
    assert (kind, found_code) == ("raise", code), found


def test_streaming_markup_heap_is_proportionate() -> None:
    """The splitter hands lxml the markup outside attachments (up to max_markup_bytes,
    16 MiB by default). Holding it should cost a small multiple of its size, not one
    Python object per tag: 1 MiB of ``<x/>`` must not need more than 8 MiB of heap."""
    markup = b"<x/>" * (256 * 1024)
    data = with_subject(markup)
    peaks = {}
    for path, limits in (("inline", Limits()), ("streaming", Limits(inline_threshold=0))):
        tracemalloc.start()
        try:
            assert outcome(data, limits)[0] == "ok"
            peaks[path] = tracemalloc.get_traced_memory()[1]
        finally:
            tracemalloc.stop()
    assert peaks["inline"] < 2 * len(markup)
    assert peaks["streaming"] < 8 * len(markup), f"{peaks['streaming'] / MiB:.1f} MiB"


# --------------------------------------------------------------------------- script mode

if __name__ == "__main__":
    _corpus_child()
