"""Reading a peer connection's statistics report into the counters that
connection health is graded on (hearing/media/health.py).

aiortc's `getStats()` gives a mapping of dataclasses (inbound-rtp,
remote-inbound-rtp, outbound-rtp, transport); this reads them by their
attribute names alone, so it is pure and tested without a connection.
"""

from __future__ import annotations

import dataclasses
from collections.abc import Mapping
from typing import Any

from hearing.media.health import Counters

CLOCK_KHZ = {"audio": 48.0, "video": 90.0}  # RTP clock rates: jitter comes in ticks


@dataclasses.dataclass(frozen=True)
class Reading:
    counters: Counters
    jitter_ms: float
    rtt_ms: float | None


def read(report: Mapping[str, Any], *, frames: int) -> Reading:
    counters = Counters(frames=frames)
    jitter_ms, rtts = 0.0, []
    for stats in report.values():
        if stats.type == "inbound-rtp":
            counters.sends_media = True
            counters.packets_received += stats.packetsReceived
            counters.packets_lost += stats.packetsLost
            jitter_ms = max(jitter_ms, stats.jitter / CLOCK_KHZ.get(stats.kind, 90.0))
        elif stats.type == "remote-inbound-rtp":
            if stats.roundTripTime is not None:  # None until the first report with a delay since the last SR
                rtts.append(stats.roundTripTime * 1000)
            counters.remote_lost += max(0, stats.packetsLost or 0)
        elif stats.type == "outbound-rtp":
            counters.packets_sent += stats.packetsSent
        elif stats.type == "transport":
            counters.bytes_received += stats.bytesReceived
            counters.transport_packets += stats.packetsReceived
    return Reading(counters, jitter_ms, max(rtts) if rtts else None)
