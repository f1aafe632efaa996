"""TraceHeaders appended on delivery: exact insertion (the sender's bytes are the delivered
bytes minus them), every dialect of TraceHeaderList, streaming in exact chunks."""

from __future__ import annotations

import io
from datetime import UTC, datetime
from pathlib import Path

import pytest

from lienthong.edxml.parser import parse
from lienthong.hub.trace import prefix_of, trace_headers, with_trace
from lienthong.protocol.hops import Hop
from support import EDOC_SAMPLES, STATUS_SAMPLES, as_sent

HOPS = [
    Hop("h41", datetime(2026, 11, 27, 2, 15, 1, tzinfo=UTC)),
    Hop("vn", datetime(2026, 11, 27, 2, 15, 2, tzinfo=UTC)),
    Hop("lienthong", datetime(2026, 11, 27, 2, 15, 3, tzinfo=UTC)),
]


def _deliver(data: bytes, path: Path, hops: list[Hop] = HOPS, chunk: int = -1) -> bytes:
    path.write_bytes(data)
    traced = with_trace(io.BytesIO(data), len(data), prefix_of(path), hops)
    out = b""
    while piece := traced.read(chunk):
        assert chunk < 0 or len(piece) == chunk or not traced.read(1)
        out += piece
        if chunk < 0:
            break
    assert len(out) == traced.size
    return out


@pytest.mark.parametrize("name", EDOC_SAMPLES)
def test_every_official_sample_gets_the_trace_appended_and_nothing_else(
    name: str, sample_corpus: dict[str, bytes], tmp_path: Path
) -> None:
    data = sample_corpus[name]
    before = parse(data).trace_headers
    delivered = _deliver(data, tmp_path / name)
    after = parse(delivered).trace_headers
    assert after[: len(before)] == before
    assert [(t.organ_id, t.timestamp) for t in after[len(before) :]] == [
        ("h41", "2026/11/27 09:15:01"),  # Vietnam time, the platform's format
        ("vn", "2026/11/27 09:15:02"),
        ("lienthong", "2026/11/27 09:15:03"),
    ]
    assert as_sent(delivered, ("h41", "vn", "lienthong")) == data


@pytest.mark.parametrize("name", STATUS_SAMPLES)
def test_status_packages_have_no_trace_list_and_are_delivered_unchanged(
    name: str, sample_corpus: dict[str, bytes], tmp_path: Path
) -> None:
    data = sample_corpus[name]
    assert prefix_of(_write(tmp_path, data)) is None
    assert _deliver(data, tmp_path / name) == data


def _write(tmp_path: Path, data: bytes) -> Path:
    path = tmp_path / "p.edxml"
    path.write_bytes(data)
    return path


def test_an_unprefixed_list_gets_unprefixed_headers(tmp_path: Path) -> None:
    data = (
        b'<?xml version="1.0" encoding="UTF-8"?><edXMLEnvelope xmlns="http://x">'
        b"<edXMLHeader><MessageHeader/><TraceHeaderList><TraceHeader><OrganId>A</OrganId>"
        b"</TraceHeader></TraceHeaderList></edXMLHeader></edXMLEnvelope>"
    )
    assert prefix_of(_write(tmp_path, data)) == ""
    delivered = _deliver(data, tmp_path / "u.edxml", HOPS[:1])
    assert b"<TraceHeader><OrganId>h41</OrganId><Timestamp>2026/11/27 09:15:01</Timestamp>" in (
        delivered
    )
    assert delivered.endswith(b"</TraceHeader></TraceHeaderList></edXMLHeader></edXMLEnvelope>")


def test_no_list_in_the_header_means_no_trace(tmp_path: Path) -> None:
    for data in (
        b"<e:Envelope xmlns:e='x'><e:edXMLHeader><e:TraceHeaderList/></e:edXMLHeader></e:Envelope>",
        b"<e:Envelope xmlns:e='x'><e:edXMLHeader/><e:Body><e:TraceHeaderList></e:TraceHeaderList>"
        b"</e:Body></e:Envelope>",
    ):
        assert prefix_of(_write(tmp_path, data)) is None
        assert _deliver(data, tmp_path / "n.edxml") == data


def test_a_large_package_streams_in_exact_chunks_with_the_trace_in_place(
    sample_corpus: dict[str, bytes], tmp_path: Path
) -> None:
    data = sample_corpus["edoc.edxml"].replace(
        b"</edXMLEnvelope>", b"<!--" + b"x" * 3_000_000 + b"-->\n</edXMLEnvelope>"
    )
    whole = _deliver(data, tmp_path / "a.edxml")
    for chunk in (3 * (1 << 18), 7, 1 << 20):  # getEdoc reads multiples of 3
        assert _deliver(data, tmp_path / "b.edxml", chunk=chunk) == whole
    assert len(whole) == len(data) + len(trace_headers("edXML:", HOPS))
