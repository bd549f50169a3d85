from __future__ import annotations

from datetime import UTC, datetime, timedelta

import pyotp
import pytest

from hearing.auth import totp
from hearing.errors import ConfigurationError

NOW = datetime(2026, 11, 23, 10, 0, 5, tzinfo=UTC)


def code_at(secret: str, moment: datetime) -> str:
    return pyotp.TOTP(secret).at(moment)


def test_current_code_is_accepted_and_reports_its_step() -> None:
    secret = totp.new_secret()
    step = totp.accepted_step(secret, code_at(secret, NOW), NOW, None)
    assert step == pyotp.TOTP(secret).timecode(NOW)


@pytest.mark.parametrize("offset", [-30, 30])
def test_one_step_either_side_is_tolerated(offset: int) -> None:
    secret = totp.new_secret()
    assert totp.accepted_step(secret, code_at(secret, NOW + timedelta(seconds=offset)), NOW, None) is not None


@pytest.mark.parametrize("offset", [-90, -60, 60, 90])
def test_two_steps_away_is_refused(offset: int) -> None:
    secret = totp.new_secret()
    code = code_at(secret, NOW + timedelta(seconds=offset))
    # A different step could, by chance, share the code; skip that 1-in-a-million case honestly.
    if code in {code_at(secret, NOW + timedelta(seconds=s)) for s in (-30, 0, 30)}:
        pytest.skip("codes collided by chance")
    assert totp.accepted_step(secret, code, NOW, None) is None


def test_a_code_cannot_be_replayed_in_its_own_step() -> None:
    secret = totp.new_secret()
    code = code_at(secret, NOW)
    step = totp.accepted_step(secret, code, NOW, None)
    assert step is not None
    assert totp.accepted_step(secret, code, NOW, step) is None
    # Nor can an earlier code once a later one was used.
    earlier = code_at(secret, NOW - timedelta(seconds=30))
    assert totp.accepted_step(secret, earlier, NOW, step) is None
    # The next step's code is fine.
    later = NOW + timedelta(seconds=30)
    assert totp.accepted_step(secret, code_at(secret, later), later, step) == step + 1


@pytest.mark.parametrize("code", ["", "12345", "1234567", "abcdef", "12 34 5x", "１２３４５６"])
def test_malformed_codes_are_refused(code: str) -> None:
    assert totp.accepted_step(totp.new_secret(), code, NOW, None) is None


def test_secret_is_encrypted_and_bound_to_the_user() -> None:
    key = b"k" * 32
    secret = totp.new_secret()
    blob = totp.encrypt_secret(key, "anne", secret)
    assert secret.encode() not in blob
    assert totp.decrypt_secret(key, "anne", blob) == secret
    with pytest.raises(ConfigurationError):
        totp.decrypt_secret(key, "bob", blob)
    with pytest.raises(ConfigurationError):
        totp.decrypt_secret(b"x" * 32, "anne", blob)
