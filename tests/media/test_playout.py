"""The playout buffer under synthetic arrival schedules: a simulated mixer
that ticks every 20 ms and waits as the room does, on a simulated clock."""

from __future__ import annotations

import dataclasses
import math
import random
from collections.abc import Callable, Iterable

import numpy as np
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from hearing.media.mixer import FRAME_SAMPLES
from hearing.media.playout import CAPACITY_FRAMES, PATIENCE, REORDER_GRACE, Playout

TICK = 0.02
LOUD = 10_000


def frame(index: int, loud: bool = True) -> np.ndarray:
    """Frame `index` of the sender, its number in the first sample. A quiet
    one holds nothing else (-50.6 dBFS at most), a loud one is speech-loud."""
    pcm = np.full(FRAME_SAMPLES, LOUD if loud else 0, dtype=np.int16)
    pcm[0] = index
    return pcm


@dataclasses.dataclass(order=True)
class Arrival:
    at: float
    index: int
    loud: bool = True
    timestamp: int | None = None  # default: index * 960

    def pcm(self) -> np.ndarray:
        return frame(self.index, self.loud)


@dataclasses.dataclass
class Tick:
    began: float  # when the tick started (its time, or later if the mixer was behind)
    ended: float  # when it took its frame (after any wait)
    index: int | None  # the sender's frame played, None for silence
    held: int  # frames left in the buffer


def simulate(arrivals: Iterable[Arrival], ticks: int, buffer: Playout | None = None, phase: float = 0.0) -> list[Tick]:
    """Drive `buffer` like Room._mix_forever: at each tick wait while it asks
    (until the next arrival or the deadline), then take."""
    buffer = Playout() if buffer is None else buffer
    queue = sorted(arrivals)
    position = 0
    clock = 0.0
    out: list[Tick] = []

    def deliver(until: float) -> None:
        nonlocal position
        while position < len(queue) and queue[position].at <= until:
            a = queue[position]
            timestamp = a.index * FRAME_SAMPLES if a.timestamp is None else a.timestamp
            buffer.push(timestamp, a.pcm(), a.at)
            position += 1

    for tick in range(ticks):
        clock = max(clock, phase + tick * TICK)
        began = clock
        deliver(clock)
        while (wait := buffer.wait(clock)) > 0:
            following = queue[position].at if position < len(queue) else math.inf
            clock = min(following, clock + wait)
            deliver(clock)
        pcm = buffer.take(clock)
        out.append(Tick(began, clock, None if pcm is None else int(pcm[0]), len(buffer)))
    return out


def steady(count: int, *, phase: float = 0.0105, jitter: Callable[[int], float] = lambda i: 0.0) -> list[Arrival]:
    return [Arrival(phase + i * TICK + jitter(i), i) for i in range(count)]


def played(ticks: list[Tick]) -> list[int | None]:
    """What the ticks played, from the first frame on."""
    indices = [t.index for t in ticks]
    first = next(i for i, index in enumerate(indices) if index is not None)
    return indices[first:]


def test_a_steady_stream_plays_every_frame_once_in_order_without_waiting() -> None:
    buffer = Playout()
    ticks = simulate(steady(500), 501, buffer)  # frame i plays at tick i + 1
    assert played(ticks) == list(range(500))
    assert buffer.counts.waited == 0 and buffer.counts.concealed == 0
    assert len(buffer) == 0


def test_frames_arriving_around_the_tick_are_waited_for_not_lost() -> None:
    # The defect: arrivals within a millisecond of the mixer's tick, either
    # side. The old inbox played silence when a frame came just after its
    # tick and dropped a frame when the backlog lasted.
    rng = random.Random(9)
    buffer = Playout()
    ticks = simulate(steady(1000, phase=0.0, jitter=lambda i: rng.uniform(-0.001, 0.001)), 1000, buffer)
    assert played(ticks)[:1000] == list(range(1000))
    assert buffer.counts.waited > 100  # about half the ticks waited ...
    assert max(t.ended - t.began for t in ticks) <= 0.002  # ... never longer than the jitter
    assert buffer.counts.inserted == 0  # loud throughout: the delay never grew


def test_a_frame_lost_on_the_network_is_one_tick_of_silence_in_its_slot() -> None:
    buffer = Playout()
    arrivals = [a for a in steady(200) if a.index != 100]
    ticks = simulate(arrivals, 201, buffer)
    sequence = played(ticks)
    assert sequence[:200] == [*range(100), None, *range(101, 200)]
    assert buffer.counts.concealed == 1
    # Frame i plays at tick i + 1. The lost frame's tick waited until the
    # next frame showed it lost (plus a moment for a reordered one); that
    # next frame plays on its own tick, without waiting: no delay added.
    assert ticks[101].index is None
    assert ticks[101].ended - ticks[101].began == pytest.approx(0.0105 + REORDER_GRACE)
    assert ticks[102].index == 101 and ticks[102].ended == ticks[102].began


def test_a_reordered_frame_takes_its_place() -> None:
    arrivals = steady(100)
    arrivals[50].at, arrivals[51].at = arrivals[51].at, arrivals[51].at + 0.001  # 51 first, 50 just after
    assert played(simulate(arrivals, 101))[:100] == list(range(100))
    # Even after its tick came: 51 is there, so 50 gets a moment's grace.
    arrivals = steady(100, phase=0.0)  # frame i comes with tick i
    arrivals[50].at, arrivals[51].at = arrivals[50].at + 0.003, arrivals[50].at + 0.001
    buffer = Playout()
    assert played(simulate(arrivals, 100, buffer)) == list(range(100))
    assert buffer.counts.concealed == 0


def test_duplicates_are_dropped() -> None:
    buffer = Playout()
    arrivals = steady(100) + [Arrival(a.at + 0.005, a.index) for a in steady(100)[::3]]
    assert played(simulate(arrivals, 101, buffer))[:100] == list(range(100))
    assert buffer.counts.duplicates == 34


def test_a_frame_behind_one_already_played_is_dropped() -> None:
    buffer = Playout()
    arrivals = steady(100)
    arrivals[50].at += 0.5  # comes after 51 to 74 were played
    sequence = played(simulate(arrivals, 101, buffer))[:100]
    assert sequence == [*range(50), None, *range(51, 100)]
    assert buffer.counts.late_dropped == 1 and buffer.counts.concealed == 1


def test_a_stall_shorter_than_the_patience_loses_nothing_and_leaves_no_delay() -> None:
    # The sender (or this process) stalls 150 ms; its frames then come at once.
    arrivals = steady(300)
    for a in arrivals[100:108]:
        a.at = arrivals[107].at
    buffer = Playout()
    ticks = simulate(arrivals, 301, buffer)
    assert played(ticks)[:300] == list(range(300))
    assert buffer.counts.concealed == 0
    # Frame 100 was due at 2.02 s and came at 2.1505 s: that tick waited,
    # the next ones caught up at once, and from then on ticks run on time.
    assert max(t.ended - t.began for t in ticks) == pytest.approx(0.1305)
    assert all(t.ended == t.began for t in ticks[110:])


def test_a_stall_longer_than_the_patience_is_a_gap_but_no_word_is_lost_and_the_delay_shrinks_in_silence() -> None:
    # 260 ms without frames, then all of them: longer than the patience, so
    # there is silence; the frames still play (the delay grows) and the
    # delay goes again at the next quiet frames. Speech, then quiet.
    stall = CAPACITY_FRAMES - 2
    assert stall * TICK > PATIENCE
    arrivals = [Arrival(0.0105 + i * TICK, i, loud=i < 300) for i in range(600)]
    for a in arrivals[100 : 100 + stall]:
        a.at = arrivals[100 + stall].at
    buffer = Playout()
    ticks = simulate(arrivals, 601, buffer)
    sequence = played(ticks)
    assert [i for i in sequence if i is not None and i < 300] == list(range(300))  # every word, in order
    assert 0 < sequence.count(None) <= stall
    assert buffer.counts.late_kept == 1 and buffer.counts.late_dropped == 0
    # Quiet frames were dropped to take the delay away again: by the end the
    # last frame plays on the tick after it came, as before the stall.
    assert 0 < buffer.counts.shrunk <= stall
    assert ticks[-1].index == 599


def test_late_frames_grow_the_margin_at_a_quiet_moment_so_ticks_stop_waiting() -> None:
    # After the first frame the path gets 15 ms slower: every tick waits for
    # its frame; at the first quiet frame the buffer adds a frame of delay and
    # the waiting stops.
    arrivals = [Arrival(0.0195 + i * TICK + (0.015 if i else 0.0), i, loud=not 200 <= i < 220) for i in range(400)]
    buffer = Playout()
    ticks = simulate(arrivals, 402, buffer)
    assert buffer.counts.inserted == 1
    sequence = played(ticks)
    assert [i for i in sequence if i is not None] == list(range(400))
    inserted_at = sequence.index(None)
    assert 200 <= sequence[inserted_at - 1] <= 201  # type: ignore[operator]
    assert all(t.ended > t.began for t in ticks[2:200])
    assert all(t.ended == t.began for t in ticks[inserted_at + 2 :])


def test_speech_is_never_dropped_or_stretched_to_adapt() -> None:
    arrivals = [Arrival(0.0195 + i * TICK + (0.015 if i else 0.0), i) for i in range(400)]  # late, and loud throughout
    buffer = Playout()
    assert played(simulate(arrivals, 402, buffer))[:400] == list(range(400))
    assert buffer.counts.inserted == 0 and buffer.counts.shrunk == 0
    assert buffer.counts.waited >= 398


@pytest.mark.parametrize("ppm", [-2000, 2000])
def test_a_sender_clock_faster_or_slower_than_the_mixer_keeps_every_word_and_the_delay_bounded(ppm: int) -> None:
    # 60 s of speech: a second of words, a second of quiet, on a sender clock
    # off by 0.2 % (a hundred times a poor crystal): 120 ms of drift.
    period = TICK * (1 + ppm / 1e6)
    count = 3000
    arrivals = [Arrival(0.0105 + i * period, i, loud=(i // 50) % 2 == 0) for i in range(count)]
    buffer = Playout()
    ticks = simulate(arrivals, int(count * period / TICK) + 3, buffer)
    sequence = played(ticks)
    words = [i for i in sequence if i is not None and (i // 50) % 2 == 0]
    assert words == [i for i in range(count) if (i // 50) % 2 == 0]
    heard = [i for i in sequence if i is not None]
    assert heard == sorted(set(heard))  # nothing twice, nothing out of order
    if ppm > 0:  # slower sender: the buffer adds quiet ticks
        assert buffer.counts.inserted >= 4 and buffer.counts.shrunk == 0
    else:  # faster: it drops quiet frames
        assert buffer.counts.shrunk >= 4 and buffer.counts.inserted == 0
    # No silence but the quiet ticks added, until the sender's last frame.
    assert sequence[: sequence.index(count - 1)].count(None) == buffer.counts.inserted
    assert buffer.counts.overflowed == 0 and buffer.counts.late_dropped == 0
    last = next(n for n, t in enumerate(ticks) if t.index == count - 1)
    assert max(t.ended - t.began for t in ticks[: last + 1]) < TICK
    assert max(t.held for t in ticks) <= 2


def test_the_buffer_never_holds_more_than_its_capacity() -> None:
    # 150 frames at once (this process froze, the socket kept them).
    buffer = Playout()
    held = []
    for index in range(150):
        buffer.push(index * FRAME_SAMPLES, frame(index), 1.0)
        held.append(len(buffer))
    assert max(held) == CAPACITY_FRAMES
    assert buffer.counts.overflowed == 150 - CAPACITY_FRAMES
    assert buffer.delay_frames == CAPACITY_FRAMES


def test_the_newest_frames_are_kept_when_a_burst_overflows() -> None:
    buffer = Playout()
    sequence = played(simulate([Arrival(1.0, i) for i in range(30)], 100, buffer))
    assert [i for i in sequence if i is not None] == list(range(30 - CAPACITY_FRAMES, 30))
    assert buffer.counts.overflowed == 30 - CAPACITY_FRAMES


def test_a_new_timeline_starts_again_and_32_bit_timestamps_wrap() -> None:
    origin = (1 << 32) - 50 * FRAME_SAMPLES  # wraps after 50 frames
    arrivals = [Arrival(0.0105 + i * TICK, i, timestamp=(origin + i * FRAME_SAMPLES) % (1 << 32)) for i in range(100)]
    # The sender starts again far away (a new origin) at frame 100.
    arrivals += [Arrival(0.0105 + i * TICK, i, timestamp=7_000_000 + i * FRAME_SAMPLES) for i in range(100, 200)]
    buffer = Playout()
    sequence = played(simulate(arrivals, 201, buffer))
    assert [i for i in sequence if i is not None][:100] == list(range(100))  # through the wrap
    assert buffer.counts.resyncs == 1
    after = [i for i in sequence if i is not None and i >= 100]
    assert after == list(range(100 + 9, 200))  # ten frames in a row that fit nowhere: started again
    # A source that had stopped starts again at once.
    stopped = Playout()
    back = steady(50) + [Arrival(3.0 + i * TICK, 50 + i, timestamp=9_000_000 + i * FRAME_SAMPLES) for i in range(50)]
    sequence = played(simulate(back, 210, stopped))
    assert [i for i in sequence if i is not None] == list(range(100))


def test_frames_that_are_not_whole_20_ms_frames() -> None:
    buffer = Playout()
    buffer.push(0, np.zeros(480, dtype=np.int16), 0.0)
    buffer.push(0, np.zeros((960, 2), dtype=np.int16), 0.0)
    assert buffer.counts.unusable == 2 and len(buffer) == 0
    double = np.concatenate([frame(0), frame(1)])  # a 40 ms Opus frame: two slots
    buffer.push(0, double, 0.0)
    assert len(buffer) == 2
    first, second = buffer.take(0.01), buffer.take(0.03)
    assert first is not None and second is not None and (int(first[0]), int(second[0])) == (0, 1)


def test_a_source_that_stops_is_waited_for_once() -> None:
    buffer = Playout()
    ticks = simulate(steady(50), 100, buffer)
    waits = [round(t.ended - t.began, 3) for t in ticks]
    assert waits.count(round(PATIENCE, 3)) == 1 and sum(w > 0 for w in waits) == 1
    assert played(ticks)[50:] == [None] * (len(played(ticks)) - 50)


def test_nothing_sent_nothing_played() -> None:
    buffer = Playout()
    assert buffer.wait(0.0) == 0.0 and buffer.take(0.0) is None
    assert buffer.counts == type(buffer.counts)()


def test_a_bad_configuration_is_refused() -> None:
    with pytest.raises(ValueError):
        Playout(capacity=1)
    with pytest.raises(ValueError):
        Playout(patience=-1)


# Late by up to 0.5 s: past the patience and the capacity. (A run of frames
# in a row that fit nowhere, which this cannot make, would start a new timeline.)
schedules = st.lists(
    st.tuples(
        st.sampled_from(["on time", "jitter", "late", "lost", "duplicate", "swap", "quiet"]),
        st.floats(min_value=0.0, max_value=0.5),
    ),
    min_size=50,
    max_size=300,
)


@settings(max_examples=60, deadline=None)
@given(schedules)
def test_whatever_the_network_does_nothing_repeats_nothing_reorders_and_every_frame_is_accounted_for(
    schedule: list[tuple[str, float]],
) -> None:
    arrivals: list[Arrival] = []
    for index, (event, amount) in enumerate(schedule):
        at = 0.0105 + index * TICK
        if event == "lost":
            continue
        if event == "jitter":
            at += amount * 0.05
        elif event == "late":
            at += amount
        elif event == "swap" and arrivals:
            at, arrivals[-1].at = arrivals[-1].at, at
        arrivals.append(Arrival(at, index, loud=event != "quiet"))
        if event == "duplicate":
            arrivals.append(Arrival(at + amount * 0.1, index))
    buffer = Playout()
    ticks = simulate(arrivals, len(schedule) + 40, buffer)
    heard = [t.index for t in ticks if t.index is not None]
    assert heard == sorted(set(heard))
    c = buffer.counts
    assert c.resyncs == 0
    assert len(arrivals) == c.played + c.shrunk + c.late_dropped + c.duplicates + c.overflowed + len(buffer)
    first = next(n for n, t in enumerate(ticks) if t.index is not None)
    assert len(ticks) - first == c.played + c.concealed + c.inserted
    assert max(t.ended - t.began for t in ticks) <= PATIENCE + 1e-9
    assert max(t.held for t in ticks) <= CAPACITY_FRAMES


def test_each_frame_played_says_when_it_arrived_jitter_aside() -> None:
    """Frames sent every 20 ms arrive 10-120 ms late, each by its own amount
    (the network, a decoder's queue): the arrival given with each frame
    played is its send time plus the least of those delays, not its own."""
    rng = random.Random(7)
    buffer = Playout()
    base = 100.0
    taken: list[tuple[int, float]] = []
    for index in range(200):
        buffer.push(index * FRAME_SAMPLES, frame(index), base + index * TICK + 0.01 + rng.random() * 0.11)
        if index >= 6:  # six frames of delay: every frame is there at its tick
            pcm = buffer.take(base + index * TICK + 0.13)
            assert pcm is not None and buffer.taken_arrival is not None
            taken.append((int(pcm[0]), buffer.taken_arrival))
    steady = [arrival - (base + played * TICK) for played, arrival in taken[100:]]
    # The least delay of the last two seconds: within a few ms of the best
    # 10 ms, where each frame's own delay spreads over 110 ms.
    assert 0.01 <= min(steady) and max(steady) < 0.015, (min(steady), max(steady))
    while buffer.take(base + 1000.0) is not None:
        pass
    assert buffer.taken_arrival is None  # silence has no arrival
