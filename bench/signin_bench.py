"""Does a sign-in flood stop the court? (issue 10, defect 6)

A real `hearing serve` process, seeded by `hearing demo --no-serve`, and a
database-backed staff page (the clerk's docket, `/hearings`: a session check
and the docket query) fetched one after another: first quiet, then while
`--attempts` sign-in attempts (an unknown user, each a full scrypt hash) run
`--concurrency` at a time. Printed per run: the page's p50 and p99 in both
phases, how long the flood took, how many attempts were refused as busy
and how many requests failed, flood or page (the old code answers 500 or
drops the connection after waiting 30 s for the database's lock), and the
server's resident memory before the flood and at its peak.

`--baseline DIR` also runs another source tree's server (say main's,
exported with `git archive main | tar -x -C DIR`), interleaved run by run
with this tree's, so that the machine's mood falls on both alike; the
summary gives medians over `--runs`. `--postgres URL` adds PostgreSQL (the
database is emptied before every run).

A full run takes 3-6 minutes on a 2-core machine; --quick takes about 15 s.
"""

from __future__ import annotations

import argparse
import concurrent.futures
import os
import re
import shutil
import socket
import statistics
import subprocess
import sys
import tempfile
import threading
import time
from collections.abc import Sequence
from dataclasses import dataclass
from pathlib import Path

import httpx2 as httpx
from sqlalchemy import create_engine, text

sys.path.insert(0, str(Path(__file__).resolve().parent))
import machine_facts  # noqa: E402
import quick  # noqa: E402

HERE = Path(__file__).resolve().parents[1]
QUICK = {"runs": 1, "attempts": 24, "concurrency": 8, "quiet_requests": 30}
TOKEN = re.compile(r'name="csrf_token" value="([0-9a-f]{64})"')


@dataclass
class Figures:
    quiet_p50: float
    quiet_p99: float
    flood_p50: float
    flood_p99: float
    flood_seconds: float
    busy: int
    failed: int
    rss_before_mb: float
    rss_peak_mb: float


def free_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return int(sock.getsockname()[1])


def percentile(values: Sequence[float], p: float) -> float:
    ordered = sorted(values)
    return ordered[min(len(ordered) - 1, round(p / 100 * (len(ordered) - 1)))]


def memory_mb(pid: int, field: str) -> float:
    for line in Path(f"/proc/{pid}/status").read_text().splitlines():
        if line.startswith(field + ":"):
            return int(line.split()[1]) / 1024
    return float("nan")


def reset_postgres(url: str) -> None:
    engine = create_engine(url.replace("postgresql://", "postgresql+psycopg://", 1))
    with engine.begin() as conn:
        conn.execute(text("DROP SCHEMA IF EXISTS public CASCADE"))
        conn.execute(text("CREATE SCHEMA public"))
    engine.dispose()


class Server:
    """One tree's `hearing serve`, on a fresh database."""

    def __init__(self, tree: Path, data_dir: Path, database_url: str | None) -> None:
        self.port = free_port()
        self.base = f"http://127.0.0.1:{self.port}"
        self.env = {
            **{k: v for k, v in os.environ.items() if not k.startswith("HEARING_")},
            "PYTHONPATH": str(tree),
            "PYTHONDONTWRITEBYTECODE": "1",
            "HEARING_DATA_DIR": str(data_dir),
            "HEARING_PORT": str(self.port),
            "HEARING_COOKIE_SECURE": "false",
            # The flood comes from one address here; the per-address limit is not what is measured.
            "HEARING_SIGNIN_ATTEMPTS_PER_MINUTE": "100000",
        }
        if database_url:
            self.env["HEARING_DATABASE_URL"] = database_url
        command = [sys.executable, "-m", "hearing"]
        seeded = subprocess.run(  # noqa: S603
            [*command, "demo", "--no-serve", "--port", str(self.port)],
            env=self.env,
            cwd=data_dir,
            capture_output=True,
            text=True,
            check=True,
        )
        clerk = re.search(r"clerk\s+password (\S+)\s+TOTP secret (\S+)", seeded.stdout)
        assert clerk is not None, seeded.stdout
        self.password, self.secret = clerk.group(1), clerk.group(2)
        self.process = subprocess.Popen(  # noqa: S603
            [*command, "serve"], env=self.env, cwd=data_dir, stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL
        )
        deadline = time.monotonic() + 60
        while True:
            try:
                if httpx.get(f"{self.base}/healthz", timeout=1).status_code == 200:
                    break
            except httpx.TransportError:
                pass
            if time.monotonic() > deadline or self.process.poll() is not None:
                raise RuntimeError(f"{tree}: hearing serve did not start")
            time.sleep(0.1)

    def signed_in_clerk(self) -> httpx.Client:
        import pyotp

        client = httpx.Client(base_url=self.base, timeout=120)
        token = TOKEN.search(client.get("/signin").text)
        assert token is not None
        fields = {
            "csrf_token": token.group(1),
            "username": "clerk",
            "password": self.password,
            "code": pyotp.TOTP(self.secret).now(),
            "next": "/hearings",
        }
        answer = client.post("/signin", data=fields)
        assert answer.status_code == 303, answer.text[:300]
        return client

    def stop(self) -> None:
        self.process.terminate()
        self.process.wait(timeout=30)


def fetch_page(client: httpx.Client, failures: list[int]) -> float:
    """One page's time in ms; a failed answer (the old code's 500 after 30 s
    waiting for the lock) counts with its time, and in `failures`."""
    started = time.perf_counter()
    response = client.get("/hearings")
    elapsed = (time.perf_counter() - started) * 1000
    if response.status_code != 200:
        failures.append(response.status_code)
    return elapsed


def flood(base: str, attempts: int, concurrency: int) -> tuple[float, int, int]:
    """`attempts` wrong sign-ins, `concurrency` at a time; returns the time it
    took, how many were refused as busy, and how many failed (500 or reset)."""
    local = threading.local()

    def attempt(_: int) -> int:
        if not hasattr(local, "client"):
            local.client = httpx.Client(base_url=base, timeout=120)
            local.token = TOKEN.search(local.client.get("/signin").text).group(1)  # type: ignore[union-attr]
        fields = {"csrf_token": local.token, "username": "ghost", "password": "x" * 16, "code": "123456"}
        try:
            return int(local.client.post("/signin", data=fields).status_code)
        except httpx.TransportError:
            return 0  # the server gave up on the connection

    started = time.perf_counter()
    with concurrent.futures.ThreadPoolExecutor(concurrency) as pool:
        statuses = list(pool.map(attempt, range(attempts)))
    unexpected = set(statuses) - {0, 401, 429, 500, 503}
    assert not unexpected, f"unexpected answers to the flood: {unexpected}"
    return time.perf_counter() - started, statuses.count(503), statuses.count(500) + statuses.count(0)


def one_run(tree: Path, database_url: str | None, args: argparse.Namespace) -> Figures:
    if database_url:
        reset_postgres(database_url)
    data_dir = Path(tempfile.mkdtemp(prefix="signin-bench-"))
    server = Server(tree, data_dir, database_url)
    try:
        page = server.signed_in_clerk()
        try:
            failures: list[int] = []
            for _ in range(5):
                fetch_page(page, failures)  # warm: connections, templates
            quiet = [fetch_page(page, failures) for _ in range(args.quiet_requests)]
            rss_before = memory_mb(server.process.pid, "VmRSS")
            loud: list[float] = []
            done = threading.Event()
            result: list[tuple[float, int, int]] = []

            def run_flood() -> None:
                try:
                    result.append(flood(server.base, args.attempts, args.concurrency))
                finally:
                    done.set()

            flooder = threading.Thread(target=run_flood)
            flooder.start()
            while not done.is_set():
                loud.append(fetch_page(page, failures))
            flooder.join()
            seconds, busy, failed = result[0]
            return Figures(
                statistics.median(quiet),
                percentile(quiet, 99),
                statistics.median(loud),
                percentile(loud, 99),
                seconds,
                busy,
                failed + len(failures),
                rss_before,
                memory_mb(server.process.pid, "VmHWM"),
            )
        finally:
            page.close()
    finally:
        server.stop()
        shutil.rmtree(data_dir, ignore_errors=True)


def main(argv: Sequence[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--runs", type=int, default=3)
    parser.add_argument("--attempts", type=int, default=80)
    parser.add_argument("--concurrency", type=int, default=16)
    parser.add_argument("--quiet-requests", type=int, default=200)
    parser.add_argument("--baseline", type=Path, help="another source tree to run side by side (e.g. main's)")
    parser.add_argument("--postgres", help="also run on this PostgreSQL database (emptied before every run)")
    quick.add_option(parser, QUICK)
    args = quick.parse(parser, argv, QUICK)

    trees = [("this tree", HERE)] + ([("baseline", args.baseline.resolve())] if args.baseline else [])
    backends: list[tuple[str, str | None]] = [("sqlite", None)] + (
        [("postgresql", args.postgres)] if args.postgres else []
    )
    print("# signin_bench: a staff page while sign-in attempts flood the server")
    print(f"machine:    {machine_facts.cpu_model()}, {os.cpu_count()} cores, load {machine_facts.load_average()}")
    if args.quick:
        print(quick.NOTE)
    print(
        f"flood:      {args.attempts} attempts, {args.concurrency} at a time; page: GET /hearings, "
        f"{args.quiet_requests} quiet, then back to back during the flood; {args.runs} run(s), interleaved"
    )
    for name, tree in trees:
        print(f"{name + ':':<11} {tree}")
    print()
    header = (
        f"{'backend':<10} {'code':<10} {'run':>3}  {'quiet p50':>9} {'quiet p99':>9}  {'flood p50':>9} "
        f"{'flood p99':>9}  {'flood s':>7} {'busy':>4} {'fail':>4}  {'RSS MB':>6} {'peak MB':>7}"
    )
    print("## runs (milliseconds unless marked)")
    print(header)
    results: dict[tuple[str, str], list[Figures]] = {}
    for backend, url in backends:
        for run in range(1, args.runs + 1):
            for name, tree in trees:
                f = one_run(tree, url, args)
                results.setdefault((backend, name), []).append(f)
                print(
                    f"{backend:<10} {name:<10} {run:>3}  {f.quiet_p50:>9.1f} {f.quiet_p99:>9.1f}  {f.flood_p50:>9.1f} "
                    f"{f.flood_p99:>9.1f}  {f.flood_seconds:>7.2f} {f.busy:>4} {f.failed:>4}  {f.rss_before_mb:>6.0f} "
                    f"{f.rss_peak_mb:>7.0f}",
                    flush=True,
                )
    print()
    print(f"## summary (medians of {args.runs} run(s))")
    print(header.replace(" run", "    "))
    for (backend, name), figures in results.items():

        def med(field: str, figures: list[Figures] = figures) -> float:
            return float(statistics.median(float(getattr(f, field)) for f in figures))

        print(
            f"{backend:<10} {name:<10} {'':>3}  {med('quiet_p50'):>9.1f} {med('quiet_p99'):>9.1f}  "
            f"{med('flood_p50'):>9.1f} {med('flood_p99'):>9.1f}  {med('flood_seconds'):>7.2f} "
            f"{med('busy'):>4.0f} {med('failed'):>4.0f}  "
            f"{med('rss_before_mb'):>6.0f} {med('rss_peak_mb'):>7.0f}"
        )
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
