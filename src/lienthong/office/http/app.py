"""The office's web application: server-rendered pages (Jinja2 + htmx), the hub's push
callback, health. Views are thin: they authenticate, check CSRF, call one service function
in a unit of work (the edge commits) and render or redirect.

Every page needs a session; every form carries the session's CSRF token (htmx sends it as
a header); every document is looked up through the services' tenant- and role-aware
queries, so another agency's document answers 404.
"""

from __future__ import annotations

import contextlib
import logging
from collections.abc import AsyncIterator, Callable
from datetime import date, datetime
from pathlib import Path
from typing import Any, TypeVar
from urllib.parse import quote

from fastapi import FastAPI, Request
from fastapi.responses import HTMLResponse, JSONResponse, RedirectResponse, Response
from sqlalchemy.orm import Session
from starlette.concurrency import run_in_threadpool
from starlette.datastructures import FormData, UploadFile

from lienthong.office import accounts, books, hubsync, incoming, notify, tenants
from lienthong.office.accounts import Principal
from lienthong.office.errors import OfficeError, invalid
from lienthong.office.http import i18n_en  # noqa: F401 - registers the English catalogue
from lienthong.office.models import DocState, Document, Role
from lienthong.office.runtime import Office
from lienthong.office.worker import Worker
from lienthong.protocol.push import PushSignatureError
from lienthong.web import assets
from lienthong.web.i18n import LANG_COOKIE, LANGUAGES, today_vn, translator
from lienthong.web.security import CSRF_FIELD, new_token, same_token
from lienthong.web.session import (
    LOGIN_CSRF_COOKIE,
    CsrfRefused,
    LoginRequired,
    check_csrf,
    clear_session_cookie,
    language,
    session_token,
    set_session_cookie,
)
from lienthong.web.templating import environment

log = logging.getLogger("lienthong.office.http")
T = TypeVar("T")
TEMPLATES = Path(__file__).resolve().parent.parent / "templates"
MAX_SCAN_BYTES = 50 * 1024 * 1024
#: the largest package a push may carry (the hub's own default limit)
MAX_PUSH_BYTES = 100 * 1024 * 1024

PRIORITY_LABELS = {
    0: ("Thường", "Normal"),
    1: ("Khẩn", "Urgent"),
    2: ("Thượng khẩn", "Very urgent"),
    3: ("Hỏa tốc", "Immediate"),
    4: ("Hỏa tốc hẹn giờ", "Immediate, timed"),
}
VERDICT_LABELS = {
    "valid": ("Chữ ký số hợp lệ", "Valid digital signatures"),
    "invalid": ("Chữ ký số KHÔNG hợp lệ", "INVALID digital signatures"),
    "unknown": ("Chưa xác định được chữ ký số", "Signatures could not be decided"),
    "unsigned": ("Không có tệp PDF ký số", "No signed PDF"),
    "paper": ("Văn bản giấy", "Paper document"),
}
PART_LABELS = {
    "lead": ("Chủ trì", "Lead"),
    "cooperate": ("Phối hợp", "Co-operating"),
    "info": ("Để biết", "For information"),
}
OUTBOX_LABELS = {
    "pending": ("đang chờ gửi", "waiting to be sent"),
    "sent": ("đã gửi", "sent"),
    "dead": ("không gửi được", "could not be sent"),
}
ROLE_LABELS = {
    "clerk": ("Văn thư", "Clerk"),
    "leader": ("Lãnh đạo", "Leader"),
    "officer": ("Chuyên viên", "Officer"),
    "admin": ("Quản trị", "Administrator"),
}


def create_app(office: Office, *, start_worker: bool = True) -> FastAPI:
    env = environment(TEMPLATES)

    @contextlib.asynccontextmanager
    async def lifespan(_app: FastAPI) -> AsyncIterator[None]:
        background = Worker(office)
        if start_worker:
            background.start()
        yield
        background.stop()

    app = FastAPI(
        title="lienthong office", docs_url=None, redoc_url=None, openapi_url=None, lifespan=lifespan
    )
    app.state.office = office
    assets.mount(app)
    settings = office.settings

    # ------------------------------------------------------------------ plumbing

    async def work(fn: Callable[[Session], T]) -> T:
        """One unit of work in the thread pool, committed at its end."""
        return await run_in_threadpool(office.run_once, fn)

    async def who_is(request: Request) -> Principal:
        token = session_token(request)
        found = await work(
            lambda s: accounts.principal(s, token=token, session_minutes=settings.session_minutes)
        )
        if found is None:
            raise LoginRequired()
        return found

    async def checked_form(request: Request, who: Principal) -> FormData:
        form = await request.form(max_part_size=MAX_SCAN_BYTES)
        check_csrf(request, form, who.csrf_token)
        return form

    def render(
        request: Request, name: str, who: Principal | None, status: int = 200, **ctx: Any
    ) -> HTMLResponse:
        lang = language(request)
        _ = translator(lang)

        def label(table: dict[Any, tuple[str, str]], key: Any) -> str:
            vi, en = table.get(key, (str(key), str(key)))
            return en if lang == "en" else vi

        html = env.get_template(name).render(
            request=request,
            who=who,
            lang=lang,
            _=_,
            label=label,
            STATES=incoming.STATE_LABELS,
            ACTIONS=incoming.ACTION_LABELS,
            PRIORITIES=PRIORITY_LABELS,
            VERDICTS=VERDICT_LABELS,
            PARTS=PART_LABELS,
            ROLES=ROLE_LABELS,
            OUTBOX=OUTBOX_LABELS,
            CHANGES=incoming.CHANGE_LABELS,
            csrf_field=CSRF_FIELD,
            today=today_vn(),
            path=request.url.path,
            **ctx,
        )
        return HTMLResponse(html, status_code=status, headers={"Cache-Control": "no-store"})

    def back_to(url: str) -> RedirectResponse:
        return RedirectResponse(url, status_code=303)

    # ------------------------------------------------------------------ errors

    @app.exception_handler(LoginRequired)
    async def _login_required(request: Request, _exc: LoginRequired) -> Response:
        if request.method == "GET" and "hx-request" not in request.headers:
            target = quote(
                request.url.path + (f"?{request.url.query}" if request.url.query else "")
            )
            return back_to(f"/login?next={target}")
        return JSONResponse(
            {"error": {"code": "LOGIN_REQUIRED", "message_vi": "Cần đăng nhập"}}, status_code=401
        )

    @app.exception_handler(CsrfRefused)
    async def _csrf(request: Request, _exc: CsrfRefused) -> Response:
        log.info("csrf.refused", extra={"path": request.url.path})
        error = OfficeError(
            "CSRF_REFUSED",
            "Yêu cầu thiếu mã chống giả mạo (CSRF); hãy tải lại trang",
            "The request lacks its anti-forgery (CSRF) token; reload the page",
            status=403,
        )
        return render(request, "error.html", None, status=403, error=error)

    @app.exception_handler(OfficeError)
    async def _office_error(request: Request, exc: OfficeError) -> Response:
        who = None
        with contextlib.suppress(LoginRequired):
            who = await who_is(request)
        return render(request, "error.html", who, status=exc.status, error=exc)

    # ------------------------------------------------------------------ health, language

    @app.get("/healthz", include_in_schema=False)
    def healthz() -> dict[str, str]:
        return {"status": "ok", "part": "office"}

    @app.get("/lang/{code}")
    def set_language(code: str, next: str = "/") -> Response:
        response = back_to(next if next.startswith("/") and not next.startswith("//") else "/")
        if code in LANGUAGES:
            response.set_cookie(LANG_COOKIE, code, max_age=365 * 86400, samesite="lax")
        return response

    # ------------------------------------------------------------------ login

    @app.get("/login")
    async def login_form(request: Request, next: str = "/") -> Response:
        token = new_token()
        response = render(request, "login.html", None, login_csrf=token, next=next, error=None)
        response.set_cookie(
            LOGIN_CSRF_COOKIE,
            token,
            httponly=True,
            samesite="strict",
            secure=settings.secure_cookies,
        )
        return response

    @app.post("/login")
    async def login(request: Request) -> Response:
        form = await request.form()
        if not same_token(request.cookies.get(LOGIN_CSRF_COOKIE, ""), _text(form, CSRF_FIELD)):
            raise CsrfRefused()
        username, password = _text(form, "username"), _text(form, "password")
        nxt = _text(form, "next") or "/"
        if not nxt.startswith("/") or nxt.startswith("//"):
            nxt = "/"
        remote = request.client.host if request.client else ""
        outcome = await work(
            lambda s: accounts.login(
                s,
                username=username,
                password=password,
                session_minutes=settings.session_minutes,
                max_failed=settings.max_failed_logins,
                lockout_minutes=settings.lockout_minutes,
                remote=remote,
            )
        )
        if outcome.error is not None or outcome.token is None:
            token = new_token()
            response = render(
                request,
                "login.html",
                None,
                status=outcome.error.status if outcome.error else 401,
                login_csrf=token,
                next=nxt,
                error=outcome.error,
                username=username,
            )
            response.set_cookie(
                LOGIN_CSRF_COOKIE,
                token,
                httponly=True,
                samesite="strict",
                secure=settings.secure_cookies,
            )
            return response
        done = back_to(nxt)
        set_session_cookie(
            done,
            outcome.token,
            secure=settings.secure_cookies,
            max_age=settings.session_minutes * 60,
        )
        done.delete_cookie(LOGIN_CSRF_COOKIE)
        return done

    @app.post("/logout")
    async def logout(request: Request) -> Response:
        who = await who_is(request)
        await checked_form(request, who)
        token = session_token(request) or ""
        await work(lambda s: accounts.logout(s, token=token))
        response = back_to("/login")
        clear_session_cookie(response)
        return response

    @app.get("/account/password")
    async def password_form(request: Request) -> Response:
        who = await who_is(request)
        return render(request, "password.html", who, done=False)

    @app.post("/account/password")
    async def password_change(request: Request) -> Response:
        who = await who_is(request)
        form = await checked_form(request, who)
        current, new, again = _text(form, "current"), _text(form, "new"), _text(form, "again")
        if new != again:
            raise invalid(
                "PASSWORD_MISMATCH",
                "Hai lần nhập mật khẩu mới không khớp",
                "The two new passwords differ",
                "again",
            )
        token = session_token(request)
        await work(
            lambda s: accounts.change_password(
                s, user_id=who.user_id, current=current, new=new, keep_token=token
            )
        )
        return render(request, "password.html", who, done=True)

    # ------------------------------------------------------------------ my work, lists

    @app.get("/")
    async def home(request: Request) -> Response:
        who = await who_is(request)

        def load(s: Session) -> dict[str, Any]:
            return {
                "work": incoming.my_work(s, who=who),
                "registers": tenants.registers(s, agency=who.agency_code),
                "saved": incoming.saved_filters(s, who=who),
            }

        return render(request, "home.html", who, **await work(load))

    @app.get("/documents")
    async def documents(request: Request) -> Response:
        who = await who_is(request)
        p = request.query_params
        filters = incoming.Filters(
            q=p.get("q", ""),
            state=p.get("state", ""),
            register_id=_int(p.get("register_id")),
            issuer=p.get("issuer", ""),
            arrived_from=_date(p.get("from")),
            arrived_to=_date(p.get("to")),
            overdue=p.get("overdue") == "1",
            handler_id=_int(p.get("handler_id")),
        )

        def load(s: Session) -> dict[str, Any]:
            return {
                "docs": incoming.search(s, who=who, filters=filters),
                "registers": tenants.registers(s, agency=who.agency_code),
                "people": tenants.people(s, agency=who.agency_code),
                "filters": filters,
                "saved": incoming.saved_filters(s, who=who),
                "query": request.url.query,
            }

        data = await work(load)
        name = "_results.html" if "hx-request" in request.headers else "documents.html"
        return render(request, name, who, **data)

    @app.post("/filters")
    async def save_filter(request: Request) -> Response:
        who = await who_is(request)
        form = await checked_form(request, who)
        name, query = _text(form, "name"), _text(form, "query")
        saved = await work(lambda s: incoming.save_filter(s, who=who, name=name, query=query))
        return back_to(f"/documents?{saved.query}")

    @app.post("/filters/{filter_id}/delete")
    async def delete_filter(request: Request, filter_id: int) -> Response:
        who = await who_is(request)
        await checked_form(request, who)
        await work(lambda s: incoming.delete_filter(s, who=who, filter_id=filter_id))
        return back_to("/documents")

    # ------------------------------------------------------------------ one document

    @app.get("/documents/{document_id}")
    async def document(request: Request, document_id: int) -> Response:
        who = await who_is(request)

        def load(s: Session) -> dict[str, Any]:
            doc = incoming.get(s, who=who, document_id=document_id)
            return _document_context(s, who, doc)

        return render(
            request, "document.html", who, ok=request.query_params.get("ok"), **await work(load)
        )

    @app.get("/documents/{document_id}/slip")
    async def slip(request: Request, document_id: int) -> Response:
        who = await who_is(request)

        def load(s: Session) -> dict[str, Any]:
            doc = incoming.get(s, who=who, document_id=document_id)
            return _document_context(s, who, doc)

        return render(request, "slip.html", who, **await work(load))

    @app.get("/documents/{document_id}/files/{file_id}")
    async def file(request: Request, document_id: int, file_id: int) -> Response:
        who = await who_is(request)

        def load(s: Session) -> tuple[str, str, bytes]:
            doc = incoming.get(s, who=who, document_id=document_id)
            for f in incoming.files(s, doc=doc):
                if f.id == file_id:
                    with office.blobs.open(f.sha256) as fh:
                        return f.name, f.content_type, fh.read()
            raise OfficeError("NOT_FOUND", "Không tìm thấy tệp", "No such file", status=404)

        name, ctype, content = await work(load)
        disposition = f"inline; filename*=UTF-8''{quote(name)}"
        return Response(content, media_type=ctype, headers={"Content-Disposition": disposition})

    def _document_context(s: Session, who: Principal, doc: Document) -> dict[str, Any]:
        ctx: dict[str, Any] = {
            "doc": doc,
            "history": incoming.history(s, doc=doc),
            "files": incoming.files(s, doc=doc),
            "participants": incoming.participants(s, doc=doc),
            "statuses": incoming.outbox(s, doc=doc),
            "registers": tenants.registers(s, agency=who.agency_code),
            "register_name": "",
            "signatures": _signatures(doc.signature_report),
        }
        for r in ctx["registers"]:
            if r.id == doc.register_id:
                ctx["register_name"] = r.name
        if who.role == Role.OFFICER and doc.state in incoming.HANDLING_STATES:
            ctx["colleagues"] = [
                p
                for p in tenants.people(s, agency=who.agency_code)
                if p.role == Role.OFFICER and p.id != who.user_id
            ]
        if who.role == Role.LEADER and doc.state == DocState.REGISTERED:
            ctx["people"] = [
                p for p in tenants.people(s, agency=who.agency_code) if p.role == Role.OFFICER
            ]
            ctx["units"] = tenants.units(s, agency=who.agency_code)
            ctx["previous_direction"] = incoming.last_direction(s, who=who)
        return ctx

    @app.post("/documents/{document_id}/register")
    async def register(request: Request, document_id: int) -> Response:
        who = await who_is(request)
        form = await checked_form(request, who)
        register_id = _int(_text(form, "register_id")) or 0
        await work(
            lambda s: incoming.register(
                s, who=who, document_id=document_id, register_id=register_id
            )
        )
        office.wake()
        return back_to(f"/documents/{document_id}?ok=registered")

    @app.post("/documents/bulk-register")
    async def bulk_register(request: Request) -> Response:
        who = await who_is(request)
        form = await checked_form(request, who)
        register_id = _int(_text(form, "register_id")) or 0
        ids = [i for i in (_int(v) for v in form.getlist("document_id") if isinstance(v, str)) if i]

        def run(s: Session) -> int:
            for i in ids:
                incoming.register(s, who=who, document_id=i, register_id=register_id)
            return len(ids)

        await work(run)
        office.wake()
        return back_to("/?ok=registered")

    @app.post("/documents/{document_id}/return")
    async def return_(request: Request, document_id: int) -> Response:
        who = await who_is(request)
        form = await checked_form(request, who)
        reason = _text(form, "reason")
        await work(
            lambda s: incoming.return_to_sender(s, who=who, document_id=document_id, reason=reason)
        )
        office.wake()
        return back_to(f"/documents/{document_id}?ok=returned")

    @app.post("/documents/{document_id}/change")
    async def change(request: Request, document_id: int) -> Response:
        who = await who_is(request)
        form = await checked_form(request, who)
        accept = _text(form, "decision") == "accept"
        note = _text(form, "note")
        await work(
            lambda s: incoming.decide_change(
                s, who=who, document_id=document_id, accept=accept, note=note
            )
        )
        office.wake()
        return back_to(f"/documents/{document_id}?ok=change")

    @app.post("/documents/{document_id}/direct")
    async def direct(request: Request, document_id: int) -> Response:
        who = await who_is(request)
        form = await checked_form(request, who)
        data = incoming.Direction(
            direction=_text(form, "direction"),
            lead_user_id=_int(_text(form, "lead_user_id")),
            lead_unit_id=_int(_text(form, "lead_unit_id")),
            cooperating_user_ids=_ints(form, "cooperating_user_id"),
            info_user_ids=_ints(form, "info_user_id"),
            deadline=_date(_text(form, "deadline")),
            working_days=_int(_text(form, "working_days")),
        )
        await work(lambda s: incoming.direct(s, who=who, document_id=document_id, data=data))
        office.wake()
        return back_to(f"/documents/{document_id}?ok=directed")

    @app.post("/documents/{document_id}/progress")
    async def progress(request: Request, document_id: int) -> Response:
        who = await who_is(request)
        form = await checked_form(request, who)
        note = _text(form, "note")
        await work(
            lambda s: incoming.record_progress(s, who=who, document_id=document_id, note=note)
        )
        office.wake()
        return back_to(f"/documents/{document_id}?ok=progress")

    @app.post("/documents/{document_id}/forward")
    async def forward(request: Request, document_id: int) -> Response:
        who = await who_is(request)
        form = await checked_form(request, who)
        user_id = _int(_text(form, "user_id")) or 0
        note = _text(form, "note")
        await work(
            lambda s: incoming.forward(
                s, who=who, document_id=document_id, user_id=user_id, note=note
            )
        )
        return back_to(f"/documents/{document_id}?ok=forwarded")

    @app.post("/documents/{document_id}/finish")
    async def finish(request: Request, document_id: int) -> Response:
        who = await who_is(request)
        form = await checked_form(request, who)
        result = _text(form, "result")
        await work(lambda s: incoming.finish(s, who=who, document_id=document_id, result=result))
        office.wake()
        return back_to(f"/documents/{document_id}?ok=finished")

    # ------------------------------------------------------------------ notifications

    @app.get("/notifications")
    async def notifications(request: Request) -> Response:
        who = await who_is(request)

        def load(s: Session) -> dict[str, Any]:
            items = notify.recent(s, user_id=who.user_id)
            notify.mark_read(s, user_id=who.user_id)
            return {"items": items}

        return render(request, "notifications.html", who, **await work(load))

    # ------------------------------------------------------------------ paper

    @app.get("/paper/new")
    async def paper_form(request: Request) -> Response:
        who = await who_is(request)
        registers = await work(lambda s: tenants.registers(s, agency=who.agency_code))
        return render(request, "paper.html", who, registers=registers)

    @app.post("/paper/new")
    async def paper(request: Request) -> Response:
        who = await who_is(request)
        form = await checked_form(request, who)
        data = incoming.PaperInput(
            register_id=_int(_text(form, "register_id")) or 0,
            issuer=_text(form, "issuer"),
            number=_text(form, "number"),
            notation=_text(form, "notation"),
            subject=_text(form, "subject"),
            issued_date=_date(_text(form, "issued_date")),
            type_name=_text(form, "type_name"),
            signer=_text(form, "signer"),
            page_amount=_int(_text(form, "page_amount")),
            priority=_int(_text(form, "priority")) or 0,
        )
        upload = form.get("scan")
        scan = None
        if isinstance(upload, UploadFile) and upload.filename:
            content = await upload.read()
            if content:
                scan = (upload.filename, upload.content_type or "", content)
        doc = await work(
            lambda s: incoming.enter_paper(s, who=who, data=data, scan=scan, blobs=office.blobs)
        )
        office.wake()  # the worker OCRs the scan
        return back_to(f"/documents/{doc.id}?ok=registered")

    # ------------------------------------------------------------------ registers, reports

    def _period(request: Request) -> tuple[date, date]:
        today = today_vn()
        start = _date(request.query_params.get("from")) or today.replace(month=1, day=1)
        end = _date(request.query_params.get("to")) or today
        return start, end

    @app.get("/reports")
    async def reports(request: Request) -> Response:
        who = await who_is(request)
        start, end = _period(request)

        def load(s: Session) -> dict[str, Any]:
            return {
                "registers": tenants.registers(s, agency=who.agency_code),
                "counts": books.counts(s, who=who, start=start, end=end),
                "start": start,
                "end": end,
            }

        return render(request, "reports.html", who, **await work(load))

    @app.get("/registers/{register_id}/{kind}")
    async def register_book(request: Request, register_id: int, kind: str) -> Response:
        who = await who_is(request)
        start, end = _period(request)
        if kind not in ("incoming", "tracking"):
            raise OfficeError("NOT_FOUND", "Không có sổ này", "No such book", status=404)
        make = books.incoming_book if kind == "incoming" else books.tracking_book
        book = await work(lambda s: make(s, who=who, register_id=register_id, start=start, end=end))
        if request.query_params.get("format") == "xlsx":
            data = books.xlsx(book, agency_name=who.agency_name)
            name = f"so-{kind}-{start:%Y%m%d}-{end:%Y%m%d}.xlsx"
            return Response(
                data,
                media_type="application/vnd.openxmlformats-officedocument.spreadsheetml.sheet",
                headers={"Content-Disposition": f'attachment; filename="{name}"'},
            )
        return render(request, "book.html", who, book=book)

    # ------------------------------------------------------------------ administration

    @app.get("/admin")
    async def admin(request: Request) -> Response:
        who = await who_is(request)
        wanted = request.query_params.get("agency") or who.agency_code

        def load(s: Session) -> dict[str, Any]:
            scope = tenants.admin_scope(s, who=who)
            agency = wanted if wanted in scope else who.agency_code
            return {
                "agencies": [a for a in tenants.list_agencies(s) if a.code in scope],
                "agency": agency,
                "accounts": tenants.accounts_of(s, who=who, agency=agency),
                "units": tenants.units(s, agency=agency),
                "calendar": tenants.calendar_overrides(s) if who.provincial_admin else [],
            }

        return render(
            request, "admin.html", who, ok=request.query_params.get("ok"), **await work(load)
        )

    @app.post("/admin/users")
    async def admin_user(request: Request) -> Response:
        who = await who_is(request)
        form = await checked_form(request, who)
        agency = _text(form, "agency")
        await work(
            lambda s: tenants.admin_add_user(
                s,
                who=who,
                username=_text(form, "username"),
                agency=agency,
                role=_text(form, "role"),
                full_name=_text(form, "full_name"),
                password=_text(form, "password"),
                unit=_text(form, "unit"),
                title=_text(form, "title"),
            )
        )
        return back_to(f"/admin?agency={quote(agency)}&ok=user")

    @app.post("/admin/users/{user_id}/unlock")
    async def admin_unlock(request: Request, user_id: int) -> Response:
        who = await who_is(request)
        await checked_form(request, who)
        user = await work(lambda s: tenants.admin_unlock(s, who=who, user_id=user_id))
        return back_to(f"/admin?agency={quote(user.agency_code)}&ok=unlock")

    @app.post("/admin/calendar")
    async def admin_calendar(request: Request) -> Response:
        who = await who_is(request)
        form = await checked_form(request, who)
        day = _date(_text(form, "day"))
        if day is None:
            raise invalid("DATE_INVALID", "Ngày không hợp lệ", "Invalid date", "day")
        working = _text(form, "working") == "1"
        note = _text(form, "note")
        await work(lambda s: tenants.admin_set_day(s, who=who, day=day, working=working, note=note))
        return back_to("/admin?ok=calendar")

    @app.post("/admin/agencies")
    async def admin_agency(request: Request) -> Response:
        who = await who_is(request)
        form = await checked_form(request, who)
        agency = await work(
            lambda s: tenants.admin_add_agency(
                s,
                who=who,
                code=_text(form, "code"),
                name=_text(form, "name"),
                parent=_text(form, "parent") or None,
            )
        )
        return back_to(f"/admin?agency={quote(agency.code)}&ok=agency")

    # ------------------------------------------------------------------ hub push

    @app.post("/hub/push", include_in_schema=False)
    async def push(request: Request) -> Response:
        declared = request.headers.get("content-length", "")
        if declared.isdigit() and int(declared) > MAX_PUSH_BYTES:
            return JSONResponse({"error": {"code": "PUSH_TOO_LARGE"}}, status_code=413)
        chunks, size = [], 0
        async for chunk in request.stream():
            size += len(chunk)
            if size > MAX_PUSH_BYTES:
                return JSONResponse({"error": {"code": "PUSH_TOO_LARGE"}}, status_code=413)
            chunks.append(chunk)
        body = b"".join(chunks)
        headers = dict(request.headers)
        try:
            created = await run_in_threadpool(
                lambda: hubsync.handle_push(office, body=body, headers=headers)
            )
        except PushSignatureError as exc:
            return JSONResponse(
                {
                    "error": {
                        "code": exc.code,
                        "message_vi": exc.message_vi,
                        "message_en": exc.message_en,
                    }
                },
                status_code=401,
            )
        return JSONResponse({"received": created})

    return app


def _signatures(report: str) -> list[dict[str, Any]]:
    """Per attachment: its verdict and its signers (name, role, verdict, reason), for the
    clerk to judge authenticity (Decree 30 Art. 21)."""
    import json

    try:
        entries = json.loads(report) if report else []
    except ValueError:
        return []
    out = []
    for e in entries if isinstance(entries, list) else []:
        signers = [
            {
                "name": s.get("name") or "?",
                "role": s.get("role") or "",
                "verdict": s.get("verdict") or "",
                "message": s.get("message_vi") or "",
            }
            for s in e.get("signatures") or []
        ]
        out.append(
            {
                "attachment": e.get("attachment", ""),
                "verdict": e.get("verdict", ""),
                "reason": e.get("message_vi") or e.get("reason") or e.get("error") or "",
                "signers": signers,
            }
        )
    return out


# --------------------------------------------------------------------------- form values


def _text(form: FormData, name: str) -> str:
    value = form.get(name)
    return value.strip() if isinstance(value, str) else ""


def _int(value: str | None) -> int | None:
    try:
        return int(value) if value not in (None, "") else None
    except ValueError:
        return None


def _ints(form: FormData, name: str) -> list[int]:
    out = []
    for v in form.getlist(name):
        if isinstance(v, str) and (i := _int(v)) is not None:
            out.append(i)
    return out


def _date(value: str | None) -> date | None:
    if not value:
        return None
    for fmt in ("%Y-%m-%d", "%d/%m/%Y"):
        try:
            return datetime.strptime(value.strip(), fmt).date()
        except ValueError:
            continue
    return None
