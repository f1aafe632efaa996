"""Bounded fuzzing of the parser, and the streaming path against the inline one.

Contract under test: whatever bytes come in, ``parse`` either returns a package or raises
:class:`EdxmlError` (never another exception), and whatever it returns can be validated and
shown (``to_json``) without raising. Both parser paths are exercised: the inline one
(default limits) and the streaming splitter (``Limits(inline_threshold=1024,
chunk_size=97)``). The streaming path must give the same result as the inline one.
"""

from __future__ import annotations

import base64
import binascii
import io
import re
import zipfile
from collections.abc import Callable
from pathlib import Path
from typing import Any

import pytest
from hypothesis import HealthCheck, given, note, settings
from hypothesis import strategies as st

from lienthong.edxml.attachments import DEFAULT_LIMITS, Blob, Limits
from lienthong.edxml.builder import build
from lienthong.edxml.errors import Code, EdxmlError, Problem
from lienthong.edxml.model import Attachment, Edoc, OtherInfo, Status
from lienthong.edxml.parser import parse
from lienthong.edxml.validate import validate
from lienthong.edxml.view import to_json

STREAMING = Limits(inline_threshold=1024, chunk_size=97)
CHUNK_SIZES = (1, 7, 64, 4093)
FUZZ = settings(
    max_examples=1000,
    deadline=None,
    suppress_health_check=[HealthCheck.too_slow, HealthCheck.data_too_large],
)
_CTE_TEXT = re.compile(
    rb"<(?:\w+:)?ContentTransferEncoded[^>]*>([A-Za-z0-9+/=\s]*)</(?:\w+:)?ContentTransferEncoded>"
)

TOKENS = [
    b'<!DOCTYPE edXML [<!ENTITY x "xxxxxxxxxx">]>',
    b'<!DOCTYPE edXML SYSTEM "http://example.invalid/edxml.dtd">',
    b"&x;",
    b"&#0;",
    b"&#x110000;",
    b"&amp;",
    b"<![CDATA[",
    b"]]>",
    b"<![CDATA[ <edXML:Subject> ]]>",
    b"<!--",
    b"-->",
    b"<!-- <edXML:ContentTransferEncoded> -->",
    b"<?pi data?>",
    b'<?xml version="1.0" encoding="ISO-8859-1"?>',
    b"<",
    b">",
    b"</",
    b"/>",
    b'"',
    b"'",
    b"\x00",
    b"\xff",
    b"\xc3",
    b"\xef\xbb\xbf",
    b"\xff\xfe",
    b"<a>" * 300 + b"</a>" * 300,  # deeper than libxml2's 256 levels
    b"<a>" * 300,
    b"<edXML:ContentTransferEncoded>",
    b"</edXML:ContentTransferEncoded>",
    b"<edXML:ContentTransferEncoded/>",
    b"<Attachment><ContentId>cid:1</ContentId>"
    b"<ContentTransferEncoded>UEsDBA==</ContentTransferEncoded></Attachment>",
    b'xmlns:edXML="urn:other"',
    b'xmlns=""',
    b"edXML:",
    b"xlink:",
    "²".encode(),
    "Tỉnh".encode(),
    b"PK\x03\x04",
    b"<edXML:StatusCode>01</edXML:StatusCode>",
]
ODD_TEXT = st.one_of(
    st.sampled_from(
        [
            "",
            " ",
            "²",
            "٣",
            "６",
            "2024/02/30",
            "2024-02-03",
            "-1",
            "9" * 40,
            "&amp;",
            "&x;",
            "<",
            "]]>",
            "cid:",
            "000.00.00.G22",
            "28.22.H17",
            "Hà Nội",
        ]
    ),
    st.text(max_size=20),
)
POSITION = st.tuples(st.booleans(), st.integers(0, 1 << 20))
OPERATION = st.one_of(
    st.tuples(st.just("flip"), POSITION, st.integers(0, 7)),
    st.tuples(st.just("insert"), POSITION, st.binary(min_size=1, max_size=8)),
    st.tuples(st.just("delete"), POSITION, st.integers(1, 64)),
    st.tuples(st.just("truncate"), POSITION),
    st.tuples(st.just("splice"), POSITION, st.sampled_from(TOKENS)),
    st.tuples(st.just("text"), POSITION, ODD_TEXT),
    st.tuples(st.just("zip"), st.integers(0, 1 << 20), st.integers(0, 255)),
)


def small_zip(name: str, data: bytes) -> bytes:
    buf = io.BytesIO()
    with zipfile.ZipFile(buf, "w", zipfile.ZIP_DEFLATED) as archive:
        archive.writestr(name, data)
    return buf.getvalue()


class Corpus(dict[str, bytes]):
    """Packages by name; a short repr keeps Hypothesis' failure reports readable."""

    def __repr__(self) -> str:
        return f"<corpus of {len(self)} packages>"


@pytest.fixture(scope="module")
def corpus(
    sample_corpus: dict[str, bytes],
    make_edoc: Callable[..., Edoc],
    make_attachment: Callable[..., Attachment],
    make_status: Callable[..., Status],
) -> dict[str, bytes]:
    """The official samples plus two small built packages (one with a ZIP-wrapped
    attachment, so the ZIP guard gets fuzzed cheaply)."""
    wrapped = small_zip("Tờ trình.doc", "Nội dung tờ trình số 15. ".encode() * 200)
    mini = build(
        make_edoc(
            attachments=[
                make_attachment("Tờ trình 15-TTr.doc", wrapped, content_type="application/zip"),
                make_attachment(content_id="cid:pdf"),
            ]
        )
    )
    return Corpus({**sample_corpus, "built-edoc": mini, "built-status": build(make_status())})


_MARKERS: dict[str, list[int]] = {}


def markers(name: str, data: bytes) -> list[int]:
    """Offsets of markup in a corpus entry (mutations like to land near tags)."""
    if name not in _MARKERS:
        _MARKERS[name] = [m.start() for m in re.finditer(rb"[<>]", data)] or [0]
    return _MARKERS[name]


def mutate(name: str, original: bytes, operations: list[tuple[Any, ...]]) -> bytes:
    data = bytearray(original)
    marks = markers(name, original)

    def at(position: tuple[bool, int]) -> int:
        near_markup, n = position
        offset = marks[n % len(marks)] if near_markup else n
        return min(offset, len(data)) if near_markup else offset % (len(data) + 1)

    for op in operations:
        kind = op[0]
        if kind == "zip":
            _mutate_attachment(data, op[1], op[2])
            continue
        pos = at(op[1])
        if kind == "flip":
            if pos < len(data):
                data[pos] ^= 1 << op[2]
        elif kind == "insert":
            data[pos:pos] = op[2]
        elif kind == "delete":
            del data[pos : pos + op[2]]
        elif kind == "truncate":
            del data[pos:]
        elif kind == "splice":
            data[pos:pos] = op[2]
        elif kind == "text":
            gt = data.find(b">", pos)
            lt = data.find(b"<", gt + 1) if gt >= 0 else -1
            if lt > gt >= 0:
                data[gt + 1 : lt] = op[2].encode("utf-8", "surrogatepass")
    return bytes(data)


def _mutate_attachment(data: bytearray, where: int, value: int) -> None:
    """Change one byte of the decoded attachment (a ZIP header, the deflate stream or the
    central directory) and encode it again: the ZIP guard gets well-formed base64."""
    m = _CTE_TEXT.search(data)
    if m is None:
        return
    try:
        raw = bytearray(base64.b64decode(m.group(1)))
    except (binascii.Error, ValueError):
        return
    if not raw:
        return
    region = where % 3
    if region == 0:
        i = where % min(len(raw), 64)  # local header
    elif region == 1:
        i = len(raw) - 1 - where % min(len(raw), 64)  # central directory, end record
    else:
        i = where % len(raw)
    raw[i] = value
    data[m.start(1) : m.end(1)] = base64.b64encode(bytes(raw))


def check_contract(data: bytes) -> None:
    for limits in (DEFAULT_LIMITS, STREAMING):
        try:
            package = parse(data, limits=limits)
        except EdxmlError as exc:
            assert isinstance(exc.problem.code, Code)
            assert exc.problem.message_vi and exc.problem.message_en
            continue
        try:
            problems = validate(package)
            assert all(isinstance(p, Problem) for p in problems)
            to_json(package)
        finally:
            package.close()


# --------------------------------------------------------------------------- fuzzing


@FUZZ
@given(data=st.data())
def test_mutated_samples_only_ever_raise_edxml_errors(
    data: st.DataObject, corpus: dict[str, bytes]
) -> None:
    name = data.draw(st.sampled_from(sorted(corpus)), label="sample")
    operations = data.draw(st.lists(OPERATION, min_size=1, max_size=4), label="operations")
    mutated = mutate(name, corpus[name], operations)
    note(f"{len(mutated)} bytes, head {mutated[:80]!r}")
    check_contract(mutated)


@settings(max_examples=300, deadline=None)
@given(head=st.binary(max_size=300))
def test_arbitrary_bytes_only_ever_raise_edxml_errors(head: bytes) -> None:
    check_contract(head)
    check_contract(b'<?xml version="1.0" encoding="UTF-8"?>\n' + head)


@pytest.mark.parametrize(
    ("data", "code"),
    [
        (b"", Code.EMPTY),
        (b"  \r\n\t", Code.EMPTY),
        (b"1212<?xml version='1.0'?><edXML/>", Code.STRAY_BYTES),
        ("<?xml version='1.0'?><edXML/>".encode("utf-16"), Code.ENCODING),
        (b'<?xml version="1.0" encoding="windows-1258"?><edXML/>', Code.ENCODING),
        (b'<!DOCTYPE edXML [<!ENTITY x "y">]><edXML>&x;</edXML>', Code.DOCTYPE_FORBIDDEN),
        (
            b'<?xml version="1.0"?><!-- c --><!DOCTYPE edXML SYSTEM "file:///etc/passwd"><edXML/>',
            Code.DOCTYPE_FORBIDDEN,
        ),
        (b"<edXML xmlns='http://www.mic.gov.vn/TBT/QCVN_102_2016'>" + b"<a>" * 300, Code.TOO_DEEP),
        (b"<Envelope xmlns='http://www.mic.gov.vn/TBT/QCVN_102_2016'/>", Code.WRONG_ROOT),
        (b"<edXML xmlns='http://www.go.vn/eDoc'/>", Code.WRONG_NAMESPACE),
        (b"<edXML xmlns='http://www.mic.gov.vn/TBT/QCVN_102_2016'/>", Code.REQUIRED),
        (b"<edXML xmlns='http://www.mic.gov.vn/TBT/QCVN_102_2016'>&x;</edXML>", Code.MALFORMED),
        (b"<edXML", Code.MALFORMED),
        (b"no markup", Code.MALFORMED),
    ],
    ids=[
        "empty",
        "blank",
        "stray",
        "utf16",
        "windows-1258",
        "entity",
        "external-dtd",
        "deep",
        "root",
        "namespace",
        "no-envelope",
        "undefined-entity",
        "truncated",
        "text",
    ],
)
@pytest.mark.parametrize(
    "limits",
    [DEFAULT_LIMITS, Limits(inline_threshold=0, chunk_size=97)],
    ids=["inline", "streaming"],
)
def test_hostile_inputs_get_their_own_code(data: bytes, code: Code, limits: Limits) -> None:
    with pytest.raises(EdxmlError) as info:
        parse(data, limits=limits)
    assert info.value.code is code


def test_entity_is_never_expanded(sample: Callable[[str], Path]) -> None:
    raw = sample("status.edxml").read_bytes()
    attack = raw.replace(
        b"<edXML xmlns", b'<!DOCTYPE edXML [<!ENTITY x "KHONG">]>\n<edXML xmlns', 1
    ).replace(b"<edXML:StatusCode>01", b"<edXML:StatusCode>&x;01")
    for limits in (DEFAULT_LIMITS, Limits(inline_threshold=0, chunk_size=64)):
        with pytest.raises(EdxmlError) as info:
            parse(attack, limits=limits)
        assert info.value.code is Code.DOCTYPE_FORBIDDEN


# --------------------------------------------------------------------------- found by fuzzing


def _package_with_zip(make_edoc: Callable[..., Edoc], wrapped: bytes) -> bytes:
    attachment = Attachment(
        content_id="cid:1",
        name="Tờ trình.doc",
        content_type="application/zip",
        content=Blob.from_bytes(wrapped),
    )
    return build(make_edoc(attachments=[attachment]))


def test_corrupt_deflate_stream_is_a_typed_problem(make_edoc: Callable[..., Edoc]) -> None:
    wrapped = bytearray(small_zip("a.doc", b"x" * 1000))
    wrapped[30 + len("a.doc")] = 0xFF  # first deflate block: BTYPE=11, "invalid block type"
    data = _package_with_zip(make_edoc, bytes(wrapped))
    for limits in (DEFAULT_LIMITS, STREAMING):
        try:
            edoc = parse(data, limits=limits)
        except EdxmlError as exc:
            assert exc.code is Code.ZIP_INVALID
            continue
        assert isinstance(edoc, Edoc)
        problem = edoc.attachments[0].problem
        assert problem is not None and problem.code is Code.ZIP_INVALID


def test_encrypted_zip_entry_is_kept_or_refused_never_a_crash(
    make_edoc: Callable[..., Edoc],
) -> None:
    wrapped = bytearray(small_zip("a.doc", b"x" * 1000))
    wrapped[6] |= 1  # general purpose flag bit 0: encrypted (local header)
    central = wrapped.rfind(b"PK\x01\x02")
    wrapped[central + 8] |= 1  # and in the central directory
    data = _package_with_zip(make_edoc, bytes(wrapped))
    for limits in (DEFAULT_LIMITS, STREAMING):
        try:
            edoc = parse(data, limits=limits)
        except EdxmlError as exc:
            assert exc.code is Code.ZIP_INVALID
            continue
        assert isinstance(edoc, Edoc)
        att = edoc.attachments[0]
        assert att.unwrapped_zip is False
        if att.problem is None:  # kept as the user's own (password-protected) file
            assert att.content is not None
            assert att.content.read_bytes() == bytes(wrapped)
        else:
            assert att.problem.code is Code.ZIP_INVALID


@pytest.mark.parametrize("value", ["²", "³", "①"])
def test_odd_digits_in_numeric_fields_can_be_validated_and_shown(
    value: str, make_edoc: Callable[..., Edoc]
) -> None:
    # str.isdigit() is true for "²" and "①", int() refuses them
    data = build(make_edoc(other_info=OtherInfo(priority=value, page_amount=value)), check=False)
    edoc = parse(data)
    assert isinstance(edoc, Edoc)
    assert edoc.other_info is not None and edoc.other_info.priority == value
    assert Code.OUT_OF_RANGE in {p.code for p in validate(edoc)}
    view = to_json(edoc)
    assert view["priority"] == value  # not a number: kept as text
    assert view["other_info"]["page_amount"] == value


# --------------------------------------------------------------------------- streaming = inline


def outcome(data: bytes, limits: Limits) -> tuple[str, Any]:
    try:
        package = parse(data, limits=limits)
    except EdxmlError as exc:
        return "error", exc.code
    try:
        return "ok", to_json(package)
    finally:
        package.close()


@pytest.mark.parametrize("chunk_size", CHUNK_SIZES)
def test_streaming_agrees_with_inline_on_every_sample(
    sample_name: str, chunk_size: int, sample: Callable[[str], Path]
) -> None:
    data = sample(sample_name).read_bytes()
    inline = outcome(data, DEFAULT_LIMITS)
    streamed = outcome(data, Limits(inline_threshold=0, chunk_size=chunk_size))
    assert streamed == inline


def test_streaming_is_used_above_the_threshold(sample: Callable[[str], Path]) -> None:
    # a stream is read in chunks too: same result as the bytes
    data = sample("edoc_revocation.edxml").read_bytes()
    limits = Limits(inline_threshold=1024, chunk_size=4093)
    assert outcome(data, limits) == outcome(data, DEFAULT_LIMITS)
    edoc = parse(io.BytesIO(data), limits=limits)
    assert isinstance(edoc, Edoc) and edoc.attachments[0].content is not None
    assert edoc.attachments[0].content.size == 388347


def test_closing_tag_split_by_a_chunk_boundary(make_edoc: Callable[..., Edoc]) -> None:
    """With the default 4 MiB chunks: a package whose ``</edXML:ContentTransferEncoded>``
    straddles the first chunk boundary."""
    chunk = DEFAULT_LIMITS.chunk_size
    limits = Limits(inline_threshold=0)  # stream it, default chunk size

    def package(size: int) -> bytes:
        attachment = Attachment(
            content_id="cid:big",
            name="Hồ sơ.pdf",
            content_type="application/pdf",
            content=Blob.from_bytes(b"%PDF" + bytes(size - 4)),
        )
        return build(make_edoc(attachments=[attachment]))

    probe = package(3 * 1024)
    end_tag = probe.index(b"</edXML:ContentTransferEncoded>")
    # 3 bytes of content = 4 base64 characters: land the end tag 12 bytes before the boundary
    size = 3 * 1024 + (chunk - 12 - end_tag) // 4 * 3
    data = package(size)
    offset = data.index(b"</edXML:ContentTransferEncoded>")
    assert offset < chunk < offset + len(b"</edXML:ContentTransferEncoded>")
    edoc = parse(data, limits=limits)
    assert isinstance(edoc, Edoc)
    assert edoc.attachments[0].content is not None
    assert edoc.attachments[0].content.size == size


@pytest.mark.parametrize("chunk_size", [1, 2, 3, 4])
def test_stray_bytes_are_reported_whatever_the_chunk_size(
    chunk_size: int, sample: Callable[[str], Path]
) -> None:
    data = sample("edoc_new.edxml").read_bytes()
    with pytest.raises(EdxmlError) as info:
        parse(data, limits=Limits(inline_threshold=0, chunk_size=chunk_size))
    assert info.value.code is Code.STRAY_BYTES


@pytest.mark.parametrize("chunk_size", [1, 2, 3])
def test_byte_order_mark_is_accepted_whatever_the_chunk_size(
    chunk_size: int, sample: Callable[[str], Path]
) -> None:
    data = b"\xef\xbb\xbf" + sample("status.edxml").read_bytes()
    assert parse(data).kind == "status"
    assert parse(data, limits=Limits(inline_threshold=0, chunk_size=chunk_size)).kind == "status"


@pytest.mark.parametrize("chunk_size", [7, 20, 64])
def test_non_utf8_declaration_is_refused_whatever_the_chunk_size(
    chunk_size: int, sample: Callable[[str], Path]
) -> None:
    data = (
        sample("status.edxml").read_bytes().replace(b'encoding="UTF-8"', b'encoding="ISO-8859-1"')
    )
    with pytest.raises(EdxmlError) as inline:
        parse(data)
    assert inline.value.code is Code.ENCODING
    with pytest.raises(EdxmlError) as streamed:
        parse(data, limits=Limits(inline_threshold=0, chunk_size=chunk_size))
    assert streamed.value.code is Code.ENCODING


DECORATIONS = st.sampled_from(
    [
        "<!-- ghi chú: <edXML:ContentTransferEncoded> -->".encode(),
        "<?lienthong xử-lý?>".encode(),
        b"<!---->",
        b"\n\t  ",
    ]
)


@st.composite
def generated_packages(draw: st.DrawFn, make_edoc: Callable[..., Edoc]) -> bytes:
    attachments = [
        Attachment(
            content_id=f"cid:{i}",
            name=draw(st.sampled_from(["Tờ trình.pdf", "Phụ lục.doc", "ảnh.jpg"])),
            content_type="application/pdf",
            content=Blob.from_bytes(draw(st.binary(max_size=6000))),
        )
        for i in range(draw(st.integers(0, 3)))
    ]
    subject = draw(st.text(st.sampled_from("Vv báo cáo Hà Nội <>&\"'\n"), min_size=1, max_size=80))
    data = build(make_edoc(subject="V/v " + subject, attachments=attachments))
    # decorate between elements: comments, PIs and whitespace the splitter must skip whole
    gaps = [m.end() for m in re.finditer(rb">\n", data)]
    for gap in sorted(draw(st.lists(st.sampled_from(gaps), max_size=3, unique=True)), reverse=True):
        data = data[:gap] + draw(DECORATIONS) + data[gap:]
    if draw(st.booleans()):  # a CDATA section in a text value
        data = data.replace(b"<edXML:Subject>", b"<edXML:Subject><![CDATA[<x>&]]>", 1)
    return data


@settings(max_examples=200, deadline=None, suppress_health_check=[HealthCheck.too_slow])
@given(data=st.data())
def test_streaming_agrees_with_inline_on_generated_packages(
    data: st.DataObject, make_edoc: Callable[..., Edoc]
) -> None:
    package = data.draw(generated_packages(make_edoc), label="package")
    chunk_size = data.draw(st.sampled_from(CHUNK_SIZES) | st.integers(1, 5000), label="chunk")
    inline = outcome(package, DEFAULT_LIMITS)
    assert inline[0] == "ok", inline
    assert outcome(package, Limits(inline_threshold=0, chunk_size=chunk_size)) == inline
