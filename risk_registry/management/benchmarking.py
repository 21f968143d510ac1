"""What the benchmark commands share: the machine they ran on, and the marked section of a Markdown
file they rewrite (``--write``), the text around it kept."""

from __future__ import annotations

import os
import platform
import statistics
import time
from pathlib import Path

from django.db import connection


def machine() -> str:
    """ "2 × AMD EPYC …, Python 3.11.7, postgresql 15.20 (load average 7.4 now, 2 cores)"."""
    cpu = "unknown"
    if os.path.exists("/proc/cpuinfo"):
        with open("/proc/cpuinfo") as handle:
            names = [line.split(":", 1)[1].strip() for line in handle if line.startswith("model name")]
        cpu = f"{len(names)} × {names[0]}" if names else cpu
    database = connection.vendor
    if connection.vendor == "postgresql":
        database += " " + ".".join(map(str, divmod(getattr(connection, "pg_version", 0), 10000)))
    return f"on {cpu}, Python {platform.python_version()}, {database}"


GAUGE_ADDITIONS = 3_000_000


def speed_gauge() -> float:
    """Milliseconds this process takes for a fixed loop of ``GAUGE_ADDITIONS`` additions (the median
    of three): the machine's own speed at the moment. On a shared host it moved by up to twice
    within a minute with nothing else running, so two runs compare only beside it."""
    times = []
    for _ in range(3):
        started, total = time.perf_counter(), 0
        for number in range(GAUGE_ADDITIONS):
            total += number
        times.append((time.perf_counter() - started) * 1000)
    return statistics.median(times)


def load_text() -> str:
    return f"load average {os.getloadavg()[0]:.1f} when it ended, {len(os.sched_getaffinity(0))} cores"


def write_section(path: Path, text: str, *, marker: str, heading: str) -> None:
    """Put ``text`` between ``<!-- marker: start -->`` and ``<!-- marker: end -->`` in ``path``;
    without the markers, append them under ``heading``."""
    start, end = f"<!-- {marker}: start -->", f"<!-- {marker}: end -->"
    old = path.read_text(encoding="utf-8") if path.exists() else "# Performance\n"
    if start in old and end in old:
        head, rest = old.split(start, 1)
        new = head + start + "\n" + text + end + rest.split(end, 1)[1]
    else:
        new = old.rstrip("\n") + f"\n\n## {heading}\n\n" + start + "\n" + text + end + "\n"
    path.write_text(new, encoding="utf-8")
