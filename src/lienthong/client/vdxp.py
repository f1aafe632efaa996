"""A client of the national platform's HTTP API that speaks exactly like the official SDK 2.0.1.

Every call is an HTTP request to ``{endpoint}/<operation>`` whose parameters travel in
HMAC-signed ``XroadVnpt-*`` headers (:func:`lienthong.protocol.xroad.sign_headers`); responses are
JSON objects with ``status``, ``ErrorCode`` and ``ErrorDesc`` (reference notes §3.4).

Wire details copied from the SDK on purpose, so a hub can be tested against what real agency
software sends: ``sendEdoc`` posts the package's raw bytes followed by ``\\r\\n`` under
``application/octet-stream`` with ``hash-file`` printed without zero-padding; with
``legacy_fixed_timestamp=True`` the timestamp is fixed when the client is created, so
identical calls carry identical signatures (the SDK's bug).
"""

from __future__ import annotations

import base64
import binascii
import hashlib
import json
from collections.abc import Callable, Mapping
from datetime import datetime, tzinfo
from types import TracebackType
from typing import Any, Literal

import httpx

from lienthong.protocol.xroad import VN_TZ, format_timestamp, hash_file_forms, sign_headers

__all__ = ["VdxpClient", "VdxpClientError"]

JSON = "application/json"
OCTET_STREAM = "application/octet-stream"


class VdxpClientError(Exception):
    """The platform (or the network) refused a call.

    ``error_code`` is the response's ``ErrorCode`` (as text) or, without one, its ``status``;
    ``TRANSPORT`` for network failures and ``BAD_RESPONSE`` for an unreadable answer.
    ``http_status`` is ``None`` when no HTTP response arrived.
    """

    def __init__(
        self,
        error_code: str,
        error_desc: str,
        http_status: int | None = None,
        response: Mapping[str, Any] | None = None,
    ) -> None:
        super().__init__(f"{error_code}: {error_desc} (HTTP {http_status})")
        self.error_code = error_code
        self.error_desc = error_desc
        self.http_status = http_status
        self.response = dict(response) if response is not None else None


def _field(data: Mapping[str, Any], name: str) -> Any:
    """A response field by name, ignoring case (``ErrorCode`` / ``errorCode``)."""
    if name in data:
        return data[name]
    wanted = name.lower()
    for key, value in data.items():
        if isinstance(key, str) and key.lower() == wanted:
            return value
    return None


def _is_error(data: Mapping[str, Any]) -> bool:
    status = _field(data, "status")
    code = _field(data, "ErrorCode")
    if status is not None and str(status).strip().upper() != "OK":
        return True
    return code is not None and str(code).strip() != "0"


def _error_from(data: Mapping[str, Any], http_status: int) -> VdxpClientError:
    code = _field(data, "ErrorCode")
    if code is None:
        code = _field(data, "status")
    desc = _field(data, "ErrorDesc")
    return VdxpClientError(
        str(code) if code is not None else f"HTTP_{http_status}",
        str(desc) if desc is not None else "",
        http_status,
        data,
    )


class VdxpClient:
    """One system's connection to the platform (or to a hub that speaks its API).

    ``http`` may be an existing :class:`httpx.Client` (it is then not closed by
    :meth:`close`); ``clock`` returns the current time (tests). ``clock_zone`` is the zone
    the timestamps are written in (the SDK's format has none): Vietnam's unless the hub
    registered this system with another ``--clock-zone``. The secret is never shown.
    """

    def __init__(
        self,
        endpoint: str,
        system_id: str,
        secret: str,
        *,
        legacy_fixed_timestamp: bool = False,
        http: httpx.Client | None = None,
        timeout: float = 30,
        clock: Callable[[], datetime] | None = None,
        clock_zone: tzinfo = VN_TZ,
    ) -> None:
        self.endpoint = endpoint.rstrip("/")
        self.system_id = system_id
        self._secret = secret
        self.legacy_fixed_timestamp = legacy_fixed_timestamp
        self._zone = clock_zone
        self._clock = clock or (lambda: datetime.now(clock_zone))
        self._fixed_timestamp = (
            format_timestamp(self._clock(), clock_zone) if legacy_fixed_timestamp else None
        )
        self._owns_http = http is None
        self._http = http if http is not None else httpx.Client(timeout=timeout)
        self._timeout = timeout

    def __repr__(self) -> str:
        return (
            f"VdxpClient(endpoint={self.endpoint!r}, system_id={self.system_id!r}, "
            f"secret='***', legacy_fixed_timestamp={self.legacy_fixed_timestamp!r})"
        )

    def close(self) -> None:
        if self._owns_http:
            self._http.close()

    def __enter__(self) -> VdxpClient:
        return self

    def __exit__(
        self,
        exc_type: type[BaseException] | None,
        exc: BaseException | None,
        tb: TracebackType | None,
    ) -> None:
        self.close()

    # ------------------------------------------------------------------ plumbing

    def _timestamp(self) -> str:
        if self._fixed_timestamp is not None:
            return self._fixed_timestamp
        return format_timestamp(self._clock(), self._zone)

    def _send(
        self,
        method: Literal["GET", "POST"],
        operation: str,
        params: Mapping[str, str] | None = None,
        *,
        content_type: str = JSON,
        body: bytes = b"",
    ) -> httpx.Response:
        headers = sign_headers(
            self.system_id,
            self._secret,
            dict(params or {}),
            content_type=content_type,
            timestamp=self._timestamp(),
        )
        # Encoded here: httpx would refuse non-ASCII text (the SDK sends it as bytes too).
        raw_headers = [(k.encode("ascii"), v.encode("utf-8")) for k, v in headers.items()]
        try:
            return self._http.request(
                method,
                f"{self.endpoint}/{operation}",
                headers=raw_headers,
                content=body if method == "POST" else None,
                timeout=self._timeout,
            )
        except httpx.HTTPError as exc:
            raise VdxpClientError("TRANSPORT", str(exc) or type(exc).__name__) from exc

    def _json(self, response: httpx.Response) -> dict[str, Any]:
        try:
            data = response.json()
        except (ValueError, UnicodeDecodeError):
            data = None
        if not isinstance(data, dict):
            if response.is_error:
                raise VdxpClientError(
                    f"HTTP_{response.status_code}",
                    response.text[:500],
                    response.status_code,
                )
            raise VdxpClientError(
                "BAD_RESPONSE", "the answer is not a JSON object", response.status_code
            )
        if response.is_error or _is_error(data):
            raise _error_from(data, response.status_code)
        return data

    def _call(
        self,
        method: Literal["GET", "POST"],
        operation: str,
        params: Mapping[str, str] | None = None,
        *,
        content_type: str = JSON,
        body: bytes = b"",
    ) -> dict[str, Any]:
        response = self._send(method, operation, params, content_type=content_type, body=body)
        return self._json(response)

    # ------------------------------------------------------------------ documents

    def send_edoc(
        self,
        package: bytes,
        *,
        from_code: str,
        message_type: str = "edoc",
        to: list[str] | None = None,
        hash_form: Literal["sdk", "hex"] = "sdk",
    ) -> dict[str, Any]:
        """``POST /sendEdoc``: the package's bytes + ``\\r\\n`` as octet-stream.

        ``hash_form="sdk"`` prints ``hash-file`` like SDK 2.0.1 (no zero-padding);
        ``"hex"`` sends the correct 64-digit form. The answer's ``DocId`` is the platform id.
        """
        correct, sdk = hash_file_forms(hashlib.sha256(package).digest())
        params: dict[str, str] = {
            "from": from_code,
            "servicetype": "eDoc",
            "messagetype": message_type,
        }
        if to is not None:
            params["to"] = json.dumps(list(to), ensure_ascii=False, separators=(",", ":"))
        params["hash-file"] = sdk if hash_form == "sdk" else correct
        return self._call(
            "POST", "sendEdoc", params, content_type=OCTET_STREAM, body=package + b"\r\n"
        )

    def get_received_list(self, message_type: str = "edoc") -> dict[str, Any]:
        """``POST /getReceivedEdocList``: documents (``edoc``) or statuses (``status``) waiting."""
        return self._call(
            "POST",
            "getReceivedEdocList",
            {"servicetype": "eDoc", "messagetype": message_type},
        )

    def get_edoc(self, doc_id: str) -> bytes:
        """``POST /getEdoc``: the package, decoded from the answer's base64 ``data``."""
        data = self._call("POST", "getEdoc", {"docId": doc_id})
        encoded = _field(data, "data")
        if not isinstance(encoded, str):
            raise VdxpClientError("BAD_RESPONSE", "getEdoc answer has no base64 `data`", 200, data)
        try:
            return base64.b64decode("".join(encoded.split()), validate=True)
        except (binascii.Error, ValueError) as exc:
            raise VdxpClientError(
                "BAD_RESPONSE", f"getEdoc `data` is not base64: {exc}", 200, data
            ) from exc

    def download_edoc(self, doc_id: str) -> bytes:
        """``GET /downloadEdoc``: the package as a raw stream."""
        response = self._send("GET", "downloadEdoc", {"docId": doc_id})
        media = response.headers.get("content-type", "").split(";", 1)[0].strip().lower()
        if response.is_error or media == JSON:
            self._json(response)  # raises on an error answer
        return response.content

    def update_status(self, doc_id: str, status: str = "done") -> dict[str, Any]:
        """``POST /updateStatus``: acknowledge an item (``done``, ``fail``, ``processing``)."""
        return self._call("POST", "updateStatus", {"docid": doc_id, "status": status})

    def get_sent_list(
        self,
        message_type: str = "edoc",
        doc_id: str | None = None,
        *,
        service_type: str = "eDoc",
    ) -> dict[str, Any]:
        """``POST /getSentEdocList``: platform-level delivery state of what this system sent."""
        params = {"servicetype": service_type, "messagetype": message_type}
        if doc_id is not None:
            params["docId"] = doc_id
        return self._call("POST", "getSentEdocList", params)

    def count_receive_edoc(self) -> dict[str, Any]:
        """``GET /countReceiveEdoc``: ``count`` of documents waiting."""
        return self._call("GET", "countReceiveEdoc")

    def count_receive_status(self) -> dict[str, Any]:
        """``GET /countReceiveStatus``: ``count`` of status packages waiting."""
        return self._call("GET", "countReceiveStatus")

    # ------------------------------------------------------------------ agencies

    def get_agencies_list(self) -> dict[str, Any]:
        """``POST /getAgenciesList``: the agency directory (``data[]``)."""
        return self._call("POST", "getAgenciesList")

    def get_agencies_list_qd20(self, level: int | str | None = None) -> dict[str, Any]:
        """``POST /getAgenciesListQD20``: agencies with QĐ 20/2020 codes, optionally one level."""
        params = {"level": str(level)} if level is not None else None
        return self._call("POST", "getAgenciesListQD20", params)

    def get_synchronize_unit(self, since_version: int | None = None) -> dict[str, Any]:
        """``POST /getSynchronizeUnit``: incremental directory synchronisation; with
        ``since_version`` only the agencies changed after that version (lienthong hubs)."""
        params = None if since_version is None else {"sinceVersion": str(since_version)}
        return self._call("POST", "getSynchronizeUnit", params)

    def register_agency(self, data: Mapping[str, Any]) -> dict[str, Any]:
        """``POST /registerAgency`` with a JSON body (``id``, ``pcode``, ``code``, ``name``…)."""
        body = json.dumps(dict(data), ensure_ascii=False, separators=(",", ":")).encode("utf-8")
        return self._call("POST", "registerAgency", None, body=body)

    def delete_agency(self, code: str) -> dict[str, Any]:
        """``POST /deleteAgency``: unregister the agency ``code``."""
        return self._call("POST", "deleteAgency", {"AgencyCode": code})
