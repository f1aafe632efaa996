"""Backup and restore of a hub on SQLite: a consistent copy taken while the hub runs.

A backup folder has the shape of a data directory, so restoring is copying it back:

* ``hub.db`` — SQLite's online backup of the database (one consistent snapshot, taken
  while writers go on);
* ``blobs/`` — every payload the snapshot refers to, read from the hub's blob store (a
  folder or S3) and checked against its SHA-256 key on the way. Payloads are written
  before the transaction that refers to them commits, so the snapshot never refers to a
  payload that is not there yet; payloads accepted after the snapshot are simply not in
  this backup. A second backup into the same folder copies only new payloads;
* ``trust/`` — the trust folder (roots and CRLs) when the hub has one;
* ``backup.json`` — when, from which hub, how many messages, the audit chain's head.

The key sealing the stored secrets (``secret.key``, or ``LIENTHONG_SECRET_KEYS``) is **not**
copied: a database copy and its key together give away every system's secret. Keep the key
apart; a restore needs it in place first and says so.

PostgreSQL is backed up with its own tools (``pg_dump``) and an object store with its own
versioning or replication: see docs/operations.md.
"""

from __future__ import annotations

import hashlib
import json
import shutil
import sqlite3
import tempfile
from dataclasses import asdict, dataclass, field
from datetime import UTC, datetime
from pathlib import Path

from sqlalchemy import select
from sqlalchemy.orm import Session

from lienthong.core import db
from lienthong.core.blobstore import BlobStore, LocalBlobStore, blob_store_from_url
from lienthong.core.version import version
from lienthong.hub import audit
from lienthong.hub.errors import HubError
from lienthong.hub.models import Message
from lienthong.hub.runtime import MIGRATIONS, Database, no_hub_here
from lienthong.hub.settings import Settings

MANIFEST = "backup.json"


@dataclass
class BackupReport:
    folder: str
    taken_at: str
    hub_id: str
    version: str
    messages: int
    payloads: int
    payloads_copied: int
    audit_records: int
    audit_head: str
    trust_files: int = 0
    missing_payloads: list[str] = field(default_factory=list)
    #: where the sealing key the restore will need is (never its content), if a file
    secret_key_file: str | None = None

    @property
    def ok(self) -> bool:
        return not self.missing_payloads


def _sqlite_path(settings: Settings) -> Path:
    url = settings.effective_database_url
    if not url.startswith("sqlite:///"):
        raise HubError(
            "HUB_BACKUP_SQLITE_ONLY",
            "Lệnh này sao lưu trục dùng SQLite; với PostgreSQL dùng pg_dump, với kho S3 dùng "
            "phiên bản hoặc nhân bản của bucket (docs/operations.md)",
            "This command backs up a hub on SQLite; for PostgreSQL use pg_dump, for an S3 "
            "store the bucket's versioning or replication (docs/operations.md)",
            field="database_url",
        )
    return Path(url[len("sqlite:///") :])


def backup(settings: Settings, dest: Path) -> BackupReport:
    """Back the hub of ``settings`` up into ``dest`` (created; a previous backup there is
    brought up to date)."""
    source = _sqlite_path(settings)
    if not source.is_file():
        raise no_hub_here(settings)
    dest.mkdir(parents=True, exist_ok=True)
    dest.chmod(0o700)  # the database holds the systems' HMAC secrets
    taken_at = datetime.now(UTC).isoformat(timespec="seconds")
    part = dest / "hub.db.part"
    part.unlink(missing_ok=True)
    part.touch(0o600)  # the database holds the systems' HMAC secrets
    src = sqlite3.connect(f"file:{source}?mode=ro", uri=True)
    try:
        out = sqlite3.connect(part)
        try:
            src.backup(out)  # one consistent snapshot, writers go on meanwhile
        finally:
            out.close()
    finally:
        src.close()
    part.replace(dest / "hub.db")
    # read the snapshot as it is: no key, no resealing
    snapshot = db.Database(db.make_engine(f"sqlite:///{(dest / 'hub.db').resolve()}"), MIGRATIONS)
    try:
        referenced = snapshot.read(_payload_keys)
        verdict = snapshot.read(audit.verify)
    finally:
        snapshot.engine.dispose()
    keys, messages = sorted(set(referenced)), len(referenced)
    copied, missing = _copy_payloads(
        blob_store_from_url(settings.effective_blob_url), LocalBlobStore(dest / "blobs"), keys
    )
    trust = settings.trust_dir or settings.data_dir / "trust"
    trust_files = 0
    if trust.is_dir():
        shutil.copytree(trust, dest / "trust", dirs_exist_ok=True)
        trust_files = sum(1 for p in (dest / "trust").iterdir() if p.is_file())
    report = BackupReport(
        folder=str(dest.resolve()),
        taken_at=taken_at,
        hub_id=settings.hub_id,
        version=version(),
        messages=messages,
        payloads=len(keys),
        payloads_copied=copied,
        audit_records=verdict.records,
        audit_head=verdict.head_hash,
        trust_files=trust_files,
        missing_payloads=missing,
        secret_key_file=None
        if settings.secret_keys
        else str(settings.effective_secret_key_file.resolve()),
    )
    (dest / MANIFEST).write_text(
        json.dumps(asdict(report), ensure_ascii=False, indent=2) + "\n", encoding="utf-8"
    )
    return report


def _payload_keys(session: Session) -> list[str]:
    return list(session.scalars(select(Message.payload_key)))


def _copy_payloads(
    source: BlobStore, target: LocalBlobStore, keys: list[str]
) -> tuple[int, list[str]]:
    """Copy what the target lacks, checking each payload against its key."""
    copied, missing = 0, []
    for key in keys:
        if target.exists(key):
            continue
        try:
            stream = source.open(key)
        except LookupError:
            missing.append(key)
            continue
        h = hashlib.sha256()
        size = 0
        with stream, tempfile.NamedTemporaryFile(dir=target.root, delete=False) as tmp:
            while chunk := stream.read(1 << 20):
                h.update(chunk)
                size += len(chunk)
                tmp.write(chunk)
        tmp_path = Path(tmp.name)
        try:
            if h.hexdigest() != key:
                missing.append(key)  # damaged at the source: not copied as if it were fine
                continue
            target.put_file(tmp_path, key, size)
            copied += 1
        finally:
            tmp_path.unlink(missing_ok=True)
    return copied, missing


@dataclass
class RestoreReport:
    folder: str
    messages: int
    payloads_missing: list[str]
    audit_ok: bool
    audit_records: int
    audit_head: str

    @property
    def ok(self) -> bool:
        return self.audit_ok and not self.payloads_missing


def restore(backup_dir: Path, settings: Settings) -> RestoreReport:
    """Restore the backup in ``backup_dir`` as the hub of ``settings`` (its data folder
    must hold no hub yet), then check it: the audit chain, and every payload present."""
    if not (backup_dir / "hub.db").is_file():
        raise HubError(
            "HUB_BACKUP_NOT_FOUND",
            f"Thư mục {backup_dir.resolve()} không chứa bản sao lưu (không có hub.db)",
            f"{backup_dir.resolve()} holds no backup (no hub.db)",
            field="backup",
        )
    target = _sqlite_path(settings)
    key_file = settings.effective_secret_key_file
    if not settings.secret_keys and not key_file.is_file():
        raise HubError(
            "HUB_SECRET_KEY_MISSING",
            f"Chưa có khóa niêm phong bí mật ở {key_file.resolve()}: chép khóa của trục (sao "
            "lưu riêng) vào đó trước, hoặc đặt LIENTHONG_SECRET_KEY_FILE / "
            "LIENTHONG_SECRET_KEYS",
            f"No key sealing the stored secrets at {key_file.resolve()}: put the hub's key "
            "(backed up separately) there first, or set LIENTHONG_SECRET_KEY_FILE / "
            "LIENTHONG_SECRET_KEYS",
            field="secret_key_file",
            details={"secret_key_file": str(key_file.resolve())},
        )
    if target.exists():
        raise HubError(
            "HUB_EXISTS",
            f"Đã có trục ở {target.parent.resolve()}: khôi phục vào một thư mục mới",
            f"A hub exists in {target.parent.resolve()} already: restore into a new folder",
            field="data_dir",
        )
    target.parent.mkdir(parents=True, exist_ok=True)
    shutil.copy2(backup_dir / "hub.db", target)
    blobs = blob_store_from_url(settings.effective_blob_url)
    restored = Database.existing(settings)  # migrates a backup of an older version
    try:
        referenced = restored.read(_payload_keys)
        keys, messages = sorted(set(referenced)), len(referenced)
        _, missing = _copy_payloads(LocalBlobStore(backup_dir / "blobs"), _local(blobs), keys)
        verdict = restored.read(audit.verify)
    finally:
        restored.close()
    if (backup_dir / "trust").is_dir():
        trust = settings.trust_dir or settings.data_dir / "trust"
        shutil.copytree(backup_dir / "trust", trust, dirs_exist_ok=True)
    return RestoreReport(
        folder=str(settings.data_dir.resolve()),
        messages=messages,
        payloads_missing=missing,
        audit_ok=verdict.ok,
        audit_records=verdict.records,
        audit_head=verdict.head_hash,
    )


def _local(store: BlobStore) -> LocalBlobStore:
    if not isinstance(store, LocalBlobStore):
        raise HubError(
            "HUB_BACKUP_SQLITE_ONLY",
            "Khôi phục chỉ ghi tệp vào thư mục blobs cục bộ; với S3 chép bằng công cụ của bucket",
            "Restore writes payloads to a local blob folder only; for S3 copy them with the "
            "bucket's own tools",
            field="blob_url",
        )
    return store
