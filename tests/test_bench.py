"""Every bench still runs: `python bench/<name>.py --quick` exits 0 and prints
its tables. The figures of a quick run mean nothing and are not looked at
(speed is measured in bench/, never asserted here); a bench that no longer
fits the code fails here instead of rotting until someone needs it."""

from __future__ import annotations

import subprocess
import sys
from pathlib import Path

from tests.conftest import need, postgres_url

REPO = Path(__file__).resolve().parents[1]
SERVER_STAGES = [
    "click -> request in the application (h11)",
    "  middleware, route guard, to a worker thread",
    "  session check (its own transaction)",
    "  back, CSRF, body, to a worker thread",
    "  floor transaction (lock, floor, audit)",
    "  commit (SQLite: WAL write, fsync)",
    "  back to the event loop (followed)",
    "  routes swapped (rerouted)",
    "click -> routes swapped",
    "  the mixer's next tick, and its mix",
    "click -> first mix with the change",
]
TIMEOUT = 240  # seconds; a quick run takes 3-20 s on an idle 2-core machine (the soak about 45 s)


def run_bench(name: str, *args: str) -> str:
    command = [sys.executable, str(REPO / "bench" / f"{name}.py"), "--quick", *args]
    result = subprocess.run(command, cwd=REPO, capture_output=True, text=True, timeout=TIMEOUT)  # noqa: S603
    assert result.returncode == 0, f"{name} exited {result.returncode}\n{result.stdout[-4000:]}{result.stderr[-4000:]}"
    assert "--quick" in result.stdout, "the output says it was a quick run"
    return result.stdout


def assert_in_order(output: str, headings: list[str]) -> None:
    at = 0
    for heading in headings:
        found = output.find(heading, at)
        assert found >= 0, f"{heading!r} missing (after offset {at}) from:\n{output[-4000:]}"
        at = found + len(heading)


def row(output: str, label: str) -> list[str]:
    """The values after a row's label (the first line that starts with it)."""
    line = next((line for line in output.splitlines() if line.startswith(label)), None)
    assert line is not None, f"no row {label!r} in:\n{output[-4000:]}"
    return line[len(label) :].split()


def test_audit_bench() -> None:
    url = postgres_url()
    output = run_bench("audit_bench", *(["--postgres", url, "--postgres-in-place"] if url else []))
    backends = ["sqlite", "postgresql"] if url else ["sqlite"]
    assert_in_order(
        output,
        [
            "## appends",
            *(f"{b:<10} single  audit log" for b in backends),
            "## verify()",
            *(f"\n{b:<10} " for b in backends),
            "## proofs",
            "## summary",
            *(f"SUMMARY {b} single:" for b in backends),
        ],
    )
    assert "verifies" in output and " NO" not in output.split("## proofs")[1].split("## summary")[0]
    need(url is not None, "HEARING_TEST_DATABASE_URL is not set: the audit bench ran on SQLite only")


def test_media_bench() -> None:
    output = run_bench("media_bench")
    assert_in_order(
        output,
        [
            "1-2. latency",
            "  1 direct ",
            "medians over",
            "video p50",
            "audio p50",
            "server cores",
            "targets",
            "3. capacity",
            "hear  server cores",
            "carried:",
            "server CPU per hearing",
        ],
    )
    for path in ("direct", "server", "relay"):
        video_p50, _, frames = row(output, f"  1 {path:<6}")[:3]
        assert video_p50 != "-" and int(frames) > 0, f"{path}: no picture measured"


def test_floor_bench() -> None:
    output = run_bench("floor_bench")
    assert_in_order(
        output,
        [
            "milliseconds",
            "click -> routes swapped",
            "click -> first mix with the change",
            "click -> heard (grant)",
            "audio latency: custody tone on -> heard",
            "cores while measuring",
            "targets",
            "click -> first mix p95",
        ],
    )
    # Every server stage was seen by the bench's hooks (middleware, the
    # database's events, the live hearing's trace) for every change.
    for label in SERVER_STAGES:
        median, _, _, count = row(output, label)[:4]
        assert median != "-" and int(count) == 4, f"{label!r}: {median} from {count} of 4 changes"


SOAK_HEADINGS = [
    "## staff pages",
    "all staff pages",
    "## audio continuity at the judge's seat",
    "## server process",
    "## misbehaving clients",
    "reconnect storm on the courtroom seat",
    "malformed messages on the storm's connections",
    "flooding kiosk (the custody seat)",
    "sign-in attempts with wrong passwords",
    "## audit entries appended",
    "## server log",
    "error-level lines",
]


def assert_soak_ran(output: str) -> None:
    assert_in_order(output, SOAK_HEADINGS)
    # The judge's seat decoded custody's tone in both phases (the figures
    # themselves are not looked at).
    audio = output.split("## audio continuity")[1].split("## server process")[0]
    for phase in ("quiet", "load"):
        seconds = row(audio, f"{phase} ")[0]
        assert float(seconds) > 0, f"no audio analysed in the {phase} phase"


def test_soak_bench() -> None:
    assert_soak_ran(run_bench("soak_bench"))


def test_soak_bench_on_postgresql() -> None:
    url = postgres_url()
    need(url is not None, "HEARING_TEST_DATABASE_URL is not set: the soak bench ran on SQLite only")
    assert url is not None
    assert_soak_ran(run_bench("soak_bench", "--database-url", url))


def test_flood_bench() -> None:
    output = run_bench("flood_bench")
    assert_in_order(output, ["snapshot ms", "quiet", "flooded", "kiosk sent:", "kiosk answers:", "audit entries:"])
    assert "rate_limited" in output


def test_signin_bench() -> None:
    url = postgres_url()
    output = run_bench("signin_bench", *(["--postgres", url] if url else []))
    backends = ["sqlite", "postgresql"] if url else ["sqlite"]
    assert_in_order(output, ["## runs", *(f"{b:<10} this tree" for b in backends), "## summary"])
    for backend in backends:
        figures = row(output.split("## summary")[1].split("\n", 1)[1], f"{backend:<10} this tree")
        assert len(figures) == 9 and all(value != "nan" for value in figures), figures
    need(url is not None, "HEARING_TEST_DATABASE_URL is not set: the sign-in bench ran on SQLite only")


# issue 11, the test call
def test_test_call_bench() -> None:
    output = run_bench("test_call_bench")
    assert_in_order(
        output, ["runs:", "loop rtt ms", "medians over", "the loop measures", "a direct link", "per test call"]
    )
    loop_rtt, direct_rtt, _, grade = row(output, "    1 ")
    assert loop_rtt != "-" and direct_rtt != "-", output[-2000:]
    assert grade in ("good", "poor", "bad")


def test_interruption_bench() -> None:
    output = run_bench("interruption_bench")
    assert_in_order(
        output,
        [
            "interruption benchmark",
            "rounds:",
            "round 1  abrupt",
            "round 1  silent",
            "drop -> panel told",
            "drop -> panel paused",
            "back -> link_restored committed",
            "back -> tone heard at judge",
            "Resume click -> in_session",
            "targets",
        ],
    )
    # Every drop was seen and every return measured, and kept its seat (the
    # figures themselves are not looked at).
    for label in ("drop -> panel told", "drop -> panel paused", "back -> link_restored committed"):
        for kind in ("abrupt", "silent"):
            count, *_, missing = row(output, f"{label:<34} {kind:<7}")
            assert int(count) == 2 and int(missing) == 0, (label, kind)
    assert "2 of each kind" in output and "4 of 4 returns kept it" in output


# issue 11, the kiosk
def test_kiosk_bench() -> None:
    output = run_bench("kiosk_bench")
    assert_in_order(
        output,
        [
            "kiosk benchmark",
            "rounds:",
            "1. Ask to speak",
            "2. the judge grants the floor",
            "ask -> panel's floor (request and withdraw)",
            "baseline: ping -> pong, same socket",
            "grant click -> panel's floor, custody holds",
            "grant click -> custody's tone heard at judge",
            "ratio",
            "targets",
        ],
    )
    # Every ask, ping and grant was seen (the figures themselves are not looked at).
    for label, rounds in (
        ("ask -> panel's floor (request and withdraw)", 6),
        ("ask -> the seat's own floor update", 6),
        ("baseline: ping -> pong, same socket", 6),
        ("grant click -> panel's floor, custody holds", 2),
        ("grant click -> custody's tone heard at judge", 2),
    ):
        count, *_, missing = row(output, label)
        assert int(count) == rounds and int(missing) == 0, (label, count, missing)
    assert "the seat was refused" not in output


# issue 12, interp: interpretation that follows the floor, and the CPU per remote party
def test_interpretation_bench() -> None:
    output = run_bench("interpretation_bench")
    assert_in_order(
        output,
        [
            "interpretation benchmark",
            "rounds:",
            "1. the direction follows the floor",
            "2. server CPU with remote parties",
            "direction turned at both receivers",
            "grant: interpreter appears at the court",
            "take-back: interpreter gone at the court",
            "server CPU, cores",
            "4 remote parties",
        ],
    )
    # Every switch turned at both receivers, and every configuration was
    # measured (the figures themselves are not looked at).
    count, *_, missing = row(output, "direction turned at both receivers")
    assert int(count) == 2 and int(missing) == 0, (count, missing)
    for parties in (0, 1, 2, 4):
        runs = row(output, f"  {parties} remote parties")[0]
        assert int(runs) == 1, (parties, runs)


# issue 13, the rig's compositor and the program's encoding
def test_rig_bench() -> None:
    output = run_bench("rig_bench")
    assert_in_order(
        output,
        [
            "rig benchmark",
            "runs:",
            "1. the compositor",
            "single",
            "speaker_strip",
            "grid",
            "2. the rig",
            "median",
            "3. the whole rig",
            "test patterns",
            "720p H.264 files",
            "targets",
        ],
    )
    # Every layout composed and the rig encoded frames (the figures are not looked at).
    for layout in ("single", "speaker_strip", "grid"):
        assert float(row(output, f"{layout} ")[0]) > 0, layout
    assert float(row(output, "median ")[3]) > 0, "the rig encoded nothing"


# issue 13, the rig through the server: speakers to the custody seat, the judge's pin to the rig
def test_courtroom_bench() -> None:
    output = run_bench("courtroom_bench")
    assert_in_order(
        output,
        [
            "courtroom rig benchmark",
            "run:",
            "turn   judge",
            "pin    cam-judge",
            "speaker begins -> custody sees them",
            "pin click -> the rig is told",
            "pin click -> custody sees it",
            "targets",
        ],
    )
    # Every turn was seen at the custody seat and every pin reached the rig and
    # the custody seat (the figures themselves are not looked at).
    for label in (
        "speaker begins -> custody sees them",
        "pin click -> the rig is told",
        "pin click -> custody sees it",
    ):
        count, *_, missed = row(output, f"  {label}")
        assert int(count) > 0 and int(missed) == 0, (label, count, missed)


# issue 14, recorder: the recorder's CPU per hearing, the encryption's throughput, a fault to its report
def test_recording_bench() -> None:
    output = run_bench("recording_bench")
    assert_in_order(
        output,
        [
            "recording benchmark",
            "1. CPU per recorded hearing",
            "idle ",
            "320x180 motion ",
            "320x180 still ",
            "2. encryption throughput",
            "3. a fault in the sink -> on_failure called",
            "targets",
        ],
    )
    # The recorder composed pictures and a fault was reported (the figures are not looked at).
    assert float(row(output, "320x180 motion")[4]) > 0, "the recorder composed nothing"
    assert "nan" not in row(output, "fault -> on_failure")[0], "the fault was never reported"
