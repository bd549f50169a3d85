"""Every bench's --quick mode: tiny sizes, a few seconds, the same tables.

tests/test_bench.py runs each bench so, so that a bench can never silently
stop working; its figures say nothing.
"""

from __future__ import annotations

import argparse
from collections.abc import Mapping, Sequence
from typing import Any

NOTE = "mode:       --quick (tiny sizes, a few seconds): shows the bench runs; its figures are not measurements"


def add_option(parser: argparse.ArgumentParser, sizes: Mapping[str, Any]) -> None:
    shown = " ".join(f"--{name.replace('_', '-')} {value}" for name, value in sizes.items())
    parser.add_argument("--quick", action="store_true", help=f"a smoke run in seconds: {shown}")


def parse(parser: argparse.ArgumentParser, argv: Sequence[str] | None, sizes: Mapping[str, Any]) -> argparse.Namespace:
    """Parse; with --quick, its sizes replace the defaults (options given on
    the command line still win)."""
    args = parser.parse_args(argv)
    if args.quick:
        parser.set_defaults(**sizes)
        args = parser.parse_args(argv)
    return args
