"""The courtroom rig's picture (issue 13): what composing and encoding the
program costs on this machine.

1. The compositor alone (hearing/courtroom/compositor.py): four 1280x720
   BGR sources into the 1280x720 I420 program, as fast as it goes, for each
   layout; frames per second and cores (process_time / wall).
2. The rig as far as it exists: four 720p synthetic cameras (moving
   pictures, a new frame from each every tick) composed at 25 fps in the
   speaker strip, with labels, and the program encoded to VP8 by PyAV in a
   worker thread with aiortc's realtime settings (aiortc/codecs/vpx.py:
   deadline realtime, cpu-used -6, CBR, one thread on 2 cores) at 1.5 Mbps
   (aiortc's ceiling); cores per second of wall time, split by thread, and
   the ticks composed late. The target is the rig within one core.
3. The whole rig: four 720p cameras as real sources in `CameraFeed` threads
   (a) `FileCamera`s decoding a 720p H.264 file made here with PyAV
   (capture and decoding), (b) test patterns (`PatternSource`), and the
   `Program` composing them at 1280x720 / 25 fps in its own thread, its
   output VP8-encoded by aiortc's own `Vp8Encoder` at 1.5 Mbps in a worker
   thread (aiortc encodes in an executor thread; the hand-over keeps the
   newest two pictures, as `ProgramTrack` does). Against it, in the same
   run, the compose-only baseline: the same `Program` over cameras held in
   memory (a new frame every tick), output dropped. Program fps, late
   ticks, cores (process_time / wall) split by thread, and the ratio.

Runs are interleaved (every layout, then the rig, per repetition) and the
tables give medians over the repetitions. Prints figures; asserts nothing.
A default run (3 x (3 x 3 s + 10 s + 3 x 10 s)) takes about three minutes;
`--quick` (1 x (3 x 1 s + 2 s + 3 x 1.5 s)) about 15 s: it shows the bench
runs, not the figures.
"""

from __future__ import annotations

import argparse
import collections
import fractions
import queue
import statistics
import tempfile
import threading
import time
from collections.abc import Sequence
from pathlib import Path

import av
import numpy as np
import quick  # bench/quick.py
from aiortc.codecs.vpx import Vp8Encoder
from machine_facts import print_machine  # bench/machine_facts.py

from hearing.courtroom import sources as rig_sources
from hearing.courtroom.cameras import open_camera
from hearing.courtroom.compositor import LAYOUTS, Compositor, Frame, Layout
from hearing.courtroom.config import RigConfig, loads_rig
from hearing.courtroom.program import CourtroomSound, Program

QUICK = {"runs": 1, "compose_seconds": 1.0, "rig_seconds": 2.0, "whole_seconds": 1.5}
WIDTH, HEIGHT, FPS = 1280, 720, 25
BITRATE = 1_500_000  # aiortc's MAX_BITRATE
CAMERAS = ("judge", "prosecutor", "defence", "custody")
LABELS = {
    "judge": "Dommer / Judge",
    "prosecutor": "Anklager / Prosecutor",
    "defence": "Forsvarer / Defence",
    "custody": "Tiltalte / Accused",
}
PHASES = 5  # frames per camera, cycled: motion for the encoder without making pictures on the clock
TARGET_CORES = 1.0


def parse_args(argv: Sequence[str] | None = None) -> argparse.Namespace:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--runs", type=int, default=3, help="interleaved repetitions")
    parser.add_argument("--compose-seconds", type=float, default=3.0, help="per layout, per run")
    parser.add_argument("--rig-seconds", type=float, default=10.0, help="the rig, per run")
    parser.add_argument("--whole-seconds", type=float, default=10.0, help="the whole rig, per source kind, per run")
    quick.add_option(parser, QUICK)
    return quick.parse(parser, argv, QUICK)


def cameras() -> dict[str, list[Frame]]:
    """Each camera: a few frames of a gradient with a moving bar and noise."""
    rng = np.random.default_rng(13)
    ramp = np.linspace(0, 255, WIDTH, dtype=np.float32)[None, :, None]
    out: dict[str, list[Frame]] = {}
    for index, camera in enumerate(CAMERAS):
        base = np.broadcast_to(ramp * (0.4 + 0.15 * index), (HEIGHT, WIDTH, 3)).astype(np.uint8)
        frames = []
        for phase in range(PHASES):
            frame = base.copy()
            x = (phase * 97 + index * 211) % (WIDTH - 120)
            frame[:, x : x + 120] = (40 * index, 255 - 40 * index, 128)
            frame += rng.integers(0, 8, frame.shape, dtype=np.uint8)
            frames.append(frame)
        out[camera] = frames
    return out


def compose_run(layout: Layout, sources: dict[str, list[Frame]], seconds: float) -> tuple[float, float]:
    """Frames per second and cores, composing as fast as it goes."""
    compositor = Compositor(WIDTH, HEIGHT)
    count = 0
    wall, cpu = time.perf_counter(), time.process_time()
    deadline = wall + seconds
    while time.perf_counter() < deadline:
        frames = {camera: sources[camera][count % PHASES] for camera in CAMERAS}
        compositor.compose(layout, frames, main="prosecutor", labels=LABELS)
        count += 1
    wall, cpu = time.perf_counter() - wall, time.process_time() - cpu
    return count / wall, cpu / wall


def encoder() -> av.video.codeccontext.VideoCodecContext:
    codec = av.CodecContext.create("libvpx", "w")
    assert isinstance(codec, av.video.codeccontext.VideoCodecContext)
    codec.width, codec.height = WIDTH, HEIGHT
    codec.bit_rate = BITRATE
    codec.pix_fmt = "yuv420p"
    codec.framerate = FPS  # type: ignore[assignment]
    codec.gop_size = 3000
    codec.qmin, codec.qmax = 2, 56
    codec.options = {  # as aiortc/codecs/vpx.py
        "bufsize": str(BITRATE),
        "cpu-used": "-6",
        "deadline": "realtime",
        "lag-in-frames": "0",
        "minrate": str(BITRATE),
        "maxrate": str(BITRATE),
        "noise-sensitivity": "4",
        "overshoot-pct": "15",
        "partitions": "0",
        "static-thresh": "1",
        "undershoot-pct": "100",
    }
    codec.thread_count = 1  # aiortc's number_of_threads(1280 * 720, 2)
    return codec


def rig_run(sources: dict[str, list[Frame]], seconds: float) -> dict[str, float]:
    """Compose at 25 fps, encode in a worker thread; cores over the run."""
    compositor = Compositor(WIDTH, HEIGHT)
    handed: queue.Queue[av.VideoFrame | None] = queue.Queue(maxsize=FPS)
    encoded = {"frames": 0, "bytes": 0, "cpu": 0.0}

    def encode() -> None:
        codec = encoder()
        start = time.thread_time()
        while (frame := handed.get()) is not None:
            for packet in codec.encode(frame):
                encoded["bytes"] += packet.size
            encoded["frames"] += 1
        encoded["cpu"] = time.thread_time() - start

    worker = threading.Thread(target=encode, name="encoder")
    worker.start()
    late = ticks = 0
    wall, cpu, compose_cpu = time.perf_counter(), time.process_time(), time.thread_time()
    while ticks < seconds * FPS:
        due = wall + ticks / FPS
        if (ahead := due - time.perf_counter()) > 0:
            time.sleep(ahead)
        elif ahead < -0.5 / FPS:
            late += 1
        frames = {camera: sources[camera][ticks % PHASES] for camera in CAMERAS}
        i420 = compositor.compose("speaker_strip", frames, main="prosecutor", labels=LABELS)
        frame = av.VideoFrame.from_ndarray(i420, format="yuv420p")  # a copy: the compositor reuses its buffer
        frame.pts, frame.time_base = ticks, fractions.Fraction(1, FPS)
        handed.put(frame)
        ticks += 1
    handed.put(None)
    worker.join()
    wall, cpu, compose_cpu = time.perf_counter() - wall, time.process_time() - cpu, time.thread_time() - compose_cpu
    return {
        "cores": cpu / wall,
        "compose": compose_cpu / wall,
        "encode": encoded["cpu"] / wall,
        "fps": encoded["frames"] / wall,
        "kbps": encoded["bytes"] * 8 / wall / 1000,
        "late": late,
        "ticks": ticks,
    }


# -- 3. the whole rig ---------------------------------------------------------------

SEATS = ("judge", "prosecutor", "defence", "witness")  # four of the rig's seats (hearing/courtroom/config.py)
CLIP_SECONDS = 4  # the file cameras loop it: long enough that reopening it is rare
KINDS = ("compose only", "test patterns", "720p H.264 files")
HANDOVER = 2  # pictures waiting for the encoder, as ProgramTrack's queue: the newest win
WARM_SECONDS = 10.0  # at most, for every camera's first frame


def make_clip(path: Path, index: int) -> None:
    """A 720p H.264 clip at 25 fps with motion and noise, as a camera's file."""
    rng = np.random.default_rng(index)
    ramp = np.linspace(0, 255, WIDTH, dtype=np.float32)[None, :, None]
    base = np.broadcast_to(ramp * (0.4 + 0.15 * index), (HEIGHT, WIDTH, 3)).astype(np.uint8)
    # A few noise fields, cycled: drawing one per frame would make the clips the bench's slowest part.
    noise = [rng.integers(0, 8, (HEIGHT, WIDTH, 3), dtype=np.uint8) for _ in range(PHASES)]
    with av.open(str(path), "w") as container:
        stream = container.add_stream("libx264", rate=FPS)
        assert isinstance(stream, av.video.stream.VideoStream)
        stream.width, stream.height, stream.pix_fmt = WIDTH, HEIGHT, "yuv420p"
        stream.options = {"preset": "ultrafast", "crf": "23"}
        for n in range(CLIP_SECONDS * FPS):
            picture = base.copy()
            x = (n * 17 + index * 211) % (WIDTH - 120)
            picture[:, x : x + 120] = (40 * index, 255 - 40 * index, 128)
            picture += noise[n % PHASES]
            for packet in stream.encode(av.VideoFrame.from_ndarray(picture, format="bgr24")):
                container.mux(packet)
        for packet in stream.encode():
            container.mux(packet)


def rig_config(clips: Sequence[Path] | None) -> RigConfig:
    cameras = "".join(
        f'[[camera]]\nid = "cam-{seat}"\nseat = "{seat}"\n'
        f'label = {{ da = "{LABELS.get(seat, seat)}", en = "{seat}" }}\n'
        f'source = "{f"file:{clips[i]}" if clips else "test:"}"\n\n'
        for i, seat in enumerate(SEATS)
    )
    return loads_rig(
        f'[rig]\nserver_url = "http://127.0.0.1:8000"\ntoken_file = "rig.token"\nbench_camera = "cam-judge"\n'
        f'width = {WIDTH}\nheight = {HEIGHT}\nfps = {FPS}\nlayout = "speaker_strip"\n\n{cameras}'
    )


class HeldCamera:
    """The baseline's camera: frames in memory, a new one every time it is asked."""

    state = "live"

    def __init__(self, frames: list[Frame]) -> None:
        self.frames = frames
        self.count = 0

    def latest(self) -> tuple[Frame | None, int]:
        self.count += 1
        return self.frames[self.count % len(self.frames)], self.count


class ThreadClock:
    """The program thread's CPU, read from inside it (its output callback)."""

    def __init__(self) -> None:
        self.first: float | None = None
        self.last = 0.0

    def mark(self) -> None:
        now = time.thread_time()
        if self.first is None:
            self.first = now
        self.last = now

    @property
    def cpu(self) -> float:
        return 0.0 if self.first is None else self.last - self.first


def whole_run(kind: str, config: RigConfig, held: dict[str, list[Frame]], seconds: float) -> dict[str, float]:
    """One source kind: cameras started and live, then the program (and the
    encoder, unless compose only) for `seconds`; cores over that window."""
    if kind == "compose only":
        cameras: dict[str, rig_sources.CameraFeed | HeldCamera] = {
            c.id: HeldCamera(held[CAMERAS[i]]) for i, c in enumerate(config.cameras)
        }
    else:
        cameras = {
            c.id: rig_sources.CameraFeed(
                c,
                (lambda c=c: open_camera(c.source, c, WIDTH, HEIGHT, FPS)),  # type: ignore[misc]
            )
            for c in config.cameras
        }
    feeds = [camera for camera in cameras.values() if isinstance(camera, rig_sources.CameraFeed)]
    for feed in feeds:
        feed.start()
    try:
        deadline = time.monotonic() + WARM_SECONDS
        while any(feed.latest()[0] is None for feed in feeds):
            if time.monotonic() > deadline:
                raise SystemExit(f"{kind}: the cameras gave no frame in {WARM_SECONDS:g} s")
            time.sleep(0.05)
        return _measure(kind, config, cameras, seconds)
    finally:
        for feed in feeds:
            feed.stop()


def _measure(
    kind: str, config: RigConfig, cameras: dict[str, rig_sources.CameraFeed | HeldCamera], seconds: float
) -> dict[str, float]:
    clock = ThreadClock()
    encoding = kind != "compose only"
    lock = threading.Condition()
    waiting: collections.deque[av.VideoFrame | None] = collections.deque()
    encoded = {"frames": 0.0, "bytes": 0.0, "dropped": 0.0, "cpu": 0.0}

    def offer(i420: Frame, n: int) -> None:
        clock.mark()
        if not encoding:
            return
        frame = av.VideoFrame.from_ndarray(i420, format="yuv420p")  # a copy: the buffer is reused
        frame.pts, frame.time_base = n, fractions.Fraction(1, FPS)
        with lock:
            if len(waiting) >= HANDOVER:
                waiting.popleft()
                encoded["dropped"] += 1
            waiting.append(frame)
            lock.notify()

    def encode() -> None:
        vp8 = Vp8Encoder()
        vp8.target_bitrate = BITRATE
        start = time.thread_time()
        while True:
            with lock:
                lock.wait_for(lambda: bool(waiting))
                frame = waiting.popleft()
            if frame is None:
                break
            payloads, _ = vp8.encode(frame)
            encoded["bytes"] += sum(len(p) for p in payloads)
            encoded["frames"] += 1
        encoded["cpu"] = time.thread_time() - start

    worker = threading.Thread(target=encode, name="encoder")
    if encoding:
        worker.start()
    program = Program(config, cameras, CourtroomSound([], SEATS), output=offer)
    wall, cpu = time.perf_counter(), time.process_time()
    program.start()
    time.sleep(seconds)
    program.stop()
    if encoding:
        with lock:
            waiting.append(None)
            lock.notify()
        worker.join()
    wall, cpu = time.perf_counter() - wall, time.process_time() - cpu
    cores, compose, encode_cores = cpu / wall, clock.cpu / wall, encoded["cpu"] / wall
    return {
        "fps": program.ticks / wall,
        "late": program.late_ticks,
        "ticks": program.ticks,
        "cores": cores,
        "compose": compose,
        "encode": encode_cores,
        # The camera threads, OpenCV's own worker threads (cv2.resize runs in
        # parallel) and the rest: the process less the program and encoder threads.
        "other": max(cores - compose - encode_cores, 0.0),
        "encoded": encoded["frames"] / wall,
        "dropped": encoded["dropped"],
        "kbps": encoded["bytes"] * 8 / wall / 1000,
    }


def print_whole(whole: dict[str, list[dict[str, float]]], runs: int) -> dict[str, dict[str, float]]:
    print(
        f"\n3. the whole rig: 4 x {WIDTH}x{HEIGHT} cameras in CameraFeed threads, Program at {FPS} fps "
        f"(speaker strip), aiortc Vp8Encoder {BITRATE // 1000} kbps in a worker   (medians of {runs})"
    )
    print(
        f"{'sources':<18} {'fps':>5} {'late':>5} {'cores':>6} {'program':>8} {'encode':>7} {'other':>8} "
        f"{'enc fps':>8} {'dropped':>8} {'kbps':>6} {'ratio':>6}"
    )
    medians = {kind: {key: statistics.median(r[key] for r in whole[kind]) for key in whole[kind][0]} for kind in KINDS}
    base = medians["compose only"]["cores"]
    for kind in KINDS:
        m = medians[kind]
        print(
            f"{kind:<18} {m['fps']:>5.1f} {m['late']:>5.0f} {m['cores']:>6.3f} {m['compose']:>8.3f} "
            f"{m['encode']:>7.3f} {m['other']:>8.3f} {m['encoded']:>8.1f} {m['dropped']:>8.0f} {m['kbps']:>6.0f} "
            f"{m['cores'] / base if base > 0 else float('nan'):>6.2f}"
        )
    return medians


def main(argv: Sequence[str] | None = None) -> None:
    args = parse_args(argv)
    print_machine("rig benchmark: the courtroom program, composed and encoded (issue 13)")
    if args.quick:
        print(quick.NOTE)
    print(
        f"runs:       {args.runs} interleaved; {args.compose_seconds:g} s per layout, "
        f"{args.rig_seconds:g} s of the rig, {args.whole_seconds:g} s of the whole rig per source kind"
    )
    sources = cameras()
    composed: dict[Layout, list[tuple[float, float]]] = {layout: [] for layout in LAYOUTS}
    rigs: list[dict[str, float]] = []
    whole: dict[str, list[dict[str, float]]] = {kind: [] for kind in KINDS}
    with tempfile.TemporaryDirectory(prefix="rig_bench_") as folder:
        clips = [Path(folder) / f"{seat}.mp4" for seat in SEATS]
        for index, clip in enumerate(clips):
            make_clip(clip, index)
        configs = {
            "compose only": rig_config(None),
            "test patterns": rig_config(None),
            "720p H.264 files": rig_config(clips),
        }
        for run in range(args.runs):
            for layout in LAYOUTS:
                composed[layout].append(compose_run(layout, sources, args.compose_seconds))
            rigs.append(rig_run(sources, args.rig_seconds))
            for kind in KINDS:
                whole[kind].append(whole_run(kind, configs[kind], sources, args.whole_seconds))
            print(
                f"  run {run + 1}: rig {rigs[-1]['cores']:.3f} cores; whole rig "
                + ", ".join(f"{kind} {whole[kind][-1]['cores']:.3f}" for kind in KINDS),
                flush=True,
            )

    print(f"\n1. the compositor: 4 x {WIDTH}x{HEIGHT} BGR -> {WIDTH}x{HEIGHT} I420, labels, as fast as it goes")
    print(f"{'layout':<14} {'fps':>8} {'ms/frame':>9} {'cores':>6} {'cores at 25 fps':>16}   (medians of {args.runs})")
    for layout in LAYOUTS:
        fps = statistics.median(f for f, _ in composed[layout])
        cores = statistics.median(c for _, c in composed[layout])
        print(f"{layout:<14} {fps:>8.0f} {1000 / fps:>9.2f} {cores:>6.2f} {cores * FPS / fps:>16.3f}")

    print(
        f"\n2. the rig: 4 x 720p cameras composed at {FPS} fps (speaker strip) + VP8 {BITRATE // 1000} kbps in a thread"
    )
    print(f"{'':<8} {'cores':>6} {'compose':>8} {'encode':>7} {'fps':>6} {'kbps':>6} {'late':>5} {'ticks':>6}")
    for run, rig in enumerate(rigs, 1):
        print(
            f"run {run:<4} {rig['cores']:>6.3f} {rig['compose']:>8.3f} {rig['encode']:>7.3f} {rig['fps']:>6.1f} "
            f"{rig['kbps']:>6.0f} {rig['late']:>5.0f} {rig['ticks']:>6.0f}"
        )
    median = {key: statistics.median(rig[key] for rig in rigs) for key in rigs[0]}
    print(
        f"{'median':<8} {median['cores']:>6.3f} {median['compose']:>8.3f} {median['encode']:>7.3f} "
        f"{median['fps']:>6.1f} {median['kbps']:>6.0f} {median['late']:>5.0f} {median['ticks']:>6.0f}"
    )
    medians = print_whole(whole, args.runs)
    print("\ntargets")
    verdict = "within" if median["cores"] <= TARGET_CORES else "OVER"
    print(f"the rig (compose + encode) {median['cores']:.3f} cores: {verdict} the target of {TARGET_CORES:g} core")
    for kind in KINDS[1:]:
        cores = medians[kind]["cores"]
        verdict = "within" if cores <= TARGET_CORES else "OVER"
        print(f"the whole rig ({kind}) {cores:.3f} cores: {verdict} the target of {TARGET_CORES:g} core")


if __name__ == "__main__":
    main()
