"""The `hearing` command.

One module per command group, each with `register(commands)` that adds its
parsers and sets `run`. Operator commands act as the system actor and are
audited like everything else. Errors print their stable code and exit 2;
nothing is half-applied.
"""

from __future__ import annotations

import argparse
import sys
from collections.abc import Callable, Sequence

from hearing import logs
from hearing.cli import audit, db, device, hearings, keys, serve, site, user
from hearing.cli import recording as recording_group  # issue 14: the recordings
from hearing.cli import remote as remote_group  # issue 12, codes
from hearing.cli import rig as rig_group  # issue 13: the courtroom rig
from hearing.cli.common import Command, Subcommands
from hearing.config import load_settings
from hearing.errors import HearingError, InvalidInput
from hearing.fields import refused_character

# In the order `hearing --help` lists them.
GROUPS: tuple[Callable[[Subcommands], None], ...] = (
    serve.register,
    keys.register,
    audit.register,
    db.register,
    site.register,
    user.register,
    device.register,
    hearings.register,
    # issue 12, codes: remote parties and their codes, the register of interpreters
    remote_group.register,
    rig_group.register,
    recording_group.register,
)


def build_parser() -> argparse.ArgumentParser:
    parser = argparse.ArgumentParser(prog="hearing", description="Secure video hearings.")
    commands = parser.add_subparsers(dest="command", required=True)
    for register in GROUPS:
        register(commands)
    return parser


def _check_arguments(argv: Sequence[str]) -> None:
    """No argument holds a control, bidi or invisible character, or bytes
    that are not UTF-8 (Python hands those on as lone surrogates): whatever
    a command stores or looks up is text a person can read as it is."""
    for arg in argv:
        if refused_character(arg) is not None:
            raise InvalidInput(f"The argument {ascii(arg)[:60]} contains control characters or invisible formatting.")


def main(argv: Sequence[str] | None = None) -> int:
    logs.configure()
    args = build_parser().parse_args(argv)
    try:
        _check_arguments(sys.argv[1:] if argv is None else argv)
        settings = load_settings()
        return int(args.run(Command(args, settings)))
    except HearingError as exc:
        sys.stderr.write(f"error: {exc.code}: {exc.message}\n")
        return 2
    except KeyboardInterrupt:
        return 130
