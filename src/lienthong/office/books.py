"""Register books in the Annex IV layouts of Decree 30/2020, for any period: the incoming
register book (§VI, 10 columns) and the tracking book (§VIII, 7 columns), as rows for a
printable page and as an Excel workbook (XlsxWriter); plus counts by state and on time."""

from __future__ import annotations

import io
from collections import Counter
from dataclasses import dataclass
from datetime import date, timedelta

from sqlalchemy import select
from sqlalchemy.orm import Session

from lienthong.office.accounts import Principal
from lienthong.office.errors import forbidden, not_found
from lienthong.office.incoming import participants, vn_midnight
from lienthong.office.models import Document, HistoryEntry, Register, Role
from lienthong.web.i18n import local, today_vn, vn_date

INCOMING_COLUMNS = [
    "Ngày đến",
    "Số đến",
    "Tác giả",
    "Số, ký hiệu",
    "Ngày tháng văn bản",
    "Tên loại và trích yếu nội dung",
    "Đơn vị hoặc người nhận",
    "Ngày chuyển",
    "Ký nhận",
    "Ghi chú",
]
TRACKING_COLUMNS = [
    "Số đến",
    "Tên loại, số, ký hiệu, ngày tháng và tác giả văn bản",
    "Đơn vị hoặc người nhận",
    "Thời hạn giải quyết",
    "Tiến độ giải quyết",
    "Số, ký hiệu văn bản trả lời",
    "Ghi chú",
]


@dataclass(frozen=True)
class Book:
    register: Register
    start: date
    end: date
    columns: list[str]
    rows: list[list[str]]
    kind: str  # incoming | tracking


def _register(session: Session, who: Principal, register_id: int) -> Register:
    if who.role not in (Role.CLERK, Role.LEADER, Role.ADMIN):
        raise forbidden(
            "ROLE_FORBIDDEN", "Vai trò của bạn không được in sổ", "Your role may not print books"
        )
    register = session.get(Register, register_id)
    if register is None or register.agency_code != who.agency_code:
        raise not_found("sổ văn bản", "register")
    return register


def _documents(session: Session, register: Register, start: date, end: date) -> list[Document]:
    lo, hi = vn_midnight(start), vn_midnight(end + timedelta(days=1))
    return list(
        session.scalars(
            select(Document)
            .where(
                Document.register_id == register.id,
                Document.registered_at >= lo,
                Document.registered_at < hi,
            )
            .order_by(Document.year, Document.arrival_number)
        )
    )


def _code(doc: Document) -> str:
    return f"{doc.number}/{doc.notation}" if doc.notation else doc.number


def incoming_book(
    session: Session, *, who: Principal, register_id: int, start: date, end: date
) -> Book:
    register = _register(session, who, register_id)
    rows = []
    for doc in _documents(session, register, start, end):
        people = "; ".join(name for part, name in participants(session, doc=doc) if part == "lead")
        notes = []
        if doc.priority:
            notes.append(["", "Khẩn", "Thượng khẩn", "Hỏa tốc", "Hỏa tốc hẹn giờ"][doc.priority])
        notes.append("Văn bản giấy" if doc.source == "paper" else "Văn bản điện tử")
        rows.append(
            [
                vn_date(doc.registered_at),
                str(doc.arrival_number or ""),
                doc.issuer,
                _code(doc),
                vn_date(doc.issued_date),
                f"{doc.type_name}: {doc.subject}" if doc.type_name else doc.subject,
                people,
                vn_date(doc.directed_at),
                "",
                ", ".join(notes),
            ]
        )
    return Book(register, start, end, INCOMING_COLUMNS, rows, "incoming")


def tracking_book(
    session: Session, *, who: Principal, register_id: int, start: date, end: date
) -> Book:
    register = _register(session, who, register_id)
    rows = []
    for doc in _documents(session, register, start, end):
        if doc.directed_at is None:
            continue
        people = "; ".join(name for part, name in participants(session, doc=doc) if part == "lead")
        last = session.scalar(
            select(HistoryEntry.detail)
            .where(
                HistoryEntry.document_id == doc.id,
                HistoryEntry.action.in_(["progress", "finished"]),
            )
            .order_by(HistoryEntry.id.desc())
            .limit(1)
        )
        late = doc.deadline is not None and (
            local(doc.done_at).date() > doc.deadline
            if doc.done_at is not None
            else doc.deadline < today_vn()
        )
        rows.append(
            [
                str(doc.arrival_number or ""),
                f"{doc.type_name} {_code(doc)} ngày {vn_date(doc.issued_date)} của {doc.issuer}",
                people,
                vn_date(doc.deadline),
                ("Hoàn thành: " if doc.done_at else "") + (last or ""),
                "",
                "Quá hạn" if late else "",
            ]
        )
    return Book(register, start, end, TRACKING_COLUMNS, rows, "tracking")


def xlsx(book: Book, *, agency_name: str) -> bytes:
    """The book as an Excel workbook: title, period, the numbered Annex IV columns, rows."""
    import xlsxwriter

    out = io.BytesIO()
    workbook = xlsxwriter.Workbook(out, {"in_memory": True})
    sheet = workbook.add_worksheet("So" if book.kind == "incoming" else "Theo doi")
    bold = workbook.add_format({"bold": True, "font_name": "Times New Roman", "font_size": 13})
    head = workbook.add_format(
        {"bold": True, "border": 1, "text_wrap": True, "align": "center", "valign": "vcenter",
         "font_name": "Times New Roman"}
    )  # fmt: skip
    cell = workbook.add_format(
        {"border": 1, "text_wrap": True, "valign": "top", "font_name": "Times New Roman"}
    )
    title = (
        "SỔ ĐĂNG KÝ VĂN BẢN ĐẾN"
        if book.kind == "incoming"
        else "SỔ THEO DÕI GIẢI QUYẾT VĂN BẢN ĐẾN"
    )
    sheet.write(0, 0, agency_name.upper(), bold)
    sheet.write(1, 0, f"{title} — {book.register.name}", bold)
    sheet.write(2, 0, f"Từ ngày {vn_date(book.start)} đến ngày {vn_date(book.end)}")
    for col, name in enumerate(book.columns):
        sheet.write(4, col, name, head)
        sheet.write(5, col, f"({col + 1})", head)
        sheet.set_column(col, col, 30 if "trích yếu" in name or "Tên loại" in name else 14)
    for r, row in enumerate(book.rows, start=6):
        for col, value in enumerate(row):
            sheet.write(r, col, value, cell)
    sheet.set_landscape()
    sheet.repeat_rows(4, 5)
    workbook.close()
    return out.getvalue()


@dataclass(frozen=True)
class Counts:
    by_state: dict[str, int]
    on_time: int
    late: int
    overdue_open: int


def counts(session: Session, *, who: Principal, start: date, end: date) -> Counts:
    """Documents of ``who``'s agency that arrived in the period: by state; finished on time or
    late; still open past their deadline."""
    lo, hi = vn_midnight(start), vn_midnight(end + timedelta(days=1))
    docs = session.scalars(
        select(Document).where(
            Document.agency_code == who.agency_code,
            Document.arrived_at >= lo,
            Document.arrived_at < hi,
        )
    ).all()
    by_state = Counter(d.state for d in docs)
    on_time = late = overdue = 0
    today = today_vn()
    for d in docs:
        if d.deadline is None:
            continue
        if d.done_at is not None:
            if local(d.done_at).date() <= d.deadline:
                on_time += 1
            else:
                late += 1
        elif d.deadline < today and d.state not in ("returned",):
            overdue += 1
    return Counts(dict(by_state), on_time, late, overdue)
