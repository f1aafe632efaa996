"""Attachment content: blobs, streaming base64 decoding and safe ZIP unwrapping.

Attachments can be hundreds of megabytes, so their content never has to sit in memory:
decoded bytes go to a spooled temporary file (in memory up to 1 MiB, then on disk) while
their size and SHA-256 are computed on the way.
"""

from __future__ import annotations

import binascii
import hashlib
import io
import os
import tempfile
import zipfile
import zlib
from collections.abc import Iterator
from dataclasses import dataclass
from typing import IO, NoReturn

import pybase64

from lienthong.edxml.errors import Code, EdxmlError

ZIP_MAGIC = b"PK\x03\x04"
_SPOOL_MEMORY = 1 << 20
_COPY_CHUNK = 1 << 20
#: An inflated file below this size is never a bomb, whatever its ratio.
_RATIO_FLOOR = 4 << 10
#: Inflated content beyond this goes to disk (a package may hold many small ZIPs).
_UNZIP_MEMORY = 64 << 10
#: Names whose ZIP content is the document itself and must not be unwrapped.
_ZIP_FORMATS = (".zip", ".docx", ".xlsx", ".pptx", ".odt", ".ods", ".odp", ".epub", ".jar")


@dataclass(frozen=True, slots=True)
class Limits:
    """Resource limits applied while reading a package. All sizes in bytes."""

    max_package_bytes: int = 1 << 30
    max_attachment_bytes: int = 512 << 20
    max_zip_ratio: int = 100
    #: Bytes inflated from all ZIP-wrapped attachments of one package together.
    max_inflated_bytes: int = 2 << 30
    max_markup_bytes: int = 16 << 20
    max_attachments: int = 1000
    inline_threshold: int = 8 << 20
    chunk_size: int = 4 << 20
    spool_dir: str | None = None


DEFAULT_LIMITS = Limits()


class Blob:
    """Immutable binary content with its size and SHA-256, backed by bytes, a file path
    or a spooled temporary file."""

    __slots__ = ("_data", "_file", "_path", "sha256", "size")

    def __init__(
        self,
        *,
        size: int,
        sha256: str,
        data: bytes | None = None,
        path: str | None = None,
        file: IO[bytes] | None = None,
    ) -> None:
        self.size = size
        self.sha256 = sha256
        self._data = data
        self._path = path
        self._file = file

    @classmethod
    def from_bytes(cls, data: bytes) -> Blob:
        return cls(size=len(data), sha256=hashlib.sha256(data).hexdigest(), data=bytes(data))

    @classmethod
    def from_path(cls, path: str | os.PathLike[str]) -> Blob:
        h = hashlib.sha256()
        size = 0
        with open(path, "rb") as fh:
            while chunk := fh.read(_COPY_CHUNK):
                h.update(chunk)
                size += len(chunk)
        return cls(size=size, sha256=h.hexdigest(), path=os.fspath(path))

    def chunks(self, chunk_size: int = _COPY_CHUNK) -> Iterator[bytes]:
        if self._data is not None:
            for i in range(0, len(self._data), chunk_size):
                yield self._data[i : i + chunk_size]
        elif self._path is not None:
            with open(self._path, "rb") as fh:
                while chunk := fh.read(chunk_size):
                    yield chunk
        elif self._file is not None:
            self._file.seek(0)
            while chunk := self._file.read(chunk_size):
                yield chunk

    def read_bytes(self) -> bytes:
        if self._data is not None:
            return self._data
        return b"".join(self.chunks())

    def head(self, n: int) -> bytes:
        for chunk in self.chunks(max(n, 1)):
            return chunk[:n]
        return b""

    def copy_to(self, out: IO[bytes]) -> None:
        for chunk in self.chunks():
            out.write(chunk)

    def save(self, path: str | os.PathLike[str]) -> None:
        with open(path, "wb") as fh:
            self.copy_to(fh)

    def close(self) -> None:
        if self._file is not None:
            self._file.close()
            self._file = None

    def __repr__(self) -> str:
        return f"Blob(size={self.size}, sha256={self.sha256[:12]}…)"


def _spool(limits: Limits) -> IO[bytes]:
    return tempfile.SpooledTemporaryFile(max_size=_SPOOL_MEMORY, dir=limits.spool_dir)


class Base64Decoder:
    """Streaming, strict base64 decoder writing into a spool.

    Feed it text in any chunking (whitespace and line breaks are ignored); call
    :meth:`finish` for the decoded :class:`Blob`. Anything outside the base64 alphabet,
    data after padding, or a truncated final group raises ``EDXML_BASE64_INVALID``.
    """

    def __init__(self, field: str, limits: Limits = DEFAULT_LIMITS) -> None:
        self._field = field
        self._limits = limits
        self._carry = b""
        self._parts: list[bytes] = []  # small content stays in memory…
        self._out: IO[bytes] | None = None  # …larger content goes to a spool
        self._hash = hashlib.sha256()
        self._size = 0
        self._consumed = 0

    def feed(self, text: bytes | str) -> None:
        if isinstance(text, str):
            try:
                raw = text.encode("ascii")
            except UnicodeEncodeError:
                self._fail("non-ASCII character")
        else:
            raw = text
        data = self._carry + raw if self._carry else raw
        if b"\n" in data or b" " in data or b"\r" in data or b"\t" in data:
            data = data.translate(None, b" \t\r\n")
        n = len(data) - len(data) % 4
        self._carry = data[n:]
        if n:
            self._decode(data[:n])

    def _decode(self, quads: bytes) -> None:
        try:
            raw = pybase64.b64decode(quads, validate=True)
        except (binascii.Error, ValueError) as exc:
            self._fail(f"{exc} (near decoded byte {self._size})")
        self._consumed += len(quads)
        self._size += len(raw)
        if self._size > self._limits.max_attachment_bytes:
            self.discard()
            raise EdxmlError.of(
                Code.ATTACHMENT_TOO_LARGE, self._field, limit=self._limits.max_attachment_bytes
            )
        self._hash.update(raw)
        if self._out is not None:
            self._out.write(raw)
        elif self._size <= _SPOOL_MEMORY:
            self._parts.append(raw)
        else:
            self._out = _spool(self._limits)
            for part in self._parts:
                self._out.write(part)
            self._out.write(raw)
            self._parts = []

    def _fail(self, detail: str) -> NoReturn:
        self.discard()
        raise EdxmlError.of(Code.BASE64_INVALID, self._field, detail=detail)

    def discard(self) -> None:
        self._parts = []
        if self._out is not None:
            self._out.close()

    def finish(self) -> Blob:
        if self._carry:
            rest = self._carry
            if len(rest) == 1:
                self._fail("truncated final group")
            self._carry = b""
            self._decode(rest + b"=" * (4 - len(rest)))
        if self._out is None:
            data = b"".join(self._parts)
            return Blob(size=self._size, sha256=self._hash.hexdigest(), data=data)
        return Blob(size=self._size, sha256=self._hash.hexdigest(), file=self._out)


def decode_base64_text(text: str | bytes, field: str, limits: Limits = DEFAULT_LIMITS) -> Blob:
    decoder = Base64Decoder(field, limits)
    decoder.feed(text)
    return decoder.finish()


def unwrap_zip(
    blob: Blob,
    name: str,
    field: str,
    limits: Limits = DEFAULT_LIMITS,
    *,
    budget: int | None = None,
) -> Blob | None:
    """Return the single file inside a ZIP-wrapped attachment, or ``None`` when the content
    is not a wrapper (not a ZIP, several entries, or a format that is a ZIP by nature).

    The VNPT library zips every attachment whatever type it declares, so the decision is
    made on the bytes. Guards: the declared size, the real size while inflating, and the
    compression ratio are all bounded, so a zip bomb costs neither memory nor disk. The
    ratio holds at every size (above :data:`_RATIO_FLOOR`: many small bombs add up);
    ``budget`` is what the package may still inflate in all (``max_inflated_bytes`` less
    what its earlier attachments took). The inflated file is spooled to disk beyond
    :data:`_UNZIP_MEMORY`.
    """
    if blob.head(4) != ZIP_MAGIC or name.lower().endswith(_ZIP_FORMATS):
        return None
    opened: IO[bytes]
    if blob._file is not None:
        blob._file.seek(0)
        opened = blob._file
    elif blob._path is not None:
        opened = open(blob._path, "rb")  # noqa: SIM115 - closed with the archive
    else:
        opened = io.BytesIO(blob.read_bytes())
    try:
        archive = zipfile.ZipFile(opened)
        entries = [i for i in archive.infolist() if not i.is_dir()]
    except (zipfile.BadZipFile, OSError, ValueError, EOFError):
        return None  # starts like a ZIP but is not one: keep the bytes as they are
    if len(entries) != 1 or entries[0].flag_bits & 0x1:
        return None  # a real archive, or an encrypted one: the user's file as it is
    entry = entries[0]
    limit = limits.max_attachment_bytes
    if entry.file_size > limit:
        raise EdxmlError.of(
            Code.ZIP_BOMB, field, detail=f"declared size {entry.file_size} > limit {limit}"
        )
    if budget is not None and entry.file_size > budget:
        raise EdxmlError.of(
            Code.ZIP_BOMB,
            field,
            detail=f"the package's attachments inflate beyond {limits.max_inflated_bytes} bytes",
        )
    ratio_cap = max(max(entry.compress_size, 1) * limits.max_zip_ratio, _RATIO_FLOOR)
    if entry.file_size > ratio_cap:
        raise EdxmlError.of(
            Code.ZIP_BOMB,
            field,
            detail=f"ratio {entry.file_size // max(entry.compress_size, 1)}:1 "
            f"> {limits.max_zip_ratio}:1",
        )
    cap = min(limit, ratio_cap, max(entry.file_size, 0))
    if budget is not None:
        cap = min(cap, budget)
    out = tempfile.SpooledTemporaryFile(max_size=_UNZIP_MEMORY, dir=limits.spool_dir)  # noqa: SIM115
    h = hashlib.sha256()
    size = 0
    try:
        with archive.open(entry) as member:
            while chunk := member.read(_COPY_CHUNK):
                size += len(chunk)
                if size > cap:
                    raise EdxmlError.of(
                        Code.ZIP_BOMB, field, detail=f"inflates beyond its declared {cap} bytes"
                    )
                h.update(chunk)
                out.write(chunk)
    except EdxmlError:
        out.close()
        raise
    except (
        zipfile.BadZipFile,
        zlib.error,
        OSError,
        ValueError,
        EOFError,
        RuntimeError,
        NotImplementedError,
    ) as exc:
        out.close()
        raise EdxmlError.of(Code.ZIP_INVALID, field, detail=str(exc)) from None
    blob.close()
    return Blob(size=size, sha256=h.hexdigest(), file=out)
