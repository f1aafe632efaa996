"""A network of hubs on one machine: a national hub, provincial and ministry hubs, each with
its own data directory (SQLite + local files), wired to each other as peers with their own
credentials. The multi-hub demo, the federation benchmark and the reliability tests all
build their network here, so there is one way of doing it.

The wiring is what an operator does by hand with ``lienthong peer add`` and
``lienthong system add --peer`` (docs/operations.md §5): for every child hub C of the
national hub N,

* on N: a peer system ``hub.<C>`` (C sends up as any agency N's own systems do not serve)
  and a peer ``<C>`` serving C's level-1 codes, posting with the key of ``hub.vn`` on C;
* on C: a peer system ``hub.vn`` and the default peer ``vn`` (``*``), posting with the key
  of ``hub.<C>`` on N;
* N's directory also lists C's agencies (what ``agency register-up`` sends).

Each hub's settings are written to ``<base>/<hub id>/hub.toml`` so that a hub can also run
as its own process: ``LIENTHONG_CONFIG=<base>/<id>/hub.toml lienthong hub serve``.
"""

from __future__ import annotations

import json
import os
import socket
import subprocess
import sys
import threading
import time
from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import httpx

from lienthong.hub import directory, federation
from lienthong.hub.http.app import create_app
from lienthong.hub.runtime import Hub
from lienthong.hub.settings import Settings

NATIONAL = "vn"


@dataclass
class HubPlan:
    hub_id: str
    role: str  # national | provincial | ministry
    name: str
    #: level-1 codes this hub owns (``H41``); the national hub owns what no child owns
    level1: list[str]
    #: (code, name) of the agencies registered here
    agencies: list[tuple[str, str]]
    #: (system id, agencies it serves) of the agency systems connected here
    systems: list[tuple[str, list[str]]]
    port: int = 0
    #: system id → callback URL, for systems that want packages pushed to them
    callbacks: dict[str, str] = field(default_factory=dict)

    @property
    def url(self) -> str:
        return f"http://127.0.0.1:{self.port}"


@dataclass
class Network:
    base_dir: Path
    plans: dict[str, HubPlan]
    settings: dict[str, Settings]
    #: system id → {"hub", "api_key", "secret", "agencies"}
    credentials: dict[str, dict[str, Any]] = field(default_factory=dict)

    def url(self, hub_id: str) -> str:
        return self.plans[hub_id].url

    def config_file(self, hub_id: str) -> Path:
        return self.base_dir / hub_id / "hub.toml"

    def key(self, system_id: str) -> str:
        return str(self.credentials[system_id]["api_key"])

    def hub_of(self, system_id: str) -> str:
        return str(self.credentials[system_id]["hub"])


def free_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return int(sock.getsockname()[1])


def standard_plans() -> list[HubPlan]:
    """The demo's country: the national hub with the Government Office and the Ministry of
    Home Affairs connected directly, the Ministry of Finance's own hub, and two provincial
    hubs (Nghệ An, Hà Tĩnh) with their departments, districts and communes. All names are
    marked as samples."""
    national = HubPlan(
        hub_id=NATIONAL,
        role="national",
        name="Trục liên thông quốc gia (mẫu)",
        level1=[],
        agencies=[
            ("000.00.00.G22", "Văn phòng Chính phủ (mẫu)"),
            ("000.00.00.G09", "Bộ Nội vụ (mẫu)"),
        ],
        systems=[("qlvb.g22", ["000.00.00.G22"]), ("qlvb.g09", ["000.00.00.G09"])],
    )
    ministry = HubPlan(
        hub_id="g12",
        role="ministry",
        name="Trục liên thông Bộ Tài chính (mẫu)",
        level1=["G12"],
        agencies=[
            ("000.00.00.G12", "Bộ Tài chính (mẫu)"),
            ("000.00.01.G12", "Văn phòng Bộ Tài chính (mẫu)"),
            ("000.00.02.G12", "Vụ Ngân sách nhà nước (mẫu)"),
        ],
        systems=[("qlvb.g12", ["000.00.00.G12", "000.00.01.G12", "000.00.02.G12"])],
    )
    h41 = HubPlan(
        hub_id="h41",
        role="provincial",
        name="Trục liên thông tỉnh Nghệ An (mẫu)",
        level1=["H41"],
        agencies=[
            ("000.00.00.H41", "UBND tỉnh Nghệ An (mẫu)"),
            ("000.00.01.H41", "Văn phòng UBND tỉnh Nghệ An (mẫu)"),
            ("000.00.31.H41", "UBND thành phố Vinh (mẫu)"),
            ("000.01.31.H41", "UBND phường Hưng Bình (mẫu)"),
            ("000.02.31.H41", "UBND phường Lê Lợi (mẫu)"),
        ],
        systems=[
            ("egov.h41", ["000.00.00.H41", "000.00.01.H41", "000.00.31.H41"]),
            ("qlvb.hungbinh", ["000.01.31.H41"]),
            ("qlvb.leloi", ["000.02.31.H41"]),
        ],
    )
    h42 = HubPlan(
        hub_id="h42",
        role="provincial",
        name="Trục liên thông tỉnh Hà Tĩnh (mẫu)",
        level1=["H42"],
        agencies=[
            ("000.00.00.H42", "UBND tỉnh Hà Tĩnh (mẫu)"),
            ("000.00.01.H42", "Văn phòng UBND tỉnh Hà Tĩnh (mẫu)"),
            ("000.00.31.H42", "UBND thành phố Hà Tĩnh (mẫu)"),
            ("000.01.31.H42", "UBND phường Bắc Hà (mẫu)"),
        ],
        systems=[
            ("egov.h42", ["000.00.00.H42", "000.00.01.H42", "000.00.31.H42"]),
            ("qlvb.bacha", ["000.01.31.H42"]),
        ],
    )
    return [national, ministry, h41, h42]


def provision(
    plans: list[HubPlan],
    base_dir: Path,
    *,
    overrides: dict[str, dict[str, Any]] | None = None,
    **settings: Any,
) -> Network:
    """Create (or re-provision) every hub's database and wire the peers. Free ports are
    chosen for plans without one. ``settings`` apply to every hub, ``overrides[hub id]``
    to one (e.g. its own ``database_url``: hubs never share a database). Credentials are
    new on every call and saved to ``<base>/network.json`` (mode 600)."""
    base_dir.mkdir(parents=True, exist_ok=True)
    by_id = {p.hub_id: p for p in plans}
    if NATIONAL not in by_id or by_id[NATIONAL].role != "national":
        raise ValueError("a network needs the national hub 'vn'")
    for plan in plans:
        plan.port = plan.port or free_port()
    network = Network(base_dir=base_dir, plans=by_id, settings={})
    for plan in plans:
        network.settings[plan.hub_id] = Settings(
            data_dir=base_dir / plan.hub_id,
            hub_id=plan.hub_id,
            role=plan.role,
            port=plan.port,
            **{**settings, **(overrides or {}).get(plan.hub_id, {})},
        )
    hubs = {p.hub_id: Hub(network.settings[p.hub_id]) for p in plans}
    try:
        national = by_id[NATIONAL]
        children = [p for p in plans if p.hub_id != NATIONAL]
        for plan in plans:
            with hubs[plan.hub_id].session() as s:
                for code, name in plan.agencies:
                    directory.add_agency(s, code=code, name=name)
                for system_id, agencies in plan.systems:
                    new = directory.add_system(
                        s,
                        system_id=system_id,
                        agencies=agencies,
                        callback_url=plan.callbacks.get(system_id),
                    )
                    network.credentials[system_id] = {
                        "hub": plan.hub_id,
                        "api_key": new.api_key,
                        "secret": new.secret,
                        "agencies": agencies,
                    }
        for child in children:
            root = child.agencies[0][0]
            with hubs[NATIONAL].session() as s:
                for code, name in child.agencies:  # what `agency register-up` sends
                    directory.add_agency(s, code=code, name=name)
                up = directory.add_system(s, system_id=f"hub.{child.hub_id}", agencies=[root])
                up.system.peer = True
            with hubs[child.hub_id].session() as s:
                # what `agency sync` brings down: a peer sends only as agencies the
                # receiving hub knows
                for other in plans:
                    if other.hub_id != child.hub_id:
                        for code, name in other.agencies:
                            directory.add_agency(s, code=code, name=name)
                down = directory.add_system(s, system_id=f"hub.{NATIONAL}", agencies=[root])
                down.system.peer = True
                federation.add_peer(
                    s, peer_id=NATIONAL, url=national.url, api_key=up.api_key, serves=["*"]
                )
            with hubs[NATIONAL].session() as s:
                federation.add_peer(
                    s,
                    peer_id=child.hub_id,
                    url=child.url,
                    api_key=down.api_key,
                    serves=child.level1,
                )
    finally:
        for hub in hubs.values():
            hub.close()
    for plan in plans:
        _write_config(network.config_file(plan.hub_id), network.settings[plan.hub_id])
    creds = base_dir / "network.json"
    creds.write_text(json.dumps(network.credentials, indent=2), encoding="utf-8")
    creds.chmod(0o600)
    return network


def _write_config(path: Path, settings: Settings) -> None:
    def value(v: Any) -> str:
        return str(v) if isinstance(v, int) and not isinstance(v, bool) else json.dumps(str(v))

    lines = [
        f"{name} = {value(getattr(settings, name))}"
        for name in (
            "data_dir",
            "database_url",
            "blob_url",
            "hub_id",
            "role",
            "port",
            "signature_policy",
            "max_package_bytes",
            "trust_dir",
            "ca_dir",
            "relay_lease_seconds",
            "instance_id",
            "delivery_lifetime_days",
            "outbox_retention_days",
            "max_relay_backlog",
        )
        if getattr(settings, name) not in ("", None)
    ]
    path.write_text("\n".join(lines) + "\n", encoding="utf-8")


# ------------------------------------------------------------------------------ running


def start_server(hub: Hub, port: int) -> Any:
    import uvicorn

    config = uvicorn.Config(create_app(hub), host="127.0.0.1", port=port, log_level="warning")
    server = uvicorn.Server(config)
    thread = threading.Thread(target=server.run, name="lienthong-hub", daemon=True)
    thread.start()
    deadline = time.monotonic() + 20
    while not server.started:
        if time.monotonic() > deadline or not thread.is_alive():
            raise RuntimeError("the hub did not start")
        time.sleep(0.05)
    return server


@dataclass
class Running:
    hub: Any
    server: Any


@contextmanager
def serve_in_process(
    network: Network, hub_ids: list[str] | None = None
) -> Iterator[dict[str, Running]]:
    """Run the hubs as threads of this process (one uvicorn server each)."""
    running: dict[str, Running] = {}
    try:
        for hub_id in hub_ids or list(network.plans):
            hub = Hub(network.settings[hub_id])
            running[hub_id] = Running(hub, start_server(hub, network.plans[hub_id].port))
        yield running
    finally:
        for r in running.values():
            r.server.should_exit = True
        time.sleep(0.2)
        for r in running.values():
            r.hub.close()


def spawn(
    network: Network, hub_id: str, *, log: Path | None = None, port: int | None = None
) -> subprocess.Popen[bytes]:
    """Run one hub as its own process (``lienthong hub serve``) and wait until it answers.
    ``port`` runs one more process of the same hub (same database) on another port."""
    env = {**os.environ, "LIENTHONG_CONFIG": str(network.config_file(hub_id))}
    for name in list(env):  # the file decides, not a stray variable of the caller
        if name.startswith("LIENTHONG_") and name != "LIENTHONG_CONFIG":
            del env[name]
    if port is not None:
        env["LIENTHONG_PORT"] = str(port)
    out = open(log, "ab") if log is not None else subprocess.DEVNULL  # noqa: SIM115
    try:
        proc = subprocess.Popen(
            [sys.executable, "-m", "lienthong", "hub", "serve"],
            env=env,
            stdout=out,
            stderr=out,
        )
    finally:
        if not isinstance(out, int):
            out.close()  # the child has its own copy
    try:
        wait_ready(f"http://127.0.0.1:{port}" if port else network.url(hub_id), proc=proc)
    except BaseException:
        proc.kill()
        raise
    return proc


def wait_ready(
    url: str, *, timeout: float = 30, proc: subprocess.Popen[bytes] | None = None
) -> None:
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        if proc is not None and proc.poll() is not None:
            raise RuntimeError(f"the hub at {url} exited with {proc.returncode}")
        try:
            if httpx.get(f"{url}/readyz", timeout=1).status_code == 200:
                return
        except httpx.HTTPError:
            pass
        time.sleep(0.1)
    raise RuntimeError(f"the hub at {url} did not become ready in {timeout} s")
