"""The platform's HMAC ``XroadVnpt-*`` header scheme, end to end (sign_headers → verify_request),
the SDK's ``hash-file`` forms and its ``ddMMyyyy'T'HHmmss+SSSS`` timestamp."""

from __future__ import annotations

import hashlib
import hmac
import json
import random
from datetime import UTC, datetime, timedelta

import pytest

from lienthong.protocol.xroad import (
    VN_TZ,
    AuthCode,
    SystemCredentials,
    VdxpAuthError,
    VerifiedRequest,
    body_matches_hash_file,
    clock_zone,
    format_timestamp,
    hash_file_forms,
    parse_timestamp,
    sign_headers,
    verify_request,
)

SYSTEM = "vxp.saas.07"
SECRET = "c2VjcmV0LWtleS1mb3ItdGVzdHM="
LEGACY = "00.53.W00"
LEGACY_SECRET = "bGVnYWN5LXNlY3JldA=="
NOW = datetime(2025, 3, 14, 9, 26, 53, 589_000, tzinfo=VN_TZ)
TS = format_timestamp(NOW)
WINDOW = timedelta(minutes=5)
PARAMS = {"servicetype": "eDoc", "messagetype": "edoc", "from": "000.00.00.G22"}

CREDS = {
    SYSTEM: SystemCredentials(SYSTEM, SECRET),
    LEGACY: SystemCredentials(LEGACY, LEGACY_SECRET, legacy_sdk=True),
}


class Seen:
    """A replay store: check-and-set, as a hub would keep it."""

    def __init__(self) -> None:
        self.signatures: set[str] = set()
        self.calls = 0

    def __call__(self, signature: str) -> bool:
        self.calls += 1
        if signature in self.signatures:
            return True
        self.signatures.add(signature)
        return False


def verify(
    headers: dict[str, str],
    *,
    now: datetime = NOW,
    seen: Seen | None = None,
) -> VerifiedRequest:
    return verify_request(
        headers,
        secret_for=CREDS.get,
        now=now,
        window=WINDOW,
        seen=seen if seen is not None else Seen(),
    )


def signed(params: dict[str, str] | None = None, **kwargs: object) -> dict[str, str]:
    kwargs.setdefault("timestamp", TS)
    system = str(kwargs.pop("system", SYSTEM))
    secret = str(kwargs.pop("secret", SECRET))
    return sign_headers(system, secret, PARAMS if params is None else params, **kwargs)  # type: ignore[arg-type]


def error_code(headers: dict[str, str], **kwargs: object) -> AuthCode:
    with pytest.raises(VdxpAuthError) as info:
        verify(headers, **kwargs)  # type: ignore[arg-type]
    return info.value.code


def resign(headers: dict[str, str], sign_header: str, secret: str = SECRET) -> dict[str, str]:
    """Replace the sign-header by ``sign_header`` with a valid HMAC (a client that signs it)."""
    out = dict(headers)
    out["XroadVnpt-sign-header"] = sign_header
    out["XroadVnpt-hash-header"] = hmac.new(
        secret.encode(), sign_header.encode(), hashlib.sha256
    ).hexdigest()
    return out


# --------------------------------------------------------------------------- success


def test_round_trip_success() -> None:
    headers = signed()
    result = verify(headers)
    assert result.system_id == SYSTEM
    assert result.signed == {
        "timestamp": TS,
        "systemid": SYSTEM,
        "Content-Type": "application/json",
        **PARAMS,
    }
    assert result.timestamp == NOW
    assert result.signature == headers["XroadVnpt-hash-header"]
    assert result.legacy is False
    assert result.value("MessageType") == "edoc"
    assert result.value("docid") is None


def test_header_map_is_the_sdks() -> None:
    headers = signed()
    assert list(headers) == [
        "Content-Type",
        "XroadVnpt-timestamp",
        "XroadVnpt-systemid",
        "XroadVnpt-Content-Type",
        "XroadVnpt-servicetype",
        "XroadVnpt-messagetype",
        "XroadVnpt-from",
        "XroadVnpt-sign-header-key",
        "XroadVnpt-sign-header",
        "XroadVnpt-hash-header",
        "XroadVnpt-version",
        "User-Agent",
    ]
    assert headers["XroadVnpt-sign-header-key"] == (
        "timestamp;systemid;Content-Type;servicetype;messagetype;from"
    )
    assert headers["XroadVnpt-version"] == "3.0.201608"
    assert headers["User-Agent"] == "JAVASDKAgent/1.0.0 XRoad/VPCP"


def test_header_names_ignore_case() -> None:
    headers = signed({**PARAMS, "docId": "abc-123"})
    lowered = {k.lower(): v for k, v in headers.items()}
    upper = {k.upper(): v for k, v in headers.items()}
    assert verify(lowered).value("docid") == "abc-123"
    assert verify(upper).signed["docId"] == "abc-123"


def test_httpx_headers_mapping_is_accepted() -> None:
    httpx = pytest.importorskip("httpx")
    assert verify(httpx.Headers(signed())).system_id == SYSTEM


def test_shuffled_key_order_still_verifies() -> None:
    # The order observed on the wire: the Java hash map's, not the insertion order.
    wire_order = ["systemid", "servicetype", "messagetype", "from", "timestamp", "Content-Type"]
    headers = signed(key_order=wire_order)
    assert list(json.loads(headers["XroadVnpt-sign-header"])) == [
        f"XroadVnpt-{k}" for k in wire_order
    ]
    assert verify(headers).signed["from"] == "000.00.00.G22"
    for seed in range(5):
        keys = ["timestamp", "systemid", "Content-Type", *PARAMS]
        random.Random(seed).shuffle(keys)
        assert verify(signed(key_order=keys)).system_id == SYSTEM


def test_partial_and_bad_key_order() -> None:
    headers = signed(key_order=["from"])
    assert headers["XroadVnpt-sign-header-key"].startswith("from;timestamp;")
    with pytest.raises(ValueError):
        signed(key_order=["nope"])
    with pytest.raises(ValueError):
        signed(key_order=["from", "from"])
    with pytest.raises(ValueError):
        signed({"timestamp": "x"})
    with pytest.raises(ValueError):
        signed({"docId": "1", "DOCID": "2"})


def test_content_type_parameters_are_ignored() -> None:
    headers = signed(content_type="application/octet-stream")
    headers["Content-Type"] = "Application/Octet-Stream; charset=UTF-8"
    assert verify(headers).signed["Content-Type"] == "application/octet-stream"


def test_content_type_must_match() -> None:
    headers = signed(content_type="application/octet-stream")
    headers["Content-Type"] = "application/json"
    assert error_code(headers) is AuthCode.SIGNED_VALUE_MISMATCH
    del headers["Content-Type"]
    assert error_code(headers) is AuthCode.SIGNED_VALUE_MISMATCH


def test_systemid_from_the_signed_json_alone() -> None:
    headers = signed()
    del headers["XroadVnpt-systemid"]
    assert verify(headers).system_id == SYSTEM


def test_surrounding_whitespace_of_a_header_is_ignored() -> None:
    headers = signed()
    headers["XroadVnpt-from"] = " 000.00.00.G22 "
    assert verify(headers).signed["from"] == "000.00.00.G22"


# --------------------------------------------------------------------------- failures


def test_wrong_secret() -> None:
    assert error_code(signed(secret="another-secret")) is AuthCode.BAD_SIGNATURE


def test_tampered_or_malformed_hash_header() -> None:
    headers = signed()
    digest = headers["XroadVnpt-hash-header"]
    headers["XroadVnpt-hash-header"] = digest[:-1] + ("0" if digest[-1] != "0" else "1")
    assert error_code(headers) is AuthCode.BAD_SIGNATURE
    headers["XroadVnpt-hash-header"] = "zz"
    assert error_code(headers) is AuthCode.BAD_SIGNATURE
    headers["XroadVnpt-hash-header"] = "é" * 64
    assert error_code(headers) is AuthCode.BAD_SIGNATURE


def test_hash_header_hex_case_is_ignored() -> None:
    headers = signed()
    headers["XroadVnpt-hash-header"] = headers["XroadVnpt-hash-header"].upper()
    assert verify(headers).signature == headers["XroadVnpt-hash-header"].lower()


def test_tampered_sign_header() -> None:
    headers = signed()
    headers["XroadVnpt-sign-header"] = headers["XroadVnpt-sign-header"].replace("G22", "G23")
    headers["XroadVnpt-from"] = "000.00.00.G23"
    assert error_code(headers) is AuthCode.BAD_SIGNATURE


def test_real_header_changed_after_signing() -> None:
    headers = signed()
    headers["XroadVnpt-from"] = "000.00.00.H53"
    assert error_code(headers) is AuthCode.SIGNED_VALUE_MISMATCH


@pytest.mark.parametrize("name", ["XroadVnpt-messagetype", "XroadVnpt-timestamp"])
def test_signed_header_missing_from_the_request(name: str) -> None:
    headers = signed()
    del headers[name]
    assert error_code(headers) is AuthCode.SIGNED_VALUE_MISMATCH


def test_systemid_header_differs_from_signed() -> None:
    headers = signed()
    headers["XroadVnpt-systemid"] = LEGACY  # known system, but the HMAC is not with its secret
    assert error_code(headers) is AuthCode.BAD_SIGNATURE


def test_an_unknown_system_looks_like_a_wrong_secret() -> None:
    """No system enumeration (issue 10 §3.7): the same code and the same words."""
    with pytest.raises(VdxpAuthError) as unknown:
        verify(signed(system="vxp.saas.99"))
    with pytest.raises(VdxpAuthError) as wrong:
        verify(signed(secret="not-the-secret"))
    assert unknown.value.code is wrong.value.code is AuthCode.BAD_SIGNATURE
    assert (unknown.value.message_vi, unknown.value.message_en) == (
        wrong.value.message_vi,
        wrong.value.message_en,
    )


def test_a_huge_sign_header_is_refused_before_it_is_parsed() -> None:
    """An 8 MiB sign-header without the systemid header: refused on its size, before any
    JSON parsing or system lookup (issue 10 §3.7)."""
    headers = signed()
    del headers["XroadVnpt-systemid"]
    headers["XroadVnpt-sign-header"] = '{"a":"' + "x" * (8 << 20) + '"}'
    looked_up: list[str] = []

    def secret_for(system_id: str) -> SystemCredentials | None:
        looked_up.append(system_id)
        return CREDS.get(system_id)

    with pytest.raises(VdxpAuthError) as refused:
        verify_request(headers, secret_for=secret_for, now=NOW, window=WINDOW, seen=Seen())
    assert refused.value.code is AuthCode.BAD_SIGN_HEADER
    assert looked_up == []


@pytest.mark.parametrize(
    "name", ["XroadVnpt-sign-header", "XroadVnpt-hash-header", "XroadVnpt-systemid"]
)
def test_missing_headers(name: str) -> None:
    headers = signed()
    del headers[name]
    if name == "XroadVnpt-systemid":  # and not in the signed JSON either
        sign_header = json.loads(headers["XroadVnpt-sign-header"])
        del sign_header["XroadVnpt-systemid"]
        headers = resign(headers, json.dumps(sign_header, separators=(",", ":")))
    assert error_code(headers) is AuthCode.MISSING_HEADER


def test_empty_request() -> None:
    assert error_code({}) is AuthCode.MISSING_HEADER


@pytest.mark.parametrize(
    "sign_header",
    [
        "{not json",
        "[]",
        '"text"',
        '{"XroadVnpt-systemid":"vxp.saas.07","XroadVnpt-timestamp":1}',
        '{"XroadVnpt-systemid":"vxp.saas.07","XroadVnpt-timestamp":null}',
        '{"XroadVnpt-systemid":"vxp.saas.07","XroadVnpt-timestamp":{"a":"b"}}',
        '{"XroadVnpt-systemid":"vxp.saas.07","systemid":"vxp.saas.07"}',
        '{"XroadVnpt-systemid":"vxp.saas.07","XroadVnpt-":""}',
        '{"XroadVnpt-systemid":"vxp.saas.07","XroadVnpt-systemid":"vxp.saas.07"}',
        '{"XroadVnpt-systemid":"vxp.saas.07","xroadvnpt-SYSTEMID":"vxp.saas.07"}',
    ],
)
def test_malformed_sign_header(sign_header: str) -> None:
    headers = resign(signed(), sign_header)
    assert error_code(headers) is AuthCode.BAD_SIGN_HEADER


@pytest.mark.parametrize("missing", ["timestamp", "systemid"])
def test_sign_header_must_cover_systemid_and_timestamp(missing: str) -> None:
    headers = signed()
    body = json.loads(headers["XroadVnpt-sign-header"])
    del body[f"XroadVnpt-{missing}"]
    headers = resign(headers, json.dumps(body, separators=(",", ":")))
    assert error_code(headers) is AuthCode.BAD_SIGN_HEADER


def test_malformed_timestamp() -> None:
    headers = signed(timestamp="2025-03-14T09:26:53")
    assert error_code(headers) is AuthCode.BAD_SIGN_HEADER


# --------------------------------------------------------------------------- freshness, replay


@pytest.mark.parametrize("offset", [timedelta(minutes=-6), timedelta(minutes=6)])
def test_stale_timestamp_rejected(offset: timedelta) -> None:
    assert error_code(signed(), now=NOW + offset) is AuthCode.STALE_TIMESTAMP


def test_timestamp_at_the_window_edge_accepted() -> None:
    assert verify(signed(), now=NOW + WINDOW).timestamp == NOW
    assert verify(signed(), now=(NOW - WINDOW).astimezone(UTC)).timestamp == NOW


def test_stale_timestamp_accepted_for_legacy_system() -> None:
    headers = signed(system=LEGACY, secret=LEGACY_SECRET)
    result = verify(headers, now=NOW + timedelta(days=3))
    assert result.legacy is True
    assert result.system_id == LEGACY


def test_replay_rejected() -> None:
    seen = Seen()
    headers = signed()
    verify(headers, seen=seen)
    assert error_code(headers, seen=seen) is AuthCode.REPLAYED
    # A new timestamp is a new signature.
    later = signed(timestamp=format_timestamp(NOW + timedelta(milliseconds=1)))
    assert verify(later, seen=seen).signature != headers["XroadVnpt-hash-header"]


def test_replay_accepted_for_legacy_system_and_seen_not_called() -> None:
    seen = Seen()
    headers = signed(system=LEGACY, secret=LEGACY_SECRET)
    for _ in range(3):
        assert verify(headers, seen=seen).legacy
    assert seen.calls == 0


def test_failed_requests_do_not_reach_the_replay_store() -> None:
    seen = Seen()
    error_code(signed(secret="wrong"), seen=seen)
    error_code(signed(), now=NOW + timedelta(hours=1), seen=seen)
    assert seen.calls == 0


def test_naive_now_is_refused() -> None:
    with pytest.raises(ValueError):
        verify(signed(), now=NOW.replace(tzinfo=None))


# --------------------------------------------------------------------------- Gson escaping


def test_gson_escaped_values_verify() -> None:
    params = {**PARAMS, "docId": "a<b>&c='d'", "to": '["000.00.00.G22"]'}
    headers = signed(params)
    sign_header = headers["XroadVnpt-sign-header"]
    assert "\\u003cb\\u003e\\u0026c\\u003d\\u0027d\\u0027" in sign_header
    assert '"XroadVnpt-to":"[\\"000.00.00.G22\\"]"' in sign_header
    for ch in "<>&='":
        assert ch not in sign_header
    result = verify(headers)
    assert result.signed["docId"] == "a<b>&c='d'"
    assert result.signed["to"] == '["000.00.00.G22"]'


def test_unescaped_json_also_verifies() -> None:
    headers = signed({**PARAMS, "docId": "x=y"}, gson_escape=False)
    assert '"XroadVnpt-docId":"x=y"' in headers["XroadVnpt-sign-header"]
    assert verify(headers).signed["docId"] == "x=y"


def test_non_ascii_value_decoded_as_latin1_by_the_server() -> None:
    headers = signed({**PARAMS, "title": "Công văn"})
    # What an HTTP server hands over for UTF-8 header bytes: ISO-8859-1 text.
    as_server = {k: v.encode("utf-8").decode("latin-1") for k, v in headers.items()}
    assert verify(as_server).signed["title"] == "Công văn"
    assert verify(headers).signed["title"] == "Công văn"


# --------------------------------------------------------------------------- golden vector


def test_golden_vector() -> None:
    secret = "dnhwLnNhYXMuMDc6c2VjcmV0"
    timestamp = "05032019T142530+0042"
    params = {
        "servicetype": "eDoc",
        "messagetype": "edoc",
        "hash-file": "c0ffee",
        "from": "000.00.00.G22",
        "to": '["000.00.01.H53"]',
        "docId": "k=v",
    }
    # Written out by hand: Java hash-map key order, Gson compact JSON with `=` → \u003d.
    expected_sign_header = (
        '{"XroadVnpt-systemid":"vxp.saas.07",'
        '"XroadVnpt-servicetype":"eDoc",'
        '"XroadVnpt-messagetype":"edoc",'
        '"XroadVnpt-hash-file":"c0ffee",'
        '"XroadVnpt-from":"000.00.00.G22",'
        '"XroadVnpt-to":"[\\"000.00.01.H53\\"]",'
        '"XroadVnpt-docId":"k\\u003dv",'
        '"XroadVnpt-timestamp":"05032019T142530+0042",'
        '"XroadVnpt-Content-Type":"application/octet-stream"}'
    )
    expected_hash = hmac.new(
        secret.encode("utf-8"), expected_sign_header.encode("utf-8"), hashlib.sha256
    ).hexdigest()
    # Pinned independently (openssl dgst -sha256 -hmac) so the vector cannot drift.
    assert expected_hash == "306601406f6d3057762416df98616bf64bdad63e003258c4f064e50a2ceec4a1"

    headers = sign_headers(
        "vxp.saas.07",
        secret,
        params,
        content_type="application/octet-stream",
        timestamp=timestamp,
        key_order=[
            "systemid",
            "servicetype",
            "messagetype",
            "hash-file",
            "from",
            "to",
            "docId",
            "timestamp",
            "Content-Type",
        ],
    )
    assert headers["XroadVnpt-sign-header"] == expected_sign_header
    assert headers["XroadVnpt-hash-header"] == expected_hash
    assert headers["XroadVnpt-sign-header-key"] == (
        "systemid;servicetype;messagetype;hash-file;from;to;docId;timestamp;Content-Type"
    )
    assert headers["Content-Type"] == "application/octet-stream"
    assert headers["XroadVnpt-docId"] == "k=v"


def test_golden_vector_default_order() -> None:
    expected_sign_header = (
        '{"XroadVnpt-timestamp":"31122024T235959+0999",'
        '"XroadVnpt-systemid":"vxp.saas.07",'
        '"XroadVnpt-Content-Type":"application/json",'
        '"XroadVnpt-docid":"42",'
        '"XroadVnpt-status":"done"}'
    )
    expected_hash = hmac.new(b"s3cr3t", expected_sign_header.encode(), hashlib.sha256).hexdigest()
    headers = sign_headers(
        "vxp.saas.07", "s3cr3t", {"docid": "42", "status": "done"}, timestamp="31122024T235959+0999"
    )
    assert headers["XroadVnpt-sign-header"] == expected_sign_header
    assert headers["XroadVnpt-hash-header"] == expected_hash


# --------------------------------------------------------------------------- hash-file


def _digest_with_small_bytes() -> tuple[bytes, bytes]:
    for i in range(10_000):
        package = f"<edXML>{i}</edXML>\r\n".encode()
        digest = hashlib.sha256(package).digest()
        if sum(b < 0x10 for b in digest) >= 2:
            return package, digest
    raise AssertionError("unreachable")


def test_hash_file_forms() -> None:
    package, digest = _digest_with_small_bytes()
    correct, sdk = hash_file_forms(digest)
    assert correct == hashlib.sha256(package).hexdigest()
    assert len(correct) == 64
    assert len(sdk) < 64
    assert sdk == "".join(format(b, "x") for b in digest)
    assert hash_file_forms(bytes([0x0C, 0x00, 0xAB])) == ("0c00ab", "c0ab")


@pytest.mark.parametrize("form", [0, 1])
@pytest.mark.parametrize("upper", [False, True])
def test_body_with_and_without_trailing_crlf(form: int, upper: bool) -> None:
    package, digest = _digest_with_small_bytes()  # the package itself ends with \r\n
    header = hash_file_forms(digest)[form]
    header = header.upper() if upper else header
    # What SDK 2.0.1 sends: the bytes plus one more CRLF; only that one is removed.
    assert body_matches_hash_file(package + b"\r\n", header) == package
    # A client that sends the bytes as they are.
    assert body_matches_hash_file(package, header) == package
    assert body_matches_hash_file(package + b"\r\n\r\n", header) is None


def test_hash_covering_the_whole_body_keeps_it() -> None:
    body = b"<edXML/>\r\n"
    for header in hash_file_forms(hashlib.sha256(body).digest()):
        assert body_matches_hash_file(body, f"  {header} ") == body


def test_wrong_hash_file() -> None:
    package, digest = _digest_with_small_bytes()
    correct, sdk = hash_file_forms(digest)
    other = hashlib.sha256(b"other").hexdigest()
    assert body_matches_hash_file(package, other) is None
    assert body_matches_hash_file(package + b"x", correct) is None
    assert body_matches_hash_file(package, "") is None
    assert body_matches_hash_file(package, "not hex") is None
    assert body_matches_hash_file(package, correct + "00") is None
    assert body_matches_hash_file(package, sdk[:-1]) is None


# --------------------------------------------------------------------------- timestamps


def test_timestamp_format_and_round_trip() -> None:
    dt = datetime(2019, 3, 5, 14, 25, 30, 42_000, tzinfo=VN_TZ)
    assert format_timestamp(dt) == "05032019T142530+0042"
    assert parse_timestamp("05032019T142530+0042") == dt
    assert parse_timestamp("05032019T142530+0042").utcoffset() == timedelta(hours=7)
    assert format_timestamp(datetime(2024, 12, 31, 23, 59, 59, 999_999)) == "31122024T235959+0999"
    assert format_timestamp(datetime(2024, 1, 2, 3, 4, 5)) == "02012024T030405+0000"
    # An aware time elsewhere is converted to Vietnam local time.
    utc = datetime(2024, 12, 31, 17, 0, 0, 7_000, tzinfo=UTC)
    assert format_timestamp(utc) == "01012025T000000+0007"
    for ms in (0, 1, 9, 10, 99, 100, 999):
        original = datetime(2025, 6, 30, 8, 0, 1, ms * 1000, tzinfo=VN_TZ)
        text = format_timestamp(original)
        assert text.endswith(f"+{ms:04d}")
        assert parse_timestamp(text) == original


@pytest.mark.parametrize(
    "text",
    [
        "",
        "05032019T142530",
        "05032019T142530+042",
        "05032019T142530+1000",
        "05032019T142530-0042",
        "32012019T142530+0042",
        "05132019T142530+0042",
        "05032019 142530+0042",
        "0503201９T142530+0042",
    ],
)
def test_timestamp_parse_rejects(text: str) -> None:
    with pytest.raises(ValueError):
        parse_timestamp(text)


# --------------------------------------------------------------------------- secrets


def test_secret_never_shown() -> None:
    creds = SystemCredentials(SYSTEM, SECRET)
    assert SECRET not in repr(creds)
    assert SECRET not in str(creds)
    for headers in (signed(secret="wrong"), signed(), {}):
        try:
            verify(headers, now=NOW + timedelta(hours=1))
        except VdxpAuthError as exc:
            for text in (str(exc), repr(exc), exc.message_vi, exc.message_en):
                assert SECRET not in text
                assert "wrong" not in text
            assert exc.message_vi and exc.message_en


# --------------------------------------------------------------------------- clock zones


def test_the_timestamp_is_read_in_the_systems_clock_zone() -> None:
    """The SDK writes its local time without a zone: a client whose clock is at UTC is
    accepted once its system says so, and refused (naming the zone) while it does not."""
    on_utc = SystemCredentials(SYSTEM, SECRET, clock_zone="UTC")
    utc_stamp = format_timestamp(NOW, UTC)
    assert utc_stamp == "14032025T022653+0589"
    headers = signed(timestamp=utc_stamp)
    result = verify_request(
        headers, secret_for=lambda _: on_utc, now=NOW, window=WINDOW, seen=Seen()
    )
    assert result.timestamp == NOW
    with pytest.raises(VdxpAuthError) as info:
        verify(headers)  # the same request from a system in Vietnam's zone
    assert info.value.code is AuthCode.STALE_TIMESTAMP
    for message in (info.value.message_en, info.value.message_vi):
        assert "Asia/Ho_Chi_Minh" in message and "14032025T092653+0589" in message
    assert "7 h 00 min 00 s behind" in info.value.message_en
    assert SECRET not in str(info.value) and SECRET not in info.value.message_vi


def test_clock_zone_names() -> None:
    assert clock_zone("Asia/Ho_Chi_Minh").utcoffset(datetime(2025, 1, 1)) == timedelta(hours=7)
    assert clock_zone(" UTC ").utcoffset(datetime(2025, 1, 1)) == timedelta(0)
    for bad in ("", "Mars/Olympus", "../../etc/passwd", "/etc/localtime", "Asia", "x" * 100):
        with pytest.raises(ValueError):
            clock_zone(bad)
    assert parse_timestamp("14032025T022653+0589", UTC) == NOW
