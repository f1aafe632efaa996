"""/metrics speaks the Prometheus text format: one TYPE line per metric, then its samples."""

from __future__ import annotations

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
