"""The browsable API documentation (``/docs`` Swagger UI, ``/redoc``) with its scripts and
styles served by the hub itself, never from a CDN: a hub on a government network without
internet shows them all the same. The assets come from an installed package
(``fastapi-offline``, Swagger UI 5 and ReDoc 2), not from files in this repository."""

from __future__ import annotations

from pathlib import Path

import fastapi_offline
from fastapi import APIRouter, Request
from fastapi.openapi.docs import get_redoc_html, get_swagger_ui_html
from fastapi.responses import FileResponse, HTMLResponse

from lienthong.hub.errors import not_found

ASSETS = Path(fastapi_offline.__file__).resolve().parent / "static"
#: the files served under /docs/assets/ (nothing else of the folder)
_FILES = {
    "swagger-ui-bundle.js": "text/javascript",
    "swagger-ui.css": "text/css",
    "redoc.standalone.js": "text/javascript",
    "favicon.png": "image/png",
}
TITLE = "lienthong hub — API"

router = APIRouter(include_in_schema=False)


def _asset(request: Request, name: str) -> str:
    return f"{request.scope.get('root_path', '')}/docs/assets/{name}"


@router.get("/docs")
def swagger_ui(request: Request) -> HTMLResponse:
    return get_swagger_ui_html(
        openapi_url=f"{request.scope.get('root_path', '')}/openapi.json",
        title=TITLE,
        swagger_js_url=_asset(request, "swagger-ui-bundle.js"),
        swagger_css_url=_asset(request, "swagger-ui.css"),
        swagger_favicon_url=_asset(request, "favicon.png"),
    )


@router.get("/redoc")
def redoc(request: Request) -> HTMLResponse:
    return get_redoc_html(
        openapi_url=f"{request.scope.get('root_path', '')}/openapi.json",
        title=TITLE,
        redoc_js_url=_asset(request, "redoc.standalone.js"),
        redoc_favicon_url=_asset(request, "favicon.png"),
        with_google_fonts=False,
    )


@router.get("/docs/assets/{name}")
def asset(name: str) -> FileResponse:
    if name not in _FILES:
        raise not_found("tệp", "file", name)
    return FileResponse(
        ASSETS / name,
        media_type=_FILES[name],
        headers={"Cache-Control": "public, max-age=86400", "X-Content-Type-Options": "nosniff"},
    )
