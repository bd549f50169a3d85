"""The kiosk's Ask to speak, the judge's grant, and the kiosk's own reconnect
(issue 11, item 2: "Ask to speak ... lands in the judge's queue" within
500 ms; "the kiosk page reconnects by itself").

Through the real server (uvicorn, the application, SQLite in a temporary
directory, in a process of its own), a hearing in session in controlled
mode with the judge's panel feed open (`/ws/hearings/{id}/panel`, as the
judge's page keeps it), the judge's seat (a Python peer that decodes what
it is sent) and the custody seat, admitted (a Python peer on the real
media socket, sending a 1150 Hz tone, as the kiosk's media link does):

1. Ask to speak: the custody socket sends `request`, then (next round)
   `withdraw`, alternating, one every 1.1 s (under the seat's token bucket:
   a burst of 5, then one a second); measured to the panel feed's `floor`
   message with the request in the queue (or out of it), and to the seat's
   own `floor` update. The baseline, interleaved on the same socket half a
   pace later: `ping` -> `pong` (the socket's round trip with no work at the
   server). The ratio says what the floor's audited transaction and the
   push to the panel add to the round trip.
2. The judge grants the floor: custody asks, then the judge's page's request
   (`POST /hearings/{id}/floor` `{"action": "grant", ...}` with the session
   cookie and the CSRF token from the hearing's page), measured to its
   answer, to the panel feed's `floor` with custody holding it, and to
   custody's tone decoded at the judge's seat; then `take_back`, and the
   tone gone, before the next round.
3. (Not with `--quick`.) The real kiosk page in Debian's Chromium (fake
   camera and microphone, the device's cookie) takes the custody seat; the
   server drops its media link (the seat's channel dismissed in the server's
   event loop, as the liveness timeout does) and the bench measures, from
   that moment, the page saying "reconnecting", the panel told the seat is
   back (`interruption` with `since: null`), the page back in session, and
   its peer connection connected again. The kiosk waits 1 s before its
   first retry (kiosk.js BACKOFF_MS), which the figures include.

The server and the bench read the same CLOCK_MONOTONIC (one machine), so
the server's moment of the drop is comparable with the page's. Prints
median, p95 and max of each figure; asserts nothing. To measure other code,
put it first on PYTHONPATH. A default run (40 asks, 10 grants, 5 drops)
takes about 2 minutes; `--quick` (6 asks, 2 grants, no browser) about 15 s:
it shows the bench runs, not what the figures are.
"""

from __future__ import annotations

import argparse
import asyncio
import contextlib
import dataclasses
import itertools
import json
import multiprocessing
import multiprocessing.connection
import tempfile
import threading
import time
from collections.abc import Callable, Sequence
from pathlib import Path
from typing import Any

import bench_court  # bench/bench_court.py
import quick  # bench/quick.py
import uvicorn
from interruption_bench import CUSTODY_TONE, JUDGE_TONE, Ear, Feed, Judge  # bench/interruption_bench.py
from machine_facts import print_machine  # bench/machine_facts.py

from hearing.app import create_app
from hearing.config import Settings
from hearing.docket.lifecycle import HearingState
from hearing.media.client import MediaClient
from hearing.media.tracks import ToneTrack
from hearing.routing.policy import FloorMode
from hearing.speaker_order.commands import Command
from hearing.web import csrf

QUICK = {"asks": 6, "grants": 2, "drops": 0}
SPEAKER = "custody:detainee"
PACE = 1.1  # seconds between a seat's floor messages: under its bucket's refill of one a second
TIMEOUT = 30.0
POLL = 0.002
TICK = 0.020  # the mixer's tick (hearing/media/mixer.py: 20 ms frames)
GOLDEN = 0.618034
TARGET_MS = 500.0  # issue 11: Ask to speak in the judge's queue within 500 ms
CHROMIUM = "/usr/bin/chromium"
CHROMIUM_ARGS = [  # as tests/browser.py
    "--no-sandbox",
    "--disable-gpu",
    "--disable-background-networking",
    "--disable-component-update",
    "--disable-sync",
    "--no-first-run",
    "--use-fake-ui-for-media-stream",
    "--use-fake-device-for-media-stream",
    "--allow-loopback-in-peer-connection",
    "--autoplay-policy=no-user-gesture-required",
]


def parse_args(argv: Sequence[str] | None = None) -> argparse.Namespace:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--asks", type=int, default=40, help="Ask to speak rounds (request and withdraw alternate)")
    parser.add_argument("--grants", type=int, default=10, help="grant / take-back rounds")
    parser.add_argument("--drops", type=int, default=5, help="kiosk page reconnects in Chromium (0: none)")
    quick.add_option(parser, QUICK)
    return quick.parse(parser, argv, QUICK)


# ---------------------------------------------------------------- the server's process


def serve(settings: Settings, control: multiprocessing.connection.Connection) -> None:
    """The server, and a thread that drops a seat's link when the bench asks
    (`(hearing_id, seat)` in, the drop's monotonic time out): the seat's
    channel dismissed in the event loop, as the liveness timeout does it."""
    app = create_app(settings)
    server = uvicorn.Server(
        uvicorn.Config(app, host="127.0.0.1", port=settings.port, log_level="warning", ws_max_size=256 * 1024)
    )

    def drops() -> None:
        while True:
            try:
                hearing_id, seat = control.recv()
            except EOFError:
                return
            loop = server.servers[0].get_loop()

            async def drop(hearing_id: int = hearing_id, seat: str = seat) -> float:
                live = app.state.live_hearings.get(hearing_id)
                at = time.monotonic()
                live._seats[seat].dismiss("timeout")
                return at

            control.send(asyncio.run_coroutine_threadsafe(drop(), loop).result(10))

    threading.Thread(target=drops, name="drops", daemon=True).start()
    server.run()


# ---------------------------------------------------------------- the custody seat


class Kiosk(MediaClient):
    """The custody seat, with every `floor` update and `pong` timed."""

    def __init__(self, url: str, token: str) -> None:
        super().__init__(url, headers={"Authorization": f"Device {token}"})
        self.pongs: dict[int, float] = {}
        self.floors: list[tuple[float, dict[str, Any]]] = []
        self.errors: list[dict[str, Any]] = []
        self._own_nonces = itertools.count(1 << 40)  # apart from the client's own pinger's

    async def _read(self) -> None:
        assert self._socket is not None
        with contextlib.suppress(Exception):
            async for raw in self._socket:
                at = time.monotonic()
                message = json.loads(raw)
                kind = message.get("type")
                if kind == "pong":
                    self.pongs[int(message["nonce"])] = at
                elif kind == "floor":
                    self.floors.append((at, message))
                    if message["version"] >= self.floor.get("version", -1):
                        self.floor = message
                elif kind == "error" and self.seat is not None:
                    self.errors.append(message)
                elif kind not in ("health", "level", "link", "interruption", "hearing"):
                    await self._replies.put(message)
        await self._replies.put({"type": "closed"})

    async def ping(self) -> int:
        nonce = next(self._own_nonces)
        await self.send({"type": "ping", "nonce": nonce})
        return nonce


async def wait_for(check: Callable[[], float | None], timeout: float = TIMEOUT) -> float | None:
    deadline = time.monotonic() + timeout
    while (found := check()) is None and time.monotonic() < deadline:
        await asyncio.sleep(POLL)
    return found


def since(start: float, at: float | None) -> float | None:
    return None if at is None else (at - start) * 1000


def queued(message: dict[str, Any]) -> bool:
    return message.get("type") == "floor" and SPEAKER in [r["speaker"] for r in message["floor"]["queue"]]


def holding(message: dict[str, Any]) -> bool:
    return message.get("type") == "floor" and message["floor"]["holder"] == SPEAKER


def released(message: dict[str, Any]) -> bool:
    return message.get("type") == "floor" and message["floor"]["holder"] != SPEAKER


class Bench(Judge):
    """The judge's page as far as its floor buttons: the same JSON request
    panel.js sends, with the CSRF token in its header."""

    def command(self, body: dict[str, Any]) -> None:
        status, text = self._request(
            "POST",
            f"/hearings/{self.hearing_id}/floor",
            json.dumps(body),
            **{"Content-Type": "application/json", "Accept": "application/json", csrf.HEADER: self.token},
        )
        if status != 200:
            raise RuntimeError(f"{body['action']} answered {status}: {text[:200]}")


# ---------------------------------------------------------------- 1. Ask to speak


@dataclasses.dataclass
class Ask:
    action: str
    panel: float | None = None  # sent -> the panel feed's floor with (or without) the request
    seat: float | None = None  # sent -> the seat's own floor update
    pong: float | None = None  # the baseline: ping sent -> pong, half a pace later


def in_my_view(message: dict[str, Any]) -> bool:
    """The seat's own view of the floor lists its queued speakers."""
    return SPEAKER in message["queued"]


def unqueued(message: dict[str, Any]) -> bool:
    return message.get("type") == "floor" and not queued(message)


async def one_ask(kiosk: Kiosk, feed: Feed, action: str) -> Ask:
    result = Ask(action)
    want = queued if action == "request" else unqueued
    asking = action == "request"
    started = time.monotonic()
    await kiosk.send({"type": action, "speaker": SPEAKER})
    result.panel = since(started, await wait_for(lambda: feed.first(started, want)))
    result.seat = since(
        started,
        await wait_for(lambda: next((at for at, m in kiosk.floors if at >= started and in_my_view(m) is asking), None)),
    )
    await asyncio.sleep(max(0.0, started + PACE / 2 - time.monotonic()))
    pinged = time.monotonic()
    nonce = await kiosk.ping()
    result.pong = since(pinged, await wait_for(lambda: kiosk.pongs.get(nonce)))
    await asyncio.sleep(max(0.0, started + PACE - time.monotonic()))
    return result


async def asks(kiosk: Kiosk, feed: Feed, rounds: int) -> list[Ask]:
    results: list[Ask] = []
    for number in range(rounds):
        result = await one_ask(kiosk, feed, "request" if number % 2 == 0 else "withdraw")
        results.append(result)
        print(f"  ask {number + 1:<3} {result.action:<9} {cell(result.panel)} {cell(result.seat)} {cell(result.pong)}")
    if kiosk.errors:
        print(f"  the seat was refused: {kiosk.errors[:3]}")
    return results


# ---------------------------------------------------------------- 2. the grant


@dataclasses.dataclass
class Grant:
    answered: float | None = None  # the click -> the HTTP answer
    panel: float | None = None  # the click -> the panel feed's floor with custody holding it
    heard: float | None = None  # the click -> custody's tone decoded at the judge's seat


async def one_grant(kiosk: Kiosk, feed: Feed, ear: Ear, judge: Bench, number: int) -> Grant:
    asked = time.monotonic()
    await kiosk.send({"type": "request", "speaker": SPEAKER})
    if await wait_for(lambda: feed.first(asked, queued)) is None:
        raise RuntimeError("custody's request never reached the panel")
    # Not heard before the click (controlled mode, nobody holds the floor).
    await asyncio.sleep(0.3)
    if ear.hears_since(time.monotonic() - 0.25) is not None:
        raise RuntimeError("the judge hears custody before the grant")
    # Clicks at spread points of the mixer's 20 ms tick (a fixed pace would
    # land every click at about the same point of it).
    await asyncio.sleep((number * GOLDEN % 1.0) * TICK)
    result = Grant()
    click = time.monotonic()
    await asyncio.to_thread(judge.command, {"action": "grant", "speaker": SPEAKER})
    result.answered = since(click, time.monotonic())
    result.panel = since(click, await wait_for(lambda: feed.first(click, holding)))
    result.heard = since(click, await wait_for(lambda: ear.hears_since(click)))
    back = time.monotonic()
    await asyncio.to_thread(judge.command, {"action": "take_back"})
    await wait_for(lambda: feed.first(back, released))
    # The tone gone at the judge's seat (the last frames in flight drain).
    quiet = await wait_for(lambda: None if ear.hears_since(time.monotonic() - 0.3) else time.monotonic())
    if quiet is None:
        raise RuntimeError("custody is still heard after the take-back")
    await asyncio.sleep(max(0.0, asked + PACE - time.monotonic()))
    return result


async def grants(kiosk: Kiosk, feed: Feed, ear: Ear, judge: Bench, rounds: int) -> list[Grant]:
    results: list[Grant] = []
    for number in range(rounds):
        result = await one_grant(kiosk, feed, ear, judge, number)
        results.append(result)
        print(f"  grant {number + 1:<3} {cell(result.answered)} {cell(result.panel)} {cell(result.heard)}")
    return results


# ---------------------------------------------------------------- 3. the kiosk page


@dataclasses.dataclass
class Drop:
    reconnecting: float | None = None  # the server drops the link -> the page says "reconnecting"
    told_back: float | None = None  # -> the panel feed: the seat is back (interruption ended)
    in_session: float | None = None  # -> the page shows "in session" again
    connected: float | None = None  # -> the page's peer connection is connected again


PAGE_STATE = "document.body.dataset.state"
PAGE_CONNECTED = "!!(window.kiosk && window.kiosk.link && window.kiosk.link.pc"
PAGE_CONNECTED += " && window.kiosk.link.pc.connectionState === 'connected')"


async def kiosk_page(
    port: int, seeded: bench_court.Seeded, feed: Feed, control: multiprocessing.connection.Connection, rounds: int
) -> list[Drop]:
    from playwright.async_api import async_playwright  # only for this part: --quick runs without Chromium

    results: list[Drop] = []
    async with async_playwright() as playwright:
        browser = await playwright.chromium.launch(executable_path=CHROMIUM, headless=True, args=CHROMIUM_ARGS)
        try:
            context = await browser.new_context(viewport={"width": 1280, "height": 800})
            # The cookie a redeemed enrollment link sets (hearing/web/devices.py).
            await context.add_cookies(
                [{"name": "hearing_device", "value": seeded.token, "url": f"http://127.0.0.1:{port}"}]
            )
            page = await context.new_page()
            await page.goto(f"http://127.0.0.1:{port}/device")

            async def poll(script: str, want: Callable[[Any], bool], timeout: float = TIMEOUT) -> float | None:
                deadline = time.monotonic() + timeout
                while time.monotonic() < deadline:
                    with contextlib.suppress(Exception):  # a context gone with a navigation
                        if want(await page.evaluate(script)):
                            return time.monotonic()
                    await asyncio.sleep(0.01)
                return None

            if await poll(PAGE_STATE, lambda s: s == "in_session", 60) is None:
                raise RuntimeError(f"the kiosk page never took its seat: {await page.evaluate(PAGE_STATE)!r}")
            if await poll(PAGE_CONNECTED, bool, 60) is None:
                raise RuntimeError("the kiosk page's peer connection never connected")
            for number in range(rounds):
                await asyncio.sleep(2.0)  # the link settles (health, the first pictures)
                control.send((seeded.hearing_id, "custody"))
                dropped: float = await asyncio.to_thread(control.recv)
                result = Drop()
                result.reconnecting = since(dropped, await poll(PAGE_STATE, lambda s: s == "reconnecting"))
                result.in_session = since(dropped, await poll(PAGE_STATE, lambda s: s == "in_session"))
                result.connected = since(dropped, await poll(PAGE_CONNECTED, bool))
                result.told_back = since(
                    dropped,
                    feed.first(dropped, lambda m: m.get("type") == "interruption" and m.get("since") is None),
                )
                results.append(result)
                print(
                    f"  drop {number + 1:<3} {cell(result.reconnecting)} {cell(result.told_back)}"
                    f" {cell(result.in_session)} {cell(result.connected)}"
                )
        finally:
            await browser.close()
    return results


# ---------------------------------------------------------------- the run


@dataclasses.dataclass
class Results:
    asks: list[Ask]
    grants: list[Grant]
    drops: list[Drop]


async def run(
    port: int, seeded: bench_court.Seeded, control: multiprocessing.connection.Connection, args: argparse.Namespace
) -> Results:
    base = f"ws://127.0.0.1:{port}/ws/hearings/{seeded.hearing_id}"
    cookie = {"Cookie": f"hearing_session={seeded.cookie}"}
    feed = Feed(f"{base}/panel", {**cookie, "Origin": f"http://127.0.0.1:{port}"})
    ear = Ear(f"{base}/media", cookie)
    judge = Bench(port, seeded.hearing_id, seeded.cookie)
    await asyncio.to_thread(judge.open_page)
    await feed.open()
    await ear.client.connect([ToneTrack(JUDGE_TONE)])
    kiosk = Kiosk(f"{base}/media", seeded.token)
    await kiosk.connect([ToneTrack(CUSTODY_TONE)])
    drops: list[Drop] = []
    try:
        await asyncio.sleep(1.0)  # the media links settle
        print(f"\n1. Ask to speak ({args.asks} rounds, one every {PACE} s)")
        print(f"  {'round':<13} {'panel':>8} {'seat':>8} {'pong':>8}   (ms)")
        asked = await asks(kiosk, feed, args.asks)
        print(f"\n2. the judge grants the floor ({args.grants} rounds)")
        print(f"  {'round':<9} {'answer':>8} {'panel':>8} {'heard':>8}   (ms)")
        granted = await grants(kiosk, feed, ear, judge, args.grants)
        if args.drops:
            await kiosk.close()  # the page takes the custody seat
            print(f"\n3. the kiosk page reconnects ({args.drops} drops)")
            print(f"  {'round':<8} {'reconn.':>8} {'told':>8} {'session':>8} {'ICE':>8}   (ms)")
            drops = await kiosk_page(port, seeded, feed, control, args.drops)
    finally:
        with contextlib.suppress(Exception):
            await kiosk.close()
        await ear.close()
        await feed.close()
    return Results(asked, granted, drops)


# ---------------------------------------------------------------- the tables


def cell(value: float | None) -> str:
    return f"{'missing':>8}" if value is None else f"{value:>8.1f}"


def percentile(values: Sequence[float], p: float) -> float:
    ordered = sorted(values)
    return ordered[min(len(ordered) - 1, round(p / 100 * (len(ordered) - 1)))]


def line(label: str, values: Sequence[float | None]) -> float | None:
    found = [v for v in values if v is not None]
    figures = (
        f"{percentile(found, 50):>8.1f} {percentile(found, 95):>8.1f} {max(found):>8.1f}"
        if found
        else f"{'-':>8} {'-':>8} {'-':>8}"
    )
    print(f"{label:<44} {len(found):>3} {figures} {len(values) - len(found):>8}")
    return percentile(found, 50) if found else None


def summary(results: Results) -> None:
    print()
    print(f"{'milliseconds':<44} {'n':>3} {'median':>8} {'p95':>8} {'max':>8} {'missing':>8}")
    a = results.asks
    panel = line("ask -> panel's floor (request and withdraw)", [r.panel for r in a])
    line("  request -> in the panel's queue", [r.panel for r in a if r.action == "request"])
    line("  withdraw -> out of the panel's queue", [r.panel for r in a if r.action == "withdraw"])
    line("ask -> the seat's own floor update", [r.seat for r in a])
    pong = line("baseline: ping -> pong, same socket", [r.pong for r in a])
    g = results.grants
    line("grant click -> HTTP answer", [r.answered for r in g])
    line("grant click -> panel's floor, custody holds", [r.panel for r in g])
    line("grant click -> custody's tone heard at judge", [r.heard for r in g])
    d = results.drops
    if d:
        line("link dropped -> page says reconnecting", [r.reconnecting for r in d])
        line("link dropped -> panel told the seat is back", [r.told_back for r in d])
        line("link dropped -> page in session again", [r.in_session for r in d])
        line("link dropped -> page's peer connected again", [r.connected for r in d])
    print()
    print("ratio")
    if panel is not None and pong:
        print(f"  ask -> panel / ping -> pong (medians): {panel / pong:.1f}x ({panel:.1f} / {pong:.1f} ms)")
    else:
        print("  ask -> panel / ping -> pong (medians): -")
    print("targets")
    worst = max((r.panel for r in a if r.panel is not None), default=float("nan"))
    print(f"  Ask to speak in the judge's queue within {TARGET_MS:.0f} ms: worst {worst:.1f} ms over {len(a)} asks")
    if not d:
        print("  (the kiosk page's reconnect: not run; --drops N runs it in Chromium)")


def main(argv: Sequence[str] | None = None) -> None:
    args = parse_args(argv)
    print_machine("kiosk benchmark")
    if args.quick:
        print(quick.NOTE)
    with tempfile.TemporaryDirectory(prefix="kiosk-bench-") as tmp:
        settings = Settings(
            data_dir=Path(tmp), port=bench_court.free_port(), cookie_secure=False, socket_connections_per_minute=600
        )
        seeded = bench_court.seed(
            settings,
            state=HearingState.IN_SESSION,
            commands=(Command("mode", mode=FloorMode.CONTROLLED), Command("admit", seat="custody")),
            # The page's return to "in session" is what part 3 times.
            pause_on_drop=False,
        )
        ours, theirs = multiprocessing.get_context("spawn").Pipe()
        with bench_court.serving(settings, serve, (settings, theirs)):
            print(
                f"rounds:     {args.asks} asks, {args.grants} grants, {args.drops} kiosk page drops;"
                " SQLite; server in its own process; controlled mode"
            )
            results = asyncio.run(run(settings.port, seeded, ours, args))
    summary(results)


if __name__ == "__main__":
    main()
