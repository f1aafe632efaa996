"""Vietnamese by default, English available: a small catalogue keyed by the Vietnamese text.

Templates call ``_("Văn bản đến")``; with ``lang == "en"`` the English text is shown, and a
string missing from the catalogue stays Vietnamese (never blank). Dates are shown in
Asia/Ho_Chi_Minh as dd/mm/yyyy whatever the language.
"""

from __future__ import annotations

from collections.abc import Callable
from datetime import UTC, date, datetime
from zoneinfo import ZoneInfo

LANGUAGES = ("vi", "en")
DEFAULT_LANGUAGE = "vi"
LANG_COOKIE = "lt_lang"
VN_TZ = ZoneInfo("Asia/Ho_Chi_Minh")

_catalogues: dict[str, dict[str, str]] = {"en": {}}


def add_translations(lang: str, entries: dict[str, str]) -> None:
    """Add ``vi text → translation`` entries (each web part brings its own)."""
    _catalogues.setdefault(lang, {}).update(entries)


def translator(lang: str) -> Callable[[str], str]:
    table = _catalogues.get(lang, {}) if lang != DEFAULT_LANGUAGE else {}

    def _(text: str) -> str:
        return table.get(text, text)

    return _


def pick_language(cookie: str | None, accept_language: str | None) -> str:
    if cookie in LANGUAGES:
        return cookie
    if accept_language and accept_language.lower().startswith("en"):
        return "en"
    return DEFAULT_LANGUAGE


def local(at: datetime) -> datetime:
    if at.tzinfo is None:  # SQLite gives naive datetimes back: they are UTC
        at = at.replace(tzinfo=UTC)
    return at.astimezone(VN_TZ)


def vn_date(value: date | datetime | None) -> str:
    """``dd/mm/yyyy`` (a datetime first converted to Vietnam time)."""
    if value is None:
        return ""
    if isinstance(value, datetime):
        value = local(value)
    return value.strftime("%d/%m/%Y")


def vn_datetime(value: datetime | None) -> str:
    if value is None:
        return ""
    return local(value).strftime("%d/%m/%Y %H:%M")


def today_vn() -> date:
    return datetime.now(VN_TZ).date()


add_translations(
    "en",
    {
        "Đăng nhập": "Sign in",
        "Đăng xuất": "Sign out",
        "Tên đăng nhập": "Username",
        "Mật khẩu": "Password",
        "Ngôn ngữ": "Language",
        "Bỏ qua tới nội dung": "Skip to content",
    },
)
