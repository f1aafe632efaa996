"""The Decree 30 incoming path through the services, with a real hub: a package sent by
another agency's system arrives, status 01 goes back at once, and each step the clerk, the
leader and the officer take reaches the sender as 03, 04, 05, 06 in order."""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

import pytest

from lienthong.edxml.attachments import Blob
from lienthong.edxml.model import Attachment
from lienthong.office import incoming
from lienthong.office.errors import OfficeError
from lienthong.office.models import Document
from lienthong.office.runtime import Office
from lienthong.office.worker import work_once

from .officekit import PROVINCE, HubWorld, Province, wait_for


def _arrived(office: Office, province: Province) -> list[Document]:
    clerk = province.login(office, "vanthu")
    return list(office.read(lambda s: incoming.my_work(s, who=clerk).to_register))


def test_a_document_from_the_hub_goes_the_whole_path_and_the_sender_sees_every_status(
    office: Office, province: Province, connected: HubWorld, make_doc: Callable[..., Any]
) -> None:
    pdf = Attachment(
        name="Công văn 215.pdf",
        content_type="application/pdf",
        content=Blob.from_bytes(b"%PDF-1.7\n%%EOF\n"),
    )
    message_id = connected.send(make_doc(attachments=[pdf]))
    assert wait_for(lambda: work_once(office)["received"] == 1)
    [doc] = _arrived(office, province)
    assert doc.hub_message_id == message_id
    assert doc.issuer == "Văn phòng Chính phủ (mẫu)"
    assert (doc.number, doc.notation) == ("215", "VPCP-KSTT")
    assert doc.signature_verdict in {"unknown", "invalid"}  # an unsigned PDF is not valid
    assert [s["status_code"] for s in connected.statuses(expect=1)] == ["01"]

    clerk = province.login(office, "vanthu")
    leader = province.login(office, "lanhdao")
    officer = province.login(office, "chuyenvien")

    registered = office.run(
        lambda s: incoming.register(
            s, who=clerk, document_id=doc.id, register_id=province.register_id
        )
    )
    assert registered.arrival_number == 1
    work_once(office, poll=False)

    office.run(
        lambda s: incoming.direct(
            s,
            who=leader,
            document_id=doc.id,
            data=incoming.Direction(
                direction="Giao Phòng Tổng hợp tham mưu, báo cáo trước hạn.",
                lead_user_id=province.users["chuyenvien"],
                cooperating_user_ids=[province.users["chuyenvien2"]],
                working_days=5,
            ),
        )
    )
    office.run(
        lambda s: incoming.record_progress(
            s, who=officer, document_id=doc.id, note="Đã xin ý kiến các sở."
        )
    )
    office.run(
        lambda s: incoming.finish(
            s, who=officer, document_id=doc.id, result="Đã có Công văn trả lời số 12/UBND-TH."
        )
    )
    work_once(office, poll=False)

    statuses = connected.statuses(expect=5)
    assert [s["status_code"] for s in statuses] == ["01", "03", "04", "05", "06"]
    assert all(s["sender"] == PROVINCE for s in statuses)
    steps = office.read(
        lambda s: [
            h.action
            for h in incoming.history(s, doc=incoming.get(s, who=leader, document_id=doc.id))
        ]
    )
    assert steps == ["received", "registered", "directed", "progress", "finished"]


def test_a_returned_document_sends_02_with_the_reason(
    office: Office, province: Province, connected: HubWorld, make_doc: Callable[..., Any]
) -> None:
    connected.send(make_doc(subject="Văn bản gửi nhầm nơi nhận"))
    assert wait_for(lambda: work_once(office)["received"] == 1)
    [doc] = _arrived(office, province)
    clerk = province.login(office, "vanthu")
    with pytest.raises(OfficeError) as refused:
        office.run(
            lambda s: incoming.return_to_sender(s, who=clerk, document_id=doc.id, reason=" ")
        )
    assert refused.value.code == "REASON_REQUIRED"
    office.run(
        lambda s: incoming.return_to_sender(
            s, who=clerk, document_id=doc.id, reason="Gửi nhầm cơ quan"
        )
    )
    work_once(office, poll=False)
    statuses = connected.statuses(expect=2)
    assert [s["status_code"] for s in statuses] == ["01", "02"]
    # a returned document cannot be registered any more
    with pytest.raises(OfficeError) as late:
        office.run(
            lambda s: incoming.register(
                s, who=clerk, document_id=doc.id, register_id=province.register_id
            )
        )
    assert late.value.code == "DOCUMENT_STATE"


def test_the_same_package_received_twice_makes_one_document(
    office: Office, province: Province, connected: HubWorld, make_doc: Callable[..., Any]
) -> None:
    message_id = connected.send(make_doc())
    assert wait_for(lambda: work_once(office)["received"] == 1)
    data = connected.sender  # the sender cannot fetch it; take the bytes from the office's view
    assert data is not None
    from lienthong.client.rest import HubClient

    with HubClient(connected.url, connected.office_key) as hub:
        package = hub.fetch(message_id)
    again = office.run(
        lambda s: incoming.receive(
            s, data=package, message_id=message_id, blobs=office.blobs, trust=office.trust
        )
    )
    assert again.documents == [] and again.ignored == "already received"
    assert len(_arrived(office, province)) == 1


def test_roles_and_steps_are_enforced(
    office: Office, province: Province, connected: HubWorld, make_doc: Callable[..., Any]
) -> None:
    connected.send(make_doc())
    assert wait_for(lambda: work_once(office)["received"] == 1)
    [doc] = _arrived(office, province)
    leader = province.login(office, "lanhdao")
    officer = province.login(office, "chuyenvien")
    clerk = province.login(office, "vanthu")
    with pytest.raises(OfficeError) as not_clerk:
        office.run(
            lambda s: incoming.register(
                s, who=leader, document_id=doc.id, register_id=province.register_id
            )
        )
    assert not_clerk.value.code == "ROLE_FORBIDDEN"
    # an officer does not even see a document not assigned to them
    with pytest.raises(OfficeError) as hidden:
        office.read(lambda s: incoming.get(s, who=officer, document_id=doc.id))
    assert hidden.value.status == 404
    # direction before registration is refused
    with pytest.raises(OfficeError) as early:
        office.run(
            lambda s: incoming.direct(
                s,
                who=leader,
                document_id=doc.id,
                data=incoming.Direction(direction="x", lead_user_id=province.users["chuyenvien"]),
            )
        )
    assert early.value.code == "DOCUMENT_STATE"
    # a register of another agency cannot be used
    with pytest.raises(OfficeError) as foreign:
        office.run(
            lambda s: incoming.register(
                s, who=clerk, document_id=doc.id, register_id=province.other_register_id
            )
        )
    assert foreign.value.code == "REGISTER_UNKNOWN"
    office.run(
        lambda s: incoming.register(
            s, who=clerk, document_id=doc.id, register_id=province.register_id
        )
    )
    office.run(
        lambda s: incoming.direct(
            s,
            who=leader,
            document_id=doc.id,
            data=incoming.Direction(
                direction="Xử lý",
                lead_user_id=province.users["chuyenvien"],
                info_user_ids=[province.users["chuyenvien2"]],
            ),
        )
    )
    # the person only informed may see it but neither record progress nor finish
    informed = province.login(office, "chuyenvien2")
    office.read(lambda s: incoming.get(s, who=informed, document_id=doc.id))
    with pytest.raises(OfficeError) as info_only:
        office.run(lambda s: incoming.finish(s, who=informed, document_id=doc.id, result="x"))
    assert info_only.value.code in {"NOT_THE_LEAD", "NOT_A_HANDLER"}


def test_the_lead_officer_forwards_to_a_colleague_who_then_sees_and_helps(
    office: Office, province: Province
) -> None:
    clerk = province.login(office, "vanthu")
    leader = province.login(office, "lanhdao")
    lead = province.login(office, "chuyenvien")
    colleague = province.login(office, "chuyenvien2")
    doc = office.run(
        lambda s: incoming.enter_paper(
            s,
            who=clerk,
            data=incoming.PaperInput(
                register_id=province.register_id, issuer="Sở Tư pháp (mẫu)", number="3",
                notation="STP-VP", subject="Đề nghị góp ý dự thảo",
            ),
            scan=None,
            blobs=office.blobs,
        )
    )  # fmt: skip
    office.run(
        lambda s: incoming.direct(
            s,
            who=leader,
            document_id=doc.id,
            data=incoming.Direction(direction="Góp ý", lead_user_id=province.users["chuyenvien"]),
        )
    )
    with pytest.raises(OfficeError):
        office.read(lambda s: incoming.get(s, who=colleague, document_id=doc.id))
    with pytest.raises(OfficeError) as not_lead:
        office.run(
            lambda s: incoming.forward(
                s, who=colleague, document_id=doc.id, user_id=province.users["chuyenvien2"], note=""
            )
        )
    assert not_lead.value.status == 404  # not even visible to them yet
    office.run(
        lambda s: incoming.forward(
            s, who=lead, document_id=doc.id, user_id=province.users["chuyenvien2"],
            note="Nhờ anh góp ý phần kinh tế",
        )
    )  # fmt: skip
    office.read(lambda s: incoming.get(s, who=colleague, document_id=doc.id))
    office.run(
        lambda s: incoming.record_progress(s, who=colleague, document_id=doc.id, note="Đã góp ý")
    )
    with pytest.raises(OfficeError) as finish:
        office.run(lambda s: incoming.finish(s, who=colleague, document_id=doc.id, result="x"))
    assert finish.value.code == "NOT_THE_LEAD"
    steps = office.read(
        lambda s: [
            h.action for h in incoming.history(s, doc=incoming.get(s, who=lead, document_id=doc.id))
        ]
    )
    assert steps == ["entered", "registered", "directed", "forwarded", "progress"]
