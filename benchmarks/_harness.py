"""Shared helpers for the benchmarks: run a command N times, report median wall time and peak RSS.

Each run is a fresh process; its peak resident set size comes from
``os.wait4`` (the kernel's per-child accounting), so nothing is sampled.
"""

from __future__ import annotations

import os
import platform
import statistics
import subprocess
import time
from collections.abc import Sequence
from dataclasses import dataclass


@dataclass(frozen=True)
class Timing:
    label: str
    wall_s: float
    peak_rss_mib: float
    runs: int

    def ratio(self, other: Timing) -> float:
        """How many times faster this is than ``other``."""
        return other.wall_s / self.wall_s if self.wall_s else float("inf")


def measure(
    label: str, argv: Sequence[str], *, runs: int = 3, env: dict[str, str] | None = None
) -> Timing:
    """Run ``argv`` ``runs`` times; the median wall time and the largest peak RSS."""
    walls: list[float] = []
    peaks: list[float] = []
    for _ in range(runs):
        start = time.perf_counter()
        proc = subprocess.Popen(
            list(argv), stdout=subprocess.DEVNULL, stderr=subprocess.PIPE, env=env
        )
        _, status, usage = os.wait4(proc.pid, 0)
        walls.append(time.perf_counter() - start)
        stderr = proc.stderr.read().decode(errors="replace") if proc.stderr else ""
        if proc.stderr:
            proc.stderr.close()
        code = os.waitstatus_to_exitcode(status)
        if code != 0:
            raise RuntimeError(f"{label}: {' '.join(argv)} exited {code}\n{stderr[-2000:]}")
        peaks.append(usage.ru_maxrss / 1024)  # Linux reports KiB
    return Timing(label, statistics.median(walls), max(peaks), runs)


def machine() -> str:
    cpu = platform.processor() or platform.machine()
    try:
        with open("/proc/cpuinfo") as f:
            for line in f:
                if line.startswith("model name"):
                    cpu = line.split(":", 1)[1].strip()
                    break
    except OSError:
        pass
    mem = os.sysconf("SC_PAGE_SIZE") * os.sysconf("SC_PHYS_PAGES") / 2**30
    return f"{os.cpu_count()} cores ({cpu}), {mem:.0f} GiB RAM, Python {platform.python_version()}"


def table(rows: list[tuple[str, Timing, Timing]]) -> str:
    """Markdown table: case, smlite, baseline, speed-up."""
    out = [
        "| case | smlite | saved_model_cli / TF | speed-up |",
        "|---|---|---|---|",
    ]
    for case, ours, theirs in rows:
        out.append(
            f"| {case} | {ours.wall_s:.3f} s, {ours.peak_rss_mib:.0f} MiB "
            f"| {theirs.wall_s:.2f} s, {theirs.peak_rss_mib:.0f} MiB | {ours.ratio(theirs):.0f}x |"
        )
    return "\n".join(out)
