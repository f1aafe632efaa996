"""Typed errors of the office: a stable code, the field at fault, a Vietnamese and an English
message, and the HTTP status the web answers with."""

from __future__ import annotations


class OfficeError(Exception):
    def __init__(
        self, code: str, message_vi: str, message_en: str, *, field: str = "", status: int = 400
    ) -> None:
        super().__init__(f"[{code}] {message_en}")
        self.code = code
        self.message_vi = message_vi
        self.message_en = message_en
        self.field = field
        self.status = status

    def message(self, lang: str = "vi") -> str:
        return self.message_en if lang == "en" else self.message_vi

    def to_dict(self) -> dict[str, str]:
        return {
            "code": self.code,
            "field": self.field,
            "message_vi": self.message_vi,
            "message_en": self.message_en,
        }


def not_found(what_vi: str, what_en: str) -> OfficeError:
    """The same answer for "does not exist" and "not yours" (no tenant learns of another's)."""
    return OfficeError("NOT_FOUND", f"Không tìm thấy {what_vi}", f"No such {what_en}", status=404)


def forbidden(code: str, vi: str, en: str) -> OfficeError:
    return OfficeError(code, vi, en, status=403)


def invalid(code: str, vi: str, en: str, field: str) -> OfficeError:
    return OfficeError(code, vi, en, field=field, status=422)
