from __future__ import annotations

from datetime import UTC, datetime, timedelta
from zoneinfo import ZoneInfo

import pytest

from hearing.config import Settings, load_settings
from hearing.docket.opening import OpeningRules
from hearing.errors import ConfigurationError, TooEarly

CPH = ZoneInfo("Europe/Copenhagen")
# 09:30 in Copenhagen on a winter day (UTC+1).
START = datetime(2026, 11, 24, 8, 30, tzinfo=UTC)


def test_the_lobby_opens_half_an_hour_before_the_start_by_default() -> None:
    rules = OpeningRules.from_settings(Settings())
    assert rules.opens_at(START) == START - timedelta(minutes=30)
    rules.check_time(START, START - timedelta(minutes=30))
    with pytest.raises(TooEarly) as info:
        rules.check_time(START, START - timedelta(minutes=30, seconds=1))
    assert info.value.code == "too_early" and info.value.status == 409
    assert info.value.opens_at == START - timedelta(minutes=30)


def test_the_refusal_says_from_when_in_court_time() -> None:
    rules = OpeningRules(timedelta(minutes=30), CPH)
    with pytest.raises(TooEarly) as info:
        rules.check_time(START, START - timedelta(hours=3))
    assert "2026-11-24 09:00 (Europe/Copenhagen)" in info.value.message
    assert "30 minutes before it starts" in info.value.message
    # In summer the court is UTC+2: the text follows the court's clock.
    summer = datetime(2026, 6, 24, 7, 30, tzinfo=UTC)
    with pytest.raises(TooEarly, match=r"2026-06-24 09:00 \(Europe/Copenhagen\)"):
        rules.check_time(summer, summer - timedelta(hours=1))


@pytest.mark.parametrize("late", [timedelta(0), timedelta(minutes=31), timedelta(hours=6), timedelta(days=2)])
def test_a_court_that_runs_late_may_still_open(late: timedelta) -> None:
    OpeningRules(timedelta(minutes=30), CPH).check_time(START, START + late)


def test_no_window_means_from_the_start() -> None:
    rules = OpeningRules(timedelta(0), CPH)
    rules.check_time(START, START)
    with pytest.raises(TooEarly, match="from its start, 2026-11-24 09:30"):
        rules.check_time(START, START - timedelta(seconds=1))


def test_naive_times_are_a_bug() -> None:
    rules = OpeningRules(timedelta(minutes=30), CPH)
    with pytest.raises(ValueError, match="naive"):
        rules.check_time(START.replace(tzinfo=None), START)
    with pytest.raises(ValueError, match="naive"):
        rules.check_time(START, START.replace(tzinfo=None))


def test_the_window_is_a_setting() -> None:
    assert load_settings({}).open_early_minutes == 30
    settings = load_settings({"HEARING_OPEN_EARLY_MINUTES": "10"})
    assert OpeningRules.from_settings(settings).early == timedelta(minutes=10)


@pytest.mark.parametrize("raw", ["-1", "241", "soon", "1.5"])
def test_a_bad_window_stops_the_process(raw: str) -> None:
    with pytest.raises(ConfigurationError, match="open_early_minutes"):
        load_settings({"HEARING_OPEN_EARLY_MINUTES": raw})
