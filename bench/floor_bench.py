"""Speaker-order benchmark: from the judge's click to the mixer, and to the ear.

Measures, for each of N grant / take-back pairs through the real server
(uvicorn, the application, SQLite, a live hearing in controlled mode):

1. click -> the mixer applies the change: from just before the judge's panel
   sends `POST /hearings/{id}/floor` to the end of the first mixer tick that
   mixes with the new routes, split at the server into its stages (session
   check, the floor's audited transaction, commit, route swap, the wait for
   the next 20 ms tick) by public hooks in the server process: an ASGI
   middleware around the application, SQLAlchemy's transaction events and
   the live hearings' trace (`followed`, `rerouted`, `first_mix`);
2. click -> the change is heard at a receiver: the custody seat sends a
   steady tone; the judge's seat decodes what the server sends it and the
   tone's arrival (grant) or its end (take back) is found in the decoded
   audio;
3. that receiver's own audio latency on the same path (custody -> mixer ->
   judge), in the same run, interleaved with 1 and 2: with the floor granted,
   the custody tone is switched off and on at the source and the switch is
   found in the judge's decoded audio, so that "heard" can be compared with
   "audio latency + 40 ms".

The server runs in its own process (pinned to one core when there are two),
the two seats and the panel's HTTP connection in this one; both read
CLOCK_MONOTONIC, which is shared by every process of the machine. Prints
figures and compares them with the targets; asserts nothing. A run of the
default 50 pairs takes about 80 s; `--quick` runs two pairs after one
warm-up (about 10 s): it shows the bench still works, not what the figures
are.
"""

from __future__ import annotations

import argparse
import asyncio
import bisect
import contextlib
import contextvars
import dataclasses
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
import threading
import time
from collections.abc import Callable, Sequence
from datetime import datetime, timedelta
from multiprocessing.connection import Connection
from pathlib import Path
from typing import Any

import aiortc
import av
import numpy as np
import quick  # bench/quick.py
import sqlalchemy
import starlette
import uvicorn
from aiortc import RTCPeerConnection
from aiortc.mediastreams import MediaStreamError, MediaStreamTrack
from aiortc.rtp import RtpPacket
from machine_facts import cpu_model, load_average, print_machine  # bench/machine_facts.py
from media_bench import cores, cpu_seconds, fmt, percentile  # bench/media_bench.py
from sqlalchemy.orm import Session, SessionTransaction
from starlette.applications import Starlette
from starlette.types import ASGIApp, Message, Receive, Scope, Send

from hearing.actors import SYSTEM
from hearing.app import create_app
from hearing.auth import devices, signin, users
from hearing.auth.roles import Role
from hearing.clock import utcnow
from hearing.config import Settings
from hearing.db.models import Base, Court, Courtroom, CustodyFacility, Hearing, StaffUser
from hearing.docket.lifecycle import HearingState
from hearing.docket.parties import EndpointKind, HearingKind
from hearing.media import aiortc_hooks
from hearing.media.client import MediaClient
from hearing.media.mixer import FRAME_SAMPLES, SAMPLE_RATE, Pcm
from hearing.media.tracks import Pacer, to_frame, to_mono
from hearing.services import Services
from hearing.web.routing import CookieNames, session_signer

TARGET_APPLIED_P95_MS = 20.0  # click -> first mix with the change
TARGET_HEARD_EXTRA_MS = 40.0  # click -> heard, over the receiver's audio latency

LOOPBACK = ("127.0.0.1",)
FRAME_SECONDS = FRAME_SAMPLES / SAMPLE_RATE
TICK_SECONDS = FRAME_SECONDS  # the mixer's period
TONE_HZ = 1000.0  # 48 whole cycles in a frame: every frame of the tone is the same
TONE_AMPLITUDE = 0.5
LOUD = 0.2 * 32767  # a sample over this is the tone; Opus's ringing after it stays far under
QUIET_FRAMES = 5  # 100 ms under the threshold: the tone is gone, not a gap
QUIET_BEFORE = 0.1  # seconds of silence before a change that should make the tone heard
SETTLE = 0.35  # seconds after each change: the change has reached the ear well before the next
LATE = 3.0  # seconds after which a change not found at the ear is counted as lost
CLOCK_TICKS = os.sysconf("SC_CLK_TCK")
CSRF_INPUT = re.compile(rb'name="csrf_token" value="([0-9a-f]{64})"')
QUICK = {"repeats": 2, "warmup": 1}


# ---------------------------------------------------------------- arguments


def parse_args(argv: Sequence[str] | None = None) -> argparse.Namespace:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0] if __doc__ else None)
    parser.add_argument("--repeats", type=int, default=50, help="grant / take-back pairs measured (default 50)")
    parser.add_argument("--warmup", type=int, default=3, help="pairs before measuring (default 3)")
    parser.add_argument("--seed", type=int, default=1, help="seed of the random delays before clicks")
    parser.add_argument("--json", type=Path, metavar="PATH", help="also write every sample and the summary here")
    quick.add_option(parser, QUICK)
    args = quick.parse(parser, argv, QUICK)
    if args.repeats < 2 or args.warmup < 0:
        parser.error("--repeats takes at least 2, --warmup at least 0")
    return args


def print_header(args: argparse.Namespace, server_core: int | None, endpoint_core: int | None) -> None:
    print_machine("speaker-order benchmark")
    print(
        f"packages:   aiortc {aiortc.__version__}, av {av.__version__}, uvicorn {uvicorn.__version__} (h11), "
        f"starlette {starlette.__version__}, SQLAlchemy {sqlalchemy.__version__}, SQLite {sqlite3.sqlite_version}"
    )
    if args.quick:
        print(quick.NOTE)
    print(f"pinning:    server process on core {server_core}, seats and panel (this process) on core {endpoint_core}")
    print("database:   SQLite in a temporary directory (WAL, synchronous=FULL, as the application sets it)")
    print(
        f"runs:       {args.warmup} warm-up and {args.repeats} measured grant / take-back pairs, controlled mode; "
        f"each change settles {SETTLE * 1000:.0f} ms; a random 0-{TICK_SECONDS * 1000:.0f} ms before each click"
    )
    print(
        f"audio:      custody sends a steady {TONE_HZ:.0f} Hz tone at {TONE_AMPLITUDE:g} of full scale; the judge's "
        "seat decodes; a sample over 0.2 of full scale is the tone"
    )
    print()


# ---------------------------------------------------------------- the server process


@dataclasses.dataclass
class Stamps:
    """When one command passed each stage in the server (CLOCK_MONOTONIC seconds)."""

    received: float = math.nan  # the application has the request (uvicorn has parsed it)
    auth_start: float = math.nan  # the route guard's session check: its transaction begins ...
    auth_end: float = math.nan  # ... and has committed (in a worker thread)
    act_start: float = math.nan  # the floor's transaction begins (presiding.act, in a worker thread) ...
    act_end: float = math.nan  # ... and its work is done: it commits
    commit_start: float = math.nan  # the commit itself (SQLite: WAL write, fsync) ...
    commit_end: float = math.nan
    followed: float = math.nan  # back on the event loop: the live hearing takes the newer floor
    rerouted: float = math.nan  # the room has the new routes
    mixed: float = math.nan  # the mixer's first tick by them has handed every receiver its mix
    responded: float = math.nan  # the response starts
    transactions: int = 0  # begun so far in this request: 1 the session check, 2 the floor's


# The command being served. anyio copies the context into the worker thread
# that runs each unit of work, so the database's events find the request too.
CURRENT: contextvars.ContextVar[Stamps | None] = contextvars.ContextVar("bench_command", default=None)
FLOOR_COMMAND = re.compile(r"/hearings/\d+/floor")


class Probe:
    """Public hooks only: an ASGI middleware around the application, the
    database's own events (SQLAlchemy), and the live hearings' trace. They
    read the clock; the code they watch runs unchanged."""

    def __init__(self) -> None:
        self.done: dict[int, Stamps] = {}  # by floor version

    def install(self, app: Starlette) -> ASGIApp:
        """Listen to the database and the live hearings; returns the
        application wrapped in the middleware, for uvicorn to serve."""
        app.state.live_hearings.trace = self.trace  # before any hearing is in progress
        for target, name, listener in (
            (Session, "after_transaction_create", self._begun),
            (Session, "before_commit", self._work_done),
            (sqlalchemy.Engine, "commit", self._committing),
            (Session, "after_commit", self._committed),
        ):
            sqlalchemy.event.listen(target, name, listener)
        return self._middleware(app)

    def _middleware(self, app: ASGIApp) -> ASGIApp:
        async def timed(scope: Scope, receive: Receive, send: Send) -> None:
            command = scope["type"] == "http" and scope["method"] == "POST" and FLOOR_COMMAND.fullmatch(scope["path"])
            if not command:
                await app(scope, receive, send)
                return
            stamps = Stamps(received=time.monotonic())
            token = CURRENT.set(stamps)

            async def send_timed(message: Message) -> None:
                if message["type"] == "http.response.start":
                    stamps.responded = time.monotonic()
                await send(message)

            try:
                await app(scope, receive, send_timed)
            finally:
                CURRENT.reset(token)

        return timed

    def trace(self, hearing_id: int, event: str, version: int) -> None:
        now = time.monotonic()
        if event == "followed":
            # In the command's own task; a floor followed for a socket is not a command.
            stamps = CURRENT.get()
            if stamps is not None and math.isnan(stamps.followed):
                stamps.followed = now
                self.done[version] = stamps
            return
        stamps = self.done.get(version)
        if stamps is None:
            return
        if event == "rerouted" and math.isnan(stamps.rerouted):
            stamps.rerouted = now
        elif event == "first_mix" and not math.isnan(stamps.rerouted) and math.isnan(stamps.mixed):
            stamps.mixed = now

    @staticmethod
    def _begun(session: Session, transaction: SessionTransaction) -> None:
        stamps = CURRENT.get()
        if stamps is None or transaction.parent is not None:  # a savepoint is not a transaction of its own
            return
        stamps.transactions += 1
        if stamps.transactions == 1:
            stamps.auth_start = time.monotonic()
        elif stamps.transactions == 2:
            stamps.act_start = time.monotonic()

    @staticmethod
    def _work_done(session: Session) -> None:
        stamps = CURRENT.get()
        if stamps is not None and stamps.transactions == 2 and math.isnan(stamps.act_end):
            stamps.act_end = time.monotonic()

    @staticmethod
    def _committing(connection: sqlalchemy.Connection) -> None:
        stamps = CURRENT.get()
        if stamps is not None and stamps.transactions == 2 and math.isnan(stamps.commit_start):
            stamps.commit_start = time.monotonic()

    @staticmethod
    def _committed(session: Session) -> None:
        stamps = CURRENT.get()
        if stamps is None:
            return
        if stamps.transactions == 1 and math.isnan(stamps.auth_end):
            stamps.auth_end = time.monotonic()
        elif stamps.transactions == 2 and math.isnan(stamps.commit_end):
            stamps.commit_end = time.monotonic()


def server_main(conn: Connection, data_dir: str, port: int, core: int | None) -> None:
    """The application under uvicorn, as `hearing serve` runs it, with the probe."""
    if core is not None:
        os.sched_setaffinity(0, {core})
    logging.basicConfig(level=logging.WARNING)
    probe = Probe()
    settings = Settings(data_dir=Path(data_dir), host="127.0.0.1", port=port, cookie_secure=False)
    app = probe.install(create_app(settings))
    server = uvicorn.Server(
        uvicorn.Config(
            app,
            host="127.0.0.1",
            port=port,
            ws_max_size=256 * 1024,
            access_log=False,
            log_config=None,
            lifespan="on",
        )
    )
    threading.Thread(target=answer, args=(conn, server, probe), name="bench pipe", daemon=True).start()
    with contextlib.suppress(KeyboardInterrupt):
        server.run()


def answer(conn: Connection, server: uvicorn.Server, probe: Probe) -> None:
    """The orchestrator's questions, off the server's event loop."""
    while True:
        try:
            message = conn.recv()
        except EOFError:
            server.should_exit = True
            return
        if message == "ready":
            deadline = time.monotonic() + 30
            while not server.started and time.monotonic() < deadline:
                time.sleep(0.02)
            conn.send(server.started)
        elif message == "stamps":
            # Plain dicts: this module is __mp_main__ here, __main__ there.
            conn.send({version: dataclasses.asdict(s) for version, s in probe.done.items()})
        elif message == "stop":
            server.should_exit = True
            conn.send(None)
            return


class ServerProcess:
    def __init__(self, data_dir: Path, port: int, core: int | None) -> None:
        ctx = multiprocessing.get_context("spawn")
        self.conn, theirs = ctx.Pipe()
        self.process = ctx.Process(
            target=server_main, args=(theirs, str(data_dir), port, core), name="server", daemon=True
        )
        self.process.start()
        theirs.close()

    @property
    def pid(self) -> int:
        assert self.process.pid is not None
        return self.process.pid

    def call(self, message: str, timeout: float = 60.0) -> Any:
        self.conn.send(message)
        if not self.conn.poll(timeout):
            raise TimeoutError(f"server: no reply to {message!r} in {timeout:g} s")
        return self.conn.recv()

    def stop(self) -> None:
        if self.process.is_alive():
            with contextlib.suppress(Exception):
                self.call("stop", timeout=10)
            self.process.join(15)
        if self.process.is_alive():
            self.process.terminate()
            self.process.join(5)
        self.conn.close()


# ---------------------------------------------------------------- the database


@dataclasses.dataclass(frozen=True)
class Seeded:
    hearing_id: int
    judge_cookie: str  # a signed session cookie, as after signing in
    custody_token: str  # the custody kiosk's device token


def seed(data_dir: Path) -> Seeded:
    """A court with one courtroom, its judge, one custody facility with an
    enrolled kiosk, and one hearing open now."""
    svc = Services.from_settings(Settings(data_dir=data_dir), create_keys=True)
    try:
        Base.metadata.create_all(svc.engine)

        def work(db: Session) -> tuple[int, str, str]:
            court = Court(name="Bench Court")
            db.add(court)
            db.flush()
            courtroom = Courtroom(court_id=court.id, name="Room A")
            facility = CustodyFacility(name="Facility A")
            db.add_all([courtroom, facility])
            db.flush()
            judge = users.add_user(
                db,
                svc.keys,
                SYSTEM,
                username="judge",
                display_name="The Judge",
                role=Role.JUDGE,
                password=os.urandom(16).hex(),
                courtroom=courtroom,
                totp_confirmed=True,
            )
            now = utcnow()
            hearing = Hearing(
                case_number="SS 1-100/2026",
                kind=HearingKind.REMAND_EXTENSION,
                courtroom_id=courtroom.id,
                facility_id=facility.id,
                scheduled_start=now,
                scheduled_end=now + timedelta(minutes=30),
                detainee_name="Bench Detainee",
                detainee_reference="REF-1",
                state=HearingState.OPEN,
            )
            db.add(hearing)
            db.flush()
            kiosk = devices.enroll(
                db, svc.keys, SYSTEM, kind=EndpointKind.CUSTODY, name="kiosk-a", site="Facility A", now=now
            )
            session = signin.start_session(db, db.get_one(StaffUser, judge.user_id), now)
            return hearing.id, session, kiosk.token

        hearing_id, session, token = svc.unit_of_work(work)
        cookie = session_signer(svc).sign(session.encode()).decode()
        return Seeded(hearing_id, cookie, token)
    finally:
        svc.close()


# ---------------------------------------------------------------- the judge's panel over HTTP


class Panel:
    """The judge's panel: one keep-alive HTTP/1.1 connection, as a browser
    page keeps to its server, sending the floor's commands."""

    def __init__(self, port: int, hearing_id: int, cookies: dict[str, str]) -> None:
        self.port = port
        self.hearing_id = hearing_id
        self.cookies = dict(cookies)
        self.csrf = ""
        self.reader: asyncio.StreamReader | None = None
        self.writer: asyncio.StreamWriter | None = None

    async def open(self) -> None:
        self.reader, self.writer = await asyncio.open_connection("127.0.0.1", self.port)
        # The page's form token: HMAC of the CSRF cookie the page set.
        status, body = await self.request("GET", "/signin")
        match = CSRF_INPUT.search(body)
        if status != 200 or match is None:
            raise RuntimeError(f"no CSRF token on /signin (HTTP {status})")
        self.csrf = match.group(1).decode()

    async def request(self, method: str, path: str, body: bytes = b"", headers: dict[str, str] | None = None) -> Any:
        assert self.reader is not None and self.writer is not None, "open first"
        lines = [
            f"{method} {path} HTTP/1.1",
            f"Host: 127.0.0.1:{self.port}",
            f"Origin: http://127.0.0.1:{self.port}",
            "Cookie: " + "; ".join(f"{k}={v}" for k, v in self.cookies.items()),
            f"Content-Length: {len(body)}",
            *(f"{k}: {v}" for k, v in (headers or {}).items()),
        ]
        self.writer.write(("\r\n".join(lines) + "\r\n\r\n").encode() + body)
        head = (await self.reader.readuntil(b"\r\n\r\n")).decode("latin-1").split("\r\n")
        status = int(head[0].split()[1])
        length = 0
        for line in head[1:]:
            name, _, value = line.partition(":")
            if name.lower() == "content-length":
                length = int(value)
            elif name.lower() == "set-cookie":
                cookie = value.strip().split(";", 1)[0]
                key, _, val = cookie.partition("=")
                self.cookies[key] = val
            elif name.lower() == "transfer-encoding":
                raise RuntimeError("chunked responses are not read here")
        return status, await self.reader.readexactly(length)

    async def command(self, body: dict[str, str]) -> tuple[float, float, int]:
        """(click, response, floor version): the click is the moment just before sending."""
        raw = json.dumps(body).encode()
        headers = {"Content-Type": "application/json", "Accept": "application/json", "X-CSRF-Token": self.csrf}
        clicked = time.monotonic()
        status, reply = await self.request("POST", f"/hearings/{self.hearing_id}/floor", raw, headers)
        answered = time.monotonic()
        if status != 200:
            raise RuntimeError(f"{body}: HTTP {status}: {reply[:200]!r}")
        return clicked, answered, int(json.loads(reply)["version"])

    async def close(self) -> None:
        if self.writer is not None:
            self.writer.close()
            with contextlib.suppress(Exception):
                await self.writer.wait_closed()


# ---------------------------------------------------------------- the seats' audio


class SwitchedTone(MediaStreamTrack):
    """The custody microphone: a steady tone the bench switches off and on.

    `switches` logs each switch's mouth time: the first sample of the first
    frame in the new state, taken as captured 20 ms before that frame is
    handed over (a microphone delivers a frame when it is full), as in
    bench/media_bench.py."""

    kind = "audio"

    def __init__(self) -> None:
        super().__init__()
        t = np.arange(FRAME_SAMPLES) / SAMPLE_RATE
        self.tone: Pcm = (np.sin(2 * math.pi * TONE_HZ * t) * TONE_AMPLITUDE * 32767).astype(np.int16)
        self.silence: Pcm = np.zeros(FRAME_SAMPLES, dtype=np.int16)
        self.pacer = Pacer()
        self.sounding = True  # not `on`: the track's event emitter has that name
        self.sent = True
        self.switches: list[tuple[float, bool]] = []

    async def recv(self) -> av.AudioFrame:
        if self.readyState != "live":
            raise MediaStreamError
        pts = await self.pacer.next() * FRAME_SAMPLES
        on = self.sounding
        if on != self.sent:
            self.switches.append((time.monotonic() - FRAME_SECONDS, on))
            self.sent = on
        return to_frame(self.tone if on else self.silence, pts)


class ArrivalLog:
    """Stands in front of a receiver's jitter buffer and notes when the
    packet of each RTP timestamp arrived; the buffer works as before.

    aiortc gives decoded frames the RTP timestamp less that of the first
    frame the buffer handed on: `origin` keeps it to map them back."""

    def __init__(self, inner: Any) -> None:
        self.inner = inner
        self.arrivals: dict[int, float] = {}  # RTP timestamp -> arrival
        self.origin: int | None = None

    def add(self, packet: RtpPacket) -> Any:
        self.arrivals.setdefault(packet.timestamp, time.monotonic())
        pli, frame = self.inner.add(packet)
        if frame is not None and self.origin is None:
            self.origin = frame.timestamp
        return pli, frame

    def arrival(self, pts: int) -> float:
        if self.origin is None:
            return math.nan
        return self.arrivals.get((pts + self.origin) % (1 << 32), math.nan)

    def __getattr__(self, name: str) -> Any:
        return getattr(self.inner, name)


@dataclasses.dataclass(frozen=True)
class Edge:
    """Where the tone starts or ends at the judge's seat."""

    played: float  # when that sample can be played at the earliest
    arrived: float  # when the packet holding it reached the seat (nan: not seen)


class Ear:
    """What the judge's seat hears: for every decoded frame, when it arrived,
    its RTP timestamp and where its loud samples are. Sample k of a frame
    arriving at t can be played at t + k / 48000 at the earliest."""

    def __init__(self) -> None:
        self.times: list[float] = []
        self.loud: list[tuple[int, int]] = []  # (first, last) loud sample, (-1, -1) if quiet
        self.pts: list[int | None] = []
        self.log: ArrivalLog | None = None
        self.tasks: list[asyncio.Task[None]] = []

    def attach(self, track: MediaStreamTrack, connection: RTCPeerConnection) -> None:
        if track.kind != "audio":
            return
        receiver = next(t.receiver for t in connection.getTransceivers() if t.receiver.track is track)
        buffer = getattr(receiver, aiortc_hooks.RECEIVER_JITTER_BUFFER)
        self.log = ArrivalLog(buffer)
        setattr(receiver, aiortc_hooks.RECEIVER_JITTER_BUFFER, self.log)
        self.tasks.append(asyncio.create_task(self._listen(track), name="ear"))

    async def _listen(self, track: MediaStreamTrack) -> None:
        with contextlib.suppress(MediaStreamError):
            while True:
                frame = await track.recv()
                at = time.monotonic()
                assert isinstance(frame, av.AudioFrame)
                loud = np.flatnonzero(np.abs(to_mono(frame).astype(np.int32)) > LOUD)
                self.loud.append((int(loud[0]), int(loud[-1])) if loud.size else (-1, -1))
                self.pts.append(frame.pts)
                self.times.append(at)

    def _edge(self, index: int, sample: int) -> Edge:
        pts = self.pts[index]
        arrived = self.log.arrival(pts) if self.log is not None and pts is not None else math.nan
        return Edge(self.times[index] + sample / SAMPLE_RATE, arrived)

    def quiet(self, start: float, end: float) -> bool:
        return all(self.loud[i][0] < 0 for i in range(bisect.bisect_left(self.times, start), self._before(end)))

    def _before(self, at: float) -> int:
        return bisect.bisect_left(self.times, at)

    def heard_after(self, at: float) -> Edge | None:
        """When the first loud sample after `at` can be played, if it was quiet
        just before `at`."""
        if not self.quiet(at - QUIET_BEFORE, at):
            return None
        for i in range(self._before(at), len(self.times)):
            first = self.loud[i][0]
            if first >= 0:
                return self._edge(i, first)
        return None

    def gone_after(self, at: float) -> Edge | None:
        """When the silence after the last loud sample following `at` can be
        played: the first of at least 100 ms under the threshold. A short gap
        (a frame the mixer did not get in time) before that is not the end.
        None if it was quiet just before `at`, if the silence began before
        `at` (a gap that ran into the change: nothing to attribute), or if
        the tone did not end."""
        start = self._before(at)
        if self.quiet(at - QUIET_BEFORE, at):
            return None
        run = 0
        for i in range(start, len(self.times)):
            run = run + 1 if self.loud[i][0] < 0 else 0
            if run == QUIET_FRAMES:
                last = i - QUIET_FRAMES  # the last loud frame
                return self._edge(last, self.loud[last][1] + 1) if last >= start else None
        return None

    async def close(self) -> None:
        for task in self.tasks:
            task.cancel()
            with contextlib.suppress(asyncio.CancelledError):
                await task


# ---------------------------------------------------------------- the run


@dataclasses.dataclass
class Change:
    """One click and what followed, in seconds of CLOCK_MONOTONIC."""

    action: str
    version: int
    clicked: float
    answered: float
    ear: Edge | None  # heard (grant) or gone (take back) at the judge's seat
    server: Stamps = dataclasses.field(default_factory=Stamps)


@dataclasses.dataclass
class Samples:
    changes: list[Change] = dataclasses.field(default_factory=list)
    onsets: list[float] = dataclasses.field(default_factory=list)  # tone on at custody -> heard, ms
    offsets: list[float] = dataclasses.field(default_factory=list)  # tone off at custody -> gone, ms
    onset_packets: list[float] = dataclasses.field(default_factory=list)  # tone on -> its packet at the judge, ms
    missed: int = 0  # switches not found at the ear in time
    server_cores: float = math.nan
    endpoint_cores: float = math.nan
    other_cores: float = math.nan  # every other process of the machine (other tenants)
    steal_cores: float = math.nan  # taken by the hypervisor
    stalls: list[float] = dataclasses.field(default_factory=list)  # ms between decoded frames at the judge, > 50


def machine_seconds() -> tuple[float, float]:
    """CPU seconds since boot: busy on anything (less idle, iowait and steal), and stolen."""
    fields = [int(v) for v in Path("/proc/stat").read_text().splitlines()[0].split()[1:9]]
    steal = fields[7]
    return (sum(fields) - fields[3] - fields[4] - steal) / CLOCK_TICKS, steal / CLOCK_TICKS


async def wait_until(condition: Callable[[], bool], timeout: float, what: str) -> None:
    deadline = time.monotonic() + timeout
    while not condition():
        if time.monotonic() > deadline:
            raise TimeoutError(what)
        await asyncio.sleep(0.05)


async def found_by(find: Callable[[], Edge | None], deadline: float) -> Edge | None:
    """A change late beyond SETTLE (a stall somewhere) is waited for, not
    left out: leaving it out would flatter the tail."""
    while (found := find()) is None and time.monotonic() < deadline:
        await asyncio.sleep(0.05)
    return found


async def sleep_until(at: float) -> None:
    await asyncio.sleep(max(0.0, at - time.monotonic()))


async def run(args: argparse.Namespace, port: int, seeded: Seeded, server: ServerProcess) -> Samples:
    url = f"ws://127.0.0.1:{port}/ws/hearings/{seeded.hearing_id}/media"
    judge_panel = Panel(port, seeded.hearing_id, {CookieNames.for_scheme(secure=False).session: seeded.judge_cookie})
    source, ear = SwitchedTone(), Ear()
    custody = MediaClient(url, headers={"Authorization": f"Device {seeded.custody_token}"})
    judge = MediaClient(
        url,
        headers={"Cookie": f"{CookieNames.for_scheme(secure=False).session}={seeded.judge_cookie}"},
        on_track=lambda track: ear.attach(track, judge.connection),
    )
    rng = np.random.default_rng(args.seed)
    samples = Samples()
    try:
        await judge_panel.open()
        # The judge lets custody in from the lobby and takes control of the floor.
        await judge_panel.command({"action": "admit", "seat": "custody"})
        await judge_panel.command({"action": "mode", "mode": "controlled"})
        await custody.connect([source])
        await judge.connect()
        await wait_until(
            lambda: len(ear.times) >= 50 and custody.connection.connectionState == "connected",
            30,
            "the judge's seat receives no audio",
        )
        if not ear.quiet(time.monotonic() - 0.5, time.monotonic()):
            raise RuntimeError("the judge hears custody before the floor is granted")

        async def change(action: dict[str, str]) -> Change:
            # A random phase against the mixer's 20 ms tick, as a real click has.
            await asyncio.sleep(float(rng.uniform(0, TICK_SECONDS)))
            clicked, answered, version = await judge_panel.command(action)
            await sleep_until(clicked + SETTLE)
            find = ear.heard_after if action["action"] == "grant" else ear.gone_after
            found = await found_by(lambda: find(clicked), clicked + LATE)
            return Change(action["action"], version, clicked, answered, found)

        async def switch(on: bool) -> None:
            source.sounding = on
            await asyncio.sleep(SETTLE)
            mouth, state = source.switches[-1]
            assert state is on
            find = ear.heard_after if on else ear.gone_after
            found = await found_by(lambda: find(mouth), mouth + LATE)
            if found is None:
                samples.missed += 1
            elif on:
                samples.onsets.append((found.played - mouth) * 1000)
                if not math.isnan(found.arrived):
                    samples.onset_packets.append((found.arrived - mouth) * 1000)
            else:
                samples.offsets.append((found.played - mouth) * 1000)

        grant = {"action": "grant", "speaker": "custody:detainee"}
        take_back = {"action": "take_back"}
        for _ in range(args.warmup):
            await change(grant)
            await change(take_back)
        server_cpu, endpoint_cpu, machine = cpu_seconds(server.pid), cpu_seconds(os.getpid()), machine_seconds()
        started = time.monotonic()
        for repeat in range(args.repeats):
            samples.changes.append(await change(grant))
            # The receiver's own audio latency, with the route open.
            await switch(False)
            await switch(True)
            samples.changes.append(await change(take_back))
            if (repeat + 1) % 10 == 0:
                print(f"  {repeat + 1} of {args.repeats} pairs", flush=True)
        elapsed = time.monotonic() - started
        samples.server_cores = (cpu_seconds(server.pid) - server_cpu) / elapsed
        samples.endpoint_cores = (cpu_seconds(os.getpid()) - endpoint_cpu) / elapsed
        busy, steal = (now - then for now, then in zip(machine_seconds(), machine, strict=True))
        samples.other_cores = busy / elapsed - samples.server_cores - samples.endpoint_cores
        samples.steal_cores = steal / elapsed
        # This process stalled (the seats share a core with other tenants) when
        # decoded frames, due every 20 ms, came far apart.
        times = ear.times[bisect.bisect_left(ear.times, started) :]
        samples.stalls = [gap * 1000 for gap in np.diff(times).tolist() if gap > 0.05]
    finally:
        for client in (judge, custody):
            await client.close()
        await ear.close()
        await judge_panel.close()
    stamps = server.call("stamps")
    for c in samples.changes:
        if c.version in stamps:
            c.server = Stamps(**stamps[c.version])
    return samples


# ---------------------------------------------------------------- figures


@dataclasses.dataclass(frozen=True)
class Row:
    label: str
    values: list[float]  # milliseconds
    target: str = ""

    @property
    def p50(self) -> float:
        return percentile(self.values, 50)

    @property
    def p95(self) -> float:
        return percentile(self.values, 95)


def ms(pairs: Sequence[Change], get: Callable[[Change], float | None]) -> list[float]:
    values = (get(c) for c in pairs)
    return [v * 1000 for v in values if v is not None and not math.isnan(v)]


def rows(samples: Samples) -> list[Row]:
    every = samples.changes
    grants = [c for c in every if c.action == "grant"]
    backs = [c for c in every if c.action == "take_back"]

    def mix_to_packet(c: Change) -> float | None:
        return None if c.ear is None else c.ear.arrived - c.server.mixed

    def packet_to_ear(c: Change) -> float | None:
        return None if c.ear is None else c.ear.played - c.ear.arrived

    def ear_after_mix(c: Change) -> float | None:
        return None if c.ear is None else c.ear.played - c.server.mixed

    def click_to_ear(c: Change) -> float | None:
        return None if c.ear is None else c.ear.played - c.clicked

    return [
        Row(
            "click -> request in the application (h11)",
            ms(every, lambda c: c.server.received - c.clicked),
        ),
        Row(
            "  middleware, route guard, to a worker thread",
            ms(every, lambda c: c.server.auth_start - c.server.received),
        ),
        Row("  session check (its own transaction)", ms(every, lambda c: c.server.auth_end - c.server.auth_start)),
        Row(
            "  back, CSRF, body, to a worker thread",
            ms(every, lambda c: c.server.act_start - c.server.auth_end),
        ),
        Row("  floor transaction (lock, floor, audit)", ms(every, lambda c: c.server.act_end - c.server.act_start)),
        Row("  commit (SQLite: WAL write, fsync)", ms(every, lambda c: c.server.commit_end - c.server.commit_start)),
        Row("  back to the event loop (followed)", ms(every, lambda c: c.server.followed - c.server.commit_end)),
        Row("  routes swapped (rerouted)", ms(every, lambda c: c.server.rerouted - c.server.followed)),
        Row("click -> routes swapped", ms(every, lambda c: c.server.rerouted - c.clicked)),
        Row("  the mixer's next tick, and its mix", ms(every, lambda c: c.server.mixed - c.server.rerouted)),
        Row(
            "click -> first mix with the change",
            ms(every, lambda c: c.server.mixed - c.clicked),
            f"p95 <= {TARGET_APPLIED_P95_MS:g}",
        ),
        Row("click -> HTTP response at the panel", ms(every, lambda c: c.answered - c.clicked)),
        Row("first mix -> heard at the judge (grant)", ms(grants, ear_after_mix)),
        Row("first mix -> gone at the judge (take back)", ms(backs, ear_after_mix)),
        Row("  first mix -> its packet at the judge", ms(every, mix_to_packet)),
        Row("  packet -> played (jitter buffer, decoder)", ms(every, packet_to_ear)),
        Row("click -> heard (grant)", ms(grants, click_to_ear), "p95 <= latency + 40"),
        Row("click -> gone (take back)", ms(backs, click_to_ear), "p95 <= latency + 40"),
        Row("audio latency: custody tone on -> heard", samples.onsets),
        Row("  custody tone on -> its packet at the judge", samples.onset_packets),
        Row("audio latency: custody tone off -> gone", samples.offsets),
    ]


def verdict(ok: bool) -> str:
    return "met" if ok else "MISSED"


def print_summary(samples: Samples, table: list[Row]) -> dict[str, Any]:
    print()
    print(f"{'milliseconds':<46} {'median':>7} {'p95':>7} {'max':>7} {'n':>4}  target")
    for row in table:
        top = max(row.values) if row.values else math.nan
        print(f"{row.label:<46} {fmt(row.p50):>7} {fmt(row.p95):>7} {fmt(top):>7} {len(row.values):>4}  {row.target}")
    by = {row.label: row for row in table}
    mixed = by["click -> first mix with the change"]
    swapped = by["click -> routes swapped"]
    heard, gone = by["click -> heard (grant)"], by["click -> gone (take back)"]
    onset, offset = by["audio latency: custody tone on -> heard"], by["audio latency: custody tone off -> gone"]
    lost = sum(c.ear is None for c in samples.changes)
    print()
    print(
        f"cores while measuring: server process {fmt(samples.server_cores, 3)}, this process (two seats, the "
        f"panel) {fmt(samples.endpoint_cores, 3)}, other processes {fmt(max(0.0, samples.other_cores), 2)}, "
        f"stolen by the hypervisor {fmt(samples.steal_cores, 2)}"
    )
    print(
        f"not attributable (a gap in the judge's audio ran into the change, or nothing within {LATE:g} s): "
        f"{lost} of {len(samples.changes)} changes, {samples.missed} of {len(samples.changes)} latency switches"
    )
    print(
        f"stalls of this process (decoded frames at the judge over 50 ms apart): {len(samples.stalls)}, "
        f"longest {fmt(max(samples.stalls, default=0.0))} ms"
    )
    print("targets")
    applied_ok = mixed.p95 <= TARGET_APPLIED_P95_MS
    print(
        f"  click -> first mix p95 <= {TARGET_APPLIED_P95_MS:g} ms: {fmt(mixed.p95)} ms, {verdict(applied_ok)} "
        f"(routes swapped p95 {fmt(swapped.p95)} ms; the tick wait adds 0-{TICK_SECONDS * 1000:.0f} ms)"
    )
    heard_limit, gone_limit = onset.p50 + TARGET_HEARD_EXTRA_MS, offset.p50 + TARGET_HEARD_EXTRA_MS
    print(
        f"  click -> heard p95 <= audio latency (median {fmt(onset.p50)}, p95 {fmt(onset.p95)}) + "
        f"{TARGET_HEARD_EXTRA_MS:g} = {fmt(heard_limit)} ms: {fmt(heard.p95)} ms, {verdict(heard.p95 <= heard_limit)}; "
        f"heard - latency {fmt(heard.p50 - onset.p50)} ms, heard / latency {fmt(heard.p50 / onset.p50, 2)} (medians)"
    )
    print(
        f"  click -> gone p95 <= tone-off latency (median {fmt(offset.p50)}, p95 {fmt(offset.p95)}) + "
        f"{TARGET_HEARD_EXTRA_MS:g} = {fmt(gone_limit)} ms: {fmt(gone.p95)} ms, {verdict(gone.p95 <= gone_limit)}; "
        f"gone - latency {fmt(gone.p50 - offset.p50)} ms, gone / latency {fmt(gone.p50 / offset.p50, 2)} (medians)"
    )
    print(flush=True)
    return {
        row.label.strip(): {"median_ms": row.p50, "p95_ms": row.p95, "n": len(row.values), "target": row.target}
        for row in table
    }


def finite(value: Any) -> Any:
    """NaN (a stage not reached) as null: strict JSON has no NaN."""
    if isinstance(value, float) and math.isnan(value):
        return None
    if isinstance(value, dict):
        return {k: finite(v) for k, v in value.items()}
    if isinstance(value, list):
        return [finite(v) for v in value]
    return value


def write_json(path: Path, args: argparse.Namespace, samples: Samples, summary: dict[str, Any]) -> None:
    document = {
        "command": shlex.join([sys.executable, *sys.argv]),
        "date": datetime.now().astimezone().isoformat(timespec="seconds"),
        "cpu": cpu_model(),
        "repeats": args.repeats,
        "summary": summary,
        "changes": [dataclasses.asdict(c) for c in samples.changes],
        "latency_on_ms": samples.onsets,
        "latency_off_ms": samples.offsets,
        "server_cores": samples.server_cores,
        "endpoint_cores": samples.endpoint_cores,
        "other_cores": samples.other_cores,
        "steal_cores": samples.steal_cores,
        "stalls_ms": samples.stalls,
    }
    path.write_text(json.dumps(finite(document), indent=1))
    print(f"samples written to {path}")


# ---------------------------------------------------------------- main


def free_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return int(sock.getsockname()[1])


def main(argv: Sequence[str] | None = None) -> None:
    args = parse_args(argv)
    aiortc_hooks.restrict_host_addresses(LOOPBACK)
    server_core, endpoint_core = cores()
    print_header(args, server_core, endpoint_core)
    started = time.monotonic()
    with tempfile.TemporaryDirectory(prefix="floor-bench-") as tmp:
        data_dir = Path(tmp)
        seeded = seed(data_dir)
        port = free_port()
        server = ServerProcess(data_dir, port, server_core)
        try:
            if not server.call("ready"):
                raise RuntimeError("the server did not start")
            if endpoint_core is not None:
                os.sched_setaffinity(0, {endpoint_core})
            samples = asyncio.run(run(args, port, seeded, server))
        finally:
            server.stop()
    summary = print_summary(samples, rows(samples))
    if args.json is not None:
        write_json(args.json, args, samples, summary)
    print(f"load avg:   {load_average()} (at end); total {time.monotonic() - started:.0f} s")


if __name__ == "__main__":
    main()
