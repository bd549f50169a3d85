"""A flooding endpoint against the staff snapshot: issue 10, defect 4.

One custody kiosk sends `request` / `withdraw` / a request for another
seat's speaker as fast as its socket takes them, for `--seconds`, while a
staff client fetches `GET /hearings/{id}/floor` (the judge's snapshot) one
after another. The same number of snapshots is fetched first with no flood.
Prints the snapshot's p50 / p99 / max for both phases, how many messages
the kiosk sent, and how many audit entries the flood appended.

The server (uvicorn, the application, SQLite in a temporary directory) runs
in its own process. Asserts nothing. To compare with other code, run the
script with that code first on PYTHONPATH (it uses only the application's
public factories). A default run takes about 25 s; `--quick` runs 1 s
phases: it shows the bench runs, not what the figures are.
"""

from __future__ import annotations

import argparse
import asyncio
import http.client
import json
import multiprocessing
import tempfile
import threading
import time
from collections.abc import Sequence
from pathlib import Path

import bench_court  # bench/bench_court.py
import quick  # bench/quick.py
import uvicorn
from sqlalchemy import func, select
from websockets.asyncio.client import connect

from hearing.app import create_app
from hearing.config import Settings
from hearing.db.models import AuditEntry
from hearing.docket.lifecycle import HearingState
from hearing.services import Services

QUICK = {"seconds": 1.0}
FLOOD = [
    {"type": "request", "speaker": "custody:detainee"},
    {"type": "withdraw", "speaker": "custody:detainee"},
    {"type": "request", "speaker": "courtroom:prosecutor"},
]


def parse_args(argv: Sequence[str] | None = None) -> argparse.Namespace:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--seconds", type=float, default=10.0, help="length of each phase")
    parser.add_argument(
        "--rate", type=float, default=400.0, help="kiosk messages per second (0: as fast as the socket takes them)"
    )
    quick.add_option(parser, QUICK)
    return quick.parse(parser, argv, QUICK)


def audit_entries(settings: Settings) -> int:
    with Services.from_settings(settings) as svc:
        return svc.unit_of_work(lambda db: db.scalar(select(func.count()).select_from(AuditEntry)) or 0)


def serve(settings: Settings) -> None:
    config = uvicorn.Config(create_app(settings), host="127.0.0.1", port=settings.port, log_level="warning")
    uvicorn.Server(config).run()


def snapshots(port: int, path: str, cookie: str, until: float, count: int | None = None) -> list[float]:
    """Fetch the snapshot one after another; milliseconds each."""
    conn = http.client.HTTPConnection("127.0.0.1", port, timeout=30)
    headers = {"Cookie": f"hearing_session={cookie}", "Accept": "application/json"}
    times: list[float] = []
    while (count is None and time.monotonic() < until) or (count is not None and len(times) < count):
        started = time.perf_counter()
        conn.request("GET", path, headers=headers)
        response = conn.getresponse()
        response.read()
        if response.status != 200:
            raise RuntimeError(f"snapshot answered {response.status}")
        times.append((time.perf_counter() - started) * 1000)
    conn.close()
    return times


async def flood(port: int, hearing_id: int, token: str, seconds: float, rate: float) -> tuple[int, dict[str, int]]:
    """Send the flood for `seconds` at `rate` a second, reading every answer;
    (sent, answers by kind)."""
    url = f"ws://127.0.0.1:{port}/ws/hearings/{hearing_id}/media"
    answers: dict[str, int] = {}
    sent = 0
    async with connect(url, additional_headers={"Authorization": f"Device {token}"}, max_size=2**20) as ws:
        json.loads(await ws.recv())  # welcome

        async def read() -> None:
            async for raw in ws:
                message = json.loads(raw)
                kind = message.get("error") or message["type"]
                answers[kind] = answers.get(kind, 0) + 1

        reader = asyncio.create_task(read())
        started = time.monotonic()
        while (now := time.monotonic()) < started + seconds:
            if rate and sent >= (now - started) * rate:
                await asyncio.sleep(1 / rate)
                continue
            await ws.send(json.dumps(FLOOD[sent % len(FLOOD)]))
            sent += 1
            if sent % 50 == 0:
                await asyncio.sleep(0)  # let the reader drain
        await ws.send(json.dumps({"type": "leave"}))
        await asyncio.wait_for(reader, timeout=120)
    return sent, answers


def percentile(values: Sequence[float], p: float) -> float:
    ordered = sorted(values)
    return ordered[min(len(ordered) - 1, round(p / 100 * (len(ordered) - 1)))]


def row(label: str, times: Sequence[float]) -> str:
    figures = (percentile(times, 50), percentile(times, 99), max(times))
    return f"{label:<12} {len(times):>8} " + " ".join(f"{f:>8.1f}" for f in figures)


def main(argv: Sequence[str] | None = None) -> None:
    args = parse_args(argv)
    with tempfile.TemporaryDirectory(prefix="flood-bench-") as tmp:
        settings = Settings(data_dir=Path(tmp), port=bench_court.free_port(), cookie_secure=False)
        seeded = bench_court.seed(settings, state=HearingState.OPEN)
        hearing_id, cookie, token = seeded.hearing_id, seeded.cookie, seeded.token
        server = multiprocessing.get_context("spawn").Process(target=serve, args=(settings,), daemon=True)
        server.start()
        try:
            path = f"/hearings/{hearing_id}/floor"
            deadline = time.monotonic() + 30
            while True:
                try:
                    snapshots(settings.port, path, cookie, 0, count=1)
                    break
                except OSError:
                    if time.monotonic() > deadline:
                        raise
                    time.sleep(0.1)
            rate = f"{args.rate:g}/s" if args.rate else "unpaced"
            print(f"flood bench: {args.seconds:g} s phases, kiosk at {rate}, SQLite, server in its own process")
            if args.quick:
                print(quick.NOTE)
            quiet = snapshots(settings.port, path, cookie, time.monotonic() + args.seconds)
            before = audit_entries(settings)
            result: dict[str, tuple[int, dict[str, int]]] = {}
            failures: list[BaseException] = []

            def kiosk() -> None:
                try:
                    result["run"] = asyncio.run(flood(settings.port, hearing_id, token, args.seconds, args.rate))
                except Exception as exc:  # said below, with the figures that were measured
                    failures.append(exc)

            thread = threading.Thread(target=kiosk)
            thread.start()
            time.sleep(0.05)  # the kiosk is in before the first snapshot
            flooded = snapshots(settings.port, path, cookie, time.monotonic() + args.seconds)
            thread.join()
            appended = audit_entries(settings) - before
        finally:
            server.terminate()
            server.join(timeout=10)
    print()
    print(f"{'snapshot ms':<12} {'requests':>8} {'p50':>8} {'p99':>8} {'max':>8}")
    print(row("quiet", quiet))
    print(row("flooded", flooded))
    print()
    if failures:
        print(f"kiosk failed:   {failures[0]!r} (the server fell behind its answers)")
    else:
        sent, answers = result["run"]
        print(f"kiosk sent:     {sent} messages in {args.seconds:g} s ({sent / args.seconds:.0f}/s)")
        print(f"kiosk answers:  {', '.join(f'{k} {v}' for k, v in sorted(answers.items()))}")
    print(f"audit entries:  {appended} appended during the flood (joining and leaving included)")


if __name__ == "__main__":
    main()
