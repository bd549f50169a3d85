"""The code base holds to its own style rules: ruff and mypy --strict, the
benchmarks included (a bench that no longer type-checks against the code
it measures is caught here, before its --quick run in tests/test_bench.py)."""

from __future__ import annotations

import subprocess
import sys
from pathlib import Path

import pytest

REPO = Path(__file__).resolve().parents[1]


@pytest.mark.parametrize(
    "command",
    [
        ["ruff", "check", "hearing", "tests", "migrations", "bench"],
        ["ruff", "format", "--check", "hearing", "tests", "migrations", "bench"],
        ["mypy", "hearing", "bench"],
    ],
    ids=["ruff-check", "ruff-format", "mypy-strict"],
)
def test_static_checks(command: list[str]) -> None:
    result = subprocess.run([sys.executable, "-m", *command], cwd=REPO, capture_output=True, text=True, timeout=300)
    assert result.returncode == 0, result.stdout + result.stderr
