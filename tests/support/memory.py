"""The process's peak memory over a block: what a hostile file in the container costs the app."""

from __future__ import annotations

import contextlib
from collections.abc import Iterator
from pathlib import Path

MB = 1024 * 1024


def _status_kb(field: str) -> int:
    for line in Path("/proc/self/status").read_text().splitlines():
        if line.startswith(field + ":"):
            return int(line.split()[1])
    raise AssertionError(f"no {field} in /proc/self/status")


class PeakGrowth:
    bytes: int = 0


@contextlib.contextmanager
def peak_growth() -> Iterator[PeakGrowth]:
    """How far the peak resident size (VmHWM) rose above the resident size at the start.

    Writing 5 to clear_refs resets the high-water mark (Linux 4.0+), so an earlier test's
    peak in this process cannot hide this block's."""
    Path("/proc/self/clear_refs").write_text("5")
    before = _status_kb("VmRSS")
    growth = PeakGrowth()
    try:
        yield growth
    finally:
        growth.bytes = (_status_kb("VmHWM") - before) * 1024
