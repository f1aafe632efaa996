"""VdxpClient against an in-memory platform (httpx.MockTransport) that authenticates every
request with :func:`verify_request`, as the hub will."""

from __future__ import annotations

import base64
import hashlib
import json
from collections.abc import Callable
from dataclasses import dataclass, field
from datetime import datetime, timedelta
from typing import Any

import httpx
import pytest

from lienthong.client.vdxp import VdxpClient, VdxpClientError
from lienthong.protocol.xroad import (
    VN_TZ,
    SystemCredentials,
    VdxpAuthError,
    VerifiedRequest,
    body_matches_hash_file,
    hash_file_forms,
    verify_request,
)

ENDPOINT = "http://hub.test/XrdAdapter/adapter"
SYSTEM = "vxp.saas.07"
SECRET = "c2VjcmV0LWtleS1mb3ItdGVzdHM="
LEGACY = "00.53.W00"


def small_byte_package() -> bytes:
    """A package whose SHA-256 has bytes below 0x10, so the SDK's form is shorter than 64."""
    for i in range(10_000):
        package = f'<?xml version="1.0"?>\r\n<edXML n="{i}"/>'.encode()
        if any(b < 0x10 for b in hashlib.sha256(package).digest()):
            return package
    raise AssertionError("unreachable")


PACKAGE = small_byte_package()


@dataclass
class Recorded:
    request: httpx.Request
    verified: VerifiedRequest


@dataclass
class FakePlatform:
    """Authenticates with verify_request, records, and answers like the platform."""

    legacy: bool = False
    requests: list[Recorded] = field(default_factory=list)
    seen_signatures: set[str] = field(default_factory=set)
    answers: dict[str, Callable[[httpx.Request, VerifiedRequest], httpx.Response]] = field(
        default_factory=dict
    )

    def secret_for(self, system_id: str) -> SystemCredentials | None:
        if system_id == SYSTEM:
            return SystemCredentials(SYSTEM, SECRET, legacy_sdk=self.legacy)
        return None

    def seen(self, signature: str) -> bool:
        if signature in self.seen_signatures:
            return True
        self.seen_signatures.add(signature)
        return False

    def __call__(self, request: httpx.Request) -> httpx.Response:
        try:
            verified = verify_request(
                request.headers,
                secret_for=self.secret_for,
                now=datetime.now(VN_TZ),
                window=timedelta(minutes=5),
                seen=self.seen,
            )
        except VdxpAuthError as exc:
            return httpx.Response(
                401,
                json={"status": "FAIL", "ErrorCode": exc.code.value, "ErrorDesc": exc.message_vi},
            )
        self.requests.append(Recorded(request, verified))
        operation = request.url.path.rsplit("/", 1)[-1]
        if operation in self.answers:
            return self.answers[operation](request, verified)
        return httpx.Response(200, json=self.default_answer(operation, request, verified))

    def default_answer(
        self, operation: str, request: httpx.Request, verified: VerifiedRequest
    ) -> dict[str, Any]:
        ok: dict[str, Any] = {"status": "OK", "ErrorCode": 0, "ErrorDesc": "Thành công"}
        if operation == "sendEdoc":
            kept = body_matches_hash_file(request.content, verified.signed["hash-file"])
            if kept is None:
                return {"status": "FAIL", "ErrorCode": -1, "ErrorDesc": "hash-file"}
            return {**ok, "DocId": "doc-" + hashlib.sha256(kept).hexdigest()[:8]}
        if operation == "getEdoc":
            return {**ok, "data": base64.b64encode(PACKAGE).decode()}
        if operation in {"countReceiveEdoc", "countReceiveStatus"}:
            return {**ok, "count": 3}
        if operation in {"getReceivedEdocList", "getSentEdocList", "getAgenciesList"}:
            return {**ok, "data": []}
        return ok

    @property
    def last(self) -> Recorded:
        return self.requests[-1]


@pytest.fixture
def platform() -> FakePlatform:
    return FakePlatform()


def make_client(platform: FakePlatform, **kwargs: Any) -> VdxpClient:
    http = httpx.Client(transport=httpx.MockTransport(platform))
    return VdxpClient(ENDPOINT, SYSTEM, SECRET, http=http, **kwargs)


# --------------------------------------------------------------------------- sendEdoc


def test_send_edoc_is_what_sdk_201_sends(platform: FakePlatform) -> None:
    client = make_client(platform)
    answer = client.send_edoc(PACKAGE, from_code="000.00.00.G22", to=["000.00.01.H53"])
    assert answer["DocId"].startswith("doc-")
    rec = platform.last
    request = rec.request
    assert request.method == "POST"
    assert str(request.url) == f"{ENDPOINT}/sendEdoc"
    assert request.content == PACKAGE + b"\r\n"
    assert request.headers["Content-Type"] == "application/octet-stream"
    assert request.headers["XroadVnpt-Content-Type"] == "application/octet-stream"
    assert request.headers["User-Agent"] == "JAVASDKAgent/1.0.0 XRoad/VPCP"
    assert request.headers["XroadVnpt-version"] == "3.0.201608"
    correct, sdk = hash_file_forms(hashlib.sha256(PACKAGE).digest())
    assert len(sdk) < 64
    assert request.headers["XroadVnpt-hash-file"] == sdk
    assert rec.verified.signed == {
        "timestamp": rec.verified.signed["timestamp"],
        "systemid": SYSTEM,
        "Content-Type": "application/octet-stream",
        "from": "000.00.00.G22",
        "servicetype": "eDoc",
        "messagetype": "edoc",
        "to": '["000.00.01.H53"]',
        "hash-file": sdk,
    }
    assert body_matches_hash_file(request.content, sdk) == PACKAGE
    assert answer["DocId"] == "doc-" + correct[:8]


def test_send_status_with_correct_hash(platform: FakePlatform) -> None:
    client = make_client(platform)
    client.send_edoc(PACKAGE, from_code="000.00.00.G22", message_type="status", hash_form="hex")
    rec = platform.last
    assert rec.verified.signed["messagetype"] == "status"
    assert rec.verified.signed["hash-file"] == hashlib.sha256(PACKAGE).hexdigest()
    assert "to" not in rec.verified.signed


# --------------------------------------------------------------------------- the other calls


@pytest.mark.parametrize(
    ("call", "method", "operation", "params"),
    [
        (
            lambda c: c.get_received_list(),
            "POST",
            "getReceivedEdocList",
            {"servicetype": "eDoc", "messagetype": "edoc"},
        ),
        (
            lambda c: c.get_received_list("status"),
            "POST",
            "getReceivedEdocList",
            {"servicetype": "eDoc", "messagetype": "status"},
        ),
        (lambda c: c.get_edoc("d-1"), "POST", "getEdoc", {"docId": "d-1"}),
        (lambda c: c.download_edoc("d-2"), "GET", "downloadEdoc", {"docId": "d-2"}),
        (
            lambda c: c.update_status("d-3"),
            "POST",
            "updateStatus",
            {"docid": "d-3", "status": "done"},
        ),
        (
            lambda c: c.update_status("d-4", "fail"),
            "POST",
            "updateStatus",
            {"docid": "d-4", "status": "fail"},
        ),
        (
            lambda c: c.get_sent_list(),
            "POST",
            "getSentEdocList",
            {"servicetype": "eDoc", "messagetype": "edoc"},
        ),
        (
            lambda c: c.get_sent_list("status", "d-5"),
            "POST",
            "getSentEdocList",
            {"servicetype": "eDoc", "messagetype": "status", "docId": "d-5"},
        ),
        (lambda c: c.count_receive_edoc(), "GET", "countReceiveEdoc", {}),
        (lambda c: c.count_receive_status(), "GET", "countReceiveStatus", {}),
        (lambda c: c.get_agencies_list(), "POST", "getAgenciesList", {}),
        (lambda c: c.get_agencies_list_qd20(), "POST", "getAgenciesListQD20", {}),
        (lambda c: c.get_agencies_list_qd20(1), "POST", "getAgenciesListQD20", {"level": "1"}),
        (lambda c: c.get_synchronize_unit(), "POST", "getSynchronizeUnit", {}),
        (
            lambda c: c.delete_agency("000.00.01.H53"),
            "POST",
            "deleteAgency",
            {"AgencyCode": "000.00.01.H53"},
        ),
    ],
)
def test_paths_methods_and_header_keys(
    platform: FakePlatform,
    call: Callable[[VdxpClient], Any],
    method: str,
    operation: str,
    params: dict[str, str],
) -> None:
    client = make_client(platform)
    call(client)
    rec = platform.last
    assert rec.request.method == method
    assert str(rec.request.url) == f"{ENDPOINT}/{operation}"
    assert rec.request.headers["Content-Type"] == "application/json"
    signed = dict(rec.verified.signed)
    assert set(signed) == {"timestamp", "systemid", "Content-Type", *params}
    for key, value in params.items():
        assert signed[key] == value
        assert rec.request.headers[f"XroadVnpt-{key}"] == value
    assert rec.verified.system_id == SYSTEM


def test_get_edoc_decodes_base64(platform: FakePlatform) -> None:
    assert make_client(platform).get_edoc("d-1") == PACKAGE


def test_get_edoc_accepts_wrapped_base64(platform: FakePlatform) -> None:
    wrapped = base64.encodebytes(PACKAGE).decode()  # MIME-style line breaks
    platform.answers["getEdoc"] = lambda r, v: httpx.Response(
        200, json={"status": "OK", "ErrorCode": 0, "data": wrapped}
    )
    assert make_client(platform).get_edoc("d-1") == PACKAGE


def test_get_edoc_bad_data(platform: FakePlatform) -> None:
    platform.answers["getEdoc"] = lambda r, v: httpx.Response(
        200, json={"status": "OK", "ErrorCode": 0, "data": "***"}
    )
    with pytest.raises(VdxpClientError) as info:
        make_client(platform).get_edoc("d-1")
    assert info.value.error_code == "BAD_RESPONSE"


def test_download_edoc_returns_the_raw_stream(platform: FakePlatform) -> None:
    platform.answers["downloadEdoc"] = lambda r, v: httpx.Response(
        200, content=PACKAGE, headers={"Content-Type": "application/octet-stream"}
    )
    assert make_client(platform).download_edoc("d-2") == PACKAGE


def test_register_agency_sends_a_json_body(platform: FakePlatform) -> None:
    data = {
        "id": "1",
        "pcode": "00.22.W00",
        "code": "000.01.22.H53",
        "name": "Sở Nội vụ tỉnh Tây Ninh",
        "mail": "snv@tayninh.gov.vn",
        "mobile": "",
        "fax": "",
    }
    make_client(platform).register_agency(data)
    rec = platform.last
    assert rec.request.method == "POST"
    assert rec.request.url.path.endswith("/registerAgency")
    assert json.loads(rec.request.content.decode("utf-8")) == data
    assert set(rec.verified.signed) == {"timestamp", "systemid", "Content-Type"}


# --------------------------------------------------------------------------- timestamps


def test_fixed_timestamp_mode_repeats_identical_signatures() -> None:
    platform = FakePlatform(legacy=True)
    times = iter(datetime(2025, 3, 14, 9, 0, s, tzinfo=VN_TZ) for s in range(10))
    client = make_client(platform, legacy_fixed_timestamp=True, clock=lambda: next(times))
    client.get_received_list()
    client.get_received_list()
    client.send_edoc(PACKAGE, from_code="000.00.00.G22")
    client.send_edoc(PACKAGE, from_code="000.00.00.G22")
    first, second, send1, send2 = platform.requests
    assert first.verified.signature == second.verified.signature
    assert send1.verified.signature == send2.verified.signature
    assert first.verified.timestamp == send2.verified.timestamp
    assert first.request.headers["XroadVnpt-timestamp"] == "14032025T090000+0000"
    assert all(r.verified.legacy for r in platform.requests)


def test_fixed_timestamp_is_rejected_for_a_normal_system(platform: FakePlatform) -> None:
    times = iter(datetime.now(VN_TZ) + timedelta(milliseconds=ms) for ms in range(10))
    client = make_client(platform, legacy_fixed_timestamp=True, clock=lambda: next(times))
    client.get_received_list()
    with pytest.raises(VdxpClientError) as info:
        client.get_received_list()
    assert info.value.error_code == "AUTH_REPLAYED"
    assert info.value.http_status == 401


def test_default_mode_signs_each_call_anew(platform: FakePlatform) -> None:
    base = datetime.now(VN_TZ)
    times = iter(base + timedelta(milliseconds=ms) for ms in range(10))
    client = make_client(platform, clock=lambda: next(times))
    client.get_received_list()
    client.get_received_list()
    first, second = platform.requests
    assert first.verified.signature != second.verified.signature
    assert second.verified.timestamp - first.verified.timestamp == timedelta(milliseconds=1)


def test_real_clock_is_fresh(platform: FakePlatform) -> None:
    make_client(platform).count_receive_edoc()
    assert abs(platform.last.verified.timestamp - datetime.now(VN_TZ)) < timedelta(seconds=5)


# --------------------------------------------------------------------------- errors


def test_wrong_secret_is_refused(platform: FakePlatform) -> None:
    http = httpx.Client(transport=httpx.MockTransport(platform))
    client = VdxpClient(ENDPOINT, SYSTEM, "not-the-secret", http=http)
    with pytest.raises(VdxpClientError) as info:
        client.count_receive_edoc()
    assert info.value.error_code == "AUTH_BAD_SIGNATURE"
    assert info.value.http_status == 401
    assert "not-the-secret" not in repr(client)
    assert SECRET not in repr(make_client(platform))


@pytest.mark.parametrize(
    "answer",
    [
        {"status": "FAIL", "ErrorCode": 23, "ErrorDesc": "Không tìm thấy văn bản"},
        {"status": "OK", "ErrorCode": "23", "ErrorDesc": "Không tìm thấy văn bản"},
        {"status": "FAIL", "errorCode": 23, "errorDesc": "Không tìm thấy văn bản"},
    ],
)
def test_error_answer_raises(platform: FakePlatform, answer: dict[str, Any]) -> None:
    platform.answers["updateStatus"] = lambda r, v: httpx.Response(200, json=answer)
    with pytest.raises(VdxpClientError) as info:
        make_client(platform).update_status("d-9")
    assert info.value.error_code == "23"
    assert info.value.error_desc == "Không tìm thấy văn bản"
    assert info.value.http_status == 200
    assert info.value.response == answer


def test_status_without_error_code(platform: FakePlatform) -> None:
    platform.answers["deleteAgency"] = lambda r, v: httpx.Response(200, json={"status": "ERROR"})
    with pytest.raises(VdxpClientError) as info:
        make_client(platform).delete_agency("x")
    assert info.value.error_code == "ERROR"


def test_http_error_without_json(platform: FakePlatform) -> None:
    platform.answers["getAgenciesList"] = lambda r, v: httpx.Response(502, text="Bad Gateway")
    with pytest.raises(VdxpClientError) as info:
        make_client(platform).get_agencies_list()
    assert info.value.error_code == "HTTP_502"
    assert info.value.http_status == 502


def test_http_error_with_json_ok_body_still_raises(platform: FakePlatform) -> None:
    platform.answers["getSynchronizeUnit"] = lambda r, v: httpx.Response(
        500, json={"status": "OK", "ErrorCode": 0}
    )
    with pytest.raises(VdxpClientError) as info:
        make_client(platform).get_synchronize_unit()
    assert info.value.http_status == 500


def test_non_json_answer(platform: FakePlatform) -> None:
    platform.answers["countReceiveStatus"] = lambda r, v: httpx.Response(200, text="<html/>")
    with pytest.raises(VdxpClientError) as info:
        make_client(platform).count_receive_status()
    assert info.value.error_code == "BAD_RESPONSE"


def test_download_edoc_error_answer(platform: FakePlatform) -> None:
    platform.answers["downloadEdoc"] = lambda r, v: httpx.Response(
        404, json={"status": "FAIL", "ErrorCode": 404, "ErrorDesc": "not found"}
    )
    with pytest.raises(VdxpClientError) as info:
        make_client(platform).download_edoc("d-404")
    assert info.value.error_code == "404"


def test_transport_error() -> None:
    def boom(request: httpx.Request) -> httpx.Response:
        raise httpx.ConnectError("connection refused", request=request)

    client = VdxpClient(
        ENDPOINT, SYSTEM, SECRET, http=httpx.Client(transport=httpx.MockTransport(boom))
    )
    with pytest.raises(VdxpClientError) as info:
        client.count_receive_edoc()
    assert info.value.error_code == "TRANSPORT"
    assert info.value.http_status is None


def test_owned_http_client_is_closed() -> None:
    with VdxpClient(ENDPOINT + "/", SYSTEM, SECRET) as client:
        assert client.endpoint == ENDPOINT
    assert client._http.is_closed
    platform = FakePlatform()
    http = httpx.Client(transport=httpx.MockTransport(platform))
    VdxpClient(ENDPOINT, SYSTEM, SECRET, http=http).close()
    assert not http.is_closed
