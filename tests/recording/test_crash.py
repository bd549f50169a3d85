"""A recording outlives its server (issue 14's acceptance): `kill -9` the
server mid-recording; on restart the recording is sealed with every
segment but the one in progress, verifies, and exports to a file ffprobe
reads as one video and one audio stream of the segments' length."""

from __future__ import annotations

import json
import os
import re
import signal
import socket
import subprocess
import sys
from collections.abc import Iterator
from pathlib import Path

import httpx2 as httpx
import pytest
from sqlalchemy import func, select

from hearing.config import Settings
from hearing.db.models import Recording, RecordingSegment, RecordingState
from hearing.docket.lifecycle import HearingState
from hearing.services import Services
from hearing.web import csrf
from tests.conftest import Court_, open_hearing, session_cookie
from tests.waiting import wait_until

TOKEN = re.compile(rf'name="{re.escape(csrf.FIELD)}" value="([^"]+)"')


def free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        port: int = s.getsockname()[1]
        return port


def environment(settings: Settings, port: int) -> dict[str, str]:
    return {
        **os.environ,
        "HEARING_DATABASE_URL": settings.database_url,
        "HEARING_DATA_DIR": str(settings.data_dir),
        "HEARING_KEY_DIR": str(settings.key_dir),
        "HEARING_HOST": "127.0.0.1",
        "HEARING_PORT": str(port),
        "HEARING_COOKIE_SECURE": "false",
        "HEARING_RECORDING_SEGMENT_SECONDS": "1",
    }


class Server:
    """`hearing serve` in a process of its own, as in production."""

    def __init__(self, env: dict[str, str]) -> None:
        self.env = env
        self.port = int(env["HEARING_PORT"])
        self.process: subprocess.Popen[bytes] | None = None

    def start(self) -> None:
        self.process = subprocess.Popen(
            [sys.executable, "-m", "hearing", "serve"], env=self.env, stdout=subprocess.DEVNULL, stderr=subprocess.PIPE
        )

        def up() -> bool:
            assert self.process is not None and self.process.poll() is None, self.process and self.process.stderr
            try:
                socket.create_connection(("127.0.0.1", self.port), timeout=1).close()
                return True
            except OSError:
                return False

        wait_until(up, timeout=60)

    def kill(self) -> None:
        assert self.process is not None
        self.process.send_signal(signal.SIGKILL)
        self.process.wait(timeout=10)
        self._close()

    def _close(self) -> None:
        if self.process is not None and self.process.stderr is not None:
            self.process.stderr.close()

    def stop(self) -> None:
        if self.process is not None and self.process.poll() is None:
            self.process.terminate()
            try:
                self.process.wait(timeout=20)
            except subprocess.TimeoutExpired:
                self.process.kill()
                self.process.wait()
        self._close()


@pytest.fixture
def server(settings: Settings) -> Iterator[Server]:
    running = Server(environment(settings, free_port()))
    yield running
    running.stop()


def segments(services: Services) -> int:
    return services.unit_of_work(lambda db: db.scalar(select(func.count(RecordingSegment.id))) or 0)


@pytest.mark.timeout(240)
def test_kill_9_mid_recording_loses_only_the_segment_in_progress(
    settings: Settings, services: Services, court: Court_, server: Server, tmp_path: Path
) -> None:
    h = court.hearing_a
    open_hearing(services, h, HearingState.IN_SESSION)
    server.start()
    base = f"http://127.0.0.1:{server.port}"
    cookies = {"hearing_session": session_cookie(services, court.users["judge"])}
    with httpx.Client(base_url=base, cookies=cookies, headers={"Origin": base}, timeout=30) as judge:
        page = judge.get(f"/hearings/{h}")
        assert page.status_code == 200, page.text[:300]
        token = TOKEN.search(page.text)
        assert token is not None
        started = judge.post(
            f"/hearings/{h}/recording",
            data={csrf.FIELD: token.group(1), "action": "start"},
            headers={"Accept": "application/json"},
        )
        assert started.status_code == 200, started.text[:300]
    # Some segments closed (1 s each here), then the server is killed mid-segment.
    recording_id = services.unit_of_work(lambda db: db.scalar(select(Recording.id)))
    folder = settings.recording_dir / f"{recording_id:08d}"

    def mid_segment() -> bool:
        return segments(services) >= 3 and any(p.name.endswith(".partial") for p in folder.iterdir())

    wait_until(mid_segment, timeout=60)
    server.kill()
    written = segments(services)

    # The restart seals what survived.
    server.start()
    state = services.unit_of_work(lambda db: (r := db.get_one(Recording, recording_id)) and (r.state, r.interrupted))
    assert state == (RecordingState.SEALED, True)
    assert segments(services) == written
    assert not any(p.name.endswith(".partial") for p in folder.iterdir())
    server.stop()

    run = {"env": server.env, "capture_output": True, "timeout": 120}
    verified = subprocess.run([sys.executable, "-m", "hearing", "recording", "verify", str(recording_id)], **run)  # type: ignore[call-overload]
    assert verified.returncode == 0, verified.stderr.decode()
    out = tmp_path / "hearing.mp4"
    exported = subprocess.run(
        [sys.executable, "-m", "hearing", "recording", "export", str(recording_id), "--out", str(out)], **run
    )  # type: ignore[call-overload]
    assert exported.returncode == 0, exported.stderr.decode()
    probe = json.loads(
        subprocess.run(
            ["/usr/bin/ffprobe", "-v", "error", "-show_streams", "-show_format", "-of", "json", str(out)],
            capture_output=True,
            check=True,
        ).stdout
    )
    kinds = sorted(s["codec_type"] for s in probe["streams"])
    assert kinds == ["audio", "video"], kinds
    seconds = services.unit_of_work(lambda db: db.scalar(select(func.sum(RecordingSegment.duration_seconds))) or 0.0)
    assert abs(float(probe["format"]["duration"]) - seconds) <= 0.5, (probe["format"]["duration"], seconds)
