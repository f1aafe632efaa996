"""Validation of edXML packages: a list of typed problems, never an exception.

Two modes. On **input** (``for_output=False``) the rules that real traffic breaks without
harm — Decree 30 length limits, unknown status codes, short legacy agency codes — are
warnings; on **output** (what lienthong writes) they are errors, so we never emit what a
strict receiver (e.g. the BKAV provincial hub validator) would refuse.

Identifiers outside the standard form (``vxp.saas.03``) are errors unless the caller says
they are registered (``registered``: a set or a lookup, e.g. a hub's directory); a
registered one is a warning naming the standard form, in both modes. An OrganId that is
``null``, empty or blank counts as absent: an error where it is required (From, To, the
ResponseFor of a status), a warning in the optional ResponseFor of a document.
"""

from __future__ import annotations

import re
from collections.abc import Callable, Iterable
from dataclasses import replace
from datetime import datetime, timedelta
from typing import Any
from zoneinfo import ZoneInfo

from lienthong.edxml.agency import (
    Registered,
    is_blank_organ_id,
    parse_agency_code,
    registry,
)
from lienthong.edxml.codes import BusinessDocType, Priority, StatusCode, SteeringType
from lienthong.edxml.errors import Code, EdxmlError, Problem, Severity, problem
from lienthong.edxml.model import DATE_FORMAT, TIMESTAMP_FORMAT, Edoc, Organization, Package, Status

_VIETNAM = ZoneInfo("Asia/Ho_Chi_Minh")
_DATE = re.compile(r"[0-9]{4}/[0-9]{2}/[0-9]{2}")
_TIMESTAMP = re.compile(r"[0-9]{4}/[0-9]{2}/[0-9]{2} [0-9]{2}:[0-9]{2}:[0-9]{2}")
_UINT = re.compile(r"[0-9]+")
_STATUS_FORMAT = re.compile(r"[0-9]{2}")

#: Decree 30 Annex VI (and the BKAV production validator where Decree 30 is silent).
ORG_LIMITS = {
    "organ_id": ("OrganId", 13),
    "organization_in_charge": ("OrganizationInCharge", 500),
    "organ_name": ("OrganName", 200),
    "organ_add": ("OrganAdd", 500),
    "email": ("Email", 100),
    "telephone": ("Telephone", 20),
    "fax": ("Fax", 20),
}
_PRIORITIES = {str(int(p)) for p in Priority}
_BUSINESS_TYPES = {str(int(b)) for b in BusinessDocType}
_STEERING = {str(int(s)) for s in SteeringType}
_STATUS_CODES = {str(s.value) for s in StatusCode}


def unregistered(value: str, field: str) -> Problem:
    """``AGENCY_CODE_INVALID`` for an identifier that is neither in the standard form nor
    registered (the message says both)."""
    return problem(
        Code.AGENCY_CODE_INVALID,
        field,
        value=value,
        detail=" và không có trong danh bạ là mã không chuẩn",
        detail_en=" and is not registered in the directory as a non-standard identifier",
    )


class _Checker:
    def __init__(self, for_output: bool, registered: Registered | None = None) -> None:
        self.for_output = for_output
        self.problems: list[Problem] = []
        self.consulted = registered is not None
        self.registered: Callable[[str], bool] = registry(registered)

    def add(self, p: Problem) -> None:
        self.problems.append(p)

    def soft(self, code: Code, field: str, **params: Any) -> None:
        """An error on output, a warning on input."""
        severity = Severity.ERROR if self.for_output else Severity.WARNING
        self.add(problem(code, field, severity=severity, **params))

    def required(self, value: str | None, field: str) -> bool:
        if value is None or not value.strip():
            self.add(problem(Code.REQUIRED, field))
            return False
        return True

    def length(self, value: str | None, limit: int, field: str) -> None:
        if value is not None and len(value.strip()) > limit:
            self.soft(Code.TOO_LONG, field, length=len(value.strip()), limit=limit)

    def date(self, value: str | None, field: str) -> datetime | None:
        if not value:
            return None
        if _DATE.fullmatch(value):
            try:
                return datetime.strptime(value, DATE_FORMAT)
            except ValueError:
                pass
        self.add(problem(Code.DATE_FORMAT, field, value=value))
        return None

    def timestamp(self, value: str | None, field: str) -> None:
        if not value:
            return
        if _TIMESTAMP.fullmatch(value):
            try:
                datetime.strptime(value, TIMESTAMP_FORMAT)
                return
            except ValueError:
                pass
        self.add(problem(Code.TIMESTAMP_FORMAT, field, value=value))

    def one_of(
        self, value: str | None, allowed: set[str], field: str, *, soft: bool = False
    ) -> None:
        if value is None or value == "":
            return
        if value not in allowed:
            allowed_text = ", ".join(sorted(allowed))
            if soft:
                self.soft(Code.OUT_OF_RANGE, field, value=value, allowed=allowed_text)
            else:
                self.add(problem(Code.OUT_OF_RANGE, field, value=value, allowed=allowed_text))

    def uint(self, value: str | None, field: str, maximum: int | None = None) -> None:
        if value is None or value == "":
            return
        if not _UINT.fullmatch(value):
            self.add(problem(Code.NOT_A_NUMBER, field, value=value))
        elif maximum is not None and int(value) > maximum:
            self.soft(Code.OUT_OF_RANGE, field, value=value, allowed=f"0–{maximum}")

    def agency(self, value: str | None, field: str, *, soft: bool = False) -> None:
        """A code at ``field``: standard (legacy forms warn), else registered non-standard
        (a warning), else an error — or, with ``soft``, an error on output only."""
        if is_blank_organ_id(value):
            self.add(problem(Code.REQUIRED, field))
            return
        assert value is not None
        try:
            _, warnings = parse_agency_code(value)
        except EdxmlError as exc:
            stripped = value.strip()
            if self.registered(stripped):
                if stripped != value:
                    self.add(
                        problem(
                            Code.AGENCY_CODE_WHITESPACE,
                            field,
                            severity=Severity.WARNING,
                            value=value,
                        )
                    )
                self.add(
                    problem(
                        Code.AGENCY_CODE_NONSTANDARD,
                        field,
                        severity=Severity.WARNING,
                        value=stripped,
                    )
                )
                return
            if self.consulted:
                found = unregistered(value, field)
            else:
                found = replace(exc.problem, field=field)
            if soft and not self.for_output:
                found = replace(found, severity=Severity.WARNING)
            self.add(found)
            return
        for w in warnings:
            severity = Severity.ERROR if self.for_output else Severity.WARNING
            self.add(replace(w, field=field, severity=severity))

    def optional_agency(self, value: str | None, field: str, *, block_empty: bool) -> None:
        """An OrganId in an optional block: ``null``/empty/blank is absent (a warning,
        unless the whole block is empty, as in the official samples); a present one is
        checked like any code, softly (the hub does not route on it)."""
        if is_blank_organ_id(value):
            if value is not None and not block_empty:
                self.add(
                    problem(Code.AGENCY_CODE_ABSENT, field, severity=Severity.WARNING, value=value)
                )
            return
        self.agency(value, field, soft=True)

    def organization(self, org: Organization, field: str) -> None:
        self.agency(org.organ_id, f"{field}/OrganId")
        for attr, (name, limit) in ORG_LIMITS.items():
            if attr != "organ_id":
                self.length(getattr(org, attr), limit, f"{field}/{name}")


def validate(
    package: Package, *, for_output: bool = False, registered: Registered | None = None
) -> list[Problem]:
    """Every problem of ``package``; an empty list means it is valid. ``registered`` says
    which non-standard identifiers a directory knows (a set, or a lookup such as a hub's
    directory); without it, every identifier outside the standard form is an error."""
    checker = _Checker(for_output, registered)
    checker.problems.extend(package.warnings)
    if isinstance(package, Status):
        _status(checker, package)
    else:
        _edoc(checker, package)
    return checker.problems


def errors(problems: Iterable[Problem]) -> list[Problem]:
    return [p for p in problems if p.is_error]


def _edoc(c: _Checker, e: Edoc) -> None:
    mh = "MessageHeader"
    c.organization(e.sender, f"{mh}/From")
    if not e.recipients:
        c.add(problem(Code.REQUIRED, f"{mh}/To"))
    seen: set[str] = set()
    for i, org in enumerate(e.recipients, start=1):
        c.organization(org, f"{mh}/To[{i}]")
        key = (org.organ_id or "").strip()
        if key and key in seen:
            c.add(problem(Code.DUPLICATE_RECIPIENT, f"{mh}/To[{i}]/OrganId", detail=key))
        seen.add(key)
    if c.required(e.code.number, f"{mh}/Code/CodeNumber"):
        c.length(e.code.number, 11, f"{mh}/Code/CodeNumber")
    if c.required(e.code.notation, f"{mh}/Code/CodeNotation"):
        c.length(e.code.notation, 30, f"{mh}/Code/CodeNotation")
    if c.required(e.subject, f"{mh}/Subject"):
        c.length(e.subject, 500, f"{mh}/Subject")
    c.length(e.content, 500, f"{mh}/Content")
    if e.promulgation is not None:
        c.length(e.promulgation.place, 50, f"{mh}/PromulgationInfo/Place")
        issued = c.date(e.promulgation.date, f"{mh}/PromulgationInfo/PromulgationDate")
        tomorrow = datetime.now(_VIETNAM).replace(tzinfo=None) + timedelta(days=1)
        if issued is not None and issued > tomorrow:
            c.soft(
                Code.FUTURE_DATE,
                f"{mh}/PromulgationInfo/PromulgationDate",
                value=e.promulgation.date,
            )
    if c.for_output:
        c.required(e.document_id, f"{mh}/DocumentId")
    if e.document_type is not None:
        c.one_of(e.document_type.type, {"1", "2"}, f"{mh}/DocumentType/Type")
        c.uint(e.document_type.type_detail, f"{mh}/DocumentType/TypeDetail")
        c.length(e.document_type.type_name, 100, f"{mh}/DocumentType/TypeName")
    if e.signer is not None:
        c.length(e.signer.position, 100, f"{mh}/SignerInfo/Position")
        c.length(e.signer.full_name, 50, f"{mh}/SignerInfo/FullName")
    c.date(e.due_date, f"{mh}/DueDate")
    if e.other_info is not None:
        o, f = e.other_info, f"{mh}/OtherInfo"
        c.one_of(o.priority, _PRIORITIES, f"{f}/Priority")
        c.length(o.sphere_of_promulgation, 100, f"{f}/SphereOfPromulgation")
        c.length(o.typer_notation, 10, f"{f}/TyperNotation")
        c.uint(o.promulgation_amount, f"{f}/PromulgationAmount", 65535)
        c.uint(o.page_amount, f"{f}/PageAmount", 999)
        for i, appendix in enumerate(o.appendixes or [], start=1):
            c.length(appendix, 250, f"{f}/Appendixes/Appendix[{i}]")
    for i, rf in enumerate(e.response_for, start=1):
        empty = not any(
            (v or "").strip() for v in (rf.organ_id, rf.code, rf.promulgation_date, rf.document_id)
        )
        c.optional_agency(rf.organ_id, f"{mh}/ResponseFor[{i}]/OrganId", block_empty=empty)
        c.date(rf.promulgation_date, f"{mh}/ResponseFor[{i}]/PromulgationDate")
    c.one_of(e.steering_type, _STEERING, f"{mh}/SteeringType", soft=True)
    for i, place in enumerate(e.to_places or [], start=1):
        c.length(place, 150, f"{mh}/ToPlaces/Place[{i}]")
    if not e.trace_headers:
        c.soft(Code.REQUIRED, "TraceHeaderList/TraceHeader")
    for i, th in enumerate(e.trace_headers, start=1):
        c.timestamp(th.timestamp, f"TraceHeaderList/TraceHeader[{i}]/Timestamp")
    if e.business is not None:
        b = e.business
        c.one_of(b.doc_type, _BUSINESS_TYPES, "TraceHeaderList/Bussiness/BussinessDocType")
        c.one_of(b.paper, {"0", "1"}, "TraceHeaderList/Bussiness/Paper", soft=True)
    _attachments(c, e)


def _attachments(c: _Checker, e: Edoc) -> None:
    ids: set[str] = set()
    for i, att in enumerate(e.attachments, start=1):
        field = f"AttachmentEncoded/Attachment[{i}]"
        if att.problem is not None:
            c.add(att.problem)
        c.length(att.name, 200, f"{field}/AttachmentName")
        bare = att.bare_id
        if not bare:
            if not c.for_output:
                c.add(problem(Code.REQUIRED, f"{field}/ContentId"))
            continue
        if bare in ids:
            c.add(problem(Code.ATTACHMENT_DUPLICATE, f"{field}/ContentId", detail=bare))
        ids.add(bare)
    if c.for_output:
        return  # the builder writes the manifest from the attachments themselves
    referenced: set[str] = set()
    for i, ref in enumerate(e.manifest, start=1):
        cid = (ref.content_id or "").strip()
        bare = cid[4:] if cid.lower().startswith("cid:") else cid
        referenced.add(bare)
        if bare not in ids:
            c.add(
                problem(
                    Code.ATTACHMENT_UNPAIRED,
                    f"edXMLManifest/Reference[{i}]/ContentId",
                    detail=f"'{bare}' có trong manifest, không có trong AttachmentEncoded",
                    detail_en=f"'{bare}' is in the manifest but not in AttachmentEncoded",
                )
            )
    for i, att in enumerate(e.attachments, start=1):
        if att.bare_id and att.bare_id not in referenced:
            c.add(
                problem(
                    Code.ATTACHMENT_UNPAIRED,
                    f"AttachmentEncoded/Attachment[{i}]/ContentId",
                    detail=f"'{att.bare_id}' không được khai báo trong manifest",
                    detail_en=f"'{att.bare_id}' is not listed in the manifest",
                )
            )


def _status(c: _Checker, s: Status) -> None:
    mh = "MessageHeader"
    c.organization(s.sender, f"{mh}/From")
    c.agency(s.response_for.organ_id, f"{mh}/ResponseFor/OrganId")
    c.required(s.response_for.document_id, f"{mh}/ResponseFor/DocumentId")
    c.date(s.response_for.promulgation_date, f"{mh}/ResponseFor/PromulgationDate")
    if c.required(s.status_code, f"{mh}/StatusCode"):
        code = (s.status_code or "").strip()
        if not _STATUS_FORMAT.fullmatch(code):
            c.add(problem(Code.OUT_OF_RANGE, f"{mh}/StatusCode", value=code, allowed="01–99"))
        else:
            c.one_of(code, _STATUS_CODES, f"{mh}/StatusCode", soft=True)
    if c.required(s.timestamp, f"{mh}/Timestamp"):
        c.timestamp(s.timestamp, f"{mh}/Timestamp")
    if s.staff is not None:
        c.length(s.staff.email, 100, f"{mh}/StaffInfo/Email")
