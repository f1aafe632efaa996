"""A gate in front of a hub for the reliability tests: a real reverse proxy (uvicorn +
httpx) that passes requests through, or answers 503 while it is *cut*; it records every
request it sees (time, path, body hash, who sent it, the answer)."""

from __future__ import annotations

import hashlib
import threading
import time
from dataclasses import dataclass

import httpx
import uvicorn
from starlette.applications import Starlette
from starlette.requests import Request
from starlette.responses import JSONResponse, Response
from starlette.routing import Route

from lienthong.devnet.network import free_port


@dataclass(frozen=True)
class Seen:
    at: float  # time.monotonic()
    path: str
    sha256: str
    agent: str
    status: int


class Gate:
    def __init__(self, upstream: str) -> None:
        self.upstream = upstream.rstrip("/")
        self.cut = False
        self.seen: list[Seen] = []
        self._lock = threading.Lock()
        # a new connection to the hub per request: a kept-alive one may be closed by the
        # hub's server (idle timeout) just as the gate reuses it — a race a busy machine
        # makes likely, which would show as a failed relay attempt that no hub caused
        self._client = httpx.AsyncClient(
            timeout=60, limits=httpx.Limits(max_keepalive_connections=0)
        )
        app = Starlette(routes=[Route("/{path:path}", self._handle, methods=["GET", "POST"])])
        self.port = free_port()
        self.url = f"http://127.0.0.1:{self.port}"
        self._server = uvicorn.Server(
            uvicorn.Config(app, host="127.0.0.1", port=self.port, log_level="warning")
        )
        self._thread = threading.Thread(target=self._server.run, daemon=True)
        self._thread.start()
        deadline = time.monotonic() + 20
        while not self._server.started:
            if time.monotonic() > deadline:
                raise RuntimeError("the gate did not start")
            time.sleep(0.02)

    async def _handle(self, request: Request) -> Response:
        body = await request.body()
        if self.cut:
            response: Response = JSONResponse(
                {"error": {"code": "UNAVAILABLE", "message": "cut off by the test"}}, 503
            )
        else:
            headers = {
                k: v
                for k, v in request.headers.items()
                if k.lower() not in {"host", "content-length", "transfer-encoding"}
            }
            answer = await self._client.request(
                request.method,
                f"{self.upstream}{request.url.path}",
                params=request.query_params,
                headers=headers,
                content=body,
            )
            response = Response(
                answer.content,
                answer.status_code,
                media_type=answer.headers.get("content-type"),
            )
        with self._lock:
            self.seen.append(
                Seen(
                    time.monotonic(),
                    request.url.path,
                    hashlib.sha256(body).hexdigest(),
                    request.headers.get("user-agent", ""),
                    response.status_code,
                )
            )
        return response

    def requests(self) -> list[Seen]:
        with self._lock:
            return list(self.seen)

    def close(self) -> None:
        self._server.should_exit = True
        self._thread.join(timeout=10)
