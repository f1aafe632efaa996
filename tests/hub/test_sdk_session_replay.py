"""The recorded session of the official SDK 2.0.1 (``shared/interop/sdk-2.0.1``), replayed
against a hub: send, list, get, ``done``, list again, sent list, directory.

The SDK keeps one header map for the life of its client object and fixes its timestamp once,
so ``updateStatus`` and the ``getReceivedEdocList`` after it carry byte-identical signed
headers. The hub assigns its own document ids, so a request that names the recorded
``docId`` is rewritten and re-signed with the recorded secret, keeping the SDK's key order
and its leftover keys; the others go out byte for byte. Every test runs on SQLite and
PostgreSQL.
"""

from __future__ import annotations

import base64
import hashlib
import hmac
import json
from collections.abc import Iterator
from dataclasses import dataclass
from typing import Any

import httpx
import pytest
from fastapi.testclient import TestClient

from lienthong.hub import audit, directory
from lienthong.hub.http.app import create_app
from lienthong.hub.runtime import Hub
from lienthong.protocol.xroad import hash_file_forms
from support import sdk_session_path

SECRETS = {"sdkA": "A7TKG/r2gOKTEpe1MhWx6zw8O4JfzN0K", "sdkB": "B8ULH/s3hPLUFqf2NiXy7ax9P5KgaO1L"}
AGENCIES = {"sdkA": "002.00.20.H13", "sdkB": "000.00.15.H51"}
RECORDED_DOC_ID = "571267c2-0539-4ba6-8647-116e9c9f0cf6"
#: Hop-by-hop and framing headers: the test client sets its own.
_TRANSPORT = {"host", "content-length", "connection", "expect"}


@dataclass(frozen=True)
class Recorded:
    client: str
    path: str
    headers: list[tuple[str, str]]
    body: bytes

    @property
    def system_id(self) -> str:
        return self.client.split()[0]

    def header(self, name: str) -> str:
        return next(v for k, v in self.headers if k.lower() == name.lower())


def load_session() -> list[Recorded]:
    path = sdk_session_path()
    assert path.is_file(), f"the recorded SDK session is missing: {path}"
    out = []
    for line in path.read_text(encoding="utf-8").splitlines():
        if line.strip():
            row = json.loads(line)
            out.append(
                Recorded(
                    client=row["client"],
                    path=row["path"],
                    headers=[(k, v) for k, v in row["headers"]],
                    body=base64.b64decode(row["body_b64"]),
                )
            )
    return out


def resigned(request: Recorded, replacements: dict[str, str]) -> list[tuple[str, str]]:
    """The request's headers with recorded values replaced (``{old: new}``), re-signed with
    the recorded secret over the rewritten sign-header (same key order, same leftovers)."""
    headers = request.headers
    for old, new in replacements.items():
        headers = [(k, v.replace(old, new)) for k, v in headers]
    if headers == request.headers:
        return headers  # untouched: the SDK's own signature goes out as recorded
    sign_header = next(v for k, v in headers if k == "XroadVnpt-sign-header")
    signature = hmac.new(
        SECRETS[request.system_id].encode(), sign_header.encode(), hashlib.sha256
    ).hexdigest()
    return [(k, signature if k == "XroadVnpt-hash-header" else v) for k, v in headers]


def rewritten(request: Recorded, doc_id: str) -> list[tuple[str, str]]:
    """The request with the recorded docId replaced by the one the hub assigned."""
    return resigned(request, {RECORDED_DOC_ID: doc_id})


def signed_part(request: Recorded, doc_id: str) -> list[tuple[str, str]]:
    return [(k, v) for k, v in rewritten(request, doc_id) if k.startswith("XroadVnpt-")]


class Replay:
    def __init__(self, hub: Hub, http: TestClient) -> None:
        self.hub, self.http = hub, http
        self.doc_id = RECORDED_DOC_ID

    def send(self, request: Recorded) -> httpx.Response:
        return self.post(request.path, rewritten(request, self.doc_id), request.body)

    def post(self, path: str, headers: list[tuple[str, str]], body: bytes) -> httpx.Response:
        wire = [(k.encode(), v.encode()) for k, v in headers if k.lower() not in _TRANSPORT]
        return self.http.post(path, headers=wire, content=body)


@pytest.fixture
def replay(hub: Hub) -> Iterator[Replay]:
    with hub.session() as s:
        directory.add_agency(s, code=AGENCIES["sdkA"], name="Văn phòng Chính phủ")
        directory.add_agency(s, code=AGENCIES["sdkB"], name="Trung tâm thử nghiệm")
        for system_id, secret in SECRETS.items():
            directory.add_system(
                s,
                system_id=system_id,
                agencies=[AGENCIES[system_id]],
                secret=secret,
                legacy_sdk=True,
            )
    with TestClient(create_app(hub, start_worker=False)) as http:
        yield Replay(hub, http)
    with hub.session() as s:
        assert audit.verify(s).ok


def _no_null(pairs: list[tuple[str, Any]]) -> dict[str, Any]:
    nulls = [k for k, v in pairs if v is None or (isinstance(v, list) and None in v)]
    assert not nulls, f"JSON null at {nulls}"
    return dict(pairs)


def ok(response: httpx.Response) -> dict[str, Any]:
    """An OK answer the SDK can read: no JSON null anywhere (Gson's getAsString throws)."""
    data: dict[str, Any] = json.loads(response.text, object_pairs_hook=_no_null)
    assert response.status_code == 200 and data["status"] == "OK", data
    assert data["ErrorCode"] == 0
    return data


def test_the_recorded_sdk_session_replays_green(replay: Replay) -> None:
    session = load_session()
    assert [r.path for r in session] == [
        "/sendEdoc",
        "/getReceivedEdocList",
        "/getEdoc",
        "/updateStatus",
        "/getReceivedEdocList",
        "/getSentEdocList",
        "/getAgenciesList",
    ]
    send, listed, get, done, listed_again, sent, agencies = session

    # 1. sendEdoc: the package, with the SDK's extra CRLF and unpadded hash-file
    answer = ok(replay.send(send))
    assert answer["code"] == "ACCEPTED" and answer["DocId"]
    replay.doc_id = answer["DocId"]
    replay.hub.dispatch_now()

    # 2. the receiver lists it
    assert [i["docId"] for i in ok(replay.send(listed))["data"]] == [replay.doc_id]

    # 3. getEdoc: the package (with the hub's TraceHeader); the leftover filePath (a path
    # on the client's disk) is signed and ignored
    package = base64.b64decode(ok(replay.send(get))["data"])
    assert package.startswith(send.body[:200]) and b"PRO-TEST-CASE1" in package

    # 4. updateStatus done
    ok(replay.send(done))

    # 5. the same signed headers as 4, byte for byte (the SDK's fixed timestamp and
    # never-cleared header map): the inbox must still open, now empty
    assert signed_part(done, replay.doc_id) == signed_part(listed_again, replay.doc_id)
    assert ok(replay.send(listed_again))["data"] == []

    # 6. the sender's sent list, with hash-file, docId and from left over from sendEdoc
    rows = ok(replay.send(sent))["data"]
    assert [(r["senderDocId"], r["toCode"], r["receiveStatus"]) for r in rows] == [
        (replay.doc_id, AGENCIES["sdkB"], "DONE")
    ]

    # 7. the directory
    codes = {a["code"] for a in ok(replay.send(agencies))["data"]}
    assert codes == set(AGENCIES.values())


def test_a_repeated_legacy_signature_repeats_only_its_signed_values(replay: Replay) -> None:
    """The other side of the rule: a legacy signature repeated on another operation can
    only do what its signed values say. A captured ``getEdoc`` (docId, no status) replayed
    on ``updateStatus`` with an unsigned ``status`` header is refused for want of a signed
    status; a captured send (signed hash-file) cannot carry another package; directory
    changes stay refused."""
    send, listed, get, *_ = load_session()
    replay.doc_id = ok(replay.send(send))["DocId"]
    replay.hub.dispatch_now()
    ok(replay.send(get))

    headers = [
        (k.encode(), v.encode())
        for k, v in rewritten(get, replay.doc_id)
        if k.lower() not in _TRANSPORT
    ]
    r = replay.http.post(
        "/updateStatus", headers=[*headers, (b"XroadVnpt-status", b"done")], content=b"{}"
    )
    assert r.json()["code"] == "HUB_PARAMETER_REQUIRED" and r.json()["field"] == "status"
    assert [i["status"] for i in ok(replay.send(listed))["data"]] == ["PROCESSING"]

    forged = send.body.replace(b"test g\xe1\xbb\xadi", b"TEST G\xe1\xbb\xacI")
    assert forged != send.body
    wire = [(k.encode(), v.encode()) for k, v in send.headers if k.lower() not in _TRANSPORT]
    r = replay.http.post("/sendEdoc", headers=wire, content=forged)
    assert r.json()["code"] == "HUB_HASH_MISMATCH"
    # the same package again: deduplicated, nothing delivered twice
    again = ok(replay.http.post("/sendEdoc", headers=wire, content=send.body))
    assert again["code"] == "ALREADY_ACCEPTED" and again["DocId"] == replay.doc_id

    r = replay.http.post("/deleteAgency", headers=wire, content=b"{}")
    assert r.json()["code"] == "AUTH_FRESH_SIGNATURE_REQUIRED" and r.status_code == 403


def test_the_sdks_second_document_is_read_and_acknowledged_under_one_signature(
    replay: Replay,
) -> None:
    """What the SDK sends after the recorded session for a second document: its header map
    still holds ``status: done`` from the first ``updateStatus``, so ``getEdoc`` of the second
    document and its ``updateStatus`` carry the same signed headers (those of request 4 with
    the new ``docId``). Both must be served, in that order."""
    send, listed, get, done, *_ = load_session()
    first = ok(replay.send(send))["DocId"]
    # a second package from the same client object: same timestamp, its own hash-file
    body = send.body.replace(b"PRO-TEST-CASE1", b"PRO-TEST-CASE2")
    recorded_hash = send.header("XroadVnpt-hash-file")
    new_hash = hash_file_forms(hashlib.sha256(body[:-2]).digest())[1]
    second = ok(replay.post("/sendEdoc", resigned(send, {recorded_hash: new_hash}), body))
    assert second["code"] == "ACCEPTED" and second["DocId"] != first
    replay.hub.dispatch_now()
    assert {i["docId"] for i in ok(replay.send(listed))["data"]} == {first, second["DocId"]}

    replay.doc_id = first
    ok(replay.send(get))
    ok(replay.send(done))
    # the second document: request 4's map with the new docId, for getEdoc then updateStatus
    leftover = rewritten(done, second["DocId"])
    package = base64.b64decode(ok(replay.post("/getEdoc", leftover, b"{}"))["data"])
    assert b"PRO-TEST-CASE2" in package
    ok(replay.post("/updateStatus", leftover, b"{}"))
    assert ok(replay.post("/getReceivedEdocList", leftover, b""))["data"] == []
