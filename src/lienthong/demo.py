"""``make demo``: a hub on the embedded default (SQLite + a local folder) with a seeded
sample directory — one province (provincial People's Committee, departments, district-
and commune-level units) and a few ministries, clearly marked as sample data — and a small
traffic generator: agency systems send documents through the national platform's API
(HMAC-signed, exactly as the official SDK does), recipients fetch, acknowledge and answer
with statuses 01 and 03.

Options (environment): ``LIENTHONG_DEMO_DIR`` (default ``./lienthong-demo``),
``LIENTHONG_PORT`` (default 8080; a free port is used when it is taken),
``LIENTHONG_DEMO_ROUNDS`` (default: run until Ctrl-C), ``LIENTHONG_DEMO_INTERVAL`` seconds.
"""

from __future__ import annotations

import json
import os
import random
import socket
import threading
import time
from importlib import resources
from pathlib import Path
from typing import Any

from rich.console import Console

from lienthong.client.vdxp import VdxpClient, VdxpClientError
from lienthong.core.settings import Settings
from lienthong.edxml.builder import build, now_timestamp, today
from lienthong.edxml.codes import AdminDocType, StatusCode
from lienthong.edxml.model import (
    Attachment,
    DocumentCode,
    DocumentType,
    Edoc,
    Organization,
    OtherInfo,
    PromulgationInfo,
    ResponseFor,
    SignerInfo,
    StaffInfo,
    Status,
)
from lienthong.edxml.parser import parse

SUBJECTS = [
    "V/v triển khai kết nối, liên thông phần mềm quản lý văn bản",
    "V/v báo cáo tình hình thực hiện nhiệm vụ chuyển đổi số quý IV",
    "V/v tổ chức hội nghị tổng kết công tác văn thư, lưu trữ năm 2026",
    "V/v đề nghị cung cấp số liệu thống kê văn bản điện tử",
    "V/v hướng dẫn sử dụng chữ ký số trên văn bản điện tử",
    "V/v phối hợp kiểm tra công tác cải cách hành chính",
]
TYPES = [
    AdminDocType.OFFICIAL_LETTER,
    AdminDocType.DECISION,
    AdminDocType.PLAN,
    AdminDocType.REPORT,
    AdminDocType.INVITATION,
]


def sample_directory() -> dict[str, Any]:
    text = (
        resources.files("lienthong.hub")
        .joinpath("data/sample_directory.json")
        .read_text(encoding="utf-8")
    )
    data: dict[str, Any] = json.loads(text)
    return data


def seed(hub: Any) -> dict[str, dict[str, Any]]:
    """Load the sample directory and (re)register its systems; returns their credentials."""
    from lienthong.hub import directory

    data = sample_directory()
    creds: dict[str, dict[str, Any]] = {}
    with hub.session() as s:
        directory.import_agencies(s, rows=data["agencies"])
        for spec in data["systems"]:
            new = directory.add_system(
                s,
                system_id=spec["id"],
                agencies=spec["agencies"],
                name=spec["name"],
                legacy_sdk=spec.get("legacy_sdk", False),
            )
            creds[spec["id"]] = {
                "secret": new.secret,
                "api_key": new.api_key,
                "agencies": spec["agencies"],
            }
    return creds


def _free_port(preferred: int) -> int:
    with socket.socket() as sock:
        try:
            sock.bind(("127.0.0.1", preferred))
        except OSError:
            sock.bind(("127.0.0.1", 0))
        return int(sock.getsockname()[1])


def start_server(hub: Any, port: int) -> Any:
    import uvicorn

    from lienthong.hub.app import create_app

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


class Traffic:
    """Agency systems exchanging documents and statuses through the hub."""

    def __init__(
        self,
        endpoint: str,
        creds: dict[str, dict[str, Any]],
        names: dict[str, str],
        console: Console,
        seed_value: int = 2026,
    ) -> None:
        self.clients = {sid: VdxpClient(endpoint, sid, c["secret"]) for sid, c in creds.items()}
        self.creds = creds
        self.names = names
        self.console = console
        self.rng = random.Random(seed_value)
        self.number = 0
        self.sent = self.received = self.statuses = 0

    def close(self) -> None:
        for client in self.clients.values():
            client.close()

    def _document(self, sender: str, recipients: list[str]) -> bytes:
        self.number += 1
        kind = self.rng.choice(TYPES)
        notation = f"{kind.abbreviation}-UBND" if kind.abbreviation else "UBND-VP"
        pdf = b"%PDF-1.4\n% lienthong demo\n" + os.urandom(2048) + b"\n%%EOF\n"
        edoc = Edoc(
            sender=Organization(organ_id=sender, organ_name=self.names[sender]),
            recipients=[Organization(organ_id=r, organ_name=self.names[r]) for r in recipients],
            code=DocumentCode(f"{self.number:02d}", notation),
            promulgation=PromulgationInfo("Nghệ An", today()),
            document_type=DocumentType("1", "0", kind.value),
            subject=self.rng.choice(SUBJECTS),
            signer=SignerInfo("KT. CHỦ TỊCH", "Phó Chủ tịch", "Nguyễn Văn An"),
            other_info=OtherInfo(priority=str(self.rng.choice([0, 0, 0, 1, 2]))),
            attachments=[
                Attachment(
                    name=f"{self.number:02d}-{notation}.pdf",
                    content_type="application/pdf",
                    content=_blob(pdf),
                )
            ],
        )
        return build(edoc)

    def round(self) -> None:
        systems = list(self.clients)
        sender_sys = self.rng.choice(systems)
        sender = self.rng.choice(self.creds[sender_sys]["agencies"])
        others = [a for s, c in self.creds.items() if s != sender_sys for a in c["agencies"]]
        local = [a for a in self.creds[sender_sys]["agencies"] if a != sender]
        pool = others + local
        recipients = self.rng.sample(pool, k=min(len(pool), self.rng.randint(1, 3)))
        package = self._document(sender, recipients)
        result = self.clients[sender_sys].send_edoc(package, from_code=sender)
        self.sent += 1
        self.console.print(
            f"[cyan]→[/] {sender} gửi / sends {result['DocId'][:8]}… tới / to "
            f"{', '.join(recipients)}"
        )
        time.sleep(0.2)  # let the dispatcher run
        for sid, client in self.clients.items():
            for item in client.get_received_list("edoc").get("data", []):
                self._receive(sid, client, item)
            for item in client.get_received_list("status").get("data", []):
                client.get_edoc(item["docId"])
                client.update_status(item["docId"], "done")

    def _receive(self, sid: str, client: VdxpClient, item: dict[str, Any]) -> None:
        data = client.get_edoc(item["docId"])
        package = parse(data)
        client.update_status(item["docId"], "done")
        self.received += 1
        assert isinstance(package, Edoc)
        for to in item["to"].split(","):
            for code in (StatusCode.ARRIVED, StatusCode.ACCEPTED):
                status = Status(
                    sender=Organization(organ_id=to, organ_name=self.names.get(to, to)),
                    response_for=ResponseFor(
                        organ_id=package.sender.organ_id,
                        code=package.code.text,
                        document_id=package.document_id,
                        promulgation_date=package.promulgation.date
                        if package.promulgation
                        else None,
                    ),
                    staff=StaffInfo(department="Văn thư", staff="Trần Thị Bình"),
                    status_code=code.value,
                    description=code.vi,
                    timestamp=now_timestamp(),
                )
                client.send_edoc(build(status), from_code=to, message_type="status")
                self.statuses += 1
        package.close()
        self.console.print(
            f"  [green]✓[/] {item['to']} nhận, báo 01 + 03 / received, answered 01 + 03"
        )


def _blob(data: bytes) -> Any:
    from lienthong.edxml.attachments import Blob

    return Blob.from_bytes(data)


def main() -> None:
    from lienthong.hub.app import Hub

    console = Console()
    data_dir = Path(os.environ.get("LIENTHONG_DEMO_DIR", "lienthong-demo"))
    port = _free_port(int(os.environ.get("LIENTHONG_PORT", "8080")))
    rounds = int(os.environ.get("LIENTHONG_DEMO_ROUNDS", "0"))
    interval = float(os.environ.get("LIENTHONG_DEMO_INTERVAL", "2"))
    hub = Hub(Settings(data_dir=data_dir, port=port, hub_id="lienthong-demo"))
    creds = seed(hub)
    names = {a["code"]: a["name"] for a in sample_directory()["agencies"]}
    (data_dir / "demo-credentials.json").write_text(
        json.dumps(creds, ensure_ascii=False, indent=2), encoding="utf-8"
    )
    server = start_server(hub, port)
    url = f"http://127.0.0.1:{port}"
    console.rule("[bold]lienthong — trục liên thông văn bản (demo)")
    console.print(
        f"Trục đang chạy / hub running: [bold]{url}[/] — dữ liệu / data: "
        f"{data_dir.resolve()} (SQLite + thư mục / local folder)"
    )
    console.print(
        "Danh bạ MẪU / SAMPLE directory: tỉnh Nghệ An (H41) + 3 bộ, ngành (G22, G09, G12)"
    )
    console.print(f"  API tài liệu / API docs:      {url}/docs")
    console.print(f"  Chỉ số / metrics:             {url}/metrics")
    console.print(f"  Khóa demo / demo credentials: {data_dir / 'demo-credentials.json'}")
    key = creds["egov.h41.demo"]["api_key"]
    console.print(
        f"  Thử / try: .venv/bin/lienthong inbox --hub {url} --api-key {key}", markup=False
    )
    console.print(
        f"             .venv/bin/lienthong audit verify --data-dir {data_dir}", markup=False
    )
    console.print("Nhấn Ctrl-C để dừng / press Ctrl-C to stop\n")
    traffic = Traffic(url, creds, names, console)
    done = 0
    try:
        while rounds == 0 or done < rounds:
            try:
                traffic.round()
            except VdxpClientError as exc:
                console.print(f"[red]lỗi / error[/] {exc}")
            done += 1
            time.sleep(interval)
    except KeyboardInterrupt:
        pass
    finally:
        traffic.close()
        server.should_exit = True
        time.sleep(0.3)
        hub.close()
        console.print(
            f"\nĐã gửi / sent {traffic.sent}, đã nhận / received {traffic.received}, "
            f"trạng thái / statuses {traffic.statuses}"
        )


if __name__ == "__main__":
    main()
