"""Settings of any part of the product from environment variables or one TOML file.

Precedence: explicit arguments > environment (``<PREFIX><FIELD>``) > the TOML file named by
``<PREFIX>CONFIG`` > the dataclass's defaults.
"""

from __future__ import annotations

import os
import tomllib
from collections.abc import Callable, Mapping
from dataclasses import fields
from typing import Any, TypeVar

T = TypeVar("T")


def load(
    cls: type[T],
    *,
    prefix: str,
    environ: Mapping[str, str] | None = None,
    overrides: Mapping[str, Any] | None = None,
    coerce: Callable[[str, Any], Any] = lambda _name, value: value,
) -> T:
    """An instance of the dataclass ``cls`` from those sources; ``coerce(field, value)``
    turns text into the field's type (and refuses bad values with ``ValueError``); a name in
    the file that is no field is refused too. Fields named ``extra`` are never read from
    the environment or the file."""
    env = dict(os.environ if environ is None else environ)
    names = {f.name for f in fields(cls)}  # type: ignore[arg-type]
    values: dict[str, Any] = {}
    config = env.get(f"{prefix}CONFIG")
    if config:
        with open(config, "rb") as fh:
            from_file = tomllib.load(fh)
        unknown = sorted(set(from_file) - (names - {"extra"}))
        if unknown:  # a misspelt setting would otherwise be ignored without a word
            raise ValueError(
                f"{config}: unknown setting(s) {', '.join(unknown)}; "
                f"valid: {', '.join(sorted(names - {'extra'}))}"
            )
        values.update(from_file)
    for name in names - {"extra"}:
        raw = env.get(prefix + name.upper())
        if raw is not None:
            values[name] = raw
    values.update({k: v for k, v in (overrides or {}).items() if v is not None})
    return cls(**{k: coerce(k, v) for k, v in values.items() if k in names})
