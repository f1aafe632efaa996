"""Text helpers for Vietnamese."""

from __future__ import annotations

import unicodedata

_D_STROKE = str.maketrans({"đ": "d", "Đ": "D"})


def fold(text: str) -> str:
    """Lower-case ``text`` and remove Vietnamese diacritics (``đ``/``Đ`` → ``d``).

    ``fold("Đồng Tháp") == "dong thap"``; used for diacritic-insensitive search.
    """
    decomposed = unicodedata.normalize("NFD", text.translate(_D_STROKE))
    return "".join(c for c in decomposed if not unicodedata.combining(c)).lower()
