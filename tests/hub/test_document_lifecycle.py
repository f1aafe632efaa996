"""The hub's service layer called directly (no HTTP): intake, dispatch, inbox, fetch,
acknowledgement, statuses, revocation, replacement and update — on SQLite and PostgreSQL.

Directory used throughout (sample data):

* ``000.00.12.H41`` Sở Thông tin và Truyền thông tỉnh Nghệ An — the factories' sender,
  served by ``sys.stttt``;
* ``000.00.00.G22`` Văn phòng Chính phủ (``sys.vpcp``), ``000.00.00.H53`` UBND tỉnh Tây Ninh
  (``sys.tayninh``), ``000.00.00.G09`` Bộ Nội vụ (``sys.bnv``) — recipients;
* ``000.28.22.H17`` a commune-level unit (``sys.xa``) for legacy short codes;
* ``000.00.00.G15`` an agency that has been deactivated;
* ``000.00.01.H53`` Văn phòng UBND tỉnh Tây Ninh (``sys.outsider``), never involved.
"""

from __future__ import annotations

import hashlib
import uuid
from collections.abc import Callable, Sequence
from pathlib import Path
from typing import Any

import pytest
from sqlalchemy import func, select

from lienthong.edxml.builder import build
from lienthong.edxml.model import (
    Business,
    BusinessDocumentInfo,
    DocumentCode,
    Edoc,
    Organization,
    Package,
    ReplacementInfo,
    ResponseFor,
    Status,
)
from lienthong.hub import deliveries, directory, intake, mailbox
from lienthong.hub.errors import HubError
from lienthong.hub.models import AuditEvent, Delivery, Message, OutboxEntry, System
from lienthong.hub.settings import SignaturePolicy

SENDER = "000.00.12.H41"
VPCP = "000.00.00.G22"
TAY_NINH = "000.00.00.H53"
BNV = "000.00.00.G09"
COMMUNE = "000.28.22.H17"
INACTIVE = "000.00.00.G15"
UNKNOWN = "000.00.00.H98"
OUTSIDER = "000.00.01.H53"

NAMES = {
    SENDER: "Sở Thông tin và Truyền thông tỉnh Nghệ An",
    VPCP: "Văn phòng Chính phủ",
    TAY_NINH: "UBND tỉnh Tây Ninh",
    BNV: "Bộ Nội vụ",
    COMMUNE: "UBND xã Thạch Hòa",
    INACTIVE: "Ban Chỉ đạo (đã giải thể)",
    OUTSIDER: "Văn phòng UBND tỉnh Tây Ninh",
}
SYSTEMS = {
    "sys.stttt": SENDER,
    "sys.vpcp": VPCP,
    "sys.tayninh": TAY_NINH,
    "sys.bnv": BNV,
    "sys.xa": COMMUNE,
    "sys.outsider": OUTSIDER,
}
NOTATION = "STTTT-VP"
PROMULGATED = "2024/03/05"


def doc_id(number: str = "215", sender: str = SENDER, notation: str = NOTATION) -> str:
    """The DocumentId the builder derives (``OrganId,date,number/notation``)."""
    return f"{sender},{PROMULGATED},{number}/{notation}"


class Exchange:
    """A hub with the sample directory, and short ways to drive the service layer."""

    def __init__(
        self,
        hub: Any,
        tmp: Path,
        make_edoc: Callable[..., Edoc],
        make_status: Callable[..., Status],
    ) -> None:
        self.hub = hub
        self.tmp = tmp
        self._make_edoc = make_edoc
        self._make_status = make_status
        with hub.session() as s:
            for code, name in NAMES.items():
                directory.add_agency(s, code=code, name=name)
            directory.deactivate_agency(s, code=INACTIVE)
            for system_id, code in SYSTEMS.items():
                directory.add_system(s, system_id=system_id, agencies=[code])

    # ----------------------------------------------------------------- packages

    def edoc(
        self,
        number: str = "215",
        *,
        to: Sequence[str] = (VPCP,),
        sender: str = SENDER,
        notation: str = NOTATION,
        **overrides: Any,
    ) -> Edoc:
        return self._make_edoc(
            sender=Organization(organ_id=sender, organ_name=NAMES.get(sender, "Cơ quan gửi")),
            recipients=[Organization(organ_id=c, organ_name=NAMES.get(c, "Nơi nhận")) for c in to],
            code=DocumentCode(number, notation),
            **overrides,
        )

    def status(
        self,
        code: str,
        *,
        by: str = VPCP,
        to: str = SENDER,
        about: str | None = None,
        number: str = "215",
    ) -> Status:
        return self._make_status(
            sender=Organization(organ_id=by, organ_name=NAMES.get(by, "Cơ quan báo")),
            response_for=ResponseFor(
                organ_id=to,
                code=f"{number}/{NOTATION}",
                promulgation_date=PROMULGATED,
                document_id=about or doc_id(number),
            ),
            status_code=code,
            description=f"Trạng thái {code} của văn bản {number}/{NOTATION}",
        )

    def body(self, data: bytes) -> intake.Body:
        path = self.tmp / f"body-{uuid.uuid4().hex}.edxml"
        path.write_bytes(data)
        return intake.Body(path, hashlib.sha256(data).hexdigest(), len(data))

    # ----------------------------------------------------------------- service calls

    def send(self, system_id: str, package: Package | bytes) -> intake.AcceptResult:
        data = package if isinstance(package, bytes) else build(package)
        body = self.body(data)
        with self.hub.session() as s:
            system = s.get(System, system_id)
            assert system is not None
            result: intake.AcceptResult = intake.accept(
                s,
                system=system,
                body=body,
                blobs=self.hub.blobs,
                limits=self.hub.limits,
                signature_policy=SignaturePolicy.OFF,
            )
            return result

    def inbox(self, system_id: str, **kwargs: Any) -> list[mailbox.InboxItem]:
        with self.hub.session() as s:
            system = s.get(System, system_id)
            assert system is not None
            return mailbox.inbox(s, system=system, **kwargs)

    def fetch(self, system_id: str, message_id: str) -> bytes:
        with self.hub.session() as s:
            system = s.get(System, system_id)
            assert system is not None
            stream = mailbox.fetch(
                s, system=system, message_id=message_id, blobs=self.hub.blobs
            ).stream
            with stream:
                return stream.read()

    def ack(
        self, system_id: str, message_id: str, *, ok: bool = True, reason: str | None = None
    ) -> list[deliveries.RecipientOutcome]:
        with self.hub.session() as s:
            system = s.get(System, system_id)
            assert system is not None
            return mailbox.acknowledge(
                s, system=system, message_id=message_id, ok=ok, reason=reason
            )

    def timeline(self, system_id: str, message_id: str) -> dict[str, Any]:
        with self.hub.session() as s:
            system = s.get(System, system_id)
            assert system is not None
            return mailbox.timeline(s, system=system, message_id=message_id)

    # ----------------------------------------------------------------- reading the tables

    def deliveries(self, message_id: str) -> dict[str, Delivery]:
        with self.hub.session() as s:
            rows = s.scalars(select(Delivery).where(Delivery.message_id == message_id))
            return {d.recipient_code: d for d in rows}

    def states(self, message_id: str) -> dict[str, str]:
        return {code: d.state for code, d in self.deliveries(message_id).items()}

    def message(self, message_id: str) -> Message:
        with self.hub.session() as s:
            m = s.get(Message, message_id)
            assert m is not None
            return m

    def count(self, model: type[Any]) -> int:
        with self.hub.session() as s:
            return int(s.scalar(select(func.count()).select_from(model)) or 0)

    def events(self, message_id: str, event: str | None = None) -> list[AuditEvent]:
        with self.hub.session() as s:
            stmt = select(AuditEvent).where(AuditEvent.message_id == message_id)
            if event is not None:
                stmt = stmt.where(AuditEvent.event == event)
            return list(s.scalars(stmt.order_by(AuditEvent.seq)))

    def blob_files(self) -> list[Path]:
        root = Path(self.hub.settings.effective_blob_url)
        return [p for p in root.rglob("*") if p.is_file()] if root.exists() else []

    def footprint(self) -> tuple[int, int, int, int, int]:
        """How many messages, deliveries, outbox entries, audit records and blobs exist."""
        return (
            self.count(Message),
            self.count(Delivery),
            self.count(OutboxEntry),
            self.count(AuditEvent),
            len(self.blob_files()),
        )


@pytest.fixture
def ex(
    hub: Any,
    tmp_path: Path,
    make_edoc: Callable[..., Edoc],
    make_status: Callable[..., Status],
) -> Exchange:
    spool = tmp_path / "spool"
    spool.mkdir()
    return Exchange(hub, spool, make_edoc, make_status)


def ids(items: Sequence[mailbox.InboxItem]) -> list[str]:
    return [i.message_id for i in items]


# --------------------------------------------------------------------------- intake


def test_accepted_document_is_queued_per_recipient_and_dispatch_makes_it_available(
    ex: Exchange,
) -> None:
    package = build(ex.edoc(to=(VPCP, TAY_NINH)))
    result = ex.send("sys.stttt", package)

    assert result.duplicate is False
    assert result.kind == "edoc"
    assert sorted((o.agency_code, o.state) for o in result.recipients) == [
        (VPCP, "queued"),
        (TAY_NINH, "queued"),
    ]
    assert ex.states(result.message_id) == {VPCP: "queued", TAY_NINH: "queued"}
    assert ex.inbox("sys.vpcp") == []  # not dispatched yet

    assert ex.hub.dispatch_now() == 1  # one outbox entry for the message
    assert ex.states(result.message_id) == {VPCP: "available", TAY_NINH: "available"}
    for system_id, code in (("sys.vpcp", VPCP), ("sys.tayninh", TAY_NINH)):
        (item,) = ex.inbox(system_id)
        assert item.message_id == result.message_id
        assert item.recipient_code == code
        assert item.sender_code == SENDER
        assert item.document_id == doc_id()
        assert item.state == "available"
        assert item.size == len(package)
    assert ex.inbox("sys.bnv") == []
    assert ex.hub.dispatch_now() == 0  # nothing left to do
    message = ex.message(result.message_id)
    assert (message.code_number, message.code_notation) == ("215", NOTATION)
    assert message.subject == ex.edoc().subject


def test_unknown_and_inactive_recipients_fail_alone_while_the_others_are_delivered(
    ex: Exchange,
) -> None:
    result = ex.send("sys.stttt", ex.edoc(to=(VPCP, UNKNOWN, INACTIVE, BNV)))

    outcomes = {o.agency_code: o for o in result.recipients}
    assert outcomes[UNKNOWN].state == "failed"
    assert outcomes[UNKNOWN].failure_code == "HUB_UNKNOWN_RECIPIENT"
    assert outcomes[INACTIVE].state == "failed"
    assert outcomes[INACTIVE].failure_code == "HUB_RECIPIENT_INACTIVE"
    assert outcomes[UNKNOWN].failure_reason and outcomes[INACTIVE].failure_reason
    assert outcomes[VPCP].state == outcomes[BNV].state == "queued"

    ex.hub.dispatch_now()
    assert ex.states(result.message_id) == {
        VPCP: "available",
        BNV: "available",
        UNKNOWN: "failed",
        INACTIVE: "failed",
    }
    assert ids(ex.inbox("sys.vpcp")) == ids(ex.inbox("sys.bnv")) == [result.message_id]


def test_a_system_sending_as_an_agency_it_does_not_serve_is_refused_and_nothing_is_written(
    ex: Exchange,
) -> None:
    before = ex.footprint()
    with pytest.raises(HubError) as info:
        ex.send("sys.vpcp", ex.edoc())  # From is the Nghệ An department, not VPCP
    assert info.value.code == "HUB_NOT_YOUR_AGENCY"
    assert info.value.status == 403
    assert info.value.field == "From/OrganId"
    assert ex.footprint() == before
    assert ex.inbox("sys.vpcp") == []


@pytest.fixture(params=["missing-subject", "stray-bytes-sample"])
def invalid_package(
    request: pytest.FixtureRequest, ex: Exchange, sample: Callable[[str], Path]
) -> tuple[bytes, str]:
    """(bytes, expected problem code) of a package the hub must refuse."""
    if request.param == "missing-subject":
        return build(ex.edoc(subject=None), check=False), "EDXML_REQUIRED"
    # the official sample starts with "1212" before the XML declaration
    return sample("edoc_new.edxml").read_bytes(), "EDXML_STRAY_BYTES"


def test_an_invalid_package_gets_a_typed_422_with_its_problems_and_nothing_is_written(
    ex: Exchange, invalid_package: tuple[bytes, str]
) -> None:
    data, code = invalid_package
    before = ex.footprint()
    with pytest.raises(HubError) as info:
        ex.send("sys.stttt", data)
    error = info.value
    assert error.status == 422
    assert error.code == code
    assert error.message_vi and error.message_en
    problems = error.to_dict().get("details", {}).get("problems")
    assert problems, f"no problem list in {error.to_dict()}"
    assert code in [p["code"] for p in problems]
    assert ex.footprint() == before


def test_the_missing_subject_is_named_in_the_problem_list(ex: Exchange) -> None:
    with pytest.raises(HubError) as info:
        ex.send("sys.stttt", build(ex.edoc(subject=None), check=False))
    assert info.value.field == "MessageHeader/Subject"
    fields = [p["field"] for p in info.value.details["problems"]]
    assert "MessageHeader/Subject" in fields


# --------------------------------------------------------------------------- deduplication


def test_the_same_bytes_again_return_the_original_id_even_after_acknowledgement(
    ex: Exchange,
) -> None:
    package = build(ex.edoc())
    first = ex.send("sys.stttt", package)
    ex.hub.dispatch_now()
    ex.fetch("sys.vpcp", first.message_id)
    ex.ack("sys.vpcp", first.message_id)

    again = ex.send("sys.stttt", package)

    assert again.message_id == first.message_id
    assert again.duplicate is True
    assert [(o.agency_code, o.state) for o in again.recipients] == [(VPCP, "acknowledged")]
    assert ex.count(Message) == 1
    assert ex.count(Delivery) == 1
    assert ex.count(OutboxEntry) == 1
    ex.hub.dispatch_now()
    assert ex.inbox("sys.vpcp") == []  # no second delivery


def test_a_resend_before_dispatch_is_also_a_duplicate(ex: Exchange) -> None:
    package = build(ex.edoc(to=(VPCP, BNV)))
    first = ex.send("sys.stttt", package)
    again = ex.send("sys.stttt", package)
    assert (again.message_id, again.duplicate) == (first.message_id, True)
    ex.hub.dispatch_now()
    assert ids(ex.inbox("sys.vpcp")) == [first.message_id]
    assert ids(ex.inbox("sys.bnv")) == [first.message_id]


def test_different_packages_sharing_a_document_id_with_other_business_types_are_both_accepted(
    ex: Exchange,
) -> None:
    original = ex.send("sys.stttt", ex.edoc())
    update = ex.send(
        "sys.stttt",
        ex.edoc(
            subject="V/v triển khai kết nối trục liên thông (cập nhật thời hạn)",
            business=Business(
                document_id=doc_id(),
                doc_type="2",
                reason="Cập nhật thời hạn hoàn thành",
                paper="0",
            ),
        ),
    )
    assert not original.duplicate and not update.duplicate
    assert original.message_id != update.message_id
    a, b = ex.message(original.message_id), ex.message(update.message_id)
    assert a.document_id == b.document_id == doc_id()
    assert (a.business_type, b.business_type) == (0, 2)


# --------------------------------------------------------------------------- inbox


def test_inbox_pages_with_a_cursor_and_filters_by_kind(ex: Exchange) -> None:
    # VPCP writes to the department, which reports back (a status for VPCP's inbox) …
    vpcp_doc = ex.send("sys.vpcp", ex.edoc("7816", sender=VPCP, to=(SENDER,), notation="VPCP-TTĐT"))
    ex.hub.dispatch_now()
    status = ex.send(
        "sys.stttt",
        ex._make_status(
            sender=Organization(organ_id=SENDER, organ_name=NAMES[SENDER]),
            response_for=ResponseFor(
                organ_id=VPCP,
                code="7816/VPCP-TTĐT",
                promulgation_date=PROMULGATED,
                document_id=doc_id("7816", sender=VPCP, notation="VPCP-TTĐT"),
            ),
            status_code="01",
        ),
    )
    # … and sends VPCP four documents
    docs = [ex.send("sys.stttt", ex.edoc(str(n))).message_id for n in range(301, 305)]
    ex.hub.dispatch_now()
    assert ex.message(status.message_id).refers_to == vpcp_doc.message_id

    pages: list[list[mailbox.InboxItem]] = []
    cursor = 0
    while page := ex.inbox("sys.vpcp", after=cursor, limit=2):
        pages.append(page)
        cursor = page[-1].delivery_id
        assert len(pages) < 10
    assert [len(p) for p in pages] == [2, 2, 1]
    everything = [i for p in pages for i in p]
    assert ids(everything) == [status.message_id, *docs]
    assert ids(everything) == ids(ex.inbox("sys.vpcp"))
    delivery_ids = [i.delivery_id for i in everything]
    assert delivery_ids == sorted(set(delivery_ids))

    assert ids(ex.inbox("sys.vpcp", kind="edoc")) == docs
    assert ids(ex.inbox("sys.vpcp", kind="edoc", after=everything[2].delivery_id)) == docs[2:]
    (only_status,) = ex.inbox("sys.vpcp", kind="status")
    assert (only_status.message_id, only_status.kind) == (status.message_id, "status")
    assert only_status.status_code == "01"


# --------------------------------------------------------------------------- fetch


def test_fetch_marks_the_delivery_fetched_and_returns_the_exact_package(ex: Exchange) -> None:
    package = build(ex.edoc(to=(VPCP, BNV)))
    result = ex.send("sys.stttt", package)
    ex.hub.dispatch_now()

    assert ex.fetch("sys.vpcp", result.message_id) == package
    assert ex.states(result.message_id) == {VPCP: "fetched", BNV: "available"}
    (item,) = ex.inbox("sys.vpcp")  # still waiting for the acknowledgement
    assert item.state == "fetched"
    assert ex.fetch("sys.vpcp", result.message_id) == package  # fetching again is fine
    assert len(ex.events(result.message_id, "fetched")) == 1


def test_the_senders_system_may_read_its_own_package_without_changing_any_state(
    ex: Exchange,
) -> None:
    package = build(ex.edoc())
    result = ex.send("sys.stttt", package)
    assert ex.fetch("sys.stttt", result.message_id) == package  # even before dispatch
    ex.hub.dispatch_now()
    assert ex.fetch("sys.stttt", result.message_id) == package
    assert ex.states(result.message_id) == {VPCP: "available"}


def test_other_systems_get_the_same_404_as_for_a_message_that_does_not_exist(
    ex: Exchange,
) -> None:
    result = ex.send("sys.stttt", ex.edoc())
    ex.hub.dispatch_now()
    missing = str(uuid.uuid4())

    with pytest.raises(HubError) as other:
        ex.fetch("sys.outsider", result.message_id)
    with pytest.raises(HubError) as absent:
        ex.fetch("sys.outsider", missing)

    assert other.value.status == absent.value.status == 404
    assert other.value.code == absent.value.code

    def shape(e: HubError, ident: str) -> dict[str, Any]:
        return {k: str(v).replace(ident, "<id>") for k, v in e.to_dict().items()}

    assert shape(other.value, result.message_id) == shape(absent.value, missing)
    assert ex.states(result.message_id) == {VPCP: "available"}
    with pytest.raises(HubError) as timeline:
        ex.timeline("sys.outsider", result.message_id)
    assert timeline.value.status == 404


def test_a_recipient_cannot_fetch_before_the_document_is_available(ex: Exchange) -> None:
    result = ex.send("sys.stttt", ex.edoc())
    with pytest.raises(HubError) as info:
        ex.fetch("sys.vpcp", result.message_id)
    assert info.value.status == 404
    assert ex.states(result.message_id) == {VPCP: "queued"}


# --------------------------------------------------------------------------- acknowledgement


def test_acknowledging_done_is_idempotent_and_empties_the_inbox(ex: Exchange) -> None:
    result = ex.send("sys.stttt", ex.edoc())
    ex.hub.dispatch_now()
    ex.fetch("sys.vpcp", result.message_id)

    first = ex.ack("sys.vpcp", result.message_id)
    second = ex.ack("sys.vpcp", result.message_id)

    assert first == second == [deliveries.RecipientOutcome(VPCP, "acknowledged")]
    assert ex.states(result.message_id) == {VPCP: "acknowledged"}
    assert ex.inbox("sys.vpcp") == []
    assert len(ex.events(result.message_id, "acknowledged")) == 1
    # a late "fail" does not undo the acknowledgement
    assert ex.ack("sys.vpcp", result.message_id, ok=False)[0].state == "acknowledged"


def test_acknowledging_fail_is_idempotent_and_keeps_the_reason(ex: Exchange) -> None:
    result = ex.send("sys.stttt", ex.edoc())
    ex.hub.dispatch_now()

    reason = "Tệp đính kèm không mở được"
    first = ex.ack("sys.vpcp", result.message_id, ok=False, reason=reason)
    second = ex.ack("sys.vpcp", result.message_id, ok=False, reason="lần hai")

    assert first == second
    (outcome,) = first
    assert (outcome.state, outcome.failure_code, outcome.failure_reason) == (
        "failed",
        "HUB_RECIPIENT_FAILED",
        reason,
    )
    assert ex.inbox("sys.vpcp") == []
    assert len(ex.events(result.message_id, "failed")) == 1
    assert ex.ack("sys.vpcp", result.message_id, ok=True)[0].state == "failed"


def test_only_a_recipient_can_acknowledge(ex: Exchange) -> None:
    result = ex.send("sys.stttt", ex.edoc())
    ex.hub.dispatch_now()
    for system_id in ("sys.outsider", "sys.stttt"):
        with pytest.raises(HubError) as info:
            ex.ack(system_id, result.message_id)
        assert info.value.status == 404
    assert ex.states(result.message_id) == {VPCP: "available"}


# --------------------------------------------------------------------------- statuses


def test_statuses_01_to_06_from_the_recipient_reach_the_original_sender(ex: Exchange) -> None:
    original = ex.send("sys.stttt", ex.edoc(to=(VPCP, BNV)))
    ex.hub.dispatch_now()
    ex.fetch("sys.vpcp", original.message_id)
    ex.ack("sys.vpcp", original.message_id)

    sent: list[tuple[str, str]] = []
    for code in ("01", "03", "04", "05", "06"):
        result = ex.send("sys.vpcp", ex.status(code))
        assert result.kind == "status" and not result.duplicate
        assert [(o.agency_code, o.state) for o in result.recipients] == [(SENDER, "queued")]
        assert ex.message(result.message_id).refers_to == original.message_id
        assert ex.deliveries(original.message_id)[VPCP].business_status == code
        sent.append((result.message_id, code))

    assert ex.deliveries(original.message_id)[BNV].business_status is None
    ex.hub.dispatch_now()
    received = ex.inbox("sys.stttt", kind="status")
    assert [(i.message_id, i.status_code) for i in received] == sent
    assert all(i.sender_code == VPCP for i in received)
    assert ex.inbox("sys.vpcp", kind="status") == []

    for system_id in ("sys.stttt", "sys.vpcp"):
        timeline = ex.timeline(system_id, original.message_id)
        assert [(s["message_id"], s["status_code"]) for s in timeline["statuses"]] == sent
        assert all(s["from"] == VPCP for s in timeline["statuses"])
        by_agency = {r["agency"]: r for r in timeline["recipients"]}
        assert by_agency[VPCP]["business_status"] == "06"
        assert by_agency[VPCP]["state"] == "acknowledged"
        assert [e["event"] for e in timeline["events"]].count("status") == 5


def test_a_status_arriving_late_never_moves_the_business_status_back(ex: Exchange) -> None:
    """Statuses cross hubs on parallel relays: 03 may arrive before 01."""
    original = ex.send("sys.stttt", ex.edoc(to=(VPCP,)))
    ex.hub.dispatch_now()
    ex.fetch("sys.vpcp", original.message_id)
    ex.send("sys.vpcp", ex.status("03"))
    late = ex.send("sys.vpcp", ex.status("01"))
    assert ex.message(late.message_id).refers_to == original.message_id
    assert ex.deliveries(original.message_id)[VPCP].business_status == "03"
    ex.send("sys.vpcp", ex.status("05"))
    ex.send("sys.vpcp", ex.status("04"))
    assert ex.deliveries(original.message_id)[VPCP].business_status == "05"
    ex.send("sys.vpcp", ex.status("15"))  # outside the sequence: always recorded
    assert ex.deliveries(original.message_id)[VPCP].business_status == "15"
    ex.hub.dispatch_now()
    codes = [i.status_code for i in ex.inbox("sys.stttt", kind="status")]
    assert codes == ["03", "01", "05", "04", "15"]  # every status still reaches the sender


def test_status_13_from_the_sender_goes_to_the_recipient_who_answers_15(ex: Exchange) -> None:
    original = ex.send("sys.stttt", ex.edoc())
    ex.hub.dispatch_now()
    ex.fetch("sys.vpcp", original.message_id)

    request = ex.send("sys.stttt", ex.status("13", by=SENDER, to=VPCP))
    assert [(o.agency_code, o.state) for o in request.recipients] == [(VPCP, "queued")]
    assert ex.message(request.message_id).refers_to == original.message_id
    assert ex.deliveries(original.message_id)[VPCP].business_status is None

    ex.hub.dispatch_now()
    (item,) = ex.inbox("sys.vpcp", kind="status")
    assert (item.message_id, item.status_code, item.sender_code) == (
        request.message_id,
        "13",
        SENDER,
    )
    assert ex.inbox("sys.stttt", kind="status") == []

    answer = ex.send("sys.vpcp", ex.status("15"))
    ex.hub.dispatch_now()
    assert ex.message(answer.message_id).refers_to == original.message_id
    assert ex.deliveries(original.message_id)[VPCP].business_status == "15"
    assert ids(ex.inbox("sys.stttt", kind="status")) == [answer.message_id]
    statuses = ex.timeline("sys.stttt", original.message_id)["statuses"]
    assert [s["status_code"] for s in statuses] == ["13", "15"]


# --------------------------------------------------------------------------- revoke / replace


def revocation(ex: Exchange, to: Sequence[str], number: str = "215") -> Edoc:
    """A revocation package: the original's header again, BussinessDocType 1."""
    return ex.edoc(
        number,
        to=to,
        response_for=[
            ResponseFor(
                organ_id=SENDER,
                code=f"{number}/{NOTATION}",
                promulgation_date=PROMULGATED,
                document_id=doc_id(number),
            )
        ],
        business=Business(doc_type="1", reason="Thu hồi do sai sót về thể thức", paper="0"),
    )


def test_revocation_withdraws_unfetched_copies_and_reaches_only_those_who_fetched(
    ex: Exchange,
) -> None:
    recipients = (VPCP, TAY_NINH, BNV)
    original = ex.send("sys.stttt", ex.edoc(to=recipients))
    ex.hub.dispatch_now()
    ex.fetch("sys.vpcp", original.message_id)  # fetched, not acknowledged
    ex.fetch("sys.tayninh", original.message_id)
    ex.ack("sys.tayninh", original.message_id)  # fetched and acknowledged
    # BNV never fetched it

    revoke = ex.send("sys.stttt", revocation(ex, recipients))

    assert not revoke.duplicate
    assert ex.message(revoke.message_id).document_id == doc_id()
    assert ex.states(original.message_id) == {
        VPCP: "fetched",
        TAY_NINH: "acknowledged",
        BNV: "revoked",
    }
    outcomes = {o.agency_code: o for o in revoke.recipients}
    assert outcomes[VPCP].state == outcomes[TAY_NINH].state == "queued"
    assert outcomes[BNV].state == "revoked"
    assert outcomes[BNV].failure_code == "HUB_WITHDRAWN_BEFORE_FETCH"

    ex.hub.dispatch_now()
    assert ex.inbox("sys.bnv") == []  # the original vanished, unseen; no revocation either
    with pytest.raises(HubError):
        ex.fetch("sys.bnv", original.message_id)
    assert ex.states(revoke.message_id) == {
        VPCP: "available",
        TAY_NINH: "available",
        BNV: "revoked",
    }
    assert revoke.message_id in ids(ex.inbox("sys.vpcp"))
    assert ids(ex.inbox("sys.tayninh")) == [revoke.message_id]
    revoked = ex.events(original.message_id, "revoked")
    assert [(e.agency_code, e.detail) for e in revoked] == [
        (BNV, f'{{"by":"{revoke.message_id}"}}')
    ]


def test_a_revocation_before_dispatch_means_the_original_is_never_delivered(
    ex: Exchange,
) -> None:
    original = ex.send("sys.stttt", ex.edoc())
    revoke = ex.send("sys.stttt", revocation(ex, (VPCP,)))
    ex.hub.dispatch_now()
    assert ex.states(original.message_id) == {VPCP: "revoked"}
    assert ex.states(revoke.message_id) == {VPCP: "revoked"}
    assert ex.inbox("sys.vpcp") == []
    assert ex.events(original.message_id, "delivered") == []


def test_a_revocation_also_withdraws_the_original_after_an_update_was_sent(
    ex: Exchange,
) -> None:
    """Revoking a document withdraws every unfetched copy of it, not only of its latest
    update: an update does not make the original immune to a later revocation."""
    original = ex.send("sys.stttt", ex.edoc(to=(VPCP,)))
    update = ex.send(
        "sys.stttt",
        ex.edoc(
            to=(VPCP,),
            subject="V/v triển khai kết nối (bổ sung danh sách đơn vị)",
            business=Business(
                document_id=doc_id(), doc_type="2", reason="Bổ sung danh sách", paper="0"
            ),
        ),
    )
    ex.hub.dispatch_now()
    ex.send("sys.stttt", revocation(ex, (VPCP,)))
    assert ex.states(update.message_id) == {VPCP: "revoked"}
    assert ex.states(original.message_id) == {VPCP: "revoked"}
    assert ex.inbox("sys.vpcp") == []


def test_replacement_supersedes_the_listed_recipients_unfetched_copies_only(
    ex: Exchange,
) -> None:
    original = ex.send("sys.stttt", ex.edoc(to=(VPCP, TAY_NINH, BNV)))
    ex.hub.dispatch_now()
    ex.fetch("sys.vpcp", original.message_id)

    replacement = ex.send(
        "sys.stttt",
        ex.edoc(
            "216",
            to=(VPCP, TAY_NINH, BNV),
            subject="V/v triển khai kết nối trục liên thông (thay thế công văn 215)",
            business=Business(
                doc_type="3",
                reason="Thay thế Công văn số 215/STTTT-VP",
                paper="0",
                replacements=[ReplacementInfo(document_id=doc_id(), organ_ids=[VPCP, TAY_NINH])],
            ),
        ),
    )

    # VPCP had fetched it (stays), Tây Ninh is listed (superseded), BNV is not listed
    assert ex.states(original.message_id) == {
        VPCP: "fetched",
        TAY_NINH: "revoked",
        BNV: "available",
    }
    assert [e.agency_code for e in ex.events(original.message_id, "superseded")] == [TAY_NINH]
    assert {o.agency_code: o.state for o in replacement.recipients} == {
        VPCP: "queued",
        TAY_NINH: "queued",
        BNV: "queued",
    }
    ex.hub.dispatch_now()
    assert ids(ex.inbox("sys.tayninh")) == [replacement.message_id]
    assert ids(ex.inbox("sys.bnv")) == [original.message_id, replacement.message_id]
    assert ids(ex.inbox("sys.vpcp")) == [original.message_id, replacement.message_id]


def test_an_update_is_delivered_normally_and_leaves_the_original_alone(ex: Exchange) -> None:
    original = ex.send("sys.stttt", ex.edoc(to=(VPCP, BNV)))
    ex.hub.dispatch_now()
    ex.fetch("sys.vpcp", original.message_id)

    update = ex.send(
        "sys.stttt",
        ex.edoc(
            to=(VPCP, BNV),
            subject="V/v triển khai kết nối trục liên thông (cập nhật)",
            business=Business(
                document_id=doc_id(),
                doc_type="2",
                reason="Cập nhật thời hạn",
                paper="0",
                document_info=BusinessDocumentInfo(
                    document_info="Thời hạn đổi thành 15/4/2024", document_receiver="1"
                ),
            ),
        ),
    )
    assert {o.agency_code: o.state for o in update.recipients} == {VPCP: "queued", BNV: "queued"}
    ex.hub.dispatch_now()
    assert ex.states(original.message_id) == {VPCP: "fetched", BNV: "available"}
    assert ex.states(update.message_id) == {VPCP: "available", BNV: "available"}
    assert ids(ex.inbox("sys.bnv")) == [original.message_id, update.message_id]


# --------------------------------------------------------------------------- agency codes


def test_legacy_short_agency_codes_resolve_to_the_canonical_code(ex: Exchange) -> None:
    # written by older software: short forms in From and To (the builder would refuse them)
    package = build(ex.edoc(sender="00.12.H41", to=("28.22.H17",)), check=False)
    result = ex.send("sys.stttt", package)

    assert [(o.agency_code, o.state) for o in result.recipients] == [(COMMUNE, "queued")]
    assert ex.message(result.message_id).sender_code == SENDER
    ex.hub.dispatch_now()
    (item,) = ex.inbox("sys.xa")
    assert (item.message_id, item.recipient_code, item.sender_code) == (
        result.message_id,
        COMMUNE,
        SENDER,
    )


def test_a_revocation_addressed_to_one_recipient_withdraws_only_that_copy(ex: Exchange) -> None:
    """Sent to a wrong agency by mistake: revoking it there leaves the others' copies."""
    original = ex.send("sys.stttt", ex.edoc(to=(VPCP, BNV)))
    ex.hub.dispatch_now()
    revoke = ex.send("sys.stttt", revocation(ex, (BNV,)))
    assert ex.states(original.message_id) == {VPCP: "available", BNV: "revoked"}
    assert ex.states(revoke.message_id) == {BNV: "revoked"}
    assert ids(ex.inbox("sys.vpcp")) == [original.message_id]
    assert ex.inbox("sys.bnv") == []


def test_only_the_original_sender_can_revoke_or_replace_a_document(ex: Exchange) -> None:
    original = ex.send("sys.stttt", ex.edoc(to=(VPCP, BNV)))
    ex.hub.dispatch_now()
    # Tây Ninh sends packages that name the department's DocumentId
    ex.send(
        "sys.tayninh",
        ex.edoc(
            sender=TAY_NINH,
            to=(VPCP, BNV),
            business=Business(doc_type="1", reason="Thu hồi", paper="0"),
            document_id=doc_id(),
        ),
    )
    ex.send(
        "sys.tayninh",
        ex.edoc(
            "9",
            sender=TAY_NINH,
            to=(VPCP,),
            business=Business(
                doc_type="3",
                reason="Thay thế",
                paper="0",
                replacements=[ReplacementInfo(document_id=doc_id(), organ_ids=[VPCP, BNV])],
            ),
        ),
    )
    assert ex.states(original.message_id) == {VPCP: "available", BNV: "available"}
    assert ex.events(original.message_id, "revoked") == []
    assert ex.events(original.message_id, "superseded") == []


def test_a_status_from_an_agency_that_never_received_the_document_is_refused(
    ex: Exchange,
) -> None:
    """Bộ Nội vụ never received the document, which this hub holds: its "06" is a forgery
    and is refused (issue 10 §3.4) — it never reaches the sender's inbox, timeline or
    evidence."""
    original = ex.send("sys.stttt", ex.edoc(to=(VPCP,)))
    ex.hub.dispatch_now()
    with pytest.raises(HubError) as refused:
        ex.send("sys.bnv", ex.status("06", by=BNV))
    assert (refused.value.code, refused.value.status) == ("HUB_STATUS_NOT_A_PARTY", 403)
    assert ex.inbox("sys.stttt", kind="status") == []
    assert ex.timeline("sys.stttt", original.message_id)["statuses"] == []
    assert ex.events(original.message_id, "status") == []


def test_status_13_is_the_senders_alone(ex: Exchange) -> None:
    """A recipient cannot ask a co-recipient to give the document back (13 is the
    sender's): refused; the sender's own 13 goes through, linked."""
    ex.send("sys.stttt", ex.edoc(to=(VPCP, TAY_NINH)))
    ex.hub.dispatch_now()
    with pytest.raises(HubError) as refused:
        ex.send("sys.vpcp", ex.status("13", by=VPCP, to=TAY_NINH))
    assert refused.value.code == "HUB_STATUS_NOT_A_PARTY"
    assert ex.inbox("sys.tayninh", kind="status") == []
    ok = ex.send("sys.stttt", ex.status("13", by=SENDER, to=TAY_NINH))
    ex.hub.dispatch_now()
    [item] = ex.inbox("sys.tayninh", kind="status")
    assert (item.message_id, item.linked) == (ok.message_id, True)


def test_a_status_about_a_document_held_elsewhere_is_delivered_marked_unlinked(
    ex: Exchange,
) -> None:
    """The document never passed through this hub: nothing to check the sender against,
    so the status is delivered — and its addressee is told it could not be linked."""
    stray = ex.send("sys.bnv", ex.status("06", by=BNV, number="999"))
    assert ex.message(stray.message_id).refers_to is None
    ex.hub.dispatch_now()
    [item] = ex.inbox("sys.stttt", kind="status")
    assert (item.message_id, item.linked) == (stray.message_id, False)


def test_the_rest_status_writer_refuses_a_status_13_from_a_recipient(ex: Exchange) -> None:
    """What ``POST /api/v1/messages/{id}/status`` calls: a recipient writing 13 (the
    sender's) to a co-recipient is refused before any package is written."""
    original = ex.send("sys.stttt", ex.edoc(to=(VPCP, TAY_NINH)))
    ex.hub.dispatch_now()
    with ex.hub.session() as s:
        system = s.get(System, "sys.vpcp")
        assert system is not None
        with pytest.raises(HubError) as refused:
            mailbox.status_package(
                s,
                system=system,
                message_id=original.message_id,
                agency=VPCP,
                status_code="13",
                recipient=TAY_NINH,
            )
    assert (refused.value.code, refused.value.status) == ("HUB_STATUS_NOT_A_PARTY", 403)


# --------------------------------------------------------------------------- intake guards


def test_a_declared_kind_or_sender_that_differs_from_the_package_is_refused(
    ex: Exchange,
) -> None:
    data = build(ex.edoc())

    def accept(**kw: Any) -> intake.AcceptResult:
        with ex.hub.session() as s:
            system = s.get(System, "sys.stttt")
            assert system is not None
            return intake.accept(
                s,
                system=system,
                body=ex.body(data),
                blobs=ex.hub.blobs,
                limits=ex.hub.limits,
                **kw,
                signature_policy=SignaturePolicy.OFF,
            )

    before = ex.footprint()
    with pytest.raises(HubError) as kind:
        accept(expected_kind="status")
    assert (kind.value.status, kind.value.code) == (422, "HUB_KIND_MISMATCH")
    with pytest.raises(HubError) as sender:
        accept(declared_sender=VPCP)
    assert (sender.value.status, sender.value.code) == (422, "HUB_FROM_MISMATCH")
    assert ex.footprint() == before
    # the legacy short form of the right sender is the same sender
    assert accept(expected_kind="edoc", declared_sender="00.12.H41").duplicate is False


def test_a_disabled_system_cannot_send(ex: Exchange) -> None:
    with ex.hub.session() as s:
        system = s.get(System, "sys.stttt")
        assert system is not None
        system.active = False
    before = ex.footprint()
    with pytest.raises(HubError) as info:
        ex.send("sys.stttt", ex.edoc())
    assert (info.value.status, info.value.code) == (403, "HUB_SYSTEM_INACTIVE")
    assert ex.footprint() == before


# --------------------------------------------------------------------------- counting, sent


def test_pending_counts_follow_the_inbox(ex: Exchange) -> None:
    first = ex.send("sys.stttt", ex.edoc("1"))
    ex.send("sys.stttt", ex.edoc("2"))
    ex.send("sys.stttt", ex.edoc("3"))
    ex.hub.dispatch_now()
    ex.send("sys.stttt", ex.status("03", by=SENDER, to=VPCP, about=doc_id("900")))

    def counts() -> tuple[int, int]:
        with ex.hub.session() as s:
            system = s.get(System, "sys.vpcp")
            assert system is not None
            return (
                mailbox.count_pending(s, system=system, kind="edoc"),
                mailbox.count_pending(s, system=system, kind="status"),
            )

    assert counts() == (3, 0)  # the status is still queued
    ex.hub.dispatch_now()
    assert counts() == (3, 1)
    ex.fetch("sys.vpcp", first.message_id)
    assert counts() == (3, 1)  # fetched is still pending
    ex.ack("sys.vpcp", first.message_id)
    assert counts() == (2, 1)
    assert counts() == (
        len(ex.inbox("sys.vpcp", kind="edoc")),
        len(ex.inbox("sys.vpcp", kind="status")),
    )


def test_the_sender_sees_what_it_sent_with_each_recipients_state(ex: Exchange) -> None:
    first = ex.send("sys.stttt", ex.edoc("1", to=(VPCP, UNKNOWN)))
    second = ex.send("sys.stttt", ex.edoc("2", to=(BNV,)))
    ex.hub.dispatch_now()
    ex.fetch("sys.bnv", second.message_id)
    with ex.hub.session() as s:
        system = s.get(System, "sys.stttt")
        assert system is not None
        listed = {
            m.id: {d.recipient_code: d.state for d in ds}
            for m, ds in mailbox.sent(s, system=system, kind="edoc")
        }
        other = s.get(System, "sys.vpcp")
        assert other is not None
        assert mailbox.sent(s, system=other) == []
    assert listed == {
        first.message_id: {VPCP: "available", UNKNOWN: "failed"},
        second.message_id: {BNV: "fetched"},
    }
