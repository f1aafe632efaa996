"""Helpers of the office tests (fixtures are in conftest.py): a real hub over HTTP with
another agency's system that sends to the office, a sample province of tenants and people,
package and scan factories, and signing in through the web form.

The hub is the only thing imported from ``lienthong.hub`` and it is imported *here only*
(the office itself never imports it): if the hub's modules move, fix :func:`_hub_classes`.
"""

from __future__ import annotations

import socket
import threading
import time
from collections.abc import Callable
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import uvicorn

from lienthong.client.rest import HubClient
from lienthong.edxml.builder import build
from lienthong.edxml.model import (
    Attachment,
    DocumentCode,
    DocumentType,
    Edoc,
    Organization,
    OtherInfo,
    PromulgationInfo,
    SignerInfo,
)
from lienthong.office import accounts, tenants
from lienthong.office.accounts import Principal
from lienthong.office.runtime import Office
from lienthong.office.settings import OfficeSettings

PASSWORD = "Mat-khau-2026"
PROVINCE = "000.00.00.H41"  # UBND tỉnh Nghệ An (mẫu): the office's root tenant
DEPARTMENT = "000.00.01.H41"  # Văn phòng UBND tỉnh (mẫu): another tenant
SENDER = "000.00.00.G22"  # Văn phòng Chính phủ (mẫu): another agency's system, elsewhere


def _hub_classes() -> tuple[Any, Any, Any, Any]:
    """The hub's runtime, app factory, directory and settings (may move: one place)."""
    from lienthong.hub import directory
    from lienthong.hub.http.app import create_app
    from lienthong.hub.runtime import Hub
    from lienthong.hub.settings import Settings

    return Hub, create_app, directory, Settings


def free_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return int(sock.getsockname()[1])


class ServerThread:
    """An ASGI app served by uvicorn on 127.0.0.1 in a thread (started, then stopped)."""

    def __init__(self, app: Any, port: int | None = None) -> None:
        self.port = port or free_port()
        config = uvicorn.Config(app, host="127.0.0.1", port=self.port, log_level="warning")
        self.server = uvicorn.Server(config)
        self.thread = threading.Thread(target=self.server.run, daemon=True)

    @property
    def url(self) -> str:
        return f"http://127.0.0.1:{self.port}"

    def start(self) -> ServerThread:
        self.thread.start()
        deadline = time.monotonic() + 30
        while not self.server.started:
            if time.monotonic() > deadline or not self.thread.is_alive():
                raise RuntimeError("server did not start")
            time.sleep(0.02)
        return self

    def stop(self) -> None:
        self.server.should_exit = True
        self.thread.join(timeout=15)


# ----------------------------------------------------------------------------- the office


def make_office(url: str, base: Path, **settings: Any) -> Office:
    return Office(
        OfficeSettings(
            data_dir=base / "office",
            database_url=url,
            blob_url=str(base / "office-blobs"),
            **settings,
        )
    )


@dataclass
class Province:
    """Tenants and people of the sample province (usernames → user ids)."""

    users: dict[str, int] = field(default_factory=dict)
    register_id: int = 0
    other_register_id: int = 0

    def login(self, office: Office, username: str) -> Principal:
        def run(s: Any) -> Principal:
            outcome = accounts.login(
                s,
                username=username,
                password=PASSWORD,
                session_minutes=60,
                max_failed=5,
                lockout_minutes=15,
            )
            assert outcome.token, outcome.error
            who = accounts.principal(s, token=outcome.token, session_minutes=60)
            assert who is not None
            return who

        return office.run(run)


PEOPLE = [
    # username, agency, role, name, unit, title
    ("vanthu", PROVINCE, "clerk", "Nguyễn Thị Ngọc Trâm", "Văn phòng", "Văn thư"),
    ("lanhdao", PROVINCE, "leader", "Lê Văn Hùng", "Ban Giám đốc", "Phó Chủ tịch"),
    ("chuyenvien", PROVINCE, "officer", "Trần Thị Đông", "Phòng Tổng hợp", "Chuyên viên"),
    ("chuyenvien2", PROVINCE, "officer", "Phạm Văn Đức", "Phòng Kinh tế", "Chuyên viên"),
    ("quantri", PROVINCE, "admin", "Hoàng Minh Quân", "Văn phòng", "Quản trị hệ thống"),
    ("vanthu.vp", DEPARTMENT, "clerk", "Đặng Thu Hà", "Phòng Hành chính", "Văn thư"),
    ("lanhdao.vp", DEPARTMENT, "leader", "Võ Văn Sơn", "Ban Lãnh đạo", "Chánh Văn phòng"),
    ("quantri.vp", DEPARTMENT, "admin", "Bùi Thị Lan", "Phòng Hành chính", "Quản trị"),
]


def provision(office: Office) -> Province:
    province = Province()

    def run(s: Any) -> None:
        tenants.add_agency(s, code=PROVINCE, name="UBND tỉnh Nghệ An (mẫu)")
        tenants.add_agency(
            s, code=DEPARTMENT, name="Văn phòng UBND tỉnh Nghệ An (mẫu)", parent=PROVINCE
        )
        for username, agency, role, name, unit, title in PEOPLE:
            user = tenants.add_user(
                s,
                username=username,
                agency=agency,
                role=role,
                full_name=name,
                password=PASSWORD,
                unit=unit,
                title=title,
            )
            province.users[username] = user.id
        province.register_id = tenants.registers(s, agency=PROVINCE)[0].id
        province.other_register_id = tenants.registers(s, agency=DEPARTMENT)[0].id

    office.run(run)
    return province


# ----------------------------------------------------------------------------- the hub


@dataclass
class HubWorld:
    """A real hub over HTTP; ``sender`` is another agency's system (Văn phòng Chính phủ)."""

    url: str
    sender: HubClient
    office_key: str
    office_secret: str
    hub: Any

    def send(self, edoc: Edoc) -> str:
        result = self.sender.send(build(edoc))
        return str(result["message_id"])

    def statuses(self, *, expect: int, timeout: float = 30.0) -> list[dict[str, Any]]:
        """The status packages waiting for the sender (at least ``expect`` of them)."""
        deadline = time.monotonic() + timeout
        while True:
            items = self.sender.inbox_all(kind="status")
            if len(items) >= expect or time.monotonic() > deadline:
                return items
            time.sleep(0.1)


def start_hub(base: Path, *, callback_url: str | None = None) -> tuple[HubWorld, ServerThread]:
    Hub, create_app, directory, Settings = _hub_classes()
    hub = Hub(
        Settings(
            data_dir=base / "hub",
            database_url=f"sqlite:///{base / 'hub' / 'hub.db'}",
            blob_url=str(base / "hub-blobs"),
            hub_id="h41",
        )
    )
    with hub.session() as s:
        directory.add_agency(s, code=SENDER, name="Văn phòng Chính phủ (mẫu)")
        directory.add_agency(s, code=PROVINCE, name="UBND tỉnh Nghệ An (mẫu)")
        directory.add_agency(s, code=DEPARTMENT, name="Văn phòng UBND tỉnh Nghệ An (mẫu)")
        sender = directory.add_system(s, system_id="qlvb.g22", agencies=[SENDER])
        office_system = directory.add_system(
            s, system_id="office.h41", agencies=[PROVINCE, DEPARTMENT], callback_url=callback_url
        )
        sender_key, office_key, office_secret = (
            sender.api_key,
            office_system.api_key,
            office_system.secret,
        )
    server = ServerThread(create_app(hub)).start()
    world = HubWorld(
        url=server.url,
        sender=HubClient(server.url, sender_key, timeout=30.0),
        office_key=office_key,
        office_secret=office_secret,
        hub=hub,
    )
    return world, server


def edoc(
    subject: str = "V/v triển khai Quyết định về chuyển đổi số tỉnh Đồng Tháp",
    *,
    to: str = PROVINCE,
    number: str = "215",
    notation: str = "VPCP-KSTT",
    attachments: list[Attachment] | None = None,
) -> Edoc:
    """A document from the Government Office to one of the office's tenants."""
    return Edoc(
        sender=Organization(organ_id=SENDER, organ_name="Văn phòng Chính phủ (mẫu)"),
        recipients=[Organization(organ_id=to, organ_name="UBND tỉnh Nghệ An (mẫu)")],
        code=DocumentCode(number, notation),
        promulgation=PromulgationInfo("Hà Nội", "2026/11/27"),
        document_type=DocumentType(type="1", type_detail="0", type_name="Công văn"),
        subject=subject,
        signer=SignerInfo(
            competence="KT. BỘ TRƯỞNG", position="Phó Chủ nhiệm", full_name="Lê Thị Hoa"
        ),
        other_info=OtherInfo(priority="1", page_amount="2"),
        attachments=attachments or [],
    )


def wait_for(predicate: Callable[[], Any], timeout: float = 30.0) -> Any:
    """Poll ``predicate`` until it returns something truthy (or give up and return it)."""
    deadline = time.monotonic() + timeout
    while True:
        value = predicate()
        if value or time.monotonic() > deadline:
            return value
        time.sleep(0.05)


#: where the browser tests put the screenshots used by docs/user-guide-office.md
REPO_IMAGES = Path(__file__).resolve().parents[2] / "docs" / "images" / "office"

DEJAVU = "/usr/share/fonts/truetype/dejavu/DejaVuSans.ttf"


def scanned_page(lines: list[str]) -> bytes:
    """An image-only PDF (no text layer) of Vietnamese lines, as a scanner makes it."""
    import io

    from PIL import Image, ImageDraw, ImageFont

    img = Image.new("L", (2480, 300 + 150 * len(lines)), 255)
    draw = ImageDraw.Draw(img)
    font = ImageFont.truetype(DEJAVU, 60)
    for i, line in enumerate(lines):
        draw.text((150, 100 + 150 * i), line, font=font, fill=0)
    out = io.BytesIO()
    img.save(out, format="PDF", resolution=300)
    return out.getvalue()


def csrf_from(html: str) -> str:
    """The CSRF token of the first form of a page."""
    import re

    match = re.search(r'name="csrf_token" value="([^"]+)"', html)
    assert match, "no CSRF field in the page"
    return match.group(1)


def web_login(client: Any, username: str, password: str = PASSWORD) -> str:
    """Sign in through the form (a TestClient); returns the session's CSRF token."""
    client.cookies.clear()
    page = client.get("/login")
    r = client.post(
        "/login",
        data={"username": username, "password": password, "csrf_token": csrf_from(page.text)},
    )
    assert r.status_code == 303, r.text
    return csrf_from(client.get("/").text)
