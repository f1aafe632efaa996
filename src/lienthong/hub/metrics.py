"""The hub's metrics, rendered in Prometheus' text format at ``/metrics``: counters, one
request-latency histogram and the build info, each family with its ``# HELP`` and
``# TYPE`` line. One process's view (several processes: scrape each, or sum)."""

from __future__ import annotations

import threading
from dataclasses import dataclass, field

#: What each family means (the ``# HELP`` line); also the list docs/operations.md follows.
HELP = {
    "lienthong_build_info": "Version of lienthong and Python this hub process runs (value 1)",
    "lienthong_accepted_total": "Packages accepted (new, not resends)",
    "lienthong_duplicates_total": "Packages sent again and answered with the original id",
    "lienthong_dispatched_total": "Deliveries made available to a local recipient",
    "lienthong_errors_total": "Requests refused, by stable error code",
    "lienthong_recipient_failures_total": "Recipients of accepted packages that failed at "
    "once, by code (HUB_UNKNOWN_RECIPIENT: no such agency and no route)",
    "lienthong_relay_attempts_total": "Relays to peer hubs and pushes to callbacks attempted",
    "lienthong_relay_failures_total": "Relay and push attempts that failed, by code",
    "lienthong_relay_dead_total": "Relays and pushes given up (dead letters), by code",
    "lienthong_relay_claims_given_back_total": "Claimed relays and pushes given back unposted "
    "because their lease was running out (another round posts them)",
    "lienthong_http_request_duration_seconds": "Time to answer an HTTP request, by method, "
    "route and status class (streamed bodies: until the response starts)",
    "lienthong_outbox": "Outbox entries (dispatch, relays, pushes) by state",
}

#: Latency buckets in seconds: a package intake is tens of milliseconds, a large upload
#: seconds.
BUCKETS = (0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1.0, 2.5, 5.0, 10.0, 30.0)


def family(name: str) -> str:
    return name.partition("{")[0]


def header(base: str, kind: str) -> list[str]:
    """The ``# HELP`` and ``# TYPE`` lines of a family."""
    lines = [f"# HELP {base} {HELP[base]}"] if base in HELP else []
    return [*lines, f"# TYPE {base} {kind}"]


@dataclass
class _Histogram:
    buckets: list[int]
    count: int = 0
    total: float = 0.0


@dataclass
class Metrics:
    counters: dict[str, int] = field(default_factory=dict)
    gauges: dict[str, str] = field(default_factory=dict)
    histograms: dict[str, _Histogram] = field(default_factory=dict)
    lock: threading.Lock = field(default_factory=threading.Lock)

    def inc(self, name: str, by: int = 1) -> None:
        with self.lock:
            self.counters[name] = self.counters.get(name, 0) + by

    def info(self, name: str, labels: dict[str, str]) -> None:
        """A constant ``name{labels} 1`` (build info)."""
        rendered = ",".join(f'{k}="{_escape(v)}"' for k, v in labels.items())
        with self.lock:
            self.gauges[f"{name}{{{rendered}}}"] = "1"

    def observe(self, name: str, labels: dict[str, str], seconds: float) -> None:
        key = name + "{" + ",".join(f'{k}="{_escape(v)}"' for k, v in labels.items()) + "}"
        with self.lock:
            h = self.histograms.get(key)
            if h is None:
                h = self.histograms[key] = _Histogram([0] * len(BUCKETS))
            for i, bound in enumerate(BUCKETS):
                if seconds <= bound:
                    h.buckets[i] += 1
            h.count += 1
            h.total += seconds

    def render(self) -> str:
        """Prometheus text format: per family its HELP and TYPE lines, then its samples."""
        with self.lock:
            counters = sorted(self.counters.items())
            gauges = sorted(self.gauges.items())
            histograms = sorted(
                (k, _Histogram(list(h.buckets), h.count, h.total))
                for k, h in self.histograms.items()
            )
        lines: list[str] = []
        declared: set[str] = set()

        def declare(name: str, kind: str) -> None:
            if family(name) not in declared:
                declared.add(family(name))
                lines.extend(header(family(name), kind))

        for name, value in gauges:
            declare(name, "gauge")
            lines.append(f"{name} {value}")
        for name, count in counters:
            declare(name, "counter")
            lines.append(f"{name} {count}")
        for key, h in histograms:
            declare(key, "histogram")
            base, _, rest = key.partition("{")
            labels = rest.rstrip("}")
            sep = "," if labels else ""
            for bound, n in zip(BUCKETS, h.buckets, strict=True):
                lines.append(f'{base}_bucket{{{labels}{sep}le="{bound}"}} {n}')
            lines.append(f'{base}_bucket{{{labels}{sep}le="+Inf"}} {h.count}')
            lines.append(f"{base}_sum{{{labels}}} {h.total:.6f}")
            lines.append(f"{base}_count{{{labels}}} {h.count}")
        return "\n".join(lines) + "\n"


def _escape(value: str) -> str:
    return value.replace("\\", "\\\\").replace('"', '\\"').replace("\n", "\\n")
