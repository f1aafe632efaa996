"""``lienthong send | status | timeline`` as a user meets them: every problem the hub names
(with its field), ``--json`` errors, exit codes as ``edxml validate`` (1 refused, 2 could
not run), a send where every recipient failed, a hub that does not answer, status code
aliases, ``--agency`` left out, and the plain timeline. Against a real hub in process
(SQLite and PostgreSQL)."""

from __future__ import annotations

import json
import re
import socket
from collections.abc import Iterator
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import pytest
from fastapi.testclient import TestClient
from typer.testing import CliRunner, Result

from lienthong.cli import app
from lienthong.client import cli as client_cli
from lienthong.client.rest import HubClient
from lienthong.edxml.builder import build
from lienthong.edxml.model import DocumentCode, Organization
from lienthong.hub import directory
from lienthong.hub.http.app import create_app
from lienthong.hub.runtime import Hub
from support import new_edoc

H41 = "000.00.00.H41"
G22 = "000.00.00.G22"
G12 = "000.00.00.G12"
H42_UNROUTED = "000.00.00.H42"  # not in the directory, no peer serves H42


@dataclass
class Cli:
    hub: Hub
    http: TestClient
    keys: dict[str, str]
    tmp: Path

    def run(self, system: str, *args: str) -> Result:
        runner = CliRunner(env={"COLUMNS": "220", "NO_COLOR": "1"})
        return runner.invoke(app, [*args, "--api-key", self.keys[system]])

    def package(self, *recipients: str, number: str = "215") -> Path:
        data = build(
            new_edoc(
                recipients=[Organization(organ_id=r, organ_name="Cơ quan") for r in recipients],
                code=DocumentCode(number, "STTTT-VP"),
            )
        )
        path = self.tmp / f"{number}.edxml"
        path.write_bytes(data)
        return path


@pytest.fixture
def cli(hub: Hub, tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> Iterator[Cli]:
    keys = {}
    with hub.session() as s:
        directory.add_agency(s, code="000.00.12.H41", name="Sở TT&TT Nghệ An")
        directory.add_agency(s, code=G22, name="Văn phòng Chính phủ")
        directory.add_agency(s, code=G12, name="Bộ Tư pháp")
        keys["stttt"] = directory.add_system(
            s, system_id="sys.stttt", agencies=["000.00.12.H41"]
        ).api_key
        keys["vpcp"] = directory.add_system(s, system_id="sys.vpcp", agencies=[G22]).api_key
        keys["two"] = directory.add_system(s, system_id="sys.two", agencies=[G22, G12]).api_key
    with TestClient(create_app(hub, start_worker=False)) as http:
        # the commands' client talks to this in-process hub (same HTTP, same answers)
        monkeypatch.setattr(
            client_cli, "_client", lambda _url, key: HubClient("http://testserver", key, http=http)
        )
        yield Cli(hub, http, keys, tmp_path)


def _invalid_package(cli: Cli) -> Path:
    """A package with two errors: no subject, and a promulgation date that is no date."""
    text = cli.package(G22).read_text(encoding="utf-8")
    text = re.sub(r"<edXML:Subject>.*?</edXML:Subject>", "<edXML:Subject></edXML:Subject>", text)
    text = re.sub(
        r"<edXML:PromulgationDate>.*?</edXML:PromulgationDate>",
        "<edXML:PromulgationDate>hôm qua</edXML:PromulgationDate>",
        text,
    )
    path = cli.tmp / "invalid.edxml"
    path.write_text(text, encoding="utf-8")
    return path


def test_a_refused_package_shows_every_problem_with_its_field_and_exits_1(cli: Cli) -> None:
    result = cli.run("stttt", "send", str(_invalid_package(cli)))
    assert result.exit_code == 1, result.output
    assert "MessageHeader/Subject" in result.output
    assert "MessageHeader/PromulgationInfo/PromulgationDate" in result.output
    assert "EDXML_REQUIRED" in result.output and "EDXML_DATE_FORMAT" in result.output
    assert "2 lỗi / problems" in result.output


def test_a_refused_package_with_json_prints_the_hubs_error_and_exits_1(cli: Cli) -> None:
    result = cli.run("stttt", "send", str(_invalid_package(cli)), "--json")
    assert result.exit_code == 1, result.output
    body = json.loads(result.stdout)
    assert body["ok"] is False
    error = body["error"]
    assert error["code"] == "EDXML_REQUIRED" and error["field"] == "MessageHeader/Subject"
    assert error["http_status"] == 422
    assert [p["code"] for p in error["details"]["problems"]] == [
        "EDXML_REQUIRED",
        "EDXML_DATE_FORMAT",
    ]


def test_a_send_where_every_recipient_failed_is_a_failure_that_says_why(cli: Cli) -> None:
    result = cli.run("stttt", "send", str(cli.package(H42_UNROUTED)))
    assert result.exit_code == 1, result.output
    assert "FAILED" in result.output and "ACCEPTED" not in result.output
    assert "HUB_UNKNOWN_RECIPIENT" in result.output
    assert "no route for H42" in result.output and "không có tuyến tới H42" in result.output

    as_json = cli.run("stttt", "send", str(cli.package(H42_UNROUTED, number="216")), "--json")
    assert as_json.exit_code == 1
    body = json.loads(as_json.stdout)
    assert body["ok"] is False and body["recipients"][0]["state"] == "failed"


def test_a_send_where_one_recipient_failed_succeeds_and_names_it(cli: Cli) -> None:
    result = cli.run("stttt", "send", str(cli.package(G22, H42_UNROUTED)))
    assert result.exit_code == 0, result.output
    assert result.output.startswith("ACCEPTED")
    assert f"{G22}: queued" in result.output
    assert "no route for H42" in result.output


def test_no_hub_answering_names_the_url_and_how_to_change_it(
    cli: Cli, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setattr(client_cli, "_client", HubClient)  # the real one, over the network
    with socket.socket() as s:  # a port nobody listens on
        s.bind(("127.0.0.1", 0))
        port = s.getsockname()[1]
    url = f"http://127.0.0.1:{port}"
    result = cli.run("stttt", "send", str(cli.package(G22)), "--hub", url)
    assert result.exit_code == 2, result.output
    flat = " ".join(result.output.split())
    assert url in flat and "--hub" in flat and "LIENTHONG_HUB_URL" in flat
    assert "HUB_UNREACHABLE" in flat
    as_json = cli.run("stttt", "inbox", "--hub", url, "--json")
    assert as_json.exit_code == 2
    assert json.loads(as_json.stdout)["error"]["code"] == "HUB_UNREACHABLE"


def test_an_unreadable_file_could_not_run(cli: Cli) -> None:
    result = cli.run("stttt", "send", str(cli.tmp / "missing.edxml"))
    assert result.exit_code == 2
    assert "FILE_UNREADABLE" in result.output


def _delivered(cli: Cli) -> str:
    sent = cli.run("stttt", "send", str(cli.package(G22)), "--json")
    assert sent.exit_code == 0, sent.output
    cli.hub.dispatch_now()
    message_id: str = json.loads(sent.stdout)["message_id"]
    return message_id


def test_status_3_means_03_and_agency_is_found_when_the_system_serves_one(cli: Cli) -> None:
    message_id = _delivered(cli)
    result = cli.run("vpcp", "status", message_id, "3", "--description", "Đã vào sổ")
    assert result.exit_code == 0, result.output
    assert "03" in result.output and "vào sổ" in result.output
    timeline = cli.run("stttt", "timeline", message_id, "--json")
    assert json.loads(timeline.stdout)["recipients"][0]["business_status"] == "03"


def test_an_unknown_status_code_is_refused_cleanly_in_both_languages(cli: Cli) -> None:
    message_id = _delivered(cli)
    result = cli.run("vpcp", "status", message_id, "7")
    assert result.exit_code == 2
    assert "Mã trạng thái '7' không hợp lệ" in result.output
    assert "Unknown status code '7'" in result.output


def test_the_rest_api_takes_3_for_03_and_refuses_7_without_validator_english(cli: Cli) -> None:
    message_id = _delivered(cli)
    auth = {"Authorization": f"Bearer {cli.keys['vpcp']}"}
    url = f"/api/v1/messages/{message_id}/status"
    r = cli.http.post(url, json={"status_code": 7}, headers=auth)
    assert r.status_code == 422
    error = r.json()["error"]
    assert error["code"] == "REQUEST_INVALID" and error["field"] == "status_code"
    assert "Input should be" not in error["message_vi"]
    assert "01, 02, 03" in error["message_vi"] and "01, 02, 03" in error["message_en"]
    r = cli.http.post(url, json={"status_code": 3}, headers=auth)
    assert r.status_code == 201, r.text


def test_agency_is_asked_for_when_the_system_serves_several_parties(cli: Cli) -> None:
    sent = cli.run("stttt", "send", str(cli.package(G22, G12, number="300")), "--json")
    message_id = json.loads(sent.stdout)["message_id"]
    cli.hub.dispatch_now()
    result = cli.run("two", "status", message_id, "01", "--json")
    assert result.exit_code == 1
    error = json.loads(result.stdout)["error"]
    assert error["code"] == "HUB_STATUS_AGENCY_REQUIRED" and error["field"] == "agency"
    assert error["details"]["candidates"] == sorted([G22, G12])
    assert cli.run("two", "status", message_id, "01", "--agency", G12).exit_code == 0


def test_the_plain_timeline_shows_reasons_statuses_and_events(cli: Cli) -> None:
    sent = cli.run("stttt", "send", str(cli.package(G22, H42_UNROUTED, number="301")), "--json")
    message_id = json.loads(sent.stdout)["message_id"]
    cli.hub.dispatch_now()
    assert cli.run("vpcp", "status", message_id, "06", "--description", "Xong").exit_code == 0
    result = cli.run("stttt", "timeline", message_id)
    assert result.exit_code == 0, result.output
    out: Any = result.output
    assert "V/v triển khai kết nối" in out  # the subject
    assert "no route for H42" in out  # the failed recipient's reason
    assert "06 Hoàn thành xử lý" in out  # the business status, explained
    assert "Xong" in out  # the status received, with its description
    assert "accepted" in out and "delivered" in out  # audit events
    # times in Vietnam time, dd/mm/yyyy, not the hub's UTC ISO strings
    assert re.search(r"\d{2}/\d{2}/\d{4} \d{2}:\d{2}:\d{2}", out)
    assert "+00:00" not in out


def test_the_plain_inbox_shows_when_and_which_status(cli: Cli) -> None:
    message_id = _delivered(cli)
    assert cli.run("vpcp", "status", message_id, "5").exit_code == 0
    cli.hub.dispatch_now()
    inbox = cli.run("stttt", "inbox", "--kind", "status")
    assert inbox.exit_code == 0, inbox.output
    assert "status 05" in inbox.output
    assert re.search(r"\d{2}/\d{2}/\d{4}", inbox.output)


def test_times_are_shown_in_vietnam_time() -> None:
    assert client_cli._local("2026-12-04T17:30:05+00:00") == "05/12/2026 00:30:05"
    assert client_cli._local("2026-12-04T17:30:05") == "05/12/2026 00:30:05"  # naive = UTC


def test_status_help_explains_every_code() -> None:
    result = CliRunner(env={"COLUMNS": "200"}).invoke(app, ["status", "--help"])
    for words in ("01", "arrived", "06", "completed", "13", "15", "16", "3 = 03"):
        assert words in result.output
