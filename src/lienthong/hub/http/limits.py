"""Every request body is bounded before it is read: an ASGI layer in front of the routes
refuses a body whose ``Content-Length`` is over its path's limit (413, nothing read) and
stops one that grows past it while streaming (chunked uploads); headers over
:data:`MAX_HEADER_BYTES` in all are refused (431) before any route looks at them. Packages
(``/api/v1/packages``, ``/sendEdoc``) may be as large as ``LIENTHONG_MAX_PACKAGE_BYTES``;
every other body (JSON of acknowledgements, statuses, directory calls) at most
:data:`SMALL_BODY_BYTES`. Routes read bodies only after their caller is authenticated
(:mod:`lienthong.hub.http.deps`), so an anonymous client never gets a body read at all."""

from __future__ import annotations

from collections.abc import Awaitable, Callable, MutableMapping
from typing import Any

from starlette.responses import Response

from lienthong.hub.errors import HubError

Scope = MutableMapping[str, Any]
Message = MutableMapping[str, Any]
Receive = Callable[[], Awaitable[Message]]
Send = Callable[[Message], Awaitable[None]]
ASGIApp = Callable[[Scope, Receive, Send], Awaitable[None]]

#: The largest body of any call that does not carry a package (JSON).
SMALL_BODY_BYTES = 64 * 1024
#: All request headers together (names and values): the SDK's largest are a few KiB.
MAX_HEADER_BYTES = 64 * 1024
#: The calls that carry a package (the official SDK may append ``\r\n``: 2 bytes slack).
PACKAGE_PATHS = frozenset({"/api/v1/packages", "/sendEdoc"})
_SLACK = 2


def too_large(limit: int) -> HubError:
    return HubError(
        "HUB_TOO_LARGE",
        f"Nội dung yêu cầu vượt giới hạn {limit} byte",
        f"The request body exceeds the limit of {limit} bytes",
        status=413,
    )


def headers_too_large() -> HubError:
    return HubError(
        "HUB_HEADERS_TOO_LARGE",
        f"Tiêu đề yêu cầu vượt giới hạn {MAX_HEADER_BYTES} byte",
        f"The request headers exceed the limit of {MAX_HEADER_BYTES} bytes",
        status=431,
    )


def body_limit(path: str, max_package_bytes: int) -> int:
    """The limit of a body sent to ``path`` (the package limit, or the small one)."""
    return max_package_bytes if path in PACKAGE_PATHS else SMALL_BODY_BYTES


class BodyLimit:
    """The ASGI layer: ``render`` turns the refusal into the answer of the API concerned."""

    def __init__(
        self,
        app: ASGIApp,
        *,
        max_package_bytes: Callable[[], int],
        render: Callable[[str, HubError], Response],
    ) -> None:
        self.app = app
        self.max_package_bytes = max_package_bytes
        self.render = render

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        if scope["type"] != "http":
            await self.app(scope, receive, send)
            return
        path = scope.get("path", "")
        limit = body_limit(path, self.max_package_bytes())
        allowed = limit + _SLACK if path in PACKAGE_PATHS else limit
        headers = scope.get("headers", ())
        if sum(len(k) + len(v) for k, v in headers) > MAX_HEADER_BYTES:
            response = self.render(path, headers_too_large())
            response.headers["Connection"] = "close"
            await response(scope, receive, send)
            return
        declared = next((v for k, v in headers if k == b"content-length"), None)
        if declared is not None and (not declared.isdigit() or int(declared) > allowed):
            response = self.render(path, too_large(limit))
            response.headers["Connection"] = "close"
            await response(scope, receive, send)
            return
        seen = 0

        async def bounded() -> Message:
            nonlocal seen
            message = await receive()
            if message["type"] == "http.request":
                seen += len(message.get("body", b""))
                if seen > allowed:
                    raise too_large(limit)
            return message

        await self.app(scope, bounded, send)
