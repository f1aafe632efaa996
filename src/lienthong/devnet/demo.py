"""``make demo``: a network of four hubs on one machine, each on the embedded default (SQLite
+ a local folder) — the national hub ``vn``, the Ministry of Finance's hub ``g12`` and the
provincial hubs ``h41`` (Nghệ An) and ``h42`` (Hà Tĩnh) — provisioned and wired as peers by
:mod:`lienthong.devnet.network` with its sample directory, and a traffic generator. Every round
the commune of one province (phường Hưng Bình, behind ``h41``), the ministry (Bộ Tài chính,
``g12``) and the commune of the other province (phường Bắc Hà, ``h42``) each send a document
to the two others through the REST API; the recipients fetch, acknowledge and answer with
statuses 01 and 03, which cross the hubs back to the sender. For each document the demo
prints its path (the hops on the receiving hub's timeline), how long the hubs took,
and the signature verdicts of the first and the last hub.

The PKI at work: on first start a **test** CA is created in ``<demo dir>/ca`` and its trust
(root + CRLs) exported to ``<demo dir>/trust``; every hub verifies with that trust, serves
the CRLs at ``/pki/root.crl`` and ``/pki/issuing.crl`` and runs the ``flag`` signature policy
(verify and record, never refuse). The three sending agencies get an organisation
certificate and a leader's person certificate, issued once and kept in ``<demo dir>/certs``
as PKCS#12 files whose password is in ``<demo dir>/pki.json``. Every document is a one-page
PDF signed by the leader then the organisation (Decree 30 layout), some also carry a package
signature (XML-DSig); one in five is deliberately unsigned. Relays carry the sender's bytes
unchanged, so every hub on the path reaches the same verdict. Delete ``<demo dir>/certs`` to
re-issue the certificates, ``<demo dir>/ca`` to start a new CA.

Options (environment): ``LIENTHONG_DEMO_DIR`` (default ``./lienthong-demo``; one folder per
hub, the API keys in ``network.json``), ``LIENTHONG_PORT`` (the first port, default 8080: the
hubs take 8080-8083, a free port for each one taken; 0: free ports only),
``LIENTHONG_DEMO_ROUNDS`` (default: run until Ctrl-C), ``LIENTHONG_DEMO_INTERVAL`` seconds.
"""

from __future__ import annotations

import json
import os
import random
import secrets
import socket
import time
import warnings
from collections import Counter
from collections.abc import Callable
from dataclasses import dataclass
from datetime import UTC, datetime, timedelta
from pathlib import Path
from typing import Any

import httpx
from rich.console import Console
from rich.markup import escape

from lienthong.client.rest import HubClient, HubClientError
from lienthong.devnet.network import (
    NATIONAL,
    Network,
    provision,
    serve_in_process,
    standard_plans,
)
from lienthong.edxml.builder import build, today
from lienthong.edxml.codes import AdminDocType, StatusCode
from lienthong.edxml.model import (
    Attachment,
    DocumentCode,
    DocumentType,
    Edoc,
    Organization,
    OtherInfo,
    PromulgationInfo,
    SignerInfo,
)
from lienthong.office.sample import RunningOffice, start_sample_office
from lienthong.pki import images
from lienthong.pki.ca import CertificateAuthority
from lienthong.pki.credentials import Credentials, PkiError, identity_of
from lienthong.pki.pdf import sign_org, sign_person
from lienthong.pki.xmldsig import sign_package

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

#: the name of the demo's certificate authority: a TEST CA, never to be trusted for real
CA_NAME = "lienthong CA thử nghiệm — KHÔNG dùng thật"
#: one document in this many goes out without any signature (the flag policy: ``unknown``)
UNSIGNED_EVERY = 5
#: how long the demo waits for a document (then for its statuses) to cross the hubs
WAIT_SECONDS = 30.0


@dataclass(frozen=True)
class Signatory:
    """A party of the demo's traffic: its agency system (in :func:`standard_plans`), its
    agency and the (fictitious) leader who signs its documents."""

    system: str
    agency: str
    place: str  # promulgation place (địa danh)
    issuer: str  # the issuing body's abbreviation in the notation (…/QĐ-UBND)
    competence: str  # authority marker line of the signature block
    position: str
    name: str


#: The provincial People's Committee: a tenant of the shared e-office, which is one connected
#: system of the provincial hub h41 (``egov.h41``, polling its inbox).
OFFICE_AGENCY = "000.00.00.H41"
OFFICE_SYSTEM = "egov.h41"

SIGNATORIES = (
    Signatory(
        "qlvb.hungbinh",
        "000.01.31.H41",
        "Hưng Bình",
        "UBND",
        "TM. ỦY BAN NHÂN DÂN",
        "Chủ tịch",
        "Lê Thị Hồng",
    ),
    Signatory(
        "qlvb.g12", "000.00.00.G12", "Hà Nội", "BTC", "KT. BỘ TRƯỞNG", "Thứ trưởng", "Trần Minh Đức"
    ),
    Signatory(
        "qlvb.bacha",
        "000.01.31.H42",
        "Bắc Hà",
        "UBND",
        "TM. ỦY BAN NHÂN DÂN",
        "Chủ tịch",
        "Nguyễn Văn An",
    ),
)

_BODY = (
    "Văn bản MẪU do chương trình trình diễn lienthong tạo ra để minh họa việc gửi, nhận "
    "văn bản điện tử qua trục liên thông và chữ ký số của người có thẩm quyền và của cơ "
    "quan, tổ chức theo Nghị định số 30/2020/NĐ-CP. Văn bản không có giá trị pháp lý.",
    "Sample document generated by the lienthong demo: it shows the exchange of electronic "
    "documents through the hub and the signatures of the competent person and of the "
    "organisation (Decree 30/2020). It has no legal value.",
)
_FOOTER = "VĂN BẢN MẪU, ký bằng CA THỬ NGHIỆM / SAMPLE document signed by a TEST CA"


# ------------------------------------------------------------------------------ PKI


@dataclass
class Signer:
    """What an agency signs with: the leader's and the organisation's credentials and their
    images (the blue signature and the red seal, drawn once)."""

    spec: Signatory
    org_name: str
    person: Credentials
    org: Credentials
    signature_png: bytes
    seal_png: bytes

    def sign_pdf(self, pdf: bytes) -> bytes:
        """The leader's signature, then the organisation's seal over it (Decree 30)."""
        signed = sign_person(pdf, self.person, image=self.signature_png, location=self.spec.place)
        return sign_org(signed, self.org, seal=self.seal_png, location=self.spec.place)


@dataclass
class DemoPki:
    ca: CertificateAuthority
    trust_dir: Path
    cert_dir: Path
    password: str
    signers: dict[str, Signer]
    created: bool  # the CA was created by this start
    issued: int  # certificates issued by this start

    def to_json(self) -> dict[str, Any]:
        return {
            "note": "CA THỬ NGHIỆM, KHÔNG dùng thật / TEST CA, never trust it for real",
            "ca": str(self.ca.directory),
            "trust": str(self.trust_dir),
            "p12_password": self.password,
            "certificates": {
                agency: {
                    "org": str(self.cert_dir / f"{agency}-org.p12"),
                    "person": str(self.cert_dir / f"{agency}-person.p12"),
                }
                for agency in self.signers
            },
        }


def _cached_p12(
    path: Path, password: str, ca: CertificateAuthority, agency: str
) -> Credentials | None:
    """The credentials of ``path`` when they open, come from this CA, name ``agency`` and
    stay valid for another day; else ``None`` (issue new ones)."""
    try:
        creds = Credentials.from_p12(path, password) if path.is_file() else None
    except PkiError:
        return None
    if creds is None or not creds.chain or creds.chain[0] != ca.issuing:
        return None
    if creds.certificate.not_valid_after_utc < datetime.now(UTC) + timedelta(days=1):
        return None
    return creds if identity_of(creds.certificate).agency == agency else None


def _write_private(path: Path, data: bytes) -> None:
    path.parent.mkdir(parents=True, exist_ok=True)
    fd = os.open(path, os.O_WRONLY | os.O_CREAT | os.O_TRUNC, 0o600)
    with os.fdopen(fd, "wb") as handle:
        handle.write(data)


def _cached_png(path: Path, draw: Callable[[str], bytes], text: str) -> bytes:
    """A demo image (signature or seal), drawn once and kept next to the certificates."""
    if path.is_file():
        return path.read_bytes()
    png = draw(text)
    path.write_bytes(png)
    return png


def setup_pki(
    data_dir: Path, *, crl_base_url: str, names: dict[str, str], saved: dict[str, Any]
) -> DemoPki:
    """Create (first start) or open the demo CA, export its trust, and issue (once) the
    signing certificates of :data:`SIGNATORIES`. ``saved``: the previous ``pki.json`` (the
    PKCS#12 password)."""
    ca_dir, trust_dir, cert_dir = data_dir / "ca", data_dir / "trust", data_dir / "certs"
    created = not (ca_dir / "index.json").is_file()
    if created:
        ca = CertificateAuthority.init(ca_dir, name=CA_NAME, crl_base_url=crl_base_url)
        for stale in ("root.pem", "root.crl", "issuing.crl"):  # an earlier demo CA's trust
            (trust_dir / stale).unlink(missing_ok=True)
    else:
        ca = CertificateAuthority.open(ca_dir)
        next_update = ca.crl().next_update_utc
        if next_update is None or next_update - datetime.now(UTC) < timedelta(days=3):
            ca.renew_crls()  # CRLs last 7 days: a stale one would make every verdict unknown
    ca.export_trust(trust_dir)
    password = str(saved.get("p12_password") or secrets.token_urlsafe(12))
    cert_dir.mkdir(parents=True, exist_ok=True)
    signers: dict[str, Signer] = {}
    issued = 0
    for spec in SIGNATORIES:
        org_name = names[spec.agency]
        org_p12 = cert_dir / f"{spec.agency}-org.p12"
        org = _cached_p12(org_p12, password, ca, spec.agency)
        if org is None:
            org = ca.issue_org(agency=spec.agency, name=org_name)
            _write_private(org_p12, org.to_p12(password))
            issued += 1
        person_p12 = cert_dir / f"{spec.agency}-person.p12"
        person = _cached_p12(person_p12, password, ca, spec.agency)
        if person is None:
            person = ca.issue_person(
                agency=spec.agency, name=spec.name, position=spec.position, organization=org_name
            )
            _write_private(person_p12, person.to_p12(password))
            issued += 1
        signers[spec.agency] = Signer(
            spec=spec,
            org_name=org_name,
            person=person,
            org=org,
            signature_png=_cached_png(
                cert_dir / f"{spec.agency}-signature.png", images.signature_image, spec.name
            ),
            seal_png=_cached_png(cert_dir / f"{spec.agency}-seal.png", images.seal_image, org_name),
        )
    return DemoPki(ca, trust_dir, cert_dir, password, signers, created, issued)


# ------------------------------------------------------------------------------ documents


def _vn_date(place: str, date: str) -> str:
    """``Nghệ An, ngày 05 tháng 3 năm 2026`` (Decree 30: a zero before days below 10 and
    before months 1 and 2) from ``yyyy/MM/dd``."""
    year, month, day = (int(part) for part in date.split("/"))
    month_text = f"{month:02d}" if month < 3 else str(month)
    return f"{place}, ngày {day:02d} tháng {month_text} năm {year}"


def document_pdf(
    font: Path,
    *,
    agency_name: str,
    number_notation: str,
    place_date: str,
    kind: AdminDocType,
    subject: str,
    recipients: list[str],
    signatory: Signatory,
) -> bytes:
    """A one-page A4 document laid out roughly as Decree 30 asks, with room for the
    signer's image where :data:`lienthong.pki.pdf.PERSON_BOX` puts it (213-237 mm from
    the top, centred 145 mm from the left)."""
    from fpdf import FPDF
    from fpdf.enums import XPos, YPos

    doc = FPDF(format="A4", unit="mm")
    doc.set_auto_page_break(False)
    doc.set_margins(30, 20, 20)
    doc.add_font("Serif", "", str(font))
    doc.set_title(subject)
    doc.set_creator("lienthong demo")
    doc.add_page()
    doc.set_font("Serif", size=12)
    doc.set_xy(15, 20)
    doc.multi_cell(80, 6, agency_name.upper(), align="C", new_x=XPos.LEFT, new_y=YPos.NEXT)
    doc.set_x(15)
    doc.cell(80, 7, f"Số: {number_notation}", align="C")
    doc.set_xy(95, 20)
    doc.cell(105, 6, "CỘNG HÒA XÃ HỘI CHỦ NGHĨA VIỆT NAM", align="C")
    doc.set_xy(95, 26)
    doc.cell(105, 6, "Độc lập - Tự do - Hạnh phúc", align="C")
    doc.set_xy(95, 36)
    doc.cell(105, 6, place_date, align="C")

    if kind == AdminDocType.OFFICIAL_LETTER:  # a letter: "V/v …" under its number, no title
        doc.set_font("Serif", size=11)
        doc.set_xy(15, 34)
        doc.multi_cell(80, 5.5, subject, align="C", new_x=XPos.LMARGIN, new_y=YPos.NEXT)
        y = max(doc.get_y(), 50.0) + 12
    else:
        doc.set_font("Serif", size=14)
        doc.set_xy(30, 58)
        doc.cell(160, 8, kind.value.upper(), align="C")
        doc.set_font("Serif", size=13)
        doc.set_xy(30, 67)
        doc.multi_cell(160, 6.5, subject, align="C", new_x=XPos.LMARGIN, new_y=YPos.NEXT)
        y = doc.get_y() + 10
    doc.set_font("Serif", size=13)
    for paragraph in _BODY:
        doc.set_xy(30, y)
        doc.multi_cell(160, 6.5, paragraph, align="J", new_x=XPos.LMARGIN, new_y=YPos.NEXT)
        y = doc.get_y() + 4

    doc.set_font("Serif", size=11)
    doc.set_xy(30, 190)
    doc.cell(75, 5.5, "Nơi nhận:")
    doc.set_font("Serif", size=10)
    doc.set_xy(30, 196)
    for line in [*(f"- {name};" for name in recipients[:4]), "- Lưu: VT."]:
        doc.set_x(30)
        doc.multi_cell(75, 5, line, new_x=XPos.LMARGIN, new_y=YPos.NEXT)
    doc.set_font("Serif", size=13)
    doc.set_xy(110, 190)
    doc.cell(70, 6, signatory.competence, align="C")
    doc.set_xy(110, 196)
    doc.cell(70, 6, signatory.position.upper(), align="C")
    # 213-237 mm from the top: the signer's image, placed there when signing
    doc.set_xy(110, 243)
    doc.cell(70, 6, signatory.name, align="C")
    doc.set_font("Serif", size=9)
    doc.set_xy(30, 282)
    doc.cell(160, 5, _FOOTER, align="C")
    return bytes(doc.output())


def _free_port(preferred: int) -> int:
    with socket.socket() as sock:
        try:
            sock.bind(("127.0.0.1", preferred))
        except OSError:
            sock.bind(("127.0.0.1", 0))
        return int(sock.getsockname()[1])


_COLOURS = {"valid": "green", "invalid": "red", "unknown": "yellow"}


def _verdict(value: str | None, reason: str | None = None) -> str:
    text = value or "-"
    colour = _COLOURS.get(text)
    shown = f"[{colour}]{text}[/]" if colour else text
    return f"{shown} ({escape(reason)})" if reason and text != "valid" else shown


class Traffic:
    """The three parties exchanging documents and statuses across the hubs, each with its
    own system's API key at its own hub."""

    def __init__(
        self,
        network: Network,
        names: dict[str, str],
        console: Console,
        pki: DemoPki,
        sample_pdf: Path,
        seed_value: int = 2026,
    ) -> None:
        self.network = network
        self.http = httpx.Client(timeout=60)  # one connection pool for the REST clients
        self.rest = {
            s.system: HubClient(
                network.url(network.hub_of(s.system)), network.key(s.system), http=self.http
            )
            for s in SIGNATORIES
        }
        self.names = names
        #: "phường Hưng Bình" for "UBND phường Hưng Bình (mẫu)": the names of the lines
        self.short = {
            code: escape(name.removesuffix(" (mẫu)").removeprefix("UBND "))
            for code, name in self.names.items()
        }
        self.console = console
        self.pki = pki
        self.sample_pdf = sample_pdf
        self.rng = random.Random(seed_value)
        self.number = 0
        self.sent = self.received = self.answered = self.statuses_back = 0
        self.to_office = self.office_arrived = 0
        self.verdicts: dict[str, Counter[str]] = {"pdf": Counter(), "package": Counter()}
        self.paths: Counter[str] = Counter()
        texts = [*SUBJECTS, *self.names.values(), *_BODY, _FOOTER, "CỘNG HÒA XÃ HỘI CHỦ NGHĨA"]
        for spec in SIGNATORIES:
            texts += [spec.place, spec.competence, spec.position.upper(), spec.name]
        texts += [t.value.upper() for t in TYPES] + [n.upper() for n in self.names.values()]
        # one font for every document (the stamp font: a serif with the Vietnamese letters)
        self.font = images.stamp_font_path("".join(texts))

    def close(self) -> None:
        for rest in self.rest.values():
            rest.close()
        self.http.close()

    def _document(self, spec: Signatory, recipients: list[str]) -> tuple[bytes, str, str]:
        """The package, how it was signed (``pdf+package``, ``pdf`` or ``none``) and its
        number and notation."""
        self.number += 1
        signer = self.pki.signers[spec.agency]
        kind = self.rng.choice(TYPES)
        notation = (
            f"{kind.abbreviation}-{spec.issuer}" if kind.abbreviation else f"{spec.issuer}-VP"
        )
        subject = self.rng.choice(SUBJECTS)
        date = today()
        pdf = document_pdf(
            self.font,
            agency_name=self.names[spec.agency],
            number_notation=f"{self.number:02d}/{notation}",
            place_date=_vn_date(spec.place, date),
            kind=kind,
            subject=subject,
            recipients=[self.names[r] for r in recipients],
            signatory=spec,
        )
        phase = self.number % UNSIGNED_EVERY
        mode = "none" if phase == UNSIGNED_EVERY - 1 else "pdf+package" if phase % 2 else "pdf"
        if mode != "none":
            pdf = signer.sign_pdf(pdf)
            partial = self.sample_pdf.with_name(f".{self.sample_pdf.name}.tmp")
            partial.write_bytes(pdf)
            partial.replace(self.sample_pdf)  # the latest signed PDF, to verify by hand
        edoc = Edoc(
            sender=Organization(organ_id=spec.agency, organ_name=self.names[spec.agency]),
            recipients=[Organization(organ_id=r, organ_name=self.names[r]) for r in recipients],
            code=DocumentCode(f"{self.number:02d}", notation),
            promulgation=PromulgationInfo(spec.place, date),
            document_type=DocumentType("1", "0", kind.value),
            subject=subject,
            signer=SignerInfo(spec.competence, spec.position, spec.name),
            other_info=OtherInfo(priority=str(self.rng.choice([0, 0, 0, 1, 2]))),
            attachments=[
                Attachment(
                    name=f"{self.number:02d}-{notation}.pdf",
                    content_type="application/pdf",
                    content=_blob(pdf),
                )
            ],
        )
        package = build(edoc)
        if mode == "pdf+package":
            package = sign_package(package, signer.org)
        return package, mode, f"{self.number:02d}/{notation}"

    def round(self, *, office: bool = False) -> None:
        for spec in SIGNATORIES:
            self.exchange(spec, [s.agency for s in SIGNATORIES if s is not spec])
        if office:
            self.send_to_office(next(s for s in SIGNATORIES if s.system == "qlvb.g12"))

    def send_to_office(self, spec: Signatory) -> None:
        """One document from ``spec`` to the provincial People's Committee, a tenant of the
        e-office: the office takes it from the hub and answers 01 (arrived) at once; its
        clerk registers it on the web (03), its leader directs it (04) …"""
        package, _mode, number = self._document(spec, [OFFICE_AGENCY])
        sender = self.rest[spec.system]
        message_id = sender.send(package)["message_id"]
        self.to_office += 1
        self.console.print(
            f"[magenta]→[/] [bold]{self.short[spec.agency]}[/] gửi / sends {number} tới / to "
            f"{self.short[OFFICE_AGENCY]} — [bold]văn phòng điện tử / e-office[/]"
        )
        deadline = time.monotonic() + WAIT_SECONDS
        while time.monotonic() < deadline:
            codes = [s["status_code"] for s in sender.timeline(message_id)["statuses"]]
            if "01" in codes:
                self.office_arrived += 1
                self.console.print(
                    "  [green]✓[/] văn phòng điện tử đã nhận, báo 01; văn thư vào sổ trên web "
                    "/ the e-office took it and answered 01; its clerk registers it on the web"
                )
                return
            time.sleep(0.1)
        self.console.print(
            f"  [red]✗[/] văn phòng điện tử chưa báo 01 sau / no 01 from the e-office after "
            f"{WAIT_SECONDS:.0f} s"
        )

    def exchange(self, spec: Signatory, recipients: list[str]) -> None:
        """One document from ``spec`` to ``recipients``: send it, let each recipient take it
        and answer, then wait for the answers to come back to the sender."""
        package, mode, number = self._document(spec, recipients)
        sender = self.rest[spec.system]
        message_id = sender.send(package)["message_id"]
        self.sent += 1
        how = {
            "pdf+package": "ký PDF + gói tin / signed PDF + package",
            "pdf": "ký PDF / signed PDF",
            "none": "[yellow]KHÔNG ký (cố ý) / deliberately unsigned[/]",
        }[mode]
        self.console.print(
            f"[cyan]→[/] [bold]{self.short[spec.agency]}[/] gửi / sends {number} tới / to "
            f"{', '.join(self.short[r] for r in recipients)}"
        )
        self.console.print(f"  {how} — mã / id [dim]{message_id}[/]")
        message = sender.timeline(message_id)["message"]
        self._show_verdicts(self.network.hub_of(spec.system), message)
        sent_at = datetime.fromisoformat(message["accepted_at"])
        waiting = set(recipients)
        deadline = time.monotonic() + WAIT_SECONDS
        while waiting and time.monotonic() < deadline:
            for party in [s for s in SIGNATORIES if s.agency in waiting]:
                for item in self.rest[party.system].inbox(kind="edoc"):
                    path, there = self._take(party, item)
                    seconds = (
                        datetime.fromisoformat(item["accepted_at"]) - sent_at
                    ).total_seconds()
                    if item["document_id"] != message["document_id"] or seconds < 0:
                        continue  # left over from an earlier start: taken all the same
                    waiting.discard(party.agency)
                    sig = there["signatures"]
                    self.console.print(
                        f"  [green]✓[/] {self.short[party.agency]} nhận / received: "
                        f"[bold]{' → '.join(path)}[/], {seconds:.2f} s — tại / at {path[-1]}: "
                        f"PDF {_verdict(sig['pdf'])}, gói tin / package "
                        f"{_verdict(sig['package'])} — báo / answered 01 + 03"
                    )
            time.sleep(0.05)
        for agency in sorted(waiting):
            self.console.print(
                f"  [red]✗[/] {self.short[agency]}: chưa tới sau / not there after "
                f"{WAIT_SECONDS:.0f} s (xem / see: lienthong deadletter list)"
            )
        expected = 2 * (len(recipients) - len(waiting))
        statuses: list[dict[str, Any]] = []
        while time.monotonic() < deadline:
            statuses = sender.timeline(message_id)["statuses"]
            if len(statuses) >= expected:
                break
            time.sleep(0.05)
        self.statuses_back += len(statuses)
        for item in sender.inbox(kind="status"):  # the sender system reads them
            sender.fetch(item["message_id"])
            sender.ack(item["message_id"])
        by_agency: dict[str, list[str]] = {}
        for status in statuses:
            by_agency.setdefault(status["from"], []).append(status["status_code"])
        back = ", ".join(f"{self.short[a]} {' + '.join(c)}" for a, c in by_agency.items())
        seconds = max(
            ((datetime.fromisoformat(s["at"]) - sent_at).total_seconds() for s in statuses),
            default=0,
        )
        colour = "green" if len(statuses) >= expected else "yellow"
        self.console.print(
            f"  [{colour}]↩[/] trạng thái về / statuses back: {back or '-'} "
            f"({len(statuses)}/{expected}) — {seconds:.2f} s sau khi gửi / after sending"
        )

    def _take(self, party: Signatory, item: dict[str, Any]) -> tuple[list[str], dict[str, Any]]:
        """What a recipient system does with a document: fetch it, acknowledge it, answer
        01 (arrived) and 03 (registered). Returns the hubs it passed through and the
        message as the last hub recorded it."""
        client = self.rest[party.system]
        message_id = item["message_id"]
        client.fetch(message_id)
        client.ack(message_id)
        for code in (StatusCode.ARRIVED, StatusCode.ACCEPTED):
            client.status(
                message_id,
                agency=item["recipient"],
                status_code=code.value,
                description=code.vi,
                staff={"department": "Văn thư", "staff": "Trần Thị Bình"},
            )
        self.received += 1
        self.answered += 2
        message: dict[str, Any] = client.timeline(message_id)["message"]
        path = [*(hop["hub"] for hop in message["hops"]), self.network.hub_of(party.system)]
        self.paths[" → ".join(path)] += 1
        return path, message

    def _show_verdicts(self, hub_id: str, message: dict[str, Any]) -> None:
        """What the sender's hub recorded, read back from the REST timeline."""
        sig = message.get("signatures") or {}
        report = sig.get("report") or {}
        pdf, package = sig.get("pdf"), sig.get("package")
        self.verdicts["pdf"][pdf or "-"] += 1
        self.verdicts["package"][package or "-"] += 1
        pdf_reports = report.get("pdf") or []
        pdf_reason = next((r.get("reason") for r in pdf_reports if r.get("reason")), None)
        pdf_text = _verdict(pdf, pdf_reason)
        if pdf == "valid":
            signed_by = [s.get("name") or "?" for r in pdf_reports for s in r.get("signatures", [])]
            pdf_text += f" — {escape(' + '.join(signed_by))}"
        package_text = _verdict(package, (report.get("package") or {}).get("reason"))
        self.console.print(
            f"  [magenta]✎[/] chữ ký, trục {hub_id} ghi nhận / signatures, hub {hub_id} "
            f"recorded: PDF: {pdf_text} | gói tin / package: {package_text}"
        )


def _blob(data: bytes) -> Any:
    from lienthong.edxml.attachments import Blob

    return Blob.from_bytes(data)


def _read_json(path: Path) -> dict[str, Any]:
    try:
        data = json.loads(path.read_text(encoding="utf-8"))
    except (OSError, ValueError):
        return {}
    return data if isinstance(data, dict) else {}


def _counts(counter: Counter[str]) -> str:
    return ", ".join(f"{verdict} {n}" for verdict, n in sorted(counter.items())) or "-"


_ROLES = {"national": "quốc gia / national", "ministry": "bộ / ministry"}


def _introduce(
    console: Console, network: Network, names: dict[str, str], pki: DemoPki, data_dir: Path
) -> None:
    """Where the hubs are, who talks to whom, and how to watch it."""
    console.rule("[bold]lienthong — mạng trục liên thông (demo) / a network of hubs (demo)")
    console.print(
        f"Bốn trục trên máy này / four hubs on this machine — dữ liệu / data: "
        f"{data_dir.resolve()} (mỗi trục một thư mục / a folder per hub: SQLite + tệp / files)"
    )
    for plan in network.plans.values():
        role = _ROLES.get(plan.role, "tỉnh / province")
        console.print(
            f"  [bold]{plan.hub_id:<4}[/] {role:<20} [bold]{plan.url}[/]  {escape(plan.name)}",
            soft_wrap=True,
        )
    console.print(
        "  Trên mỗi trục / on every hub: <URL>/docs (API), <URL>/metrics (chỉ số / metrics)"
    )
    console.print(
        "  Đường đi / routes: tỉnh, bộ ↔ vn ↔ tỉnh, bộ — vn định tuyến theo mã cấp 1 / vn routes "
        "by level-1 code (H41, H42, G12)"
    )
    console.print(
        "Lưu lượng MẪU / SAMPLE traffic — mỗi vòng, mỗi bên gửi cho hai bên kia / every round "
        "each party writes to the two others:"
    )
    for spec in SIGNATORIES:
        hub_id = network.hub_of(spec.system)
        console.print(
            f"  {spec.agency} {escape(names[spec.agency])} — hệ thống / system {spec.system} "
            f"@ {hub_id}"
        )

    first, last = SIGNATORIES[0], SIGNATORIES[-1]
    first_hub = network.hub_of(first.system)
    lienthong = ".venv/bin/lienthong"
    console.print(
        f"[bold]Theo dõi / watch it[/] — khóa API / API keys: {network.base_dir / 'network.json'}"
    )
    lines = [
        (
            f"hộp thư của {names[last.agency]}: gói tin chưa xác nhận / its inbox: packages "
            "not yet acknowledged",
            f"{lienthong} inbox --hub {network.url(network.hub_of(last.system))} "
            f"--api-key {network.key(last.system)}",
        ),
        (
            f"diễn biến một văn bản {names[first.agency]} gửi (ID: “mã / id” dưới dòng →) / "
            "timeline of a document it sent (ID: the “id” under its → line)",
            f"{lienthong} timeline ID --hub {network.url(first_hub)} "
            f"--api-key {network.key(first.system)}",
        ),
        (
            "thư chết: gói tin không chuyển được (cũng: g12, h41, h42) / dead letters: "
            "relays given up (also g12, h41, h42)",
            f"{lienthong} deadletter list --data-dir {network.base_dir / NATIONAL}",
        ),
        (
            "nhật ký kiểm toán (mỗi trục một chuỗi) / the audit chain (one per hub)",
            f"{lienthong} audit verify --data-dir {network.base_dir / first_hub}",
        ),
    ]
    for comment, command in lines:
        console.print(f"  [dim]# {escape(comment)}[/]", soft_wrap=True)
        console.print(f"  {command}", markup=False, soft_wrap=True)

    state = "mới tạo / created" if pki.created else "đã có / reused"
    console.print(
        f"[bold]PKI THỬ NGHIỆM / TEST PKI[/] — CA “{escape(CA_NAME)}” ({state}): {pki.ca.directory}"
    )
    console.print(f"  Tin cậy, chung cho các trục / trust, shared by the hubs: {pki.trust_dir}")
    console.print(
        "  Thu hồi / CRLs: <URL>/pki/issuing.crl, <URL>/pki/root.crl (mọi trục / every hub)"
    )
    console.print(
        f"  Chứng thư / certificates: {pki.cert_dir} (.p12; {pki.issued} mới cấp / newly "
        f"issued; mật khẩu / password: {data_dir / 'pki.json'})"
    )
    for agency, signer in pki.signers.items():
        console.print(
            f"    {agency} {escape(signer.org_name)} + {signer.spec.name}, {signer.spec.position}"
        )
    console.print(
        "  Chính sách / policy: flag — trục kiểm tra chữ ký và ghi nhận, không từ chối / "
        "the hubs verify and record, never refuse; 1/5 văn bản cố ý không ký / "
        "one document in five deliberately unsigned"
    )
    console.print("Nhấn Ctrl-C để dừng / press Ctrl-C to stop")


def _introduce_office(console: Console, office: RunningOffice) -> None:
    console.print(
        f"[bold]Văn phòng điện tử dùng chung của tỉnh / the province's shared e-office[/]: "
        f"[bold]{office.url}[/] — một hệ thống kết nối của trục h41 / one connected system of "
        f"hub h41 ({OFFICE_SYSTEM}); đăng nhập / logins (mật khẩu / password "
        f"{office.logins[0]['password'] if office.logins else ''}):"
    )
    for login in office.logins:
        console.print(f"  {login['username']:<16} {login['role']:<8} {login['agency']}")


def main() -> None:
    # cryptography warns when a name attribute passes 64 UTF-8 *bytes*; RFC 5280 counts
    # characters, and the test CA's Vietnamese name legitimately passes 64 bytes
    warnings.filterwarnings("ignore", message="Attribute's length", category=UserWarning)
    console = Console()
    data_dir = Path(os.environ.get("LIENTHONG_DEMO_DIR", "lienthong-demo"))
    first_port = int(os.environ.get("LIENTHONG_PORT", "8080"))
    rounds = int(os.environ.get("LIENTHONG_DEMO_ROUNDS", "0"))
    interval = float(os.environ.get("LIENTHONG_DEMO_INTERVAL", "2"))
    plans = standard_plans()
    for n, plan in enumerate(plans):
        plan.port = _free_port(first_port + n if first_port else 0)
    names = {code: name for p in plans for code, name in p.agencies}
    national = next(p for p in plans if p.hub_id == NATIONAL)
    data_dir.mkdir(parents=True, exist_ok=True)
    pki_file = data_dir / "pki.json"
    pki = setup_pki(
        data_dir, crl_base_url=f"{national.url}/pki", names=names, saved=_read_json(pki_file)
    )
    _write_private(pki_file, json.dumps(pki.to_json(), ensure_ascii=False, indent=2).encode())
    network = provision(
        plans,
        data_dir,
        signature_policy="flag",
        trust_dir=pki.trust_dir,
        ca_dir=pki.ca.directory,
    )
    sample_pdf = data_dir / "signed-sample.pdf"
    office_port = _free_port(first_port + len(plans) if first_port else 0)
    with serve_in_process(network):
        office = start_sample_office(
            data_dir / "office",
            hub_url=network.url(network.hub_of(OFFICE_SYSTEM)),
            api_key=network.key(OFFICE_SYSTEM),
            port=office_port,
            poll_seconds=1.0,
        )
        _introduce(console, network, names, pki, data_dir)
        _introduce_office(console, office)
        traffic = Traffic(network, names, console, pki, sample_pdf)
        done = 0
        try:
            while True:
                done += 1
                console.print(f"\n[bold]Vòng / round {done}[/]")
                try:
                    traffic.round(office=True)
                except HubClientError as exc:
                    console.print(f"[red]lỗi / error[/] {escape(str(exc))}")
                if done == rounds:
                    break
                time.sleep(interval)
        except KeyboardInterrupt:
            pass
        finally:
            traffic.close()
            office.stop()
    console.print(
        f"\nĐã gửi / sent {traffic.sent}, đã nhận / received {traffic.received}, "
        f"trạng thái gửi / statuses sent {traffic.answered}, về tới nơi gửi / back at the "
        f"senders {traffic.statuses_back}"
    )
    console.print(
        f"Văn phòng điện tử / e-office: gửi tới / sent {traffic.to_office}, đã nhận và báo 01 / "
        f"taken and answered 01: {traffic.office_arrived}"
    )
    console.print(
        "Đường đi / paths: "
        + (", ".join(f"{path} ×{n}" for path, n in sorted(traffic.paths.items())) or "-")
    )
    console.print(
        f"Kết luận của trục gửi / verdicts of the sending hubs — PDF: "
        f"{_counts(traffic.verdicts['pdf'])}; gói tin / package: "
        f"{_counts(traffic.verdicts['package'])}"
    )
    pdf_file = sample_pdf if sample_pdf.is_file() else Path("FILE.pdf")
    console.print("Kiểm tra chữ ký một tệp PDF bằng tay / verify a PDF by hand:")
    console.print(
        f"  .venv/bin/lienthong verify pdf {pdf_file} --trust {pki.trust_dir}",
        markup=False,
        soft_wrap=True,
    )


if __name__ == "__main__":
    main()
