"""The hub's HTTP application: the national platform's API at the root, our REST API
under ``/api/v1``, health, readiness and metrics; plus the dispatcher worker.

:class:`Hub` holds what every request needs (settings, database, blob store). Requests
run the synchronous service functions in the thread pool; the edge owns the transaction.
"""

from __future__ import annotations

import contextlib
import hashlib
import logging
import tempfile
import threading
import time
from collections.abc import AsyncIterator, Callable, Iterator
from dataclasses import dataclass, field
from datetime import timedelta
from pathlib import Path
from typing import Any, TypeVar

from fastapi import FastAPI, Request
from fastapi.exceptions import RequestValidationError
from fastapi.responses import JSONResponse, PlainTextResponse, Response
from sqlalchemy import Engine, text
from sqlalchemy.exc import IntegrityError, OperationalError
from sqlalchemy.orm import Session, sessionmaker
from starlette.concurrency import run_in_threadpool
from starlette.requests import ClientDisconnect

from lienthong.core.blobstore import BlobStore, blob_store_from_url
from lienthong.core.db import make_engine, migrate, read_only_factory, session_factory
from lienthong.core.settings import Settings
from lienthong.edxml.attachments import Limits
from lienthong.hub import service
from lienthong.hub.errors import HubError
from lienthong.hub.relay import Relayer
from lienthong.hub.signatures import load_trust

log = logging.getLogger("lienthong.hub")
T = TypeVar("T")
_SPOOL_CHUNK = 1 << 20


@dataclass
class Metrics:
    counters: dict[str, int] = field(default_factory=dict)
    lock: threading.Lock = field(default_factory=threading.Lock)

    def inc(self, name: str, by: int = 1) -> None:
        with self.lock:
            self.counters[name] = self.counters.get(name, 0) + by

    def render(self) -> str:
        """Prometheus text format: one ``# TYPE`` line per metric, then its samples."""
        with self.lock:
            items = sorted(self.counters.items())
        lines: list[str] = []
        for name, value in items:
            base = name.partition("{")[0]
            declared = f"# TYPE {base} counter"
            if declared not in lines:
                lines.append(declared)
            lines.append(f"{name} {value}")
        return "\n".join(lines) + "\n"


class Hub:
    """Everything one hub process shares between requests and workers."""

    def __init__(
        self, settings: Settings, *, engine: Engine | None = None, blobs: BlobStore | None = None
    ) -> None:
        self.settings = settings
        settings.data_dir.mkdir(parents=True, exist_ok=True)
        self.tmp_dir = settings.data_dir / "tmp"
        self.tmp_dir.mkdir(parents=True, exist_ok=True)
        self.engine = engine or make_engine(settings.effective_database_url)
        migrate(self.engine)
        self.sessions: sessionmaker[Session] = session_factory(self.engine)
        self.read_sessions: sessionmaker[Session] = read_only_factory(self.engine)
        self._write_lock: contextlib.AbstractContextManager[Any] = (
            threading.RLock() if self.engine.dialect.name == "sqlite" else contextlib.nullcontext()
        )
        self.blobs = blobs or blob_store_from_url(settings.effective_blob_url)
        self.limits = Limits(
            max_package_bytes=settings.max_package_bytes,
            max_attachment_bytes=settings.max_package_bytes,
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

    def run(self, fn: Callable[[Session], T], *, retries: int = 3) -> T:
        """Run ``fn`` in a transaction; a lost race on a unique key or a lock timeout is
        retried (the function must be idempotent up to its commit)."""
        for attempt in range(retries):
            try:
                with self.session() as s:
                    return fn(s)
            except (IntegrityError, OperationalError):
                if attempt == retries - 1:
                    raise
        raise AssertionError("unreachable")

    def read(self, fn: Callable[[Session], T]) -> T:
        """Run a read-only ``fn`` (no write lock on SQLite; rolled back, never committed)."""
        session = self.read_sessions()
        try:
            return fn(session)
        finally:
            session.close()  # ends the transaction; loaded objects stay usable (detached)

    # ------------------------------------------------------------------ dispatcher

    def wake(self) -> None:
        self._wake.set()

    def dispatch_now(self) -> int:
        total = 0
        while True:
            if not self.read(service.pending_dispatch):
                return total
            n = self.run(lambda s: service.dispatch_pending(s))
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
        """Relay and push what is due (see :mod:`lienthong.hub.relay`); returns how many
        attempts were made."""
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
        self.run(lambda s: service.purge_seen_signatures(s, older_than=window))
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

    # ------------------------------------------------------------------ bodies

    async def spool(self, request: Request, *, slack: int = 0) -> service.Body:
        """Stream the request body to a temporary file, hashing it, refusing anything
        over the size limit before and while reading (413). ``slack`` admits the extra
        ``\r\n`` the official SDK appends (the caller checks the size after trimming)."""
        limit = self.settings.max_package_bytes
        declared = request.headers.get("content-length")
        if declared is not None and declared.isdigit() and int(declared) > limit + slack:
            raise too_large(limit)
        h = hashlib.sha256()  # over everything but the last two bytes seen so far
        tail = b""
        size = 0
        fh = tempfile.NamedTemporaryFile(dir=self.tmp_dir, prefix="body-", delete=False)  # noqa: SIM115
        path = Path(fh.name)
        try:
            with fh:
                async for chunk in request.stream():
                    if not chunk:
                        continue
                    size += len(chunk)
                    if size > limit + slack:
                        raise too_large(limit)
                    fh.write(chunk)
                    data = tail + chunk
                    h.update(data[:-2])
                    tail = data[-2:]
        except ClientDisconnect:
            path.unlink(missing_ok=True)
            log.info("request.disconnected", extra={"path": request.url.path, "bytes": size})
            raise HubError(
                "REQUEST_INCOMPLETE",
                "Bên gửi ngắt kết nối trước khi gửi hết gói tin",
                "The client disconnected before the whole package arrived",
                status=400,
            ) from None
        except BaseException:
            path.unlink(missing_ok=True)
            raise
        trimmed = h.hexdigest() if tail == b"\r\n" else None
        h.update(tail)
        return service.Body(path=path, sha256=h.hexdigest(), size=size, trimmed_sha256=trimmed)

    def close(self) -> None:
        self.stop_worker()
        self.relayer.close()
        self.engine.dispose()


def too_large(limit: int) -> HubError:
    return HubError(
        "HUB_TOO_LARGE",
        f"Gói tin vượt giới hạn {limit} byte",
        f"The package exceeds the limit of {limit} bytes",
        status=413,
    )


async def in_thread(fn: Callable[..., T], *args: Any) -> T:
    return await run_in_threadpool(fn, *args)


def error_response(exc: HubError) -> JSONResponse:
    return JSONResponse({"error": exc.to_dict()}, status_code=exc.status)


def create_app(hub: Hub, *, start_worker: bool = True) -> FastAPI:
    from lienthong.hub.admin import router as admin_router
    from lienthong.hub.api import router as rest_router
    from lienthong.hub.vdxp import router as vdxp_router

    @contextlib.asynccontextmanager
    async def lifespan(_app: FastAPI) -> AsyncIterator[None]:
        if start_worker:
            hub.start_worker()
            hub.wake()
        yield
        hub.stop_worker()

    app = FastAPI(
        title="lienthong hub",
        version="1.0",
        description=(
            "Trục liên thông văn bản — REST API v1 (`/api/v1`) và API tương thích trục quốc "
            "gia (`/sendEdoc`, …). Exchange hub: REST API v1 and the national platform's API."
        ),
        lifespan=lifespan,
    )
    app.state.hub = hub

    @app.exception_handler(HubError)
    async def _hub_error(_request: Request, exc: HubError) -> JSONResponse:
        hub.metrics.inc(f'lienthong_errors_total{{code="{exc.code}"}}')
        log.info(
            "request.refused",
            extra={
                "code": exc.code,
                "status": exc.status,
                "path": _request.url.path,
                "field": exc.field,
            },
        )
        if _request.url.path.startswith("/api/"):
            return error_response(exc)
        from lienthong.hub.vdxp import vdxp_error

        return vdxp_error(exc)

    @app.exception_handler(RequestValidationError)
    async def _invalid_request(request: Request, exc: RequestValidationError) -> JSONResponse:
        first = exc.errors()[0] if exc.errors() else {}
        field = ".".join(str(p) for p in first.get("loc", ())[1:])
        error = HubError(
            "REQUEST_INVALID",
            f"Yêu cầu không hợp lệ ở {field or 'yêu cầu'}: {first.get('msg', '')}",
            f"Invalid request at {field or 'request'}: {first.get('msg', '')}",
            field=field,
            status=422,
        )
        return await _hub_error(request, error)

    @app.get("/healthz", include_in_schema=False)
    def healthz() -> dict[str, str]:
        return {"status": "ok", "hub": hub.settings.hub_id, "role": hub.settings.role}

    @app.get("/readyz", include_in_schema=False)
    def readyz() -> JSONResponse:
        try:
            with hub.engine.connect() as conn:
                conn.execute(text("SELECT 1"))
        except Exception as exc:  # pragma: no cover - depends on the database being down
            return JSONResponse({"status": "unavailable", "reason": type(exc).__name__}, 503)
        return JSONResponse({"status": "ready"})

    @app.get("/pki/{name}", include_in_schema=False)
    def crl(name: str) -> Response:
        """The CRLs of the lienthong CA this hub publishes (``LIENTHONG_CA_DIR``)."""
        if hub.settings.ca_dir is None or name not in {"root.crl", "issuing.crl"}:
            raise HubError(
                "NOT_FOUND", "Không có danh sách thu hồi này", "No such revocation list", status=404
            )
        path = hub.settings.ca_dir / name
        if not path.is_file():
            raise HubError(
                "NOT_FOUND", "Không có danh sách thu hồi này", "No such revocation list", status=404
            )
        return Response(path.read_bytes(), media_type="application/pkix-crl")

    @app.get("/metrics", include_in_schema=False, response_class=PlainTextResponse)
    def metrics() -> str:
        return hub.metrics.render() + hub.read(_outbox_gauge)

    app.include_router(rest_router)
    app.include_router(admin_router)
    app.include_router(vdxp_router)
    return app


def _outbox_gauge(session: Session) -> str:
    """Outbox entries by state (local dispatch, relays, pushes together)."""
    from sqlalchemy import func, select

    from lienthong.hub.models import OutboxEntry

    counts = dict(
        session.execute(select(OutboxEntry.state, func.count()).group_by(OutboxEntry.state)).all()
    )
    lines = ["# TYPE lienthong_outbox gauge"]
    for state in ("pending", "inflight", "dead"):
        lines.append(f'lienthong_outbox{{state="{state}"}} {counts.get(state, 0)}')
    return "\n".join(lines) + "\n"


def hub_of(request: Request) -> Hub:
    hub: Hub = request.app.state.hub
    return hub
