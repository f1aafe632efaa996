"""The admin API, ``/metrics`` and the API docs can listen on an address of their own
(``LIENTHONG_ADMIN_LISTEN``, issue 10 §3.7): the public listener then answers 404 for them.
Unset, one listener serves everything, as before. On SQLite and PostgreSQL."""

from __future__ import annotations

import socket
import threading
from pathlib import Path

import httpx
import pytest
from fastapi.testclient import TestClient

from lienthong.devnet.network import wait_ready
from lienthong.hub import directory, operators
from lienthong.hub.http.app import create_app, listeners, run
from lienthong.hub.runtime import Hub
from lienthong.hub.settings import Settings

ADMIN_PATHS = ("/metrics", "/docs", "/openapi.json", "/api/admin/v1/outbox")


def _with_admin_listen(hub: Hub, value: str = "127.0.0.1:9") -> Hub:
    hub.settings = hub.settings.with_(admin_listen=value)
    return hub


def test_by_default_one_listener_serves_everything(hub: Hub) -> None:
    with TestClient(create_app(hub, start_worker=False)) as http:
        for path in ADMIN_PATHS:
            assert http.get(path).status_code in {200, 401}, path
        assert http.get("/healthz").status_code == 200


def test_with_an_admin_listener_the_public_one_hides_the_operators_side(hub: Hub) -> None:
    _with_admin_listen(hub)
    with hub.session() as s:
        directory.add_agency(s, code="000.00.00.H41", name="UBND tỉnh Nghệ An")
        key = directory.add_system(s, system_id="sys.h41", agencies=["000.00.00.H41"]).api_key
        op_key = operators.add_operator(s, name="ops.lan").api_key
    with TestClient(create_app(hub, start_worker=False)) as public:
        for path in ADMIN_PATHS:
            r = public.get(path, headers={"Authorization": f"Bearer {op_key}"})
            assert r.status_code == 404, path
        assert public.get("/api/v1/inbox", headers={"Authorization": f"Bearer {key}"}).is_success
        assert public.post("/getReceivedEdocList").status_code == 401  # the platform's API
    with TestClient(create_app(hub, start_worker=False, surface="admin")) as admin:
        assert admin.get("/metrics").status_code == 200
        assert admin.get("/openapi.json").status_code == 200
        outbox = admin.get("/api/admin/v1/outbox", headers={"Authorization": f"Bearer {op_key}"})
        assert outbox.status_code == 200
        assert admin.post("/getReceivedEdocList").status_code == 404


def test_a_bad_admin_listen_setting_is_refused() -> None:
    with pytest.raises(ValueError, match="host:port"):
        Settings.load(environ={"LIENTHONG_ADMIN_LISTEN": "9090"})
    assert Settings.load(environ={"LIENTHONG_ADMIN_LISTEN": "127.0.0.1:9090"}).admin_listen


def _port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        port: int = s.getsockname()[1]
        return port


def test_serve_opens_both_listeners(tmp_path: Path) -> None:
    public_port, admin_port = _port(), _port()
    hub = Hub(
        Settings(
            data_dir=tmp_path / "data",
            port=public_port,
            admin_listen=f"127.0.0.1:{admin_port}",
        )
    )
    servers = listeners(hub)
    thread = threading.Thread(target=run, args=(servers,), daemon=True)
    try:
        thread.start()
        for port in (admin_port, public_port):
            wait_ready(f"http://127.0.0.1:{port}")
        assert httpx.get(f"http://127.0.0.1:{admin_port}/metrics").status_code == 200
        assert httpx.get(f"http://127.0.0.1:{public_port}/metrics").status_code == 404
        assert httpx.get(f"http://127.0.0.1:{public_port}/healthz").status_code == 200
    finally:
        servers[0].should_exit = True  # one stops: both stop
        thread.join(30)
        hub.close()
    assert not thread.is_alive()
