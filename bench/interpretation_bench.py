"""Interpretation that follows the floor, end to end, and what a remote party
costs the server (issue 12).

Through the real server (uvicorn, the application, SQLite in a temporary
directory, in a process of its own), a hearing in session in controlled
mode, with simultaneous interpretation for the detainee: the judge's seat
and the custody seat on the real media socket (Python peers that send a
tone and a 640x360 camera and decode what they are sent), and remote
parties (an interpreter, a prosecutor, defence counsel, a witness) that
each send their own tone and camera too. The server is `hearing serve` with
a gateway port: the internal listener and the external gateway's, two
uvicorn servers on one event loop (`hearing.cli.serve.listeners` and
`serve_all`). Remote parties join the way a real one does: the clerk's
service adds each to the docket and issues its one-time code
(`hearing.interpreter.issuing`); the party opens `/join/{invitation}` on
the gateway's listener (its CSRF cookie and token), posts the code to
`POST /join` as a JSON client, and from then on uses the remote session
cookie it was given: the signaling over the gateway's `/ws/remote/media`
with the project's media client (hearing/media/client.py), its media over
real UDP like any seat's. A remote seat starts in the lobby: the judge's
page admits it (`admit`, over the panel's HTTP) before it is heard; the
admission stays with the seat when it leaves and comes back.

1. The direction follows the floor. Rounds alternate the judge's page's
   `grant` of the floor to the detainee and its `take_back` (`POST
   /hearings/{id}/floor`, the session cookie and the CSRF token from the
   hearing's page). Each is timed from its transaction's commit (the
   server's own `after_commit`, read over the bench's probe pipe, which
   carries measurements only: one machine, one CLOCK_MONOTONIC) to the interpretation turning *at the receivers*: on a
   grant the interpreter's tone appearing in what the judge's seat decodes
   and disappearing from what the custody seat decodes; on a take-back the
   reverse. A tone "appears" at the first 20 ms frame that carries it and
   "disappears" at the first frame from which none does for 300 ms.
2. The CPU a remote party adds. The server process's CPU time (user +
   system, `resource.getrusage` inside it, over the probe pipe) per second of
   wall time, with 0, 1, 2 and 4 remote parties connected with audio and
   video besides the judge's and the custody seats; the configurations run
   interleaved (rotated each repetition: the machine is shared and noisy),
   each measured over a window after its media has settled; medians, their
   ratio to the baseline (0), and the added CPU per party.

Prints p50/p95/max and the medians; asserts nothing. To measure other code,
put it first on PYTHONPATH. A default run (20 switches, 3 repetitions of
8 s windows) takes about 3 minutes; `--quick` (2 switches, 1 repetition of
1 s windows) about 30 s: it shows the bench runs, not what the figures are.
"""

from __future__ import annotations

import argparse
import asyncio
import bisect
import contextlib
import dataclasses
import json
import multiprocessing
import multiprocessing.connection
import resource
import socket
import statistics
import tempfile
import threading
import time
import urllib.parse
from collections.abc import Sequence
from datetime import UTC, datetime
from pathlib import Path
from typing import Any, cast

import av
import bench_court  # bench/bench_court.py
import numpy as np
import quick  # bench/quick.py
import sqlalchemy
from aiortc import RTCPeerConnection
from aiortc.mediastreams import MediaStreamError, MediaStreamTrack
from interruption_bench import TOKEN_INPUT, Feed  # bench/interruption_bench.py
from kiosk_bench import Bench as JudgePage  # bench/kiosk_bench.py
from machine_facts import print_machine  # bench/machine_facts.py
from sqlalchemy import select
from sqlalchemy.orm import Session
from starlette.applications import Starlette

from hearing.actors import SYSTEM, Actor
from hearing.cli.serve import listeners, serve_all
from hearing.config import Settings
from hearing.db.models import Hearing, StaffUser
from hearing.docket.lifecycle import HearingState
from hearing.docket.parties import ParticipantRole
from hearing.interpreter import issuing
from hearing.media import aiortc_hooks
from hearing.media.client import MediaClient
from hearing.media.mixer import FRAME_SAMPLES, SAMPLE_RATE
from hearing.media.tracks import PatternTrack, ToneTrack, to_mono
from hearing.routing.policy import FloorMode, Interpretation
from hearing.services import Services
from hearing.speaker_order import presiding
from hearing.speaker_order.commands import Command
from hearing.web import csrf
from hearing.web.routing import CookieNames

QUICK = {"switches": 2, "repeats": 1, "window": 1.0, "settle": 1.0}
TONES = {
    "judge": 450.0,
    "custody": 1150.0,
    "interpreter": 4350.0,
    "prosecutor": 2750.0,
    "counsel": 3550.0,
    "witness": 1950.0,
}
REMOTE_ROLES = (
    ParticipantRole.INTERPRETER,
    ParticipantRole.PROSECUTOR,
    ParticipantRole.DEFENCE_COUNSEL,
    ParticipantRole.WITNESS,
)
# The remote session cookie's name over plain HTTP (the bench's cookie_secure=False).
REMOTE_COOKIE = CookieNames.for_scheme(secure=False).remote
PARTIES = (0, 1, 2, 4)  # remote parties connected, for the CPU figures
CAMERA = (640, 360, 25)
AMPLITUDE = 0.12  # tones summed at a receiver stay below full scale
SPEAKER = "custody:detainee"
TIMEOUT = 30.0
POLL = 0.005
TICK = 0.020
GOLDEN = 0.618034
GONE_SECONDS = 0.3  # a tone has disappeared when no frame carries it for this long
# A tone is present in a frame when its bin carries this much of a full-scale
# frame (the interpreter's tone at gain 1 is at AMPLITUDE, far above; a
# leak, silence and the other tones far below).
PRESENT = 0.02 * 32768 * FRAME_SAMPLES / 2


def parse_args(argv: Sequence[str] | None = None) -> argparse.Namespace:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--switches", type=int, default=20, help="floor changes (grants and take-backs alternate)")
    parser.add_argument("--repeats", type=int, default=3, help="interleaved repetitions of the CPU configurations")
    parser.add_argument("--window", type=float, default=8.0, help="seconds of CPU measured per configuration")
    parser.add_argument("--settle", type=float, default=3.0, help="seconds for a configuration's media to settle")
    quick.add_option(parser, QUICK)
    return quick.parse(parser, argv, QUICK)


# ---------------------------------------------------------------- the server's process


class Probe:
    """Public hooks only: the database's `after_commit` and the live
    hearings' trace (`followed`: a newer floor taken, by version)."""

    def __init__(self) -> None:
        self.commits: list[float] = []
        self.followed: dict[int, float] = {}

    def committed(self, session: Session) -> None:
        self.commits.append(time.monotonic())

    def trace(self, hearing_id: int, event: str, version: int) -> None:
        if event == "followed":
            self.followed.setdefault(version, time.monotonic())

    def commit_of(self, version: int) -> float | None:
        """The grant's commit: the last one before the live hearing followed its version."""
        followed = self.followed.get(version)
        if followed is None:
            return None
        return max((at for at in self.commits if at <= followed), default=None)


def serve(settings: Settings, control: multiprocessing.connection.Connection) -> None:
    """`hearing serve` with the gateway (both listeners on one loop), and a
    thread that answers the bench's measurements over the probe pipe: the
    process's CPU time, a commit's time. Nothing of a party's joining goes
    through it."""
    probe = Probe()
    with Services.from_settings(settings) as svc:
        servers = listeners(settings, svc, gateway=True)
        internal = cast(Starlette, servers[0].config.app)
        internal.state.live_hearings.trace = probe.trace
        sqlalchemy.event.listen(Session, "after_commit", probe.committed)

        def answer() -> None:
            while True:
                try:
                    kind, *args = control.recv()
                except EOFError:
                    return
                if kind == "cpu":
                    usage = resource.getrusage(resource.RUSAGE_SELF)
                    control.send((usage.ru_utime + usage.ru_stime, time.monotonic()))
                elif kind == "commit":
                    control.send(probe.commit_of(int(args[0])))
                else:
                    control.send(RuntimeError(f"unknown question {kind!r}"))

        threading.Thread(target=answer, name="bench probe", daemon=True).start()
        asyncio.run(serve_all(servers))


class Pipe:
    """The bench's end of the probe pipe: one question at a time."""

    def __init__(self, connection: multiprocessing.connection.Connection) -> None:
        self.connection = connection
        self._lock = threading.Lock()

    def ask(self, *message: Any) -> Any:
        with self._lock:
            self.connection.send(message)
            if not self.connection.poll(TIMEOUT):
                raise RuntimeError(f"the server did not answer {message[0]}")
            answer = self.connection.recv()
        if isinstance(answer, Exception):
            raise answer
        return answer


# ---------------------------------------------------------------- the seats


class Ear:
    """What a seat decodes: per 20 ms frame, when it arrived and whether the
    interpreter's tone is in it."""

    def __init__(self) -> None:
        self.arrivals: list[float] = []
        self.present: list[bool] = []
        self.tasks: list[asyncio.Task[None]] = []
        t = np.arange(FRAME_SAMPLES) / SAMPLE_RATE
        self._probe = np.exp(-2j * np.pi * TONES["interpreter"] * t)

    def track(self, connection: RTCPeerConnection, track: MediaStreamTrack) -> None:
        receiver = next(t.receiver for t in connection.getTransceivers() if t.receiver.track is track)
        if track.kind == "audio":
            aiortc_hooks.quicken_audio(receiver)  # as the server and the test peers do: no jitter delay
        self.tasks.append(asyncio.create_task(self._drain(track), name=f"ear {track.kind}"))

    async def _drain(self, track: MediaStreamTrack) -> None:
        # Every track is read: an unread one would queue its frames without end.
        with contextlib.suppress(MediaStreamError):
            while True:
                frame = await track.recv()
                if isinstance(frame, av.AudioFrame):
                    pcm = to_mono(frame).astype(np.float64)
                    self.present.append(bool(abs(np.dot(pcm, self._probe)) > PRESENT))
                    self.arrivals.append(time.monotonic())

    def appears(self, since: float) -> float | None:
        start = bisect.bisect_left(self.arrivals, since)
        return next((self.arrivals[i] for i in range(start, len(self.present)) if self.present[i]), None)

    def disappears(self, since: float) -> float | None:
        """The first frame after `since` from which none carries the tone
        for GONE_SECONDS (None until that long has been heard)."""
        quiet_from: float | None = None
        for i in range(bisect.bisect_left(self.arrivals, since), len(self.present)):
            at = self.arrivals[i]
            if self.present[i]:
                quiet_from = None
            elif quiet_from is None:
                quiet_from = at
            if quiet_from is not None and at >= quiet_from + GONE_SECONDS:
                return quiet_from
        return None

    async def close(self) -> None:
        for task in self.tasks:
            task.cancel()
        await asyncio.gather(*self.tasks, return_exceptions=True)


def tracks_of(role: str) -> list[MediaStreamTrack]:
    tone = ToneTrack(TONES[role], amplitude=AMPLITUDE)
    return [tone, PatternTrack(*CAMERA)]


class SocketSeat:
    """The judge's or the custody seat, on the real media socket."""

    def __init__(self, url: str, headers: dict[str, str], role: str) -> None:
        self.ear = Ear()
        self.client = MediaClient(url, headers=headers, on_track=lambda t: self.ear.track(self.client.connection, t))
        self.role = role

    async def open(self) -> None:
        await self.client.connect(tracks_of(self.role))

    async def close(self) -> None:
        await self.ear.close()
        await self.client.close()


@dataclasses.dataclass(frozen=True)
class Invited:
    """A remote party as the clerk's page leaves them: a seat, an invitation
    and its one-time code; and the tone the bench gives them."""

    seat: str
    role: str
    invitation: str
    code: str


class Visitor:
    """A remote party's browser at the gateway, as far as the code step:
    the join page's CSRF cookie and token, then the code posted as a JSON
    client (`Accept: application/json`); its cookies kept."""

    def __init__(self, port: int) -> None:
        self.port = port
        self.cookies: dict[str, str] = {}

    def _request(self, method: str, path: str, body: str | None = None, **headers: str) -> tuple[int, str]:
        return bench_court.page_request(self.port, self.cookies, method, path, body, headers, TIMEOUT)

    def join(self, invitation: str, code: str) -> str:
        """The code step; the remote session cookie it opens."""
        status, page = self._request("GET", f"/join/{invitation}")
        found = TOKEN_INPUT.search(page)
        if status != 200 or found is None:
            raise RuntimeError(f"the join page answered {status} without a form token")
        body = urllib.parse.urlencode({csrf.FIELD: found.group(1), "invitation": invitation, "code": code})
        status, text = self._request(
            "POST", "/join", body, **{"Content-Type": "application/x-www-form-urlencoded", "Accept": "application/json"}
        )
        if status != 200 or json.loads(text).get("next") != "/remote":
            raise RuntimeError(f"the code step answered {status}: {text[:200]}")
        cookie = self.cookies.get(REMOTE_COOKIE)
        if not cookie:
            raise RuntimeError("the code step set no remote session cookie")
        return cookie


class RemoteSeat(SocketSeat):
    """A remote party on the gateway's media socket, with its remote session
    cookie; the judge's page admits it from the lobby the first time."""

    def __init__(self, gateway_port: int, cookie: str, role: str, page: JudgePage) -> None:
        headers = {"Cookie": f"{REMOTE_COOKIE}={cookie}", "Origin": f"http://127.0.0.1:{gateway_port}"}
        super().__init__(f"ws://127.0.0.1:{gateway_port}/ws/remote/media", headers, role)
        self.page = page

    async def open(self) -> None:
        await super().open()
        if self.client.floor.get("admitted"):
            return
        clicked = time.monotonic()
        await asyncio.to_thread(self.page.command, {"action": "admit", "seat": self.client.seat})
        admitted = await wait_for(lambda: time.monotonic() if self.client.floor.get("admitted") else None)
        if admitted is None:
            raise RuntimeError(f"{self.client.seat}: never admitted from the lobby")
        print(f"  {self.client.seat}: in the lobby, admitted by the judge's page ({since(clicked, admitted):.0f} ms)")


async def wait_for(check: Any, timeout: float = TIMEOUT) -> Any:
    deadline = time.monotonic() + timeout
    while (found := check()) is None and time.monotonic() < deadline:
        await asyncio.sleep(POLL)
    return found


def since(start: float | None, at: float | None) -> float | None:
    return None if start is None or at is None else (at - start) * 1000


# ---------------------------------------------------------------- 1. the direction


@dataclasses.dataclass
class Switch:
    action: str  # grant: to the court; take_back: to the detainee
    answered: float | None = None  # commit -> the judge's page has its answer
    appears: float | None = None  # commit -> the interpreter's tone where it now goes
    disappears: float | None = None  # commit -> the tone gone where it no longer goes

    @property
    def turned(self) -> float | None:
        """Commit -> the direction changed at both receivers."""
        if self.appears is None or self.disappears is None:
            return None
        return max(self.appears, self.disappears)


async def one_switch(
    number: int, judge: SocketSeat, custody: SocketSeat, page: JudgePage, feed: Feed, pipe: Pipe
) -> Switch:
    grant = number % 2 == 0
    result = Switch("grant" if grant else "take_back")
    to, away = (judge.ear, custody.ear) if grant else (custody.ear, judge.ear)
    # Before the change: heard where it goes now, not where it will go.
    start = time.monotonic()
    if await wait_for(lambda: away.appears(start)) is None:
        raise RuntimeError(f"before the {result.action}: the interpreter is not heard where it should be")
    if await wait_for(lambda: to.disappears(start)) is None:
        raise RuntimeError(f"before the {result.action}: the interpreter is heard where it should not be")
    # Clicks at spread points of the mixer's 20 ms tick.
    await asyncio.sleep((number * GOLDEN % 1.0) * TICK)
    body = {"action": "grant", "speaker": SPEAKER} if grant else {"action": "take_back"}
    clicked = time.monotonic()
    await asyncio.to_thread(page.command, body)
    answered = time.monotonic()
    holder = SPEAKER if grant else None
    message = await wait_for(
        lambda: next(
            (
                m
                for at, m in feed.messages
                if at >= clicked and m.get("type") == "floor" and m["floor"]["holder"] == holder
            ),
            None,
        )
    )
    if message is None:
        raise RuntimeError(f"the panel never saw the {result.action}")
    committed = await asyncio.to_thread(pipe.ask, "commit", int(message["version"]))
    result.answered = since(committed, answered)
    result.appears = since(committed, await wait_for(lambda: to.appears(committed)))
    result.disappears = since(committed, await wait_for(lambda: away.disappears(committed)))
    return result


# ---------------------------------------------------------------- 2. the CPU


async def cpu_per_second(pipe: Pipe, window: float) -> float:
    cpu0, wall0 = await asyncio.to_thread(pipe.ask, "cpu")
    await asyncio.sleep(window)
    cpu1, wall1 = await asyncio.to_thread(pipe.ask, "cpu")
    return float((cpu1 - cpu0) / (wall1 - wall0))


async def cpu_runs(
    pipe: Pipe, make: Any, remote: Sequence[tuple[str, str]], args: argparse.Namespace
) -> dict[int, list[float]]:
    runs: dict[int, list[float]] = {n: [] for n in PARTIES}
    for repeat in range(args.repeats):
        order = PARTIES[repeat % len(PARTIES) :] + PARTIES[: repeat % len(PARTIES)]
        for n in order:
            parties = [make(cookie, role) for cookie, role in remote[:n]]
            try:
                for party in parties:
                    await party.open()
                await asyncio.sleep(args.settle)
                runs[n].append(await cpu_per_second(pipe, args.window))
            finally:
                for party in parties:
                    await party.close()
            print(f"  repeat {repeat + 1}  {n} remote  {runs[n][-1]:>6.3f} cores", flush=True)
            await asyncio.sleep(0.5)  # the room lets go of the peers
    return runs


# ---------------------------------------------------------------- the run


@dataclasses.dataclass
class Results:
    switches: list[Switch]
    cpu: dict[int, list[float]]


async def run(settings: Settings, seeded: bench_court.Seeded, invited: list[Invited], pipe: Pipe, args: Any) -> Results:
    port, gateway_port = settings.port, settings.gateway_port
    base = f"ws://127.0.0.1:{port}/ws/hearings/{seeded.hearing_id}"
    cookie = {"Cookie": f"hearing_session={seeded.cookie}"}
    feed = Feed(f"{base}/panel", {**cookie, "Origin": f"http://127.0.0.1:{port}"})
    page = JudgePage(port, seeded.hearing_id, seeded.cookie)
    await asyncio.to_thread(page.open_page)
    judge = SocketSeat(f"{base}/media", cookie, "judge")
    custody = SocketSeat(f"{base}/media", {"Authorization": f"Device {seeded.token}"}, "custody")
    switches: list[Switch] = []
    # Each remote party's code step at the gateway, once: its session cookie
    # serves every connection after (as a reconnecting browser's does).
    remote: list[tuple[str, str]] = []
    for party in invited:
        session = await asyncio.to_thread(Visitor(gateway_port).join, party.invitation, party.code)
        remote.append((session, party.role))

    def make(cookie: str, role: str) -> RemoteSeat:
        return RemoteSeat(gateway_port, cookie, role, page)

    await feed.open()
    await judge.open()
    await custody.open()
    interpreter = make(*remote[0])
    try:
        print(f"\n1. the direction follows the floor ({args.switches} switches)")
        print(f"  {'switch':<16} {'answer':>8} {'appears':>8} {'gone':>8} {'turned':>8}   (ms from the commit)")
        await interpreter.open()
        for number in range(args.switches):
            result = await one_switch(number, judge, custody, page, feed, pipe)
            switches.append(result)
            cells = " ".join(cell(v) for v in (result.answered, result.appears, result.disappears, result.turned))
            print(f"  {number + 1:<3} {result.action:<12} {cells}", flush=True)
        if args.switches % 2:
            await asyncio.to_thread(page.command, {"action": "take_back"})
        await interpreter.close()
        print(f"\n2. server CPU with remote parties (audio + {CAMERA[0]}x{CAMERA[1]} video each)")
        cpu = await cpu_runs(pipe, make, remote, args)
    finally:
        await judge.close()
        await custody.close()
        await feed.close()
    return Results(switches, cpu)


def prepare(settings: Settings, seeded: bench_court.Seeded) -> list[Invited]:
    """The hearing's remote parties on the docket, each with a one-time code
    (as the clerk's page adds and issues them; their seats wait in the
    lobby); controlled mode, the custody seat admitted, simultaneous
    interpretation for the detainee."""
    names = {"defence_counsel": "counsel"}

    def book(db: Session) -> list[Invited]:
        hearing = db.get_one(Hearing, seeded.hearing_id)
        invited = []
        for role in REMOTE_ROLES:
            language = "Arabic" if role is ParticipantRole.INTERPRETER else None
            party = issuing.add_remote_party(db, SYSTEM, hearing.id, role, role.value, language=language)
            issued = issuing.issue_code(
                db,
                svc.keys,
                SYSTEM,
                hearing.id,
                party.id,
                now=datetime.now(UTC),
                early_minutes=settings.remote_code_early_minutes,
            )
            invited.append(Invited(issued.seat, names.get(role.value, role.value), issued.invitation, issued.code))
        db.refresh(hearing)
        judge = db.scalars(select(StaffUser).where(StaffUser.username == "judge")).one()
        actor = Actor("user", judge.id, "judge")
        commands = [Command("mode", mode=FloorMode.CONTROLLED), Command("admit", seat="custody")]
        commands += [Command("interpretation", interpretation=Interpretation.SIMULTANEOUS)]
        for command in commands:
            presiding.act(db, actor, hearing.id, command, courtroom_id=hearing.courtroom_id)
        return invited

    with Services.from_settings(settings) as svc:
        return svc.unit_of_work(book)


# ---------------------------------------------------------------- the tables


def cell(value: float | None) -> str:
    return f"{'missing':>8}" if value is None else f"{value:>8.1f}"


def percentile(values: Sequence[float], p: float) -> float:
    ordered = sorted(values)
    return ordered[min(len(ordered) - 1, round(p / 100 * (len(ordered) - 1)))]


def line(label: str, values: Sequence[float | None]) -> None:
    found = [v for v in values if v is not None]
    figures = (
        f"{percentile(found, 50):>8.1f} {percentile(found, 95):>8.1f} {max(found):>8.1f}"
        if found
        else f"{'-':>8} {'-':>8} {'-':>8}"
    )
    print(f"{label:<48} {len(found):>3} {figures} {len(values) - len(found):>8}")


def summary(results: Results) -> None:
    print()
    print(f"{'milliseconds from the commit':<48} {'n':>3} {'p50':>8} {'p95':>8} {'max':>8} {'missing':>8}")
    s = results.switches
    line("direction turned at both receivers", [r.turned for r in s])
    grants = [r for r in s if r.action == "grant"]
    backs = [r for r in s if r.action == "take_back"]
    line("  grant: interpreter appears at the court", [r.appears for r in grants])
    line("  grant: interpreter gone at the detainee", [r.disappears for r in grants])
    line("  take-back: interpreter appears at the detainee", [r.appears for r in backs])
    line("  take-back: interpreter gone at the court", [r.disappears for r in backs])
    line("the judge's page has the command's answer", [r.answered for r in s])
    print(f"  (gone = the first frame of {GONE_SECONDS * 1000:.0f} ms without the tone; a frame is 20 ms)")
    print()
    print(f"{'server CPU, cores':<24} {'runs':>5} {'median':>8} {'min':>8} {'max':>8} {'ratio':>8} {'per party':>10}")
    base = statistics.median(results.cpu[0]) if results.cpu[0] else float("nan")
    for n in PARTIES:
        values = results.cpu[n]
        if not values:
            continue
        median = statistics.median(values)
        added = f"{(median - base) / n:>10.3f}" if n else f"{'-':>10}"
        print(
            f"{'  ' + str(n) + ' remote parties':<24} {len(values):>5} {median:>8.3f} {min(values):>8.3f}"
            f" {max(values):>8.3f} {median / base:>7.2f}x {added}"
        )
    print("  (the hearing's judge and custody seats are connected throughout, with audio and video)")


def main(argv: Sequence[str] | None = None) -> None:
    args = parse_args(argv)
    print_machine("interpretation benchmark")
    if args.quick:
        print(quick.NOTE)
    with tempfile.TemporaryDirectory(prefix="interpretation-bench-") as tmp:
        settings = Settings(
            data_dir=Path(tmp),
            port=bench_court.free_port(),
            gateway_host="127.0.0.1",
            gateway_port=bench_court.free_port(),
            cookie_secure=False,
            socket_connections_per_minute=600,
        )
        seeded = bench_court.seed(settings, state=HearingState.IN_SESSION, commands=(), pause_on_drop=False)
        invited = prepare(settings, seeded)
        ours, theirs = multiprocessing.get_context("spawn").Pipe()
        server = multiprocessing.get_context("spawn").Process(target=serve, args=(settings, theirs), daemon=True)
        server.start()
        try:
            bench_court_wait(settings.port)
            bench_court_wait(settings.gateway_port)
            print(
                f"rounds:     {args.switches} switches; CPU with {', '.join(map(str, PARTIES))} remote parties,"
                f" {args.repeats} interleaved repetitions of {args.window:g} s (after {args.settle:g} s to settle);"
                " SQLite; server (internal listener and gateway) in its own process; remote parties join at the"
                " gateway with a code and are admitted by the judge; controlled mode, simultaneous interpretation"
                " for the detainee"
            )
            results = asyncio.run(run(settings, seeded, invited, Pipe(ours), args))
        finally:
            server.terminate()
            server.join(timeout=10)
    summary(results)


def bench_court_wait(port: int) -> None:
    """Until the server accepts connections."""
    deadline = time.monotonic() + 30
    while True:
        try:
            socket.create_connection(("127.0.0.1", port), timeout=1).close()
            return
        except OSError:
            if time.monotonic() > deadline:
                raise
            time.sleep(0.1)


if __name__ == "__main__":
    main()
