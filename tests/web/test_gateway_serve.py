"""`hearing gateway`, `hearing serve` with a gateway port, and `make run`'s
demo: one process, two listeners. The demo prints an interpreter's join
link and code, and they work end to end over HTTP; a signal stops both
listeners."""

from __future__ import annotations

import re
import signal
import subprocess
import sys
from pathlib import Path

import httpx2
import pytest

from tests.browser import free_port
from tests.test_cli import demo_env as fresh_env
from tests.waiting import wait_until

pytestmark = pytest.mark.sqlite_only
REPO = Path(__file__).resolve().parents[2]


def demo_env(tmp_path: Path) -> dict[str, str]:
    """A fresh directory's environment, running this checkout's code (in a
    worktree, the installed package may be another checkout's)."""
    return {**fresh_env(tmp_path), "PYTHONPATH": str(REPO)}


def test_the_gateway_command_needs_a_port_of_its_own(cli) -> None:  # type: ignore[no-untyped-def]
    code, _, err = cli("gateway")
    assert code == 2 and "invalid_input" in err and "--gateway-port" in err
    code, _, err = cli("gateway", "--port", "18000", "--gateway-host", "127.0.0.1", "--gateway-port", "18000")
    assert code == 2 and "listener of its own" in err
    code, _, err = cli("gateway", "--gateway-port", "70000")
    assert code == 2 and "gateway_port" in err


def test_the_gateway_has_its_own_options_in_the_help() -> None:
    result = subprocess.run(
        [sys.executable, "-m", "hearing", "gateway", "--help"],
        capture_output=True,
        text=True,
        timeout=60,
        env={"PATH": "/usr/bin:/bin", "PYTHONPATH": str(REPO)},
    )
    assert result.returncode == 0
    assert "--gateway-host" in result.stdout and "--gateway-port" in result.stdout


def reachable(http: httpx2.Client, url: str) -> httpx2.Response | None:
    try:
        return http.get(url)
    except httpx2.TransportError:  # not listening yet
        return None


@pytest.mark.timeout(120)
def test_the_demo_serves_the_gateway_and_its_printed_code_opens_the_remote_page(tmp_path: Path) -> None:
    port = free_port()
    log = tmp_path / "log.jsonl"
    with log.open("w") as stderr:
        process = subprocess.Popen(
            [sys.executable, "-u", "-m", "hearing", "demo", "--port", str(port)],
            cwd=tmp_path,
            env=demo_env(tmp_path),
            stdout=subprocess.PIPE,
            stderr=stderr,
            text=True,
        )
    try:
        assert process.stdout is not None
        printed = ""
        while "Open http" not in printed:
            line = process.stdout.readline()
            assert line, "demo exited before serving"
            printed += line
        link = re.search(r"interpreter .*: join (http://127\.0\.0\.1:(\d+)/join/([a-z0-9]{10}))", printed)
        code = re.search(r"one-time code (\d{4} \d{4})", printed)
        assert link and code, printed
        gateway_port = int(link.group(2))
        assert gateway_port != port
        with httpx2.Client(base_url=f"http://127.0.0.1:{gateway_port}", follow_redirects=False, timeout=10) as http:
            page = wait_until(lambda: reachable(http, f"/join/{link.group(3)}"))
            assert page.status_code == 200 and f'value="{link.group(3)}"' in page.text
            token = re.search(r'name="csrf_token" value="([0-9a-f]{64})"', page.text)
            assert token is not None
            opened = http.post(
                "/join", data={"csrf_token": token.group(1), "invitation": link.group(3), "code": code.group(1)}
            )
            assert (opened.status_code, opened.headers["location"]) == (303, "/remote"), opened.text
            assert http.get("/remote").status_code == 200
            # The gateway serves nothing of the staff's; the internal listener does.
            assert http.get("/signin").status_code == 404
        with httpx2.Client(base_url=f"http://127.0.0.1:{port}", timeout=10) as inside:
            assert wait_until(lambda: reachable(inside, "/signin")).status_code == 200
            assert inside.get("/join").status_code == 404
        # One signal stops the process: both listeners shut down, each its
        # application with it (then the signal is honoured, as uvicorn does).
        process.send_signal(signal.SIGTERM)
        assert process.wait(timeout=30) in (0, -signal.SIGTERM)
        assert log.read_text().count("Application shutdown complete") == 2, log.read_text()[-2000:]
    finally:
        if process.poll() is None:
            process.kill()
            process.wait(timeout=20)
        if process.stdout is not None:
            process.stdout.close()


@pytest.mark.timeout(120)
def test_serve_with_a_gateway_port_runs_both_listeners(tmp_path: Path) -> None:
    env = demo_env(tmp_path)
    assert (
        subprocess.run(
            [sys.executable, "-m", "hearing", "db", "upgrade"], cwd=tmp_path, env=env, capture_output=True, timeout=120
        ).returncode
        == 0
    )
    port, gateway_port = free_port(), free_port()
    env = {**env, "HEARING_COOKIE_SECURE": "false", "HEARING_GATEWAY_PORT": str(gateway_port)}
    process = subprocess.Popen(
        [sys.executable, "-m", "hearing", "serve", "--port", str(port)],
        cwd=tmp_path,
        env=env,
        stdout=subprocess.DEVNULL,
        stderr=subprocess.DEVNULL,
    )
    try:
        with httpx2.Client(timeout=10) as http:
            outside = wait_until(lambda: reachable(http, f"http://127.0.0.1:{gateway_port}/join"))
            assert outside.status_code == 200
            # The two listeners start side by side; the internal one may come a moment later.
            inside = wait_until(lambda: reachable(http, f"http://127.0.0.1:{port}/healthz"))
            assert inside.json() == {"status": "ok"}
            assert http.get(f"http://127.0.0.1:{gateway_port}/healthz").status_code == 404
        process.send_signal(signal.SIGINT)
        assert process.wait(timeout=30) == 0
    finally:
        if process.poll() is None:
            process.kill()
            process.wait(timeout=20)
