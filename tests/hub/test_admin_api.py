"""The admin API (``/api/admin/v1``) and operators: dead letters listed, shown and replayed
by an operator's key, an outbox summary, the two kinds of key kept apart both ways, and the
``lienthong operator`` commands. Dead letters are made the hub's own way: relays and pushes
claimed and settled (a permanent refusal, a lifetime run out).

Every test runs on SQLite and PostgreSQL.
"""

from __future__ import annotations

import hashlib
import itertools
import json
import socket
from collections.abc import Iterator
from dataclasses import dataclass
from datetime import UTC, datetime, timedelta
from pathlib import Path
from typing import Any

import httpx
import pytest
from fastapi.testclient import TestClient
from sqlalchemy import select, text

from lienthong.edxml.builder import build
from lienthong.edxml.model import DocumentCode, Edoc, Organization, PromulgationInfo
from lienthong.hub import audit, deadletters, directory, federation, operators
from lienthong.hub.errors import HubError
from lienthong.hub.http.app import create_app
from lienthong.hub.models import AuditEvent, Delivery, Operator, OutboxEntry
from lienthong.hub.outbox import queue
from lienthong.hub.outbox.queue import Outcome
from lienthong.hub.runtime import Hub

H41 = "000.00.00.H41"  # UBND tỉnh Nghệ An: the sender, served here
G22 = "000.00.00.G22"  # Văn phòng Chính phủ: served here, its system has a callback (push)
H53 = "000.00.00.H53"  # another province: relayed to the default peer hub "vn"
SUBJECT = "Về việc kiểm tra thư chết"
A = "/api/admin/v1"
ADMIN_PATHS = {
    ("get", f"{A}/deadletters"),
    ("get", f"{A}/deadletters/{{entry_id}}"),
    ("post", f"{A}/deadletters/{{entry_id}}/replay"),
    ("get", f"{A}/outbox"),
}
_numbers = itertools.count(300)


def _closed_port_url() -> str:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        port = int(s.getsockname()[1])
    return f"http://127.0.0.1:{port}"


@dataclass
class World:
    hub: Hub
    http: TestClient
    keys: dict[str, str]  # systems and the operator, by name

    def auth(self, who: str) -> dict[str, str]:
        return {"Authorization": f"Bearer {self.keys[who]}"}

    def send(self, *recipients: str) -> str:
        n = next(_numbers)
        package = build(
            Edoc(
                sender=Organization(organ_id=H41, organ_name="UBND tỉnh Nghệ An"),
                recipients=[Organization(organ_id=r) for r in recipients or (G22, H53)],
                code=DocumentCode(str(n), "UBND-VP"),
                promulgation=PromulgationInfo("Vinh", "2026/11/27"),
                subject=SUBJECT,
            )
        )
        r = self.http.post(
            "/api/v1/packages",
            content=package,
            headers={**self.auth("sys.h41"), "Content-Type": "application/xml"},
        )
        assert r.status_code == 201, r.text
        self.hub.dispatch_now()  # the push to g22's callback is queued on dispatch
        message_id: str = r.json()["message_id"]
        return message_id

    def kill(self, outcome: Outcome | None = None) -> list[int]:
        """Claim every relay and push due and settle it with ``outcome`` (default: a
        permanent refusal); returns the entries claimed."""
        outcome = outcome or Outcome(ok=False, permanent=True, code="HUB_LOOP", detail="HTTP 422")

        def run(s: Any) -> list[int]:
            claims = queue.claim(s, limit=1000)
            for c in claims:
                queue.settle(s, entry_id=c.entry_id, outcome=outcome)
            return [c.entry_id for c in claims]

        return self.hub.run(run)

    def get(self, path: str, who: str = "ops.alice", **params: Any) -> httpx.Response:
        return self.http.get(A + path, params=params, headers=self.auth(who))

    def post(self, path: str, who: str = "ops.alice") -> httpx.Response:
        return self.http.post(A + path, headers=self.auth(who))


def setup_world(hub: Hub, http: TestClient) -> World:
    keys: dict[str, str] = {}
    with hub.session() as s:
        directory.add_agency(s, code=H41, name="UBND tỉnh Nghệ An")
        directory.add_agency(s, code=G22, name="Văn phòng Chính phủ")
        keys["sys.h41"] = directory.add_system(s, system_id="sys.h41", agencies=[H41]).api_key
        keys["sys.g22"] = directory.add_system(
            s, system_id="sys.g22", agencies=[G22], callback_url=_closed_port_url() + "/cb"
        ).api_key
        federation.add_peer(s, peer_id="vn", url=_closed_port_url(), api_key="k", serves=["*"])
        keys["ops.alice"] = operators.add_operator(s, name="ops.alice").api_key
    return World(hub, http, keys)


@pytest.fixture
def world(hub: Hub) -> Iterator[World]:
    with TestClient(create_app(hub, start_worker=False)) as http:
        yield setup_world(hub, http)
    with hub.session() as s:
        assert audit.verify(s).ok


def assert_error(r: httpx.Response, code: str, status: int) -> dict[str, Any]:
    """The project's error shape, with a Vietnamese message (diacritics) and an English one."""
    assert r.status_code == status, r.text
    body = r.json()
    assert set(body) == {"error"}, body
    error: dict[str, Any] = body["error"]
    assert error["code"] == code, error
    assert error["message_vi"].strip() and not error["message_vi"].isascii(), error
    assert error["message_en"].strip(), error
    return error


# ----------------------------------------------------------------------------- dead letters


def test_an_operator_lists_shows_and_replays_dead_letters(world: World) -> None:
    message_id = world.send()
    died = world.kill()
    assert len(died) == 2  # the relay to vn and the push to g22's callback

    r = world.get("/deadletters")
    assert r.status_code == 200, r.text
    page = r.json()
    assert page["next_after"] is None
    items = {(i["target"]["type"], i["target"]["id"]): i for i in page["items"]}
    assert set(items) == {("relay", "vn"), ("push", "sys.g22")}
    relay = items[("relay", "vn")]
    assert relay["state"] == "dead" and relay["attempts"] == 1
    assert relay["reason"] == {"code": "HUB_LOOP", "detail": "HTTP 422"}
    assert relay["message_id"] == message_id and relay["kind"] == "edoc"
    assert (relay["sender"], relay["sender_system"]) == (H41, "sys.h41")
    assert relay["size"] > 0
    recipients = {r["agency"]: r for r in relay["recipients"]}
    assert recipients[H53] == {
        "agency": H53,
        "state": "failed",
        "failure_code": "HUB_RELAY_REFUSED",
        "peer": "vn",
    }
    assert recipients[G22]["state"] == "available" and recipients[G22]["peer"] is None
    for at in ("created_at", "updated_at", "accepted_at"):
        assert datetime.fromisoformat(relay[at]).tzinfo is not None, at
    assert relay["created_at"] <= relay["updated_at"]
    # metadata only: never the package, its subject or its body
    assert SUBJECT not in r.text and "edXML" not in r.text

    shown = world.get(f"/deadletters/{relay['id']}")
    assert shown.status_code == 200 and shown.json() == relay

    replayed = world.post(f"/deadletters/{relay['id']}/replay")
    assert replayed.status_code == 200, replayed.text
    back = replayed.json()
    assert (back["state"], back["attempts"], back["reason"]) == ("pending", 0, None)
    assert {r["agency"]: r["state"] for r in back["recipients"]}[H53] == "queued"
    # once is enough: a second replay is refused with the entry's state, and changes nothing
    again = world.post(f"/deadletters/{relay['id']}/replay")
    error = assert_error(again, "DEADLETTER_NOT_DEAD", 409)
    assert error["field"] == "entry_id" and error["details"] == {"state": "pending"}
    assert world.get(f"/deadletters/{relay['id']}").json()["state"] == "pending"
    assert [i["id"] for i in world.get("/deadletters").json()["items"]] == [
        items[("push", "sys.g22")]["id"]
    ]
    # the replay is evidence: who, what, and why it had died
    with world.hub.session() as s:
        [event] = s.scalars(
            select(AuditEvent).where(AuditEvent.event == deadletters.DEADLETTER_REPLAYED)
        ).all()
        assert event.message_id == message_id
        assert json.loads(event.detail) == {
            "entry": relay["id"],
            "target": "relay:vn",
            "reason": "HUB_LOOP: HTTP 422",
            "operator": "ops.alice",
            "via": "api",
        }
    # the sender's timeline shows that it happened (not who did it)
    timeline = world.http.get(
        f"/api/v1/messages/{message_id}/timeline", headers=world.auth("sys.h41")
    ).json()
    assert deadletters.DEADLETTER_REPLAYED in [e["event"] for e in timeline["events"]]


def test_a_push_that_ran_out_of_its_lifetime_is_a_dead_letter_and_replayed(world: World) -> None:
    """A real attempt first (the callback's port is closed), then the lifetime runs out."""
    world.send(G22)
    assert world.hub.relay_now() == 1
    with world.hub.session() as s:
        entry = s.scalars(select(OutboxEntry).where(OutboxEntry.action == "push:sys.g22")).one()
        assert entry.state == "pending" and entry.attempts == 1
        assert (entry.last_error or "").startswith("HUB_RELAY_UNREACHABLE")
        entry.created_at = datetime.now(UTC) - queue.LIFETIME - timedelta(minutes=1)
        entry.next_at = datetime.now(UTC)
    world.kill(Outcome(ok=False, code="HUB_RELAY_UNREACHABLE", detail="ConnectError"))
    [dead] = world.get("/deadletters", target_type="push").json()["items"]
    assert dead["attempts"] == 2
    assert dead["reason"] == {"code": "HUB_RELAY_UNREACHABLE", "detail": "ConnectError"}
    assert [r["state"] for r in dead["recipients"]] == ["available"]  # still there for pull
    r = world.post(f"/deadletters/{dead['id']}/replay")
    assert r.status_code == 200 and r.json()["state"] == "pending"
    created = datetime.fromisoformat(r.json()["created_at"])
    assert datetime.now(UTC) - created < timedelta(minutes=1)  # a fresh lifetime


def test_an_expired_relay_says_so(world: World) -> None:
    world.send(H53)
    world.kill(Outcome(ok=False, code="HTTP_503", detail="HTTP 503"))  # retried later
    assert world.get("/deadletters").json()["items"] == []
    with world.hub.session() as s:
        entry = s.scalars(select(OutboxEntry).where(OutboxEntry.action == "relay:vn")).one()
        entry.created_at = datetime.now(UTC) - queue.LIFETIME - timedelta(minutes=1)
        entry.next_at = datetime.now(UTC)
    world.kill(Outcome(ok=False, code="HTTP_503", detail="HTTP 503"))
    [dead] = world.get("/deadletters").json()["items"]
    assert dead["reason"] == {"code": "HUB_RELAY_EXPIRED", "detail": "HTTP 503"}
    assert [(r["state"], r["failure_code"]) for r in dead["recipients"]] == [
        ("expired", "HUB_RELAY_EXPIRED")
    ]


def test_dead_letters_are_paginated_and_filtered_by_target(world: World) -> None:
    for _ in range(3):
        world.send()
    world.kill()
    everything = world.get("/deadletters").json()["items"]
    assert len(everything) == 6
    ids = [i["id"] for i in everything]
    assert ids == sorted(ids)

    seen: list[int] = []
    after = 0
    for _ in range(10):
        page = world.get("/deadletters", limit=4, after=after).json()
        seen += [i["id"] for i in page["items"]]
        if page["next_after"] is None:
            break
        after = page["next_after"]
    assert seen == ids
    # a full last page ends with an empty one
    assert world.get("/deadletters", limit=3, after=ids[2]).json()["next_after"] == ids[5]
    assert world.get("/deadletters", after=ids[5]).json() == {"items": [], "next_after": None}

    def targets(**params: Any) -> list[tuple[str, str]]:
        r = world.get("/deadletters", **params)
        assert r.status_code == 200, r.text
        return [(i["target"]["type"], i["target"]["id"]) for i in r.json()["items"]]

    assert targets(target_type="relay") == [("relay", "vn")] * 3
    assert targets(target_type="push") == [("push", "sys.g22")] * 3
    assert targets(target_id="sys.g22") == [("push", "sys.g22")] * 3
    assert targets(target_type="push", target_id="vn") == []
    assert targets(target_id="%") == []  # no pattern matching in ids
    r = world.get("/deadletters", target_type="dispatch")
    assert_error(r, "REQUEST_INVALID", 422)
    assert_error(world.get("/deadletters", limit=0), "REQUEST_INVALID", 422)


def test_unknown_entries_are_typed_404s(world: World) -> None:
    world.send()
    with world.hub.session() as s:  # a dispatch entry is no dead letter
        dispatch = s.scalars(select(OutboxEntry.id).where(OutboxEntry.action == "dispatch")).one()
    for entry_id in (dispatch, 999_999):
        error = assert_error(world.get(f"/deadletters/{entry_id}"), "DEADLETTER_NOT_FOUND", 404)
        assert error["field"] == "entry_id"
        assert_error(world.post(f"/deadletters/{entry_id}/replay"), "DEADLETTER_NOT_FOUND", 404)
    for bad in ("0", "9223372036854775808", "abc"):
        assert_error(world.get(f"/deadletters/{bad}"), "REQUEST_INVALID", 422)


def test_outbox_summary_for_monitoring(world: World) -> None:
    r = world.get("/outbox")
    assert r.status_code == 200, r.text
    assert r.json() == {
        "by_state": {"pending": 0, "inflight": 0, "done": 0, "dead": 0},
        "by_target": [],
        "oldest_pending": None,
    }
    first = world.send()
    world.kill()
    world.send()
    with world.hub.session() as s:  # the second document has waited for an hour
        for e in s.scalars(select(OutboxEntry).where(OutboxEntry.state == "pending")):
            e.created_at = datetime.now(UTC) - timedelta(hours=1)
    summary = world.get("/outbox").json()
    assert summary["by_state"] == {"pending": 2, "inflight": 0, "done": 2, "dead": 2}
    counts = {
        (c["target"]["type"], c["target"]["id"], c["state"]): c["count"]
        for c in summary["by_target"]
    }
    assert counts == {
        ("dispatch", None, "done"): 2,
        ("push", "sys.g22", "dead"): 1,
        ("push", "sys.g22", "pending"): 1,
        ("relay", "vn", "dead"): 1,
        ("relay", "vn", "pending"): 1,
    }
    oldest = summary["oldest_pending"]
    assert oldest["message_id"] != first
    assert oldest["target"]["type"] in ("relay", "push")
    assert 3590 < oldest["age_seconds"] < 3700
    assert SUBJECT not in json.dumps(summary)


# ----------------------------------------------------------------------------- authorisation


def test_systems_cannot_use_the_admin_api_nor_operators_the_agency_api(world: World) -> None:
    message_id = world.send()
    [relay, _push] = world.kill()
    admin_calls = [
        ("GET", f"{A}/deadletters"),
        ("GET", f"{A}/deadletters/{relay}"),
        ("POST", f"{A}/deadletters/{relay}/replay"),
        ("GET", f"{A}/outbox"),
    ]
    assert {(m.lower(), p.replace(str(relay), "{entry_id}")) for m, p in admin_calls} == ADMIN_PATHS
    for method, path in admin_calls:
        assert_error(world.http.request(method, path), "AUTH_API_KEY_REQUIRED", 401)
        r = world.http.request(method, path, headers={"Authorization": "Bearer lto_not-a-key"})
        assert_error(r, "AUTH_API_KEY_INVALID", 401)
        for system in ("sys.h41", "sys.g22"):  # the sender's and a recipient's system alike
            r = world.http.request(method, path, headers=world.auth(system))
            error = assert_error(r, "AUTH_OPERATOR_KEY_REQUIRED", 403)
            assert error["field"] == "Authorization"
    assert world.get("/deadletters").json()["items"][0]["state"] == "dead"  # nothing replayed

    m = f"/api/v1/messages/{message_id}"
    agency_calls = [
        ("POST", "/api/v1/packages"),
        ("GET", "/api/v1/inbox"),
        ("GET", m),
        ("GET", f"{m}/attachments/1"),
        ("POST", f"{m}/ack"),
        ("POST", f"{m}/status"),
        ("GET", f"{m}/timeline"),
        ("GET", "/api/v1/sent"),
        ("GET", "/api/v1/agencies"),
    ]
    for method, path in agency_calls:
        r = world.http.request(method, path, headers=world.auth("ops.alice"))
        error = assert_error(r, "AUTH_SYSTEM_KEY_REQUIRED", 403)
        assert error["field"] == "Authorization"
        assert SUBJECT not in r.text

    # a removed operator's key is just a wrong key
    with world.hub.session() as s:
        operators.remove_operator(s, name="ops.alice")
    assert_error(world.get("/outbox"), "AUTH_API_KEY_INVALID", 401)
    r = world.http.get("/api/v1/inbox", headers=world.auth("ops.alice"))
    assert_error(r, "AUTH_API_KEY_INVALID", 401)


def test_a_new_key_for_an_operator_replaces_the_old_one(world: World) -> None:
    old = world.keys["ops.alice"]
    with world.hub.session() as s:
        new = operators.add_operator(s, name="ops.alice")
    assert "lto_" not in repr(new) and new.api_key.startswith("lto_")
    r = world.http.get(f"{A}/outbox", headers={"Authorization": f"Bearer {old}"})
    assert_error(r, "AUTH_API_KEY_INVALID", 401)
    r = world.http.get(f"{A}/outbox", headers={"Authorization": f"Bearer {new.api_key}"})
    assert r.status_code == 200
    with world.hub.session() as s:
        for bad in ("", "two words", "x" * 101, "-dash"):
            with pytest.raises(HubError) as info:
                operators.add_operator(s, name=bad)
            assert info.value.code == "OPERATOR_NAME_INVALID"
        with pytest.raises(HubError) as info:
            operators.remove_operator(s, name="nobody")
        assert info.value.code == "OPERATOR_NOT_FOUND"


# ----------------------------------------------------------------------------- OpenAPI


def test_openapi_documents_the_admin_api(world: World) -> None:
    spec = world.http.get("/openapi.json").json()
    documented = {
        (method, path)
        for path, ops in spec["paths"].items()
        for method in ops
        if path.startswith("/api/admin/")
    }
    assert documented == ADMIN_PATHS
    for path, ops in spec["paths"].items():
        if path.startswith("/api/admin/"):
            for op in ops.values():
                assert op.get("summary") and {"401", "403"} <= set(op["responses"]), path
    # the agency API says an operator's key is refused
    assert "403" in spec["paths"]["/api/v1/inbox"]["get"]["responses"]


def test_schemathesis_finds_no_server_error_in_the_admin_api(world: World) -> None:
    """Property-based requests generated from /openapi.json for the admin operations, with
    an operator's key; some target a real dead letter."""
    schemathesis = pytest.importorskip("schemathesis")
    from hypothesis import HealthCheck, Phase, given, settings
    from hypothesis import strategies as st
    from schemathesis.checks import not_a_server_error

    world.send()
    [entry_id, *_] = world.kill()
    schema = schemathesis.openapi.from_asgi("/openapi.json", world.http.app)
    headers = world.auth("ops.alice")
    failures: list[str] = []
    statuses: dict[str, set[int]] = {}

    def real_entry(case: Any) -> Any:
        if case.path_parameters and "entry_id" in case.path_parameters:
            case.path_parameters["entry_id"] = entry_id
        return case

    def fuzz(label: str, strategy: Any) -> None:
        @given(case=strategy)
        @settings(
            max_examples=40,
            deadline=None,
            derandomize=True,
            phases=[Phase.explicit, Phase.generate, Phase.target],
            database=None,
            suppress_health_check=list(HealthCheck),
        )
        def run(case: Any) -> None:
            response = case.call_and_validate(headers=headers, checks=[not_a_server_error])
            statuses.setdefault(label, set()).add(response.status_code)

        try:
            run()
        except Exception as exc:
            failures.append(f"{label}: {str(exc)[:1500]}")

    for result in schema.get_all_operations():
        operation = result.ok()
        if operation.path.startswith("/api/admin/"):
            fuzz(
                operation.label,
                st.one_of(operation.as_strategy(), operation.as_strategy().map(real_entry)),
            )
    assert not failures, "\n\n".join(failures)
    assert len(statuses) == len(ADMIN_PATHS)
    for label, seen in statuses.items():
        assert 401 not in seen and 403 not in seen, label
        assert any(200 <= s < 300 for s in seen), (label, seen)


# ----------------------------------------------------------------------------- CLI


def test_operator_commands_add_list_and_remove(
    world: World, tmp_path: Path, database_url: str, monkeypatch: pytest.MonkeyPatch
) -> None:
    from typer.testing import CliRunner

    from lienthong.cli import app

    monkeypatch.setenv("LIENTHONG_DATABASE_URL", database_url)
    monkeypatch.setenv("LIENTHONG_BLOB_URL", str(tmp_path / "blobs"))
    data = ["--data-dir", str(tmp_path / "data")]
    runner = CliRunner()

    added = runner.invoke(app, ["operator", "add", "ops.bob", "--json", *data])
    assert added.exit_code == 0, added.output
    key = json.loads(added.output)["api_key"]
    assert key.startswith("lto_")
    shown = runner.invoke(app, ["operator", "add", "ops.carol", *data])
    assert shown.exit_code == 0 and "lto_" in shown.output  # printed once, for the human

    listed = runner.invoke(app, ["operator", "list", "--json", *data])
    assert listed.exit_code == 0, listed.output
    assert [o["name"] for o in json.loads(listed.output)] == ["ops.alice", "ops.bob", "ops.carol"]
    assert "lto_" not in listed.output
    # stored hashed: the key itself is nowhere in the database
    with world.hub.session() as s:
        bob = s.get(Operator, "ops.bob")
        assert bob is not None and bob.api_key_hash == hashlib.sha256(key.encode()).hexdigest()
        for table in ("operator", "audit_event"):
            rows = s.execute(text(f"SELECT * FROM {table}")).all()
            assert key not in repr(rows)
    r = world.http.get(f"{A}/outbox", headers={"Authorization": f"Bearer {key}"})
    assert r.status_code == 200

    removed = runner.invoke(app, ["operator", "remove", "ops.bob", *data])
    assert removed.exit_code == 0, removed.output
    r = world.http.get(f"{A}/outbox", headers={"Authorization": f"Bearer {key}"})
    assert_error(r, "AUTH_API_KEY_INVALID", 401)
    missing = runner.invoke(app, ["operator", "remove", "ops.bob", *data])
    assert missing.exit_code == 2 and "OPERATOR_NOT_FOUND" in missing.output
    bad = runner.invoke(app, ["operator", "add", "two words", *data])
    assert bad.exit_code == 2 and "OPERATOR_NAME_INVALID" in bad.output
    with world.hub.session() as s:
        actions = [
            json.loads(e.detail)
            for e in s.scalars(
                select(AuditEvent)
                .where(AuditEvent.event == operators.OPERATOR_CHANGED)
                .order_by(AuditEvent.seq)
            )
        ]
    assert actions == [
        {"operator": "ops.alice", "action": "added"},
        {"operator": "ops.bob", "action": "added"},
        {"operator": "ops.carol", "action": "added"},
        {"operator": "ops.bob", "action": "removed"},
    ]


def test_deadletter_commands_show_what_the_api_shows(
    world: World, tmp_path: Path, database_url: str, monkeypatch: pytest.MonkeyPatch
) -> None:
    from typer.testing import CliRunner

    from lienthong.cli import app

    monkeypatch.setenv("LIENTHONG_DATABASE_URL", database_url)
    monkeypatch.setenv("LIENTHONG_BLOB_URL", str(tmp_path / "blobs"))
    data = ["--data-dir", str(tmp_path / "data")]
    runner = CliRunner()
    world.send()
    world.kill()
    api = world.get("/deadletters").json()["items"]
    listed = runner.invoke(app, ["deadletter", "list", "--json", *data])
    assert listed.exit_code == 0, listed.output
    assert json.loads(listed.output) == api
    relays = runner.invoke(app, ["deadletter", "list", "--json", "--target-type", "relay", *data])
    assert [i["target"]["type"] for i in json.loads(relays.output)] == ["relay"]
    table = runner.invoke(app, ["deadletter", "list", *data])
    assert table.exit_code == 0 and "HUB_LOOP" in table.output
    shown = runner.invoke(app, ["deadletter", "show", str(api[0]["id"]), *data])
    assert shown.exit_code == 0 and json.loads(shown.output) == api[0]
    replayed = runner.invoke(app, ["deadletter", "replay", str(api[0]["id"]), *data])
    assert replayed.exit_code == 0, replayed.output
    again = runner.invoke(app, ["deadletter", "replay", str(api[0]["id"]), *data])
    assert again.exit_code == 2 and "DEADLETTER_NOT_DEAD" in again.output
    with world.hub.session() as s:
        [event] = s.scalars(
            select(AuditEvent).where(AuditEvent.event == deadletters.DEADLETTER_REPLAYED)
        ).all()
        detail = json.loads(event.detail)
        assert detail["operator"] is None and detail["via"].startswith("cli")
        assert s.get(OutboxEntry, api[0]["id"]).state == "pending"  # type: ignore[union-attr]
        assert s.scalars(select(Delivery.state).where(Delivery.peer_id == "vn")).one() == "queued"
