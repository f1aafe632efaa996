"""One Jinja2 environment for the web parts: shared base templates from ``web/templates``,
each part's own folder first, autoescaping, the translation function and date filters."""

from __future__ import annotations

from pathlib import Path

from jinja2 import ChoiceLoader, Environment, FileSystemLoader, select_autoescape

from lienthong.web.i18n import vn_date, vn_datetime

WEB_TEMPLATES = Path(__file__).resolve().parent / "templates"


def environment(*folders: Path) -> Environment:
    env = Environment(
        loader=ChoiceLoader([FileSystemLoader(str(f)) for f in (*folders, WEB_TEMPLATES)]),
        autoescape=select_autoescape(["html"]),
        trim_blocks=True,
        lstrip_blocks=True,
    )
    env.filters["vn_date"] = vn_date
    env.filters["vn_datetime"] = vn_datetime
    return env
