from __future__ import annotations

import dataclasses
import datetime

import pytest

from hearing.media import stats
from hearing.media.health import Counters, Grade, grade, sample


@pytest.mark.parametrize(
    ("received", "loss", "rtt", "jitter", "expected"),
    [
        (100, 0.0, 20.0, 5.0, Grade.GOOD),
        (100, 0.5, None, 5.0, Grade.GOOD),
        (100, 3.0, 20.0, 5.0, Grade.POOR),
        (100, 0.0, 500.0, 5.0, Grade.POOR),
        (100, 0.0, 20.0, 60.0, Grade.POOR),
        (100, 12.0, 20.0, 5.0, Grade.BAD),
        (100, 0.0, 1200.0, 5.0, Grade.BAD),
        (0, 0.0, 20.0, 5.0, Grade.GONE),
    ],
)
def test_grades(received: int, loss: float, rtt: float | None, jitter: float, expected: Grade) -> None:
    assert grade(received_packets=received, loss_percent=loss, rtt_ms=rtt, jitter_ms=jitter) is expected


def test_sample_turns_totals_into_rates() -> None:
    before = Counters(packets_received=1000, packets_lost=10, bytes_received=1_000_000, frames=500, sends_media=True)
    after = Counters(packets_received=1196, packets_lost=14, bytes_received=1_500_000, frames=550, sends_media=True)
    health = sample(before, after, seconds=2.0, rtt_ms=12.34, jitter_ms=3.21, size=(1280, 720))
    assert health.loss_percent == pytest.approx(100 * 4 / 200)
    assert health.bitrate_kbps == 2000.0
    assert health.fps == 25.0
    assert (health.width, health.height) == (1280, 720)
    assert health.grade is Grade.POOR  # 2 % loss
    assert health.to_json()["grade"] == "poor"


def test_counters_going_backwards_never_make_negative_rates() -> None:
    health = sample(
        Counters(50, 5, 5000, 5, sends_media=True),
        Counters(sends_media=True),
        seconds=2.0,
        rtt_ms=None,
        jitter_ms=0.0,
        size=None,
    )
    assert health.bitrate_kbps == 0.0 and health.fps == 0.0 and health.grade is Grade.GONE


def test_a_receive_only_seat_is_graded_on_its_reports_and_gone_only_when_silent() -> None:
    before = Counters(transport_packets=100, packets_sent=1000, remote_lost=0)
    listening = Counters(transport_packets=104, packets_sent=1100, remote_lost=0)
    health = sample(before, listening, seconds=2.0, rtt_ms=8.0, jitter_ms=0.0, size=None)
    assert health.grade is Grade.GOOD and health.loss_percent == 0.0
    lossy = Counters(transport_packets=104, packets_sent=1100, remote_lost=10)
    assert sample(before, lossy, seconds=2.0, rtt_ms=8.0, jitter_ms=0.0, size=None).grade is Grade.BAD
    silent = Counters(transport_packets=100, packets_sent=1100, remote_lost=0)
    assert sample(before, silent, seconds=2.0, rtt_ms=None, jitter_ms=0.0, size=None).grade is Grade.GONE


@dataclasses.dataclass
class FakeStats:
    """The attribute names aiortc's stats dataclasses carry."""

    type: str
    kind: str = "audio"
    packetsReceived: int = 0
    packetsLost: int = 0
    jitter: int = 0
    roundTripTime: float = 0.0
    packetsSent: int = 0
    bytesReceived: int = 0
    timestamp: datetime.datetime = datetime.datetime(2026, 12, 1, tzinfo=datetime.UTC)


def test_a_stats_report_reads_into_counters() -> None:
    report = {
        "in-a": FakeStats("inbound-rtp", "audio", packetsReceived=500, packetsLost=2, jitter=480),
        "in-v": FakeStats("inbound-rtp", "video", packetsReceived=900, packetsLost=1, jitter=900),
        "rin": FakeStats("remote-inbound-rtp", roundTripTime=0.012, packetsLost=3),
        "rin2": FakeStats("remote-inbound-rtp", roundTripTime=0.020, packetsLost=-1),
        "out": FakeStats("outbound-rtp", packetsSent=700),
        "t": FakeStats("transport", packetsReceived=1500, bytesReceived=99_000),
    }
    reading = stats.read(report, frames=42)
    assert reading.counters == Counters(
        packets_received=1400,
        packets_lost=3,
        bytes_received=99_000,
        frames=42,
        transport_packets=1500,
        packets_sent=700,
        remote_lost=3,
        sends_media=True,
    )
    assert reading.jitter_ms == 10.0  # the worse of 480/48 kHz and 900/90 kHz
    assert reading.rtt_ms == pytest.approx(20.0)
    assert stats.read({"t": FakeStats("transport")}, frames=0).counters.sends_media is False
