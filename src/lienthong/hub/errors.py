"""Typed errors of the hub: a stable code, the field at fault, a Vietnamese and an English
message, and the HTTP status the APIs answer with."""

from __future__ import annotations

from typing import Any

from lienthong.edxml.errors import Problem


class HubError(Exception):
    def __init__(
        self,
        code: str,
        message_vi: str,
        message_en: str,
        *,
        field: str = "",
        status: int = 400,
        details: dict[str, Any] | None = None,
    ) -> None:
        super().__init__(f"[{code}] {message_en}")
        self.code = code
        self.message_vi = message_vi
        self.message_en = message_en
        self.field = field
        self.status = status
        self.details = details or {}

    @classmethod
    def from_problem(cls, problem: Problem, *, status: int = 422) -> HubError:
        return cls(
            problem.code.value,
            problem.message_vi,
            problem.message_en,
            field=problem.field,
            status=status,
            details={"problems": [problem.to_dict()]},
        )

    def to_dict(self) -> dict[str, Any]:
        out: dict[str, Any] = {
            "code": self.code,
            "field": self.field,
            "message_vi": self.message_vi,
            "message_en": self.message_en,
        }
        if self.details:
            out["details"] = self.details
        return out


def forbidden(code: str, vi: str, en: str, field: str = "") -> HubError:
    return HubError(code, vi, en, field=field, status=403)


def not_found(what_vi: str, what_en: str, ident: str) -> HubError:
    return HubError(
        "NOT_FOUND", f"Không tìm thấy {what_vi} {ident}", f"No {what_en} {ident}", status=404
    )
