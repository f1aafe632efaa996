"""Write edXML packages in the layout of the official samples.

The root declares the edXML namespace as default, the envelope re-declares it with the
``edXML`` prefix and every header element is prefixed; ``AttachmentEncoded`` is an
unprefixed sibling of the envelope whose ``ContentTransferEncoded`` children carry the
prefix again — exactly what the VNPT library writes and existing platform software reads.

Output is deterministic: building, parsing and building again gives the same bytes.
Attachments are written unzipped, with their real content type, base64-encoded in a
single line while streaming from their blob (constant memory).
"""

from __future__ import annotations

import hashlib
import io
import mimetypes
import re
import uuid
from collections.abc import Iterable
from datetime import datetime
from typing import IO
from zoneinfo import ZoneInfo

import pybase64

from lienthong.edxml.agency import Registered
from lienthong.edxml.attachments import ZIP_MAGIC, Blob
from lienthong.edxml.errors import Code, EdxmlError, Problem
from lienthong.edxml.model import (
    DATE_FORMAT,
    NS,
    TIMESTAMP_FORMAT,
    Attachment,
    Business,
    Edoc,
    Package,
    StaffInfo,
    Status,
    TraceHeader,
)

VIETNAM = ZoneInfo("Asia/Ho_Chi_Minh")
_B64_READ = 3 * (1 << 18)  # multiple of 3: chunks encode without padding in the middle
_INVALID_XML_CHARS = re.compile("[\x00-\x08\x0b\x0c\x0e-\x1f\ud800-\udfff\ufffe\uffff]")
_ESCAPES = str.maketrans({"&": "&amp;", "<": "&lt;", ">": "&gt;", "\r": "&#13;"})
_ZIP_TYPES = {"application/zip", "application/x-zip-compressed"}
NEW_DOCUMENT_REASON = "Văn bản điện tử mới"


class BuildError(EdxmlError):
    """The package cannot be written: it breaks the rules enforced on output."""

    def __init__(self, problems: list[Problem]) -> None:
        super().__init__(problems[0])
        self.problems = problems


class _Writer:
    def __init__(self) -> None:
        self.parts: list[str] = []

    def open(self, depth: int, name: str, attrs: str = "") -> None:
        self.parts.append(f"{'  ' * depth}<edXML:{name}{attrs}>\n")

    def close(self, depth: int, name: str) -> None:
        self.parts.append(f"{'  ' * depth}</edXML:{name}>\n")

    def leaf(self, depth: int, name: str, value: str | None, prefix: str = "edXML:") -> None:
        if value is None:
            return
        text = value.strip()
        if _INVALID_XML_CHARS.search(text):
            raise EdxmlError.of(
                Code.SPEC_INVALID, name, detail=f"{name}: character not allowed in XML"
            )
        if text:
            escaped = text.translate(_ESCAPES)
            self.parts.append(f"{'  ' * depth}<{prefix}{name}>{escaped}</{prefix}{name}>\n")
        else:
            self.parts.append(f"{'  ' * depth}<{prefix}{name}/>\n")

    def fields(self, depth: int, obj: object, spec: Iterable[tuple[str, str]]) -> None:
        for name, attr in spec:
            self.leaf(depth, name, getattr(obj, attr))

    def block(self, depth: int, name: str, obj: object, spec: Iterable[tuple[str, str]]) -> None:
        self.open(depth, name)
        self.fields(depth + 1, obj, spec)
        self.close(depth, name)

    def text(self) -> str:
        return "".join(self.parts)


_ORG = (
    ("OrganId", "organ_id"),
    ("OrganizationInCharge", "organization_in_charge"),
    ("OrganName", "organ_name"),
    ("OrganAdd", "organ_add"),
    ("Email", "email"),
    ("Telephone", "telephone"),
    ("Fax", "fax"),
    ("Website", "website"),
)
_RESPONSE = (  # the samples' order, for documents and statuses alike
    ("OrganId", "organ_id"),
    ("Code", "code"),
    ("DocumentId", "document_id"),
    ("PromulgationDate", "promulgation_date"),
)
_STAFF = (
    ("Department", "department"),
    ("Staff", "staff"),
    ("Email", "email"),
    ("Mobile", "mobile"),
)


def default_document_id(edoc: Edoc) -> str | None:
    """``OrganId,yyyy/MM/dd,number/notation`` as the official SDK builds it."""
    date = edoc.promulgation.date if edoc.promulgation else None
    if not (edoc.sender.organ_id and date and edoc.code.number and edoc.code.notation):
        return None
    return f"{edoc.sender.organ_id},{date},{edoc.code.number}/{edoc.code.notation}"


def now_timestamp() -> str:
    return datetime.now(VIETNAM).strftime(TIMESTAMP_FORMAT)


def today() -> str:
    return datetime.now(VIETNAM).strftime(DATE_FORMAT)


def wire_content_type(att: Attachment) -> str:
    """The content type to declare for the (unzipped) content we write."""
    declared = (att.content_type or "").strip()
    is_zip = att.content is not None and att.content.head(4) == ZIP_MAGIC
    if declared and (declared.lower() not in _ZIP_TYPES or is_zip):
        return declared
    guessed, _ = mimetypes.guess_type(att.name or "")
    return guessed or ("application/zip" if is_zip else "application/octet-stream")


def content_id_for(att: Attachment, index: int) -> str:
    """A stable ``cid:`` for an attachment that has none (derived from its content)."""
    if att.content_id and att.content_id.strip():
        cid = att.content_id.strip()
        return cid if cid.lower().startswith("cid:") else f"cid:{cid}"
    seed = f"{index}:{att.content.sha256 if att.content else ''}:{att.name or ''}"
    digest = hashlib.sha256(seed.encode()).hexdigest()[:32]
    return f"cid:{uuid.UUID(hex=digest, version=4)}"


def prepare(package: Package) -> Package:
    """Fill what the builder derives: DocumentId, a first TraceHeader, the business block
    of a new document, content ids. Idempotent; returns the same object."""
    if isinstance(package, Edoc):
        if not package.document_id:
            package.document_id = default_document_id(package)
        if not package.trace_headers:
            package.trace_headers = [
                TraceHeader(organ_id=package.sender.organ_id, timestamp=now_timestamp())
            ]
        if package.business is None:
            package.business = Business(doc_type="0", reason=NEW_DOCUMENT_REASON, paper="0")
        for i, att in enumerate(package.attachments, start=1):
            att.content_id = content_id_for(att, i)
    return package


def build(package: Package, *, check: bool = True, registered: Registered | None = None) -> bytes:
    """The package as bytes. See :func:`write` for the contract."""
    out = io.BytesIO()
    write(package, out, check=check, registered=registered)
    return out.getvalue()


def write(
    package: Package,
    out: IO[bytes],
    *,
    check: bool = True,
    registered: Registered | None = None,
) -> None:
    """Write ``package`` to ``out``. Derived fields are filled first (:func:`prepare`);
    with ``check`` the output rules (required fields, formats, Decree 30 lengths) are
    enforced and a :class:`BuildError` lists every violation. Identifiers outside the
    standard form are written only when ``registered`` (see :mod:`lienthong.edxml.validate`)
    says they are."""
    from lienthong.edxml.validate import validate

    prepare(package)
    if check:
        errors = [
            p for p in validate(package, for_output=True, registered=registered) if p.is_error
        ]
        if errors:
            raise BuildError(errors)
    w = _Writer()
    w.parts.append('<?xml version="1.0" encoding="UTF-8"?>\n')
    w.parts.append(f'<edXML xmlns="{NS}">\n')
    w.parts.append(f'  <edXML:edXMLEnvelope xmlns:edXML="{NS}">\n')
    w.open(2, "edXMLHeader")
    w.open(3, "MessageHeader")
    if isinstance(package, Status):
        _status_header(w, package)
        w.close(3, "MessageHeader")
        w.close(2, "edXMLHeader")
        w.parts.append("  </edXML:edXMLEnvelope>\n</edXML>\n")
        out.write(w.text().encode("utf-8"))
        return
    _edoc_header(w, package)
    w.close(3, "MessageHeader")
    _trace_list(w, package)
    w.close(2, "edXMLHeader")
    w.open(2, "edXMLBody")
    if package.attachments:
        w.open(3, "edXMLManifest", ' version="1.0"')
        for att in package.attachments:
            w.open(4, "Reference")
            w.leaf(5, "ContentId", att.content_id)
            w.leaf(5, "ContentType", wire_content_type(att))
            w.leaf(5, "Description", att.description)
            w.leaf(5, "AttachmentName", att.name)
            w.close(4, "Reference")
        w.close(3, "edXMLManifest")
    else:
        w.parts.append('      <edXML:edXMLManifest version="1.0"/>\n')
    w.close(2, "edXMLBody")
    w.parts.append("  </edXML:edXMLEnvelope>\n")
    if package.attachments:
        w.parts.append("  <AttachmentEncoded>\n")
        out.write(w.text().encode("utf-8"))
        for att in package.attachments:
            _attachment(out, att)
        out.write(b"  </AttachmentEncoded>\n</edXML>\n")
    else:
        w.parts.append("</edXML>\n")
        out.write(w.text().encode("utf-8"))


def _edoc_header(w: _Writer, e: Edoc) -> None:
    w.block(4, "From", e.sender, _ORG)
    for org in e.recipients:
        w.block(4, "To", org, _ORG)
    w.leaf(4, "DocumentId", e.document_id)
    w.block(4, "Code", e.code, (("CodeNumber", "number"), ("CodeNotation", "notation")))
    if e.promulgation is not None:
        w.block(
            4,
            "PromulgationInfo",
            e.promulgation,
            (("Place", "place"), ("PromulgationDate", "date")),
        )
    if e.document_type is not None:
        w.block(
            4,
            "DocumentType",
            e.document_type,
            (("Type", "type"), ("TypeDetail", "type_detail"), ("TypeName", "type_name")),
        )
    w.leaf(4, "Subject", e.subject)
    w.leaf(4, "Content", e.content)
    if e.signer is not None:
        w.block(
            4,
            "SignerInfo",
            e.signer,
            (("Competence", "competence"), ("Position", "position"), ("FullName", "full_name")),
        )
    w.leaf(4, "DueDate", e.due_date)
    if e.other_info is not None:
        o = e.other_info
        w.open(4, "OtherInfo")
        w.fields(
            5,
            o,
            (
                ("Priority", "priority"),
                ("SphereOfPromulgation", "sphere_of_promulgation"),
                ("TyperNotation", "typer_notation"),
                ("PromulgationAmount", "promulgation_amount"),
                ("PageAmount", "page_amount"),
                ("Direction", "direction"),
            ),
        )
        if o.appendixes is not None:
            w.open(5, "Appendixes")
            for appendix in o.appendixes:
                w.leaf(6, "Appendix", appendix)
            w.close(5, "Appendixes")
        w.close(4, "OtherInfo")
    for rf in e.response_for:
        w.block(4, "ResponseFor", rf, _RESPONSE)
    w.leaf(4, "SteeringType", e.steering_type)
    if e.to_places is not None:
        w.open(4, "ToPlaces")
        for place in e.to_places:
            w.leaf(5, "Place", place)
        w.close(4, "ToPlaces")


def _status_header(w: _Writer, s: Status) -> None:
    w.block(4, "From", s.sender, _ORG)
    w.block(4, "ResponseFor", s.response_for, _RESPONSE)
    if s.staff is not None:
        w.block(4, "StaffInfo", s.staff, _STAFF)
    w.leaf(4, "StatusCode", s.status_code)
    w.leaf(4, "Description", s.description)
    w.leaf(4, "Timestamp", s.timestamp)


def _staff(w: _Writer, depth: int, staff: StaffInfo) -> None:
    w.block(depth, "StaffInfo", staff, _STAFF)


def _trace_list(w: _Writer, e: Edoc) -> None:
    w.open(3, "TraceHeaderList")
    for th in e.trace_headers:
        w.block(4, "TraceHeader", th, (("OrganId", "organ_id"), ("Timestamp", "timestamp")))
    b = e.business
    if b is not None:
        w.open(4, "Bussiness")
        w.fields(
            5,
            b,
            (
                ("DocumentId", "document_id"),
                ("BussinessDocType", "doc_type"),
                ("BussinessDocReason", "reason"),
                ("Paper", "paper"),
            ),
        )
        if b.document_info is not None:
            info = b.document_info
            w.open(5, "BussinessDocumentInfo")
            w.leaf(6, "DocumentInfo", info.document_info)
            w.leaf(6, "DocumentReceiver", info.document_receiver)
            if info.receivers is not None:
                w.open(6, "ReceiverList")
                for r in info.receivers:
                    w.open(7, "Receiver")
                    w.leaf(8, "OrganId", r.organ_id)
                    w.leaf(8, "ReceiverType", r.receiver_type)
                    w.close(7, "Receiver")
                w.close(6, "ReceiverList")
            w.close(5, "BussinessDocumentInfo")
        if b.replacements is not None:
            w.open(5, "ReplacementInfoList")
            for rep in b.replacements:
                w.open(6, "ReplacementInfo")
                w.leaf(7, "DocumentId", rep.document_id)
                w.open(7, "OrganIdList")
                for organ_id in rep.organ_ids:
                    w.leaf(8, "OrganId", organ_id)
                w.close(7, "OrganIdList")
                w.close(6, "ReplacementInfo")
            w.close(5, "ReplacementInfoList")
        if b.staff is not None:
            _staff(w, 5, b.staff)
        w.close(4, "Bussiness")
    w.close(3, "TraceHeaderList")


def _attachment(out: IO[bytes], att: Attachment) -> None:
    w = _Writer()
    w.parts.append("    <Attachment>\n")
    w.leaf(3, "ContentId", att.content_id, prefix="")
    w.leaf(3, "AttachmentName", att.name, prefix="")
    w.leaf(3, "Description", att.description, prefix="")
    w.leaf(3, "ContentType", wire_content_type(att), prefix="")
    w.parts.append(f'      <edXML:ContentTransferEncoded xmlns:edXML="{NS}">')
    out.write(w.text().encode("utf-8"))
    content = att.content if att.content is not None else Blob.from_bytes(b"")
    for chunk in content.chunks(_B64_READ):
        out.write(pybase64.b64encode(chunk))
    out.write(b"</edXML:ContentTransferEncoded>\n    </Attachment>\n")
