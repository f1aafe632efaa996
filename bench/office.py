"""Search latency and page throughput of the shared e-office, next to bare SQL.

Usage::

    python bench/office.py                 # 100,000 documents in a temporary SQLite office
    python bench/office.py --quick         # 2,000 documents (smoke run)
    python bench/office.py --database-url postgresql://postgres@127.0.0.1/test

What it measures, each beside a baseline taken in the same run on the same data:

1. **Search** (``incoming.search``: diacritic-folded words over subject, number/notation,
   issuer, signer and attachment text, tenant and role filters, newest 100) for several
   queries — median latency — against the bare SQL ``SELECT … WHERE agency_code = ? AND
   search_text LIKE ? … ORDER BY id DESC LIMIT 100`` on a raw DBAPI connection.
   Goal: well under a second at 100,000 documents.
2. **Pages per second** of the main screens (my work, the search list, one document, its
   handling slip) for a signed-in clerk through the ASGI app in-process (no network),
   against ``/healthz`` (the framework's floor) through the same client.

Timings use ``time.perf_counter``, a warm-up, and medians. No numbers are asserted here.
"""

from __future__ import annotations

import argparse
import random
import statistics
import sys
import tempfile
import time
from collections.abc import Callable
from datetime import UTC, datetime, timedelta
from pathlib import Path
from typing import Any

from sqlalchemy import insert, text

from lienthong.core.text import fold
from lienthong.office import incoming, tenants
from lienthong.office.models import Document
from lienthong.office.runtime import Office
from lienthong.office.settings import OfficeSettings

AGENCY = "000.00.00.H41"
OTHER = "000.00.01.H41"
PASSWORD = "Mat-khau-bench"
TYPES = ["Công văn", "Quyết định", "Kế hoạch", "Báo cáo", "Thông báo", "Giấy mời", "Tờ trình"]
ABBR = {"Công văn": "", "Quyết định": "QĐ", "Kế hoạch": "KH", "Báo cáo": "BC",
        "Thông báo": "TB", "Giấy mời": "GM", "Tờ trình": "TTr"}  # fmt: skip
TOPICS = [
    "chuyển đổi số", "phòng chống thiên tai", "cải cách hành chính", "xây dựng nông thôn mới",
    "an toàn giao thông", "phòng chống dịch bệnh", "quy hoạch sử dụng đất", "giải ngân vốn đầu tư",
    "tuyển sinh năm học mới", "bảo vệ môi trường", "đăng ký hộ tịch", "thi đua khen thưởng",
]  # fmt: skip
PLACES = [
    "xã Đông Hòa", "phường Hưng Bình", "huyện Quỳnh Lưu", "thành phố Vinh", "huyện Đô Lương",
    "xã Diễn Châu", "huyện Nghĩa Đàn", "thị xã Thái Hòa", "huyện Kỳ Sơn", "xã Đức Thọ",
]  # fmt: skip
ISSUERS = [
    "Văn phòng Chính phủ", "Bộ Nội vụ", "Bộ Tài chính", "Sở Tài chính", "Sở Nội vụ",
    "Sở Y tế", "Sở Giáo dục và Đào tạo", "UBND huyện Quỳnh Lưu", "Công an tỉnh", "Sở Xây dựng",
]  # fmt: skip
STATES = ["arrived", "registered", "directed", "in_progress", "done", "done", "done"]


def _rows(n: int, register_id: int, rng: random.Random) -> list[dict[str, Any]]:
    now = datetime.now(UTC)
    rows = []
    for i in range(n):
        kind = rng.choice(TYPES)
        subject = (
            f"{kind} về {rng.choice(TOPICS)} tại {rng.choice(PLACES)} năm {rng.randint(2020, 2026)}"
        )
        issuer = rng.choice(ISSUERS)
        number = str(rng.randint(1, 9999))
        notation = f"{ABBR[kind]}-UBND".lstrip("-")
        state = rng.choice(STATES)
        agency = AGENCY if i % 10 else OTHER
        doc = {
            "agency_code": agency,
            "source": "hub",
            "state": state,
            "hub_message_id": f"bench-{i}",
            "business_type": 0,
            "document_id": "",
            "sender_code": "000.00.00.G22",
            "issuer": issuer,
            "number": number,
            "notation": notation,
            "type_name": kind,
            "subject": subject,
            "signer": "Lê Văn Hùng",
            "priority": 0,
            "arrived_at": now - timedelta(minutes=n - i),
            "signature_verdict": "valid",
            "signature_report": "",
            "register_id": register_id if agency == AGENCY and state != "arrived" else None,
            "year": 2026 if state != "arrived" else None,
            "arrival_number": i + 1 if agency == AGENCY and state != "arrived" else None,
            "return_reason": "",
            "direction": "",
            "result": "",
            "change_request": "",
            "change_reason": "",
        }
        doc["search_text"] = fold(
            f"{subject} {number}/{notation} {notation} {issuer} Lê Văn Hùng {kind}"
        )
        rows.append(doc)
    return rows


def _median_ms(fn: Callable[[], Any], repeats: int) -> float:
    fn()  # warm-up
    samples = []
    for _ in range(repeats):
        t0 = time.perf_counter()
        fn()
        samples.append((time.perf_counter() - t0) * 1000)
    return statistics.median(samples)


def _pages_per_second(fn: Callable[[], Any], seconds: float) -> float:
    fn()
    count = 0
    t0 = time.perf_counter()
    while time.perf_counter() - t0 < seconds:
        fn()
        count += 1
    return count / (time.perf_counter() - t0)


def _insert(office: Office, rows: list[dict[str, Any]]) -> None:
    office.run(lambda s: s.execute(insert(Document), rows))


def _searcher(office: Office, who: Any, filters: incoming.Filters) -> Callable[[], Any]:
    def run() -> Any:
        return office.read(lambda s: incoming.search(s, who=who, filters=filters))

    return run


def _getter(client: Any, path: str) -> Callable[[], Any]:
    return lambda: client.get(path)


def main(argv: list[str] | None = None) -> int:
    ap = argparse.ArgumentParser(description=__doc__.split("\n\n")[0] if __doc__ else "")
    ap.add_argument("--docs", type=int, default=100_000)
    ap.add_argument("--quick", action="store_true", help="2,000 documents, short timings")
    ap.add_argument("--database-url", default="")
    args = ap.parse_args(argv)
    n = 2_000 if args.quick else args.docs
    repeats = 5 if args.quick else 20
    seconds = 0.5 if args.quick else 3.0

    with tempfile.TemporaryDirectory(prefix="office-bench-") as tmp:
        office = Office(OfficeSettings(data_dir=Path(tmp), database_url=args.database_url))
        try:
            return _run(office, n, repeats, seconds)
        finally:
            office.close()


def _run(office: Office, n: int, repeats: int, seconds: float) -> int:
    from fastapi.testclient import TestClient

    from lienthong.office import accounts
    from lienthong.office.http.app import create_app

    def setup(s: Any) -> int:
        tenants.add_agency(s, code=AGENCY, name="UBND tỉnh Nghệ An (mẫu)")
        tenants.add_agency(s, code=OTHER, name="Văn phòng UBND tỉnh (mẫu)", parent=AGENCY)
        tenants.add_user(
            s,
            username="vanthu",
            agency=AGENCY,
            role="clerk",
            full_name="Văn thư",
            password=PASSWORD,
        )
        return tenants.registers(s, agency=AGENCY)[0].id

    register_id = office.run(setup)
    rng = random.Random(20261204)
    t0 = time.perf_counter()
    batch = 5_000
    for start in range(0, n, batch):
        rows = _rows(min(batch, n - start), register_id, rng)
        for j, row in enumerate(rows):
            row["hub_message_id"] = f"bench-{start + j}"
            if row["arrival_number"] is not None:
                row["arrival_number"] = start + j + 1
        _insert(office, rows)
    load_s = time.perf_counter() - t0
    with office.engine.begin() as conn:
        if office.engine.dialect.name == "sqlite":
            conn.exec_driver_sql("ANALYZE")
        else:
            conn.exec_driver_sql("ANALYZE office_documents")
    print(f"# {n} documents loaded in {load_s:.1f} s ({office.engine.dialect.name})")

    token = office.run(
        lambda s: (
            accounts.login(
                s,
                username="vanthu",
                password=PASSWORD,
                session_minutes=60,
                max_failed=5,
                lockout_minutes=15,
            ).token
        )
    )
    who = office.run(lambda s: accounts.principal(s, token=token, session_minutes=60))
    assert who is not None

    print(f"{'measurement':58} {'value':>12}")
    for q in (
        "quyet dinh dong hoa",
        "chuyen doi so vinh",
        "thien tai 2024",
        "12/qd-ubnd",
        "khong co",
    ):
        search = _searcher(office, who, incoming.Filters(q=q))
        found = len(search())
        service_ms = _median_ms(search, repeats)
        words = fold(q).split()
        sql = (
            "SELECT id FROM office_documents WHERE agency_code = :a"
            + "".join(f" AND search_text LIKE :w{i}" for i in range(len(words)))
            + " ORDER BY id DESC LIMIT 100"
        )
        params = {"a": AGENCY, **{f"w{i}": f"%{w}%" for i, w in enumerate(words)}}

        def bare(sql: str = sql, params: dict[str, str] = params) -> None:
            with office.engine.connect() as conn:
                conn.execute(text(sql), params).all()

        bare_ms = _median_ms(bare, repeats)
        print(
            f"{'search ' + repr(q) + f' ({found} hits): incoming.search':58} {service_ms:9.1f} ms"
        )
        print(f"{'search ' + repr(q) + ': bare SQL LIKE':58} {bare_ms:9.1f} ms")

    doc_id = office.read(
        lambda s: s.scalar(
            text("SELECT max(id) FROM office_documents WHERE agency_code = :a"), {"a": AGENCY}
        )
    )
    app = create_app(office, start_worker=False)
    with TestClient(app) as client:
        client.cookies.set("lt_session", token or "")
        pages = {
            "my work (/)": "/",
            "search list (/documents?q=chuyen doi so)": "/documents?q=chuyen+doi+so",
            "one document (/documents/{id})": f"/documents/{doc_id}",
            "handling slip (/documents/{id}/slip)": f"/documents/{doc_id}/slip",
            "baseline: /healthz": "/healthz",
        }
        for label, path in pages.items():
            status = client.get(path).status_code
            assert status == 200, (path, status)
            rate = _pages_per_second(_getter(client, path), seconds)
            print(f"{'pages: ' + label:58} {rate:9.0f} /s")
    return 0


if __name__ == "__main__":
    sys.exit(main())
