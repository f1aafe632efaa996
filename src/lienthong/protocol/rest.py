"""Shapes of the REST API v1 (``/api/v1``) as the hub answers and a client sends them.

Every error is ``{"error": ErrorBody}`` with a stable code, the field at fault and a message
in Vietnamese and English.
"""

from __future__ import annotations

from datetime import datetime
from typing import Annotated, Literal

from pydantic import BaseModel, BeforeValidator, Field

from lienthong.edxml.codes import status_code_alias


class ErrorBody(BaseModel):
    code: str
    field: str = ""
    message_vi: str
    message_en: str


class RecipientOut(BaseModel):
    agency: str
    state: str
    failure_code: str | None = None
    failure_reason: str | None = None


class AcceptOut(BaseModel):
    message_id: str
    kind: Literal["edoc", "status"]
    duplicate: bool = Field(description="true: this package was accepted before; nothing new")
    code: str = Field(description="ACCEPTED or ALREADY_ACCEPTED")
    recipients: list[RecipientOut]


class InboxItemOut(BaseModel):
    message_id: str
    kind: str
    sender: str
    recipient: str
    state: str
    document_id: str | None
    code_number: str | None
    code_notation: str | None
    subject: str | None
    status_code: str | None
    size: int
    accepted_at: datetime
    linked: bool | None = Field(
        default=None,
        description="a status: true when it refers to a document this hub holds (the hub "
        "checked the sender is a party of it); false when the document is held elsewhere "
        "(not checked). null: a document",
    )


class InboxOut(BaseModel):
    items: list[InboxItemOut]
    next_after: int | None = Field(description="cursor for the next page (null: no more)")


class AckIn(BaseModel):
    ok: bool = True
    reason: str | None = Field(default=None, max_length=1000)


def _status_alias(value: object) -> object:
    """``3`` or ``"3"`` means ``"03"``; anything else is left for the check that follows."""
    if isinstance(value, int | str):
        return status_code_alias(str(value)) or value
    return value


StatusCodeIn = Annotated[
    Literal["01", "02", "03", "04", "05", "06", "13", "15", "16"],
    BeforeValidator(_status_alias),
]


class StatusIn(BaseModel):
    agency: str | None = Field(
        default=None,
        description="the agency reporting (must be served by the caller); may be left out "
        "when the caller serves exactly one party of the document (a recipient for 01–06, "
        "15, 16; the sender for 13)",
    )
    status_code: StatusCodeIn = Field(
        description="01 arrived · 02 rejected · 03 accepted and registered · 04 assigned · "
        "05 being processed · 06 completed · 13 withdrawal requested (by the sender) · "
        "15 update/withdrawal accepted · 16 update/withdrawal refused; `3` means `03`"
    )
    description: str = Field(default="", max_length=2000)
    staff: dict[str, Annotated[str, Field(max_length=200)]] | None = Field(
        default=None, max_length=8
    )
    recipient: str | None = Field(
        default=None,
        description="status 13 only: the recipient asked to give the document back "
        "(may be left out when the document had a single recipient)",
    )


class AgencyOut(BaseModel):
    code: str
    name: str
    parent_code: str | None
    level: int | None = Field(
        description="1–4 for a standard code; null (unknown) for a non-standard identifier"
    )
    active: bool
    old_code: str | None
    nonstandard: bool = Field(
        default=False,
        description="an identifier outside the standard form NNN.NN.NN.XNN (vxp.saas.03), "
        "registered in the directory on purpose",
    )


class ReportedRecipient(BaseModel):
    """One recipient a downstream hub could not deliver to."""

    agency: str = Field(max_length=32)
    state: Literal["failed", "expired"]
    failure_code: str = Field(default="", max_length=64)
    failure_reason: str = Field(default="", max_length=1000)
    hub: str = Field(description="the hub where it failed", max_length=100)


class DeliveryReportIn(BaseModel):
    """``POST /api/v1/reports`` (peer hubs only): the deliveries of a relayed package that
    failed or expired downstream, sent back to the hub it came from. The package is named
    by what every hub on its way stores alike: the SHA-256 of the sender's bytes, its kind
    and its sender; ``hub`` is the reporting hub (the peer it was relayed to)."""

    hub: str = Field(max_length=100)
    sha256: str = Field(pattern=r"^[0-9a-f]{64}$")
    kind: Literal["edoc", "status"]
    sender: str = Field(max_length=32)
    recipients: list[ReportedRecipient] = Field(max_length=10_000)


class DeliveryReportOut(BaseModel):
    message_id: str
    updated: list[str] = Field(description="recipients whose delivery changed here")
