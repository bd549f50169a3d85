"""`hearing rig check` and `hearing rig run`: a good configuration is read
and said back; every bad one (missing, not TOML, unknown key, oversized, a
token file missing, empty, oversized or odd) exits 2 with
"error: configuration_error: ..." naming the problem, and nothing starts.
`run` logs JSON lines without the token and stops cleanly on SIGTERM."""

from __future__ import annotations

import json
import shutil
import signal
import socket
import subprocess
import sys
import threading
from collections.abc import Callable
from pathlib import Path

import pytest

import hearing
from hearing.cli import main
from hearing.courtroom import agent
from hearing.courtroom.config import MAX_CONFIG_BYTES
from tests.waiting import wait_until

EXAMPLE = Path(hearing.__file__).parent / "courtroom" / "example_rig.toml"
TOKEN = "Tq3kVb9_Xr-2mN8pLw4sYz6cHd1fGj5aEu7oIi0KkQe"  # the shape of a device token

Run = Callable[..., tuple[int, str, str]]


@pytest.fixture
def rig(tmp_path: Path) -> Path:
    """The example rig, copied with its token file."""
    config = tmp_path / "rig.toml"
    shutil.copy(EXAMPLE, config)
    (tmp_path / "rig.token").write_text(TOKEN + "\n")
    return config


@pytest.fixture
def run(capsys: pytest.CaptureFixture[str], monkeypatch: pytest.MonkeyPatch) -> Run:
    """`hearing ...` in-process; a rig that would start fails the test."""

    class NoRig:
        def __init__(self, *args: object, **kwargs: object) -> None:
            raise AssertionError("the rig started")

    monkeypatch.setattr(agent, "Rig", NoRig)

    def go(*args: str) -> tuple[int, str, str]:
        code = main(list(args))
        out, err = capsys.readouterr()
        return code, out, err

    return go


def assert_refused(run: Run, config: Path, *naming: str) -> None:
    for command in ("check", "run"):
        code, out, err = run("rig", command, "--config", str(config))
        assert code == 2 and out == "", (command, code, out, err)
        assert err.startswith("error: configuration_error: "), err
        for words in naming:
            assert words in err, (words, err)
        assert TOKEN not in err


def test_check_says_what_the_configuration_holds(run: Run, rig: Path) -> None:
    code, out, err = run("rig", "check", "--config", str(rig))
    assert (code, err) == (0, "")
    lines = out.splitlines()
    assert lines[0] == "rig for http://127.0.0.1:8000: 1280x720 at 25 fps, layout speaker_strip"
    cameras = [line.split(":")[0].strip() for line in lines if line.strip().startswith("camera ")]
    assert cameras == [f"camera cam-{c}" for c in ("judge", "prosecutor", "defence", "witness", "overview")]
    assert "  camera cam-witness: witness (Vidne / Witness), test" in lines
    assert any(line.startswith("  microphone desk: test, channels 0=judge") for line in lines)
    assert TOKEN not in out


def test_a_missing_file_is_refused(run: Run, tmp_path: Path) -> None:
    assert_refused(run, tmp_path / "nowhere.toml", "nowhere.toml", "cannot read")


def test_a_file_that_is_not_toml_is_refused(run: Run, rig: Path) -> None:
    rig.write_text("[rig\nserver_url = ")
    assert_refused(run, rig, "not valid TOML")
    rig.write_bytes(b"\xff\xfe[rig]")
    assert_refused(run, rig, "not UTF-8")


def test_an_unknown_key_is_refused(run: Run, rig: Path) -> None:
    rig.write_text(rig.read_text().replace("[rig]\n", '[rig]\ncolour = "red"\n'))
    assert_refused(run, rig, "colour")
    rig.write_text(EXAMPLE.read_text() + "\n[lights]\non = true\n")
    assert_refused(run, rig, "lights")


def test_an_oversized_file_is_refused(run: Run, rig: Path) -> None:
    text = EXAMPLE.read_text()
    rig.write_text(text + "#" * (MAX_CONFIG_BYTES - len(text.encode()) + 1))
    assert_refused(run, rig, "larger than 64 KiB")


@pytest.mark.parametrize(
    ("token", "naming"),
    [
        (None, "cannot be read"),
        (b"", "does not hold a device token"),
        (b"  \n", "does not hold a device token"),
        (TOKEN.encode() * 8, "does not hold a device token"),  # oversized: the wrong file
        (b"abc def", "does not hold a device token"),
        (b"abc$def;rm -rf", "does not hold a device token"),
        ("tøken".encode(), "does not hold a device token"),
        (b"\x00\x01\x02", "does not hold a device token"),
    ],
    ids=["missing", "empty", "blank", "oversized", "space", "punctuation", "non-ascii", "binary"],
)
def test_a_bad_token_file_is_refused(run: Run, rig: Path, token: bytes | None, naming: str) -> None:
    path = rig.parent / "rig.token"
    if token is None:
        path.unlink()
    else:
        path.write_bytes(token)
    assert_refused(run, rig, "token_file", str(path), naming)


def _closed_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        port: int = s.getsockname()[1]
    return port


@pytest.mark.timeout(60)
def test_run_logs_json_without_the_token_and_stops_on_sigterm(rig: Path) -> None:
    text = rig.read_text().replace("http://127.0.0.1:8000", f"http://127.0.0.1:{_closed_port()}")
    # Small and slow: the test shares two cores.
    text = text.replace("width = 1280", "width = 320").replace("height = 720", "height = 180")
    rig.write_text(text.replace("fps = 25", "fps = 5"))
    process = subprocess.Popen(
        [sys.executable, "-m", "hearing", "rig", "run", "--config", str(rig)],
        stdout=subprocess.PIPE,
        stderr=subprocess.PIPE,
        cwd=Path(hearing.__file__).parent.parent,
    )
    lines: list[str] = []
    assert process.stdout is not None
    stdout = process.stdout
    reader = threading.Thread(target=lambda: lines.extend(raw.decode() for raw in stdout), daemon=True)
    reader.start()

    def ran() -> bool:
        # It tried the (closed) server, and its cameras came up: it is running, its signals handled.
        logged = [json.loads(line) for line in list(lines)]
        return any("no link to the server" in entry["message"] for entry in logged) and any(
            entry.get("camera") == "cam-judge" and entry.get("state") == "live" for entry in logged
        )

    try:
        wait_until(ran, timeout=60, describe=lambda: (process.poll(), lines[-5:]))
        process.send_signal(signal.SIGTERM)
        process.wait(timeout=15)
        reader.join(timeout=15)
        err = process.stderr.read() if process.stderr is not None else b""
    finally:
        if process.poll() is None:
            process.kill()
            process.wait()
        for pipe in (process.stdout, process.stderr):
            if pipe is not None:
                pipe.close()
    assert process.returncode == 0, err.decode()
    out = "".join(lines).encode()
    logged = [json.loads(line) for line in lines]
    assert logged and all(isinstance(entry, dict) for entry in logged), lines
    assert TOKEN not in out.decode() and TOKEN not in err.decode()
