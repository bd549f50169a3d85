"""Who did something: the subject of every audit entry and every service call.

Pure: the audit writer, the services and the web layer all name actors,
and none of them should have to import another to do so.
"""

from __future__ import annotations

import dataclasses

# "remote": a remote party (interpreter, counsel, prosecutor, witness) by
# their participant id, once their one-time code has admitted them (issue 12).
KINDS = frozenset({"user", "device", "system", "anonymous", "remote"})


@dataclasses.dataclass(frozen=True)
class Actor:
    kind: str  # user | device | system | anonymous | remote
    id: int | None = None
    role: str | None = None

    def __post_init__(self) -> None:
        if self.kind not in KINDS:
            raise ValueError(f"unknown actor kind: {self.kind}")


SYSTEM = Actor("system")
ANONYMOUS = Actor("anonymous")
