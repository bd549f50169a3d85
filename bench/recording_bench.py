"""The hearing's recorder (issue 14): what recording a hearing costs on this machine.

1. CPU per recorded hearing: three VP8 sources at 640x360 / 25 fps (libvpx
   test patterns encoded here beforehand, as the switchboard would forward
   them: `motion`, everything moving every frame, the worst case for both
   codecs; `still`, a fixed scene with one moving bar, as a courtroom
   camera) and a 20 ms mix every 20 ms, pushed on time by one thread
   standing in for the event loop into the recorder's receiver. The
   recorder decodes, composes (grid, labels, clock) and encodes H.264 +
   Opus into 10 s fragmented-MP4 segments in its worker thread, written
   through the encrypting `SegmentWriter` (hearing/recording/crypto.py)
   into a temporary folder, as the service writes them. Cores of the
   worker thread alone (its CPU time from /proc schedstat / wall) and of
   the whole process (process_time / wall), at each recording size,
   against an idle baseline in the same run: the same pushes into a
   recorder that was never started. The worker's worst lag (how old an
   item was when the worker took it) and the frames and mixes it dropped.
2. Encryption throughput of `SegmentWriter`, MB/s.
3. A fault in the sink -> `on_failure` called: the writer starts raising
   at a known moment; the time until the recorder reports it.

Runs are interleaved (the baseline and every size, per repetition); the
tables give medians. Prints figures; asserts nothing. A default run
(3 x (1 + 6) x 10 s + 3 faults) takes about four minutes; `--quick` (tiny
sizes, 1.5 s runs) about 15 s: it shows the bench runs, not the figures.
"""

from __future__ import annotations

import argparse
import fractions
import functools
import os
import shutil
import statistics
import tempfile
import threading
import time
from collections.abc import Callable, Sequence
from pathlib import Path
from typing import Any

import av
import numpy as np
import quick  # bench/quick.py
from machine_facts import print_machine  # bench/machine_facts.py

from hearing.media.mixer import FRAME_SAMPLES, SAMPLE_RATE
from hearing.media.switchboard import Receiver
from hearing.media.vp8 import EncodedFrame, is_keyframe
from hearing.recording import crypto
from hearing.recording import recorder as recording

QUICK = {"runs": 1, "seconds": 1.5, "source_frames": 25, "faults": 1, "crypto_mb": 4}
SOURCES = ("courtroom", "custody", "interpreter")
LABELS = {"courtroom": "Retssalen · Courtroom", "custody": "Arresten · Custody", "interpreter": "Tolk · Interpreter"}
SOURCE_WIDTH, SOURCE_HEIGHT, FPS = 640, 360, 25
SOURCE_BITRATE = 800_000
SIZES = ((1280, 720), (960, 540), (640, 360))
QUICK_SIZES = ((320, 180),)
TARGET_CORES = 0.15
SEGMENT_SECONDS = 10.0
KINDS = ("motion", "still")


def parse_args(argv: Sequence[str] | None = None) -> argparse.Namespace:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--runs", type=int, default=3, help="interleaved repetitions")
    parser.add_argument("--seconds", type=float, default=10.0, help="per size, per run")
    parser.add_argument("--source-frames", type=int, default=250, help="VP8 frames per source, looped")
    parser.add_argument("--faults", type=int, default=3, help="sink faults timed")
    parser.add_argument("--crypto-mb", type=int, default=64, help="MB encrypted per throughput run")
    quick.add_option(parser, QUICK)
    return quick.parse(parser, argv, QUICK)


def vp8_source(index: int, count: int, kind: str = "motion") -> list[EncodedFrame]:
    """`motion`: everything moves every frame (the worst case for both codecs);
    `still`: a fixed scene with one moving figure (a courtroom camera)."""
    codec = av.CodecContext.create("libvpx", "w")
    assert isinstance(codec, av.video.codeccontext.VideoCodecContext)
    codec.width, codec.height, codec.pix_fmt = SOURCE_WIDTH, SOURCE_HEIGHT, "yuv420p"
    codec.framerate = fractions.Fraction(FPS)
    codec.time_base = fractions.Fraction(1, FPS)
    codec.bit_rate = SOURCE_BITRATE
    codec.gop_size = 100_000
    codec.options = {"deadline": "realtime", "cpu-used": "8", "lag-in-frames": "0"}
    rows = np.arange(SOURCE_HEIGHT, dtype=np.int32)[:, None]
    columns = np.arange(SOURCE_WIDTH, dtype=np.int32)[None, :]
    frames: list[EncodedFrame] = []
    for n in range(count):
        picture = np.full((SOURCE_HEIGHT * 3 // 2, SOURCE_WIDTH), 128, np.uint8)
        # A moving gradient and a bar: motion everywhere, as a camera with noise has.
        moving = n * 3 if kind == "motion" else 0
        picture[:SOURCE_HEIGHT] = ((rows + columns + moving + index * 40) % 200 + 30).astype(np.uint8)
        bar = n * 8 % SOURCE_WIDTH
        picture[: SOURCE_HEIGHT // 3, bar : bar + 24] = 240
        video_frame = av.VideoFrame.from_ndarray(picture, format="yuv420p")
        video_frame.pts = n
        for packet in codec.encode(video_frame):
            data = bytes(packet)
            frames.append(EncodedFrame(data, n * 3600, is_keyframe(data), index + 1, complete=True, after_gap=False))
    return frames


class CountingWriter:
    def __init__(self, fail: threading.Event | None = None) -> None:
        self.size = 0
        self.fail = fail

    def write(self, data: bytes) -> int:
        if self.fail is not None and self.fail.is_set():
            raise OSError("the bench's sink fails")
        self.size += len(data)
        return len(data)

    def flush(self) -> None:
        pass


class CountingSink:
    def __init__(self, fail: threading.Event | None = None) -> None:
        self.bytes = 0
        self.segments = 0
        self.fail = fail

    def open(self, number: int) -> CountingWriter:
        return CountingWriter(self.fail)

    def closed(self, number: int, start_seconds: float, duration_seconds: float, writer: CountingWriter) -> None:
        self.bytes += writer.size
        self.segments += 1

    def abandoned(self, number: int, writer: CountingWriter) -> None:
        pass


def thread_cpu(native_id: int) -> float:
    """Seconds on a CPU of one of this process's threads (schedstat: nanoseconds)."""
    return int(Path(f"/proc/self/task/{native_id}/schedstat").read_text().split()[0]) / 1e9


def feed(receiver: Receiver, sources: list[list[EncodedFrame]], seconds: float) -> None:
    """What the event loop does for the recorder: a mix every 20 ms and a
    frame of each source every 40 ms, on time."""
    assert receiver.audio is not None
    tone = (np.sin(np.arange(FRAME_SAMPLES) * 2 * np.pi * 440 / SAMPLE_RATE) * 8000).astype(np.int16)
    start = time.monotonic()
    for step in range(round(seconds / 0.02)):
        delay = start + step * 0.02 - time.monotonic()
        if delay > 0:
            time.sleep(delay)
        receiver.audio.push(tone)
        if step % 2 == 0:
            for view, frames in zip(receiver.views, sources, strict=True):
                view.sink.push(frames[step // 2 % len(frames)])


def record_run(
    size: tuple[int, int] | None, sources: list[list[EncodedFrame]], seconds: float, sink_factory: Callable[[], Any]
) -> dict[str, float]:
    """One run: `size` None is the idle baseline (pushes into a recorder never started)."""
    sink = sink_factory()
    width, height = size or (640, 360)
    recorder = recording.Recorder(
        sink, labels=LABELS, segment_seconds=SEGMENT_SECONDS, width=width, height=height, fps=FPS
    )
    receiver = recorder.receiver(list(SOURCES))
    cpu, wall = time.process_time(), time.perf_counter()
    worker_cpu = 0.0
    if size is not None:
        recorder.start()
        assert recorder._thread is not None and recorder._thread.native_id is not None  # noqa: SLF001
        native_id = recorder._thread.native_id  # noqa: SLF001
        before = thread_cpu(native_id)
    feed(receiver, sources, seconds)
    if size is not None:
        worker_cpu = thread_cpu(native_id) - before
    wall, cpu = time.perf_counter() - wall, time.process_time() - cpu
    stats = recorder.stats()
    recorder.stop()
    return {
        "cores": cpu / wall,
        "worker": worker_cpu / wall,
        "lag_ms": stats.lag_max * 1000,
        "dropped_video": stats.dropped_video,
        "dropped_audio": stats.dropped_audio,
        "failures": stats.failures,
        "fps": stats.compositions / wall,
        "kbps": getattr(sink, "bytes", 0) * 8 / 1000 / seconds,
    }


def fault_run(sources: list[list[EncodedFrame]], size: tuple[int, int]) -> float:
    """Seconds from the sink's first failing write to on_failure."""
    fail = threading.Event()
    reported = threading.Event()
    failed_at: list[float] = []

    def report() -> None:
        if not failed_at:
            failed_at.append(time.monotonic())
            reported.set()

    recorder = recording.Recorder(
        CountingSink(fail),
        labels=LABELS,
        segment_seconds=SEGMENT_SECONDS,
        width=size[0],
        height=size[1],
        fps=FPS,
        on_failure=lambda reason: report(),
    )
    receiver = recorder.receiver(list(SOURCES))
    recorder.start()
    feeder = threading.Thread(target=feed, args=(receiver, sources, 3.0))
    feeder.start()
    time.sleep(1.2)
    fault = time.monotonic()
    fail.set()
    reported.wait(5.0)
    feeder.join()
    recorder.stop()
    return failed_at[0] - fault if failed_at else float("nan")


def crypto_throughput(megabytes: int) -> tuple[float, float]:
    """MB/s through SegmentWriter by the wall clock, and per second of CPU
    (the wall figure includes the disk: its close fsyncs)."""
    key = crypto.new_data_key()
    chunk = os.urandom(64 * 1024)
    with tempfile.TemporaryDirectory(prefix="recording_bench_") as folder:
        writer = crypto.SegmentWriter(Path(folder) / "segment", key, hearing_id=1, recording_id=1, segment=1)
        cpu, wall = time.process_time(), time.perf_counter()
        for _ in range(megabytes * 16):
            writer.write(chunk)
        writer.close()
        wall, cpu = time.perf_counter() - wall, time.process_time() - cpu
    return megabytes / wall, megabytes / cpu


class EncryptingSink:
    """The recording as the service writes it: each segment through its own
    SegmentWriter (AES-256-GCM chunks) into a folder, closed (fsynced) when done."""

    def __init__(self, folder: Path) -> None:
        self.folder = folder
        self.key = crypto.new_data_key()
        self.bytes = 0
        self.segments = 0

    def open(self, number: int) -> crypto.SegmentWriter:
        return crypto.SegmentWriter(
            self.folder / crypto.segment_name(number), self.key, hearing_id=1, recording_id=1, segment=number
        )

    def closed(self, number: int, start_seconds: float, duration_seconds: float, writer: crypto.SegmentWriter) -> None:
        sealed = writer.close()
        self.bytes += sealed.size
        self.segments += 1
        sealed.path.unlink()

    def abandoned(self, number: int, writer: crypto.SegmentWriter) -> None:
        writer.abort()


def main(argv: Sequence[str] | None = None) -> None:
    args = parse_args(argv)
    print_machine("recording benchmark: the recorder's worker, a hearing's cost (issue 14)")
    if args.quick:
        print(quick.NOTE)
    sizes = QUICK_SIZES if args.quick else SIZES
    default = (
        (recording.Recorder.__init__.__kwdefaults__ or {}).get("width"),
        (recording.Recorder.__init__.__kwdefaults__ or {}).get("height"),
    )
    print(
        f"runs:       {args.runs} interleaved; {args.seconds:g} s each: the idle baseline, then "
        + ", ".join(f"{w}x{h}" for w, h in sizes)
        + f"; recorder default {default[0]}x{default[1]} at {FPS} fps"
    )
    print(
        f"sources:    {len(SOURCES)} x VP8 {SOURCE_WIDTH}x{SOURCE_HEIGHT} / {FPS} fps ({args.source_frames} frames, "
        f"looped) + a 20 ms mix every 20 ms; H.264 {recording.VIDEO_OPTIONS}, Opus {recording.AUDIO_BIT_RATE // 1000} "
        f"kbps, {SEGMENT_SECONDS:g} s segments"
    )
    contents = {kind: [vp8_source(index, args.source_frames, kind) for index in range(len(SOURCES))] for kind in KINDS}
    folder = Path(tempfile.mkdtemp(prefix="recording_bench_"))
    sink = functools.partial(EncryptingSink, folder)
    results: dict[str, list[dict[str, float]]] = {"idle": []}
    for kind in KINDS:
        results.update({f"{w}x{h} {kind}": [] for w, h in sizes})
    sources = contents["motion"]
    for run in range(args.runs):
        results["idle"].append(record_run(None, sources, args.seconds, sink))
        for kind in KINDS:
            for width, height in sizes:
                row = record_run((width, height), contents[kind], args.seconds, sink)
                results[f"{width}x{height} {kind}"].append(row)
        print(
            f"  run {run + 1}: " + ", ".join(f"{name} {rows[-1]['cores']:.3f}" for name, rows in results.items()),
            flush=True,
        )

    print("\n1. CPU per recorded hearing (medians of the runs)")
    print(
        f"{'size, sources':<16} {'process':>8} {'worker':>7} {'on top':>7} {'ratio':>6} {'fps':>5} {'kbps':>6} "
        f"{'lag ms':>7} {'drop v':>7} {'drop a':>7} {'fail':>5}"
    )
    idle = statistics.median(r["cores"] for r in results["idle"])
    medians: dict[str, dict[str, float]] = {}
    for name, rows in results.items():
        median = {key: statistics.median(row[key] for row in rows) for key in rows[0]}
        medians[name] = median
        print(
            f"{name:<16} {median['cores']:>8.3f} {median['worker']:>7.3f} {median['cores'] - idle:>7.3f} "
            f"{median['cores'] / idle if idle else float('nan'):>6.1f} {median['fps']:>5.1f} {median['kbps']:>6.0f} "
            f"{median['lag_ms']:>7.0f} {median['dropped_video']:>7.0f} {median['dropped_audio']:>7.0f} "
            f"{median['failures']:>5.0f}"
        )

    print("\n2. encryption throughput (SegmentWriter, 64 KiB writes)")
    rates = [crypto_throughput(args.crypto_mb) for _ in range(args.runs)]
    print(
        f"{args.crypto_mb} MB: {statistics.median(r[0] for r in rates):.0f} MB/s by the wall clock (with the fsync), "
        f"{statistics.median(r[1] for r in rates):.0f} MB per CPU second (medians of {args.runs})"
    )

    print("\n3. a fault in the sink -> on_failure called")
    fault_size = sizes[min(1, len(sizes) - 1)]
    delays = [fault_run(sources, fault_size) for _ in range(args.faults)]
    shown = ", ".join(f"{d * 1000:.0f}" for d in delays)
    print(
        f"fault -> on_failure  {statistics.median(delays) * 1000:.0f} ms median "
        f"({shown} ms; at {fault_size[0]}x{fault_size[1]})"
    )

    shutil.rmtree(folder, ignore_errors=True)

    print("\ntargets")
    for name, median in medians.items():
        if name == "idle":
            continue
        on_top = median["cores"] - idle
        verdict = "within" if on_top <= TARGET_CORES else "OVER"
        print(
            f"recording at {name}: {on_top:.3f} cores on top of the hearing: {verdict} the target of {TARGET_CORES:g}"
        )


if __name__ == "__main__":
    main()
