"""Soak: a live hearing under a mixed load from misbehaving clients.

One run, through the real server (uvicorn, the application, SQLite or
PostgreSQL, in a process of its own so that its CPU and memory are its own):

- a hearing in session, its judge and its custody seat real aiortc peers;
  the custody seat sends a steady 1012.5 Hz tone and the judge's seat
  decodes what the server sends it, so that every gap in the tone (a block
  of 10 ms well under the tone's level, or a frame missing by its RTP
  timestamp) and every lasting phase step (audio put in or taken out) is
  found;
- two signed-in staff members (the judge and a clerk) polling, as their
  pages do, the floor's snapshot (`GET /hearings/{id}/floor`) and the day's
  docket (`GET /hearings`), with the judge's panel feed open;
- first a quiet phase (`--quiet` seconds, nothing else), then for
  `--minutes` the hostile load, all at once:
  * a reconnect storm on the courtroom seat (the measured seats are the
    judge's and custody's): two enrolled courtroom rigs connect and go away
    as fast as they can, by `leave`, a clean close, a dropped TCP link, a
    frame over the socket's size limit, or by a newer connection taking
    the seat (the older must be told `replaced` and closed with 4409);
    every tenth connection negotiates media before it goes;
  * malformed messages on each storm connection (not JSON, binary, deep
    nesting, not an object, unknown types, wrong fields, oversized, an
    answer, bad SDP, a candidate before the offer, a request from the
    courtroom), each answered by its documented error code or not;
  * a flooding endpoint: the custody kiosk itself sends `request` and
    `withdraw` for its people, requests for other seats' speakers and for
    no one, as fast as the server takes them (at most 16 unanswered), with
    a malformed message now and then, on the socket of the seat whose tone
    is measured: a misbehaving kiosk must not lose its own audio;
  * sign-in attempts with wrong passwords from an outside client (the
    sign-in form with its CSRF token, `--signin-rate` a second): most are
    refused by the rate limit, which is what should happen.

Prints the staff pages' latency (median, p95, p99) in the quiet phase and
under load, and their ratio; the tone's continuity at the judge in each
phase (gaps over 40 ms, the longest); the server process's CPU and peak
RSS; what each misbehaving client was answered (error codes, close codes,
HTTP statuses); the audit entries appended; and every error-level line the
server logged (there should be none). Asserts nothing.

The storm, the malformed messages and the sign-in attempts run in a
process of their own; the measured seats, the staff and the flooding
kiosk in this one (the flood is on the measured seat's own socket). The
server is pinned to one core and both client processes to the other when
there are two. A full run takes `--quiet` + `--minutes` (2 + 20 minutes by
default) and about 15 s more; `--quick` (10 s quiet, 25 s of load) about
50 s: it shows the bench still works, not what the figures are.
"""

from __future__ import annotations

import argparse
import asyncio
import contextlib
import dataclasses
import importlib.metadata
import itertools
import json
import logging
import math
import multiprocessing
import multiprocessing.context
import os
import re
import shlex
import socket
import sqlite3
import sys
import tempfile
import time
import urllib.parse
from collections import Counter
from collections.abc import Awaitable, Callable, Mapping, Sequence
from datetime import datetime, timedelta
from multiprocessing.connection import Connection
from pathlib import Path
from typing import Any

import aiortc
import av
import numpy as np
import numpy.typing as npt
import pyotp
import quick  # bench/quick.py
import sqlalchemy
import starlette
import uvicorn
from aiortc import RTCBundlePolicy, RTCConfiguration, RTCPeerConnection, RTCSessionDescription
from aiortc.mediastreams import MediaStreamError, MediaStreamTrack
from machine_facts import load_average, print_machine  # bench/machine_facts.py
from media_bench import cores, cpu_seconds, fmt, percentile  # bench/media_bench.py
from sqlalchemy import func, select
from sqlalchemy.orm import Session
from websockets.asyncio.client import ClientConnection, connect
from websockets.exceptions import ConnectionClosed, InvalidHandshake

from hearing import logs
from hearing.actors import SYSTEM
from hearing.app import create_app
from hearing.auth import devices, signin, users
from hearing.auth.roles import Role
from hearing.clock import utcnow
from hearing.config import Settings
from hearing.db import migrate
from hearing.db.models import AuditEntry
from hearing.docket import booking, proceedings, sites
from hearing.docket.lifecycle import Transition
from hearing.docket.parties import EndpointKind, HearingKind
from hearing.media import aiortc_hooks
from hearing.media.mixer import SAMPLE_RATE, Pcm
from hearing.media.tracks import ToneTrack, to_mono
from hearing.services import Services
from hearing.web import csrf
from hearing.web.routing import DEVICE_AUTH_SCHEME

LOOPBACK = ("127.0.0.1",)
QUICK = {"minutes": 25 / 60, "quiet": 10.0}
GAP_MS = 40.0  # a gap in the tone longer than this is counted
POLL_SECONDS = 0.25  # between a staff member's page loads
PING_SECONDS = 2.0  # as the product's clients ping
FLOOD_WINDOW = 16  # flood messages sent before waiting for the server to have taken them
STORM_MEDIA_EVERY = 10  # every tenth storm connection negotiates media before it goes
REPLY_SECONDS = 10.0  # an answer later than this is counted as missing
SOCKET_MAX_BYTES = 256 * 1024  # as `hearing serve` runs uvicorn (ws_max_size)
CLOCK_TICKS = os.sysconf("SC_CLK_TCK")


# ---------------------------------------------------------------- arguments


def parse_args(argv: Sequence[str] | None = None) -> argparse.Namespace:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0] if __doc__ else None)
    parser.add_argument("--minutes", type=float, default=20.0, help="minutes of hostile load (default 20)")
    parser.add_argument("--quiet", type=float, default=120.0, help="seconds of the quiet phase before it (default 120)")
    parser.add_argument(
        "--database-url",
        metavar="URL",
        help="run on this PostgreSQL database instead of SQLite: a throwaway one, its public schema is emptied "
        "before and after the run",
    )
    parser.add_argument(
        "--signin-rate", type=float, default=10.0, help="wrong-password sign-in attempts a second (default 10)"
    )
    parser.add_argument(
        "--guess-username",
        default="auditor",
        help="the existing account the outside client guesses passwords for, every other attempt (default: "
        "auditor, an account not in the hearing; 'judge' shows what locking the judge out does to the hearing)",
    )
    parser.add_argument("--json", type=Path, metavar="PATH", help="also write the figures here")
    quick.add_option(parser, QUICK)
    args = quick.parse(parser, argv, QUICK)
    if args.minutes <= 0 or args.quiet < 5 or args.signin_rate <= 0:
        parser.error("--minutes must be positive, --quiet at least 5 s, --signin-rate positive")
    return args


def print_header(args: argparse.Namespace, server_core: int | None, client_core: int | None, database: str) -> None:
    print_machine("soak benchmark")
    print(
        f"packages:   aiortc {aiortc.__version__}, av {av.__version__}, uvicorn {uvicorn.__version__} (h11), "
        f"websockets {importlib.metadata.version('websockets')}, starlette {starlette.__version__}, "
        f"SQLAlchemy {sqlalchemy.__version__}, SQLite {sqlite3.sqlite_version}"
    )
    if args.quick:
        print(quick.NOTE)
    print(
        f"pinning:    server process on core {server_core}; this process (the measured seats, the staff, the "
        f"flooding kiosk) and the hostile process (storm, malformed messages, sign-in) on core {client_core}"
    )
    print(f"database:   {database}")
    print(
        f"runs:       {args.quiet:g} s quiet, then {args.minutes * 60:g} s of hostile load; staff pages every "
        f"{POLL_SECONDS * 1000:.0f} ms per staff member; sign-in attempts {args.signin_rate:g}/s, every other one "
        f"for {args.guess_username!r}, the rest for unknown names"
    )
    print(
        f"audio:      custody sends a {TONE_HZ} Hz tone at {TONE_AMPLITUDE:g} of full scale; the judge's seat decodes; "
        f"a gap is a run of 10 ms blocks {LEVEL_DROP_DB:g} dB under the quiet phase's median level (a frame "
        "missing by its RTP timestamp is silence)"
    )
    print()


# ---------------------------------------------------------------- the tone's continuity
#
# Taken from tests/media/continuity.py (the detector the media tests use;
# bench/ must not import tests/): the same demodulation at the tone's
# frequency in 10 ms Hann-windowed blocks, the same level and phase rules.
# Here the blocks are demodulated frame by frame as they arrive, so that a
# 20-minute run keeps 100 complex numbers a second instead of the PCM.

TONE_HZ = 1012.5  # 20.25 cycles per 20 ms frame: a frame put in or taken out shifts the phase a quarter turn
TONE_AMPLITUDE = 0.3
BLOCK = 480  # 10 ms
LEVEL_DROP_DB = 6.0  # a block this far under the reference level is a gap
PHASE_STEP_DEGREES = 30.0  # a lasting phase change this large is a frame in or out
SETTLE_BLOCKS = 3  # a phase step must hold this long (Opus smears an edit over a block or two)
PERIOD = 1280  # samples: 1012.5 Hz is exactly 27 cycles in 1280 samples at 48 kHz
WINDOW = np.hanning(BLOCK)
CARRIER = np.exp(-2j * math.pi * TONE_HZ * np.arange(PERIOD + 6 * BLOCK) / SAMPLE_RATE)


def demodulate(pcm: Pcm, start: int) -> npt.NDArray[np.complex128]:
    """The tone's complex amplitude in each whole 10 ms block of `pcm`,
    whose first sample is sample `start` of the stream (the carrier counts
    absolute sample numbers: a steady tone keeps one phase)."""
    blocks = min(len(pcm) // BLOCK, 6)
    at = start % PERIOD
    signal = pcm[: blocks * BLOCK].astype(np.float64) * CARRIER[at : at + blocks * BLOCK]
    amplitudes: npt.NDArray[np.complex128] = (signal.reshape(blocks, BLOCK) @ WINDOW) * 2 / WINDOW.sum()
    return amplitudes


def _wrap(degrees: float) -> float:
    return (degrees + 180.0) % 360.0 - 180.0


def _circular_median(degrees: npt.NDArray[np.float64]) -> float:
    """The median of angles that cluster (relative to their circular mean)."""
    radians = np.radians(degrees)
    mean = math.degrees(math.atan2(float(np.sin(radians).mean()), float(np.cos(radians).mean())))
    return _wrap(mean + float(np.median([_wrap(d - mean) for d in degrees])))


def phase_steps(amplitudes: npt.NDArray[np.complex128], quiet: npt.NDArray[np.bool_]) -> tuple[int, int]:
    """(skips, inserts): lasting steps of the tone's phase, judged on blocks
    with the tone present (tests/media/continuity.py's rule)."""
    count = len(amplitudes)
    if count < 4 * SETTLE_BLOCKS:
        return 0, 0
    phase = np.degrees(np.angle(amplitudes))
    skips = inserts = 0
    index = SETTLE_BLOCKS
    reference = _circular_median(phase[:SETTLE_BLOCKS])
    while index < count - SETTLE_BLOCKS:
        if quiet[index]:
            index += 1
            continue
        if abs(_wrap(phase[index] - reference)) <= PHASE_STEP_DEGREES:
            index += 1
            continue
        after = _circular_median(phase[index + 1 : index + 1 + SETTLE_BLOCKS])
        step = _wrap(after - reference)
        if abs(step) > PHASE_STEP_DEGREES:
            # Phase runs as -2*pi*f*delay: samples added lower it, missing ones raise it.
            if step > 0:
                skips += 1
            else:
                inserts += 1
            reference = after
            index += SETTLE_BLOCKS + 1
        else:
            index += 1  # a one-block glitch that did not last: its level tells if it matters
    return skips, inserts


@dataclasses.dataclass
class Heard:
    """One decoded frame at the judge's seat."""

    track: int  # which of the judge's connections (a reconnect starts a new stream)
    pts: int  # the RTP timestamp: where it belongs in the stream
    at: float  # arrival, CLOCK_MONOTONIC
    blocks: npt.NDArray[np.complex128]


class Ear:
    """What the judge's seat hears, reduced to the tone's amplitude per block."""

    def __init__(self) -> None:
        self.frames: list[Heard] = []
        self.tracks = 0
        self.tasks: list[asyncio.Task[None]] = []

    def attach(self, track: MediaStreamTrack) -> None:
        if track.kind == "audio":
            self.tracks += 1
            self.tasks.append(asyncio.create_task(self._listen(track, self.tracks), name="ear"))

    async def _listen(self, track: MediaStreamTrack, number: int) -> None:
        with contextlib.suppress(MediaStreamError):
            while True:
                frame = await track.recv()
                at = time.monotonic()
                assert isinstance(frame, av.AudioFrame) and frame.pts is not None
                self.frames.append(Heard(number, frame.pts, at, demodulate(to_mono(frame), frame.pts)))

    def hears_tone(self, since: float) -> bool:
        recent = [f for f in self.frames[-25:] if f.at >= since]
        return len(recent) >= 20 and all(np.abs(f.blocks).min() > 0.3 * TONE_AMPLITUDE * 32767 for f in recent)

    async def close(self) -> None:
        for task in self.tasks:
            task.cancel()
            with contextlib.suppress(asyncio.CancelledError):
                await task


class SentTone(ToneTrack):
    """Custody's microphone: the tone, noting when each frame is handed to
    the encoder, so that a gap at the judge can be told from a stall of
    the sender (this process shares its core with the other clients)."""

    def __init__(self, sent: list[float]) -> None:
        super().__init__(TONE_HZ, TONE_AMPLITUDE)
        self.sent = sent

    async def recv(self) -> av.AudioFrame:
        frame = await super().recv()
        self.sent.append(time.monotonic())
        return frame


@dataclasses.dataclass
class Continuity:
    seconds: float = 0.0
    gaps: list[float] = dataclasses.field(default_factory=list)  # ms, every run of quiet blocks
    gaps_at: list[float] = dataclasses.field(default_factory=list)  # when each began (arrival, monotonic)
    sender_stalls: list[tuple[float, float]] = dataclasses.field(default_factory=list)  # (when, ms) > GAP_MS
    missing_frames: int = 0  # by RTP timestamp
    skips: int = 0
    inserts: int = 0
    stalls: list[float] = dataclasses.field(default_factory=list)  # ms between decoded frames' arrivals, > GAP_MS

    @property
    def long_gaps(self) -> int:
        return sum(g > GAP_MS for g in self.gaps)

    @property
    def long_gaps_after_sender_stall(self) -> int:
        """Long gaps that began within a second after the sender stalled."""
        return sum(
            any(0 <= at - when <= 1.0 for when, _ in self.sender_stalls)
            for at, gap in zip(self.gaps_at, self.gaps, strict=True)
            if gap > GAP_MS
        )


def blocks_of(
    frames: Sequence[Heard],
) -> tuple[npt.NDArray[np.complex128], npt.NDArray[np.float64], npt.NDArray[np.bool_]]:
    """Every frame's blocks placed by its timestamp, track after track, with
    the time between two tracks (the judge reconnected) as silence:
    (amplitudes, each block's arrival time, whether a frame filled it)."""
    amplitudes: list[npt.NDArray[np.complex128]] = []
    arrivals: list[npt.NDArray[np.float64]] = []
    received: list[npt.NDArray[np.bool_]] = []
    last_at: float | None = None
    for _, group in itertools.groupby(frames, key=lambda f: f.track):
        track = sorted(group, key=lambda f: f.pts)
        if last_at is not None:
            between = max(0, round((track[0].at - last_at) * SAMPLE_RATE / BLOCK))
            amplitudes.append(np.zeros(between, dtype=np.complex128))
            arrivals.append(np.linspace(last_at, track[0].at, between, endpoint=False))
            received.append(np.zeros(between, dtype=np.bool_))
        origin = track[0].pts
        end = track[-1].pts + BLOCK * len(track[-1].blocks)
        count = (end - origin) // BLOCK
        here = np.zeros(count, dtype=np.complex128)
        at = np.full(count, np.nan)
        for frame in track:
            first = (frame.pts - origin) // BLOCK
            here[first : first + len(frame.blocks)] = frame.blocks
            at[first : first + len(frame.blocks)] = frame.at
        filled = ~np.isnan(at)
        # A missing block happened when the next frame that did come arrived.
        at = np.flip(np.fmin.accumulate(np.flip(np.where(filled, at, np.inf))))
        amplitudes.append(here)
        arrivals.append(at)
        received.append(filled)
        last_at = track[-1].at
    if not amplitudes:
        return np.zeros(0, dtype=np.complex128), np.zeros(0), np.zeros(0, dtype=np.bool_)
    return np.concatenate(amplitudes), np.concatenate(arrivals), np.concatenate(received)


def continuity(
    frames: Sequence[Heard], sent: Sequence[float], phases: Mapping[str, tuple[float, float]]
) -> dict[str, Continuity]:
    """The tone's gaps, phase steps and missing frames in each phase, against
    the quiet phase's median level."""
    amplitudes, arrivals, filled = blocks_of(frames)
    level = np.abs(amplitudes)
    quiet_start, quiet_end = phases["quiet"]
    reference_blocks = level[(arrivals >= quiet_start) & (arrivals < quiet_end) & (level > 0)]
    reference = float(np.median(reference_blocks)) if reference_blocks.size else math.nan
    quiet = level < reference * 10 ** (-LEVEL_DROP_DB / 20)
    result = {}
    for name, (start, end) in phases.items():
        inside = (arrivals >= start) & (arrivals < end)
        figures = Continuity(seconds=float(inside.sum()) * BLOCK / SAMPLE_RATE)
        run, began = 0, start
        for is_quiet, at in zip([*quiet[inside].tolist(), False], [*arrivals[inside].tolist(), end], strict=True):
            if is_quiet:
                if run == 0:
                    began = at
                run += 1
            elif run:
                figures.gaps.append(run * BLOCK / SAMPLE_RATE * 1000)
                figures.gaps_at.append(began)
                run = 0
        figures.missing_frames = int((~filled & inside).sum()) // 2
        figures.skips, figures.inserts = phase_steps(amplitudes[inside], quiet[inside])
        times = sorted(f.at for f in frames if start <= f.at < end)
        figures.stalls = [gap * 1000 for gap in np.diff(times).tolist() if gap * 1000 > GAP_MS]
        handed = [at for at in sent if start <= at < end]
        figures.sender_stalls = [
            (later, (later - earlier) * 1000)
            for earlier, later in itertools.pairwise(handed)
            if (later - earlier) * 1000 > GAP_MS
        ]
        result[name] = figures
    return result


# ---------------------------------------------------------------- the server process


def server_main(data_dir: str, database_url: str, port: int, core: int | None, log_path: str) -> None:
    """The application under uvicorn, as `hearing serve` runs it, logging as
    it does (JSON lines, level INFO) to a file the bench reads afterwards."""
    if core is not None:
        os.sched_setaffinity(0, {core})
    log = os.open(log_path, os.O_WRONLY | os.O_CREAT | os.O_APPEND, 0o600)
    os.dup2(log, 2)  # tracebacks that bypass logging land there too
    os.close(log)
    logs.configure(logging.INFO)
    settings = Settings(
        data_dir=Path(data_dir), database_url=database_url, host="127.0.0.1", port=port, cookie_secure=False
    )
    config = uvicorn.Config(
        create_app(settings),
        host="127.0.0.1",
        port=port,
        ws_max_size=SOCKET_MAX_BYTES,
        access_log=False,
        log_config=None,
        lifespan="on",
        timeout_graceful_shutdown=10,
    )
    uvicorn.Server(config).run()


class ServerProcess:
    def __init__(self, settings: Settings, core: int | None, log_path: Path) -> None:
        ctx = multiprocessing.get_context("spawn")
        self.port = settings.port
        self.process = ctx.Process(
            target=server_main,
            args=(str(settings.data_dir), settings.database_url, settings.port, core, str(log_path)),
            name="server",
            daemon=True,
        )
        self.process.start()

    @property
    def pid(self) -> int:
        assert self.process.pid is not None
        return self.process.pid

    def wait_ready(self, timeout: float = 60.0) -> None:
        deadline = time.monotonic() + timeout
        while time.monotonic() < deadline:
            if not self.process.is_alive():
                raise RuntimeError(f"the server exited with {self.process.exitcode}")
            with contextlib.suppress(OSError), socket.create_connection(("127.0.0.1", self.port), timeout=1):
                return
            time.sleep(0.1)
        raise TimeoutError("the server did not start")

    def stop(self) -> None:
        if self.process.is_alive():
            self.process.terminate()  # SIGTERM: uvicorn shuts down gracefully, the live hearings close
            self.process.join(20)
        if self.process.is_alive():
            self.process.kill()
            self.process.join(5)


def memory_kib(pid: int) -> dict[str, int]:
    """VmRSS and VmHWM (peak RSS) of a process, in KiB."""
    values = {}
    with contextlib.suppress(OSError):
        for line in Path(f"/proc/{pid}/status").read_text().splitlines():
            name, _, value = line.partition(":")
            if name in ("VmRSS", "VmHWM"):
                values[name] = int(value.split()[0])
    return values


# ---------------------------------------------------------------- the court


@dataclasses.dataclass(frozen=True)
class Staff:
    username: str
    password: str
    totp_secret: str


@dataclasses.dataclass(frozen=True)
class Seeded:
    hearing_id: int
    judge: Staff
    clerk: Staff
    kiosk: str  # the custody kiosk's device token
    rigs: tuple[str, str]  # two courtroom devices' tokens (the storm)


def seed(settings: Settings, minutes: float) -> Seeded:
    """A court with one courtroom, its judge, a clerk, an auditor, a custody
    facility with its kiosk, two courtroom rigs, and a hearing in session,
    all through the service functions (as `hearing demo` seeds), accounts
    with a confirmed authenticator (no enrolment)."""
    svc = Services.from_settings(settings, create_keys=True)
    try:
        migrate.upgrade(svc.engine)

        def work(db: Session) -> Seeded:
            court = sites.ensure_court(db, SYSTEM, "Soak Court")
            room = sites.ensure_courtroom(db, SYSTEM, court, "Room S")
            facility = sites.ensure_facility(db, SYSTEM, "Soak Facility")
            accounts = {}
            for username, role in (("judge", Role.JUDGE), ("clerk", Role.CLERK), ("auditor", Role.AUDITOR)):
                password = os.urandom(16).hex()
                enrolment = users.add_user(
                    db,
                    svc.keys,
                    SYSTEM,
                    username=username,
                    display_name=f"Soak {username}",
                    role=role,
                    password=password,
                    courtroom=room,
                    facility=facility,
                    totp_confirmed=True,
                )
                accounts[username] = Staff(username, password, enrolment.totp_secret)
            now = utcnow()
            kiosk = devices.enroll(
                db, svc.keys, SYSTEM, kind=EndpointKind.CUSTODY, name="soak-kiosk", site=facility.name, now=now
            )
            rigs = [
                devices.enroll(db, svc.keys, SYSTEM, kind=EndpointKind.COURTROOM, name=name, site=room.name, now=now)
                for name in ("soak-rig-a", "soak-rig-b")
            ]
            # Booked to start in a minute (bookings in the past may be
            # refused); the lobby opens well before a hearing's start.
            request = booking.BookingRequest(
                case_number=f"SS 9-{now:%m%d}/{now:%Y}",
                kind=HearingKind.REMAND_EXTENSION,
                courtroom_id=room.id,
                facility_id=facility.id,
                start=now.replace(second=0, microsecond=0) + timedelta(minutes=2),
                minutes=min(booking.MAX_MINUTES, max(60, math.ceil(minutes) + 30)),
                detainee_name="Soak Detainee",
                detainee_reference="SOAK-1",
                prosecutor="Soak Prosecutor",
                defence_counsel="Soak Counsel",
            )
            hearing = booking.book(db, SYSTEM, request)
            judge = users.get_by_username(db, "judge")
            for step in (Transition.OPEN, Transition.START):
                proceedings.transition(db, judge, signin.user_actor(judge), hearing.id, step, now)
            return Seeded(
                hearing.id,
                accounts["judge"],
                accounts["clerk"],
                kiosk.token,
                (rigs[0].token, rigs[1].token),
            )

        return svc.unit_of_work(work)
    finally:
        svc.close()


def audit_actions(settings: Settings, phases: Mapping[str, tuple[datetime, datetime]]) -> dict[str, Counter[str]]:
    """Audit entries appended in each phase, by action (the header is plain)."""
    svc = Services.from_settings(settings)
    try:

        def count(db: Session) -> dict[str, Counter[str]]:
            result = {}
            for name, (start, end) in phases.items():
                rows = db.execute(
                    select(AuditEntry.action, func.count())
                    .where(AuditEntry.at >= start, AuditEntry.at < end)
                    .group_by(AuditEntry.action)
                ).all()
                result[name] = Counter({action: int(n) for action, n in rows})
            return result

        return svc.unit_of_work(count)
    finally:
        svc.close()


# ---------------------------------------------------------------- HTTP, as a browser tab


TOKEN_INPUT = re.compile(rf'name="{re.escape(csrf.FIELD)}" value="([^"]+)"'.encode())


class Browser:
    """One keep-alive HTTP/1.1 connection and a cookie jar. It keeps every
    cookie the server sets and sends them all back, so it never needs to
    know their names (they change with `cookie_secure`)."""

    def __init__(self, port: int) -> None:
        self.port = port
        self.cookies: dict[str, str] = {}
        self.token = ""  # the CSRF form token of the last page that had one
        self.reader: asyncio.StreamReader | None = None
        self.writer: asyncio.StreamWriter | None = None

    @property
    def cookie_header(self) -> str:
        return "; ".join(f"{k}={v}" for k, v in self.cookies.items())

    async def _connect(self) -> tuple[asyncio.StreamReader, asyncio.StreamWriter]:
        if self.reader is None or self.writer is None or self.writer.is_closing():
            self.reader, self.writer = await asyncio.open_connection("127.0.0.1", self.port)
        return self.reader, self.writer

    async def request(
        self, method: str, path: str, body: bytes = b"", headers: Mapping[str, str] | None = None
    ) -> tuple[int, dict[str, str], bytes]:
        """(status, headers, body); reconnects once if the server had closed the connection."""
        for attempt in (1, 2):
            try:
                return await self._exchange(method, path, body, headers or {})
            except (ConnectionError, asyncio.IncompleteReadError):
                await self.close()
                if attempt == 2:
                    raise
        raise AssertionError("unreachable")

    async def _exchange(
        self, method: str, path: str, body: bytes, headers: Mapping[str, str]
    ) -> tuple[int, dict[str, str], bytes]:
        reader, writer = await self._connect()
        lines = [
            f"{method} {path} HTTP/1.1",
            f"Host: 127.0.0.1:{self.port}",
            f"Origin: http://127.0.0.1:{self.port}",
            f"Content-Length: {len(body)}",
            *([f"Cookie: {self.cookie_header}"] if self.cookies else []),
            *(f"{k}: {v}" for k, v in headers.items()),
        ]
        writer.write(("\r\n".join(lines) + "\r\n\r\n").encode() + body)
        head = (await reader.readuntil(b"\r\n\r\n")).decode("latin-1").split("\r\n")
        status = int(head[0].split()[1])
        answer: dict[str, str] = {}
        for line in head[1:]:
            name, _, value = line.partition(":")
            name, value = name.lower(), value.strip()
            if name == "set-cookie":
                key, _, val = value.split(";", 1)[0].partition("=")
                if val and "max-age=0" not in value.lower():
                    self.cookies[key] = val
                else:
                    self.cookies.pop(key, None)
            elif name:
                answer[name] = value
        if answer.get("transfer-encoding", "").lower() == "chunked":
            content = b""
            while size := int((await reader.readuntil(b"\r\n")).split(b";")[0], 16):
                content += (await reader.readexactly(size + 2))[:-2]
            await reader.readuntil(b"\r\n")
        else:
            content = await reader.readexactly(int(answer.get("content-length", "0")))
        if answer.get("connection", "").lower() == "close":
            await self.close()
        if match := TOKEN_INPUT.search(content):
            self.token = match.group(1).decode()
        return status, answer, content

    async def sign_in(self, staff: Staff, landing: str) -> None:
        """Through the sign-in form, as a person would; then `landing`, whose
        forms carry the CSRF token to use from now on (it may change at
        sign-in)."""
        status, _, _ = await self.request("GET", "/signin")
        if status != 200 or not self.token:
            raise RuntimeError(f"no sign-in form (HTTP {status})")
        form = {
            "username": staff.username,
            "password": staff.password,
            "code": pyotp.TOTP(staff.totp_secret).now(),
            "next": landing,
            csrf.FIELD: self.token,
        }
        headers = {"Content-Type": "application/x-www-form-urlencoded", "Accept": "application/json"}
        status, _, reply = await self.request("POST", "/signin", urllib.parse.urlencode(form).encode(), headers)
        if status != 200:
            raise RuntimeError(f"{staff.username} could not sign in: HTTP {status} {reply[:200]!r}")
        self.token = ""
        status, _, _ = await self.request("GET", landing)
        if status != 200 or not self.token:
            raise RuntimeError(f"{landing}: HTTP {status}, no CSRF token")

    async def floor(self, hearing_id: int, command: Mapping[str, Any]) -> None:
        headers = {"Content-Type": "application/json", "Accept": "application/json", csrf.HEADER: self.token}
        status, _, reply = await self.request(
            "POST", f"/hearings/{hearing_id}/floor", json.dumps(command).encode(), headers
        )
        if status != 200:
            raise RuntimeError(f"{command}: HTTP {status}: {reply[:200]!r}")

    async def close(self) -> None:
        if self.writer is not None:
            self.writer.close()
            with contextlib.suppress(Exception):
                await self.writer.wait_closed()
        self.reader = self.writer = None


# ---------------------------------------------------------------- a seat's socket


PUSHES = {"pong", "health", "level", "floor", "pictures", "presence", "replaced", "denied", "ended"}
ENDINGS = {"replaced", "denied", "ended"}


class SeatClosed(Exception):
    def __init__(self, code: int, error: str | None = None) -> None:
        super().__init__(f"closed {code}" + (f" after {error}" if error else ""))
        self.code = code
        self.error = error


class Seat:
    """One connection to a hearing's media socket, after
    hearing/media/client.py's MediaClient, but able to misbehave (raw
    frames, dropped links) and counting everything the server answers:
    messages by type (errors by code) and the close code."""

    def __init__(self, url: str, headers: Mapping[str, str], received: Counter[str] | None = None) -> None:
        self.url = url
        self.headers = dict(headers)
        self.received: Counter[str] = Counter() if received is None else received
        self.socket: ClientConnection | None = None
        self.connection: RTCPeerConnection | None = None
        self.ending: str | None = None  # replaced, denied, ended: what the server said before closing
        self.closed: asyncio.Future[int] = asyncio.get_running_loop().create_future()
        self._reply: asyncio.Future[dict[str, Any]] | None = None
        self._pongs: dict[int, asyncio.Future[None]] = {}
        self._nonces = itertools.count(1)
        self._tasks: list[asyncio.Task[None]] = []

    async def open(self, timeout: float = REPLY_SECONDS) -> dict[str, Any]:
        """Connect and take the seat: the welcome, or SeatClosed."""
        self._reply = asyncio.get_running_loop().create_future()
        self.socket = await connect(
            self.url, additional_headers=self.headers, proxy=None, max_size=SOCKET_MAX_BYTES, open_timeout=timeout
        )
        self._tasks.append(asyncio.create_task(self._read(), name="seat reader"))
        welcome = await self._answer(timeout)
        if welcome.get("type") == "error":  # refused: the server closes the socket after saying why
            with contextlib.suppress(TimeoutError):
                await asyncio.wait_for(asyncio.shield(self.closed), timeout)
            raise SeatClosed(self.closed.result() if self.closed.done() else -1, str(welcome.get("error")))
        if welcome.get("type") != "welcome":
            raise RuntimeError(f"expected a welcome, got {welcome.get('type')}")
        return welcome

    async def negotiate(
        self, publish: Sequence[MediaStreamTrack] = (), on_track: Callable[[MediaStreamTrack], None] | None = None
    ) -> None:
        """One peer connection with the room (max-bundle, as MediaClient)."""
        pc = self.connection = RTCPeerConnection(
            RTCConfiguration(iceServers=[], bundlePolicy=RTCBundlePolicy.MAX_BUNDLE)
        )
        if on_track is not None:
            pc.on("track", on_track)
        for track in publish:
            pc.addTrack(track)
        if not publish:
            pc.addTransceiver("audio", direction="recvonly")
        await pc.setLocalDescription(await pc.createOffer())
        answer = await self.ask(json.dumps({"type": "offer", "sdp": pc.localDescription.sdp}))
        if answer.get("type") != "answer":
            raise RuntimeError(f"offer answered with {answer}")
        await pc.setRemoteDescription(RTCSessionDescription(sdp=str(answer["sdp"]), type="answer"))

    def keep_alive(self) -> None:
        self._tasks.append(asyncio.create_task(self._ping(), name="seat pinger"))

    async def send(self, raw: str | bytes) -> None:
        assert self.socket is not None, "open first"
        await self.socket.send(raw)

    async def ask(self, raw: str | bytes, timeout: float = REPLY_SECONDS) -> dict[str, Any]:
        """Send one message and wait for its answer (an answer or an error;
        pushes are only counted)."""
        self._reply = asyncio.get_running_loop().create_future()
        await self.send(raw)
        return await self._answer(timeout)

    async def pinged(self, timeout: float = REPLY_SECONDS) -> None:
        """A ping answered: everything sent before it has been taken."""
        nonce = next(self._nonces)
        self._pongs[nonce] = asyncio.get_running_loop().create_future()
        try:
            await self.send(json.dumps({"type": "ping", "nonce": nonce}))
            await asyncio.wait_for(asyncio.shield(self._pongs[nonce]), timeout)
        finally:
            self._pongs.pop(nonce, None)

    async def _answer(self, timeout: float) -> dict[str, Any]:
        assert self._reply is not None
        waiting: asyncio.Future[Any] = asyncio.ensure_future(self._reply)
        closed: asyncio.Future[Any] = self.closed
        done, _ = await asyncio.wait({waiting, closed}, timeout=timeout, return_when=asyncio.FIRST_COMPLETED)
        if waiting in done:
            reply: dict[str, Any] = waiting.result()
            return reply
        waiting.cancel()
        if self.closed.done():
            raise SeatClosed(self.closed.result(), self.ending)
        raise TimeoutError("no answer")

    async def _read(self) -> None:
        assert self.socket is not None
        with contextlib.suppress(ConnectionClosed):
            async for raw in self.socket:
                try:
                    message = json.loads(raw)
                    kind = str(message.get("type"))
                except (ValueError, AttributeError):
                    self.received["unreadable"] += 1
                    continue
                self.received[f"error {message.get('error')}" if kind == "error" else kind] += 1
                if kind in ENDINGS:
                    self.ending = kind
                if kind == "pong" and (pong := self._pongs.get(message.get("nonce"))) is not None:
                    if not pong.done():
                        pong.set_result(None)
                if kind not in PUSHES and self._reply is not None and not self._reply.done():
                    self._reply.set_result(message)
        code = self.socket.close_code
        if not self.closed.done():
            self.closed.set_result(1006 if code is None else code)

    async def _ping(self) -> None:
        with contextlib.suppress(ConnectionClosed):
            while True:
                await asyncio.sleep(PING_SECONDS)
                await self.send(json.dumps({"type": "ping", "nonce": next(self._nonces)}))

    async def go(self, how: str) -> int:
        """Go away (`leave`, `close`, `abort`: the TCP link dropped, `oversized`:
        a frame over the socket's limit) and return the close code."""
        assert self.socket is not None
        with contextlib.suppress(ConnectionClosed):
            if how == "leave":
                await self.send(json.dumps({"type": "leave"}))
            elif how == "close":
                await self.socket.close()
            elif how == "abort":
                self.socket.transport.abort()
            elif how == "oversized":
                await self.send("x" * (SOCKET_MAX_BYTES + 1024))
        with contextlib.suppress(TimeoutError):
            await asyncio.wait_for(asyncio.shield(self.closed), REPLY_SECONDS)
        code = self.closed.result() if self.closed.done() else -1
        await self.close()
        return code

    async def close(self) -> None:
        for task in self._tasks:
            task.cancel()
            with contextlib.suppress(asyncio.CancelledError):
                await task
        self._tasks.clear()
        if self.socket is not None:
            with contextlib.suppress(Exception):
                await asyncio.wait_for(self.socket.close(), 5)
        if not self.closed.done():
            self.closed.set_result(-1)
        if self.connection is not None:
            await self.connection.close()


@dataclasses.dataclass
class Kept:
    """A measured seat, kept connected (a kiosk comes back when it is dropped)."""

    name: str
    received: Counter[str] = dataclasses.field(default_factory=Counter)
    drops: list[tuple[float, str]] = dataclasses.field(default_factory=list)  # when, why
    current: Seat | None = None
    ready: asyncio.Event = dataclasses.field(default_factory=asyncio.Event)


async def keep_seat(
    kept: Kept,
    make: Callable[[Counter[str]], Seat],
    start: Callable[[Seat], Awaitable[None]],
    stop: asyncio.Event,
) -> None:
    while not stop.is_set():
        seat = make(kept.received)
        try:
            await seat.open()
            await start(seat)
        except Exception as exc:  # whatever it was, the kiosk tries again (and the bench says so)
            kept.drops.append((time.monotonic(), f"could not join: {type(exc).__name__} {exc}"[:160]))
            await seat.close()
            await asyncio.sleep(1)
            continue
        seat.keep_alive()
        kept.current = seat
        kept.ready.set()
        stopping: asyncio.Future[Any] = asyncio.ensure_future(stop.wait())
        closed: asyncio.Future[Any] = seat.closed
        await asyncio.wait({closed, stopping}, return_when=asyncio.FIRST_COMPLETED)
        stopping.cancel()
        kept.ready.clear()
        kept.current = None
        if not stop.is_set():
            kept.drops.append((time.monotonic(), f"{seat.ending or 'no message'}, closed {seat.closed.result()}"))
            await seat.close()
            await asyncio.sleep(0.5)
        else:
            await seat.go("leave")


# ---------------------------------------------------------------- the misbehaviour

DEEP = 5000
# (kind, frame, the documented answers: error codes, docs/protocol.md)
MALFORMED: list[tuple[str, str | bytes, tuple[str, ...]]] = [
    ("not JSON", "{this is not json", ("malformed_message",)),
    ("binary frame", b"\x00\xff\xfe garbage", ("malformed_message",)),
    ("deep nesting []", "[" * DEEP + "]" * DEEP, ("malformed_message",)),
    ("deep nesting {}", '{"a":' * DEEP + "1" + "}" * DEEP, ("malformed_message",)),
    ("not an object", "[1, 2, 3]", ("malformed_message",)),
    ("unknown type", json.dumps({"type": "teleport", "to": "judge"}), ("unknown_message",)),
    ("wrong field type", json.dumps({"type": "ping", "nonce": "one"}), ("malformed_message",)),
    ("unexpected field", json.dumps({"type": "ping", "nonce": 1, "admin": True}), ("malformed_message",)),
    ("oversized (70 KiB)", json.dumps({"type": "ping", "nonce": 1, "pad": "x" * 70_000}), ("message_too_large",)),
    ("answer from a client", json.dumps({"type": "answer", "sdp": "v=0\r\n"}), ("unexpected_message",)),
    ("offer, not SDP", json.dumps({"type": "offer", "sdp": "hello"}), ("bad_sdp",)),
    ("offer, broken SDP", json.dumps({"type": "offer", "sdp": "v=0\r\nm=audio x\r\n"}), ("bad_sdp",)),
    (
        "candidate before offer",
        json.dumps({"type": "candidate", "candidate": "candidate:1 1 udp 1 127.0.0.1 9 typ host", "sdpMid": "0"}),
        ("bad_candidate",),
    ),
    (
        "request from the courtroom",
        json.dumps({"type": "request", "speaker": "courtroom:prosecutor"}),
        # Refused, or paced before it is looked at (floor requests: burst 5, 1/s).
        ("permission_denied", "rate_limited"),
    ),
]
DROPS = ["leave", "close", "abort", "replaced", "oversized", "replaced"]


def flood_messages(people: Sequence[str], others: Sequence[str]) -> list[tuple[str, str | bytes]]:
    """One round of the flooding kiosk: for its own people, requests and
    withdrawals (each a floor change, an audit entry and a push to every
    panel), refusals of the same, requests for other seats' speakers and
    for no one, and two malformed messages."""
    round_: list[tuple[str, str | bytes]] = []
    for speaker in people:
        for action in ("request", "request", "withdraw", "withdraw"):
            round_.append((f"{action} own speaker", json.dumps({"type": action, "speaker": speaker})))
    for speaker in others:
        round_.append(("request other seat's speaker", json.dumps({"type": "request", "speaker": speaker})))
    round_.append(("request for no one", json.dumps({"type": "request", "speaker": "custody:nobody"})))
    round_.append(("not JSON", "{not json"))
    round_.append(("deep nesting []", "[" * DEEP + "]" * DEEP))
    return round_


async def flood(
    kept: Kept, messages: Sequence[tuple[str, str | bytes]], stop: asyncio.Event, sent: Counter[str]
) -> None:
    """As fast as the server takes them: FLOOD_WINDOW messages, then a ping
    whose pong says they have all been handled."""
    cycle = itertools.cycle(messages)
    while not stop.is_set():
        seat = kept.current
        if seat is None:
            with contextlib.suppress(TimeoutError):
                await asyncio.wait_for(kept.ready.wait(), 1)
            continue
        try:
            for _ in range(FLOOD_WINDOW):
                kind, raw = next(cycle)
                await seat.send(raw)
                sent[kind] += 1
            await seat.pinged()
        except (ConnectionClosed, TimeoutError):
            await asyncio.sleep(0.1)


@dataclasses.dataclass
class Hostile:
    """What the storm and the outside client were answered."""

    storm: Counter[str] = dataclasses.field(default_factory=Counter)
    goings: Counter[str] = dataclasses.field(default_factory=Counter)
    malformed: dict[str, Counter[str]] = dataclasses.field(default_factory=dict)
    received: Counter[str] = dataclasses.field(default_factory=Counter)  # every message on the storm's sockets
    signin: Counter[str] = dataclasses.field(default_factory=Counter)
    seconds: float = 0.0
    cores: float = math.nan

    def plain(self) -> dict[str, Any]:
        """As plain dicts (dataclasses.asdict would rebuild a Counter from its items)."""
        return {
            "storm": dict(self.storm),
            "goings": dict(self.goings),
            "malformed": {kind: dict(outcomes) for kind, outcomes in self.malformed.items()},
            "received": dict(self.received),
            "signin": dict(self.signin),
            "seconds": self.seconds,
            "cores": self.cores,
        }


async def storm(url: str, tokens: Sequence[str], until: float, out: Hostile) -> None:
    """Courtroom rigs connecting and going away as fast as they can."""
    held: Seat | None = None  # a connection left open for the next to replace
    rng = np.random.default_rng(7)
    for cycle in itertools.count():
        if time.monotonic() >= until:
            break
        try:
            held = await storm_cycle(url, tokens, cycle, held, rng, out)
        except Exception as exc:  # counted, and the storm goes on: a bench that stops measures nothing
            out.storm[f"bench error: {type(exc).__name__} {exc}"[:120]] += 1
            await asyncio.sleep(0.1)
    if held is not None:
        await held.go("leave")


async def storm_cycle(
    url: str, tokens: Sequence[str], cycle: int, held: Seat | None, rng: np.random.Generator, out: Hostile
) -> Seat | None:
    """One connection of the storm; returns the one left open for the next to replace."""
    token = tokens[cycle % len(tokens)]
    seat = Seat(url, {"Authorization": f"{DEVICE_AUTH_SCHEME} {token}"}, out.received)
    try:
        await seat.open()
    except SeatClosed as exc:
        out.storm[f"refused: {exc.error or 'no message'}, closed {exc.code}"] += 1
        await seat.close()
        return held
    except (TimeoutError, OSError, InvalidHandshake) as exc:
        out.storm[f"could not connect: {type(exc).__name__}"] += 1
        await seat.close()
        await asyncio.sleep(0.1)
        return held
    out.storm["admitted (welcome)"] += 1
    if held is not None:
        # This connection took the seat: the one before must be told and closed.
        with contextlib.suppress(TimeoutError):
            await asyncio.wait_for(asyncio.shield(held.closed), REPLY_SECONDS)
        code = held.closed.result() if held.closed.done() else "not closed"
        out.goings[f"replaced by a newer connection: told {held.ending or 'nothing'}, closed {code}"] += 1
        await held.close()
        held = None
    negotiated = cycle % STORM_MEDIA_EVERY == 0
    if negotiated:
        try:
            await seat.negotiate()
            out.storm["negotiated media"] += 1
        except Exception as exc:  # whatever aiortc or the server made of it: counted, the storm goes on
            out.storm[f"media refused: {type(exc).__name__} {exc}"[:80]] += 1
    # After an offer, a candidate is no longer a mistake (and has no answer).
    for index in [] if negotiated else rng.choice(len(MALFORMED), size=3, replace=False).tolist():
        kind, raw, _ = MALFORMED[index]
        outcomes = out.malformed.setdefault(kind, Counter())
        try:
            reply = await seat.ask(raw)
            outcomes[f"error {reply.get('error')}" if reply.get("type") == "error" else str(reply.get("type"))] += 1
        except SeatClosed as exc:
            outcomes[f"socket closed {exc.code}"] += 1
            break
        except TimeoutError:
            outcomes["no answer"] += 1
        except ConnectionClosed:
            outcomes["socket closed"] += 1
            break
    if seat.closed.done():
        out.goings[f"closed by the server: told {seat.ending or 'nothing'}, closed {seat.closed.result()}"] += 1
        await seat.close()
        return held
    how = DROPS[cycle % len(DROPS)]
    if how == "replaced":
        return seat  # left open: the next connection takes the seat from it
    out.goings[f"{how}: closed {await seat.go(how)}"] += 1
    return None


async def guess(port: int, decoy: str, rate: float, until: float, out: Hostile) -> None:
    """Wrong passwords through the sign-in form, as an outside client: the
    form's CSRF token first, as a browser would have it."""
    browser = Browser(port)
    rng = np.random.default_rng(11)
    try:
        await browser.request("GET", "/signin")
        next_at = time.monotonic()
        for attempt in itertools.count():
            if next_at >= until:
                break
            await asyncio.sleep(max(0.0, next_at - time.monotonic()))
            next_at += 1 / rate
            username = decoy if attempt % 2 == 0 else f"nobody{attempt % 97}"
            form = {
                "username": username,
                "password": rng.bytes(12).hex(),
                "code": f"{int(rng.integers(1_000_000)):06d}",
                "next": "/",
                csrf.FIELD: browser.token,
            }
            headers = {"Content-Type": "application/x-www-form-urlencoded", "Accept": "application/json"}
            try:
                status, _, reply = await browser.request(
                    "POST", "/signin", urllib.parse.urlencode(form).encode(), headers
                )
            except Exception as exc:  # counted: the guessing goes on
                out.signin[f"no answer: {type(exc).__name__}"] += 1
                await browser.close()
                continue
            try:
                code = json.loads(reply).get("error", "-")
            except ValueError:
                code = "not JSON"
            out.signin[f"{status} {code}"] += 1
            if code == "csrf_rejected":
                await browser.request("GET", "/signin")
    finally:
        await browser.close()


def hostile_main(conn: Connection, port: int, hearing_id: int, rigs: Sequence[str], decoy: str, rate: float) -> None:
    """The storm, its malformed messages and the sign-in attempts, in their own
    process: told "go" with the seconds to run, answers with what they got."""
    aiortc_hooks.restrict_host_addresses(LOOPBACK)
    seconds = float(conn.recv())
    started = time.monotonic()
    cpu = cpu_seconds(os.getpid())
    out = Hostile()
    url = f"ws://127.0.0.1:{port}/ws/hearings/{hearing_id}/media"

    async def run() -> None:
        until = time.monotonic() + seconds
        await asyncio.gather(storm(url, rigs, until, out), guess(port, decoy, rate, until, out))

    asyncio.run(run())
    out.seconds = time.monotonic() - started
    out.cores = (cpu_seconds(os.getpid()) - cpu) / out.seconds
    conn.send(out.plain())


class HostileProcess:
    def __init__(self, port: int, seeded: Seeded, username: str, rate: float) -> None:
        ctx = multiprocessing.get_context("spawn")
        self.conn, theirs = ctx.Pipe()
        self.process = ctx.Process(
            target=hostile_main,
            args=(theirs, port, seeded.hearing_id, seeded.rigs, username, rate),
            name="hostile",
            daemon=True,
        )
        self.process.start()
        theirs.close()

    def go(self, seconds: float) -> None:
        self.conn.send(seconds)

    def result(self, timeout: float) -> Hostile:
        if not self.conn.poll(timeout):
            raise TimeoutError("the hostile clients did not report")
        raw = self.conn.recv()  # plain dicts: this module is __mp_main__ there, __main__ here
        return Hostile(
            storm=Counter(raw["storm"]),
            goings=Counter(raw["goings"]),
            malformed={kind: Counter(outcomes) for kind, outcomes in raw["malformed"].items()},
            received=Counter(raw["received"]),
            signin=Counter(raw["signin"]),
            seconds=float(raw["seconds"]),
            cores=float(raw["cores"]),
        )

    def stop(self) -> None:
        if self.process.is_alive():
            self.process.terminate()
        self.process.join(5)
        self.conn.close()


# ---------------------------------------------------------------- the staff


@dataclasses.dataclass(frozen=True)
class Load:
    who: str
    page: str
    started: float
    ms: float
    status: int


async def poll(
    browser: Browser, who: str, pages: Sequence[tuple[str, str]], stop: asyncio.Event, out: list[Load]
) -> None:
    """A staff member's pages, one after the other, as their panel and docket load them."""
    for page, path in itertools.cycle(pages):
        if stop.is_set():
            return
        started = time.monotonic()
        try:
            status, _, _ = await browser.request("GET", path, headers={"Accept": "application/json"})
        except Exception:  # counted as a page not answered (status -1); the polling goes on
            status = -1
            await browser.close()
        out.append(Load(who, page, started, (time.monotonic() - started) * 1000, status))
        await asyncio.sleep(POLL_SECONDS)


async def panel_feed(port: int, hearing_id: int, browser: Browser, stop: asyncio.Event, received: Counter[str]) -> None:
    """The judge's panel feed, open the whole run, as the judge's page keeps it."""
    url = f"ws://127.0.0.1:{port}/ws/hearings/{hearing_id}/panel"
    headers = {"Cookie": browser.cookie_header, "Origin": f"http://127.0.0.1:{port}"}
    while not stop.is_set():
        try:
            async with connect(url, additional_headers=headers, proxy=None, max_size=SOCKET_MAX_BYTES) as feed:
                stopping = asyncio.ensure_future(stop.wait())
                while True:
                    receiving = asyncio.ensure_future(feed.recv())
                    await asyncio.wait({receiving, stopping}, return_when=asyncio.FIRST_COMPLETED)
                    if stopping.done():
                        receiving.cancel()
                        return
                    received[str(json.loads(receiving.result()).get("type"))] += 1
        except ConnectionClosed as exc:
            received[f"feed closed {exc.rcvd.code if exc.rcvd else 1006}"] += 1
        except (OSError, InvalidHandshake) as exc:
            received[f"feed failed: {type(exc).__name__}"] += 1
        await asyncio.sleep(1)


# ---------------------------------------------------------------- the run


@dataclasses.dataclass
class Run:
    loads: list[Load] = dataclasses.field(default_factory=list)
    frames: list[Heard] = dataclasses.field(default_factory=list)
    sent: list[float] = dataclasses.field(default_factory=list)  # custody's frames handed to its encoder
    phases: dict[str, tuple[float, float]] = dataclasses.field(default_factory=dict)  # monotonic
    wall: dict[str, tuple[datetime, datetime]] = dataclasses.field(default_factory=dict)  # UTC
    server_cores: dict[str, float] = dataclasses.field(default_factory=dict)
    client_cores: dict[str, float] = dataclasses.field(default_factory=dict)
    rss_kib: dict[str, int] = dataclasses.field(default_factory=dict)  # peak sampled per phase
    peak_rss_kib: int = 0  # VmHWM at the end
    custody: Kept = dataclasses.field(default_factory=lambda: Kept("custody"))
    judge: Kept = dataclasses.field(default_factory=lambda: Kept("judge"))
    custody_received: dict[str, Counter[str]] = dataclasses.field(default_factory=dict)
    flood_sent: Counter[str] = dataclasses.field(default_factory=Counter)
    feed: Counter[str] = dataclasses.field(default_factory=Counter)
    hostile: Hostile = dataclasses.field(default_factory=Hostile)


async def wait_until(condition: Callable[[], bool], timeout: float, what: str) -> None:
    deadline = time.monotonic() + timeout
    while not condition():
        if time.monotonic() > deadline:
            raise TimeoutError(what)
        await asyncio.sleep(0.1)


async def soak(args: argparse.Namespace, server: ServerProcess, seeded: Seeded, out: Run) -> None:
    """The hearing, the staff, the quiet phase, the load: figures into `out`."""
    port, hearing_id = server.port, seeded.hearing_id
    url = f"ws://127.0.0.1:{port}/ws/hearings/{hearing_id}/media"
    hostile = HostileProcess(port, seeded, args.guess_username, args.signin_rate)
    judge, clerk = Browser(port), Browser(port)
    ear = Ear()
    stop, stop_flood = asyncio.Event(), asyncio.Event()
    tasks: list[asyncio.Task[None]] = []
    rss: list[tuple[float, int]] = []

    async def sample_memory() -> None:
        while not stop.is_set():
            rss.append((time.monotonic(), memory_kib(server.pid).get("VmRSS", 0)))
            await asyncio.sleep(0.5)

    def custody_seat(received: Counter[str]) -> Seat:
        return Seat(url, {"Authorization": f"{DEVICE_AUTH_SCHEME} {seeded.kiosk}"}, received)

    def judge_seat(received: Counter[str]) -> Seat:
        return Seat(url, {"Cookie": judge.cookie_header}, received)

    async def publish(seat: Seat) -> None:
        await seat.negotiate([SentTone(out.sent)])

    async def listen(seat: Seat) -> None:
        await seat.negotiate(on_track=ear.attach)

    try:
        await judge.sign_in(seeded.judge, f"/hearings/{hearing_id}")
        await clerk.sign_in(seeded.clerk, f"/hearings/{hearing_id}")
        # The judge lets custody in from the lobby (it lasts for the hearing).
        await judge.floor(hearing_id, {"action": "admit", "seat": "custody"})
        tasks += [
            asyncio.create_task(keep_seat(out.custody, custody_seat, publish, stop), name="custody"),
            asyncio.create_task(keep_seat(out.judge, judge_seat, listen, stop), name="judge"),
        ]
        joined = time.monotonic()
        await wait_until(lambda: ear.hears_tone(joined), 30, "the judge's seat does not hear custody's tone")
        pages = [("floor", f"/hearings/{hearing_id}/floor"), ("docket", "/hearings")]
        tasks += [
            asyncio.create_task(poll(judge, "judge", pages, stop, out.loads), name="judge pages"),
            asyncio.create_task(poll(clerk, "clerk", pages[::-1], stop, out.loads), name="clerk pages"),
            asyncio.create_task(panel_feed(port, hearing_id, judge, stop, out.feed), name="panel feed"),
            asyncio.create_task(sample_memory(), name="memory"),
        ]
        await asyncio.sleep(1)  # the pages' first loads (templates, caches) are not the quiet phase's

        def mark(name: str, start: float, wall: datetime) -> None:
            out.phases[name] = (start, time.monotonic())
            out.wall[name] = (wall, utcnow())

        async def phase(name: str, seconds: float) -> None:
            start, wall = time.monotonic(), utcnow()
            server_cpu, client_cpu = cpu_seconds(server.pid), cpu_seconds(os.getpid())
            received = Counter(out.custody.received)
            await asyncio.sleep(seconds)
            mark(name, start, wall)
            elapsed = out.phases[name][1] - start
            out.server_cores[name] = (cpu_seconds(server.pid) - server_cpu) / elapsed
            out.client_cores[name] = (cpu_seconds(os.getpid()) - client_cpu) / elapsed
            out.custody_received[name] = out.custody.received - received

        print(f"quiet phase: {args.quiet:g} s", flush=True)
        await phase("quiet", args.quiet)
        print(f"hostile load: {args.minutes * 60:g} s", flush=True)
        load_seconds = args.minutes * 60
        hostile.go(load_seconds)
        people = ["custody:detainee", "custody:custody_officer"]
        others = ["courtroom:prosecutor", "courtroom:defence_counsel", "judge:judge"]
        tasks.append(
            asyncio.create_task(
                flood(out.custody, flood_messages(people, others), stop_flood, out.flood_sent), name="flood"
            )
        )
        await phase("load", load_seconds)
        stop_flood.set()
        out.hostile = await asyncio.to_thread(hostile.result, 120)
        out.peak_rss_kib = memory_kib(server.pid).get("VmHWM", 0)
    finally:
        stop.set()
        stop_flood.set()
        for task in tasks:
            with contextlib.suppress(asyncio.CancelledError, Exception):
                await asyncio.wait_for(task, 15)
        await ear.close()
        for browser in (judge, clerk):
            await browser.close()
        hostile.stop()
    out.frames = ear.frames
    for name, (start, end) in out.phases.items():
        out.rss_kib[name] = max((kib for at, kib in rss if start <= at < end), default=0)


# ---------------------------------------------------------------- figures


def stats(values: Sequence[float]) -> list[str]:
    return [fmt(percentile(values, q)) for q in (50, 95, 99)] + [fmt(max(values, default=math.nan)), str(len(values))]


def ratio(a: float, b: float) -> str:
    return "-" if math.isnan(a) or math.isnan(b) or b == 0 else f"x{a / b:.2f}"


def print_pages(run: Run) -> dict[str, Any]:
    print("## staff pages (ms): the quiet phase, then under the hostile load (same run)")
    print(
        f"{'':<22} {'quiet: median':>13} {'p95':>7} {'p99':>7} {'max':>7} {'n':>5}   "
        f"{'load: median':>12} {'p95':>7} {'p99':>7} {'max':>8} {'n':>5}   {'p99 load/quiet':>14}"
    )
    summary: dict[str, Any] = {}
    groups = [(f"{who} {page}", who, page) for who in ("judge", "clerk") for page in ("floor", "docket")]
    for label, who, page in [*groups, ("all staff pages", None, None)]:
        row: dict[str, list[float]] = {}
        for name, (start, end) in run.phases.items():
            row[name] = [
                load.ms
                for load in run.loads
                if start <= load.started < end and (who is None or (load.who, load.page) == (who, page))
            ]
        quiet, load = stats(row.get("quiet", [])), stats(row.get("load", []))
        p99 = ratio(percentile(row.get("load", []), 99), percentile(row.get("quiet", []), 99))
        print(
            f"{label:<22} {quiet[0]:>13} {quiet[1]:>7} {quiet[2]:>7} {quiet[3]:>7} {quiet[4]:>5}   "
            f"{load[0]:>12} {load[1]:>7} {load[2]:>7} {load[3]:>8} {load[4]:>5}   {p99:>14}"
        )
        summary[label] = {
            name: {f"p{q}_ms": percentile(values, q) for q in (50, 95, 99)} | {"n": len(values)}
            for name, values in row.items()
        }
    failed = Counter(f"{load.page} {load.status}" for load in run.loads if load.status != 200)
    print(f"pages not answered 200: {dict(failed) or 0}")
    print()
    return summary


def print_continuity(run: Run) -> dict[str, Any]:
    figures = continuity(run.frames, run.sent, run.phases)
    origin = run.phases["quiet"][0]
    print(f"## audio continuity at the judge's seat (custody's {TONE_HZ} Hz tone, decoded)")
    print(
        f"{'phase':<6} {'seconds':>8} {'gaps > 40 ms':>13} {'longest gap ms':>15} {'gaps, all':>10} "
        f"{'missing frames':>15} {'skips':>6} {'inserts':>8}   {'arrival stalls > 40 ms':>22} "
        f"{'sender stalls > 40 ms':>22} {'long gaps after one':>20}"
    )
    for name, f in figures.items():
        longest = max(f.gaps, default=0.0)
        stalls = f"{len(f.stalls)} ({fmt(max(f.stalls, default=0.0))} ms)"
        sender = f"{len(f.sender_stalls)} ({fmt(max((ms for _, ms in f.sender_stalls), default=0.0))} ms)"
        print(
            f"{name:<6} {f.seconds:>8.1f} {f.long_gaps:>13} {fmt(longest):>15} {len(f.gaps):>10} "
            f"{f.missing_frames:>15} {f.skips:>6} {f.inserts:>8}   {stalls:>22} {sender:>22} "
            f"{f.long_gaps_after_sender_stall:>20}"
        )
    for name, f in figures.items():
        long = [f"{at - origin:.1f} s: {gap:.0f} ms" for at, gap in zip(f.gaps_at, f.gaps, strict=True) if gap > GAP_MS]
        if long:
            print(f"long gaps in the {name} phase (from the start of the quiet phase): {', '.join(long[:20])}")
    for kept in (run.custody, run.judge):
        drops = [f"{at - run.phases['quiet'][0]:.1f} s: {why}" for at, why in kept.drops]
        print(f"{kept.name} seat dropped and rejoined: {len(drops)}{' — ' + '; '.join(drops[:10]) if drops else ''}")
    print(
        "(a gap: 10 ms blocks under the level, or frames missing by timestamp; arrival stalls: decoded frames "
        "more than 40 ms apart at the judge's seat; sender stalls: custody's frames handed to its encoder more "
        "than 40 ms apart; both seats are in this process, which shares its core with the other clients: a gap "
        "within a second after a sender stall is likely this process's, not the server's)"
    )
    print()
    return {
        name: {
            "seconds": f.seconds,
            "gaps_over_40ms": f.long_gaps,
            "longest_gap_ms": max(f.gaps, default=0.0),
            "gaps": len(f.gaps),
            "missing_frames": f.missing_frames,
            "skips": f.skips,
            "inserts": f.inserts,
            "arrival_stalls": len(f.stalls),
            "sender_stalls": len(f.sender_stalls),
            "long_gaps_after_sender_stall": f.long_gaps_after_sender_stall,
            "long_gaps_at_s": [(at - origin, gap) for at, gap in zip(f.gaps_at, f.gaps, strict=True) if gap > GAP_MS],
        }
        for name, f in figures.items()
    }


def print_server(run: Run) -> None:
    print("## server process")
    print(f"{'phase':<6} {'cores':>6} {'peak RSS MiB (sampled)':>23}   this process cores")
    for name in run.phases:
        print(
            f"{name:<6} {fmt(run.server_cores[name], 3):>6} {run.rss_kib.get(name, 0) / 1024:>23.1f}   "
            f"{fmt(run.client_cores[name], 3)}"
        )
    print(
        f"peak RSS of the whole run (VmHWM): {run.peak_rss_kib / 1024:.1f} MiB; hostile process "
        f"{fmt(run.hostile.cores, 3)} cores"
    )
    print()


def print_counts(title: str, counts: Mapping[str, int], indent: str = "  ") -> None:
    print(title)
    for key, n in sorted(counts.items(), key=lambda item: (-item[1], item[0])):
        print(f"{indent}{n:>8}  {key}")
    if not counts:
        print(f"{indent}       0")


def print_misbehaviour(run: Run) -> None:
    h = run.hostile
    start, end = run.phases["load"]
    flooded = sum(run.flood_sent.values())
    print("## misbehaving clients (what the server answered, over the load phase)")
    connections = h.storm["admitted (welcome)"]
    print_counts(
        f"reconnect storm on the courtroom seat ({connections} connections in {h.seconds:.0f} s, "
        f"{connections / max(h.seconds, 1e-9):.1f} a second):",
        h.storm,
    )
    print_counts("how each storm connection went (close codes):", h.goings)
    print("malformed messages on the storm's connections:")
    print(f"  {'kind':<28} {'sent':>6}  {'documented':<20} answers")
    others = 0
    for kind, _, codes in MALFORMED:
        outcomes = h.malformed.get(kind, Counter())
        answered = ", ".join(f"{k} {n}" for k, n in outcomes.most_common())
        others += sum(n for k, n in outcomes.items() if k not in {f"error {code}" for code in codes})
        print(f"  {kind:<28} {sum(outcomes.values()):>6}  {' or '.join(codes):<20} {answered or '-'}")
    print(f"  answered otherwise than documented: {others}")
    print_counts(
        f"flooding kiosk (the custody seat): sent {flooded} in {end - start:.0f} s "
        f"({flooded / (end - start):.0f} a second)",
        run.flood_sent,
    )
    print_counts("  and received on its socket", run.custody_received.get("load", Counter()))
    print_counts(f"sign-in attempts with wrong passwords ({sum(h.signin.values())}): HTTP status and code", h.signin)
    print_counts("judge's panel feed, messages received (whole run):", run.feed)
    print()


def print_audit(audit: Mapping[str, Counter[str]], run: Run) -> dict[str, Any]:
    print("## audit entries appended")
    for name, counts in audit.items():
        start, end = run.phases[name]
        total = sum(counts.values())
        top = ", ".join(f"{action} {n}" for action, n in counts.most_common(6))
        print(f"{name:<6} {total:>7} ({total / (end - start) * 60:.0f} a minute): {top or '-'}")
    print()
    return {name: dict(counts) for name, counts in audit.items()}


def print_log(log_path: Path) -> dict[str, Any]:
    levels: Counter[str] = Counter()
    errors: list[str] = []
    unstructured: list[str] = []
    warnings: Counter[str] = Counter()
    for line in log_path.read_text(errors="replace").splitlines():
        try:
            record = json.loads(line)
            level = str(record.get("level"))
        except (ValueError, AttributeError):
            unstructured.append(line)
            continue
        levels[level] += 1
        if level in ("error", "critical"):
            errors.append(line)
        elif level == "warning":
            warnings[f"{record.get('logger')}: {str(record.get('message'))[:100]}"] += 1
    print("## server log")
    print(f"lines by level: {dict(levels) or 0}; lines that are not JSON: {len(unstructured)}")
    print(f"error-level lines (should be 0): {len(errors)}")
    for line in errors[:20]:
        print(f"  {line[:600]}")
    if len(errors) > 20:
        print(f"  ... and {len(errors) - 20} more")
    for line in unstructured[:20]:
        print(f"  not JSON: {line[:300]}")
    if warnings:
        print_counts("warnings:", warnings)
    print()
    return {"levels": dict(levels), "errors": errors, "unstructured": unstructured[:100]}


def finite(value: Any) -> Any:
    """NaN as null: strict JSON has no NaN."""
    if isinstance(value, float) and math.isnan(value):
        return None
    if isinstance(value, dict):
        return {str(k): finite(v) for k, v in value.items()}
    if isinstance(value, list | tuple):
        return [finite(v) for v in value]
    return value


# ---------------------------------------------------------------- main


def free_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return int(sock.getsockname()[1])


def reset_schema(url: str) -> Callable[[], None]:
    """An empty public schema in a throwaway PostgreSQL database (as
    bench/audit_bench.py's --postgres-in-place); returns the function that
    empties it again."""
    from audit_bench import reset_pg_schema  # bench/audit_bench.py; only needed here

    return reset_pg_schema(url)


def main(argv: Sequence[str] | None = None) -> None:
    args = parse_args(argv)
    aiortc_hooks.restrict_host_addresses(LOOPBACK)
    server_core, client_core = cores()
    started = time.monotonic()
    with tempfile.TemporaryDirectory(prefix="soak-bench-") as tmp, contextlib.ExitStack() as stack:
        data_dir = Path(tmp)
        settings = Settings(data_dir=data_dir, database_url=args.database_url or "", port=free_port())
        if args.database_url:
            stack.callback(reset_schema(args.database_url))
            database = f"PostgreSQL {sqlalchemy.make_url(args.database_url).render_as_string(hide_password=True)}"
        else:
            database = "SQLite in a temporary directory (WAL, synchronous=FULL, as the application sets it)"
        print_header(args, server_core, client_core, database)
        seeded = seed(settings, args.quiet / 60 + args.minutes)
        log_path = data_dir / "server.log"
        server = ServerProcess(settings, server_core, log_path)
        figures = Run()
        try:
            server.wait_ready()
            if client_core is not None:
                os.sched_setaffinity(0, {client_core})
            asyncio.run(soak(args, server, seeded, figures))
        finally:
            server.stop()
        summary: dict[str, Any] = {
            "staff_pages": print_pages(figures),
            "continuity": print_continuity(figures),
        }
        print_server(figures)
        print_misbehaviour(figures)
        summary["audit"] = print_audit(audit_actions(settings, figures.wall), figures)
        summary["log"] = print_log(log_path)
    summary |= {
        "command": shlex.join([sys.executable, *sys.argv]),
        "server_cores": figures.server_cores,
        "rss_mib": {k: v / 1024 for k, v in figures.rss_kib.items()},
        "peak_rss_mib": figures.peak_rss_kib / 1024,
        "hostile": figures.hostile.plain(),
        "flood_sent": figures.flood_sent,
        "custody_received": figures.custody_received,
        "seat_drops": {"custody": figures.custody.drops, "judge": figures.judge.drops},
    }
    if args.json is not None:
        args.json.write_text(json.dumps(finite(summary), indent=1, default=str))
        print(f"figures written to {args.json}")
    print(f"load avg:   {load_average()} (at end); total {time.monotonic() - started:.0f} s")


if __name__ == "__main__":
    main()
