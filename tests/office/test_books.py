"""Register books (Annex IV): the incoming register and the tracking book for a period, as a
printable page and as Excel; counts by state and on time."""

from __future__ import annotations

from collections.abc import Iterator
from datetime import timedelta
from io import BytesIO

import pytest
from fastapi.testclient import TestClient
from openpyxl import load_workbook

from lienthong.office import books, incoming
from lienthong.office.http.app import create_app
from lienthong.office.models import Document
from lienthong.office.runtime import Office
from lienthong.web.i18n import today_vn

from .officekit import Province
from .officekit import web_login as login


@pytest.fixture
def web(office: Office, province: Province) -> Iterator[TestClient]:
    with TestClient(create_app(office, start_worker=False), follow_redirects=False) as client:
        yield client


def _three(office: Office, province: Province) -> list[Document]:
    clerk = province.login(office, "vanthu")
    leader = province.login(office, "lanhdao")
    docs = []
    for i, subject in enumerate(["Về kế hoạch A", "Về báo cáo B", "Về giấy mời C"], start=1):
        docs.append(
            office.run(
                lambda s, i=i, subject=subject: incoming.enter_paper(
                    s,
                    who=clerk,
                    data=incoming.PaperInput(
                        register_id=province.register_id,
                        issuer="Sở Nội vụ (mẫu)",
                        number=str(10 + i),
                        notation="SNV-VP",
                        subject=subject,
                        type_name="Công văn",
                    ),
                    scan=None,
                    blobs=office.blobs,
                )
            )
        )
    office.run(
        lambda s: incoming.direct(
            s,
            who=leader,
            document_id=docs[0].id,
            data=incoming.Direction(
                direction="Xử lý", lead_user_id=province.users["chuyenvien"], working_days=3
            ),
        )
    )
    return docs


def test_the_incoming_book_lists_registered_documents_in_arrival_order(
    office: Office, province: Province
) -> None:
    _three(office, province)
    clerk = province.login(office, "vanthu")
    today = today_vn()
    book = office.read(
        lambda s: books.incoming_book(
            s, who=clerk, register_id=province.register_id, start=today, end=today
        )
    )
    assert len(book.columns) == 10
    assert [r[1] for r in book.rows] == ["1", "2", "3"]
    assert book.rows[0][3] == "11/SNV-VP"
    assert book.rows[0][5] == "Công văn: Về kế hoạch A"
    assert book.rows[0][6] == "Trần Thị Đông"
    assert book.rows[1][6] == ""  # not directed yet
    tracking = office.read(
        lambda s: books.tracking_book(
            s, who=clerk, register_id=province.register_id, start=today, end=today
        )
    )
    assert len(tracking.columns) == 7 and [r[0] for r in tracking.rows] == ["1"]
    # another period is empty
    yesterday = today - timedelta(days=1)
    empty = office.read(
        lambda s: books.incoming_book(
            s, who=clerk, register_id=province.register_id, start=yesterday, end=yesterday
        )
    )
    assert empty.rows == []


def test_the_book_downloads_as_excel_and_prints_as_a_page(
    web: TestClient, office: Office, province: Province
) -> None:
    _three(office, province)
    login(web, "vanthu")
    r = web.get(f"/registers/{province.register_id}/incoming", params={"format": "xlsx"})
    assert r.status_code == 200 and r.headers["content-type"].startswith("application/vnd.openxml")
    sheet = load_workbook(BytesIO(r.content)).active
    assert sheet["A5"].value == "Ngày đến" and sheet["J5"].value == "Ghi chú"
    assert sheet["A6"].value == "(1)"
    assert [sheet.cell(row=r, column=2).value for r in (7, 8, 9)] == ["1", "2", "3"]
    page = web.get(f"/registers/{province.register_id}/incoming")
    assert page.status_code == 200 and "SỔ ĐĂNG KÝ VĂN BẢN ĐẾN" in page.text
    assert page.text.count("SNV-VP") == 3
    # another agency's register is not found; an officer may not print books
    assert web.get(f"/registers/{province.other_register_id}/incoming").status_code == 404
    login(web, "chuyenvien")
    assert web.get(f"/registers/{province.register_id}/incoming").status_code == 403


def test_counts_by_state_and_on_time(office: Office, province: Province) -> None:
    docs = _three(office, province)
    clerk = province.login(office, "vanthu")
    today = today_vn()

    def late(s: object) -> None:
        doc = s.get(Document, docs[0].id)  # type: ignore[attr-defined]
        doc.deadline = today - timedelta(days=1)

    office.run(late)
    counts = office.read(lambda s: books.counts(s, who=clerk, start=today, end=today))
    assert counts.by_state == {"directed": 1, "registered": 2}
    assert (counts.on_time, counts.late, counts.overdue_open) == (0, 0, 1)
