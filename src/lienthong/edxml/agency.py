"""Agency identification codes ``NNN.NN.NN.XNN`` (mã định danh cơ quan, tổ chức).

Groups are read right to left: ``XNN`` is level 1 (a ministry ``G..``, a province ``H..``,
other letters exist), then level 2, 3 and 4; a level that does not exist is all zeros.

Real traffic also carries **non-standard identifiers**: the national platform's hosted
("SaaS") units are ``vxp.saas.03`` and the like. Such an identifier has no level and no
level-1 part; it is acceptable only where a directory says it is registered, which this pure
module cannot know: callers pass what is registered (:data:`Registered`) to validation.
"""

from __future__ import annotations

import re
from collections.abc import Callable, Collection
from dataclasses import dataclass
from typing import Any, Literal

from lienthong.edxml.errors import Code, EdxmlError, Problem, warning

AgencyKind = Literal["central", "province", "other"]

_LEVEL1 = r"[A-Z][A-Z0-9]{2}"
_CANONICAL = re.compile(rf"([0-9]{{3}})\.([0-9]{{2}})\.([0-9]{{2}})\.({_LEVEL1})")
#: legacy short forms seen in real packages: ``NN.NN.XNN`` and ``NN.XNN``
_SHORT3 = re.compile(rf"([0-9]{{2}})\.([0-9]{{2}})\.({_LEVEL1})")
_SHORT2 = re.compile(rf"([0-9]{{2}})\.({_LEVEL1})")
#: What a registered non-standard identifier may look like: ASCII letters, digits and
#: ``. _ : -``, starting and ending with a letter or digit, at most 32 characters (the
#: width of the hub's code columns) — ``vxp.saas.03``, ``VN:GOV:000.00.00.G22:sub``.
_NONSTANDARD = re.compile(r"[A-Za-z0-9](?:[A-Za-z0-9._:-]{0,30}[A-Za-z0-9])?")
#: Written where no identifier is meant (seen on the wire: ``<OrganId>null</OrganId>``).
_NULL_WORDS = frozenset({"null", "none", "nil", "undefined"})

#: The non-standard identifiers a directory has registered: a set of them, or a lookup.
Registered = Callable[[str], bool] | Collection[str]


@dataclass(frozen=True, slots=True)
class AgencyCode:
    """One code, groups in written order: ``level4.level3.level2.level1``."""

    level4: str
    level3: str
    level2: str
    level1: str

    def __post_init__(self) -> None:
        if not _CANONICAL.fullmatch(self.canonical):
            raise EdxmlError.of(Code.AGENCY_CODE_INVALID, value=self.canonical)

    @property
    def canonical(self) -> str:
        """The 13-character form, e.g. ``000.00.01.H53``."""
        return f"{self.level4}.{self.level3}.{self.level2}.{self.level1}"

    @property
    def groups(self) -> tuple[str, str, str, str]:
        return self.level4, self.level3, self.level2, self.level1

    @property
    def level(self) -> int:
        """1–4: the deepest non-zero group (gaps above it are ignored)."""
        for level, group in zip((4, 3, 2), self.groups[:3], strict=True):
            if group.strip("0"):
                return level
        return 1

    @property
    def has_gap(self) -> bool:
        """True when a set group sits under an all-zero one (``002.00.20.H13``)."""
        return any(not group.strip("0") for group in self.groups[5 - self.level : 3])

    @property
    def parent(self) -> AgencyCode | None:
        """The code with the lowest non-zero group zeroed; ``None`` at level 1."""
        groups = list(self.groups)
        level = self.level
        if level == 1:
            return None
        index = 4 - level
        groups[index] = "0" * len(groups[index])
        return AgencyCode(*groups)

    @property
    def letter(self) -> str:
        return self.level1[0]

    @property
    def kind(self) -> AgencyKind:
        """A guess from the level-1 letter: ``G`` central, ``H`` province, anything else other."""
        if self.letter == "G":
            return "central"
        return "province" if self.letter == "H" else "other"

    def ancestors(self) -> list[AgencyCode]:
        """Parent, grandparent, … up to level 1 (nearest first)."""
        out: list[AgencyCode] = []
        code = self.parent
        while code is not None:
            out.append(code)
            code = code.parent
        return out

    def is_under(self, other: AgencyCode) -> bool:
        """True if ``other`` is a strict ancestor of this code."""
        return other in self.ancestors()

    def __str__(self) -> str:
        return self.canonical


def parse_agency_code(text: str, field: str = "") -> tuple[AgencyCode, list[Problem]]:
    """Read a code, tolerating (with warnings) whitespace, legacy short forms and gaps.

    Raises :class:`EdxmlError` (``AGENCY_CODE_INVALID``) when ``text`` cannot be read.
    """
    problems: list[Problem] = []
    value = text.strip()
    if value != text and value:
        problems.append(warning(Code.AGENCY_CODE_WHITESPACE, field, value=text))
    if match := _CANONICAL.fullmatch(value):
        code = AgencyCode(*match.groups())
    elif match := _SHORT3.fullmatch(value):
        code = AgencyCode("000", *match.groups())
    elif match := _SHORT2.fullmatch(value):
        code = AgencyCode("000", "00", *match.groups())
    else:
        raise EdxmlError.of(Code.AGENCY_CODE_INVALID, field, value=text)
    if code.canonical != value:
        problems.append(
            warning(Code.AGENCY_CODE_LEGACY, field, value=value, canonical=code.canonical)
        )
    if code.has_gap:
        problems.append(warning(Code.AGENCY_CODE_GAP, field, value=value, level=code.level))
    return code, problems


def is_blank_organ_id(value: str | None) -> bool:
    """True for an OrganId that names nothing: absent, empty, whitespace or ``null``."""
    return value is None or not value.strip() or value.strip().lower() in _NULL_WORDS


def is_standard(text: str) -> bool:
    """True when ``text`` reads as a code (strict or legacy short form, whitespace aside)."""
    try:
        parse_agency_code(text)
    except EdxmlError:
        return False
    return True


def is_nonstandard_identifier(text: str) -> bool:
    """True when ``text`` may be registered as a non-standard identifier: not a code in
    any form, not a null word, and shaped like ``vxp.saas.03`` (see ``_NONSTANDARD``)."""
    return (
        _NONSTANDARD.fullmatch(text) is not None
        and text.lower() not in _NULL_WORDS
        and not is_standard(text)
    )


def registry(registered: Registered | None) -> Callable[[str], bool]:
    """A lookup from what a caller passes; ``None`` registers nothing."""
    if registered is None:
        return lambda _: False
    if callable(registered):
        return registered
    known = frozenset(registered)
    return known.__contains__


def level1_of(text: str) -> str | None:
    """The level-1 part of a code (``H41``); ``None`` for a non-standard identifier."""
    try:
        code, _ = parse_agency_code(text)
    except EdxmlError:
        return None
    return code.level1


def is_valid_agency_code(text: str) -> bool:
    """True only for the strict 13-character form (a gap is allowed: it is well-formed)."""
    return _CANONICAL.fullmatch(text) is not None


def agency_code_json(code: str | AgencyCode) -> dict[str, Any]:
    """A JSON-ready description of a code (for the CLI); raises like :func:`parse_agency_code`."""
    agency, problems = parse_agency_code(str(code))
    parent = agency.parent
    return {
        "canonical": agency.canonical,
        "level": agency.level,
        "parent": parent.canonical if parent else None,
        "level1": agency.level1,
        "letter": agency.letter,
        "kind": agency.kind,
        "groups": dict(zip(("level4", "level3", "level2", "level1"), agency.groups, strict=True)),
        "ancestors": [a.canonical for a in agency.ancestors()],
        "warnings": [p.to_dict() for p in problems],
    }
