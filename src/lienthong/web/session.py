"""Request helpers every web part shares: the session cookie, CSRF checks, the language."""

from __future__ import annotations

from starlette.datastructures import FormData
from starlette.requests import Request
from starlette.responses import Response

from lienthong.web.i18n import LANG_COOKIE, pick_language
from lienthong.web.security import CSRF_FIELD, CSRF_HEADER, SESSION_COOKIE, same_token

#: the double-submit cookie that protects the login form (there is no session yet)
LOGIN_CSRF_COOKIE = "lt_login_csrf"


class LoginRequired(Exception):
    """No valid session: a page redirects to the login form, anything else answers 401."""


class CsrfRefused(Exception):
    """A state-changing request without the session's CSRF token (403)."""


def session_token(request: Request) -> str | None:
    return request.cookies.get(SESSION_COOKIE) or None


def language(request: Request) -> str:
    return pick_language(request.cookies.get(LANG_COOKIE), request.headers.get("accept-language"))


def check_csrf(request: Request, form: FormData | None, expected: str) -> None:
    given = request.headers.get(CSRF_HEADER)
    if not given and form is not None:
        value = form.get(CSRF_FIELD)
        given = value if isinstance(value, str) else None
    if not same_token(expected, given):
        raise CsrfRefused()


def set_session_cookie(response: Response, token: str, *, secure: bool, max_age: int) -> None:
    response.set_cookie(
        SESSION_COOKIE,
        token,
        max_age=max_age,
        httponly=True,
        samesite="lax",
        secure=secure,
        path="/",
    )


def clear_session_cookie(response: Response) -> None:
    response.delete_cookie(SESSION_COOKIE, path="/")
