"""``/docs`` and ``/redoc`` work on a network without internet: every script, style and icon
they load is served by the hub itself (from an installed package), none from a CDN."""

from __future__ import annotations

import re
from typing import Any

from fastapi.testclient import TestClient

from lienthong.hub.http.app import create_app


def _references(html: str) -> list[str]:
    return re.findall(r"""(?:src|href|url)\s*[=:]\s*['"]([^'"]+)['"]""", html)


def test_swagger_ui_loads_only_what_the_hub_serves(hub: Any) -> None:
    with TestClient(create_app(hub, start_worker=False)) as http:
        page = http.get("/docs")
        assert page.status_code == 200
        refs = _references(page.text)
        assert "/docs/assets/swagger-ui-bundle.js" in refs
        assert "/docs/assets/swagger-ui.css" in refs
        assert not [r for r in refs if "//" in r], "nothing from another host"
        assert "cdn" not in page.text.lower()
        for ref in refs:
            if ref.startswith("/docs/assets/"):
                got = http.get(ref)
                assert got.status_code == 200, ref
                assert len(got.content) > 1000, ref
        js = http.get("/docs/assets/swagger-ui-bundle.js")
        assert js.headers["content-type"].startswith("text/javascript")
        assert b"isOAS31" in js.content  # Swagger UI 5: renders FastAPI's OpenAPI 3.1
        assert http.get("/openapi.json").json()["openapi"].startswith("3.1")


def test_redoc_loads_only_what_the_hub_serves(hub: Any) -> None:
    with TestClient(create_app(hub, start_worker=False)) as http:
        page = http.get("/redoc")
        assert page.status_code == 200
        refs = _references(page.text)
        assert "/docs/assets/redoc.standalone.js" in refs
        assert not [r for r in refs if "//" in r]
        assert "fonts.googleapis" not in page.text


def test_only_the_listed_assets_are_served(hub: Any) -> None:
    with TestClient(create_app(hub, start_worker=False)) as http:
        assert http.get("/docs/assets/index.html").status_code == 404
        assert http.get("/docs/assets/..%2F__init__.py").status_code == 404
