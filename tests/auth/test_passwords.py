from __future__ import annotations

import threading

import pytest

from hearing.auth import passwords
from hearing.errors import InvalidInput, SignInBusy


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


def test_the_hash_pool_runs_at_most_its_workers_and_refuses_beyond_its_queue() -> None:
    pool = passwords.HashPool(workers=2, waiting=1)
    release = threading.Event()
    lock = threading.Lock()
    running, most = [0], [0]

    def hash_slowly() -> bool:
        with lock:
            running[0] += 1
            most[0] = max(most[0], running[0])
        release.wait(10)
        with lock:
            running[0] -= 1
        return True

    try:
        futures = [pool.submit(hash_slowly) for _ in range(3)]
        with pytest.raises(SignInBusy):
            pool.submit(hash_slowly)
        release.set()
        assert [f.result(10) for f in futures] == [True] * 3
        assert most[0] == 2
        # Finished work frees its place.
        assert pool.submit(lambda: True).result(10) is True
    finally:
        release.set()
        pool.close()
