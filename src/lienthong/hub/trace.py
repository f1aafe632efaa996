"""TraceHeaders: every hub a package passed through, in what a recipient system receives.

The package travels between hubs byte for byte as its sender made it (signatures and
deduplication hold end to end); each hub's passage travels beside it in the
``X-Lienthong-Hops`` header (hub id and the moment that hub accepted it). When a hub hands
the package to a recipient system — fetch, getEdoc, downloadEdoc, push — it appends one
``TraceHeader`` per hop, its own last, at the end of ``TraceHeaderList``, as the national
platform does. The insertion is exact (no other byte changes), so the sender's bytes are
the delivered bytes minus those elements (``?as_sent=true`` on the REST fetch gives them
as they were sent); a package without a ``TraceHeaderList`` (status packages have none)
is delivered unchanged. Where the list is (its prefix) is recorded at intake, so listings
can give the delivered size without reading the package.
"""

from __future__ import annotations

import io
import re
from collections.abc import Sequence
from datetime import timedelta, timezone
from pathlib import Path
from typing import Any, BinaryIO
from xml.sax.saxutils import escape

from lienthong.protocol.hops import Hop

VIETNAM = timezone(timedelta(hours=7))
#: the TraceHeaderList is in the header, before any attachment: looked for this far only
HEAD_LIMIT = 256 * 1024
_CLOSE = re.compile(rb"</((?:[A-Za-z_][\w.-]*:)?)TraceHeaderList\s*>")
_HEADER_END = re.compile(
    rb"</(?:[A-Za-z_][\w.-]*:)?edXMLHeader\s*>|<(?:[A-Za-z_][\w.-]*:)?edXMLHeader(?:\s[^<>]*)?/>"
)


def prefix_of(path: Path) -> str | None:
    """Where a package takes TraceHeaders: the namespace prefix of its TraceHeaderList
    (``""`` when unprefixed), or ``None`` when it has no open TraceHeaderList in its
    header (status packages; an empty ``<TraceHeaderList/>``): then nothing is added."""
    with open(path, "rb") as fh:
        head = _head(fh)
    return _find(head)[0]


def _head(stream: BinaryIO) -> bytes:
    head = b""
    while len(head) < HEAD_LIMIT:
        data = stream.read(64 * 1024)
        if not data:
            break
        head += data
        if _CLOSE.search(head) or _HEADER_END.search(head):
            break
    return head


def _find(head: bytes) -> tuple[str | None, int]:
    end = _HEADER_END.search(head)
    close = _CLOSE.search(head, 0, end.start() if end else len(head))
    if close is None:
        return None, -1
    return close[1].decode(), close.start()


def trace_headers(prefix: str | None, hops: Sequence[Hop]) -> bytes:
    """The TraceHeader elements for ``hops`` (none where the package takes none)."""
    if prefix is None:
        return b""
    parts = []
    for hop in hops:
        if hop.at is None:  # recorded before hops carried their time: nothing to show
            continue
        at = hop.at.astimezone(VIETNAM).strftime("%Y/%m/%d %H:%M:%S")
        parts.append(
            f"<{prefix}TraceHeader><{prefix}OrganId>{escape(hop.hub_id)}</{prefix}OrganId>"
            f"<{prefix}Timestamp>{at}</{prefix}Timestamp></{prefix}TraceHeader>"
        )
    return "".join(parts).encode("utf-8")


class Traced(io.RawIOBase):
    """A package stream with the trace inserted; ``size`` is the delivered length."""

    def __init__(self, parts: list[bytes], rest: BinaryIO, size: int) -> None:
        self._parts = [p for p in parts if p]
        self._rest = rest
        self.size = size

    def readable(self) -> bool:
        return True

    def read(self, n: int | None = -1) -> bytes:
        """Exactly ``n`` bytes unless the end comes first (callers base64 by chunks)."""
        n = -1 if n is None else n
        out = bytearray()
        while n < 0 or len(out) < n:
            want = -1 if n < 0 else n - len(out)
            if self._parts:
                head = self._parts[0]
                take = head if want < 0 else head[:want]
                out += take
                if len(take) == len(head):
                    self._parts.pop(0)
                else:
                    self._parts[0] = head[len(take) :]
                continue
            data = self._rest.read(want)
            if not data:
                break
            out += data
        return bytes(out)

    def readinto(self, buffer: Any) -> int:
        data = self.read(len(buffer))
        buffer[: len(data)] = data
        return len(data)

    def close(self) -> None:
        self._rest.close()
        super().close()


def with_trace(stream: BinaryIO, size: int, prefix: str | None, hops: Sequence[Hop]) -> Traced:
    """``stream`` (a package of ``size`` bytes whose TraceHeaderList has ``prefix``) with
    one TraceHeader per hop appended to that list."""
    inserted = trace_headers(prefix, hops)
    if not inserted:
        return Traced([], stream, size)
    head = _head(stream)
    found, at = _find(head)
    if found != prefix:  # not the bytes the prefix was taken from: deliver them as they are
        return Traced([head], stream, size)
    return Traced([head[:at], inserted, head[at:]], stream, size + len(inserted))
