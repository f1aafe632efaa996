"""Making attachments and scans searchable: the text layer of a PDF, or Vietnamese OCR of a
scanned page (ocrmypdf with Tesseract's ``vie`` data, from Debian's packages).

A pipeline of small steps run by the worker, outside any request:

1. pick files whose ``text_state`` is ``pending`` (set when a document arrives or a paper
   document is entered with its scan);
2. read the PDF's text layer (pypdfium2); a page with (almost) no text is a scan;
3. OCR the file when it is an image or a PDF without text (:class:`OcrEngine`);
4. store the text, state ``done`` (or ``failed`` with nothing lost but the text), and fold
   it into the document's ``search_text`` in the same transaction.
"""

from __future__ import annotations

import logging
import shutil
import subprocess
import tempfile
from pathlib import Path
from typing import Protocol

from sqlalchemy import select
from sqlalchemy.orm import Session

from lienthong.core.text import fold
from lienthong.office.models import Document, DocumentFile
from lienthong.office.runtime import Office

log = logging.getLogger("lienthong.office.text")

#: at fewer characters per page a PDF is taken for a scan and OCRed
MIN_CHARS_PER_PAGE = 20
IMAGE_TYPES = ("image/png", "image/jpeg", "image/tiff")
MAX_TEXT = 1_000_000


class OcrEngine(Protocol):
    def available(self) -> bool: ...

    def ocr(self, path: Path) -> str:
        """The text of a scanned PDF or image (Vietnamese)."""
        ...


class OcrMyPdf:
    """ocrmypdf + tesseract-ocr-vie, one job at a time (the machine is shared)."""

    def __init__(self, language: str = "vie", timeout: float = 300.0) -> None:
        self.language = language
        self.timeout = timeout

    def available(self) -> bool:
        return shutil.which("ocrmypdf") is not None

    def ocr(self, path: Path) -> str:
        with tempfile.TemporaryDirectory(prefix="office-ocr-") as tmp:
            sidecar = Path(tmp) / "text.txt"
            cmd = [
                "ocrmypdf",
                "-l",
                self.language,
                "--jobs",
                "1",
                "--optimize",
                "0",
                "--force-ocr",
                "--output-type",
                "none",
                "--sidecar",
                str(sidecar),
            ]
            if path.suffix.lower() != ".pdf":
                cmd += ["--image-dpi", "300"]
            cmd += [str(path), "-"]
            subprocess.run(cmd, check=True, capture_output=True, timeout=self.timeout)
            return sidecar.read_text(encoding="utf-8", errors="replace")


def pdf_text(data: bytes) -> tuple[str, int]:
    """The text layer of a PDF and its page count."""
    import pypdfium2 as pdfium  # type: ignore[import-untyped]

    pdf = pdfium.PdfDocument(data)
    try:
        parts = []
        for page in pdf:
            textpage = page.get_textpage()
            parts.append(textpage.get_text_range())
            textpage.close()
            page.close()
        return "\n".join(parts), len(parts)
    finally:
        pdf.close()


def _is_pdf(f: DocumentFile, head: bytes) -> bool:
    return (
        f.content_type == "application/pdf"
        or f.name.lower().endswith(".pdf")
        or (b"%PDF-" in head[:1024])
    )


def wants_text(name: str, content_type: str, head: bytes) -> bool:
    """Whether a new file should get a text (PDF or image)."""
    lowered = name.lower()
    return (
        content_type in ("application/pdf", *IMAGE_TYPES)
        or lowered.endswith((".pdf", ".png", ".jpg", ".jpeg", ".tif", ".tiff"))
        or b"%PDF-" in head[:1024]
    )


def extract(data: bytes, f: DocumentFile, engine: OcrEngine) -> str:
    if _is_pdf(f, data[:1100]):
        try:
            text, pages = pdf_text(data)
        except Exception:  # unreadable PDF: OCR may still read it
            text, pages = "", 1
        if len(text.strip()) >= MIN_CHARS_PER_PAGE * max(pages, 1) or not engine.available():
            return text
        suffix = ".pdf"
    else:
        if not engine.available():
            return ""
        suffix = Path(f.name).suffix.lower() or ".png"
    with tempfile.NamedTemporaryFile(suffix=suffix) as tmp:
        tmp.write(data)
        tmp.flush()
        return engine.ocr(Path(tmp.name))


def search_text(doc: Document, extra: str = "") -> str:
    parts = [
        doc.subject,
        f"{doc.number}/{doc.notation}",
        doc.notation,
        doc.issuer,
        doc.signer,
        doc.type_name,
        extra,
    ]
    return fold(" ".join(p for p in parts if p))


def refresh_search_text(session: Session, *, document: Document) -> None:
    texts = session.scalars(
        select(DocumentFile.text).where(
            DocumentFile.document_id == document.id, DocumentFile.text_state == "done"
        )
    ).all()
    document.search_text = search_text(document, " ".join(texts))


def process_pending(office: Office, *, engine: OcrEngine | None = None, limit: int = 20) -> int:
    """Give pending files their text; returns how many were processed."""
    engine = engine or OcrMyPdf()
    pending = office.read(
        lambda s: s.scalars(
            select(DocumentFile.id)
            .where(DocumentFile.text_state == "pending")
            .order_by(DocumentFile.id)
            .limit(limit)
        ).all()
    )
    done = 0
    for file_id in pending:
        row = _file(office, file_id)
        if row is None:
            continue
        try:
            with office.blobs.open(row.sha256) as fh:
                data = fh.read()
            text, state = extract(data, row, engine)[:MAX_TEXT], "done"
        except Exception as exc:
            log.warning("text.failed", extra={"file": file_id, "error": str(exc)[:200]})
            text, state = "", "failed"
        _store(office, file_id, text, state)
        done += 1
    return done


def _file(office: Office, file_id: int) -> DocumentFile | None:
    return office.read(lambda s: s.get(DocumentFile, file_id))


def _store(office: Office, file_id: int, text: str, state: str) -> None:
    def run(s: Session) -> None:
        f = s.get(DocumentFile, file_id)
        if f is None:
            return
        f.text, f.text_state = text, state
        s.flush()
        doc = s.get(Document, f.document_id)
        if doc is not None:
            refresh_search_text(s, document=doc)

    office.run(run)
