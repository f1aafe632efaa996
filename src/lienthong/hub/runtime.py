"""A running hub: what one process shares between its requests and workers.

:class:`Database` is the hub's database alone (engine, migrations, units of work) — what the
operator's commands need. :class:`Hub` adds the blob store, the parser's limits, the trust
store, the metrics and the worker that dispatches and relays from the outbox.
"""

from __future__ import annotations

import contextlib
import logging
import os
import threading
import time
from datetime import timedelta
from pathlib import Path
from typing import ParamSpec, TypeVar

from sqlalchemy import Engine, inspect
from sqlalchemy.exc import OperationalError

from lienthong.core import db
from lienthong.core.blobstore import BlobStore, blob_store_from_url
from lienthong.core.db import redact_url
from lienthong.core.sealing import Keyring, load_key_file
from lienthong.edxml.attachments import Limits
from lienthong.hub import retention, sealed
from lienthong.hub.errors import HubError
from lienthong.hub.metrics import Metrics
from lienthong.hub.outbox import queue
from lienthong.hub.outbox.dispatch import dispatch_pending, pending_dispatch
from lienthong.hub.outbox.relay import Relayer
from lienthong.hub.settings import Settings
from lienthong.pki.credentials import PkiError, load_trust
from lienthong.pki.crl_refresh import crls_from_ca, refresh_trust_dir

log = logging.getLogger("lienthong.hub")
T = TypeVar("T")
P = ParamSpec("P")
MIGRATIONS = Path(__file__).resolve().parent / "migrations"


def private_dir(path: Path) -> None:
    """A folder only the hub's user can enter (0700), created if missing."""
    path.mkdir(parents=True, exist_ok=True, mode=0o700)
    os.chmod(path, 0o700)


def private_file(path: Path) -> None:
    """A file only the hub's user can read (0600), created empty if missing."""
    path.parent.mkdir(parents=True, exist_ok=True)
    os.close(os.open(path, os.O_WRONLY | os.O_CREAT, 0o600))
    os.chmod(path, 0o600)


def _sqlite_file(url: str) -> Path | None:
    if url.startswith("sqlite:///") and ":memory:" not in url:
        return Path(url[len("sqlite:///") :].split("?", 1)[0])
    return None


def load_keyring(settings: Settings) -> Keyring:
    """The key ring sealing stored secrets: ``LIENTHONG_SECRET_KEYS`` if set, else the key
    file (created on first start)."""
    if settings.secret_keys:
        return Keyring.parse(settings.secret_keys)
    return load_key_file(settings.effective_secret_key_file)


class Database(db.Database):
    """The hub's database, migrated to the newest schema, and its units of work."""

    def __init__(self, settings: Settings, *, engine: Engine | None = None) -> None:
        self.settings = settings
        private_dir(settings.data_dir)
        sqlite_file = _sqlite_file(settings.effective_database_url)
        if sqlite_file is not None:
            private_file(sqlite_file)
        self.keyring = load_keyring(settings)
        super().__init__(
            engine or db.make_engine(settings.effective_database_url),
            MIGRATIONS,
            info={sealed.KEYRING: self.keyring},
        )
        if sqlite_file is not None:  # the WAL and shared-memory files SQLite made
            for extra in ("-wal", "-shm", "-journal"):
                with contextlib.suppress(FileNotFoundError):
                    os.chmod(f"{sqlite_file}{extra}", 0o600)
        resealed = self.run(sealed.reseal_all)
        if resealed:
            log.info("secrets.sealed", extra={"count": resealed, "key": self.keyring.current})

    def prune(self, *, via: str = "hub", batches: int | None = None) -> retention.PruneResult:
        """Retention under the settings (:mod:`lienthong.hub.retention`), batch after batch
        (each its own short transaction) until nothing is left or ``batches`` ran."""
        settings = self.settings
        total = retention.PruneResult()
        limit = 1000
        n = 0
        while batches is None or n < batches:
            n += 1
            done = self.run(
                retention.prune,
                delivery_lifetime=timedelta(days=settings.delivery_lifetime_days) or None,
                outbox_retention=timedelta(days=settings.outbox_retention_days) or None,
                signature_window=timedelta(seconds=settings.signature_window_seconds),
                limit=limit,
                via=via,
            )
            total += done
            if max(done.expired, done.outbox_deleted) < limit:
                break
        return total

    def close(self) -> None:
        self.engine.dispose()

    @classmethod
    def existing(cls, settings: Settings) -> Database:
        """The database of a hub that exists already — for commands that read or change a
        hub's data: a folder (or database) holding no hub is refused, naming where it was
        looked for, instead of an empty hub being created there."""
        url = settings.effective_database_url
        sqlite_file = _sqlite_file(url)
        if sqlite_file is not None:
            found = sqlite_file.is_file()
            engine = None
        else:
            engine = db.make_engine(url)
            try:
                found = inspect(engine).has_table("alembic_version")
            except OperationalError:
                engine.dispose()
                raise
        if not found:
            if engine is not None:
                engine.dispose()
            raise no_hub_here(settings)
        return cls(settings, engine=engine)


def no_hub_here(settings: Settings) -> HubError:
    folder = settings.data_dir.resolve()
    if settings.database_url:
        where_vi = f"cơ sở dữ liệu {redact_url(settings.database_url)} chưa có trục nào"
        where_en = f"the database {redact_url(settings.database_url)} holds no hub"
    else:
        where_vi = f"thư mục {folder} không chứa trục nào (không có hub.db)"
        where_en = f"the folder {folder} holds no hub (no hub.db)"
    return HubError(
        "HUB_NOT_FOUND",
        f"Không tìm thấy trục: {where_vi}. Chạy lệnh ở thư mục của trục, hoặc chỉ rõ bằng "
        "--data-dir / LIENTHONG_DATA_DIR (LIENTHONG_DATABASE_URL, LIENTHONG_CONFIG)",
        f"No hub found: {where_en}. Run the command where the hub's data is, or name it with "
        "--data-dir / LIENTHONG_DATA_DIR (LIENTHONG_DATABASE_URL, LIENTHONG_CONFIG)",
        field="data_dir",
        status=404,
        details={"data_dir": str(folder)},
    )


class Hub(Database):
    """Everything one hub process shares between requests and workers."""

    def __init__(
        self, settings: Settings, *, engine: Engine | None = None, blobs: BlobStore | None = None
    ) -> None:
        super().__init__(settings, engine=engine)
        self.tmp_dir = settings.data_dir / "tmp"
        private_dir(self.tmp_dir)
        self.blobs = blobs or blob_store_from_url(settings.effective_blob_url)
        self.limits = Limits(
            max_package_bytes=settings.max_package_bytes,
            max_attachment_bytes=settings.max_package_bytes,
            # ZIP-wrapped attachments of one package, inflated, all together
            max_inflated_bytes=4 * settings.max_package_bytes,
            spool_dir=str(self.tmp_dir),
        )
        self.trust_dir = settings.trust_dir or settings.data_dir / "trust"
        self.refresh_crls_from_ca()
        self._trust_loaded = self._trust_stamp()
        self.trust = load_trust(self.trust_dir)
        self._last_housekeeping = 0.0
        self.metrics = Metrics()
        self._wake = threading.Event()
        self._stop = threading.Event()
        self._worker: threading.Thread | None = None
        self.relayer = Relayer(self)
        self._backlog_lock = threading.Lock()
        self._backlog: tuple[float, frozenset[str]] = (-1e9, frozenset())

    # ------------------------------------------------------------------ worker

    def wake(self) -> None:
        self._wake.set()

    def dispatch_now(self) -> int:
        total = 0
        while True:
            if not self.read(pending_dispatch):
                return total
            n = self.run(dispatch_pending)
            total += n
            if n == 0:
                return total

    def start_worker(self) -> None:
        """Start dispatching and relaying; first give back the claims this process held in
        its previous run (it died holding them: they are due now, not after their lease)."""
        if self._worker is not None:
            return
        owner = self.settings.effective_instance_id
        released = self.run(queue.release_claims_of, owner=owner)
        if released:
            log.info("outbox.released", extra={"instance": owner, "entries": released})
        self._stop.clear()
        self._worker = threading.Thread(target=self._loop, name="lienthong-dispatch", daemon=True)
        self._worker.start()

    def stop_worker(self) -> None:
        self._stop.set()
        self._wake.set()
        if self._worker is not None:
            self._worker.join(timeout=10)
            self._worker = None

    def _loop(self) -> None:
        while not self._stop.is_set():
            self._wake.wait(timeout=1.0)
            self._wake.clear()
            try:
                n = self.dispatch_now()
                if n:
                    self.metrics.inc("lienthong_dispatched_total", n)
                while self.relay_now():
                    pass
                self._housekeeping()
            except Exception:  # the worker must survive a bad moment of the database
                log.exception("dispatch failed; retrying")

    def relay_now(self) -> int:
        """Relay and push what is due (see :mod:`lienthong.hub.outbox.relay`); returns how
        many attempts were made."""
        return self.relayer.run_once()

    def _housekeeping(self) -> None:
        """Once a minute: retention (expire deliveries, delete done outbox entries, forget
        signatures that can no longer be replayed — :mod:`lienthong.hub.retention`), a few
        batches at most, and reload the trust store when its files changed (new CRLs, a
        new root)."""
        now = time.monotonic()
        if now - self._last_housekeeping < 60:
            return
        self._last_housekeeping = now
        pruned = self.prune(batches=5)
        if pruned.total:
            log.info("hub.pruned", extra=pruned.__dict__)
        self.refresh_crls_from_ca()
        self.reload_trust_if_changed()

    def refresh_crls_from_ca(self) -> list[str]:
        """When this hub publishes a lienthong CA's CRLs (``LIENTHONG_CA_DIR``), copy the
        newer ones into its own trust folder: a revocation reaches this hub's verdicts
        within a minute, with nothing for the operator to do. Returns the issuers updated."""
        ca_dir = self.settings.ca_dir
        if ca_dir is None or not self.trust_dir.is_dir():
            return []
        try:
            updated = refresh_trust_dir(self.trust_dir, crls_from_ca(ca_dir))
        except (PkiError, OSError) as exc:
            log.warning("trust.crl_refresh_failed", extra={"from": str(ca_dir), "error": str(exc)})
            return []
        if updated:
            log.info("trust.crls_refreshed", extra={"from": str(ca_dir), "issuers": updated})
        return updated

    # ------------------------------------------------------------------ backpressure

    def busy_targets(self, *, max_age: float = 1.0) -> frozenset[str]:
        """Relay actions (``relay:<peer>``) with at least ``max_relay_backlog`` entries
        waiting, as counted at most ``max_age`` seconds ago (one grouped count shared by the
        process's requests): intake refuses what would add to them (``HUB_BUSY``)."""
        limit = self.settings.max_relay_backlog
        if not limit:
            return frozenset()
        with self._backlog_lock:
            at, busy = self._backlog
            if time.monotonic() - at < max_age:
                return busy
            counts = self.read(queue.waiting_relays)
            busy = frozenset(action for action, n in counts.items() if n >= limit)
            self._backlog = (time.monotonic(), busy)
            return busy

    def _trust_stamp(self) -> tuple[tuple[str, float], ...]:
        directory = self.trust_dir
        if not directory.is_dir():
            return ()
        return tuple(sorted((p.name, p.stat().st_mtime) for p in directory.iterdir()))

    def reload_trust_if_changed(self) -> bool:
        stamp = self._trust_stamp()
        if stamp == self._trust_loaded:
            return False
        self.trust = load_trust(self.trust_dir)
        self._trust_loaded = stamp
        log.info("trust.reloaded", extra={"files": len(stamp)})
        return True

    def close(self) -> None:
        self.stop_worker()
        self.relayer.close()
        super().close()
