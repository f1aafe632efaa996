"""Operators: people who run the hub, each with a bearer API key of their own (stored
hashed, like a system's). An operator reads no packages; see :mod:`lienthong.hub.authn`."""

from __future__ import annotations

import re
from dataclasses import dataclass

from sqlalchemy import select
from sqlalchemy.orm import Session

from lienthong.hub import audit, directory
from lienthong.hub.errors import HubError
from lienthong.hub.models import Operator

#: Audit events written here (stable names, like :class:`lienthong.hub.audit.Event`'s).
OPERATOR_CHANGED = "operator_changed"


#: Operator names: a login or an e-mail address.
_NAME = re.compile(r"[A-Za-z0-9][A-Za-z0-9._@+-]{0,99}")


@dataclass(frozen=True)
class NewOperator:
    operator: Operator
    api_key: str

    def __repr__(self) -> str:  # never print the key by accident
        return f"NewOperator(name={self.operator.name!r})"


def add_operator(session: Session, *, name: str) -> NewOperator:
    """Create an operator with a new API key, or give an existing one a new key (the old
    one stops working at once). Only the key's hash is stored."""
    name = name.strip()
    if not _NAME.fullmatch(name):
        raise HubError(
            "OPERATOR_NAME_INVALID",
            "Tên người vận hành: 1–100 ký tự chữ không dấu, số, . _ @ + -",
            "An operator name has 1–100 characters: ASCII letters, digits, . _ @ + -",
            field="name",
            status=422,
        )
    api_key = directory.new_api_key("lto_")
    operator = session.get(Operator, name)
    action = "key_reissued"
    if operator is None:
        operator, action = Operator(name=name), "added"
        session.add(operator)
    operator.api_key_hash = directory.hash_api_key(api_key)
    session.flush()
    audit.append(session, event=OPERATOR_CHANGED, detail={"operator": name, "action": action})
    return NewOperator(operator=operator, api_key=api_key)


def remove_operator(session: Session, *, name: str) -> None:
    """Delete an operator: its key stops working (the audit log keeps what it did)."""
    operator = session.get(Operator, name.strip())
    if operator is None:
        raise HubError(
            "OPERATOR_NOT_FOUND",
            f"Không có người vận hành {name}",
            f"No operator {name}",
            field="name",
            status=404,
        )
    session.delete(operator)
    audit.append(
        session, event=OPERATOR_CHANGED, detail={"operator": operator.name, "action": "removed"}
    )


def list_operators(session: Session) -> list[Operator]:
    return list(session.scalars(select(Operator).order_by(Operator.name)))


def operator_by_api_key(session: Session, *, api_key: str) -> Operator | None:
    return session.scalars(
        select(Operator).where(Operator.api_key_hash == directory.hash_api_key(api_key))
    ).first()
