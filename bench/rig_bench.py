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

Runs are interleaved (every layout, then the rig, per repetition) and the
tables give medians over the repetitions. Prints figures; asserts nothing.
A default run (3 x (3 x 3 s + 10 s)) takes about a minute; `--quick`
(3 x (3 x 1 s + 2 s)) about 15 s: it shows the bench runs, not the figures.
"""

from __future__ import annotations

import argparse
import fractions
import queue
import statistics
import threading
import time
from collections.abc import Sequence

import av
import numpy as np
import quick  # bench/quick.py
from machine_facts import print_machine  # bench/machine_facts.py

from hearing.courtroom.compositor import LAYOUTS, Compositor, Frame, Layout

QUICK = {"compose_seconds": 1.0, "rig_seconds": 2.0}
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


def main(argv: Sequence[str] | None = None) -> None:
    args = parse_args(argv)
    print_machine("rig benchmark: the courtroom program, composed and encoded (issue 13)")
    if args.quick:
        print(quick.NOTE)
    print(
        f"runs:       {args.runs} interleaved; {args.compose_seconds:g} s per layout, {args.rig_seconds:g} s of the rig"
    )
    sources = cameras()
    composed: dict[Layout, list[tuple[float, float]]] = {layout: [] for layout in LAYOUTS}
    rigs: list[dict[str, float]] = []
    for run in range(args.runs):
        for layout in LAYOUTS:
            composed[layout].append(compose_run(layout, sources, args.compose_seconds))
        rigs.append(rig_run(sources, args.rig_seconds))
        print(f"  run {run + 1}: rig {rigs[-1]['cores']:.3f} cores", flush=True)

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
    print("\ntargets")
    verdict = "within" if median["cores"] <= TARGET_CORES else "OVER"
    print(f"the rig (compose + encode) {median['cores']:.3f} cores: {verdict} the target of {TARGET_CORES:g} core")


if __name__ == "__main__":
    main()
