"""The hub's HTTP application: the national platform's API at the root, our REST API under
``/api/v1``, the admin API under ``/api/admin/v1``, health, readiness, CRLs and metrics; the
hub's worker starts and stops with it."""

from __future__ import annotations

import asyncio
import contextlib
import logging
import time
from collections.abc import AsyncIterator
from typing import Literal

import uvicorn
from fastapi import FastAPI, Request
from fastapi.exceptions import RequestValidationError
from fastapi.responses import JSONResponse, PlainTextResponse, Response
from sqlalchemy import func, select, text
from sqlalchemy.orm import Session
from starlette.types import ASGIApp, Message, Receive, Scope, Send

from lienthong.core.version import python_version, version
from lienthong.hub.errors import HubError
from lienthong.hub.http import admin, docs, rest, vdxp
from lienthong.hub.http.deps import request_problem
from lienthong.hub.http.limits import BodyLimit
from lienthong.hub.metrics import Metrics, header
from lienthong.hub.models import OutboxEntry
from lienthong.hub.outbox.queue import State
from lienthong.hub.runtime import Hub

log = logging.getLogger("lienthong.hub")


#: What one listener serves: everything (the default), or — when ``LIENTHONG_ADMIN_LISTEN``
#: is set — the public APIs on one address and the operators' side on the other.
Surface = Literal["all", "public", "admin"]


def create_app(hub: Hub, *, start_worker: bool = True, surface: Surface | None = None) -> FastAPI:
    """The hub's application. ``surface``: ``all`` (default unless
    ``LIENTHONG_ADMIN_LISTEN`` is set), ``public`` (the national platform's API, REST API
    v1, health, CRLs — the admin API, metrics and the API docs answer 404) or ``admin``
    (admin API, metrics, API docs and health; no worker of its own)."""
    part: Surface = surface or ("public" if hub.settings.admin_listen else "all")

    @contextlib.asynccontextmanager
    async def lifespan(_app: FastAPI) -> AsyncIterator[None]:
        if start_worker and part != "admin":
            hub.start_worker()
            hub.wake()
        log.info(
            "hub.started",
            extra={
                "hub": hub.settings.hub_id,
                "role": hub.settings.role,
                "version": version(),
                "surface": part,
            },
        )
        yield
        log.info("hub.stopping", extra={"hub": hub.settings.hub_id, "surface": part})
        if start_worker and part != "admin":
            hub.stop_worker()
        log.info("hub.stopped", extra={"hub": hub.settings.hub_id, "surface": part})

    app = FastAPI(
        title="lienthong hub",
        version="1.0",
        description=(
            "Trục liên thông văn bản — REST API v1 (`/api/v1`) và API tương thích trục quốc "
            "gia (`/sendEdoc`, …). Exchange hub: REST API v1 and the national platform's API."
        ),
        lifespan=lifespan,
        # the pages are served from the hub's own assets (hub/http/docs.py), never a CDN
        docs_url=None,
        redoc_url=None,
        openapi_url=None if part == "public" else "/openapi.json",
    )
    app.state.hub = hub
    hub.metrics.info(
        "lienthong_build_info",
        {
            "version": version(),
            "python": python_version(),
            "hub": hub.settings.hub_id,
            "role": hub.settings.role,
        },
    )
    app.add_middleware(RequestTiming, metrics=hub.metrics)

    def render(path: str, exc: HubError) -> JSONResponse:
        hub.metrics.inc(f'lienthong_errors_total{{code="{exc.code}"}}')
        log.info(
            "request.refused",
            extra={"code": exc.code, "status": exc.status, "path": path, "field": exc.field},
        )
        if path.startswith("/api/"):
            response = JSONResponse({"error": exc.to_dict()}, status_code=exc.status)
        else:
            response = vdxp.vdxp_error(exc)
        retry_after = exc.details.get("retry_after_seconds")
        if retry_after is not None:  # HUB_BUSY: when to try again
            response.headers["Retry-After"] = str(int(retry_after))
        return response

    @app.exception_handler(HubError)
    async def _hub_error(_request: Request, exc: HubError) -> JSONResponse:
        return render(_request.url.path, exc)

    @app.exception_handler(RequestValidationError)
    async def _invalid_request(request: Request, exc: RequestValidationError) -> JSONResponse:
        problems = [request_problem(e) for e in exc.errors()]
        first = problems[0] if problems else request_problem({})
        error = HubError(
            first["code"],
            first["message_vi"],
            first["message_en"],
            field=first["field"],
            status=422,
            details={"problems": problems},
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

    if part != "public":

        @app.get("/metrics", include_in_schema=False, response_class=PlainTextResponse)
        def metrics() -> str:
            return hub.metrics.render() + hub.read(_outbox_gauge)

    app.add_middleware(
        BodyLimit, max_package_bytes=lambda: hub.settings.max_package_bytes, render=render
    )
    if part != "public":
        app.include_router(docs.router)
    app.include_router(rest.router)  # on the admin listener too: what its API docs show
    if part != "public":
        app.include_router(admin.router)
    if part != "admin":
        app.include_router(vdxp.router)
    return app


def parse_listen(value: str) -> tuple[str, int]:
    """``host:port`` (``[::1]:9090`` for IPv6) → (host, port); ValueError otherwise."""
    host, sep, port = value.strip().rpartition(":")
    if not sep or not host or not port.isdigit() or not 0 < int(port) < 65536:
        raise ValueError(f"expected host:port, not {value!r}")
    return host.strip("[]"), int(port)


def listeners(hub: Hub, *, log_level: str = "warning") -> list[uvicorn.Server]:
    """The hub's HTTP servers: one (everything), or two when ``LIENTHONG_ADMIN_LISTEN`` is
    set (the public APIs; the admin API, metrics and the API docs)."""
    settings = hub.settings
    configs = [
        uvicorn.Config(
            create_app(hub),
            host=settings.host,
            port=settings.port,
            log_level=log_level,
            timeout_graceful_shutdown=10,
        )
    ]
    if settings.admin_listen:
        host, port = parse_listen(settings.admin_listen)
        configs.append(
            uvicorn.Config(
                create_app(hub, surface="admin"),
                host=host,
                port=port,
                log_level=log_level,
                timeout_graceful_shutdown=10,
            )
        )
    return [uvicorn.Server(c) for c in configs]


def run(servers: list[uvicorn.Server]) -> None:
    """Run servers until one stops (a signal reaches one of them), then stop them all."""

    async def main() -> None:
        tasks = [asyncio.create_task(s.serve()) for s in servers]
        await asyncio.wait(tasks, return_when=asyncio.FIRST_COMPLETED)
        for server in servers:
            server.should_exit = True
        await asyncio.gather(*tasks)

    # uvicorn re-raises the signal it caught once the servers have stopped gracefully (as
    # uvicorn.run does, a Ctrl-C or SIGTERM after a clean shutdown is a normal end: exit 0)
    with contextlib.suppress(KeyboardInterrupt):
        asyncio.run(main())


def serve(hub: Hub) -> None:
    """``lienthong hub serve``: the hub's listeners until interrupted."""
    run(listeners(hub))


class RequestTiming:
    """Records each HTTP request's time to its response's start in
    ``lienthong_http_request_duration_seconds``, by method, route template (never the raw
    path: ids would make a series each) and status class."""

    def __init__(self, app: ASGIApp, metrics: Metrics) -> None:
        self.app = app
        self.metrics = metrics

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        if scope["type"] != "http":
            await self.app(scope, receive, send)
            return
        start = time.perf_counter()
        observed = False

        def observe(status: int) -> None:
            nonlocal observed
            if observed:
                return
            observed = True
            route = scope.get("route")
            self.metrics.observe(
                "lienthong_http_request_duration_seconds",
                {
                    "method": scope.get("method", ""),
                    "route": getattr(route, "path", None) or "other",
                    "status": f"{status // 100}xx",
                },
                time.perf_counter() - start,
            )

        async def timed_send(message: Message) -> None:
            if message["type"] == "http.response.start":
                observe(int(message["status"]))
            await send(message)

        try:
            await self.app(scope, receive, timed_send)
        except Exception:
            observe(500)
            raise


def _outbox_gauge(session: Session) -> str:
    """Outbox entries by state (local dispatch, relays, pushes together)."""
    counts = dict(
        session.execute(select(OutboxEntry.state, func.count()).group_by(OutboxEntry.state)).all()
    )
    lines = header("lienthong_outbox", "gauge")
    for state in (State.PENDING, State.INFLIGHT, State.DEAD):
        lines.append(f'lienthong_outbox{{state="{state}"}} {counts.get(state, 0)}')
    return "\n".join(lines) + "\n"
