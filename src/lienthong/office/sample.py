"""A sample province for the demo: tenants matching the demo network's Nghệ An hub (``h41``),
people of every role, wired to a hub. Every name is marked as a sample.

For the demo (``make demo``)::

    from lienthong.office.sample import start_sample_office

    running = start_sample_office(data_dir, hub_url=..., api_key=..., push_secret=...)
    print(running.url, running.logins)   # … later: running.stop()

The hub side must know the office as one system serving the sample agencies, with its
callback at ``<office url>/hub/push`` (``lienthong system add office.h41 --agency … --callback
…``); without a callback the office polls.
"""

from __future__ import annotations

import threading
import time
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from sqlalchemy.orm import Session

from lienthong.office import hubsync, tenants
from lienthong.office.models import Agency, User
from lienthong.office.runtime import Office
from lienthong.office.settings import OfficeSettings

#: the password of every sample login (a demo only)
SAMPLE_PASSWORD = "demo-2026"

SAMPLE_AGENCIES: list[tuple[str, str, str | None]] = [
    ("000.00.00.H41", "UBND tỉnh Nghệ An (mẫu)", None),
    ("000.00.01.H41", "Văn phòng UBND tỉnh Nghệ An (mẫu)", "000.00.00.H41"),
    ("000.00.31.H41", "UBND thành phố Vinh (mẫu)", "000.00.00.H41"),
]

#: username, agency, role, full name, unit, title
SAMPLE_PEOPLE: list[tuple[str, str, str, str, str, str]] = [
    ("quantri", "000.00.00.H41", "admin", "Hoàng Minh Quân", "Văn phòng", "Quản trị hệ thống"),
    ("vanthu", "000.00.00.H41", "clerk", "Nguyễn Thị Ngọc Trâm", "Văn phòng", "Văn thư"),
    ("lanhdao", "000.00.00.H41", "leader", "Lê Văn Hùng", "Lãnh đạo UBND", "Phó Chủ tịch"),
    ("chuyenvien", "000.00.00.H41", "officer", "Trần Thị Đông", "Phòng Tổng hợp", "Chuyên viên"),
    ("chuyenvien2", "000.00.00.H41", "officer", "Phạm Văn Đức", "Phòng Kinh tế", "Chuyên viên"),
    ("vanthu.vp", "000.00.01.H41", "clerk", "Đặng Thu Hà", "Phòng Hành chính", "Văn thư"),
    ("lanhdao.vp", "000.00.01.H41", "leader", "Võ Văn Sơn", "Lãnh đạo Văn phòng", "Chánh VP"),
    ("chuyenvien.vp", "000.00.01.H41", "officer", "Bùi Thị Lan", "Phòng Tổng hợp", "Chuyên viên"),
    ("vanthu.vinh", "000.00.31.H41", "clerk", "Ngô Văn Nam", "Văn phòng", "Văn thư"),
    ("lanhdao.vinh", "000.00.31.H41", "leader", "Hồ Thị Thu", "Lãnh đạo UBND", "Chủ tịch"),
    (
        "chuyenvien.vinh",
        "000.00.31.H41",
        "officer",
        "Đinh Công Minh",
        "Phòng Nội vụ",
        "Chuyên viên",
    ),
]


def provision(session: Session) -> list[dict[str, str]]:
    """Create the sample agencies and people (idempotent); returns the logins."""
    for code, name, parent in SAMPLE_AGENCIES:
        tenants.add_agency(session, code=code, name=name, parent=parent)
    logins = []
    for username, agency, role, name, unit, title in SAMPLE_PEOPLE:
        if session.query(User).filter_by(username=username).one_or_none() is None:
            tenants.add_user(
                session,
                username=username,
                agency=agency,
                role=role,
                full_name=name,
                password=SAMPLE_PASSWORD,
                unit=unit,
                title=title,
                by="sample",
            )
        logins.append(
            {"username": username, "password": SAMPLE_PASSWORD, "role": role, "agency": agency}
        )
    return logins


def agency_codes() -> list[str]:
    return [code for code, _name, _parent in SAMPLE_AGENCIES]


@dataclass
class RunningOffice:
    office: Office
    url: str
    logins: list[dict[str, str]] = field(default_factory=list)
    _server: Any = None
    _thread: threading.Thread | None = None

    def stop(self) -> None:
        if self._server is not None:
            self._server.should_exit = True
        if self._thread is not None:
            self._thread.join(timeout=15)
        self.office.close()


def start_sample_office(
    data_dir: Path,
    *,
    hub_url: str | None = None,
    api_key: str = "",
    push_secret: str = "",
    host: str = "127.0.0.1",
    port: int = 8090,
    database_url: str = "",
    poll_seconds: float = 5.0,
) -> RunningOffice:
    """Provision the sample province, connect it to the hub (when given) and serve the office
    in a background thread; returns its URL and the sample logins."""
    import uvicorn

    from lienthong.office.http.app import create_app

    office = Office(
        OfficeSettings(
            data_dir=data_dir,
            database_url=database_url,
            host=host,
            port=port,
            poll_seconds=poll_seconds,
        )
    )
    logins = office.run(provision)
    if hub_url:
        office.run(
            lambda s: hubsync.connect(s, hub_url=hub_url, api_key=api_key, push_secret=push_secret)
        )
    server = uvicorn.Server(
        uvicorn.Config(create_app(office), host=host, port=port, log_level="warning")
    )
    thread = threading.Thread(target=server.run, name="office-http", daemon=True)
    thread.start()
    deadline = time.monotonic() + 30
    while not server.started and thread.is_alive() and time.monotonic() < deadline:
        time.sleep(0.05)
    if not server.started:
        office.close()
        raise RuntimeError(f"the office did not start on {host}:{port}")
    return RunningOffice(office, f"http://{host}:{port}", logins, server, thread)


def sample_tenants(office: Office) -> list[str]:
    return office.read(lambda s: [a.code for a in s.query(Agency).order_by(Agency.code)])
