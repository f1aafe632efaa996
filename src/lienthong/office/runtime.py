"""What one office process shares between requests and its worker: settings, database,
blob store, trust store, and the worker that polls the hub and sends statuses.

The edge owns the transaction: a request, a CLI command or the worker opens
:meth:`Office.session`, calls services, and the unit of work commits at its end.
"""

from __future__ import annotations

import contextlib
import logging
import threading
from collections.abc import Callable, Iterator
from pathlib import Path
from typing import Any, TypeVar

from sqlalchemy import Engine
from sqlalchemy.exc import IntegrityError, OperationalError
from sqlalchemy.orm import Session, sessionmaker

from lienthong.core.blobstore import BlobStore, blob_store_from_url
from lienthong.core.db import is_postgresql, make_engine, read_only_factory, session_factory
from lienthong.office.settings import OfficeSettings
from lienthong.pki.credentials import TrustStore

log = logging.getLogger("lienthong.office")
T = TypeVar("T")
MIGRATIONS = Path(__file__).resolve().parent / "migrations"
#: PostgreSQL advisory lock key serialising the office's migrations ("ltoffice")
MIGRATION_LOCK = 0x6C746F6666696365


def migrate(engine: Engine) -> None:
    """Bring the office's schema to the newest revision (idempotent; its own version table,
    so an office and a hub may even share one database)."""
    from alembic import command
    from alembic.config import Config

    config = Config()
    config.set_main_option("script_location", str(MIGRATIONS))
    with engine.begin() as connection:
        if is_postgresql(engine):
            connection.exec_driver_sql(f"SELECT pg_advisory_xact_lock({MIGRATION_LOCK})")
        config.attributes["connection"] = connection
        command.upgrade(config, "head")


def load_trust(directory: Path) -> TrustStore:
    if not directory.is_dir():
        return TrustStore(roots=[], crls=[], intermediates=[])
    return TrustStore.load(directory)


def _smtp(settings: OfficeSettings) -> Any:
    if not settings.smtp_host:
        return None
    from lienthong.office.notify import SmtpMailer

    return SmtpMailer(
        host=settings.smtp_host,
        port=settings.smtp_port,
        sender=settings.smtp_from,
        user=settings.smtp_user,
        password=settings.smtp_password,
        starttls=settings.smtp_starttls,
    )


class Office:
    def __init__(
        self,
        settings: OfficeSettings,
        *,
        engine: Engine | None = None,
        blobs: BlobStore | None = None,
        mailer: Any = None,
    ) -> None:
        self.settings = settings
        settings.data_dir.mkdir(parents=True, exist_ok=True)
        self.engine = engine or make_engine(settings.effective_database_url)
        migrate(self.engine)
        self.sessions: sessionmaker[Session] = session_factory(self.engine)
        self.read_sessions: sessionmaker[Session] = read_only_factory(self.engine)
        self.blobs = blobs or blob_store_from_url(settings.effective_blob_url)
        self.trust = load_trust(settings.effective_trust_dir)
        self.mailer = mailer if mailer is not None else _smtp(settings)
        self._wake = threading.Event()
        self._stop = threading.Event()
        self._worker: threading.Thread | None = None

    @contextlib.contextmanager
    def session(self) -> Iterator[Session]:
        """A unit of work: committed on success, rolled back on any error."""
        session = self.sessions()
        try:
            yield session
            session.commit()
        except BaseException:
            session.rollback()
            raise
        finally:
            session.close()

    def run(self, fn: Callable[[Session], T], *, retries: int = 3) -> T:
        """``fn`` in a transaction, retried on a lost race (unique key, lock timeout)."""
        for attempt in range(retries):
            try:
                with self.session() as s:
                    return fn(s)
            except (IntegrityError, OperationalError):
                if attempt == retries - 1:
                    raise
        raise AssertionError("unreachable")

    def read(self, fn: Callable[[Session], T]) -> T:
        session = self.read_sessions()
        try:
            return fn(session)
        finally:
            session.close()

    # ------------------------------------------------------------------ worker

    def wake(self) -> None:
        self._wake.set()

    def work_once(self, *, poll: bool = True) -> dict[str, int]:
        """One round: poll the hub's inbox (when ``poll``), send waiting statuses, then give
        new attachments and scans their text (PDF text layer, OCR)."""
        from lienthong.office import hubsync, notify, textindex
        from lienthong.web.i18n import today_vn

        done = {"received": 0, "statuses": 0, "texts": 0, "notified": 0, "emails": 0}
        if poll:
            done["received"] = hubsync.poll_once(self)
        done["statuses"] = hubsync.send_pending_statuses(self)
        done["texts"] = textindex.process_pending(self)
        if poll:
            done["notified"] = self.run(lambda s: notify.deadline_sweep(s, today=today_vn()))
        done["emails"] = notify.send_pending_emails(
            self, mailer=self.mailer, base_url=self.settings.public_url
        )
        return done

    def start_worker(self) -> None:
        if self._worker is not None:
            return
        self._stop.clear()
        self._worker = threading.Thread(target=self._loop, name="office-worker", daemon=True)
        self._worker.start()

    def stop_worker(self) -> None:
        self._stop.set()
        self._wake.set()
        if self._worker is not None:
            self._worker.join(timeout=10)
            self._worker = None

    def _loop(self) -> None:
        import time

        last_poll = 0.0
        while not self._stop.is_set():
            self._wake.wait(timeout=1.0)
            self._wake.clear()
            now = time.monotonic()
            poll = now - last_poll >= self.settings.poll_seconds
            try:
                self.work_once(poll=poll)
            except Exception:  # the worker must survive a bad moment of the hub or database
                log.exception("office worker round failed; retrying")
            if poll:
                last_poll = now

    def close(self) -> None:
        self.stop_worker()
        self.engine.dispose()

    def __enter__(self) -> Office:
        return self

    def __exit__(self, *_exc: Any) -> None:
        self.close()
