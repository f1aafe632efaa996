"""Structured logs: one JSON object per line, Vietnamese kept readable, secrets masked."""

from __future__ import annotations

import json
import logging

from lienthong.core.logging import JsonFormatter


def _format(msg: str, **extra: object) -> dict[str, object]:
    record = logging.LogRecord("lienthong.hub", logging.INFO, __file__, 1, msg, None, None)
    record.__dict__.update(extra)
    data: dict[str, object] = json.loads(JsonFormatter().format(record))
    return data


def test_vietnamese_text_is_written_as_is() -> None:
    line = JsonFormatter().format(
        logging.LogRecord("x", logging.INFO, __file__, 1, "Đã tiếp nhận văn bản", None, None)
    )
    assert "Đã tiếp nhận văn bản" in line


def test_fields_are_kept_and_secrets_masked() -> None:
    data = _format(
        "package.accepted",
        message_id="m-1",
        secret="s3cr3t",
        api_key="lt_x",
        Authorization="Bearer lt_x",
    )
    assert data["event"] == "package.accepted" and data["message_id"] == "m-1"
    assert data["secret"] == data["api_key"] == data["Authorization"] == "***"
    assert "s3cr3t" not in json.dumps(data) and "lt_x" not in json.dumps(data)
