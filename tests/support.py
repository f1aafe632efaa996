"""What tests share besides fixtures: where the official samples are, factories for realistic
packages (Vietnamese agencies, document codes and clerks) that pass validation as they are,
the PostgreSQL of the tests, and ``as_sent``. Imported as ``from support import …`` (never
from a ``conftest``: each part of the suite may have its own)."""

from __future__ import annotations

import os
import re
from pathlib import Path
from typing import Any

from lienthong.edxml.attachments import Blob
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
    TraceHeader,
)

REPO_ROOT = Path(__file__).resolve().parents[1]


SAMPLES_ENV = "LIENTHONG_SAMPLES"


#: The official sample set, as published with the national platform's SDK example.
EDOC_SAMPLES = (
    "edoc.edxml",
    "edoc_replacement.edxml",
    "edoc_revocation.edxml",
    "edoc_update.edxml",
)


UNREADABLE_SAMPLES = ("edoc_new.edxml",)


STATUS_SAMPLES = (
    "status.edxml",
    "status_acceptance_03.edxml",
    "status_assignment_04.edxml",
    "status_cancellation_13.edxml",
    "status_change-acceptance_15.edxml",
    "status_change-rejection_16.edxml",
    "status_finish_06.edxml",
    "status_inbox_01.edxml",
    "status_processing_05.edxml",
    "status_rejection_02.edxml",
)


ALL_SAMPLES = EDOC_SAMPLES + UNREADABLE_SAMPLES + STATUS_SAMPLES


#: Enough of a PDF for content sniffing and hashing (header, one object, trailer).
PDF_BYTES = (
    b"%PDF-1.7\n%\xe2\xe3\xcf\xd3\n"
    b"1 0 obj\n<< /Type /Catalog /Pages 2 0 R >>\nendobj\n"
    b"2 0 obj\n<< /Type /Pages /Kids [] /Count 0 >>\nendobj\n"
    b"trailer\n<< /Root 1 0 R >>\n%%EOF\n"
)


def samples_path() -> Path:
    override = os.environ.get(SAMPLES_ENV)
    if override:
        return Path(override)
    return REPO_ROOT.parent / "shared" / "interop" / "vdxp-samples"


def sdk_session_path() -> Path:
    """The recorded session of the official SDK 2.0.1 (``sdk-2.0.1/session.jsonl`` beside
    the official samples; its README explains it)."""
    return samples_path().parent / "sdk-2.0.1" / "session.jsonl"


def _apply(obj: Any, overrides: dict[str, Any]) -> Any:
    for key, value in overrides.items():
        if not hasattr(obj, key):
            raise TypeError(f"{type(obj).__name__} has no field {key!r}")
        setattr(obj, key, value)
    return obj


def new_edoc(**overrides: Any) -> Edoc:
    """A valid, realistic document package: the Nghệ An Department of Information and
    Communications writes to the Government Office. No attachments, no business block
    (the builder derives a "new document" one) and no DocumentId (derived too)."""
    edoc = Edoc(
        sender=Organization(
            organ_id="000.00.12.H41",
            organization_in_charge="UBND tỉnh Nghệ An",
            organ_name="Sở Thông tin và Truyền thông tỉnh Nghệ An",
            organ_add="Số 16 Trường Thi, Thành phố Vinh, Tỉnh Nghệ An",
            email="stttt@nghean.gov.vn",
            telephone="0238 3598 555",
            fax="0238 3598 556",
            website="stttt.nghean.gov.vn",
        ),
        recipients=[
            Organization(
                organ_id="000.00.00.G22",
                organization_in_charge="Chính phủ",
                organ_name="Văn phòng Chính phủ",
                organ_add="Số 1 Hoàng Hoa Thám, Quận Ba Đình, Hà Nội",
                email="vpcp@chinhphu.vn",
            )
        ],
        code=DocumentCode(number="215", notation="STTTT-VP"),
        promulgation=PromulgationInfo(place="Nghệ An", date="2024/03/05"),
        document_type=DocumentType(type="1", type_detail="0", type_name="Công văn"),
        subject="V/v triển khai kết nối trục liên thông văn bản quốc gia",
        content="Đề nghị các đơn vị hoàn thành kết nối trước ngày 31/3/2024.",
        signer=SignerInfo(
            competence="KT. GIÁM ĐỐC", position="Phó Giám đốc", full_name="Lê Văn Hùng"
        ),
        other_info=OtherInfo(priority="1", promulgation_amount="3", page_amount="2"),
        trace_headers=[TraceHeader(organ_id="000.00.12.H41", timestamp="2024/03/05 08:30:00")],
    )
    return _apply(edoc, overrides)


def new_status(**overrides: Any) -> Status:
    """A valid status package: UBND tỉnh Nghệ An accepted and registered (03) document
    7816/VPCP-TTĐT of the Government Office."""
    status = Status(
        sender=Organization(
            organ_id="000.00.00.H41",
            organization_in_charge="UBND tỉnh Nghệ An",
            organ_name="UBND tỉnh Nghệ An",
            email="nghean@gov.vn",
        ),
        response_for=ResponseFor(
            organ_id="000.00.00.G22",
            code="7816/VPCP-TTĐT",
            promulgation_date="2015/09/30",
            document_id="000.00.00.G22,2015/09/30,7816/VPCP-TTĐT",
        ),
        staff=StaffInfo(
            department="Văn thư văn phòng",
            staff="Nguyễn Thị Ngọc Trâm",
            email="vanthu@nghean.gov.vn",
            mobile="0912000001",
        ),
        status_code="03",
        description="Văn thư: Tiếp nhận văn bản điện tử, vào sổ văn bản đến",
        timestamp="2024/03/05 14:20:11",
    )
    return _apply(status, overrides)


def new_attachment(
    name: str = "Công văn 215-STTTT-VP.pdf", data: bytes = PDF_BYTES, **overrides: Any
) -> Attachment:
    attachment = Attachment(
        name=name,
        description="Bản ký số",
        content_type="application/pdf",
        content=Blob.from_bytes(data),
    )
    return _apply(attachment, overrides)


PG_URL = os.environ.get("LIENTHONG_TEST_DATABASE_URL", "postgresql://postgres@127.0.0.1:5432/test")


_pg_state: dict[str, bool] = {}


def postgresql_reachable() -> bool:
    if not PG_URL:
        return False
    if "ok" not in _pg_state:
        from lienthong.core.db import make_engine

        try:
            engine = make_engine(PG_URL)
            with engine.connect():
                pass
            engine.dispose()
            _pg_state["ok"] = True
        except Exception:
            _pg_state["ok"] = False
    return _pg_state["ok"]


def _schema_url(schema: str) -> str:
    sep = "&" if "?" in PG_URL else "?"
    return f"{PG_URL}{sep}options=-csearch_path%3D{schema}"


def as_sent(delivered: bytes, hubs: tuple[str, ...] = ("lienthong",)) -> bytes:
    """A delivered package without the TraceHeaders that ``hubs`` appended to it."""
    names = b"|".join(re.escape(h.encode()) for h in hubs)
    pattern = (
        rb"<((?:\w+:)?)TraceHeader><\1OrganId>(?:" + names + rb")</\1OrganId>"
        rb"<\1Timestamp>[^<]*</\1Timestamp></\1TraceHeader>"
    )
    return re.sub(pattern, b"", delivered)
