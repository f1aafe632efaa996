"""Many small ZIP attachments cannot multiply memory (security review, issue 10 §3.3): the
compression ratio holds at every size, the bytes inflated from all attachments of one
package together are capped, and a reader asking for one attachment reads that one only.
Both parser paths (inline and streaming)."""

from __future__ import annotations

import io
import os
import zipfile
from collections.abc import Callable

import pytest

from lienthong.edxml.attachments import Blob, Limits
from lienthong.edxml.builder import build
from lienthong.edxml.errors import Code
from lienthong.edxml.model import Attachment, Edoc
from lienthong.edxml.parser import parse

MiB = 1 << 20
PATHS = {"inline": Limits(), "streaming": Limits(inline_threshold=0)}


def zipped(data: bytes, name: str = "to-trinh.docx.txt") -> bytes:
    out = io.BytesIO()
    with zipfile.ZipFile(out, "w", zipfile.ZIP_DEFLATED) as archive:
        archive.writestr(name, data)
    return out.getvalue()


def package(make_edoc: Callable[..., Edoc], contents: list[bytes]) -> bytes:
    attachments = [
        Attachment(
            name=f"phu-luc-{i}.pdf",
            description="Phụ lục",
            content_type="application/pdf",
            content=Blob.from_bytes(data),
        )
        for i, data in enumerate(contents, 1)
    ]
    return build(make_edoc(attachments=attachments))


@pytest.mark.parametrize("path", PATHS)
def test_small_zips_over_the_ratio_are_refused_each(
    make_edoc: Callable[..., Edoc], path: str
) -> None:
    """300 × 1 MiB of zeros in ~1 KiB ZIPs (a 0.6 MB package): each is a bomb, however
    small. Before: each was inflated into memory (ratio checked above 1 MiB only)."""
    bomb = zipped(bytes(MiB))
    data = package(make_edoc, [bomb] * 300)
    assert len(data) < 1 * MiB
    pkg = parse(data, limits=PATHS[path])
    try:
        assert len(pkg.attachments) == 300
        assert {a.problem.code if a.problem else None for a in pkg.attachments} == {Code.ZIP_BOMB}
    finally:
        pkg.close()


@pytest.mark.parametrize("path", PATHS)
def test_the_bytes_inflated_by_one_package_are_capped(
    make_edoc: Callable[..., Edoc], path: str
) -> None:
    """ZIPs of incompressible content (ratio ~1): each one fine, together over the cap."""
    contents = [zipped(os.urandom(100 * 1024)) for _ in range(5)]
    limits = Limits(inline_threshold=PATHS[path].inline_threshold, max_inflated_bytes=350 * 1024)
    pkg = parse(package(make_edoc, contents), limits=limits)
    try:
        problems = [a.problem.code if a.problem else None for a in pkg.attachments]
        assert problems == [None, None, None, Code.ZIP_BOMB, Code.ZIP_BOMB]
        assert all(a.unwrapped_zip for a in pkg.attachments[:3])
    finally:
        pkg.close()


@pytest.mark.parametrize("path", PATHS)
def test_asking_for_one_attachment_reads_only_that_one(
    make_edoc: Callable[..., Edoc], path: str
) -> None:
    contents = [zipped(f"phụ lục {i}\n".encode() * 50) for i in range(1, 6)]
    pkg = parse(package(make_edoc, contents), limits=PATHS[path], attachment=2)
    try:
        assert len(pkg.attachments) == 2  # the ones after it are not read
        first, second = pkg.attachments
        assert first.content is None and first.name == "phu-luc-1.pdf"
        assert second.content is not None and second.unwrapped_zip
        assert second.content.read_bytes() == "phụ lục 2\n".encode() * 50
    finally:
        pkg.close()
