"""What every command group shares: the parsed command, the operator, output."""

from __future__ import annotations

import argparse
import sys
from collections.abc import Callable
from typing import TypeAlias, TypeVar

from sqlalchemy.orm import Session

from hearing.actors import Actor
from hearing.config import Settings
from hearing.services import Services

# Operator commands act as the system actor and are audited like everything else.
OPERATOR = Actor("system", role="operator")
T = TypeVar("T")
# What `register(commands)` adds its parsers to (argparse's class is not
# subscriptable at run time, hence the string).
Subcommands: TypeAlias = "argparse._SubParsersAction[argparse.ArgumentParser]"


class Command:
    """Runs one parsed command with the services it needs."""

    def __init__(self, args: argparse.Namespace, settings: Settings) -> None:
        self.args = args
        self.settings = settings

    def services(self, *, create_keys: bool = False) -> Services:
        return Services.from_settings(self.settings, create_keys=create_keys)

    def unit(self, work: Callable[[Session], T], *, create_keys: bool = False) -> T:
        with self.services(create_keys=create_keys) as svc:
            return svc.unit_of_work(work)


def out(text: str = "") -> None:
    sys.stdout.write(text + "\n")
