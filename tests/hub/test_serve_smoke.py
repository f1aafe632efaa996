"""The hub end to end through the official-SDK-compatible client, on SQLite and PostgreSQL."""

from __future__ import annotations

from typing import Any

from fastapi.testclient import TestClient

from lienthong.client.vdxp import VdxpClient
from lienthong.edxml.builder import build
from lienthong.edxml.model import DocumentCode, Edoc, Organization, PromulgationInfo
from lienthong.hub import audit, directory
from lienthong.hub.http.app import create_app
from support import as_sent


def test_document_goes_from_sender_to_recipient_once(hub: Any) -> None:
    with hub.session() as s:
        directory.add_agency(s, code="000.00.00.H41", name="UBND tỉnh Nghệ An")
        directory.add_agency(s, code="000.00.00.G22", name="Văn phòng Chính phủ")
        a = directory.add_system(s, system_id="sys.h41", agencies=["000.00.00.H41"])
        b = directory.add_system(s, system_id="sys.g22", agencies=["000.00.00.G22"])
    package = build(
        Edoc(
            sender=Organization(organ_id="000.00.00.H41", organ_name="UBND tỉnh Nghệ An"),
            recipients=[Organization(organ_id="000.00.00.G22")],
            code=DocumentCode("15", "UBND-VX"),
            promulgation=PromulgationInfo("Nghệ An", "2026/11/27"),
            subject="Về việc thử nghiệm liên thông",
        )
    )
    with TestClient(create_app(hub, start_worker=False)) as http:
        sender = VdxpClient("http://testserver", "sys.h41", a.secret, http=http)
        receiver = VdxpClient("http://testserver", "sys.g22", b.secret, http=http)
        first = sender.send_edoc(package, from_code="000.00.00.H41")
        again = sender.send_edoc(package, from_code="000.00.00.H41")
        assert again["DocId"] == first["DocId"] and again["code"] == "ALREADY_ACCEPTED"
        assert receiver.get_received_list("edoc")["data"] == []  # queued, not dispatched yet
        hub.dispatch_now()
        listed = receiver.get_received_list("edoc")["data"]
        assert [item["docId"] for item in listed] == [first["DocId"]]
        assert as_sent(receiver.get_edoc(first["DocId"])) == package  # + our TraceHeader
        receiver.update_status(first["DocId"], "done")
        assert receiver.get_received_list("edoc")["data"] == []
    with hub.session() as s:
        assert audit.verify(s).ok
