"""Plan B's pure rules: when a link goes audio only and back, and the
bookkeeping of interruptions."""

from __future__ import annotations

from hearing.custody.planb import FAILING_SAMPLES, HEALTHY_SAMPLES, Interruptions, LinkJudge
from hearing.media.health import Grade, Health


def health(fps: float, kbps: float, grade: Grade = Grade.GOOD) -> Health:
    return Health(
        rtt_ms=20.0, loss_percent=0.0, jitter_ms=2.0, bitrate_kbps=kbps, fps=fps, width=640, height=360, grade=grade
    )


VIDEO, STOPPED, STARVED, GONE = health(25, 900), health(0, 45), health(12, 70), health(0, 0, Grade.GONE)


def feed(judge: LinkJudge, *samples: Health) -> list[bool | None]:
    return [judge.sample("custody", s) for s in samples]


def test_two_samples_of_stopped_video_with_sound_arriving_go_audio_only() -> None:
    judge = LinkJudge()
    assert feed(judge, VIDEO, STOPPED) == [None, None]
    assert FAILING_SAMPLES == 2 and feed(judge, STOPPED) == [True]
    assert judge.audio_only == {"custody"}


def test_a_collapsed_bitrate_counts_as_failed_video_too() -> None:
    judge = LinkJudge()
    assert feed(judge, VIDEO, STARVED, STARVED) == [None, None, True]


def test_one_bad_sample_is_not_enough_and_a_good_one_resets_the_count() -> None:
    judge = LinkJudge()
    assert feed(judge, VIDEO, STOPPED, VIDEO, STOPPED, VIDEO) == [None] * 5
    assert judge.audio_only == frozenset()


def test_video_comes_back_only_after_three_healthy_samples() -> None:
    judge = LinkJudge()
    feed(judge, VIDEO, STOPPED, STOPPED)
    assert HEALTHY_SAMPLES == 3
    # A link on the edge (healthy, then starved again) stays on audio only.
    assert feed(judge, VIDEO, VIDEO, STARVED, VIDEO, VIDEO) == [None] * 5
    assert feed(judge, VIDEO) == [False]
    assert judge.audio_only == frozenset()


def test_nothing_arriving_is_a_drop_not_a_video_failure() -> None:
    judge = LinkJudge()
    assert feed(judge, VIDEO, GONE, GONE, GONE) == [None] * 4


def test_a_seat_that_never_sent_video_is_never_audio_only() -> None:
    judge = LinkJudge()
    assert feed(judge, STOPPED, STOPPED, STOPPED, STOPPED) == [None] * 4


def test_a_forgotten_seat_is_judged_afresh() -> None:
    judge = LinkJudge()
    feed(judge, VIDEO, STOPPED, STOPPED)
    assert judge.forget("custody") is True and judge.audio_only == frozenset()
    assert judge.forget("custody") is False


def test_an_interruption_lasts_from_the_drop_to_the_return() -> None:
    book = Interruptions(60.0)
    began = book.began("custody", since=1_700_000_000.0, now=100.0, paused=True)
    assert "custody" in book and book.to_json() == {"custody": {"since": 1_700_000_000.0, "paused": True}}
    # Back in the lobby and lost again: the interruption goes on from the first moment.
    assert book.began("custody", since=1_700_000_030.0, now=130.0, paused=False) == began
    assert book.ended("custody", 112.5) == (began, 12.5, True)
    assert "custody" not in book and book.ended("custody", 113.0) is None


def test_back_after_the_reconnect_window_is_late() -> None:
    book = Interruptions(60.0)
    book.began("booth", since=0.0, now=0.0, paused=False)
    ended = book.ended("booth", 60.0)
    assert ended is not None and ended[1:] == (60.0, False)
