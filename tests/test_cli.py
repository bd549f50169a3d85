from __future__ import annotations

import json
import os
import re
import subprocess
import sys
from datetime import date, datetime, timedelta
from pathlib import Path
from zoneinfo import ZoneInfo

import httpx2
import pyotp
import pytest
from sqlalchemy import func, select

from hearing.config import load_settings
from hearing.db.models import AuditEntry, Endpoint, Hearing, StaffUser
from hearing.services import Services
from tests.browser import free_port
from tests.waiting import wait_until

REPO = Path(__file__).resolve().parents[1]


def _next_first_of_december() -> date:
    """A winter day still ahead (a hearing is never booked in the past; the
    offsets below are Copenhagen's winter time)."""
    today = datetime.now(ZoneInfo("Europe/Copenhagen")).date()
    day = date(today.year, 12, 1)
    return day if day > today else date(today.year + 1, 12, 1)


DAY = _next_first_of_december()
NEXT = DAY + timedelta(days=1)


def count(model: type) -> int:
    with Services.from_settings(load_settings()) as svc:
        return svc.unit_of_work(lambda db: db.scalar(select(func.count()).select_from(model)))


def disabled(username: str) -> bool:
    with Services.from_settings(load_settings()) as svc:
        query = select(StaffUser.disabled_at).where(StaffUser.username == username)
        return svc.unit_of_work(lambda db: db.scalar(query)) is not None


def test_user_add_prints_password_and_enrolment_code_once(cli) -> None:
    code, out, _ = cli(
        "user", "add", "--username", "anne", "--name", "Anne Holm", "--role", "judge", "--courtroom", "Retssal 3"
    )
    assert code == 0
    assert "password (shown once):" in out
    assert re.search(r"enrolment code \(shown once; .*\): [A-Z2-9]{4}-[A-Z2-9]{4}-[A-Z2-9]{4}\n", out)
    # The authenticator's secret is for the user's eyes only, at sign-in.
    assert "otpauth://" not in out and "secret=" not in out
    code, out, _ = cli(
        "user",
        "add",
        "--username",
        "jonas",
        "--name",
        "Jonas",
        "--role",
        "clerk",
        "--password-stdin",
        stdin="a very long password\n",
    )
    assert code == 0 and "password" not in out.split("\n")[1]


@pytest.mark.parametrize(
    ("args", "stdin", "error"),
    [
        (["--username", "Anne!", "--name", "A", "--role", "clerk"], "", "invalid_input"),
        (["--username", "anne", "--name", "A", "--role", "judge"], "", "invalid_input"),
        (["--username", "anne", "--name", "A", "--role", "custody_officer", "--facility", "Nowhere"], "", "not_found"),
        (["--username", "anne", "--name", "", "--role", "clerk"], "", "invalid_input"),
        (["--username", "anne", "--name", "A", "--role", "clerk", "--password-stdin"], "short\n", "invalid_input"),
        (["--username", "a" * 100, "--name", "A", "--role", "clerk"], "", "invalid_input"),
    ],
)
def test_user_add_bad_input_changes_nothing(cli, args: list[str], stdin: str, error: str) -> None:
    before = (count(StaffUser), count(AuditEntry))
    code, _, err = cli("user", "add", *args, stdin=stdin)
    assert code == 2 and err.startswith(f"error: {error}:")
    assert (count(StaffUser), count(AuditEntry)) == before


def test_duplicate_user_is_refused(cli) -> None:
    assert cli("user", "add", "--username", "jonas", "--name", "J", "--role", "clerk")[0] == 0
    code, _, err = cli("user", "add", "--username", "jonas", "--name", "J", "--role", "clerk")
    assert code == 2 and "already_exists" in err


def test_reset_totp(cli) -> None:
    cli("user", "add", "--username", "jonas", "--name", "J", "--role", "clerk")
    code, out, _ = cli("user", "reset-totp", "jonas")
    assert code == 0 and "enrolment code (shown once; hand it to jonas in person): " in out and "valid until" in out
    assert "otpauth://" not in out
    assert cli("user", "reset-totp", "ghost")[0] == 2


def test_user_disable_and_enable(cli) -> None:
    cli("user", "add", "--username", "jonas", "--name", "J", "--role", "clerk")
    code, out, _ = cli("user", "disable", "jonas")
    assert code == 0 and "user jonas disabled; 0 session(s) ended" in out
    # Bad input: a clear code, and nothing changes (no entry appended).
    before = (count(AuditEntry), disabled("jonas"))
    for args, error in (
        (("disable", "ghost"), "not_found"),
        (("disable", "jonas"), "account_unchanged"),
        (("enable", "ghost"), "not_found"),
    ):
        code, _, err = cli("user", *args)
        assert code == 2 and err.startswith(f"error: {error}:"), args
    assert (count(AuditEntry), disabled("jonas")) == before
    assert cli("user", "enable", "jonas")[0] == 0
    assert disabled("jonas") is False
    code, _, err = cli("user", "enable", "jonas")
    assert code == 2 and err.startswith("error: account_unchanged:")


def test_device_enroll_and_revoke(cli) -> None:
    code, out, _ = cli("device", "enroll", "--kind", "custody", "--name", "kiosk-1", "--site", "Arresthuset")
    assert code == 0 and "agent token:" in out and "/device/enroll?code=" in out
    assert cli("device", "enroll", "--kind", "courtroom", "--name", "rig-1", "--site", "Arresthuset")[0] == 2
    assert cli("device", "revoke", "kiosk-1")[0] == 0
    assert cli("device", "revoke", "no-such-device")[0] == 2
    assert count(Endpoint) == 1


def test_schedule_and_list(cli) -> None:
    code, out, _ = cli(
        "schedule",
        "--case",
        "SS 1-9/2026",
        "--courtroom",
        "Retssal 3",
        "--facility",
        "Arresthuset",
        "--start",
        f"{DAY}T09:30",
        "--minutes",
        "45",
        "--detainee-name",
        "Jens",
        "--detainee-ref",
        "R-1",
    )
    assert code == 0 and f"booked for {DAY} 09:30" in out
    code, out, _ = cli("hearings", "list", "--day", f"{DAY}", "--json")
    rows = json.loads(out)
    assert [(r["case_number"], r["start"][:16]) for r in rows] == [("SS 1-9/2026", f"{DAY}T09:30")]
    code, out, _ = cli("hearings", "list", "--day", f"{NEXT}")
    assert "no hearings" in out


@pytest.mark.parametrize(
    ("change", "error"),
    [
        ({"--start": "soon"}, "invalid_input"),
        ({"--minutes": "1000"}, "invalid_input"),
        ({"--courtroom": "Retssal 99"}, "not_found"),
        ({"--case": "!"}, "invalid_input"),
        ({"--facility": "Nowhere"}, "not_found"),
        ({"--detainee-name": " "}, "invalid_input"),
        ({"--minutes": "0"}, "invalid_input"),
    ],
)
def test_schedule_bad_input_changes_nothing(cli, change: dict[str, str], error: str) -> None:
    args = {
        "--case": "SS 1-9/2026",
        "--courtroom": "Retssal 3",
        "--facility": "Arresthuset",
        "--start": f"{DAY}T09:30",
        "--detainee-name": "Jens",
        "--detainee-ref": "R-1",
        **change,
    }
    code, _, err = cli("schedule", *[x for kv in args.items() for x in kv])
    assert code == 2 and err.startswith(f"error: {error}")
    assert count(Hearing) == 0


@pytest.mark.sqlite_only
@pytest.mark.parametrize("day", ["someday", "2026-13-01", "2026-12-1", "20261201", "2026-W49-2", "x" * 300])
def test_hearings_list_bad_day(cli, day: str) -> None:
    code, out, err = cli("hearings", "list", "--day", day)
    assert code == 2 and err == "error: invalid_input: The day must look like 2026-11-23.\n" and out == ""


def schedule(cli, case: str, courtroom: str, start: str) -> int:
    code, out, err = cli(
        "schedule", "--case", case, "--courtroom", courtroom, "--facility", "Arresthuset", "--start", start,
        "--detainee-name", "Jens", "--detainee-ref", "R-1",
    )  # fmt: skip
    assert code == 0, err
    return int(out.split()[1])


def test_hearings_list_one_courtroom_in_time_order(cli) -> None:
    assert cli("site", "add", "courtroom", "Retssal 4", "--court", "Byret")[0] == 0
    late = schedule(cli, "SS 3-1/2026", "Retssal 3", f"{DAY}T13:00")
    other = schedule(cli, "SS 4-1/2026", "Retssal 4", f"{DAY}T10:00")
    early = schedule(cli, "SS 3-2/2026", "Retssal 3", f"{DAY}T09:30")
    schedule(cli, "SS 3-3/2026", "Retssal 3", f"{NEXT}T09:30")

    code, out, _ = cli("hearings", "list", "--day", f"{DAY}", "--json")
    rows = json.loads(out)
    assert code == 0 and [r["id"] for r in rows] == [early, other, late]
    # The keys scripts read, with the court's local time and offset.
    assert list(rows[0]) == ["id", "case_number", "start", "end", "courtroom", "facility", "state"]
    assert rows[0] == {
        "id": early,
        "case_number": "SS 3-2/2026",
        "start": f"{DAY}T09:30:00+01:00",
        "end": f"{DAY}T10:00:00+01:00",
        "courtroom": "Retssal 3",
        "facility": "Arresthuset",
        "state": "scheduled",
    }

    code, out, _ = cli("hearings", "list", "--day", f"{DAY}", "--courtroom", "Retssal 3")
    lines = out.splitlines()
    assert code == 0 and len(lines) == 2
    assert re.fullmatch(rf" *{early}  09:30  SS 3-2/2026 +Retssal 3 +Arresthuset +scheduled", lines[0])
    assert re.fullmatch(rf" *{late}  13:00  SS 3-1/2026 +Retssal 3 +Arresthuset +scheduled", lines[1])
    code, out, _ = cli("hearings", "list", "--day", f"{DAY}", "--courtroom", "Retssal 4", "--json")
    assert [r["id"] for r in json.loads(out)] == [other]


def test_hearings_list_unknown_courtroom_is_an_error(cli) -> None:
    schedule(cli, "SS 3-1/2026", "Retssal 3", f"{DAY}T13:00")
    code, out, err = cli("hearings", "list", "--day", f"{DAY}", "--courtroom", "Retssal 99")
    assert code == 2 and out == "" and err == "error: not_found: No courtroom named Retssal 99.\n"


@pytest.mark.sqlite_only
def test_the_cli_does_not_load_the_web_stack(tmp_path: Path, database_url: str) -> None:
    """Operator commands (and later the rig agent) start without Starlette,
    uvicorn or aiortc; only serve and demo import them, when they run."""
    probe = """
import json, sys
from hearing.cli import build_parser, main

WEB = ("starlette", "uvicorn", "aiortc", "hearing.web", "hearing.app")

def web():
    return sorted(m for m in sys.modules if any(m == w or m.startswith(w + ".") for w in WEB))

build_parser()
codes = [main(["db", "upgrade"]), main(["hearings", "list", "--json"])]
before = web()
import hearing.app, uvicorn  # the check sees the web stack when it is there
print(json.dumps({"codes": codes, "before": before, "after": web()}))
"""
    env = {"PATH": "/usr/bin:/bin", "HEARING_DATA_DIR": str(tmp_path / "var"), "HEARING_DATABASE_URL": database_url}
    result = subprocess.run(
        [sys.executable, "-c", probe], cwd=tmp_path, env=env, capture_output=True, text=True, timeout=120
    )
    assert result.returncode == 0, result.stderr
    report = json.loads(result.stdout.splitlines()[-1])
    assert report["codes"] == [0, 0]
    assert report["before"] == []
    assert {"starlette", "uvicorn", "aiortc", "hearing.web", "hearing.app"} <= set(report["after"])


def test_db_downgrade_and_upgrade(cli) -> None:
    assert cli("db", "downgrade", "base")[0] == 0
    assert cli("db", "upgrade")[0] == 0


@pytest.mark.sqlite_only
def test_argument_errors_exit_2(cli) -> None:
    with pytest.raises(SystemExit) as info:
        cli("user", "add", "--role", "emperor")
    assert info.value.code == 2


def demo_env(tmp_path: Path) -> dict[str, str]:
    return {"PATH": "/usr/bin:/bin", "HEARING_DATA_DIR": str(tmp_path / "var")}


def run_hearing(tmp_path: Path, *args: str) -> subprocess.CompletedProcess[str]:
    """`python -m hearing ...` in a fresh directory, as a new user would run it."""
    return subprocess.run(
        [sys.executable, "-m", "hearing", *args],
        cwd=tmp_path,
        env=demo_env(tmp_path),
        capture_output=True,
        text=True,
        timeout=120,
    )


def test_module_entry_point_and_demo_in_a_fresh_directory(tmp_path: Path) -> None:
    result = run_hearing(tmp_path, "demo", "--no-serve")
    assert result.returncode == 0, result.stderr
    assert "DEMO ONLY" in result.stdout and "judge" in result.stdout and "kiosk link" in result.stdout
    key = tmp_path / "var" / "keys" / "app.key"
    assert key.stat().st_mode & 0o777 == 0o600
    assert "password" not in result.stderr.lower()
    # Running it again reuses the court and issues fresh credentials.
    again = run_hearing(tmp_path, "demo", "--no-serve")
    assert again.returncode == 0 and again.stdout != result.stdout


def test_demo_refuses_to_serve_plain_http_beyond_loopback(tmp_path: Path) -> None:
    result = run_hearing(tmp_path, "demo", "--host", "0.0.0.0")
    assert result.returncode == 2 and "invalid_input" in result.stderr


def test_demo_serves_and_the_printed_judge_can_sign_in(tmp_path: Path) -> None:
    """What `make run` promises: the printed judge signs in and sees the hearing."""
    port = free_port()
    process = subprocess.Popen(
        [sys.executable, "-u", "-m", "hearing", "demo", "--port", str(port)],
        cwd=tmp_path,
        env=demo_env(tmp_path),
        stdout=subprocess.PIPE,
        stderr=subprocess.DEVNULL,
        text=True,
    )
    try:
        assert process.stdout is not None
        printed = ""
        while "Open http" not in printed:
            line = process.stdout.readline()
            assert line, "demo exited before serving"
            printed += line
        judge = re.search(r"judge\s+password (\S+)\s+TOTP secret (\S+)", printed)
        assert judge is not None
        base = f"http://127.0.0.1:{port}"
        assert f"Open {base}/signin" in printed
        with httpx2.Client(base_url=base, follow_redirects=False, timeout=10) as http:

            def signin_page() -> httpx2.Response | None:
                try:
                    return http.get("/signin")
                except httpx2.TransportError:  # not listening yet
                    return None

            page = wait_until(signin_page)
            token = re.search(r'name="csrf_token" value="([0-9a-f]{64})"', page.text)
            assert token is not None
            response = http.post(
                "/signin",
                data={
                    "csrf_token": token.group(1),
                    "username": "judge",
                    "password": judge.group(1),
                    "code": pyotp.TOTP(judge.group(2)).now(),
                    "next": "/hearings",
                },
            )
            assert response.status_code == 303, response.text
            docket = http.get("/hearings")
            assert docket.status_code == 200
            assert re.search(r"SS 1-\d{4}/\d{4}", docket.text)
            assert "Mikkel Sørensen" in docket.text
            # The demo's courtroom rig runs beside it, as its own process.
            assert rigs_of(tmp_path)
    finally:
        process.terminate()
        process.wait(timeout=20)
        if process.stdout is not None:
            process.stdout.close()
    # ... and ends with it, however the demo ended.
    wait_until(lambda: not rigs_of(tmp_path), describe=lambda: rigs_of(tmp_path))


def rigs_of(folder: Path) -> list[int]:
    """The rig agents running in `folder` (the demo's working directory)."""
    found = []
    for proc in Path("/proc").iterdir():
        try:
            command = (proc / "cmdline").read_bytes().split(b"\0")
            running_in = Path(os.readlink(proc / "cwd"))
        except (OSError, ValueError):
            continue
        if command[2:5] == [b"hearing", b"rig", b"run"] and running_in == folder:
            found.append(int(proc.name))
    return found
