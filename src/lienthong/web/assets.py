"""Static files: our own (``web/static``) and third-party browser libraries installed by
``npm ci`` into ``node_modules`` at the repository root (never committed, never a CDN).

``LIENTHONG_NODE_MODULES`` names another ``node_modules`` folder (an installed package)."""

from __future__ import annotations

import os
from pathlib import Path

from fastapi import FastAPI, HTTPException
from fastapi.responses import FileResponse

STATIC = Path(__file__).resolve().parent / "static"
#: URL path → file inside node_modules
VENDORED = {"htmx.min.js": Path("htmx.org") / "dist" / "htmx.min.js"}


def node_modules() -> Path:
    override = os.environ.get("LIENTHONG_NODE_MODULES")
    if override:
        return Path(override)
    return Path(__file__).resolve().parents[3] / "node_modules"


def mount(app: FastAPI) -> None:
    """``/static/<name>`` (ours) and ``/vendor/<name>`` (from npm)."""

    @app.get("/static/{name}", include_in_schema=False)
    def static(name: str) -> FileResponse:
        path = STATIC / name
        if "/" in name or name.startswith(".") or not path.is_file():
            raise HTTPException(404)
        return FileResponse(path, headers={"Cache-Control": "public, max-age=3600"})

    @app.get("/vendor/{name}", include_in_schema=False)
    def vendor(name: str) -> FileResponse:
        rel = VENDORED.get(name)
        if rel is None or not (node_modules() / rel).is_file():
            raise HTTPException(404)
        return FileResponse(
            node_modules() / rel,
            media_type="text/javascript",
            headers={"Cache-Control": "public, max-age=86400"},
        )
