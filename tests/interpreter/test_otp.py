"""The project's one OTP path against the RFCs' own test vectors:
RFC 4226 Appendix D (HOTP) and RFC 6238 Appendix B (TOTP, three digests)."""

from __future__ import annotations

import base64
from datetime import UTC, datetime, timedelta

import pytest

from hearing.interpreter import otp

RFC4226_SECRET = b"12345678901234567890"
RFC4226 = ["755224", "287082", "359152", "969429", "338314", "254676", "287922", "162583", "399871", "520489"]

# RFC 6238 Appendix B: the seed is the ASCII digits repeated to the digest's size.
SEEDS = {
    "sha1": b"12345678901234567890",
    "sha256": b"12345678901234567890123456789012",
    "sha512": b"1234567890123456789012345678901234567890123456789012345678901234",
}
RFC6238 = [
    (59, "sha1", "94287082"),
    (59, "sha256", "46119246"),
    (59, "sha512", "90693936"),
    (1111111109, "sha1", "07081804"),
    (1111111109, "sha256", "68084774"),
    (1111111109, "sha512", "25091201"),
    (1111111111, "sha1", "14050471"),
    (1111111111, "sha256", "67062674"),
    (1111111111, "sha512", "99943326"),
    (1234567890, "sha1", "89005924"),
    (1234567890, "sha256", "91819424"),
    (1234567890, "sha512", "93441116"),
    (2000000000, "sha1", "69279037"),
    (2000000000, "sha256", "90698825"),
    (2000000000, "sha512", "38618901"),
    (20000000000, "sha1", "65353130"),
    (20000000000, "sha256", "77737706"),
    (20000000000, "sha512", "47863826"),
]


@pytest.mark.parametrize(("counter", "expected"), list(enumerate(RFC4226)))
def test_rfc4226_appendix_d(counter: int, expected: str) -> None:
    assert otp.hotp(RFC4226_SECRET, counter) == expected


def test_the_rfc6238_table_is_the_whole_of_appendix_b() -> None:
    assert len(RFC6238) == 18 and {len(s) for s in SEEDS.values()} == {20, 32, 64}


@pytest.mark.parametrize(("at", "digest", "expected"), RFC6238)
def test_rfc6238_appendix_b(at: int, digest: str, expected: str) -> None:
    assert otp.totp(SEEDS[digest], at, digits=8, digest=digest) == expected
    # The same moment as an aware datetime gives the same code.
    moment = datetime(1970, 1, 1, tzinfo=UTC) + timedelta(seconds=at)
    assert otp.totp(SEEDS[digest], moment, digits=8, digest=digest) == expected


def test_rfc6238_time_steps() -> None:
    # Appendix B's "T (hex)" column for the first and last rows.
    assert otp.time_step(59) == 0x1
    assert otp.time_step(20000000000) == 0x27BC86AA
    assert otp.time_step(59, t0=29) == 1 and otp.time_step(89, step=60) == 1


def test_what_the_path_refuses() -> None:
    with pytest.raises(ValueError, match="digest"):
        otp.hotp(RFC4226_SECRET, 0, digest="md5")
    with pytest.raises(ValueError, match="digits"):
        otp.hotp(RFC4226_SECRET, 0, digits=5)
    with pytest.raises(ValueError, match="counter"):
        otp.hotp(RFC4226_SECRET, -1)
    with pytest.raises(ValueError, match="counter"):
        otp.hotp(RFC4226_SECRET, 2**64)
    with pytest.raises(ValueError, match="time zone"):
        otp.totp(RFC4226_SECRET, datetime(2026, 12, 1, 9, 0))  # noqa: DTZ001 (the point of the test)
    with pytest.raises(ValueError, match="step"):
        otp.time_step(59, step=0)


def test_a_totp_is_accepted_in_its_step_and_one_either_side_and_never_twice() -> None:
    secret = SEEDS["sha1"]
    now = datetime(2026, 12, 1, 9, 0, 10, tzinfo=UTC)
    step = otp.time_step(now)
    code = otp.totp(secret, now)
    assert otp.accepted_step(secret, code, now, None) == step
    assert otp.accepted_step(secret, f" {code[:3]} {code[3:]} ", now, None) == step
    assert otp.accepted_step(secret, code, now, step) is None  # the same step again
    before = otp.totp(secret, now - timedelta(seconds=30))
    after = otp.totp(secret, now + timedelta(seconds=30))
    assert otp.accepted_step(secret, before, now, None) == step - 1
    assert otp.accepted_step(secret, after, now, None) == step + 1
    far = otp.totp(secret, now + timedelta(seconds=90))
    assert otp.accepted_step(secret, far, now, None) is None
    for typed in ("", "12345", "1234567", "abcdef", "١٢٣٤٥٦", "1" * 1000):
        assert otp.accepted_step(secret, typed, now, None) is None


def test_base32_secrets_read_back_to_their_bytes() -> None:
    encoded = base64.b32encode(SEEDS["sha512"]).decode().rstrip("=")
    assert otp.secret_bytes(encoded) == SEEDS["sha512"]
    assert otp.secret_bytes(encoded.lower()) == SEEDS["sha512"]
