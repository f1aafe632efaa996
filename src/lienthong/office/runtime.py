"""What one office process shares between requests and its worker: settings, database,
blob store, trust store, and the worker that polls the hub and sends statuses.

The edge owns the transaction: a request, a CLI command or the worker opens
:meth:`Office.session`, calls services, and the unit of work commits at its end.
"""

from __future__ import annotations

import logging
import threading
from pathlib import Path
from typing import Any, TypeVar

from sqlalchemy import Engine

from lienthong.core import db
from lienthong.core.blobstore import BlobStore, blob_store_from_url
from lienthong.office.mail import smtp_mailer
from lienthong.office.settings import OfficeSettings
from lienthong.pki.credentials import load_trust

log = logging.getLogger("lienthong.office")
T = TypeVar("T")
MIGRATIONS = Path(__file__).resolve().parent / "migrations"


class Office(db.Database):
    """One office process: its database (own migrations) and units of work, its blob store,
    the trust store its verdicts come from, and the wake-up of its worker."""

    def __init__(
        self,
        settings: OfficeSettings,
        *,
        engine: Engine | None = None,
        blobs: BlobStore | None = None,
        mailer: Any = None,
    ) -> None:
        """``mailer``: where e-mail goes (tests pass a recorder); by default the SMTP server
        of the settings, if any (:func:`lienthong.office.mail.smtp_mailer`)."""
        self.settings = settings
        settings.data_dir.mkdir(parents=True, exist_ok=True)
        super().__init__(engine or db.make_engine(settings.effective_database_url), MIGRATIONS)
        self.blobs = blobs or blob_store_from_url(settings.effective_blob_url)
        self.trust = load_trust(settings.effective_trust_dir)
        self.mailer = mailer if mailer is not None else smtp_mailer(settings)
        self._wake = threading.Event()

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
