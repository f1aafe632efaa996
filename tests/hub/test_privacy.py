"""A recipient's system sees its own part of a document's timeline, the sender sees all."""

from __future__ import annotations

import hashlib
from pathlib import Path
from typing import Any

from lienthong.edxml.builder import build
from lienthong.edxml.model import DocumentCode, Edoc, Organization, PromulgationInfo
from lienthong.hub import directory, intake, mailbox
from lienthong.hub.settings import SignaturePolicy


def test_recipients_do_not_see_each_other_in_the_timeline(hub: Any, tmp_path: Path) -> None:
    with hub.session() as s:
        for code, name in (
            ("000.00.00.H41", "UBND tỉnh Nghệ An"),
            ("000.00.00.G22", "VPCP"),
            ("000.00.00.G09", "Bộ Nội vụ"),
        ):
            directory.add_agency(s, code=code, name=name)
        directory.add_system(s, system_id="h41", agencies=["000.00.00.H41"])
        directory.add_system(s, system_id="g22", agencies=["000.00.00.G22"])
        directory.add_system(s, system_id="g09", agencies=["000.00.00.G09"])
    data = build(
        Edoc(
            sender=Organization(organ_id="000.00.00.H41"),
            recipients=[
                Organization(organ_id="000.00.00.G22"),
                Organization(organ_id="000.00.00.G09"),
            ],
            code=DocumentCode("3", "UBND-TH"),
            promulgation=PromulgationInfo("Vinh", "2026/11/27"),
            subject="Về việc báo cáo",
        )
    )
    path = tmp_path / "p.edxml"
    path.write_bytes(data)
    body = intake.Body(path, hashlib.sha256(data).hexdigest(), len(data))
    with hub.session() as s:
        sender = directory.get_system(s, system_id="h41")
        message_id = intake.accept(
            s,
            system=sender,
            body=body,
            blobs=hub.blobs,
            limits=hub.limits,
            signature_policy=SignaturePolicy.OFF,
        ).message_id
    hub.dispatch_now()
    with hub.session() as s:
        g22 = directory.get_system(s, system_id="g22")
        mine = mailbox.timeline(s, system=g22, message_id=message_id)
        everything = mailbox.timeline(
            s, system=directory.get_system(s, system_id="h41"), message_id=message_id
        )
    assert [r["agency"] for r in mine["recipients"]] == ["000.00.00.G22"]
    assert all(e["agency"] in {"000.00.00.G22", "000.00.00.H41"} for e in mine["events"])
    assert {r["agency"] for r in everything["recipients"]} == {"000.00.00.G22", "000.00.00.G09"}
