"""The office's background work: poll the hub's inbox (the fallback to push), send the
statuses waiting in the outbox, and give new attachments and scans their text (PDF text
layer, OCR). One thread per process, woken by :meth:`lienthong.office.runtime.Office.wake`
and every second; the hub is polled every ``poll_seconds``."""

from __future__ import annotations

import logging
import threading
import time

from lienthong.office import hubsync, notify, textindex
from lienthong.office.runtime import Office
from lienthong.web.i18n import today_vn

log = logging.getLogger("lienthong.office")


def work_once(office: Office, *, poll: bool = True) -> dict[str, int]:
    """One round: poll the hub's inbox (when ``poll``), send waiting statuses, give new
    attachments and scans their text (PDF text layer, OCR), look for deadlines approaching
    or passed (when ``poll``) and send waiting e-mail; returns how much each step did."""
    done = {"received": 0, "statuses": 0, "texts": 0, "notified": 0, "emails": 0}
    if poll:
        done["received"] = hubsync.poll_once(office)
    done["statuses"] = hubsync.send_pending_statuses(office)
    done["texts"] = textindex.process_pending(office)
    if poll:
        done["notified"] = office.run(notify.deadline_sweep, today=today_vn())
    done["emails"] = notify.send_pending_emails(
        office, mailer=office.mailer, base_url=office.settings.public_url
    )
    return done


class Worker:
    def __init__(self, office: Office) -> None:
        self.office = office
        self._stop = threading.Event()
        self._thread: threading.Thread | None = None

    def start(self) -> None:
        if self._thread is not None:
            return
        self._stop.clear()
        self._thread = threading.Thread(target=self._loop, name="office-worker", daemon=True)
        self._thread.start()
        self.office.wake()

    def stop(self) -> None:
        self._stop.set()
        self.office.wake()
        if self._thread is not None:
            self._thread.join(timeout=10)
            self._thread = None

    def _loop(self) -> None:
        last_poll = 0.0
        while not self._stop.is_set():
            self.office.wait_for_work(timeout=1.0)
            now = time.monotonic()
            poll = now - last_poll >= self.office.settings.poll_seconds
            try:
                work_once(self.office, poll=poll)
            except Exception:  # the worker must survive a bad moment of the hub or database
                log.exception("office worker round failed; retrying")
            if poll:
                last_poll = now
