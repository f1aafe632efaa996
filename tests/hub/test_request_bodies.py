"""Request bodies are bounded before they are read, and read only once the caller is
authenticated (security review, issue 10 §3.2): an anonymous ``POST …/ack`` or
``…/status`` gets its 401 without the hub pulling a byte of its body; every body is held to
its path's limit whether or not it declares a length.

The app is driven at the ASGI level so the test sees exactly how much of the body the hub
asked for. On SQLite and PostgreSQL.
"""

from __future__ import annotations

import asyncio
import json
import uuid
from typing import Any

import pytest

from lienthong.hub import directory
from lienthong.hub.http.app import create_app
from lienthong.hub.http.limits import SMALL_BODY_BYTES
from lienthong.hub.runtime import Hub

CHUNK = 64 * 1024
MESSAGE = str(uuid.uuid4())


class Upload:
    """An ASGI request whose body is produced on demand, counting what the app pulled."""

    def __init__(self, total: int, *, declare_length: bool) -> None:
        self.total = total
        self.declare_length = declare_length
        self.pulled = 0

    async def receive(self) -> dict[str, Any]:
        if self.pulled >= self.total:
            await asyncio.sleep(3600)  # the client waits: only a disconnect would come
        n = min(CHUNK, self.total - self.pulled)
        self.pulled += n
        return {"type": "http.request", "body": b"{" + b" " * (n - 1), "more_body": True}


def call(
    hub: Hub, path: str, upload: Upload, headers: dict[str, str] | None = None
) -> tuple[int, dict[str, Any]]:
    app = create_app(hub, start_worker=False)
    raw = [(k.lower().encode(), v.encode()) for k, v in (headers or {}).items()]
    raw.append((b"content-type", b"application/json"))
    if upload.declare_length:
        raw.append((b"content-length", str(upload.total).encode()))
    scope = {
        "type": "http",
        "asgi": {"version": "3.0"},
        "http_version": "1.1",
        "method": "POST",
        "scheme": "http",
        "path": path,
        "raw_path": path.encode(),
        "query_string": b"",
        "root_path": "",
        "headers": raw,
        "client": ("127.0.0.1", 1234),
        "server": ("testserver", 80),
    }
    sent: list[dict[str, Any]] = []

    async def send(message: dict[str, Any]) -> None:
        sent.append(message)

    async def run() -> None:
        await asyncio.wait_for(app(scope, upload.receive, send), timeout=60)

    asyncio.run(run())
    start = next(m for m in sent if m["type"] == "http.response.start")
    body = b"".join(m.get("body", b"") for m in sent if m["type"] == "http.response.body")
    return start["status"], json.loads(body)


@pytest.fixture
def api_key(hub: Hub) -> str:
    with hub.session() as s:
        directory.add_agency(s, code="000.00.00.H41", name="UBND tỉnh Nghệ An")
        return directory.add_system(s, system_id="sys.h41", agencies=["000.00.00.H41"]).api_key


@pytest.mark.parametrize("what", ["ack", "status"])
@pytest.mark.parametrize(
    ("declare_length", "size", "code"),
    [
        (False, 300 * 1024 * 1024, "AUTH_API_KEY_REQUIRED"),  # chunked: authentication first
        (True, 1024, "AUTH_API_KEY_REQUIRED"),
        (True, 300 * 1024 * 1024, "HUB_TOO_LARGE"),  # refused on its declared length
    ],
)
def test_an_anonymous_body_is_never_read(
    hub: Hub, api_key: str, what: str, declare_length: bool, size: int, code: str
) -> None:
    upload = Upload(size, declare_length=declare_length)
    status, answer = call(hub, f"/api/v1/messages/{MESSAGE}/{what}", upload)
    assert (status, answer["error"]["code"]) == (401 if code.startswith("AUTH") else 413, code)
    assert upload.pulled == 0


@pytest.mark.parametrize("what", ["ack", "status"])
def test_an_authenticated_json_body_over_the_limit_is_refused_while_streaming(
    hub: Hub, api_key: str, what: str
) -> None:
    upload = Upload(300 * 1024 * 1024, declare_length=False)
    status, answer = call(
        hub,
        f"/api/v1/messages/{MESSAGE}/{what}",
        upload,
        {"Authorization": f"Bearer {api_key}"},
    )
    assert (status, answer["error"]["code"]) == (413, "HUB_TOO_LARGE")
    assert upload.pulled <= SMALL_BODY_BYTES + CHUNK


@pytest.mark.parametrize(
    "path",
    [f"/api/v1/messages/{MESSAGE}/ack", "/api/v1/packages", "/getReceivedEdocList", "/anything"],
)
def test_a_declared_length_over_the_paths_limit_is_refused_before_reading(
    hub: Hub, api_key: str, path: str
) -> None:
    too_big = hub.settings.max_package_bytes + 3 if "packages" in path else SMALL_BODY_BYTES + 1
    upload = Upload(too_big, declare_length=True)
    status, answer = call(hub, path, upload, {"Authorization": f"Bearer {api_key}"})
    assert status == 413
    code = answer["error"]["code"] if "error" in answer else answer["code"]
    assert code == "HUB_TOO_LARGE"
    assert upload.pulled == 0


@pytest.mark.parametrize("path", ["/getReceivedEdocList", f"/api/v1/messages/{MESSAGE}/ack"])
def test_huge_headers_are_refused_before_any_route_sees_them(
    hub: Hub, api_key: str, path: str
) -> None:
    """An 8 MiB ``XroadVnpt-sign-header`` (issue 10 §3.7) never reaches the parser."""
    upload = Upload(2, declare_length=True)
    status, answer = call(hub, path, upload, {"XroadVnpt-sign-header": "x" * (8 << 20)})
    code = answer["error"]["code"] if "error" in answer else answer["code"]
    assert (status, code) == (431, "HUB_HEADERS_TOO_LARGE")
    assert upload.pulled == 0


def test_a_body_that_fits_is_read_after_authentication(hub: Hub, api_key: str) -> None:
    """The same route still works: an unknown message is 404 once the body is parsed."""
    upload = Upload(2, declare_length=True)  # "{ " then waits: completed below
    upload.receive = _once(b'{"ok": true}')  # type: ignore[method-assign]
    status, answer = call(
        hub, f"/api/v1/messages/{MESSAGE}/ack", upload, {"Authorization": f"Bearer {api_key}"}
    )
    assert (status, answer["error"]["code"]) == (404, "NOT_FOUND")


def _once(data: bytes) -> Any:
    done = False

    async def receive() -> dict[str, Any]:
        nonlocal done
        if done:
            await asyncio.sleep(3600)
        done = True
        return {"type": "http.request", "body": data, "more_body": False}

    return receive
