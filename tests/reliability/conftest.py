"""Counts printed by the reliability tests, shown at the end of the run (past the capture)."""

from __future__ import annotations

from typing import Any

import netkit


def pytest_terminal_summary(terminalreporter: Any) -> None:
    if netkit.REPORTS:
        terminalreporter.section("reliability counts")
        for line in netkit.REPORTS:
            terminalreporter.write_line(line)
