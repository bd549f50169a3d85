from __future__ import annotations

import pytest

from hearing.auth import passwords
from hearing.errors import InvalidInput


def test_hash_verifies_only_the_right_password() -> None:
    stored = passwords.hash_password("a long enough password")
    assert stored.startswith("scrypt$32768$8$1$")
    assert passwords.verify_password("a long enough password", stored)
    assert not passwords.verify_password("a long enough passwore", stored)


def test_same_password_hashes_differently() -> None:
    assert passwords.hash_password("a long enough password") != passwords.hash_password("a long enough password")


@pytest.mark.parametrize("stored", ["", "plain", "scrypt$x$8$1$AA==$AA==", "bcrypt$1$2$3$4$5", "scrypt$16$8$1$!!$!!"])
def test_malformed_stored_hashes_never_verify(stored: str) -> None:
    assert not passwords.verify_password("anything at all", stored)


@pytest.mark.parametrize("candidate", ["short", "x" * 257])
def test_policy_refuses_too_short_and_too_long(candidate: str) -> None:
    with pytest.raises(InvalidInput):
        passwords.hash_password(candidate)


def test_generated_passwords_meet_the_policy() -> None:
    passwords.check_policy(passwords.generate_password())
