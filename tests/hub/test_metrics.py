"""/metrics speaks the Prometheus text format: one TYPE line per metric, then its samples."""

from __future__ import annotations

import logging
from collections.abc import Callable
from typing import Any

import pytest
from fastapi.testclient import TestClient

from lienthong.client.rest import HubClient
from lienthong.core.version import version
from lienthong.edxml.builder import build
from lienthong.edxml.model import Organization
from lienthong.hub import directory
from lienthong.hub.http.app import create_app
from lienthong.hub.metrics import Metrics


def test_labelled_samples_share_one_type_line() -> None:
    m = Metrics()
    m.inc("lienthong_accepted_total")
    m.inc('lienthong_errors_total{code="AUTH_BAD_SIGNATURE"}')
    m.inc('lienthong_errors_total{code="HUB_TOO_LARGE"}', 2)
    lines = m.render().splitlines()
    assert lines.count("# TYPE lienthong_errors_total counter") == 1
    assert 'lienthong_errors_total{code="HUB_TOO_LARGE"} 2' in lines
    assert lines.index("# TYPE lienthong_errors_total counter") < lines.index(
        'lienthong_errors_total{code="AUTH_BAD_SIGNATURE"} 1'
    )


def test_every_family_has_help_and_type_and_histograms_their_buckets() -> None:
    m = Metrics()
    m.inc("lienthong_accepted_total")
    m.inc('lienthong_recipient_failures_total{code="HUB_UNKNOWN_RECIPIENT"}')
    m.info("lienthong_build_info", {"version": "1.2.3", "python": "3.11.7"})
    labels = {"method": "GET", "route": "/api/v1/inbox", "status": "2xx"}
    m.observe("lienthong_http_request_duration_seconds", labels, 0.03)
    m.observe("lienthong_http_request_duration_seconds", labels, 7.0)
    lines = m.render().splitlines()
    families = {line.split()[2] for line in lines if line.startswith("# TYPE")}
    assert families == {
        "lienthong_accepted_total",
        "lienthong_recipient_failures_total",
        "lienthong_build_info",
        "lienthong_http_request_duration_seconds",
    }
    for name in families:
        assert any(line.startswith(f"# HELP {name} ") for line in lines), name
    assert "# TYPE lienthong_http_request_duration_seconds histogram" in lines
    base = 'lienthong_http_request_duration_seconds_bucket{method="GET",route="/api/v1/inbox"'
    assert f'{base},status="2xx",le="0.025"}} 0' in lines
    assert f'{base},status="2xx",le="0.05"}} 1' in lines
    assert f'{base},status="2xx",le="10.0"}} 2' in lines
    assert f'{base},status="2xx",le="+Inf"}} 2' in lines
    assert 'lienthong_build_info{version="1.2.3",python="3.11.7"} 1' in lines


def test_metrics_of_a_running_hub(hub: Any, make_edoc: Callable[..., Any]) -> None:
    """Build info, request latency by route template, and recipients that failed at once
    (an unknown agency with no route) — all on /metrics with HELP texts."""
    with hub.session() as s:
        directory.add_agency(s, code="000.00.12.H41", name="Sở TT&TT Nghệ An")
        directory.add_agency(s, code="000.00.00.G22", name="Văn phòng Chính phủ")
        key = directory.add_system(s, system_id="sys", agencies=["000.00.12.H41"]).api_key
    package = build(
        make_edoc(
            recipients=[
                Organization(organ_id="000.00.00.G22", organ_name="VPCP"),
                Organization(organ_id="000.00.00.H42", organ_name="UBND tỉnh Hà Tĩnh"),
            ]
        )
    )
    with TestClient(create_app(hub, start_worker=False)) as http:
        client = HubClient("http://testserver", key, http=http)
        sent = client.send(package)
        client.timeline(sent["message_id"])
        text = http.get("/metrics").text
    lines = text.splitlines()
    assert f'lienthong_build_info{{version="{version()}",' in text
    assert 'lienthong_recipient_failures_total{code="HUB_UNKNOWN_RECIPIENT"} 1' in lines
    assert (
        'lienthong_http_request_duration_seconds_count{method="GET",'
        'route="/api/v1/messages/{message_id}/timeline",status="2xx"} 1'
    ) in lines
    assert (
        'lienthong_http_request_duration_seconds_count{method="POST",'
        'route="/api/v1/packages",status="2xx"} 1'
    ) in lines
    families = {line.split()[2] for line in lines if line.startswith("# TYPE")}
    assert "lienthong_outbox" in families
    for name in families:
        assert any(line.startswith(f"# HELP {name} ") for line in lines), name


def test_shutdown_is_logged(hub: Any, caplog: pytest.LogCaptureFixture) -> None:
    caplog.set_level(logging.INFO, logger="lienthong.hub")
    with TestClient(create_app(hub, start_worker=True)):
        pass
    messages = [r.msg for r in caplog.records if r.name == "lienthong.hub"]
    assert messages.index("hub.started") < messages.index("hub.stopping")
    assert messages.index("hub.stopping") < messages.index("hub.stopped")


def test_every_metric_the_hub_counts_has_a_help_text() -> None:
    """Each ``lienthong_*`` family the sources count, observe or render is documented."""
    import re
    from pathlib import Path

    from lienthong.hub.metrics import HELP

    src = Path(__file__).resolve().parents[2] / "src" / "lienthong" / "hub"
    used = set()
    for path in src.rglob("*.py"):
        for name in re.findall(r"""[('"](lienthong_[a-z_]+)""", path.read_text(encoding="utf-8")):
            if path.name != "metrics.py":
                used.add(name)
    assert used, "no metric found: the pattern is wrong"
    assert sorted(used - set(HELP)) == []
