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
import socket
import tempfile
import threading
import time
from collections.abc import Sequence
from datetime import UTC, datetime, timedelta
from pathlib import Path

import quick  # bench/quick.py
import uvicorn
from sqlalchemy import func, select
from sqlalchemy.orm import Session
from websockets.asyncio.client import connect

from hearing.actors import SYSTEM, Actor
from hearing.app import create_app
from hearing.auth import devices, signin, totp
from hearing.auth.roles import Role
from hearing.config import Settings
from hearing.db.models import AuditEntry, Base, Court, Courtroom, CustodyFacility, Hearing, Participant, StaffUser
from hearing.docket.lifecycle import HearingState
from hearing.docket.parties import Connection, EndpointKind, HearingKind, ParticipantRole
from hearing.services import Services
from hearing.speaker_order import presiding
from hearing.speaker_order.commands import Command
from hearing.web.routing import session_signer

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


def free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        port: int = s.getsockname()[1]
        return port


def seed(settings: Settings) -> tuple[int, str, str]:
    """A live hearing with its custody seat admitted: (hearing id, the
    judge's session cookie, the kiosk's device token)."""
    svc = Services.from_settings(settings, create_keys=True)
    Base.metadata.create_all(svc.engine)

    def court(db: Session) -> tuple[int, str, str]:
        byret = Court(name="Byret")
        db.add(byret)
        db.flush()
        room, facility = Courtroom(court_id=byret.id, name="Retssal 1"), CustodyFacility(name="Arresthuset")
        db.add_all([room, facility])
        db.flush()
        judge = StaffUser(
            username="judge",
            display_name="Judge",
            role=Role.JUDGE,
            password_hash="-",  # noqa: S106 (never signs in: the bench starts its session)
            totp_secret_enc=totp.encrypt_secret(svc.keys.totp_encryption, "judge", totp.new_secret()),
            totp_confirmed=True,
            courtroom_id=room.id,
            failed_attempts=0,
        )
        db.add(judge)
        now = datetime.now(UTC)
        hearing = Hearing(
            case_number="SS 1-1/2026",
            kind=HearingKind.REMAND_EXTENSION,
            courtroom_id=room.id,
            facility_id=facility.id,
            scheduled_start=now,
            scheduled_end=now + timedelta(hours=1),
            detainee_name="Detainee",
            detainee_reference="REF",
            state=HearingState.OPEN,
        )
        db.add(hearing)
        db.flush()
        for role, connection in (
            (ParticipantRole.DETAINEE, Connection.CUSTODY),
            (ParticipantRole.PROSECUTOR, Connection.COURTROOM),
        ):
            db.add(Participant(hearing_id=hearing.id, role=role, display_name=role.value, connection=connection))
        db.flush()
        token = devices.enroll(
            db, svc.keys, SYSTEM, kind=EndpointKind.CUSTODY, name="kiosk", site="Arresthuset", now=now
        ).token
        presiding.act(
            db, Actor("user", judge.id, "judge"), hearing.id, Command("admit", seat="custody"), courtroom_id=room.id
        )
        session = signin.start_session(db, judge, now)
        return hearing.id, session, token

    with svc:
        hearing_id, session, token = svc.unit_of_work(court)
        return hearing_id, session_signer(svc).sign(session.encode()).decode(), token


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
        settings = Settings(data_dir=Path(tmp), port=free_port(), cookie_secure=False)
        hearing_id, cookie, token = seed(settings)
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
