"""The one way the web parts print: HTML (a Jinja2 template) to PDF/A with WeasyPrint.

Register books, handling slips, Decree 30 documents and monthly reports are HTML templates with
print CSS (``@page`` size and margins); this renders them to PDF/A-3b in Liberation Serif, which
is metric-compatible with Times New Roman (Decree 30 Annex I asks for Times New Roman), from
Debian's fonts-liberation. WeasyPrint needs Debian's Pango (scripts/install-system-packages.sh).
"""

from __future__ import annotations

from typing import Any

#: The Decree 30 typeface, as CSS: Liberation Serif first, then any Times-metric serif.
SERIF = "'Liberation Serif', 'Times New Roman', 'Tinos', serif"

#: Base print CSS every printed page starts from (A4; Decree 30 margins: top/bottom 20-25 mm,
#: left 30-35 mm, right 15-20 mm). A template's own CSS comes after it and wins.
BASE_CSS = f"""
@page {{ size: A4; margin: 20mm 15mm 20mm 30mm; }}
html {{ font-family: {SERIF}; font-size: 13pt; }}
"""


def html_to_pdf(
    html: str, *, base_url: str | None = None, pdfa: bool = True, **options: Any
) -> bytes:
    """Render ``html`` to PDF bytes; PDF/A-3b (fonts embedded, output intent, XMP) by default.

    Only ``data:`` and local ``file:`` addresses are fetched: a template can never make the
    server fetch a remote address (WeasyPrint skips a refused resource and goes on).
    """
    from weasyprint import CSS, HTML, URLFetcher  # heavy import: only when printing

    fetcher = URLFetcher(allowed_protocols={"data", "file"}, timeout=2)
    document = HTML(string=html, base_url=base_url, url_fetcher=fetcher)
    variant = {"pdf_variant": "pdf/a-3b"} if pdfa else {}
    pdf: bytes = document.write_pdf(stylesheets=[CSS(string=BASE_CSS)], **variant, **options)
    return pdf
