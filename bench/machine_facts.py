"""Facts about the machine a benchmark ran on, printed at the top of its output."""

from __future__ import annotations

import contextlib
import os
import platform
import shlex
import sys
from datetime import datetime
from pathlib import Path


def cpu_model() -> str:
    with contextlib.suppress(OSError):
        for line in Path("/proc/cpuinfo").read_text().splitlines():
            if line.startswith("model name"):
                return line.split(":", 1)[1].strip()
    return platform.processor() or "unknown"


def load_average() -> str:
    with contextlib.suppress(OSError):
        return " ".join(Path("/proc/loadavg").read_text().split()[:3])
    return "unknown"


def print_machine(title: str) -> None:
    """The first lines of a bench's output: what ran, when, and on what."""
    print(title)
    print(f"command:    {shlex.join([sys.executable, *sys.argv])}")
    print(f"date:       {datetime.now().astimezone().isoformat(timespec='seconds')}")
    print(f"cpu:        {cpu_model()}, {os.cpu_count()} cores, affinity {sorted(os.sched_getaffinity(0))}")
    print(f"load avg:   {load_average()} (1/5/15 min, at start)")
    print(f"kernel:     {platform.system()} {platform.release()}")
    print(f"python:     {platform.python_implementation()} {platform.python_version()}")
