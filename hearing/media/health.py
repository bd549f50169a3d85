"""Connection health in the court's terms: good, poor, bad, or gone.

The room samples each participant's connection every two seconds from the
server side (RTCP reports and what actually arrived) and grades it. Pure:
reading the statistics is hearing/media/stats.py, sampling them
hearing/media/room.py.

A seat that sends media is graded on what arrives from it. A seat that only
receives (a preview, a listener) is graded on what its receiver reports of
the media sent to it, and is *gone* only when nothing at all arrives from it.
"""

from __future__ import annotations

import dataclasses
import enum

INTERVAL_SECONDS = 2.0
# Conversational media, after ITU-T G.114 and G.1010: up to 150 ms one way
# and ~1 % loss is good; beyond 400 ms or 5 % it is bad. (The test call
# grades its network figures by the same numbers: hearing/custody/testcall.py.)
GOOD_LOSS_PERCENT, POOR_LOSS_PERCENT = 1.0, 5.0
GOOD_RTT_MS, POOR_RTT_MS = 300.0, 800.0
GOOD_JITTER_MS, POOR_JITTER_MS = 30.0, 100.0


class Grade(enum.StrEnum):
    GOOD = "good"
    POOR = "poor"
    BAD = "bad"
    GONE = "gone"  # nothing arrived in the last interval


@dataclasses.dataclass(frozen=True)
class Health:
    rtt_ms: float | None
    loss_percent: float
    jitter_ms: float
    bitrate_kbps: float
    fps: float
    width: int | None
    height: int | None
    grade: Grade

    def to_json(self) -> dict[str, object]:
        return dataclasses.asdict(self)


def grade(*, received_packets: int, loss_percent: float, rtt_ms: float | None, jitter_ms: float) -> Grade:
    """By the thresholds above."""
    if received_packets == 0:
        return Grade.GONE
    rtt = rtt_ms or 0.0
    if loss_percent <= GOOD_LOSS_PERCENT and rtt <= GOOD_RTT_MS and jitter_ms <= GOOD_JITTER_MS:
        return Grade.GOOD
    if loss_percent <= POOR_LOSS_PERCENT and rtt <= POOR_RTT_MS and jitter_ms <= POOR_JITTER_MS:
        return Grade.POOR
    return Grade.BAD


@dataclasses.dataclass
class Counters:
    """Running totals from the previous sample, to turn them into rates."""

    packets_received: int = 0  # media packets from the seat
    packets_lost: int = 0  # of those, lost on the way
    bytes_received: int = 0  # everything from the seat (media, RTCP)
    frames: int = 0  # complete video frames from the seat
    transport_packets: int = 0  # everything from the seat, in packets
    packets_sent: int = 0  # media packets to the seat
    remote_lost: int = 0  # of those, what its receiver reports lost
    sends_media: bool = False  # the seat has inbound streams at all


def sample(
    previous: Counters,
    current: Counters,
    *,
    seconds: float,
    rtt_ms: float | None,
    jitter_ms: float,
    size: tuple[int, int] | None,
) -> Health:
    if current.sends_media:
        received = max(0, current.packets_received - previous.packets_received)
        lost = max(0, current.packets_lost - previous.packets_lost)
        expected = received + lost
    else:
        # Receive-only: its reports (RTCP) are what arrives; loss is what it
        # reports of the packets sent to it.
        received = max(0, current.transport_packets - previous.transport_packets)
        lost = max(0, current.remote_lost - previous.remote_lost)
        expected = max(0, current.packets_sent - previous.packets_sent)
    loss = min(100.0, 100.0 * lost / expected) if expected else 0.0
    return Health(
        rtt_ms=None if rtt_ms is None else round(rtt_ms, 1),
        loss_percent=round(loss, 2),
        jitter_ms=round(jitter_ms, 1),
        bitrate_kbps=round(8 * max(0, current.bytes_received - previous.bytes_received) / seconds / 1000, 1),
        fps=round(max(0, current.frames - previous.frames) / seconds, 1),
        width=size[0] if size else None,
        height=size[1] if size else None,
        grade=grade(received_packets=received, loss_percent=loss, rtt_ms=rtt_ms, jitter_ms=jitter_ms),
    )
