"""A peer hub sends only as the agencies this hub routes to it (security review, issue 10
§3.1): not as agencies served here, not as agencies of another peer, not as codes unknown
to the directory — and so it cannot revoke their documents either. On SQLite and
PostgreSQL.

The national hub of these tests: ``G22`` served by a local system; peers ``h41`` (serves
``H41``) and ``h53`` (serves ``H53``), each with its peer system ``hub.<peer>``.
"""

from __future__ import annotations

import hashlib
import uuid
from collections.abc import Callable
from pathlib import Path
from typing import Any

import pytest

from lienthong.edxml.builder import build
from lienthong.edxml.model import Business, DocumentCode, Edoc, Organization, ResponseFor
from lienthong.hub import directory, federation, intake
from lienthong.hub.errors import HubError
from lienthong.hub.models import Delivery, System
from lienthong.hub.settings import SignaturePolicy

VPCP = "000.00.00.G22"  # served by a local system of this hub
NGHE_AN = "000.00.00.H41"  # the province behind peer h41
COMMUNE_H41 = "000.01.31.H41"  # a commune behind peer h41
TAY_NINH = "000.00.00.H53"  # the province behind peer h53
UNKNOWN = "000.00.00.H98"  # in nobody's directory

NAMES = {
    VPCP: "Văn phòng Chính phủ",
    NGHE_AN: "UBND tỉnh Nghệ An",
    COMMUNE_H41: "UBND phường Hưng Bình",
    TAY_NINH: "UBND tỉnh Tây Ninh",
}


@pytest.fixture
def national(hub: Any) -> Any:
    with hub.session() as s:
        for code, name in NAMES.items():
            directory.add_agency(s, code=code, name=name)
        directory.add_system(s, system_id="qlvb.vpcp", agencies=[VPCP])
        for peer_id, root, level1 in (("h41", NGHE_AN, "H41"), ("h53", TAY_NINH, "H53")):
            new = directory.add_system(s, system_id=f"hub.{peer_id}", agencies=[root])
            new.system.peer = True
            federation.add_peer(
                s, peer_id=peer_id, url=f"http://{peer_id}.invalid", api_key="k", serves=[level1]
            )
    return hub


def _edoc(make_edoc: Callable[..., Edoc], sender: str, to: str = VPCP, **kw: Any) -> bytes:
    return build(
        make_edoc(
            sender=Organization(organ_id=sender, organ_name=NAMES.get(sender, "Cơ quan")),
            recipients=[Organization(organ_id=to, organ_name=NAMES.get(to, "Nơi nhận"))],
            code=DocumentCode("88", "UBND"),
            **kw,
        )
    )


def _send(hub: Any, tmp_path: Path, system_id: str, data: bytes) -> intake.AcceptResult:
    path = tmp_path / f"{uuid.uuid4().hex}.edxml"
    path.write_bytes(data)
    body = intake.Body(path, hashlib.sha256(data).hexdigest(), len(data))
    with hub.session() as s:
        system = s.get(System, system_id)
        assert system is not None
        result: intake.AcceptResult = intake.accept(
            s,
            system=system,
            body=body,
            blobs=hub.blobs,
            limits=hub.limits,
            signature_policy=SignaturePolicy.OFF,
        )
        return result


def test_a_peer_sends_as_the_agencies_routed_to_it(
    national: Any, tmp_path: Path, make_edoc: Callable[..., Edoc]
) -> None:
    result = _send(national, tmp_path, "hub.h41", _edoc(make_edoc, COMMUNE_H41))
    assert [o.agency_code for o in result.recipients] == [VPCP]


@pytest.mark.parametrize(
    ("sender", "code"),
    [
        (TAY_NINH, "HUB_NOT_YOUR_AGENCY"),  # routed to another peer
        (VPCP, "HUB_NOT_YOUR_AGENCY"),  # served here
        (UNKNOWN, "HUB_UNKNOWN_SENDER"),  # in nobody's directory
    ],
)
def test_a_peer_cannot_send_as_agencies_not_routed_to_it(
    national: Any, tmp_path: Path, make_edoc: Callable[..., Edoc], sender: str, code: str
) -> None:
    with pytest.raises(HubError) as refused:
        _send(national, tmp_path, "hub.h41", _edoc(make_edoc, sender, to=NGHE_AN))
    assert (refused.value.code, refused.value.status) == (code, 403)


def test_a_peer_cannot_revoke_another_peers_document(
    national: Any, tmp_path: Path, make_edoc: Callable[..., Edoc]
) -> None:
    original = _send(national, tmp_path, "hub.h53", _edoc(make_edoc, TAY_NINH))
    national.dispatch_now()
    revocation = _edoc(
        make_edoc,
        TAY_NINH,
        response_for=[
            ResponseFor(
                organ_id=TAY_NINH,
                code="88/UBND",
                promulgation_date="2024/03/05",
                document_id=f"{TAY_NINH},2024/03/05,88/UBND",
            )
        ],
        business=Business(doc_type="1", reason="Thu hồi", paper="0"),
    )
    with pytest.raises(HubError) as refused:
        _send(national, tmp_path, "hub.h41", revocation)
    assert refused.value.code == "HUB_NOT_YOUR_AGENCY"
    with national.session() as s:
        [delivery] = s.query(Delivery).filter(Delivery.message_id == original.message_id).all()
        assert delivery.state == "available"


def test_a_default_peer_sends_only_as_codes_no_other_peer_serves(
    hub: Any, tmp_path: Path, make_edoc: Callable[..., Edoc]
) -> None:
    """On a provincial hub: the national hub (``*``) relays for the Government Office, but
    not for Tây Ninh, which a direct province-to-province link serves."""
    with hub.session() as s:
        for code, name in NAMES.items():
            directory.add_agency(s, code=code, name=name)
        directory.add_system(s, system_id="qlvb.xa", agencies=[COMMUNE_H41])
        for peer_id, serves in (("vn", "*"), ("h53", "H53")):
            new = directory.add_system(s, system_id=f"hub.{peer_id}", agencies=[NGHE_AN])
            new.system.peer = True
            federation.add_peer(
                s, peer_id=peer_id, url=f"http://{peer_id}.invalid", api_key="k", serves=[serves]
            )
    ok = _send(hub, tmp_path, "hub.vn", _edoc(make_edoc, VPCP, to=COMMUNE_H41))
    assert [o.agency_code for o in ok.recipients] == [COMMUNE_H41]
    with pytest.raises(HubError) as refused:
        _send(hub, tmp_path, "hub.vn", _edoc(make_edoc, TAY_NINH, to=COMMUNE_H41))
    assert refused.value.code == "HUB_NOT_YOUR_AGENCY"
    assert _send(hub, tmp_path, "hub.h53", _edoc(make_edoc, TAY_NINH, to=COMMUNE_H41))
