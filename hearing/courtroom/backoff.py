"""How long a failed camera or microphone waits before the next try.

1, 2, 4, 8, 16, 30, 30 ... seconds by default: quick enough that a camera
whose cable was reseated is back within a second or two, slow enough that
a dead RTSP camera is not hammered (each try costs it a TCP handshake and
a DESCRIBE). Pure: the feeds in sources.py do the waiting.
"""

from __future__ import annotations

import dataclasses
import math

from hearing.errors import InvalidInput


@dataclasses.dataclass(frozen=True)
class Backoff:
    first: float = 1.0
    factor: float = 2.0
    most: float = 30.0

    def __post_init__(self) -> None:
        if not all(math.isfinite(v) for v in (self.first, self.factor, self.most)):
            raise InvalidInput(f"a back-off is finite, got {self.first}, {self.factor}, {self.most}")
        if self.first <= 0 or self.factor < 1 or self.most < self.first:
            raise InvalidInput(
                f"a back-off starts above 0, grows by a factor of at least 1 and tops out at or above its start, "
                f"got first={self.first}, factor={self.factor}, most={self.most}"
            )

    def delay(self, failures: int) -> float:
        """The wait after the `failures`-th failure in a row (1 is the first)."""
        if failures < 1:
            raise InvalidInput(f"failures counts from 1, got {failures}")
        # Compare exponents rather than computing factor ** (failures - 1):
        # a camera down for a week has thousands of failures, and 2.0 ** 5000
        # overflows a float.
        if self.factor == 1 or (failures - 1) < math.log(self.most / self.first) / math.log(self.factor):
            return min(self.most, self.first * self.factor ** (failures - 1))
        return self.most
