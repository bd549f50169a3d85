"""Plan B: when a seat's link fails, the hearing goes on as well as it can.

Two rules, both pure (an injected clock, no I/O):

- *Audio only*: a seat that has sent video and whose video then stops (about
  no frames) or whose bitrate collapses, while its sound still arrives, for
  two consecutive health samples (4 s), goes on audio only (rule 8 in
  hearing/routing/policy.py). It comes back when video has been healthy
  again for three consecutive samples (6 s) at a higher bitrate than the
  one it fell at: the hysteresis keeps a link on the edge from flapping
  between the two, which would cost a keyframe each time.
- *Interruptions*: the custody room's (or the booth's) connection ending
  while the hearing is in session is an interruption, from the moment it
  ended until the seat is back. Back within RECONNECT_SECONDS, it takes its
  seat again as it was; later, it waits in the lobby to be admitted again
  (docs/operations.md, "Plan B").
"""

from __future__ import annotations

import dataclasses

from hearing.media.health import Grade, Health

# Seats whose drop interrupts the hearing: the detainee's room and, where
# counsel sits in the courtroom, counsel's booth.
DROP_SEATS = frozenset({"custody", "booth"})

# Video is failing below these (per 2 s sample), while audio still arrives.
FAILING_FPS = 1.0
FAILING_KBPS = 100.0  # sound alone is about 40-60 kbps with its RTCP; 360p video is 300 and more
FAILING_SAMPLES = 2
# ...and healthy again at or above these, for longer.
HEALTHY_FPS = 5.0
HEALTHY_KBPS = 200.0
HEALTHY_SAMPLES = 3


def video_failing(health: Health) -> bool:
    """Sound arrives, but the picture does not (or hardly)."""
    return health.grade is not Grade.GONE and (health.fps < FAILING_FPS or health.bitrate_kbps < FAILING_KBPS)


def video_healthy(health: Health) -> bool:
    return health.grade is not Grade.GONE and health.fps >= HEALTHY_FPS and health.bitrate_kbps >= HEALTHY_KBPS


@dataclasses.dataclass
class _Link:
    sent_video: bool = False
    audio_only: bool = False
    streak: int = 0  # consecutive samples pointing the other way


class LinkJudge:
    """Decides, sample by sample, which seats are on audio only."""

    def __init__(self) -> None:
        self._links: dict[str, _Link] = {}

    @property
    def audio_only(self) -> frozenset[str]:
        return frozenset(seat for seat, link in self._links.items() if link.audio_only)

    def sample(self, seat: str, health: Health) -> bool | None:
        """One health sample of `seat`; the seat's new audio-only flag when
        it changes, else None."""
        link = self._links.setdefault(seat, _Link())
        if health.grade is Grade.GONE:
            # Nothing arrives at all: that is a drop, not a video failure.
            link.streak = 0
            return None
        if not link.sent_video:
            # A seat that never sent a picture (a listener, a telephone
            # interpreter) has no video to lose.
            link.sent_video = video_healthy(health)
            return None
        pointing_away = video_healthy(health) if link.audio_only else video_failing(health)
        link.streak = link.streak + 1 if pointing_away else 0
        if link.streak >= (HEALTHY_SAMPLES if link.audio_only else FAILING_SAMPLES):
            link.audio_only, link.streak = not link.audio_only, 0
            return link.audio_only
        return None

    def forget(self, seat: str) -> bool:
        """The seat's connection has ended: a new one is judged afresh.
        Whether it was on audio only."""
        link = self._links.pop(seat, None)
        return link is not None and link.audio_only


@dataclasses.dataclass(frozen=True)
class Interruption:
    seat: str
    since: float  # the wall clock (epoch seconds), for people
    began: float  # the monotonic clock, for the arithmetic
    paused: bool  # the drop paused the hearing


class Interruptions:
    """The hearing's open interruptions, one per seat."""

    def __init__(self, reconnect_seconds: float) -> None:
        self.reconnect_seconds = reconnect_seconds
        self._open: dict[str, Interruption] = {}

    def __contains__(self, seat: object) -> bool:
        return seat in self._open

    def get(self, seat: str) -> Interruption | None:
        return self._open.get(seat)

    def began(self, seat: str, *, since: float, now: float, paused: bool) -> Interruption:
        """A drop. A seat already interrupted (it came back into the lobby
        and dropped again) keeps the first moment: the interruption lasts."""
        earlier = self._open.get(seat)
        if earlier is not None:
            interruption = dataclasses.replace(earlier, paused=earlier.paused or paused)
        else:
            interruption = Interruption(seat, since, now, paused)
        self._open[seat] = interruption
        return interruption

    def ended(self, seat: str, now: float) -> tuple[Interruption, float, bool] | None:
        """The seat is back: its interruption, how long it lasted (seconds),
        and whether it came back in time to take its seat as it was."""
        interruption = self._open.pop(seat, None)
        if interruption is None:
            return None
        duration = max(0.0, now - interruption.began)
        return interruption, duration, duration < self.reconnect_seconds

    def to_json(self) -> dict[str, dict[str, object]]:
        return {seat: {"since": i.since, "paused": i.paused} for seat, i in sorted(self._open.items())}
