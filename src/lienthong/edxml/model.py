"""The edXML package model (QCVN 102:2016).

Values are kept exactly as they travel on the wire (strings, dates as ``yyyy/MM/dd``), so
that reading a package and writing it again changes nothing. ``None`` means "element
absent", ``""`` means "element present but empty". Typed views (dates, enums) are
derived by the helpers in :mod:`lienthong.edxml.codes` and :mod:`lienthong.edxml.view`.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import Literal

from lienthong.edxml.attachments import Blob
from lienthong.edxml.errors import Problem

NS = "http://www.mic.gov.vn/TBT/QCVN_102_2016"
XMLDSIG_NS = "http://www.w3.org/2000/09/xmldsig#"
XLINK_NS = "http://www.w3.org/1999/xlink"
DATE_FORMAT = "%Y/%m/%d"
TIMESTAMP_FORMAT = "%Y/%m/%d %H:%M:%S"


@dataclass(slots=True)
class Organization:
    """A ``From`` or ``To`` block."""

    organ_id: str | None = None
    organization_in_charge: str | None = None
    organ_name: str | None = None
    organ_add: str | None = None
    email: str | None = None
    telephone: str | None = None
    fax: str | None = None
    website: str | None = None


@dataclass(slots=True)
class DocumentCode:
    number: str | None = None
    notation: str | None = None

    @property
    def text(self) -> str:
        """``number/notation`` as printed on the document (``123/QĐ-UBND``)."""
        return f"{self.number or ''}/{self.notation or ''}"


@dataclass(slots=True)
class PromulgationInfo:
    place: str | None = None
    date: str | None = None


@dataclass(slots=True)
class DocumentType:
    type: str | None = None
    type_detail: str | None = None
    type_name: str | None = None


@dataclass(slots=True)
class SignerInfo:
    competence: str | None = None
    position: str | None = None
    full_name: str | None = None


@dataclass(slots=True)
class OtherInfo:
    priority: str | None = None
    sphere_of_promulgation: str | None = None
    typer_notation: str | None = None
    promulgation_amount: str | None = None
    page_amount: str | None = None
    direction: str | None = None
    appendixes: list[str] | None = None


@dataclass(slots=True)
class ResponseFor:
    organ_id: str | None = None
    code: str | None = None
    promulgation_date: str | None = None
    document_id: str | None = None

    @property
    def is_empty(self) -> bool:
        return not any((self.organ_id, self.code, self.promulgation_date, self.document_id))


@dataclass(slots=True)
class TraceHeader:
    organ_id: str | None = None
    timestamp: str | None = None


@dataclass(slots=True)
class StaffInfo:
    department: str | None = None
    staff: str | None = None
    email: str | None = None
    mobile: str | None = None


@dataclass(slots=True)
class Receiver:
    organ_id: str | None = None
    receiver_type: str | None = None


@dataclass(slots=True)
class BusinessDocumentInfo:
    document_info: str | None = None
    document_receiver: str | None = None
    receivers: list[Receiver] | None = None


@dataclass(slots=True)
class ReplacementInfo:
    document_id: str | None = None
    organ_ids: list[str] = field(default_factory=list)


@dataclass(slots=True)
class Business:
    """The ``Bussiness`` block (sic, as on the wire)."""

    document_id: str | None = None
    doc_type: str | None = None
    reason: str | None = None
    paper: str | None = None
    document_info: BusinessDocumentInfo | None = None
    replacements: list[ReplacementInfo] | None = None
    staff: StaffInfo | None = None


@dataclass(slots=True)
class ManifestReference:
    content_id: str | None = None
    content_type: str | None = None
    description: str | None = None
    attachment_name: str | None = None


@dataclass(slots=True)
class Attachment:
    """One attachment: its metadata and its decoded (and, when ZIP-wrapped, unwrapped)
    content. ``content`` is ``None`` only when the content could not be decoded; the
    reason is then in ``problem``."""

    content_id: str | None = None
    name: str | None = None
    description: str | None = None
    content_type: str | None = None
    content: Blob | None = None
    unwrapped_zip: bool = False
    problem: Problem | None = None

    @property
    def bare_id(self) -> str:
        """The content id without its ``cid:`` prefix (both spellings occur)."""
        cid = (self.content_id or "").strip()
        return cid[4:] if cid.lower().startswith("cid:") else cid


@dataclass(slots=True)
class SignatureInfo:
    """What the parser noticed about a ``Signature`` block; verification lives in pki."""

    namespace: str
    signature_method: str | None = None
    digest_method: str | None = None
    has_certificate: bool = False


@dataclass(slots=True)
class Edoc:
    """A document package."""

    sender: Organization = field(default_factory=Organization)
    recipients: list[Organization] = field(default_factory=list)
    document_id: str | None = None
    code: DocumentCode = field(default_factory=DocumentCode)
    promulgation: PromulgationInfo | None = None
    document_type: DocumentType | None = None
    subject: str | None = None
    content: str | None = None
    signer: SignerInfo | None = None
    due_date: str | None = None
    other_info: OtherInfo | None = None
    response_for: list[ResponseFor] = field(default_factory=list)
    steering_type: str | None = None
    to_places: list[str] | None = None
    trace_headers: list[TraceHeader] = field(default_factory=list)
    business: Business | None = None
    manifest: list[ManifestReference] = field(default_factory=list)
    attachments: list[Attachment] = field(default_factory=list)
    signature: SignatureInfo | None = None
    warnings: list[Problem] = field(default_factory=list)

    kind: Literal["edoc"] = "edoc"

    def close(self) -> None:
        for attachment in self.attachments:
            if attachment.content is not None:
                attachment.content.close()


@dataclass(slots=True)
class Status:
    """A status package about a previously sent document."""

    sender: Organization = field(default_factory=Organization)
    response_for: ResponseFor = field(default_factory=ResponseFor)
    staff: StaffInfo | None = None
    status_code: str | None = None
    description: str | None = None
    timestamp: str | None = None
    signature: SignatureInfo | None = None
    warnings: list[Problem] = field(default_factory=list)

    kind: Literal["status"] = "status"

    def close(self) -> None:
        return None


Package = Edoc | Status
