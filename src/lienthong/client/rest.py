"""Python client for the hub's REST API v1 (bearer API key)."""

from __future__ import annotations

from typing import Any

import httpx


class HubClientError(Exception):
    """What the hub answered when it refused a call (its ``error`` body: stable code, field
    at fault, messages, details such as every problem of an invalid package), or why it
    could not be reached (``http_status`` 0, code ``HUB_UNREACHABLE``)."""

    def __init__(
        self,
        code: str,
        message_vi: str,
        message_en: str,
        http_status: int,
        *,
        field: str = "",
        details: dict[str, Any] | None = None,
        url: str = "",
    ) -> None:
        super().__init__(f"[{code}] {message_en}")
        self.code = code
        self.message_vi = message_vi
        self.message_en = message_en
        self.http_status = http_status
        self.field = field
        self.details = details or {}
        self.url = url

    @property
    def refused(self) -> bool:
        """The hub answered and said no (4xx) — as opposed to no answer or a server error."""
        return 400 <= self.http_status < 500

    def to_dict(self) -> dict[str, Any]:
        out: dict[str, Any] = {
            "code": self.code,
            "field": self.field,
            "message_vi": self.message_vi,
            "message_en": self.message_en,
            "http_status": self.http_status,
        }
        if self.details:
            out["details"] = self.details
        if self.url:
            out["url"] = self.url
        return out


class HubClient:
    def __init__(
        self,
        base_url: str,
        api_key: str,
        *,
        http: httpx.Client | None = None,
        timeout: float = 60.0,
    ) -> None:
        self._root = base_url.rstrip("/")
        self._base = self._root + "/api/v1"
        self._headers = {"Authorization": f"Bearer {api_key}"}
        self._own = http is None
        self._http = http or httpx.Client(timeout=timeout)

    def __repr__(self) -> str:
        return f"HubClient({self._base!r})"

    def close(self) -> None:
        if self._own:
            self._http.close()

    def __enter__(self) -> HubClient:
        return self

    def __exit__(self, *_exc: object) -> None:
        self.close()

    def _request(self, method: str, path: str, **kwargs: Any) -> httpx.Response:
        headers = {**self._headers, **kwargs.pop("headers", {})}
        url = self._base + path
        try:
            response = self._http.request(method, url, headers=headers, **kwargs)
        except httpx.HTTPError as exc:
            reason = str(exc) or type(exc).__name__
            raise HubClientError(
                "HUB_UNREACHABLE",
                f"Không kết nối được trục tại {self._root} ({reason}); kiểm tra --hub hoặc "
                "biến LIENTHONG_HUB_URL",
                f"Cannot reach the hub at {self._root} ({reason}); check --hub or "
                "LIENTHONG_HUB_URL",
                0,
                url=url,
            ) from None
        if response.status_code >= 400:
            try:
                error = response.json()["error"]
                raise HubClientError(
                    error["code"],
                    error["message_vi"],
                    error["message_en"],
                    response.status_code,
                    field=error.get("field") or "",
                    details=error.get("details") or {},
                    url=url,
                )
            except (ValueError, KeyError, TypeError):
                raise HubClientError(
                    f"HTTP_{response.status_code}",
                    f"Trục trả lời HTTP {response.status_code} tại {url}: {response.text[:200]}",
                    f"The hub answered HTTP {response.status_code} at {url}: {response.text[:200]}",
                    response.status_code,
                    url=url,
                ) from None
        return response

    def send(self, package: bytes, *, kind: str | None = None) -> dict[str, Any]:
        params = {"kind": kind} if kind else None
        r = self._request(
            "POST",
            "/packages",
            content=package,
            params=params,
            headers={**self._headers, "Content-Type": "application/xml"},
        )
        data: dict[str, Any] = r.json()
        return data

    def inbox(
        self, *, kind: str | None = None, after: int = 0, limit: int = 100
    ) -> list[dict[str, Any]]:
        params: dict[str, Any] = {"after": after, "limit": limit}
        if kind:
            params["kind"] = kind
        items: list[dict[str, Any]] = self._request("GET", "/inbox", params=params).json()["items"]
        return items

    def inbox_all(self, *, kind: str | None = None) -> list[dict[str, Any]]:
        """Every item of the inbox, page after page."""
        items: list[dict[str, Any]] = []
        params: dict[str, Any] = {"after": 0, "limit": 1000}
        if kind:
            params["kind"] = kind
        while True:
            page = self._request("GET", "/inbox", params=params).json()
            items.extend(page["items"])
            if page.get("next_after") is None:
                return items
            params["after"] = page["next_after"]

    def fetch(self, message_id: str, *, as_sent: bool = False) -> bytes:
        """The package as delivered (with its trace), or exactly as its sender sent it."""
        params = {"as_sent": "true"} if as_sent else None
        return self._request("GET", f"/messages/{message_id}", params=params).content

    def attachment(self, message_id: str, index: int) -> bytes:
        return self._request("GET", f"/messages/{message_id}/attachments/{index}").content

    def ack(self, message_id: str, *, ok: bool = True, reason: str | None = None) -> Any:
        return self._request(
            "POST", f"/messages/{message_id}/ack", json={"ok": ok, "reason": reason}
        ).json()

    def status(
        self,
        message_id: str,
        *,
        agency: str | None = None,
        status_code: str,
        description: str = "",
        staff: dict[str, str] | None = None,
        recipient: str | None = None,
    ) -> dict[str, Any]:
        """Report a processing status; ``agency`` may be left out when the system serves
        exactly one party of the document (the hub picks it)."""
        body: dict[str, Any] = {
            "status_code": status_code,
            "description": description,
            "staff": staff,
        }
        if agency:
            body["agency"] = agency
        if recipient:
            body["recipient"] = recipient
        data: dict[str, Any] = self._request(
            "POST", f"/messages/{message_id}/status", json=body
        ).json()
        return data

    def timeline(self, message_id: str) -> dict[str, Any]:
        data: dict[str, Any] = self._request("GET", f"/messages/{message_id}/timeline").json()
        return data

    def sent(self, *, kind: str | None = None) -> list[dict[str, Any]]:
        params = {"kind": kind} if kind else None
        data: list[dict[str, Any]] = self._request("GET", "/sent", params=params).json()
        return data

    def agencies(self, q: str = "", *, limit: int = 100) -> list[dict[str, Any]]:
        data: list[dict[str, Any]] = self._request(
            "GET", "/agencies", params={"q": q, "limit": limit}
        ).json()
        return data
