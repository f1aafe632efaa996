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
from lienthong.core.db import make_engine, migrate, read_only_factory, session_factory
from lienthong.office.settings import OfficeSettings
from lienthong.pki.credentials import TrustStore

log = logging.getLogger("lienthong.office")
T = TypeVar("T")
MIGRATIONS = Path(__file__).resolve().parent / "migrations"


def load_trust(directory: Path) -> TrustStore:
    if not directory.is_dir():
        return TrustStore(roots=[], crls=[], intermediates=[])
    return TrustStore.load(directory)


class Office:
    def __init__(
        self,
        settings: OfficeSettings,
        *,
        engine: Engine | None = None,
        blobs: BlobStore | None = None,
    ) -> None:
        self.settings = settings
        settings.data_dir.mkdir(parents=True, exist_ok=True)
        self.engine = engine or make_engine(settings.effective_database_url)
        migrate(self.engine, MIGRATIONS)
        self.sessions: sessionmaker[Session] = session_factory(self.engine)
        self.read_sessions: sessionmaker[Session] = read_only_factory(self.engine)
        self.blobs = blobs or blob_store_from_url(settings.effective_blob_url)
        self.trust = load_trust(settings.effective_trust_dir)
        self._wake = threading.Event()

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
        """New work (a push arrived, a status to send): the worker runs a round now."""
        self._wake.set()

    def wait_for_work(self, timeout: float) -> None:
        self._wake.wait(timeout=timeout)
        self._wake.clear()

    def close(self) -> None:
        self.engine.dispose()

    def __enter__(self) -> Office:
        return self

    def __exit__(self, *_exc: Any) -> None:
        self.close()
