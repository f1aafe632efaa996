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
from collections.abc import Callable, Iterator
from datetime import timedelta
from pathlib import Path
from typing import Any, Concatenate, ParamSpec, TypeVar

from sqlalchemy import Engine
from sqlalchemy.exc import IntegrityError, OperationalError
from sqlalchemy.orm import Session, sessionmaker

from lienthong.core.blobstore import BlobStore, blob_store_from_url
from lienthong.core.db import make_engine, migrate, read_only_factory, session_factory
from lienthong.core.sealing import Keyring, load_key_file
from lienthong.edxml.attachments import Limits
from lienthong.hub import sealed
from lienthong.hub.authn import purge_seen_signatures
from lienthong.hub.metrics import Metrics
from lienthong.hub.outbox.dispatch import dispatch_pending, pending_dispatch
from lienthong.hub.outbox.relay import Relayer
from lienthong.hub.settings import Settings
from lienthong.hub.signatures import load_trust

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


class Database:
    """The hub's database, migrated to the newest schema, and its units of work."""

    def __init__(self, settings: Settings, *, engine: Engine | None = None) -> None:
        self.settings = settings
        private_dir(settings.data_dir)
        sqlite_file = _sqlite_file(settings.effective_database_url)
        if sqlite_file is not None:
            private_file(sqlite_file)
        self.keyring = load_keyring(settings)
        info = {sealed.KEYRING: self.keyring}
        self.engine = engine or make_engine(settings.effective_database_url)
        migrate(self.engine, MIGRATIONS)
        if sqlite_file is not None:  # the WAL and shared-memory files SQLite made
            for extra in ("-wal", "-shm", "-journal"):
                with contextlib.suppress(FileNotFoundError):
                    os.chmod(f"{sqlite_file}{extra}", 0o600)
        self.sessions: sessionmaker[Session] = session_factory(self.engine, info)
        self.read_sessions: sessionmaker[Session] = read_only_factory(self.engine, info)
        self._write_lock: contextlib.AbstractContextManager[Any] = (
            threading.RLock() if self.engine.dialect.name == "sqlite" else contextlib.nullcontext()
        )
        resealed = self.run(sealed.reseal_all)
        if resealed:
            log.info("secrets.sealed", extra={"count": resealed, "key": self.keyring.current})

    @contextlib.contextmanager
    def session(self) -> Iterator[Session]:
        """A unit of work: committed on success, rolled back on any error.

        On SQLite the process's writers queue on a lock of ours first: SQLite itself would
        make them sleep-and-retry (busy timeout), which is unfair and slow under load."""
        with self._write_lock:
            session = self.sessions()
            try:
                yield session
                session.commit()
            except BaseException:
                session.rollback()
                raise
            finally:
                session.close()

    def run(
        self,
        fn: Callable[Concatenate[Session, P], T],
        /,
        *args: P.args,
        **kwargs: P.kwargs,
    ) -> T:
        """``fn(session, *args, **kwargs)`` in a transaction; a lost race on a unique key or
        a lock timeout is retried up to three times (``fn`` must be idempotent up to its
        commit). See :meth:`run_once` for a single attempt."""
        for attempt in range(3):
            try:
                with self.session() as s:
                    return fn(s, *args, **kwargs)
            except (IntegrityError, OperationalError):
                if attempt == 2:
                    raise
        raise AssertionError("unreachable")

    def run_once(
        self, fn: Callable[Concatenate[Session, P], T], /, *args: P.args, **kwargs: P.kwargs
    ) -> T:
        """``fn(session, …)`` in a transaction, not retried."""
        with self.session() as s:
            return fn(s, *args, **kwargs)

    def read(
        self, fn: Callable[Concatenate[Session, P], T], /, *args: P.args, **kwargs: P.kwargs
    ) -> T:
        """A read-only ``fn(session, …)`` (no write lock on SQLite; rolled back, never
        committed)."""
        session = self.read_sessions()
        try:
            return fn(session, *args, **kwargs)
        finally:
            session.close()  # ends the transaction; loaded objects stay usable (detached)

    def close(self) -> None:
        self.engine.dispose()


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
        self._trust_loaded = self._trust_stamp()
        self.trust = load_trust(self.trust_dir)
        self._last_housekeeping = 0.0
        self.metrics = Metrics()
        self._wake = threading.Event()
        self._stop = threading.Event()
        self._worker: threading.Thread | None = None
        self.relayer = Relayer(self)

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
        if self._worker is not None:
            return
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
        """Once a minute: forget signatures that can no longer be replayed (older than
        twice the freshness window: timestamps up to +window are accepted), and reload the
        trust store when its files changed (new CRLs, a new root)."""
        now = time.monotonic()
        if now - self._last_housekeeping < 60:
            return
        self._last_housekeeping = now
        window = timedelta(seconds=2 * self.settings.signature_window_seconds)
        self.run(purge_seen_signatures, older_than=window)
        self.reload_trust_if_changed()

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
