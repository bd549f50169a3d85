"""The test call's cost and what it measures (docs/benchmarks.md).

Two figures, from interleaved runs (loop, direct, loop, direct, ...),
medians reported:

- the server's CPU per test call: the server runs in a process of its own
  (the real application under uvicorn, SQLite), and its user + system time
  is read from /proc before and after each call, which includes the
  signaling, the loop itself, the grading and the recorded row and audit
  entry;
- the round trip it measures (RTCP, the server's side of the loop) against
  the round trip a direct aiortc link between the same two kinds of process
  reports (RTCP, the sender's side), with the same 1280x720 25 fps camera
  and tone.

    python bench/test_call_bench.py [--runs 5] [--seconds 8] [--quick]
"""

from __future__ import annotations

import argparse
import asyncio
import json
import os
import socket
import statistics
import subprocess
import sys
import tempfile
import time
from collections.abc import Sequence
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

import quick  # bench/quick.py
from aiortc import RTCBundlePolicy, RTCConfiguration, RTCPeerConnection, RTCSessionDescription
from aiortc.mediastreams import MediaStreamTrack
from machine_facts import print_machine  # bench/machine_facts.py

REPO = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(REPO))

from hearing.actors import SYSTEM  # noqa: E402
from hearing.auth import devices  # noqa: E402
from hearing.config import Settings  # noqa: E402
from hearing.db.models import Base, CustodyFacility  # noqa: E402
from hearing.docket.parties import EndpointKind  # noqa: E402
from hearing.media import aiortc_hooks  # noqa: E402
from hearing.media.loop_client import LoopClient  # noqa: E402
from hearing.media.tracks import PatternTrack, ToneTrack  # noqa: E402
from hearing.services import Services  # noqa: E402

# 4 s: the server needs a receiver report back for its round trip, which a
# loaded machine may not have within 2 s (CI measured none once).
QUICK = {"runs": 1, "seconds": 4.0}
TICKS = os.sysconf("SC_CLK_TCK")


def free_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return int(sock.getsockname()[1])


def wait_for_port(port: int, timeout: float = 30.0) -> None:
    deadline = time.monotonic() + timeout
    while True:
        try:
            socket.create_connection(("127.0.0.1", port), timeout=0.5).close()
            return
        except OSError:
            if time.monotonic() > deadline:
                raise
            time.sleep(0.1)


def cpu_seconds(pid: int) -> float:
    fields = Path(f"/proc/{pid}/stat").read_text().rsplit(")", 1)[1].split()
    return (int(fields[11]) + int(fields[12])) / TICKS  # utime, stime


# --- the processes on the other side ------------------------------------------------


def serve(data_dir: str, port: int, seconds: float) -> None:
    """The application, as `hearing serve` runs it, with one custody kiosk."""
    import uvicorn

    from hearing.app import create_app

    settings = Settings(
        data_dir=Path(data_dir),
        database_url=f"sqlite:///{data_dir}/hearing.db",
        host="127.0.0.1",
        port=port,
        cookie_secure=False,
        test_call_seconds=seconds,
        media_addresses="127.0.0.1",
    )
    svc = Services.from_settings(settings, create_keys=True)
    Base.metadata.create_all(svc.engine)

    def seed(db: Any) -> str:
        db.add(CustodyFacility(name="Facility A"))
        db.flush()
        kiosk = devices.enroll(
            db, svc.keys, SYSTEM, kind=EndpointKind.CUSTODY, name="kiosk-a", site="Facility A", now=datetime.now(UTC)
        )
        return kiosk.token

    print(json.dumps({"token": svc.unit_of_work(seed)}), flush=True)
    uvicorn.run(create_app(settings, svc), host="127.0.0.1", port=port, log_level="warning", ws_max_size=256 * 1024)


async def direct_peer() -> None:
    """The far end of a direct link: answers offers read from stdin (one JSON
    line each) and takes the media, sending nothing back."""
    aiortc_hooks.restrict_host_addresses(["127.0.0.1"])
    loop = asyncio.get_running_loop()
    connections: list[RTCPeerConnection] = []
    while line := await loop.run_in_executor(None, sys.stdin.readline):
        for old in connections:
            await old.close()
        connection = RTCPeerConnection(RTCConfiguration(iceServers=[], bundlePolicy=RTCBundlePolicy.MAX_BUNDLE))
        connections = [connection]
        await connection.setRemoteDescription(RTCSessionDescription(sdp=json.loads(line)["sdp"], type="offer"))
        await connection.setLocalDescription(await connection.createAnswer())
        print(json.dumps({"sdp": connection.localDescription.sdp}), flush=True)


# --- the runs -------------------------------------------------------------------------


def tracks() -> tuple[MediaStreamTrack, MediaStreamTrack]:
    return PatternTrack(1280, 720, 25), ToneTrack(440.0)


async def loop_run(port: int, token: str, server_pid: int) -> tuple[float | None, float, str]:
    """(the round trip the server measured, the server's CPU seconds, the grade)."""
    client = LoopClient(f"ws://127.0.0.1:{port}/ws/device/test-call", headers={"Authorization": f"Device {token}"})
    camera, microphone = tracks()
    before = cpu_seconds(server_pid)
    try:
        result = await client.run(camera, microphone)
    finally:
        await client.close()
        camera.stop()
        microphone.stop()
    await asyncio.sleep(0.5)  # the server's teardown of the loop counts too
    return result["figures"]["rtt_ms"], cpu_seconds(server_pid) - before, str(result["grade"])


async def direct_run(peer: subprocess.Popen[str], seconds: float) -> float | None:
    """The round trip a direct link's sender reports after as long a call."""
    assert peer.stdin is not None and peer.stdout is not None
    connection = RTCPeerConnection(RTCConfiguration(iceServers=[], bundlePolicy=RTCBundlePolicy.MAX_BUNDLE))
    camera, microphone = tracks()
    try:
        connection.addTrack(microphone)
        connection.addTrack(camera)
        await connection.setLocalDescription(await connection.createOffer())
        peer.stdin.write(json.dumps({"sdp": connection.localDescription.sdp}) + "\n")
        peer.stdin.flush()
        answer = json.loads(await asyncio.get_running_loop().run_in_executor(None, peer.stdout.readline))
        await connection.setRemoteDescription(RTCSessionDescription(sdp=answer["sdp"], type="answer"))
        deadline = time.monotonic() + 15
        while connection.connectionState != "connected" and time.monotonic() < deadline:
            await asyncio.sleep(0.05)
        await asyncio.sleep(seconds)
        rtts = [
            s.roundTripTime * 1000
            for s in (await connection.getStats()).values()
            if s.type == "remote-inbound-rtp" and s.roundTripTime is not None
        ]
        return round(max(rtts), 1) if rtts else None
    finally:
        await connection.close()
        camera.stop()
        microphone.stop()


def median(values: Sequence[float | None]) -> str:
    known = [v for v in values if v is not None]
    return f"{statistics.median(known):.1f}" if known else "-"


def main(argv: Sequence[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--runs", type=int, default=5, help="interleaved pairs of runs (loop, direct)")
    parser.add_argument("--seconds", type=float, default=8.0, help="each call's length (the kiosk's: 8)")
    parser.add_argument("--serve", nargs=2, metavar=("DIR", "PORT"), help=argparse.SUPPRESS)
    parser.add_argument("--direct-peer", action="store_true", help=argparse.SUPPRESS)
    quick.add_option(parser, QUICK)
    args = quick.parse(parser, argv, QUICK)
    if args.serve:
        serve(args.serve[0], int(args.serve[1]), args.seconds)
        return 0
    if args.direct_peer:
        asyncio.run(direct_peer())
        return 0

    print_machine("test call bench: the loopback's server CPU per call, and the round trip it measures")
    if args.quick:
        print(quick.NOTE)
    print(f"runs:       {args.runs} interleaved (loop, direct), {args.seconds:g} s each, 1280x720 25 fps VP8 + tone")
    aiortc_hooks.restrict_host_addresses(["127.0.0.1"])
    script = str(Path(__file__).resolve())
    with tempfile.TemporaryDirectory() as data_dir:
        port = free_port()
        server = subprocess.Popen(  # noqa: S603
            [sys.executable, script, "--serve", data_dir, str(port), "--seconds", str(args.seconds)],
            stdout=subprocess.PIPE,
            text=True,
        )
        peer = subprocess.Popen(  # noqa: S603
            [sys.executable, script, "--direct-peer"], stdin=subprocess.PIPE, stdout=subprocess.PIPE, text=True
        )
        try:
            assert server.stdout is not None
            token = json.loads(server.stdout.readline())["token"]
            wait_for_port(port)
            loops: list[float | None] = []
            directs: list[float | None] = []
            cpus: list[float] = []
            print(f"{'run':>5} {'loop rtt ms':>12} {'direct rtt ms':>14} {'server CPU s':>13} {'grade':>6}")
            for run in range(1, args.runs + 1):
                rtt, cpu, grade = asyncio.run(loop_run(port, token, server.pid))
                direct = asyncio.run(direct_run(peer, args.seconds))
                loops.append(rtt)
                directs.append(direct)
                cpus.append(cpu)
                shown = [("-" if v is None else f"{v:.1f}") for v in (rtt, direct)]
                print(f"{run:>5} {shown[0]:>12} {shown[1]:>14} {cpu:>13.2f} {grade:>6}")
        finally:
            for process in (server, peer):
                process.terminate()
                process.wait(10)
    per_call = statistics.median(cpus)
    print(f"medians over {args.runs} runs:")
    print(f"  round trip, the loop measures:  {median(loops)} ms")
    print(f"  round trip, a direct link:      {median(directs)} ms")
    print(f"  server CPU per test call:       {per_call:.2f} s ({100 * per_call / args.seconds:.0f} % of a core)")
    return 0


if __name__ == "__main__":
    sys.exit(main())
