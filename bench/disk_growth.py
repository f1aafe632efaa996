"""How much disk a SQLite hub uses per document: the database (metadata, deliveries, audit
records, the status that comes back) and the payload store — the sizing figures of
docs/operations.md §8.

Usage::

    python bench/disk_growth.py            # 500 documents with a 200 kB attachment each
    python bench/disk_growth.py --n 100 --attachment-kb 50

An in-process hub (no worker) on a temporary folder; each document is sent over the REST
API, dispatched, fetched, acknowledged and answered with status 03, as in real use. The
database is checkpointed (WAL folded in) before it is measured.
"""

from __future__ import annotations

import argparse
import os
import sqlite3
import tempfile
from pathlib import Path

from fastapi.testclient import TestClient

from lienthong.client.rest import HubClient
from lienthong.edxml.attachments import Blob
from lienthong.edxml.builder import build
from lienthong.edxml.model import (
    Attachment,
    DocumentCode,
    Edoc,
    Organization,
    PromulgationInfo,
)
from lienthong.hub import directory
from lienthong.hub.http.app import create_app
from lienthong.hub.runtime import Hub
from lienthong.hub.settings import Settings

SENDER, RECIPIENT = "000.00.12.H41", "000.00.00.G22"


def _size(path: Path) -> int:
    return sum(f.stat().st_size for f in path.rglob("*") if f.is_file())


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__)
    parser.add_argument("--n", type=int, default=500)
    parser.add_argument("--attachment-kb", type=int, default=200)
    args = parser.parse_args()
    folder = Path(tempfile.mkdtemp(prefix="lienthong-growth-"))
    hub = Hub(Settings(data_dir=folder))
    with hub.session() as s:
        directory.add_agency(s, code=SENDER, name="Sở Thông tin và Truyền thông tỉnh Nghệ An")
        directory.add_agency(s, code=RECIPIENT, name="Văn phòng Chính phủ")
        send_key = directory.add_system(s, system_id="sys.a", agencies=[SENDER]).api_key
        receive_key = directory.add_system(s, system_id="sys.b", agencies=[RECIPIENT]).api_key
    package_bytes = 0
    with TestClient(create_app(hub, start_worker=False)) as http:
        sender = HubClient("http://testserver", send_key, http=http)
        receiver = HubClient("http://testserver", receive_key, http=http)
        for n in range(args.n):
            package = build(
                Edoc(
                    sender=Organization(organ_id=SENDER, organ_name="Sở TT&TT Nghệ An"),
                    recipients=[Organization(organ_id=RECIPIENT, organ_name="VPCP")],
                    code=DocumentCode(str(n + 1), "STTTT-VP"),
                    promulgation=PromulgationInfo("Nghệ An", "2026/12/04"),
                    subject=f"V/v thử dung lượng lưu trữ số {n + 1}",
                    attachments=[
                        Attachment(
                            name=f"Công văn {n + 1}.pdf",
                            content_type="application/pdf",
                            content=Blob.from_bytes(os.urandom(args.attachment_kb * 1000)),
                        )
                    ],
                )
            )
            package_bytes += len(package)
            sender.send(package)
        hub.dispatch_now()
        for item in receiver.inbox_all():
            receiver.fetch(item["message_id"])
            receiver.ack(item["message_id"])
            receiver.status(item["message_id"], status_code="03")
    hub.close()
    connection = sqlite3.connect(folder / "hub.db")
    connection.execute("PRAGMA wal_checkpoint(TRUNCATE)")
    connection.close()
    database = (folder / "hub.db").stat().st_size
    blobs = _size(folder / "blobs")
    n = args.n
    print(
        f"{n} documents (package {package_bytes / n / 1000:.0f} kB each) + status 03 each: "
        f"hub.db {database / 1e6:.1f} MB = {database / n / 1000:.1f} kB per document; "
        f"blobs {blobs / 1e6:.1f} MB = {blobs / n / 1000:.0f} kB per document"
    )


if __name__ == "__main__":
    main()
