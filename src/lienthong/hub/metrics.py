"""The hub's counters, rendered in Prometheus' text format at ``/metrics``."""

from __future__ import annotations

import threading
from dataclasses import dataclass, field


@dataclass
class Metrics:
    counters: dict[str, int] = field(default_factory=dict)
    lock: threading.Lock = field(default_factory=threading.Lock)

    def inc(self, name: str, by: int = 1) -> None:
        with self.lock:
            self.counters[name] = self.counters.get(name, 0) + by

    def render(self) -> str:
        """Prometheus text format: one ``# TYPE`` line per metric, then its samples."""
        with self.lock:
            items = sorted(self.counters.items())
        lines: list[str] = []
        for name, value in items:
            base = name.partition("{")[0]
            declared = f"# TYPE {base} counter"
            if declared not in lines:
                lines.append(declared)
            lines.append(f"{name} {value}")
        return "\n".join(lines) + "\n"
