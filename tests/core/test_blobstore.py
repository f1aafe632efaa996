"""Blob store behaviour, the same suite over the local folder, S3 and memory adapters.

The S3 adapter runs against a real moto S3 server listening on 127.0.0.1 (a free port,
started once per session); each test gets its own bucket and the server is reset after it.
"""

from __future__ import annotations

import hashlib
import os
import re
import stat
import threading
import uuid
from collections.abc import Callable
from pathlib import Path
from typing import Any

import pytest

from lienthong.core.blobstore import (
    BlobNotFound,
    BlobSizeMismatch,
    BlobStore,
    BlobStoreError,
    BlobStoreUrlInvalid,
    InvalidBlobKey,
    LocalBlobStore,
    MemoryBlobStore,
    S3BlobStore,
    blob_store_from_url,
)

MiB = 1024 * 1024
KEY_RE = re.compile(r"[0-9a-f]{64}")
ADAPTERS = ["local", "s3", "memory"]


# --------------------------------------------------------------------------- fixtures


def new_s3_store(endpoint: str, **kwargs: Any) -> S3BlobStore:
    kwargs.setdefault("prefix", "payloads")
    return S3BlobStore(
        f"blobs-{uuid.uuid4().hex[:12]}",
        endpoint_url=endpoint,
        multipart_threshold=8 * MiB,  # so the 9 and 20 MiB files go up in parts
        part_size=5 * MiB,
        **kwargs,
    )


@pytest.fixture(params=ADAPTERS)
def store(request: pytest.FixtureRequest, tmp_path: Path) -> BlobStore:
    if request.param == "local":
        return LocalBlobStore(tmp_path / "blobs")
    if request.param == "memory":
        return MemoryBlobStore()
    return new_s3_store(request.getfixturevalue("moto"))


def write_random_file(path: Path, size: int) -> tuple[Path, str]:
    """A file of ``size`` random bytes, written and hashed in 1 MiB chunks."""
    digest = hashlib.sha256()
    with open(path, "wb") as out:
        left = size
        while left:
            chunk = os.urandom(min(MiB, left))
            digest.update(chunk)
            out.write(chunk)
            left -= len(chunk)
    return path, digest.hexdigest()


@pytest.fixture(scope="module")
def big_file(tmp_path_factory: pytest.TempPathFactory) -> tuple[Path, str]:
    return write_random_file(tmp_path_factory.mktemp("big") / "payload.bin", 20 * MiB)


@pytest.fixture(scope="module")
def medium_file(tmp_path_factory: pytest.TempPathFactory) -> tuple[Path, str]:
    return write_random_file(tmp_path_factory.mktemp("medium") / "payload.bin", 9 * MiB)


def streamed_sha256(store: BlobStore, key: str) -> tuple[str, int]:
    digest = hashlib.sha256()
    total = 0
    with store.open(key) as stream:
        while chunk := stream.read(MiB):
            assert len(chunk) <= MiB
            digest.update(chunk)
            total += len(chunk)
    return digest.hexdigest(), total


# --------------------------------------------------------------------------- behaviour


def test_every_adapter_satisfies_the_protocol(store: BlobStore) -> None:
    assert isinstance(store, BlobStore)


def test_bytes_round_trip(store: BlobStore) -> None:
    data = "Công văn số 123/UBND-VP về việc triển khai".encode()

    key = store.put_bytes(data)

    assert key == hashlib.sha256(data).hexdigest()
    assert store.exists(key)
    assert store.size(key) == len(data)
    with store.open(key) as stream:
        assert stream.read() == data


def test_empty_blob_round_trip(store: BlobStore) -> None:
    key = store.put_bytes(b"")

    assert key == hashlib.sha256(b"").hexdigest()
    assert store.size(key) == 0
    with store.open(key) as stream:
        assert stream.read() == b""


def test_20_mib_file_round_trip_streamed(store: BlobStore, big_file: tuple[Path, str]) -> None:
    path, sha = big_file

    key = store.put_file(path, sha, 20 * MiB)

    assert key == sha
    assert store.size(key) == 20 * MiB
    assert streamed_sha256(store, key) == (sha, 20 * MiB)


def test_stream_can_be_read_in_part_and_closed(store: BlobStore) -> None:
    key = store.put_bytes(b"0123456789" * 1000)

    stream = store.open(key)
    assert stream.read(4) == b"0123"
    assert stream.read(3) == b"456"
    stream.close()

    assert stream.closed


def test_puts_are_idempotent(store: BlobStore, tmp_path: Path) -> None:
    data = b"same content, same key"
    path = tmp_path / "same.bin"
    path.write_bytes(data)
    sha = hashlib.sha256(data).hexdigest()

    first = store.put_bytes(data)
    second = store.put_bytes(data)
    from_file = store.put_file(path, sha, len(data))
    again = store.put_file(str(path), sha.upper(), len(data))

    assert first == second == from_file == again == sha
    with store.open(sha) as stream:
        assert stream.read() == data


def test_exists_size_delete(store: BlobStore) -> None:
    key = store.put_bytes(b"to be deleted")
    other = store.put_bytes(b"to be kept")

    store.delete(key)

    assert not store.exists(key)
    assert store.exists(other)
    with pytest.raises(BlobNotFound):
        store.size(key)
    store.delete(key)  # deleting again is not an error
    assert store.put_bytes(b"to be deleted") == key  # and the key can be stored again
    assert store.size(key) == len(b"to be deleted")


def test_missing_key_is_a_typed_error(store: BlobStore) -> None:
    missing = hashlib.sha256(b"never stored").hexdigest()

    assert not store.exists(missing)
    store.delete(missing)
    with pytest.raises(BlobNotFound) as opened:
        store.open(missing)
    with pytest.raises(BlobNotFound) as sized:
        store.size(missing)

    for error in (opened.value, sized.value):
        assert error.code == "BLOB_NOT_FOUND"
        assert error.field == "key"
        assert missing in error.message("en")
        assert "Không tìm thấy" in error.message("vi")
        assert error.to_dict()["code"] == "BLOB_NOT_FOUND"
        assert isinstance(error, LookupError)


def test_keys_are_lowercase_hex_sha256(store: BlobStore) -> None:
    key = store.put_bytes("văn bản đến: Sở Tư pháp".encode())

    assert KEY_RE.fullmatch(key)
    assert key.isascii()


@pytest.mark.parametrize(
    "bad",
    [
        "pkg/đơn-vị/a.bin",
        "../../etc/passwd",
        "A" * 64,
        "0" * 63,
        "0" * 65,
        "",
        "đ" * 64,
        "0" * 62 + "/x",
    ],
)
def test_anything_but_a_lowercase_hex_key_is_refused(
    store: BlobStore, bad: str, tmp_path: Path
) -> None:
    path = tmp_path / "f.bin"
    path.write_bytes(b"x")
    calls: list[Callable[[], object]] = [
        lambda: store.open(bad),
        lambda: store.exists(bad),
        lambda: store.size(bad),
        lambda: store.delete(bad),
    ]
    if bad.lower() != "a" * 64:  # an upper-case digest is accepted by put_file
        calls.append(lambda: store.put_file(path, bad, 1))

    for call in calls:
        with pytest.raises(InvalidBlobKey) as caught:
            call()
        assert caught.value.code == "BLOB_KEY_INVALID"
        assert isinstance(caught.value, ValueError)


def test_put_file_checks_the_declared_size(store: BlobStore, tmp_path: Path) -> None:
    path = tmp_path / "f.bin"
    path.write_bytes(b"12345")
    sha = hashlib.sha256(b"12345").hexdigest()

    with pytest.raises(BlobSizeMismatch) as caught:
        store.put_file(path, sha, 6)

    assert caught.value.code == "BLOB_SIZE_MISMATCH"
    assert (caught.value.expected, caught.value.actual) == (6, 5)
    assert not store.exists(sha)


def test_concurrent_puts_of_one_file_leave_one_intact_blob(
    store: BlobStore, medium_file: tuple[Path, str]
) -> None:
    path, sha = medium_file
    barrier = threading.Barrier(4)
    results: list[str] = []
    errors: list[BaseException] = []

    def put() -> None:
        barrier.wait()
        try:
            results.append(store.put_file(path, sha, 9 * MiB))
        except BaseException as exc:  # pragma: no cover - reported below
            errors.append(exc)

    threads = [threading.Thread(target=put) for _ in range(4)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join()

    assert errors == []
    assert results == [sha] * 4
    assert streamed_sha256(store, sha) == (sha, 9 * MiB)
    assert_single_clean_blob(store, sha)


def test_concurrent_put_bytes_of_one_content(store: BlobStore) -> None:
    data = os.urandom(256 * 1024)
    barrier = threading.Barrier(4)
    results: list[str] = []

    def put() -> None:
        barrier.wait()
        results.append(store.put_bytes(data))

    threads = [threading.Thread(target=put) for _ in range(4)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join()

    key = hashlib.sha256(data).hexdigest()
    assert results == [key] * 4
    with store.open(key) as stream:
        assert stream.read() == data
    assert_single_clean_blob(store, key)


def assert_single_clean_blob(store: BlobStore, key: str) -> None:
    """Exactly one stored object, and no temporary files or pending uploads left behind."""
    if isinstance(store, LocalBlobStore):
        files = [p for p in store.root.rglob("*") if p.is_file()]
        assert files == [store.path(key)]
    elif isinstance(store, S3BlobStore):
        listing = store.client.list_objects_v2(Bucket=store.bucket)
        assert [o["Key"] for o in listing["Contents"]] == [store.object_key(key)]
        uploads = store.client.list_multipart_uploads(Bucket=store.bucket)
        assert uploads.get("Uploads", []) == []
    else:
        assert isinstance(store, MemoryBlobStore)
        assert store.keys() == [key]


# --------------------------------------------------------------------------- local


def test_local_layout_is_two_levels_of_fan_out(tmp_path: Path) -> None:
    store = LocalBlobStore(tmp_path / "blobs")

    key = store.put_bytes(b"layout")

    path = tmp_path / "blobs" / key[:2] / key[2:4] / key
    assert store.path(key) == path
    assert path.read_bytes() == b"layout"
    assert stat.S_IMODE(path.stat().st_mode) == 0o400  # stored read-only, owner only
    assert stat.S_IMODE(store.root.stat().st_mode) == 0o700
    assert [p.name for p in path.parent.iterdir()] == [key]  # no temporary file left


def test_local_existing_blob_is_not_rewritten(tmp_path: Path) -> None:
    store = LocalBlobStore(tmp_path)
    key = store.put_bytes(b"written once")
    before = store.path(key).stat()

    store.put_bytes(b"written once")
    source = tmp_path / "copy.bin"
    source.write_bytes(b"written once")
    store.put_file(source, key, len(b"written once"))

    after = store.path(key).stat()
    assert (after.st_ino, after.st_mtime_ns) == (before.st_ino, before.st_mtime_ns)


def test_local_put_file_copies_by_default(tmp_path: Path) -> None:
    store = LocalBlobStore(tmp_path / "blobs")
    source, sha = write_random_file(tmp_path / "in.bin", 3 * MiB + 17)

    store.put_file(source, sha, 3 * MiB + 17)

    assert store.path(sha).stat().st_ino != source.stat().st_ino
    source.unlink()
    assert streamed_sha256(store, sha) == (sha, 3 * MiB + 17)


def test_local_hardlink_mode_links_the_handed_over_file(tmp_path: Path) -> None:
    store = LocalBlobStore(tmp_path / "blobs", hardlink=True)
    source, sha = write_random_file(tmp_path / "spool.bin", 1000)

    store.put_file(source, sha, 1000)
    store.put_file(source, sha, 1000)  # still idempotent

    assert store.path(sha).stat().st_ino == source.stat().st_ino
    source.unlink()
    assert streamed_sha256(store, sha) == (sha, 1000)


def test_local_failed_write_leaves_nothing_behind(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    store = LocalBlobStore(tmp_path / "blobs")
    source = tmp_path / "in.bin"
    source.write_bytes(b"half written")
    sha = hashlib.sha256(b"half written").hexdigest()

    def broken_copy(src: Any, dst: Any, length: int = 0) -> None:
        dst.write(src.read(4))
        raise OSError(28, "No space left on device")

    monkeypatch.setattr("lienthong.core.blobstore.shutil.copyfileobj", broken_copy)
    with pytest.raises(OSError, match="No space"):
        store.put_file(source, sha, 12)

    assert not store.exists(sha)
    assert [p for p in (tmp_path / "blobs").rglob("*") if p.is_file()] == []


# --------------------------------------------------------------------------- S3


def test_s3_creates_its_bucket_on_first_use_and_uses_the_prefix(moto: str) -> None:
    store = new_s3_store(moto, prefix="/tinh-dong-thap/payloads/")

    key = store.put_bytes(b"first object")

    assert store.client.head_bucket(Bucket=store.bucket)
    listing = store.client.list_objects_v2(Bucket=store.bucket)
    assert [o["Key"] for o in listing["Contents"]] == [
        f"tinh-dong-thap/payloads/{key[:2]}/{key[2:4]}/{key}"
    ]
    store.ensure_bucket()  # harmless when it exists
    other = new_s3_store(moto)
    other.ensure_bucket()
    other.ensure_bucket()


def test_s3_big_files_go_up_in_parts(moto: str, big_file: tuple[Path, str]) -> None:
    store = new_s3_store(moto)
    path, sha = big_file

    store.put_file(path, sha, 20 * MiB)

    head = store.client.head_object(Bucket=store.bucket, Key=store.object_key(sha))
    assert head["ETag"].strip('"').endswith("-4")  # 4 parts of 5 MiB
    assert store.client.list_multipart_uploads(Bucket=store.bucket).get("Uploads", []) == []


@pytest.mark.parametrize("size", [1000, 9 * MiB], ids=["single-part", "multipart"])
def test_s3_conditional_create_makes_a_lost_race_a_no_op(
    moto: str, tmp_path: Path, monkeypatch: pytest.MonkeyPatch, size: int
) -> None:
    store = new_s3_store(moto)
    path, sha = write_random_file(tmp_path / "in.bin", size)
    store.put_file(path, sha, size)
    etag = store.client.head_object(Bucket=store.bucket, Key=store.object_key(sha))["ETag"]
    # Pretend the existence check saw nothing, as when another writer wins in between.
    monkeypatch.setattr(store, "_head", lambda key: None)

    assert store.put_file(path, sha, size) == sha
    assert store.put_bytes(path.read_bytes()) == sha

    head = store.client.head_object(Bucket=store.bucket, Key=store.object_key(sha))
    assert head["ETag"] == etag  # not overwritten
    assert store.client.list_multipart_uploads(Bucket=store.bucket).get("Uploads", []) == []


def test_s3_write_conflict_is_retried(moto: str, monkeypatch: pytest.MonkeyPatch) -> None:
    from botocore.exceptions import ClientError

    store = new_s3_store(moto)
    store.ensure_bucket()
    real_put = store.client.put_object
    calls = []

    def put_object(**kwargs: Any) -> Any:
        calls.append(kwargs["Key"])
        if len(calls) == 1:
            raise ClientError(
                {
                    "Error": {"Code": "ConditionalRequestConflict", "Message": "in flight"},
                    "ResponseMetadata": {"HTTPStatusCode": 409},
                },
                "PutObject",
            )
        return real_put(**kwargs)

    monkeypatch.setattr(store.client, "put_object", put_object)
    key = store.put_bytes(b"after a 409")

    assert len(calls) == 2
    with store.open(key) as stream:
        assert stream.read() == b"after a 409"


def test_s3_backend_failures_are_typed(moto: str) -> None:
    store = S3BlobStore("Not A Valid Bucket!", endpoint_url=moto)

    with pytest.raises(BlobStoreError) as caught:
        store.put_bytes(b"x")

    assert caught.value.code == "BLOB_STORE_FAILED"
    assert "Kho dữ liệu gặp lỗi" in caught.value.message("vi")


def test_s3_repr_has_no_secrets(moto: str) -> None:
    store = S3BlobStore("b", endpoint_url=moto, access_key="AKIAEXAMPLE", secret_key="s3cr3t")

    assert "s3cr3t" not in repr(store)
    assert "AKIAEXAMPLE" not in repr(store)


# --------------------------------------------------------------------------- from URL


def test_url_file_scheme_and_plain_paths(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    spaced = tmp_path / "kho dữ liệu"
    from_file_url = blob_store_from_url(spaced.as_uri())
    from_localhost = blob_store_from_url(f"file://localhost{tmp_path}/b")
    from_path = blob_store_from_url(str(tmp_path / "c"))
    monkeypatch.chdir(tmp_path)
    from_relative = blob_store_from_url("data/blobs")

    assert isinstance(from_file_url, LocalBlobStore) and from_file_url.root == spaced
    assert isinstance(from_localhost, LocalBlobStore) and from_localhost.root == tmp_path / "b"
    assert isinstance(from_path, LocalBlobStore) and from_path.root == tmp_path / "c"
    assert isinstance(from_relative, LocalBlobStore)
    assert from_relative.root.resolve() == tmp_path / "data" / "blobs"
    key = from_file_url.put_bytes(b"via url")
    assert (spaced / key[:2] / key[2:4] / key).read_bytes() == b"via url"


def test_url_memory_scheme() -> None:
    store = blob_store_from_url("memory:")

    assert isinstance(store, MemoryBlobStore)
    assert store.open(store.put_bytes(b"m")).read() == b"m"


def test_url_s3_scheme_round_trips_against_the_server(moto: str) -> None:
    bucket = f"url-{uuid.uuid4().hex[:12]}"

    store = blob_store_from_url(f"s3://{bucket}/hub/payloads?endpoint={moto}&region=ap-southeast-1")

    assert isinstance(store, S3BlobStore)
    assert (store.bucket, store.prefix, store.endpoint_url, store.region) == (
        bucket,
        "hub/payloads/",
        moto,
        "ap-southeast-1",
    )
    key = store.put_bytes(b"through the url")
    with store.open(key) as stream:
        assert stream.read() == b"through the url"
    assert store.client.get_bucket_location(Bucket=bucket)["LocationConstraint"] == (
        "ap-southeast-1"
    )


def test_url_s3_region_defaults_to_the_environment(
    aws_env: None, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setenv("AWS_REGION", "ap-southeast-2")

    store = blob_store_from_url("s3://bucket")

    assert isinstance(store, S3BlobStore)
    assert (store.prefix, store.region, store.endpoint_url) == ("", "ap-southeast-2", None)


@pytest.mark.parametrize(
    "url",
    [
        "",
        "   ",
        "ftp://example.org/blobs",
        "s3://",
        "s3:///prefix",
        "s3://bucket?endpoint_url=http://127.0.0.1:9000",
        "file://otherhost/srv/blobs",
        "file:relative/path",
    ],
)
def test_bad_urls_are_typed_errors(url: str) -> None:
    with pytest.raises(BlobStoreUrlInvalid) as caught:
        blob_store_from_url(url)

    assert caught.value.code == "BLOB_STORE_URL_INVALID"
    assert caught.value.field == "blob_url"
    assert isinstance(caught.value, ValueError)
