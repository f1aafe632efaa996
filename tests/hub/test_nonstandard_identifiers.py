"""Units whose identifier is not an agency code (the national platform's hosted units,
``vxp.saas.03``), as recorded from the platform's test environment: the directory is the
authority. An operator registers one explicitly (or directory sync brings it); a registered
one is accepted (a validation warning), routed by its directory entry's peer, else the
default peer; an unregistered one is refused with a typed error. Its level is unknown
(None) and it stays in every count."""

from __future__ import annotations

import json
import socket
import time
from collections.abc import Iterator
from dataclasses import dataclass
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

import pytest
from fastapi.testclient import TestClient
from typer.testing import CliRunner

from lienthong.cli import app
from lienthong.client.rest import HubClient, HubClientError
from lienthong.client.vdxp import VdxpClient, VdxpClientError
from lienthong.devnet.network import start_server
from lienthong.edxml.builder import build
from lienthong.edxml.model import (
    DocumentCode,
    Edoc,
    Organization,
    PromulgationInfo,
    ResponseFor,
    Status,
    TraceHeader,
)
from lienthong.edxml.parser import parse
from lienthong.hub import directory, federation, intake
from lienthong.hub.errors import HubError
from lienthong.hub.http.app import create_app
from lienthong.hub.models import Delivery, Message, OutboxEntry
from lienthong.hub.outbox import queue
from lienthong.hub.routing import _resolve
from lienthong.hub.runtime import Hub
from lienthong.hub.settings import Settings

SAAS = "vxp.saas.03"  # a unit hosted by the national platform ("VXP dùng chung")
SAAS_NAME = "Đơn vị dùng chung 03"
COMMUNE = "000.01.31.H41"  # UBND phường Hưng Bình, behind the provincial hub
PROVINCE = "000.00.00.H41"


def saas_document(number: str, *, to: str = COMMUNE) -> bytes:
    """A new document in the recorded shape: the hosted unit in From and in TraceHeader,
    the literal text ``null`` in ResponseFor/OrganId."""
    return build(
        Edoc(
            sender=Organization(organ_id=SAAS, organ_name=SAAS_NAME),
            recipients=[Organization(organ_id=to, organ_name="UBND phường Hưng Bình")],
            code=DocumentCode(number, "VXP"),
            promulgation=PromulgationInfo("Hà Nội", "2025/06/12"),
            subject="Thử nghiệm gửi nhận văn bản từ đơn vị dùng chung",
            response_for=[ResponseFor("null", "", "", "")],
            trace_headers=[TraceHeader(SAAS, "2025/06/12 09:41:07")],
        ),
        registered={SAAS, to},
    )


def commune_document(number: str, *, to: str = SAAS) -> bytes:
    return build(
        Edoc(
            sender=Organization(organ_id=COMMUNE, organ_name="UBND phường Hưng Bình"),
            recipients=[Organization(organ_id=to, organ_name=SAAS_NAME)],
            code=DocumentCode(number, "UBND"),
            promulgation=PromulgationInfo("Vinh", "2026/11/27"),
            subject="Phúc đáp văn bản của đơn vị dùng chung",
        ),
        registered={to},
    )


def saas_status(original: bytes, code: str) -> bytes:
    """The status the hosted unit sends about a document it received (its own software,
    not the hub, writes it)."""
    doc = parse(original)
    assert isinstance(doc, Edoc)
    return build(
        Status(
            sender=Organization(organ_id=SAAS, organ_name=SAAS_NAME),
            response_for=ResponseFor(
                organ_id=doc.sender.organ_id,
                code=f"{doc.code.number}/{doc.code.notation}",
                promulgation_date=doc.promulgation.date if doc.promulgation else None,
                document_id=doc.document_id,
            ),
            status_code=code,
            description="Đã xử lý xong",
            timestamp="2026/11/28 10:00:00",
        ),
        registered={SAAS},
    )


# ----------------------------------------------------------------------------- directory


def test_an_operator_registers_a_nonstandard_identifier_only_explicitly(hub: Hub) -> None:
    with hub.session() as s:
        with pytest.raises(HubError) as refused:
            directory.add_agency(s, code=SAAS, name=SAAS_NAME)
        assert refused.value.code == "AGENCY_CODE_INVALID" and refused.value.status == 422
        assert "--nonstandard" in refused.value.message_en
        agency = directory.add_agency(s, code=SAAS, name=SAAS_NAME, nonstandard=True)
        assert (agency.code, agency.level, agency.nonstandard) == (SAAS, None, True)
        for code, expected in (
            ("000.00.00.H41", "DIRECTORY_CODE_IS_STANDARD"),
            ("null", "DIRECTORY_IDENTIFIER_INVALID"),
            ("vxp saas 04", "DIRECTORY_IDENTIFIER_INVALID"),
        ):
            with pytest.raises(HubError) as bad:
                directory.add_agency(s, code=code, name="x", nonstandard=True)
            assert bad.value.code == expected
        with pytest.raises(HubError) as no_peer:
            directory.add_agency(s, code=SAAS, name=SAAS_NAME, nonstandard=True, via_peer="vn")
        assert no_peer.value.code == "PEER_NOT_FOUND"
        with pytest.raises(HubError) as standard_via:
            directory.add_agency(s, code=PROVINCE, name="UBND tỉnh Nghệ An", via_peer="vn")
        assert standard_via.value.code == "DIRECTORY_VIA_PEER_NONSTANDARD_ONLY"
    with hub.session() as s:
        assert directory.is_registered(s, SAAS) and not directory.is_registered(s, "vxp.saas.04")
        assert directory.resolve_code(s, " vxp.saas.03 ") == SAAS
        assert directory.resolve_code(s, "28.22.H17") == "000.28.22.H17"
        with pytest.raises(HubError) as unknown:
            directory.resolve_code(s, "vxp.saas.04")
        assert unknown.value.code == "AGENCY_CODE_INVALID"
        assert "not registered in the directory" in unknown.value.message_en


def test_units_of_unknown_level_stay_in_every_listing_and_count(hub: Hub) -> None:
    with hub.session() as s:
        directory.add_agency(s, code=PROVINCE, name="UBND tỉnh Nghệ An")
        directory.add_agency(s, code=SAAS, name=SAAS_NAME, nonstandard=True)
        key = directory.add_system(s, system_id="sys.h41", agencies=[PROVINCE]).api_key
        secret = directory.add_system(s, system_id=SAAS, agencies=[SAAS]).secret
    with hub.session() as s:
        assert directory.count_agencies(s) == 2
        assert [a.code for a in directory.search_agencies(s, query="dung chung")] == [SAAS]
        exported = {r["code"]: r for r in directory.export_agencies(s)}
        assert exported[SAAS]["level"] is None and exported[SAAS]["nonstandard"] is True
        # a provincial hub registers its own tree upstream: never a non-standard unit
        assert [r["code"] for r in directory.registration_rows(s, under=PROVINCE)] == [PROVINCE]
    with TestClient(create_app(hub, start_worker=False)) as http:
        rest = HubClient("http://testserver", key, http=http)
        listed = {a["code"]: a for a in rest.agencies()}
        assert listed[SAAS]["level"] is None and listed[SAAS]["nonstandard"] is True
        assert listed[PROVINCE]["level"] == 1 and listed[PROVINCE]["nonstandard"] is False
        vdxp = VdxpClient("http://testserver", SAAS, secret, http=http)
        assert {a["code"] for a in vdxp.get_agencies_list()["data"]} == {PROVINCE, SAAS}
        assert {a["code"] for a in vdxp.get_agencies_list_qd20()["data"]} == {PROVINCE, SAAS}
        synced = {a["code"] for a in vdxp.get_synchronize_unit()["data"]}
        assert synced == {PROVINCE, SAAS}


def test_a_system_cannot_register_a_nonstandard_unit_but_may_delete_one_it_serves(
    hub: Hub,
) -> None:
    """Only an operator or directory sync registers an identifier outside the standard
    form; ``registerAgency`` from a system stays strict. ``deleteAgency`` works for one the
    system serves."""
    with hub.session() as s:
        directory.add_agency(s, code=SAAS, name=SAAS_NAME, nonstandard=True)
        secret = directory.add_system(s, system_id=SAAS, agencies=[SAAS]).secret
    with TestClient(create_app(hub, start_worker=False)) as http:
        vdxp = VdxpClient("http://testserver", SAAS, secret, http=http)
        with pytest.raises(VdxpClientError) as refused:
            vdxp.register_agency({"code": "vxp.saas.04", "name": "Đơn vị 04", "pcode": SAAS})
        assert refused.value.response is not None
        assert refused.value.response["code"] == "AGENCY_CODE_INVALID"
        vdxp.delete_agency(SAAS)
    with hub.session() as s:
        assert directory.get_agency(s, code=SAAS).active is False
        assert directory.find_agency(s, code="vxp.saas.04") is None


def test_export_and_import_keep_a_nonstandard_unit(hub: Hub, tmp_path: Path) -> None:
    with hub.session() as s:
        directory.add_agency(s, code=SAAS, name=SAAS_NAME, nonstandard=True)
        rows = directory.export_agencies(s)
    for suffix in (".csv", ".json"):
        path = tmp_path / f"danh-ba{suffix}"
        directory.write_agency_export(rows, path)
        with hub.session() as s:
            result = directory.import_agencies(s, rows=directory.read_agency_rows(path))
        assert result.errors == [] and result.updated == 1
        with hub.session() as s:
            assert directory.is_registered(s, SAAS)
    with hub.session() as s:  # without the column saying so, the import refuses it
        result = directory.import_agencies(s, rows=[{"code": "vxp.saas.05", "name": "x"}])
    assert [e["error"]["code"] for e in result.errors] == ["AGENCY_CODE_INVALID"]


def test_directory_sync_registers_the_platforms_nonstandard_units_through_its_peer(
    hub: Hub,
) -> None:
    rows = [
        {"code": PROVINCE, "name": "UBND tỉnh Nghệ An", "version": 1},
        {"code": SAAS, "name": SAAS_NAME, "version": 2, "centerCode": "vn"},
        {"code": "null", "name": "?", "version": 3},
        # a hosted unit the platform has since given a standard code: its old identifier
        # stays registered, and resolves to the new code
        {"code": "000.00.77.H41", "name": "Đơn vị 11", "oldCode": "vxp.saas.11", "version": 4},
    ]
    with hub.session() as s:
        federation.add_peer(s, peer_id="vn", url="http://vn.example", api_key="k", serves=["*"])
        result = directory.apply_synchronisation(
            s, source="http://vn.example", rows=rows, via_peer="vn"
        )
    assert (result.created, len(result.errors), result.version) == (3, 1, 4)
    with hub.session() as s:
        agency = directory.get_agency(s, code=SAAS)
        assert (agency.nonstandard, agency.via_peer, agency.level) == (True, "vn", None)
        assert directory.get_agency(s, code=PROVINCE).nonstandard is False
        assert directory.is_registered(s, "vxp.saas.11")
        assert directory.resolve_code(s, "vxp.saas.11") == "000.00.77.H41"
        assert _resolve(s, "vxp.saas.11") == ("000.00.77.H41", None, "vn")
        assert not directory.is_registered(s, "null")


# ----------------------------------------------------------------------------- intake


def _body(tmp_path: Path, data: bytes) -> intake.Body:
    return intake.body_from_bytes(tmp_path, data)


def test_a_package_from_an_unregistered_nonstandard_unit_is_refused_with_a_typed_error(
    hub: Hub, tmp_path: Path
) -> None:
    with hub.session() as s:
        directory.add_agency(s, code=COMMUNE, name="UBND phường Hưng Bình")
        directory.add_agency(s, code="vxp.saas.04", name="Đơn vị 04", nonstandard=True)
        system = directory.add_system(s, system_id="saas", agencies=["vxp.saas.04"]).system
    with pytest.raises(HubError) as info:
        intake.receive(hub, system=system, body=_body(tmp_path, saas_document("1")))
    error = info.value
    assert (error.code, error.status, error.field) == (
        "AGENCY_CODE_INVALID",
        422,
        "MessageHeader/From/OrganId",
    )
    assert SAAS in error.message_en and "not registered in the directory" in error.message_en
    with hub.session() as s:
        assert s.query(Message).count() == 0


def test_a_registered_nonstandard_sender_is_accepted_and_delivered(
    hub: Hub, tmp_path: Path
) -> None:
    with hub.session() as s:
        directory.add_agency(s, code=COMMUNE, name="UBND phường Hưng Bình")
        directory.add_agency(s, code=SAAS, name=SAAS_NAME, nonstandard=True)
        system = directory.add_system(s, system_id=SAAS, agencies=[SAAS]).system
        directory.add_system(s, system_id="qlvb.xa", agencies=[COMMUNE])
    result = intake.receive(hub, system=system, body=_body(tmp_path, saas_document("2")))
    assert [(o.agency_code, o.state) for o in result.recipients] == [(COMMUNE, "queued")]
    with hub.session() as s:
        assert s.get(Message, result.message_id).sender_code == SAAS


def test_a_cancellation_request_names_a_hosted_recipient(hub: Hub) -> None:
    """Status 13 (the sender asks one recipient for the document back) is written by the
    hub for a REST caller: the recipient may be a registered non-standard identifier."""
    with hub.session() as s:
        directory.add_agency(s, code=COMMUNE, name="UBND phường Hưng Bình")
        directory.add_agency(s, code=PROVINCE, name="UBND tỉnh Nghệ An")
        directory.add_agency(s, code=SAAS, name=SAAS_NAME, nonstandard=True)
        commune_key = directory.add_system(s, system_id="qlvb.xa", agencies=[COMMUNE]).api_key
        saas_secret = directory.add_system(s, system_id=SAAS, agencies=[SAAS]).secret
        directory.add_system(s, system_id="qlvb.h41", agencies=[PROVINCE])
    package = build(
        Edoc(
            sender=Organization(organ_id=COMMUNE, organ_name="UBND phường Hưng Bình"),
            recipients=[Organization(organ_id=SAAS), Organization(organ_id=PROVINCE)],
            code=DocumentCode("36", "UBND"),
            promulgation=PromulgationInfo("Vinh", "2026/11/27"),
            subject="Văn bản gửi hai nơi",
        ),
        registered={SAAS},
    )
    with TestClient(create_app(hub, start_worker=False)) as http:
        commune = HubClient("http://testserver", commune_key, http=http)
        sent = commune.send(package)
        hub.dispatch_now()
        answer = http.post(
            f"/api/v1/messages/{sent['message_id']}/status",
            headers={"Authorization": f"Bearer {commune_key}"},
            json={"agency": COMMUNE, "status_code": "13", "recipient": f" {SAAS}"},
        )
        assert answer.status_code == 201, answer.text
        assert [r["agency"] for r in answer.json()["recipients"]] == [SAAS]
        unknown = http.post(
            f"/api/v1/messages/{sent['message_id']}/status",
            headers={"Authorization": f"Bearer {commune_key}"},
            json={"agency": COMMUNE, "status_code": "13", "recipient": "vxp.saas.04"},
        )
        assert unknown.status_code == 422
        assert unknown.json()["error"]["code"] == "AGENCY_CODE_INVALID"
        hub.dispatch_now()
        saas = VdxpClient("http://testserver", SAAS, saas_secret, http=http)
        [item] = saas.get_received_list("status")["data"]
        status = parse(saas.get_edoc(item["docId"]))
        assert isinstance(status, Status) and status.status_code == "13"
        assert status.response_for.organ_id == SAAS


# ----------------------------------------------------------------------------- routing


def test_a_nonstandard_recipient_goes_to_its_entrys_peer_else_the_default(hub: Hub) -> None:
    with hub.session() as s:
        federation.add_peer(s, peer_id="vn", url="http://vn.example", api_key="k", serves=["*"])
        federation.add_peer(s, peer_id="x03", url="http://x.example", api_key="k", serves=["03"])
        federation.add_peer(s, peer_id="h53", url="http://h53.example", api_key="k", serves=["H53"])
        directory.add_agency(s, code=SAAS, name=SAAS_NAME, nonstandard=True, via_peer="h53")
        directory.add_agency(s, code="vxp.saas.05", name="Đơn vị 05", nonstandard=True)
    with hub.session() as s:
        # its entry's peer; never a peer serving "03" (the last dotted part is no level 1)
        assert _resolve(s, SAAS) == (SAAS, None, "h53")
        assert _resolve(s, "vxp.saas.05") == ("vxp.saas.05", None, "vn")
        s.get(federation.Peer, "h53").active = False  # its peer is gone: the default
        assert _resolve(s, SAAS) == (SAAS, None, "vn")
        assert federation.route_for(s, "000.00.00.H53") is not None


def test_the_agency_cli_refuses_a_nonstandard_code_unless_told(
    database_url: str, tmp_path: Path
) -> None:
    env: dict[str, str | None] = {
        "LIENTHONG_DATA_DIR": None,
        "LIENTHONG_BLOB_URL": None,
        "LIENTHONG_CONFIG": None,
        "LIENTHONG_DATABASE_URL": None if database_url.startswith("sqlite") else database_url,
        "COLUMNS": "200",
        "NO_COLOR": "1",
    }

    def cli(*args: str) -> Any:
        argv = [*args, "--data-dir", str(tmp_path / "cli")]
        return CliRunner().invoke(app, argv, env=env)

    refused = cli("agency", "add", SAAS, SAAS_NAME)
    assert refused.exit_code == 2 and "AGENCY_CODE_INVALID" in refused.stderr
    assert "--nonstandard" in refused.stderr
    via_unknown = cli("agency", "add", SAAS, SAAS_NAME, "--nonstandard", "--via", "vn")
    assert via_unknown.exit_code == 2 and "PEER_NOT_FOUND" in via_unknown.stderr
    added = cli("agency", "add", SAAS, SAAS_NAME, "--nonstandard")
    assert added.exit_code == 0, added.output
    [listed] = json.loads(cli("agency", "list", "--json").stdout)
    assert (listed["code"], listed["level"], listed["nonstandard"]) == (SAAS, None, True)
    table = cli("agency", "list").stdout
    assert SAAS in table and "?" in table


# ----------------------------------------------------------------------------- two hubs


def _port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return int(sock.getsockname()[1])


def _busy(hub: Hub) -> bool:
    now = datetime.now(UTC)
    with hub.session() as s:
        for e in s.query(OutboxEntry).filter(OutboxEntry.state.in_(["pending", "inflight"])):
            due = e.next_at.replace(tzinfo=UTC) if e.next_at.tzinfo is None else e.next_at
            if e.state == "inflight" or due <= now:
                return True
    return False


def _settle(*hubs: Hub) -> None:
    deadline = time.monotonic() + 20
    while time.monotonic() < deadline:
        moved = sum(h.dispatch_now() + h.relay_now() for h in hubs)
        if not moved and not any(_busy(h) for h in hubs):
            return
        time.sleep(0.05)
    raise AssertionError("the hubs did not settle")


@dataclass
class Net:
    national: Hub
    provincial: Hub
    n_url: str
    p_url: str
    saas: VdxpClient
    commune: HubClient


@pytest.fixture
def net(database_url: str, tmp_path: Path) -> Iterator[Net]:
    """The national hub (on the test database) hosts ``vxp.saas.03``, registered by its
    operator and served by the platform system of the same id (SDK, national-platform API);
    the provincial hub (SQLite) serves a commune (REST API) and learns the hosted unit by
    synchronising its directory from the national hub with ``lienthong agency sync``."""
    n_port, p_port = _port(), _port()
    n_url, p_url = f"http://127.0.0.1:{n_port}", f"http://127.0.0.1:{p_port}"
    national = Hub(
        Settings(
            data_dir=tmp_path / "n",
            database_url=database_url,
            hub_id="vn",
            signature_policy="off",
        )
    )
    provincial = Hub(Settings(data_dir=tmp_path / "p", hub_id="h41", signature_policy="off"))
    with national.session() as s:
        directory.add_agency(s, code=PROVINCE, name="UBND tỉnh Nghệ An")
        # the province registers its units upwards (`agency register-up`): a peer sends
        # only as agencies the national directory routes to it
        directory.add_agency(s, code=COMMUNE, name="UBND phường Hưng Bình")
        directory.add_agency(s, code=SAAS, name=SAAS_NAME, nonstandard=True)
        saas = directory.add_system(s, system_id=SAAS, agencies=[SAAS])
        from_p = directory.add_system(s, system_id="hub.h41", agencies=[PROVINCE])
        from_p.system.peer = True
    with provincial.session() as s:
        directory.add_agency(s, code=PROVINCE, name="UBND tỉnh Nghệ An")
        directory.add_agency(s, code=COMMUNE, name="UBND phường Hưng Bình")
        commune = directory.add_system(s, system_id="qlvb.xa", agencies=[COMMUNE])
        from_n = directory.add_system(s, system_id="hub.vn", agencies=[PROVINCE])
        from_n.system.peer = True
        federation.add_peer(s, peer_id="vn", url=n_url, api_key=from_p.api_key, serves=["*"])
    with national.session() as s:
        federation.add_peer(s, peer_id="h41", url=p_url, api_key=from_n.api_key, serves=["H41"])
    servers = [start_server(national, n_port), start_server(provincial, p_port)]
    try:
        synced = CliRunner().invoke(
            app,
            [
                "agency",
                "sync",
                "--from",
                n_url,
                "--system-id",
                "hub.h41",
                "--secret",
                from_p.secret,
                "--data-dir",
                str(tmp_path / "p"),
                "--json",
            ],
            env={
                "LIENTHONG_DATABASE_URL": None,
                "LIENTHONG_BLOB_URL": None,
                "LIENTHONG_CONFIG": None,
                "LIENTHONG_DATA_DIR": None,
            },
        )
        assert synced.exit_code == 0, synced.output
        yield Net(
            national,
            provincial,
            n_url,
            p_url,
            VdxpClient(n_url, SAAS, saas.secret),
            HubClient(p_url, commune.api_key),
        )
    finally:
        for server in servers:
            server.should_exit = True
        national.close()
        provincial.close()


def test_sync_registers_the_hosted_unit_reached_through_the_national_hub(net: Net) -> None:
    with net.provincial.session() as s:
        agency = directory.get_agency(s, code=SAAS)
        assert (agency.nonstandard, agency.via_peer, agency.level) == (True, "vn", None)


def test_a_document_from_the_hosted_unit_and_its_status_cross_two_hubs(net: Net) -> None:
    package = saas_document("31")
    sent = net.saas.send_edoc(package, from_code=SAAS)
    assert sent["status"] == "OK" and sent["failedRecipients"] == []
    _settle(net.national, net.provincial)

    [item] = net.commune.inbox(kind="edoc")
    assert item["sender"] == SAAS
    delivered = parse(net.commune.fetch(item["message_id"]))
    assert isinstance(delivered, Edoc)
    assert delivered.sender.organ_id == SAAS
    assert [t.organ_id for t in delivered.trace_headers] == [SAAS, "vn", "h41"]
    assert delivered.response_for[0].organ_id == "null"  # the sender's bytes, unchanged
    net.commune.ack(item["message_id"])
    # the hub writes the commune's status to the hosted unit (ResponseFor/OrganId = SAAS)
    net.commune.status(
        item["message_id"], agency=COMMUNE, status_code="03", description="Đã vào sổ"
    )
    _settle(net.provincial, net.national)

    [status_item] = net.saas.get_received_list("status")["data"]
    assert status_item["from"] == COMMUNE and status_item["to"] == SAAS
    status = parse(net.saas.get_edoc(status_item["docId"]))
    assert isinstance(status, Status)
    assert (status.response_for.organ_id, status.status_code) == (SAAS, "03")
    net.saas.update_status(status_item["docId"], "done")
    [row] = net.saas.get_sent_list(message_type="edoc", doc_id=sent["DocId"])["data"]
    assert (row["toCode"], row["businessStatus"]) == (COMMUNE, "03")


def test_a_document_to_the_hosted_unit_and_its_status_cross_two_hubs(net: Net) -> None:
    package = commune_document("32")
    sent = net.commune.send(package)
    assert [(r["agency"], r["state"]) for r in sent["recipients"]] == [(SAAS, "queued")]
    _settle(net.provincial, net.national)

    [item] = net.saas.get_received_list("edoc")["data"]
    assert item["from"] == COMMUNE and item["to"] == SAAS
    received = net.saas.get_edoc(item["docId"])
    net.saas.update_status(item["docId"], "done")
    answer = net.saas.send_edoc(saas_status(received, "06"), from_code=SAAS, message_type="status")
    assert answer["status"] == "OK" and answer["failedRecipients"] == []
    _settle(net.national, net.provincial)

    [status_item] = net.commune.inbox(kind="status")
    assert status_item["sender"] == SAAS and status_item["status_code"] == "06"
    [recipient] = net.commune.timeline(sent["message_id"])["recipients"]
    assert (recipient["agency"], recipient["state"], recipient["business_status"]) == (
        SAAS,
        "relayed",
        "06",
    )


def test_an_unregistered_nonstandard_recipient_is_refused_at_once(net: Net) -> None:
    with pytest.raises(HubClientError) as info:
        net.commune.send(commune_document("33", to="vxp.saas.09"))
    assert (info.value.code, info.value.http_status) == ("AGENCY_CODE_INVALID", 422)
    assert "vxp.saas.09" in info.value.message_en
    with pytest.raises(VdxpClientError) as platform:
        net.saas.send_edoc(saas_document("34", to="vxp.saas.09"), from_code=SAAS)
    assert platform.value.http_status == 422 and platform.value.response is not None
    assert platform.value.response["status"] == "FAIL"
    assert platform.value.response["code"] == "AGENCY_CODE_INVALID"
    assert platform.value.response["field"] == "MessageHeader/To[1]/OrganId"


def test_a_unit_only_one_hub_registered_becomes_a_dead_letter_there(net: Net) -> None:
    # the provincial operator registers a hosted unit the national hub does not know:
    # routed to the default peer, refused there (typed), dead-lettered here
    with net.provincial.session() as s:
        directory.add_agency(s, code="vxp.saas.09", name="Đơn vị 09", nonstandard=True)
    sent = net.commune.send(commune_document("35", to="vxp.saas.09"))
    _settle(net.provincial, net.national)
    with net.provincial.session() as s:
        [dead] = queue.dead_letters(s)
        assert dead.action == "relay:vn"
        assert "AGENCY_CODE_INVALID" in (dead.last_error or "")
        delivery = s.query(Delivery).filter(Delivery.message_id == sent["message_id"]).one()
        assert delivery.state == "failed"
    with net.national.session() as s:
        assert s.query(Message).count() == 0
