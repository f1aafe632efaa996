"""Content-addressed payload storage: a local folder, an S3-compatible bucket, or memory.

A blob's key is the lowercase hex SHA-256 of its content (64 ASCII characters, nothing
else), so the same content always lands under the same key and every put is idempotent:
a second put of content already stored is a no-op. Keys are checked on every call; a key
that is not 64 lowercase hex digits raises :class:`InvalidBlobKey` (this also rules out
path tricks such as ``../``).

* :class:`LocalBlobStore` keeps ``root/ab/cd/<sha256>``. A new blob is written to a
  temporary file in its final directory, fsynced, moved into place with ``os.replace`` and
  the directory fsynced, so a crash leaves either the whole blob or none of it.
* :class:`S3BlobStore` writes with a conditional create (``If-None-Match: *``), so
  concurrent writers of the same content never overwrite each other; big files go up as
  a multipart upload whose completion carries the same condition.
* :class:`MemoryBlobStore` is for tests.

``put_file`` trusts the ``sha256`` the caller computed while streaming the payload in
(re-reading a large file only to hash it again would double the I/O); only the ``size``
is checked, against the file system. S3 receives the digest as ``ChecksumSHA256`` on
single-part uploads, so the server verifies it there. ``put_bytes`` computes the key.

:func:`blob_store_from_url` builds a store from one setting (``file:///srv/blobs``, a plain
path, ``s3://bucket/prefix?endpoint=http://127.0.0.1:9000&region=…`` or ``memory:``).
"""

from __future__ import annotations

import base64
import contextlib
import hashlib
import io
import os
import re
import shutil
import tempfile
import threading
import time
from collections.abc import Callable, Iterator
from concurrent.futures import ThreadPoolExecutor
from pathlib import Path
from typing import Any, BinaryIO, Protocol, runtime_checkable
from urllib.parse import parse_qs, unquote, urlsplit

__all__ = [
    "BlobNotFound",
    "BlobSizeMismatch",
    "BlobStore",
    "BlobStoreError",
    "BlobStoreUrlInvalid",
    "InvalidBlobKey",
    "LocalBlobStore",
    "MemoryBlobStore",
    "S3BlobStore",
    "blob_key",
    "blob_store_from_url",
    "is_blob_key",
]

_KEY_RE = re.compile(r"[0-9a-f]{64}")
_CHUNK = 1024 * 1024
MiB = 1024 * 1024


# --------------------------------------------------------------------------- errors


class BlobStoreError(Exception):
    """A typed blob store error: a stable ``code``, the ``field`` at fault and a message in
    Vietnamese and in English. Also raised, with code ``BLOB_STORE_FAILED``, when the
    backend itself fails (bucket unreachable, access denied)."""

    code = "BLOB_STORE_FAILED"

    def __init__(self, message_vi: str, message_en: str, *, field: str = "") -> None:
        super().__init__(f"[{self.code}] {message_vi} / {message_en}")
        self.message_vi = message_vi
        self.message_en = message_en
        self.field = field

    def message(self, lang: str = "vi") -> str:
        return self.message_en if lang == "en" else self.message_vi

    def to_dict(self) -> dict[str, str]:
        return {
            "code": self.code,
            "field": self.field,
            "message_vi": self.message_vi,
            "message_en": self.message_en,
        }


class BlobNotFound(BlobStoreError, LookupError):
    code = "BLOB_NOT_FOUND"

    def __init__(self, key: str) -> None:
        super().__init__(
            f"Không tìm thấy dữ liệu có khoá {key}",
            f"No blob with key {key}",
            field="key",
        )
        self.key = key


class InvalidBlobKey(BlobStoreError, ValueError):
    code = "BLOB_KEY_INVALID"

    def __init__(self, key: str) -> None:
        shown = key if len(key) <= 80 else key[:77] + "..."
        super().__init__(
            f"Khoá dữ liệu không hợp lệ ({shown!r}): phải là mã SHA-256 gồm 64 chữ số "
            "thập lục phân viết thường",
            f"Invalid blob key ({shown!r}): it must be a SHA-256 of 64 lowercase hex digits",
            field="key",
        )
        self.key = key


class BlobSizeMismatch(BlobStoreError, ValueError):
    code = "BLOB_SIZE_MISMATCH"

    def __init__(self, expected: int, actual: int) -> None:
        super().__init__(
            f"Kích thước tệp là {actual} byte, khác với {expected} byte đã khai báo",
            f"The file is {actual} bytes, not the {expected} bytes declared",
            field="size",
        )
        self.expected = expected
        self.actual = actual


class BlobStoreUrlInvalid(BlobStoreError, ValueError):
    code = "BLOB_STORE_URL_INVALID"

    def __init__(self, url: str, detail_vi: str, detail_en: str) -> None:
        super().__init__(
            f"Địa chỉ kho dữ liệu không hợp lệ ({url!r}): {detail_vi}",
            f"Invalid blob store URL ({url!r}): {detail_en}",
            field="blob_url",
        )


def _failed(detail: str) -> BlobStoreError:
    return BlobStoreError(
        f"Kho dữ liệu gặp lỗi: {detail}",
        f"The blob store failed: {detail}",
    )


# --------------------------------------------------------------------------- keys


def is_blob_key(key: str) -> bool:
    """``True`` if ``key`` is 64 lowercase hex digits."""
    return isinstance(key, str) and _KEY_RE.fullmatch(key) is not None


def _check_key(key: str) -> str:
    if not is_blob_key(key):
        raise InvalidBlobKey(str(key))
    return key


def blob_key(data: bytes) -> str:
    """The key ``data`` is stored under."""
    return hashlib.sha256(data).hexdigest()


def _file_size(path: str | os.PathLike[str], size: int) -> None:
    actual = os.stat(path).st_size
    if actual != size:
        raise BlobSizeMismatch(size, actual)


# --------------------------------------------------------------------------- protocol


@runtime_checkable
class BlobStore(Protocol):
    """Content-addressed payload storage. Keys are lowercase hex SHA-256 digests."""

    def put_file(self, path: str | os.PathLike[str], sha256: str, size: int) -> str:
        """Store the file at ``path`` whose SHA-256 (computed by the caller) and size are
        given; return the key. The digest is trusted; the size is checked. Idempotent."""
        ...

    def put_bytes(self, data: bytes) -> str:
        """Store ``data``; return its key. Idempotent."""
        ...

    def open(self, key: str) -> BinaryIO:
        """A readable binary stream of the blob; raises :class:`BlobNotFound`."""
        ...

    def exists(self, key: str) -> bool: ...

    def size(self, key: str) -> int:
        """Size in bytes; raises :class:`BlobNotFound`."""
        ...

    def delete(self, key: str) -> None:
        """Remove the blob; deleting a missing blob is not an error."""
        ...


# --------------------------------------------------------------------------- local


def _fsync_dir(path: Path) -> None:
    try:
        fd = os.open(path, os.O_RDONLY)
    except OSError:  # pragma: no cover - platforms that cannot open directories
        return
    try:
        os.fsync(fd)
    except OSError:  # pragma: no cover - file systems without directory fsync
        pass
    finally:
        os.close(fd)


class LocalBlobStore:
    """Blobs as files under ``root/ab/cd/<sha256>``.

    Writes go to a temporary file (``.tmp-*``) in the final directory, are fsynced, then
    moved into place with ``os.replace`` and the directory is fsynced. An existing blob is
    never rewritten; two writers racing on the same key both write identical content and
    the atomic replace leaves one intact file either way.

    With ``hardlink=True``, ``put_file`` links the caller's file into the store instead of
    copying it (falling back to a copy across file systems). Only use it when the caller
    hands the file over and never writes to it again: the blob *is* that file. Stored
    copies are made read-only for their owner only (mode 0o400), in a folder only the owner
    can enter (0o700).
    """

    FILE_MODE = 0o400

    def __init__(self, root: str | os.PathLike[str], *, hardlink: bool = False) -> None:
        self.root = Path(root)
        self.hardlink = hardlink
        self.root.mkdir(parents=True, exist_ok=True, mode=0o700)
        with contextlib.suppress(OSError):  # a store shared read-only keeps its mode
            os.chmod(self.root, 0o700)

    def __repr__(self) -> str:
        return f"LocalBlobStore({str(self.root)!r})"

    def path(self, key: str) -> Path:
        """Where the blob with ``key`` lives (whether or not it exists)."""
        _check_key(key)
        return self.root / key[:2] / key[2:4] / key

    def _prepare_dir(self, key: str) -> Path:
        outer = self.root / key[:2]
        inner = outer / key[2:4]
        if not inner.is_dir():
            inner.mkdir(parents=True, exist_ok=True)
            _fsync_dir(outer)
            _fsync_dir(self.root)
        return inner

    def _write(self, key: str, fill: Callable[[BinaryIO], None]) -> str:
        final = self.path(key)
        if final.exists():
            return key
        directory = self._prepare_dir(key)
        fd, tmp = tempfile.mkstemp(prefix=".tmp-", dir=directory)
        try:
            with os.fdopen(fd, "wb") as out:
                fill(out)
                out.flush()
                os.fsync(out.fileno())
                if hasattr(os, "fchmod"):
                    os.fchmod(out.fileno(), self.FILE_MODE)
            os.replace(tmp, final)
        except BaseException:
            with contextlib.suppress(OSError):
                os.unlink(tmp)
            raise
        _fsync_dir(directory)
        return key

    def put_file(self, path: str | os.PathLike[str], sha256: str, size: int) -> str:
        key = _check_key(sha256.lower())
        _file_size(path, size)
        if self.hardlink and self._link(path, key):
            return key

        def fill(out: BinaryIO) -> None:
            with open(path, "rb") as src:
                shutil.copyfileobj(src, out, _CHUNK)

        return self._write(key, fill)

    def _link(self, path: str | os.PathLike[str], key: str) -> bool:
        final = self.path(key)
        if final.exists():
            return True
        with open(path, "rb") as src:
            os.fsync(src.fileno())
        directory = self._prepare_dir(key)
        try:
            os.link(path, final)
        except FileExistsError:
            return True
        except OSError:  # other file system, or links not allowed: copy instead
            return False
        _fsync_dir(directory)
        return True

    def put_bytes(self, data: bytes) -> str:
        def fill(out: BinaryIO) -> None:
            out.write(data)

        return self._write(blob_key(data), fill)

    def open(self, key: str) -> BinaryIO:
        try:
            return open(self.path(key), "rb")
        except FileNotFoundError:
            raise BlobNotFound(key) from None

    def exists(self, key: str) -> bool:
        return self.path(key).is_file()

    def size(self, key: str) -> int:
        try:
            return self.path(key).stat().st_size
        except FileNotFoundError:
            raise BlobNotFound(key) from None

    def delete(self, key: str) -> None:
        with contextlib.suppress(FileNotFoundError):
            self.path(key).unlink()


# --------------------------------------------------------------------------- memory


class MemoryBlobStore:
    """Blobs in a dict, for tests. Thread-safe."""

    def __init__(self) -> None:
        self._blobs: dict[str, bytes] = {}
        self._lock = threading.Lock()

    def __repr__(self) -> str:
        return f"MemoryBlobStore({len(self._blobs)} blobs)"

    def __len__(self) -> int:
        return len(self._blobs)

    def keys(self) -> list[str]:
        with self._lock:
            return sorted(self._blobs)

    def put_file(self, path: str | os.PathLike[str], sha256: str, size: int) -> str:
        key = _check_key(sha256.lower())
        _file_size(path, size)
        if key in self._blobs:
            return key
        buf = bytearray()
        with open(path, "rb") as src:
            while chunk := src.read(_CHUNK):
                buf += chunk
        with self._lock:
            self._blobs.setdefault(key, bytes(buf))
        return key

    def put_bytes(self, data: bytes) -> str:
        key = blob_key(data)
        with self._lock:
            self._blobs.setdefault(key, bytes(data))
        return key

    def open(self, key: str) -> BinaryIO:
        _check_key(key)
        with self._lock:
            data = self._blobs.get(key)
        if data is None:
            raise BlobNotFound(key)
        return io.BytesIO(data)

    def exists(self, key: str) -> bool:
        _check_key(key)
        return key in self._blobs

    def size(self, key: str) -> int:
        _check_key(key)
        with self._lock:
            data = self._blobs.get(key)
        if data is None:
            raise BlobNotFound(key)
        return len(data)

    def delete(self, key: str) -> None:
        _check_key(key)
        with self._lock:
            self._blobs.pop(key, None)


# --------------------------------------------------------------------------- S3


class _StreamingBodyReader(io.RawIOBase):
    """A botocore ``StreamingBody`` as a raw binary stream (wrapped in a BufferedReader)."""

    def __init__(self, body: Any) -> None:
        self._body = body

    def readable(self) -> bool:
        return True

    def readinto(self, b: Any) -> int:
        view = memoryview(b).cast("B")
        data = self._body.read(len(view))
        n = len(data)
        view[:n] = data
        return n

    def close(self) -> None:
        if not self.closed:
            with contextlib.suppress(Exception):
                self._body.close()
        super().close()


def _error_code(exc: Exception) -> tuple[str, int]:
    response = getattr(exc, "response", None) or {}
    code = str(response.get("Error", {}).get("Code", ""))
    status = int(response.get("ResponseMetadata", {}).get("HTTPStatusCode", 0) or 0)
    return code, status


def _is_missing(exc: Exception) -> bool:
    code, status = _error_code(exc)
    return status == 404 or code in {"404", "NoSuchKey", "NotFound"}


def _already_there(exc: Exception) -> bool:
    code, status = _error_code(exc)
    return status == 412 or code == "PreconditionFailed"


def _conflict(exc: Exception) -> bool:
    code, status = _error_code(exc)
    return status == 409 or code == "ConditionalRequestConflict"


class S3BlobStore:
    """Blobs in an S3-compatible bucket under ``<prefix>ab/cd/<sha256>``.

    Every write is a conditional create (``If-None-Match: *``): a ``412 Precondition
    Failed`` means the content is already there and the put is a no-op. A ``409`` (another
    conditional write of the same key in flight) is retried until the object appears or the
    write succeeds. Files larger than ``multipart_threshold`` are sent as a multipart upload
    (``part_size`` parts, ``max_concurrency`` at a time, so at most
    ``part_size × max_concurrency`` bytes in memory) whose completion carries the condition.

    Credentials default to boto3's chain (``AWS_ACCESS_KEY_ID``/``AWS_SECRET_ACCESS_KEY``
    …). The bucket is created on first use if missing (:meth:`ensure_bucket`).
    """

    def __init__(
        self,
        bucket: str,
        *,
        endpoint_url: str | None = None,
        region: str = "us-east-1",
        access_key: str | None = None,
        secret_key: str | None = None,
        prefix: str = "",
        multipart_threshold: int = 64 * MiB,
        part_size: int = 16 * MiB,
        max_concurrency: int = 4,
    ) -> None:
        import boto3
        from botocore.config import Config

        if part_size < 5 * MiB:
            raise ValueError("part_size must be at least 5 MiB (an S3 limit)")
        self.bucket = bucket
        self.endpoint_url = endpoint_url
        self.region = region
        prefix = prefix.strip("/")
        self.prefix = f"{prefix}/" if prefix else ""
        self.multipart_threshold = multipart_threshold
        self.part_size = part_size
        self.max_concurrency = max(1, max_concurrency)
        config = Config(
            region_name=region,
            connect_timeout=10,
            read_timeout=120,
            retries={"mode": "standard", "max_attempts": 5},
            max_pool_connections=max(10, self.max_concurrency * 2),
            s3={"addressing_style": "path" if endpoint_url else "auto"},
            # S3-compatible servers other than AWS often refuse the newer default
            # checksum headers; send checksums only when the API requires them.
            request_checksum_calculation="when_required",
            response_checksum_validation="when_required",
        )
        session = boto3.session.Session(
            aws_access_key_id=access_key,
            aws_secret_access_key=secret_key,
            region_name=region,
        )
        self.client: Any = session.client("s3", endpoint_url=endpoint_url, config=config)
        self._bucket_ready = False
        self._bucket_lock = threading.Lock()

    def __repr__(self) -> str:
        where = f", endpoint_url={self.endpoint_url!r}" if self.endpoint_url else ""
        return f"S3BlobStore({self.bucket!r}, prefix={self.prefix!r}{where})"

    # ---- helpers

    def object_key(self, key: str) -> str:
        """The S3 object key of the blob with ``key``."""
        _check_key(key)
        return f"{self.prefix}{key[:2]}/{key[2:4]}/{key}"

    @contextlib.contextmanager
    def _errors(self) -> Iterator[None]:
        from botocore.exceptions import BotoCoreError, ClientError

        try:
            yield
        except ClientError as exc:
            code, status = _error_code(exc)
            raise _failed(f"S3 {code or status}: {exc}") from exc
        except BotoCoreError as exc:
            raise _failed(str(exc)) from exc

    def ensure_bucket(self) -> None:
        """Create the bucket if it does not exist yet (once per store object)."""
        if self._bucket_ready:
            return
        from botocore.exceptions import ClientError

        with self._bucket_lock, self._errors():
            if self._bucket_ready:
                return
            try:
                self.client.head_bucket(Bucket=self.bucket)
            except ClientError as exc:
                if not _is_missing(exc):
                    raise
                args: dict[str, Any] = {"Bucket": self.bucket}
                if self.region != "us-east-1":
                    args["CreateBucketConfiguration"] = {"LocationConstraint": self.region}
                try:
                    self.client.create_bucket(**args)
                except ClientError as create_exc:
                    code, _ = _error_code(create_exc)
                    if code not in {"BucketAlreadyOwnedByYou", "BucketAlreadyExists"}:
                        raise
            self._bucket_ready = True

    def _head(self, key: str) -> dict[str, Any] | None:
        from botocore.exceptions import ClientError

        obj = self.object_key(key)
        self.ensure_bucket()
        with self._errors():
            try:
                head: dict[str, Any] = self.client.head_object(Bucket=self.bucket, Key=obj)
            except ClientError as exc:
                if _is_missing(exc):
                    return None
                raise
        return head

    def _create(self, key: str, write: Callable[[], None]) -> str:
        """Run the conditional ``write``; 412 → already there; 409 → retry."""
        from botocore.exceptions import ClientError

        delay = 0.05
        for _attempt in range(8):
            with self._errors():
                try:
                    write()
                    return key
                except ClientError as exc:
                    if _already_there(exc):
                        return key
                    if not _conflict(exc):
                        raise
            # 409: another conditional write of this key is in flight.
            if self._head(key) is not None:
                return key
            time.sleep(delay)
            delay = min(delay * 2, 1.0)
        raise _failed(f"conditional write of {key} kept conflicting (409)")

    # ---- protocol

    def put_bytes(self, data: bytes) -> str:
        key = blob_key(data)
        if self._head(key) is not None:
            return key
        checksum = base64.b64encode(hashlib.sha256(data).digest()).decode("ascii")

        def write() -> None:
            self.client.put_object(
                Bucket=self.bucket,
                Key=self.object_key(key),
                Body=data,
                ContentLength=len(data),
                ContentType="application/octet-stream",
                ChecksumSHA256=checksum,
                IfNoneMatch="*",
            )

        return self._create(key, write)

    def put_file(self, path: str | os.PathLike[str], sha256: str, size: int) -> str:
        key = _check_key(sha256.lower())
        _file_size(path, size)
        if self._head(key) is not None:
            return key
        if size > self.multipart_threshold:
            return self._put_multipart(path, key, size)
        checksum = base64.b64encode(bytes.fromhex(key)).decode("ascii")

        def write() -> None:
            with open(path, "rb") as body:
                self.client.put_object(
                    Bucket=self.bucket,
                    Key=self.object_key(key),
                    Body=body,
                    ContentLength=size,
                    ContentType="application/octet-stream",
                    ChecksumSHA256=checksum,
                    IfNoneMatch="*",
                )

        return self._create(key, write)

    def _put_multipart(self, path: str | os.PathLike[str], key: str, size: int) -> str:
        obj = self.object_key(key)
        part_size = max(self.part_size, -(-size // 10_000))  # at most 10,000 parts
        with self._errors():
            upload_id: str = self.client.create_multipart_upload(
                Bucket=self.bucket, Key=obj, ContentType="application/octet-stream"
            )["UploadId"]

        def send(number: int) -> dict[str, Any]:
            offset = (number - 1) * part_size
            with open(path, "rb") as src:
                src.seek(offset)
                chunk = src.read(min(part_size, size - offset))
            with self._errors():
                etag = self.client.upload_part(
                    Bucket=self.bucket,
                    Key=obj,
                    UploadId=upload_id,
                    PartNumber=number,
                    Body=chunk,
                    ContentLength=len(chunk),
                )["ETag"]
            return {"PartNumber": number, "ETag": etag}

        numbers = range(1, -(-size // part_size) + 1)
        completed = False

        def write() -> None:
            nonlocal completed
            self.client.complete_multipart_upload(
                Bucket=self.bucket,
                Key=obj,
                UploadId=upload_id,
                MultipartUpload={"Parts": parts},
                IfNoneMatch="*",
            )
            completed = True

        try:
            with ThreadPoolExecutor(self.max_concurrency) as pool:
                parts = list(pool.map(send, numbers))
            self._create(key, write)
        finally:
            if not completed:  # failed, or the blob was already there: free the parts
                with contextlib.suppress(Exception):
                    self.client.abort_multipart_upload(
                        Bucket=self.bucket, Key=obj, UploadId=upload_id
                    )
        return key

    def open(self, key: str) -> BinaryIO:
        from botocore.exceptions import ClientError

        obj = self.object_key(key)
        self.ensure_bucket()
        with self._errors():
            try:
                response = self.client.get_object(Bucket=self.bucket, Key=obj)
            except ClientError as exc:
                if _is_missing(exc):
                    raise BlobNotFound(key) from None
                raise
        return io.BufferedReader(_StreamingBodyReader(response["Body"]), buffer_size=_CHUNK)

    def exists(self, key: str) -> bool:
        return self._head(key) is not None

    def size(self, key: str) -> int:
        head = self._head(key)
        if head is None:
            raise BlobNotFound(key)
        return int(head["ContentLength"])

    def delete(self, key: str) -> None:
        obj = self.object_key(key)
        self.ensure_bucket()
        from botocore.exceptions import ClientError

        with self._errors():
            try:
                self.client.delete_object(Bucket=self.bucket, Key=obj)
            except ClientError as exc:
                if not _is_missing(exc):
                    raise


# --------------------------------------------------------------------------- from URL


def blob_store_from_url(url: str) -> BlobStore:
    """Build a store from one setting.

    * ``file:///abs/path`` or a plain path → :class:`LocalBlobStore`
    * ``s3://bucket/prefix?endpoint=http://127.0.0.1:9000&region=ap-southeast-1`` →
      :class:`S3BlobStore`; credentials from the standard AWS environment variables,
      region from ``region=``, else ``AWS_REGION``/``AWS_DEFAULT_REGION``, else us-east-1
    * ``memory:`` → :class:`MemoryBlobStore`
    """
    if not url or not url.strip():
        raise BlobStoreUrlInvalid(url, "địa chỉ rỗng", "the URL is empty")
    parts = urlsplit(url)
    scheme = parts.scheme.lower()
    if scheme == "" or (len(scheme) == 1 and os.name == "nt"):
        return LocalBlobStore(url)
    if scheme == "memory":
        return MemoryBlobStore()
    if scheme == "file":
        if parts.netloc not in ("", "localhost"):
            raise BlobStoreUrlInvalid(
                url, "chỉ hỗ trợ tệp trên máy này", "only local files are supported"
            )
        path = unquote(parts.path)
        if not os.path.isabs(path):
            raise BlobStoreUrlInvalid(
                url, "đường dẫn phải là đường dẫn tuyệt đối", "the path must be absolute"
            )
        return LocalBlobStore(path)
    if scheme == "s3":
        if not parts.netloc:
            raise BlobStoreUrlInvalid(url, "thiếu tên bucket", "the bucket name is missing")
        query = parse_qs(parts.query, keep_blank_values=True)
        unknown = sorted(set(query) - {"endpoint", "region"})
        if unknown:
            raise BlobStoreUrlInvalid(
                url,
                f"tham số không được hỗ trợ: {', '.join(unknown)}",
                f"unsupported parameter(s): {', '.join(unknown)}",
            )
        endpoint = query.get("endpoint", [""])[-1] or None
        region = (
            query.get("region", [""])[-1]
            or os.environ.get("AWS_REGION")
            or os.environ.get("AWS_DEFAULT_REGION")
            or "us-east-1"
        )
        return S3BlobStore(
            parts.netloc,
            endpoint_url=endpoint,
            region=region,
            prefix=unquote(parts.path),
        )
    raise BlobStoreUrlInvalid(
        url,
        f"không hỗ trợ kiểu địa chỉ {scheme!r} (dùng file://, s3:// hoặc memory:)",
        f"unsupported scheme {scheme!r} (use file://, s3:// or memory:)",
    )
