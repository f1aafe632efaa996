"""Finding documents: diacritics and case ignored (đ/Đ = d), words inside attachments (the
PDF text layer) and inside scans (Vietnamese OCR), filters, and never another tenant's."""

from __future__ import annotations

import shutil
from datetime import timedelta
from typing import Any

import pytest

from lienthong.edxml.attachments import Blob
from lienthong.edxml.builder import build
from lienthong.edxml.model import Attachment
from lienthong.office import incoming
from lienthong.office.accounts import Principal
from lienthong.office.incoming import Filters
from lienthong.office.models import Document
from lienthong.office.runtime import Office
from lienthong.office.worker import work_once
from lienthong.web.i18n import today_vn

from .officekit import DEJAVU, Province, edoc, scanned_page


def _paper(office: Office, who: Principal, province: Province, subject: str, **kw: Any) -> Document:
    data = incoming.PaperInput(
        register_id=kw.pop("register_id", province.register_id),
        issuer=kw.pop("issuer", "UBND huyện Quỳnh Lưu (mẫu)"),
        number=kw.pop("number", "12"),
        notation=kw.pop("notation", "QĐ-UBND"),
        subject=subject,
    )
    scan = kw.pop("scan", None)
    return office.run(
        lambda s: incoming.enter_paper(s, who=who, data=data, scan=scan, blobs=office.blobs)
    )


def _subjects(office: Office, who: Principal, **filters: Any) -> set[str]:
    return {
        d.subject
        for d in office.read(lambda s: incoming.search(s, who=who, filters=Filters(**filters)))
    }


def test_words_match_without_diacritics_or_case_including_d_stroke(
    office: Office, province: Province
) -> None:
    clerk = province.login(office, "vanthu")
    _paper(office, clerk, province, "Quyết định thành lập Hội đồng thi đua xã Đông Hòa")
    _paper(office, clerk, province, "Kế hoạch tuyên truyền Tết Nguyên đán", notation="KH-UBND")
    _paper(office, clerk, province, "Quyết định về quy hoạch xã Tây Sơn")
    wanted = {"Quyết định thành lập Hội đồng thi đua xã Đông Hòa"}
    assert _subjects(office, clerk, q="quyet dinh dong") == wanted
    assert _subjects(office, clerk, q="QUYẾT ĐỊNH ĐÔNG") == wanted
    assert _subjects(office, clerk, q="Đông hoa") == wanted
    assert _subjects(office, clerk, q="nguyen dan") == {"Kế hoạch tuyên truyền Tết Nguyên đán"}
    assert _subjects(office, clerk, q="12/kh-ubnd") == {"Kế hoạch tuyên truyền Tết Nguyên đán"}
    assert len(_subjects(office, clerk, q="quyet dinh")) == 2
    assert _subjects(office, clerk, q="quyet dinh hue") == set()
    # LIKE wildcards in the query are taken literally
    assert _subjects(office, clerk, q="%") == set()


def test_filters_narrow_the_results(office: Office, province: Province) -> None:
    clerk = province.login(office, "vanthu")
    leader = province.login(office, "lanhdao")
    a = _paper(office, clerk, province, "Báo cáo tình hình kinh tế", issuer="Sở Tài chính (mẫu)")
    _paper(office, clerk, province, "Báo cáo công tác dân tộc", issuer="Ban Dân tộc (mẫu)")
    office.run(
        lambda s: incoming.direct(
            s,
            who=leader,
            document_id=a.id,
            data=incoming.Direction(direction="Xử lý", lead_user_id=province.users["chuyenvien"]),
        )
    )
    assert _subjects(office, clerk, q="bao cao", state="directed") == {"Báo cáo tình hình kinh tế"}
    assert _subjects(office, clerk, issuer="ban dân") == {"Báo cáo công tác dân tộc"}
    assert _subjects(office, clerk, handler_id=province.users["chuyenvien"]) == {
        "Báo cáo tình hình kinh tế"
    }
    assert len(_subjects(office, clerk, register_id=province.register_id)) == 2
    today = today_vn()
    assert len(_subjects(office, clerk, arrived_from=today - timedelta(days=1))) == 2
    assert _subjects(office, clerk, arrived_to=today - timedelta(days=1)) == set()

    def overdue(s: Any) -> None:
        s.get(Document, a.id).deadline = today - timedelta(days=2)

    office.run(overdue)
    assert _subjects(office, clerk, overdue=True) == {"Báo cáo tình hình kinh tế"}
    work = office.read(lambda s: incoming.my_work(s, who=clerk))
    assert [d.id for d in work.overdue] == [a.id]


def test_search_never_shows_another_agencys_documents(office: Office, province: Province) -> None:
    mine = province.login(office, "vanthu")
    theirs = province.login(office, "vanthu.vp")
    _paper(office, theirs, province, "Quyết định Đông", register_id=province.other_register_id)
    assert _subjects(office, mine, q="quyet dinh dong") == set()
    assert _subjects(office, theirs, q="quyet dinh dong") == {"Quyết định Đông"}


def _text_pdf(text: str) -> bytes:
    from fpdf import FPDF

    pdf = FPDF()
    pdf.add_page()
    pdf.add_font("DejaVu", "", DEJAVU)
    pdf.set_font("DejaVu", size=14)
    pdf.multi_cell(0, 10, text)
    return bytes(pdf.output())


def test_words_inside_a_pdf_attachment_are_found(office: Office, province: Province) -> None:
    clerk = province.login(office, "vanthu")
    body = _text_pdf("Báo cáo khẩn về tình hình lũ lụt và sạt lở đất tại huyện Kỳ Sơn.")
    package = edoc(
        subject="Công văn gửi kèm báo cáo",
        attachments=[
            Attachment(
                name="bao-cao.pdf", content_type="application/pdf", content=Blob.from_bytes(body)
            )
        ],
    )
    office.run(
        lambda s: incoming.receive(
            s, data=build(package), message_id="m-pdf", blobs=office.blobs, trust=office.trust
        )
    )
    assert _subjects(office, clerk, q="sat lo dat") == set()  # not before the text is read
    assert work_once(office, poll=False)["texts"] == 1
    assert _subjects(office, clerk, q="sat lo dat ky son") == {"Công văn gửi kèm báo cáo"}


def test_a_word_inside_a_scanned_vietnamese_page_is_found_after_ocr(
    office: Office, province: Province
) -> None:
    if shutil.which("ocrmypdf") is None:
        pytest.fail("ocrmypdf is not installed: run scripts/install-system-packages.sh")
    clerk = province.login(office, "vanthu")
    scan = scanned_page(
        [
            "ỦY BAN NHÂN DÂN HUYỆN QUỲNH LƯU",
            "Phê duyệt kế hoạch phòng chống thiên tai",
            "và tìm kiếm cứu nạn tại xã Quỳnh Thuận",
        ]
    )
    doc = _paper(
        office,
        clerk,
        province,
        "Quyết định số 88 của UBND huyện",
        scan=("scan.pdf", "application/pdf", scan),
    )
    assert _subjects(office, clerk, q="thien tai") == set()
    assert work_once(office, poll=False)["texts"] == 1
    assert _subjects(office, clerk, q="phong chong thien tai") == {
        "Quyết định số 88 của UBND huyện"
    }
    assert _subjects(office, clerk, q="cuu nan quynh thuan") == {"Quyết định số 88 của UBND huyện"}
    [f] = office.read(lambda s: incoming.files(s, doc=s.get(Document, doc.id)))
    assert f.text_state == "done" and "thiên tai" in f.text


def test_saved_filters_are_personal(office: Office, province: Province) -> None:
    from fastapi.testclient import TestClient

    from lienthong.office.http.app import create_app

    from .officekit import web_login

    clerk = province.login(office, "vanthu")
    _paper(office, clerk, province, "Quyết định thành lập Hội đồng thi đua xã Đông Hòa")
    with TestClient(create_app(office, start_worker=False), follow_redirects=False) as web:
        csrf = web_login(web, "vanthu")
        r = web.post(
            "/filters",
            data={
                "name": "Quyết định Đông Hòa",
                "query": "q=quyet+dinh+dong&evil=1",
                "csrf_token": csrf,
            },
        )
        assert r.status_code == 303 and r.headers["location"] == "/documents?q=quyet+dinh+dong"
        home = web.get("/").text
        assert 'href="/documents?q=quyet+dinh+dong">Quyết định Đông Hòa</a>' in home
        listing = web.get("/documents?q=quyet+dinh+dong").text
        assert "Hội đồng thi đua" in listing
        [saved] = office.read(lambda s: incoming.saved_filters(s, who=clerk))
        web_login(web, "lanhdao")  # another person neither sees nor deletes it
        assert "Quyết định Đông Hòa" not in web.get("/documents").text
        csrf = web_login(web, "lanhdao")
        assert web.post(f"/filters/{saved.id}/delete", data={"csrf_token": csrf}).status_code == 404
        assert len(office.read(lambda s: incoming.saved_filters(s, who=clerk))) == 1
