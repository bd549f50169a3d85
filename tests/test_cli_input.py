"""The operator's arguments hold to the same rules as the web forms (issue 10,
defects 7, 8 and 9): numbers in ASCII digits, days in the calendar's window,
no booking in the past, no text that lies on screen. Each refusal exits 2
with its code and changes nothing."""

from __future__ import annotations

from datetime import datetime, timedelta
from zoneinfo import ZoneInfo

import pytest
from sqlalchemy import func, select

from hearing.config import load_settings
from hearing.db.models import AuditEntry, Courtroom, CustodyFacility, Endpoint, Hearing, StaffUser
from hearing.services import Services

CPH = ZoneInfo("Europe/Copenhagen")
MODELS = (Hearing, Courtroom, CustodyFacility, StaffUser, Endpoint, AuditEntry)


def counts() -> tuple[int, ...]:
    with Services.from_settings(load_settings()) as svc:
        return svc.unit_of_work(lambda db: tuple(db.scalar(select(func.count()).select_from(m)) for m in MODELS))


def _local(moment: datetime) -> str:
    return moment.astimezone(CPH).strftime("%Y-%m-%dT%H:%M")


def schedule_args(**change: str) -> list[str]:
    args = {
        "--case": "SS 1-9/2026",
        "--courtroom": "Retssal 3",
        "--facility": "Arresthuset",
        "--start": _local(datetime.now(CPH) + timedelta(days=1)),
        "--minutes": "30",
        "--detainee-name": "Jens Hansen",
        "--detainee-ref": "R-1",
        **change,
    }
    return ["schedule", *[x for kv in args.items() for x in kv]]


def refused(cli, *args: str, error: str = "invalid_input") -> str:  # type: ignore[no-untyped-def]
    before = counts()
    code, out, err = cli(*args)
    assert code == 2 and err.startswith(f"error: {error}:"), (code, err)
    assert counts() == before
    return err


def test_the_arguments_that_book_are_fine(cli) -> None:  # type: ignore[no-untyped-def]
    code, _, err = cli(*schedule_args(**{"--detainee-name": "Åse Ærø Søndergård"}))
    assert code == 0, err


@pytest.mark.parametrize("minutes", ["²", "³", "٣٠", "３０", "3_0", "+30"])
def test_minutes_are_ascii_digits_only(cli, minutes: str) -> None:  # type: ignore[no-untyped-def]
    assert "must be a number" in refused(cli, *schedule_args(**{"--minutes": minutes}))


@pytest.mark.parametrize(
    "start", ["9999-12-31T23:59", "0001-01-01T00:00", "1970-01-01T00:00", "0001-01-01T00:00-12:00", "20261201T0930"]
)
def test_a_start_at_the_calendars_edges_is_refused(cli, start: str) -> None:  # type: ignore[no-untyped-def]
    assert "start time" in refused(cli, *schedule_args(**{"--start": start})).lower()


def test_a_start_in_the_past_or_beyond_the_horizon_is_refused(cli) -> None:  # type: ignore[no-untyped-def]
    now = datetime.now(CPH)
    assert "in the past" in refused(cli, *schedule_args(**{"--start": _local(now - timedelta(hours=1))}))
    ahead = refused(cli, *schedule_args(**{"--start": _local(now + timedelta(days=800))}))
    assert "730 days ahead" in ahead


def test_the_horizon_is_the_courts_setting(cli, monkeypatch: pytest.MonkeyPatch) -> None:  # type: ignore[no-untyped-def]
    monkeypatch.setenv("HEARING_BOOKING_HORIZON_DAYS", "30")
    now = datetime.now(CPH)
    assert "30 days ahead" in refused(cli, *schedule_args(**{"--start": _local(now + timedelta(days=31))}))
    assert cli(*schedule_args(**{"--start": _local(now + timedelta(days=29))}))[0] == 0


@pytest.mark.parametrize("day", ["9999-12-31", "0001-01-01", "1999-12-31", "2200-01-01"])
def test_a_docket_day_outside_the_window_is_refused(cli, day: str) -> None:  # type: ignore[no-untyped-def]
    assert "between 2000-01-01 and 2199-12-31" in refused(cli, "hearings", "list", "--day", day)


@pytest.mark.parametrize(
    "text", ["Jens \u202eneshnaH", "Jens\u2028Hansen", "Jens\x7f", "\ufeffJens", "Jens\x85", "Jens\u200b", "J\udcff"]
)
def test_text_that_would_lie_on_screen_is_refused(cli, text: str) -> None:  # type: ignore[no-untyped-def]
    errors = [
        refused(cli, *schedule_args(**{"--detainee-name": text})),
        refused(cli, "site", "add", "courtroom", f"Retssal {text}", "--court", "Byret"),
        refused(cli, "site", "add", "facility", text),
        refused(cli, "user", "add", "--username", "anne", "--name", text, "--role", "clerk"),
        refused(cli, "device", "enroll", "--kind", "custody", "--name", "kiosk-1", "--site", f"Arrest{text}"),
    ]
    # Each refused, changing nothing (refused() checks both), and saying why.
    assert all("control characters or invisible formatting" in error for error in errors), errors
