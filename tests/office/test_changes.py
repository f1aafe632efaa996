"""A revoke, update or replace arriving from the sender, or a status 13 (the sender asks for
the document back), acts on the registered document only with the clerk's decision, which
goes back as 15 (agreed) or 16 (refused)."""

from __future__ import annotations

import pytest

from lienthong.edxml.model import Business
from lienthong.office import incoming
from lienthong.office.errors import OfficeError
from lienthong.office.models import Document
from lienthong.office.runtime import Office
from lienthong.office.worker import work_once

from .officekit import SENDER, HubWorld, Province, edoc, wait_for


def _registered(office: Office, province: Province, connected: HubWorld) -> tuple[str, Document]:
    message_id = connected.send(edoc())
    assert wait_for(lambda: work_once(office)["received"] == 1)
    clerk = province.login(office, "vanthu")
    [doc] = office.read(lambda s: incoming.my_work(s, who=clerk).to_register)
    office.run(
        lambda s: incoming.register(
            s, who=clerk, document_id=doc.id, register_id=province.register_id
        )
    )
    work_once(office, poll=False)
    return message_id, doc


def _doc(office: Office, doc_id: int) -> Document:
    found = office.read(lambda s: s.get(Document, doc_id))
    assert found is not None
    return found


def _codes(connected: HubWorld, expect: int) -> list[str]:
    return [s["status_code"] for s in connected.statuses(expect=expect)]


def test_a_revocation_waits_for_the_clerk_who_agrees_with_15(
    office: Office, province: Province, connected: HubWorld
) -> None:
    _message_id, doc = _registered(office, province, connected)
    revoke = edoc()
    revoke.business = Business(doc_type="1", reason="Ban hành nhầm, thu hồi để sửa", paper="0")
    connected.send(revoke)
    wait_for(lambda: work_once(office) and _doc(office, doc.id).change_request)
    marked = _doc(office, doc.id)
    assert marked.change_request == "revoke" and "Ban hành nhầm" in marked.change_reason
    assert marked.state == "registered"  # nothing happens before the clerk decides
    # no second document was created for the revocation
    assert office.read(lambda s: s.query(Document).count()) == 1
    clerk = province.login(office, "vanthu")
    assert [d.id for d in office.read(lambda s: incoming.my_work(s, who=clerk).changes)] == [doc.id]
    office.run(lambda s: incoming.decide_change(s, who=clerk, document_id=doc.id, accept=True))
    work_once(office, poll=False)
    assert _doc(office, doc.id).state == "revoked"
    assert _codes(connected, 3) == ["01", "03", "15"]
    # a revoked document can no longer be directed
    leader = province.login(office, "lanhdao")
    with pytest.raises(OfficeError) as refused:
        office.run(
            lambda s: incoming.direct(
                s,
                who=leader,
                document_id=doc.id,
                data=incoming.Direction(direction="x", lead_user_id=province.users["chuyenvien"]),
            )
        )
    assert refused.value.code == "DOCUMENT_STATE"


def test_an_update_arrives_as_a_new_version_and_a_refusal_sends_16(
    office: Office, province: Province, connected: HubWorld
) -> None:
    _message_id, doc = _registered(office, province, connected)
    update = edoc(subject="V/v triển khai Quyết định (cập nhật phụ lục)")
    update.business = Business(doc_type="2", reason="Bổ sung phụ lục", paper="0")
    connected.send(update)
    assert wait_for(lambda: work_once(office)["received"] == 1)
    original = _doc(office, doc.id)
    assert original.change_request == "update" and original.change_document_id is not None
    new = _doc(office, original.change_document_id)
    assert new.state == "arrived" and new.business_type == 2
    clerk = province.login(office, "vanthu")
    office.run(
        lambda s: incoming.decide_change(
            s, who=clerk, document_id=doc.id, accept=False, note="Văn bản đã giao xử lý"
        )
    )
    work_once(office, poll=False)
    after = _doc(office, doc.id)
    assert after.state == "registered" and after.change_request == ""
    # 01 and 03 of the original, 01 of the update, 16 for the refusal
    assert sorted(_codes(connected, 4)) == ["01", "01", "03", "16"]
    with pytest.raises(OfficeError) as twice:
        office.run(lambda s: incoming.decide_change(s, who=clerk, document_id=doc.id, accept=True))
    assert twice.value.code == "NO_CHANGE_REQUEST"


def test_a_status_13_asks_for_the_document_back(
    office: Office, province: Province, connected: HubWorld
) -> None:
    message_id, doc = _registered(office, province, connected)
    connected.sender.status(
        message_id, agency=SENDER, status_code="13", description="Gửi nhầm, đề nghị trả lại"
    )
    wait_for(lambda: work_once(office) and _doc(office, doc.id).change_request)
    marked = _doc(office, doc.id)
    assert (
        marked.change_request == "withdraw" and marked.change_reason == "Gửi nhầm, đề nghị trả lại"
    )
    clerk = province.login(office, "vanthu")
    leader = province.login(office, "lanhdao")
    with pytest.raises(OfficeError):  # only the clerk decides
        office.run(lambda s: incoming.decide_change(s, who=leader, document_id=doc.id, accept=True))
    office.run(lambda s: incoming.decide_change(s, who=clerk, document_id=doc.id, accept=True))
    work_once(office, poll=False)
    assert _doc(office, doc.id).state == "revoked"
    assert _codes(connected, 3) == ["01", "03", "15"]


def test_the_change_is_decided_from_the_document_page(
    office: Office, province: Province, connected: HubWorld
) -> None:
    from fastapi.testclient import TestClient

    from lienthong.office.http.app import create_app

    from .officekit import web_login as login

    _message_id, doc = _registered(office, province, connected)
    revoke = edoc()
    revoke.business = Business(doc_type="1", reason="Thu hồi", paper="0")
    connected.send(revoke)
    wait_for(lambda: work_once(office) and _doc(office, doc.id).change_request)
    with TestClient(create_app(office, start_worker=False), follow_redirects=False) as web:
        csrf = login(web, "vanthu")
        page = web.get(f"/documents/{doc.id}").text
        assert "Nơi gửi thu hồi văn bản" in page
        r = web.post(f"/documents/{doc.id}/change", data={"decision": "accept", "csrf_token": csrf})
        assert r.status_code == 303
    assert _doc(office, doc.id).state == "revoked"
