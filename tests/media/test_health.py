from __future__ import annotations

import pytest

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
    before = Counters(packets_received=1000, packets_lost=10, bytes_received=1_000_000, frames=500)
    after = Counters(packets_received=1196, packets_lost=14, bytes_received=1_500_000, frames=550)
    health = sample(before, after, seconds=2.0, rtt_ms=12.34, jitter_ms=3.21, size=(1280, 720))
    assert health.loss_percent == pytest.approx(100 * 4 / 200)
    assert health.bitrate_kbps == 2000.0
    assert health.fps == 25.0
    assert (health.width, health.height) == (1280, 720)
    assert health.grade is Grade.POOR  # 2 % loss
    assert health.to_json()["grade"] == "poor"


def test_counters_going_backwards_never_make_negative_rates() -> None:
    health = sample(Counters(50, 5, 5000, 5), Counters(), seconds=2.0, rtt_ms=None, jitter_ms=0.0, size=None)
    assert health.bitrate_kbps == 0.0 and health.fps == 0.0 and health.grade is Grade.GONE
