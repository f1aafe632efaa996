"""The national platform's HMAC-signed ``XroadVnpt-*`` header scheme (SDK 2.0.1), both sides.

Pure functions: no web framework, no database, no clock (the caller passes ``now``).

How the official SDK signs a call (reference notes §3.3): it builds a map ``H`` of
``timestamp``, ``systemid``, ``Content-Type`` and the call's own keys, sends each as
``XroadVnpt-<k>``, serialises ``{"XroadVnpt-<k>": H[k], …}`` as compact JSON (Gson, so
``< > & = '`` come out as ``\\u003c`` …) into ``XroadVnpt-sign-header`` and sends
``XroadVnpt-hash-header`` = hex HMAC-SHA256(key = the secret's UTF-8 text, message = that JSON).

How the hub verifies it (:func:`verify_request`): the HMAC is recomputed over the
``sign-header`` string *exactly as received* (the SDK's key order is its hash map's order, so
the JSON is never re-serialised), then every signed value is compared with the real header of
the same name, then the timestamp's freshness (the SDK's timestamp has no zone: it is read in
the system's clock zone, Asia/Ho_Chi_Minh unless registered otherwise) and the signature's
novelty are checked — except for systems registered as running the legacy SDK, whose
timestamp is fixed when the SDK's client object is created, so a long-lived client repeats
identical signatures.

Upload bodies (:func:`body_matches_hash_file`): SDK 2.0.1 sends the package's raw bytes followed
by one extra ``\\r\\n`` and prints ``hash-file`` byte by byte without zero-padding (``0c`` → ``c``).
"""

from __future__ import annotations

import contextlib
import hashlib
import hmac
import json
import re
import secrets
from collections.abc import Callable, Mapping, Sequence
from dataclasses import dataclass, field
from datetime import UTC, datetime, timedelta, timezone, tzinfo
from enum import StrEnum
from zoneinfo import ZoneInfo, ZoneInfoNotFoundError

__all__ = [
    "DEFAULT_CLOCK_ZONE",
    "HEADER_PREFIX",
    "SDK_USER_AGENT",
    "SDK_VERSION",
    "VN_TZ",
    "AuthCode",
    "SystemCredentials",
    "VdxpAuthError",
    "VerifiedRequest",
    "body_matches_hash_file",
    "clock_zone",
    "format_timestamp",
    "hash_file_forms",
    "parse_timestamp",
    "sign_headers",
    "verify_request",
]

HEADER_PREFIX = "XroadVnpt-"
SDK_VERSION = "3.0.201608"
SDK_USER_AGENT = "JAVASDKAgent/1.0.0 XRoad/VPCP"

SIGN_HEADER = "XroadVnpt-sign-header"
SIGN_HEADER_KEY = "XroadVnpt-sign-header-key"
HASH_HEADER = "XroadVnpt-hash-header"
VERSION_HEADER = "XroadVnpt-version"
SYSTEMID_HEADER = "XroadVnpt-systemid"


#: The zone the SDK's zone-less timestamp is read in unless a system says otherwise.
DEFAULT_CLOCK_ZONE = "Asia/Ho_Chi_Minh"
_FIXED_ZONES: dict[str, tzinfo] = {
    # without a tz database: Vietnam is UTC+7 without DST since 1975
    DEFAULT_CLOCK_ZONE: timezone(timedelta(hours=7), DEFAULT_CLOCK_ZONE),
    "UTC": UTC,
}


def clock_zone(name: str) -> tzinfo:
    """The time zone named ``name`` (an IANA name such as ``Asia/Ho_Chi_Minh`` or ``UTC``).

    Raises ``ValueError`` for a name that is not a zone."""
    cleaned = name.strip()
    if not cleaned or len(cleaned) > 64 or cleaned.startswith(("/", ".")) or ".." in cleaned:
        raise ValueError(f"not a time zone name: {name[:64]!r}")
    try:
        return ZoneInfo(cleaned)
    except (ZoneInfoNotFoundError, ValueError, OSError):
        fixed = _FIXED_ZONES.get(cleaned)
        if fixed is None:
            raise ValueError(f"unknown time zone: {cleaned!r}") from None
        return fixed


#: The SDK formats its timestamp in local time; the platform and its clients live in Vietnam.
VN_TZ: tzinfo = clock_zone(DEFAULT_CLOCK_ZONE)


# --------------------------------------------------------------------------- errors


class AuthCode(StrEnum):
    """Stable error codes. Never rename a value: clients match on them."""

    MISSING_HEADER = "AUTH_MISSING_HEADER"
    UNKNOWN_SYSTEM = "AUTH_UNKNOWN_SYSTEM"
    BAD_SIGNATURE = "AUTH_BAD_SIGNATURE"
    SIGNED_VALUE_MISMATCH = "AUTH_SIGNED_VALUE_MISMATCH"
    STALE_TIMESTAMP = "AUTH_STALE_TIMESTAMP"
    REPLAYED = "AUTH_REPLAYED"
    BAD_SIGN_HEADER = "AUTH_BAD_SIGN_HEADER"


class VdxpAuthError(Exception):
    """A request that fails authentication. Messages never contain the secret."""

    def __init__(self, code: AuthCode | str, message_vi: str, message_en: str) -> None:
        super().__init__(f"{code}: {message_en}")
        self.code = AuthCode(code)
        self.message_vi = message_vi
        self.message_en = message_en

    def __repr__(self) -> str:
        return f"VdxpAuthError({self.code.value!r}, {self.message_en!r})"


# --------------------------------------------------------------------------- data


@dataclass(frozen=True, slots=True)
class SystemCredentials:
    """What the hub knows of a registered system. ``repr`` never shows the secret."""

    system_id: str
    secret: str = field(repr=False)
    legacy_sdk: bool = False
    #: The zone the system's clock writes its timestamps in (an IANA name).
    clock_zone: str = DEFAULT_CLOCK_ZONE

    def __repr__(self) -> str:
        return (
            f"SystemCredentials(system_id={self.system_id!r}, secret='***', "
            f"legacy_sdk={self.legacy_sdk!r}, clock_zone={self.clock_zone!r})"
        )


@dataclass(frozen=True, slots=True)
class VerifiedRequest:
    """An authenticated request.

    ``signed`` holds the signed values under their names without the ``XroadVnpt-`` prefix, in
    the client's spelling (``from``, ``messagetype``, ``docId``, ``hash-file``, ``timestamp``,
    ``systemid``, ``Content-Type``…); :meth:`value` looks one up ignoring case.
    ``signature`` is the ``hash-header`` in lowercase hex (the key for replay detection).
    """

    system_id: str
    signed: dict[str, str]
    timestamp: datetime
    signature: str
    legacy: bool

    def value(self, name: str, default: str | None = None) -> str | None:
        """The signed value of ``name`` (``docid`` finds ``docId``), or ``default``."""
        wanted = name.lower()
        for key, val in self.signed.items():
            if key.lower() == wanted:
                return val
        return default


# --------------------------------------------------------------------------- timestamps

_TS_RE = re.compile(r"([0-9]{2})([0-9]{2})([0-9]{4})T([0-9]{2})([0-9]{2})([0-9]{2})\+([0-9]{4})")


def format_timestamp(dt: datetime, zone: tzinfo = VN_TZ) -> str:
    """``ddMMyyyy'T'HHmmss+SSSS`` in local time of ``zone`` (Vietnam by default; ``+`` then
    milliseconds on 4 digits: the SDK writes no zone).

    A naive ``dt`` is taken as local time of ``zone``; an aware one is converted first.
    """
    local = dt.replace(tzinfo=zone) if dt.tzinfo is None else dt.astimezone(zone)
    return local.strftime("%d%m%YT%H%M%S") + f"+{local.microsecond // 1000:04d}"


def parse_timestamp(s: str, zone: tzinfo = VN_TZ) -> datetime:
    """Parse the SDK's timestamp into an aware datetime, read as local time of ``zone``
    (Vietnam by default).

    Raises ``ValueError`` on anything else (the milliseconds must be 0000–0999).
    """
    m = _TS_RE.fullmatch(s.strip())
    if m is None:
        raise ValueError(f"not a ddMMyyyy'T'HHmmss+SSSS timestamp: {s[:40]!r}")
    day, month, year, hour, minute, second, millis = (int(g) for g in m.groups())
    if millis > 999:
        raise ValueError(f"milliseconds out of range in timestamp: {s[:40]!r}")
    return datetime(year, month, day, hour, minute, second, millis * 1000, tzinfo=zone)


# --------------------------------------------------------------------------- hash-file

_HEX_RE = re.compile(r"[0-9a-fA-F]+")


def hash_file_forms(digest: bytes) -> tuple[str, str]:
    """(correct lowercase hex, the SDK's form: each byte in hex without zero-padding)."""
    return digest.hex(), "".join(f"{b:x}" for b in digest)


def body_matches_hash_file(body: bytes, header: str) -> bytes | None:
    """The package bytes to keep if ``header`` (a ``hash-file`` value) matches ``body``.

    Tries the SHA-256 of the whole body, then of the body without one trailing ``\\r\\n``
    (SDK 2.0.1 appends it); each in the correct and in the SDK's unpadded form, ignoring
    hex case. Returns the body or the stripped body, ``None`` when nothing matches.
    """
    wanted = header.strip().lower()
    if not wanted or len(wanted) > 64 or _HEX_RE.fullmatch(wanted) is None:
        return None
    candidates = [body]
    if body.endswith(b"\r\n"):
        candidates.append(body[:-2])
    for candidate in candidates:
        if wanted in hash_file_forms(hashlib.sha256(candidate).digest()):
            return candidate
    return None


# --------------------------------------------------------------------------- signing

_GSON_ESCAPES = {
    "<": "\\u003c",
    ">": "\\u003e",
    "&": "\\u0026",
    "=": "\\u003d",
    "'": "\\u0027",
    "\u2028": "\\u2028",
    "\u2029": "\\u2029",
}
_GSON_RE = re.compile("[" + re.escape("".join(_GSON_ESCAPES)) + "]")
_RESERVED = ("timestamp", "systemid", "Content-Type", "version")  # version: SDK protocol


def _compact_json(obj: Mapping[str, str], *, gson_escape: bool) -> str:
    text = json.dumps(dict(obj), ensure_ascii=False, separators=(",", ":"))
    if gson_escape:
        # Every one of these characters can only occur inside a JSON string here.
        text = _GSON_RE.sub(lambda m: _GSON_ESCAPES[m.group(0)], text)
    return text


#: The longest ``XroadVnpt-sign-header`` accepted (the SDK's is a few hundred characters,
#: with keys left over from earlier calls a few thousand).
MAX_SIGN_HEADER = 16 * 1024
#: Verified against when the system is unknown, so both refusals cost the same.
_DECOY_SECRET = secrets.token_urlsafe(32)


def _hmac_hex(secret: str, message: bytes) -> str:
    return hmac.new(secret.encode("utf-8"), message, hashlib.sha256).hexdigest()


def sign_headers(
    system_id: str,
    secret: str,
    params: Mapping[str, str],
    *,
    content_type: str = "application/json",
    timestamp: str | None = None,
    key_order: Sequence[str] | None = None,
    gson_escape: bool = True,
) -> dict[str, str]:
    """The exact header map SDK 2.0.1 sends for a call with the header keys ``params``.

    ``timestamp`` defaults to now (Vietnam local time). The signed keys come in the order
    ``timestamp, systemid, Content-Type, *params``; ``key_order`` (unprefixed names) puts the
    keys it names first, in its order, the others after in that default order. With
    ``gson_escape`` the sign-header JSON escapes ``< > & = '`` (and U+2028/9) as Gson does.
    ``params`` must not repeat ``timestamp``, ``systemid`` or ``Content-Type``.
    """
    seen_names: set[str] = set()
    for key in params:
        lowered = key.lower()
        if lowered in {r.lower() for r in _RESERVED}:
            raise ValueError(f"{key!r} is set by sign_headers itself, not by params")
        if lowered in seen_names:
            raise ValueError(f"header key {key!r} given twice (names ignore case)")
        seen_names.add(lowered)
    if timestamp is None:
        timestamp = format_timestamp(datetime.now(VN_TZ))
    values: dict[str, str] = {
        "timestamp": timestamp,
        "systemid": system_id,
        "Content-Type": content_type,
        **params,
    }
    order = list(values)
    if key_order is not None:
        first = list(key_order)
        if len(set(first)) != len(first):
            raise ValueError("key_order names a key twice")
        unknown = [k for k in first if k not in values]
        if unknown:
            raise ValueError(f"key_order names keys that are not signed: {unknown!r}")
        order = first + [k for k in order if k not in first]
    signed = {f"{HEADER_PREFIX}{k}": values[k] for k in order}
    sign_header = _compact_json(signed, gson_escape=gson_escape)
    return {
        "Content-Type": content_type,
        **signed,
        SIGN_HEADER_KEY: ";".join(order),
        SIGN_HEADER: sign_header,
        HASH_HEADER: _hmac_hex(secret, sign_header.encode("utf-8")),
        VERSION_HEADER: SDK_VERSION,
        "User-Agent": SDK_USER_AGENT,
    }


# --------------------------------------------------------------------------- verifying


def _err(code: AuthCode, vi: str, en: str) -> VdxpAuthError:
    return VdxpAuthError(code, vi, en)


def _normalise(headers: Mapping[str, str]) -> dict[str, str]:
    out: dict[str, str] = {}
    for name, value in headers.items():
        key = name.strip().lower()
        if key in out and out[key] != value:
            raise _err(
                AuthCode.BAD_SIGN_HEADER,
                f"Tiêu đề {name!r} xuất hiện nhiều lần với giá trị khác nhau",
                f"Header {name!r} appears more than once with different values",
            )
        out[key] = value
    return out


def _same_text(signed: str, real: str) -> bool:
    """Equal, ignoring surrounding whitespace (HTTP strips it) and a UTF-8 value that an
    HTTP server decoded as ISO-8859-1."""
    a, b = signed.strip(" \t"), real.strip(" \t")
    if a == b:
        return True
    try:
        return a == b.encode("latin-1").decode("utf-8")
    except (UnicodeEncodeError, UnicodeDecodeError):
        return False


def _media_type(value: str) -> str:
    return value.split(";", 1)[0].strip().lower()


def _parse_sign_header(text: str) -> dict[str, str]:
    def pairs_hook(pairs: list[tuple[str, object]]) -> dict[str, object]:
        out: dict[str, object] = {}
        for key, val in pairs:
            if key in out:
                raise ValueError(f"duplicate key {key!r}")
            out[key] = val
        return out

    bad = AuthCode.BAD_SIGN_HEADER
    try:
        parsed = json.loads(text, object_pairs_hook=pairs_hook)
    except ValueError as exc:
        raise _err(
            bad,
            f"XroadVnpt-sign-header không phải JSON hợp lệ: {exc}",
            f"XroadVnpt-sign-header is not valid JSON: {exc}",
        ) from None
    if not isinstance(parsed, dict):
        raise _err(
            bad,
            "XroadVnpt-sign-header phải là một đối tượng JSON",
            "XroadVnpt-sign-header must be a JSON object",
        )
    result: dict[str, str] = {}
    names: set[str] = set()
    prefix = HEADER_PREFIX.lower()
    for key, val in parsed.items():
        if not isinstance(val, str):
            raise _err(
                bad,
                f"Giá trị ký của {key!r} phải là chuỗi",
                f"The signed value of {key!r} must be a string",
            )
        if not key.lower().startswith(prefix) or len(key) == len(prefix):
            raise _err(
                bad,
                f"Khoá ký {key!r} không bắt đầu bằng {HEADER_PREFIX}",
                f"Signed key {key!r} does not start with {HEADER_PREFIX}",
            )
        if key.lower() in names:
            raise _err(
                bad,
                f"Khoá ký {key!r} lặp lại (không phân biệt hoa thường)",
                f"Signed key {key!r} repeated (names ignore case)",
            )
        names.add(key.lower())
        result[key] = val
    return result


def _duration(delta: timedelta) -> str:
    seconds = round(abs(delta).total_seconds())
    days, seconds = divmod(seconds, 86400)
    hours, seconds = divmod(seconds, 3600)
    minutes, seconds = divmod(seconds, 60)
    text = f"{hours} h {minutes:02d} min {seconds:02d} s"
    return f"{days} d {text}" if days else text


def _stale(
    given: str, timestamp: datetime, now: datetime, window: timedelta, creds: SystemCredentials
) -> VdxpAuthError:
    """The refusal of a timestamp outside the window, with what an operator needs to fix
    it: the zone the timestamp was read in, the hub's time now in that zone, the gap."""
    zone = creds.clock_zone
    hub_now = now.astimezone(timestamp.tzinfo)
    hub_sdk = format_timestamp(hub_now, hub_now.tzinfo or VN_TZ)
    hub_text = hub_now.strftime("%Y-%m-%d %H:%M:%S")
    gap = _duration(timestamp - now)
    if timestamp < now:
        vi_side, en_side = f"chậm {gap}", f"{gap} behind"
    else:
        vi_side, en_side = f"nhanh {gap}", f"{gap} ahead"
    return _err(
        AuthCode.STALE_TIMESTAMP,
        f"XroadVnpt-timestamp {given[:40]} (đọc theo múi giờ {zone} của hệ thống) lệch quá "
        f"{window} so với giờ của trục: giờ của trục theo {zone} là {hub_sdk} ({hub_text}), "
        f"đồng hồ của hệ thống {vi_side}. Nếu máy khách dùng múi giờ khác, người vận hành "
        f"đặt lại bằng: lienthong system set {creds.system_id} --clock-zone <MÚI_GIỜ>",
        f"XroadVnpt-timestamp {given[:40]} (read in the system's clock zone {zone}) is more "
        f"than {window} away from the hub's clock: the hub's time in {zone} is {hub_sdk} "
        f"({hub_text}), the system's clock is {en_side}. If the client's clock is in another "
        f"zone, an operator sets it with: lienthong system set {creds.system_id} "
        f"--clock-zone <ZONE>",
    )


def verify_request(
    headers: Mapping[str, str],
    *,
    secret_for: Callable[[str], SystemCredentials | None],
    now: datetime,
    window: timedelta,
    seen: Callable[[str], bool],
) -> VerifiedRequest:
    """Authenticate one request from its HTTP headers (any mapping; names ignore case).

    Order of the checks: required headers, known system, HMAC over the received
    ``sign-header`` (constant time), sign-header JSON, each signed value against the real
    header, ``systemid``/``timestamp`` signed, freshness (``|now − timestamp| ≤ window``),
    replay. The last two are skipped for a system whose credentials say ``legacy_sdk``.
    ``seen(signature)`` is called at most once, last, and never for legacy systems, so it
    may record the signature (check-and-set). ``now`` must be timezone-aware.
    Raises :class:`VdxpAuthError`.
    """
    if now.tzinfo is None or now.utcoffset() is None:
        raise ValueError("verify_request needs a timezone-aware `now`")
    real = _normalise(headers)

    sign_header = real.get(SIGN_HEADER.lower())
    hash_header = real.get(HASH_HEADER.lower())
    for name, present in ((SIGN_HEADER, sign_header), (HASH_HEADER, hash_header)):
        if not present:
            raise _err(
                AuthCode.MISSING_HEADER,
                f"Thiếu tiêu đề {name}",
                f"Missing header {name}",
            )
    assert sign_header is not None and hash_header is not None
    if len(sign_header) > MAX_SIGN_HEADER:  # before anything parses or hashes it
        raise _err(
            AuthCode.BAD_SIGN_HEADER,
            f"XroadVnpt-sign-header dài quá {MAX_SIGN_HEADER} ký tự",
            f"XroadVnpt-sign-header is longer than {MAX_SIGN_HEADER} characters",
        )

    # Which system: the real header, or else the signed JSON (authenticated below).
    system_id = (real.get(SYSTEMID_HEADER.lower()) or "").strip()
    if not system_id:
        try:
            early = _parse_sign_header(sign_header)
        except VdxpAuthError:
            early = {}
        system_id = next(
            (v.strip() for k, v in early.items() if k.lower() == SYSTEMID_HEADER.lower()), ""
        )
    if not system_id:
        raise _err(
            AuthCode.MISSING_HEADER,
            f"Thiếu tiêu đề {SYSTEMID_HEADER}",
            f"Missing header {SYSTEMID_HEADER}",
        )

    creds = secret_for(system_id)

    # HMAC over the received string. HTTP servers hand header bytes over decoded as
    # ISO-8859-1, so non-ASCII text is also tried as those raw bytes. An unknown system
    # gets the very answer of a wrong secret, after the same work: no way to tell which
    # system ids exist.
    given = hash_header.strip().lower()
    bad_sig = _err(
        AuthCode.BAD_SIGNATURE,
        "Chữ ký XroadVnpt-hash-header không khớp (hệ thống hoặc khóa bí mật không được nhận)",
        "The XroadVnpt-hash-header signature does not match (system or secret not recognised)",
    )
    secret = creds.secret if creds is not None else _DECOY_SECRET
    messages = [sign_header.encode("utf-8")]
    if not sign_header.isascii():
        with contextlib.suppress(UnicodeEncodeError):
            messages.append(sign_header.encode("latin-1"))
    matched: bytes | None = None
    for message in messages:
        if hmac.compare_digest(_hmac_hex(secret, message).encode(), given.encode()):
            matched = message
    if creds is None or matched is None or len(given) != 64 or not _HEX_RE.fullmatch(given):
        raise bad_sig

    try:
        signed_text = matched.decode("utf-8")
    except UnicodeDecodeError:
        raise _err(
            AuthCode.BAD_SIGN_HEADER,
            "XroadVnpt-sign-header không phải UTF-8",
            "XroadVnpt-sign-header is not UTF-8",
        ) from None
    signed_full = _parse_sign_header(signed_text)

    # Each signed value against the real header of the same name.
    for key, value in signed_full.items():
        lowered = key.lower()
        actual = real.get(lowered)
        if actual is None and lowered == SYSTEMID_HEADER.lower():
            actual = system_id  # systemid may be carried by the signed JSON alone
        if actual is None or not _same_text(value, actual):
            raise _err(
                AuthCode.SIGNED_VALUE_MISMATCH,
                f"Tiêu đề thực {key} bị thiếu hoặc khác giá trị đã ký",
                f"The real header {key} is missing or differs from its signed value",
            )
        if lowered == "xroadvnpt-content-type":
            ctype = real.get("content-type")
            if ctype is None or _media_type(ctype) != _media_type(value):
                raise _err(
                    AuthCode.SIGNED_VALUE_MISMATCH,
                    "Giá trị ký của XroadVnpt-Content-Type không khớp với Content-Type",
                    "The signed XroadVnpt-Content-Type does not match Content-Type",
                )

    signed = {key[len(HEADER_PREFIX) :]: value for key, value in signed_full.items()}
    lowered_signed = {k.lower(): v for k, v in signed.items()}
    for required in ("systemid", "timestamp"):
        if required not in lowered_signed:
            raise _err(
                AuthCode.BAD_SIGN_HEADER,
                f"XroadVnpt-sign-header không ký {HEADER_PREFIX}{required}",
                f"XroadVnpt-sign-header does not sign {HEADER_PREFIX}{required}",
            )
    if lowered_signed["systemid"].strip() != system_id:
        raise _err(
            AuthCode.SIGNED_VALUE_MISMATCH,
            f"Giá trị ký của {SYSTEMID_HEADER} không khớp với tiêu đề thực",
            f"The signed value of {SYSTEMID_HEADER} does not match the real header",
        )
    try:
        zone = clock_zone(creds.clock_zone)
    except ValueError:
        zone = VN_TZ  # an unknown name never gets past registration; be safe anyway
    try:
        timestamp = parse_timestamp(lowered_signed["timestamp"], zone)
    except ValueError:
        raise _err(
            AuthCode.BAD_SIGN_HEADER,
            "XroadVnpt-timestamp không đúng dạng ddMMyyyy'T'HHmmss+SSSS",
            "XroadVnpt-timestamp is not in the form ddMMyyyy'T'HHmmss+SSSS",
        ) from None

    legacy = creds.legacy_sdk
    if not legacy:
        if abs(now - timestamp) > window:
            raise _stale(lowered_signed["timestamp"], timestamp, now, window, creds)
        if seen(given):
            raise _err(
                AuthCode.REPLAYED,
                "Chữ ký này đã được dùng; yêu cầu bị coi là gửi lại",
                "This signature was already used; the request is a replay",
            )
    return VerifiedRequest(
        system_id=system_id, signed=signed, timestamp=timestamp, signature=given, legacy=legacy
    )
