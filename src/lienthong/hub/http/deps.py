"""What the routes share: the running hub, the caller (a system by its API key or by its
signed ``XroadVnpt-*`` headers, an operator by its key), request bodies spooled to disk, and
running blocking work off the event loop."""

from __future__ import annotations

import hashlib
import logging
import tempfile
from collections.abc import Callable
from dataclasses import dataclass
from datetime import timedelta
from pathlib import Path
from typing import Annotated, Any, TypeVar

from fastapi import Depends, Header, Request
from pydantic import BaseModel, ValidationError
from sqlalchemy.exc import IntegrityError
from starlette.concurrency import run_in_threadpool
from starlette.requests import ClientDisconnect

from lienthong.hub import authn
from lienthong.hub.errors import HubError
from lienthong.hub.http.limits import SMALL_BODY_BYTES
from lienthong.hub.http.limits import too_large as small_too_large
from lienthong.hub.intake import Body
from lienthong.hub.models import Operator, System
from lienthong.hub.runtime import Hub
from lienthong.protocol.xroad import VerifiedRequest

log = logging.getLogger("lienthong.hub")
T = TypeVar("T")


def hub_of(request: Request) -> Hub:
    hub: Hub = request.app.state.hub
    return hub


HubDep = Annotated[Hub, Depends(hub_of)]


async def in_thread(fn: Callable[..., T], *args: Any, **kwargs: Any) -> T:
    """Blocking work (database, files) in the thread pool, from an ``async`` route."""
    return await run_in_threadpool(fn, *args, **kwargs)


def too_large(limit: int) -> HubError:
    return HubError(
        "HUB_TOO_LARGE",
        f"Gói tin vượt giới hạn {limit} byte",
        f"The package exceeds the limit of {limit} bytes",
        status=413,
    )


# ----------------------------------------------------------------------------- callers


def _system(hub: HubDep, authorization: Annotated[str | None, Header()] = None) -> System:
    key = authn.bearer_key(authorization)
    return hub.read(authn.system_for_key, api_key=key)


def _operator(hub: HubDep, authorization: Annotated[str | None, Header()] = None) -> Operator:
    key = authn.bearer_key(authorization)
    return hub.read(authn.operator_for_key, api_key=key)


#: A connected system, by ``Authorization: Bearer <API key>`` (REST API v1).
SystemCaller = Annotated[System, Depends(_system)]
#: An operator, by its own bearer key (admin API).
OperatorCaller = Annotated[Operator, Depends(_operator)]


@dataclass(frozen=True)
class SignedCall:
    """A national-platform request whose ``XroadVnpt-*`` signature holds."""

    system: System
    verified: VerifiedRequest


def _signed(request: Request, hub: HubDep) -> SignedCall:
    window = timedelta(seconds=hub.settings.signature_window_seconds)
    try:
        system, verified = hub.run_once(
            authn.authenticate_signed,
            headers=dict(request.headers),
            path=request.url.path,
            window=window,
        )
    except IntegrityError:  # a concurrent identical signature lost the insert race: a replay
        raise authn.replayed() from None
    return SignedCall(system, verified)


#: A system, by the national platform's signed headers.
SignedCaller = Annotated[SignedCall, Depends(_signed)]


# ----------------------------------------------------------------------------- bodies

M = TypeVar("M", bound=BaseModel)


async def read_json(request: Request, model: type[M], *, default: M | None = None) -> M:
    """A small JSON body (at most :data:`SMALL_BODY_BYTES`), read by the route once its
    caller is authenticated — never by FastAPI before the dependencies ran — and checked
    against ``model`` (422 ``REQUEST_INVALID``). An empty body is ``default`` if given."""
    declared = request.headers.get("content-length")
    if declared is not None and declared.isdigit() and int(declared) > SMALL_BODY_BYTES:
        raise small_too_large(SMALL_BODY_BYTES)
    data = bytearray()
    async for chunk in request.stream():
        data += chunk
        if len(data) > SMALL_BODY_BYTES:
            raise small_too_large(SMALL_BODY_BYTES)
    if not data.strip() and default is not None:
        return default
    try:
        return model.model_validate_json(bytes(data))
    except ValidationError as exc:
        problems = [request_problem(e, skip=0, nowhere="body") for e in exc.errors()]
        first = problems[0] if problems else request_problem({}, nowhere="body")
        raise HubError(
            first["code"],
            first["message_vi"],
            first["message_en"],
            field=first["field"],
            status=422,
            details={"problems": problems},
        ) from None


def request_problem(error: Any, *, skip: int = 1, nowhere: str = "request") -> dict[str, str]:
    """One problem of a request refused by its declared shape, in both languages (the
    validator's own English text goes to ``detail`` only). ``skip``: leading parts of the
    error's location that are no field (FastAPI's ``body``/``query``); ``nowhere``: the
    field named when the error has no location."""
    field = ".".join(str(p) for p in error.get("loc", ())[skip:]) or nowhere
    expected = (error.get("ctx") or {}).get("expected")
    if error.get("type") == "literal_error" and expected:
        one_of = expected.replace("'", "").replace(" or ", ", ")
        vi = f"Giá trị không hợp lệ ở {field}: phải là một trong {one_of}"
        en = f"Invalid value at {field}: must be one of {one_of}"
    elif error.get("type") == "missing":
        vi, en = f"Thiếu trường {field}", f"The field {field} is missing"
    else:
        vi, en = f"Giá trị không hợp lệ ở {field}", f"Invalid value at {field}"
    return {
        "code": "REQUEST_INVALID",
        "field": field,
        "message_vi": vi,
        "message_en": en,
        "detail": str(error.get("msg", "")),
    }


async def spool(hub: Hub, request: Request, *, slack: int = 0) -> Body:
    """Stream the request body to a temporary file, hashing it, refusing anything over the
    size limit before and while reading (413). ``slack`` admits the extra ``\\r\\n`` the
    official SDK appends (the caller checks the size after trimming)."""
    limit = hub.settings.max_package_bytes
    declared = request.headers.get("content-length")
    if declared is not None and declared.isdigit() and int(declared) > limit + slack:
        raise too_large(limit)
    h = hashlib.sha256()  # over everything but the last two bytes seen so far
    tail = b""
    size = 0
    fh = tempfile.NamedTemporaryFile(dir=hub.tmp_dir, prefix="body-", delete=False)  # noqa: SIM115
    path = Path(fh.name)
    try:
        with fh:
            async for chunk in request.stream():
                if not chunk:
                    continue
                size += len(chunk)
                if size > limit + slack:
                    raise too_large(limit)
                fh.write(chunk)
                data = tail + chunk
                h.update(data[:-2])
                tail = data[-2:]
    except ClientDisconnect:
        path.unlink(missing_ok=True)
        log.info("request.disconnected", extra={"path": request.url.path, "bytes": size})
        raise HubError(
            "REQUEST_INCOMPLETE",
            "Bên gửi ngắt kết nối trước khi gửi hết gói tin",
            "The client disconnected before the whole package arrived",
            status=400,
        ) from None
    except BaseException:
        path.unlink(missing_ok=True)
        raise
    trimmed = h.hexdigest() if tail == b"\r\n" else None
    h.update(tail)
    return Body(path=path, sha256=h.hexdigest(), size=size, trimmed_sha256=trimmed)
