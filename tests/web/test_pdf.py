"""The shared HTML → PDF/A renderer: Vietnamese text survives, fonts are embedded, PDF/A is
declared, and a template cannot make the server fetch a remote address."""

from __future__ import annotations

import io

import pypdfium2 as pdfium
from pyhanko.pdf_utils.reader import PdfFileReader

from lienthong.web.pdf import html_to_pdf

TEXT = "CỘNG HÒA XÃ HỘI CHỦ NGHĨA VIỆT NAM — Đắk Lắk, Thượng khẩn"


def _text(pdf: bytes) -> str:
    doc = pdfium.PdfDocument(pdf)
    try:
        return "".join(doc[i].get_textpage().get_text_range() for i in range(len(doc)))
    finally:
        doc.close()


def test_vietnamese_text_round_trips_in_an_embedded_times_metric_font() -> None:
    pdf = html_to_pdf(f"<p>{TEXT}</p>")
    assert TEXT in _text(pdf)
    reader = PdfFileReader(io.BytesIO(pdf))
    page = reader.root["/Pages"]["/Kids"][0]
    fonts = [f.get_object() for f in page["/Resources"]["/Font"].values()]
    names = [str(f["/BaseFont"]) for f in fonts]
    assert any("LiberationSerif" in n.replace("-", "") for n in names), names
    # embedded: every font's descendant has a font file
    for font in fonts:
        if "/DescendantFonts" in font:
            font = font["/DescendantFonts"][0].get_object()
        descriptor = font["/FontDescriptor"]
        assert "/FontFile2" in descriptor or "/FontFile3" in descriptor


def test_pdfa_is_declared_by_default_and_can_be_turned_off() -> None:
    pdfa = PdfFileReader(io.BytesIO(html_to_pdf("<p>x</p>")))
    assert "/OutputIntents" in pdfa.root and "/Metadata" in pdfa.root
    plain = PdfFileReader(io.BytesIO(html_to_pdf("<p>x</p>", pdfa=False)))
    assert "/OutputIntents" not in plain.root


def test_remote_resources_are_never_fetched() -> None:
    # WeasyPrint logs and skips a resource whose fetch fails: the page renders without it
    pdf = html_to_pdf('<p>ok</p><img src="http://127.0.0.1:9/x.png">')
    assert "ok" in _text(pdf)
    doc = pdfium.PdfDocument(pdf)
    try:
        images = [o for o in doc[0].get_objects() if o.type == pdfium.raw.FPDF_PAGEOBJ_IMAGE]
    finally:
        doc.close()
    assert images == []
