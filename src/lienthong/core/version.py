"""The installed version of lienthong (``lienthong --version``, the hub's build info)."""

from __future__ import annotations

import platform
from functools import cache
from importlib import metadata


@cache
def version() -> str:
    try:
        return metadata.version("lienthong")
    except metadata.PackageNotFoundError:  # run from a source tree that is not installed
        return "0+unknown"


def python_version() -> str:
    return platform.python_version()
