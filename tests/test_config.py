from __future__ import annotations

from pathlib import Path

import pytest

from hearing.config import Settings, load_settings
from hearing.errors import ConfigurationError


def test_defaults_run_on_one_machine() -> None:
    settings = load_settings({})
    assert settings.database_url == "sqlite:///var/hearing.db"
    assert settings.key_dir == Path("var/keys")
    assert settings.host == "127.0.0.1"
    assert settings.cookie_secure is True


def test_environment_overrides_file(tmp_path: Path) -> None:
    config = tmp_path / "hearing.toml"
    config.write_text('port = 9000\ndata_dir = "/srv/hearing"\ncookie_secure = false\n')
    settings = load_settings({"HEARING_PORT": "9100"}, config)
    assert settings.port == 9100
    assert settings.data_dir == Path("/srv/hearing")
    assert settings.database_url == "sqlite:////srv/hearing/hearing.db"
    assert settings.cookie_secure is False


@pytest.mark.parametrize(
    "environ",
    [
        {"HEARING_PORT": "eighty"},
        {"HEARING_PORT": "70000"},
        {"HEARING_COOKIE_SECURE": "maybe"},
        {"HEARING_COURT_TIMEZONE": "Mars/Olympus_Mons"},
        {"HEARING_MAX_BODY_BYTES": "10"},
    ],
)
def test_bad_values_are_refused_clearly(environ: dict[str, str]) -> None:
    with pytest.raises(ConfigurationError):
        load_settings(environ)


def test_unknown_or_broken_file_is_refused(tmp_path: Path) -> None:
    config = tmp_path / "bad.toml"
    config.write_text("colour = 'blue'\n")
    with pytest.raises(ConfigurationError, match="unknown setting"):
        load_settings({}, config)
    config.write_text("port = = 1\n")
    with pytest.raises(ConfigurationError):
        load_settings({}, config)


def test_settings_are_immutable() -> None:
    settings = Settings()
    with pytest.raises(AttributeError):
        settings.port = 1


@pytest.mark.parametrize("raw", ["８０００", "8_000", "+8000", "٨٠٠٠", "8000\u00a0"])
def test_numbers_in_the_environment_are_ascii_digits(raw: str) -> None:
    # int() takes every one of these; a setting is read like any other number.
    with pytest.raises(ConfigurationError):
        load_settings({"HEARING_PORT": raw})
    assert load_settings({"HEARING_PORT": " 8001 "}).port == 8001


def test_the_booking_horizon_is_read_from_the_environment() -> None:
    assert load_settings({"HEARING_BOOKING_HORIZON_DAYS": "365"}).booking_horizon_days == 365
    with pytest.raises(ConfigurationError):
        load_settings({"HEARING_BOOKING_HORIZON_DAYS": "0"})
