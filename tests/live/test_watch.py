"""The socket watch: a registry by identity and one recheck for all of them."""

from __future__ import annotations

import asyncio
from collections.abc import Mapping

import pytest

from hearing.live.watch import DeviceIdentity, Identity, SocketWatch, StaffIdentity


class Socket:
    def __init__(self) -> None:
        self.reasons: list[str] = []

    def dismiss(self, reason: str) -> None:
        self.reasons.append(reason)


class Database:
    """What the check is asked, and what it answers."""

    def __init__(self) -> None:
        self.asked: list[tuple[frozenset[Identity], frozenset[Identity]]] = []
        self.ending: dict[Identity, str] = {}

    async def check(self, identities: frozenset[Identity], in_use: frozenset[Identity]) -> Mapping[Identity, str]:
        self.asked.append((identities, in_use))
        return {i: r for i, r in self.ending.items() if i in identities}


JUDGE = StaffIdentity(session_id=1, user_id=3)
CLERK = StaffIdentity(session_id=2, user_id=4)
KIOSK = DeviceIdentity(endpoint_id=7, credential=b"\x01" * 32)


def test_one_question_for_every_socket_and_only_the_fallen_are_dismissed() -> None:
    async def scenario() -> None:
        db = Database()
        watch = SocketWatch(db.check, interval=1)
        media, panel, clerk, kiosk = Socket(), Socket(), Socket(), Socket()
        with (
            watch.watching(JUDGE, media, live_link=True),
            watch.watching(JUDGE, panel),
            watch.watching(CLERK, clerk),
            watch.watching(KIOSK, kiosk, live_link=True),
        ):
            assert await watch.recheck() == 0
            db.ending = {KIOSK: "revoked", JUDGE: "disabled"}
            assert await watch.recheck() == 3
        assert db.asked[0] == (frozenset({JUDGE, CLERK, KIOSK}), frozenset({JUDGE, KIOSK}))
        assert len(db.asked) == 2
        assert (media.reasons, panel.reasons, clerk.reasons, kiosk.reasons) == (
            ["disabled"],
            ["disabled"],
            [],
            ["revoked"],
        )
        # Closed sockets leave the registry; with none, the database is not asked.
        assert watch.identities == frozenset()
        assert await watch.recheck() == 0 and len(db.asked) == 2

    asyncio.run(scenario())


def test_a_sign_out_here_dismisses_that_session_only() -> None:
    watch = SocketWatch(Database().check, interval=1)
    judge, clerk = Socket(), Socket()
    with watch.watching(JUDGE, judge), watch.watching(CLERK, clerk):
        assert watch.dismiss_session(JUDGE.session_id, "signed_out") == 1
    assert (judge.reasons, clerk.reasons) == (["signed_out"], [])


def test_the_task_rechecks_every_interval_and_stops() -> None:
    async def scenario() -> None:
        db = Database()
        watch = SocketWatch(db.check, interval=0.01)
        kiosk = Socket()
        with watch.watching(KIOSK, kiosk):
            watch.start()
            db.ending = {KIOSK: "revoked"}
            for _ in range(200):
                if kiosk.reasons:
                    break
                await asyncio.sleep(0.01)
            await watch.stop()
        assert kiosk.reasons and kiosk.reasons[0] == "revoked"
        asked = len(db.asked)
        await asyncio.sleep(0.05)
        assert len(db.asked) == asked  # stopped for good

    asyncio.run(scenario())


def test_a_failing_check_leaves_the_sockets_and_the_task_goes_on(caplog: pytest.LogCaptureFixture) -> None:
    async def scenario() -> int:
        calls = 0

        async def check(identities: frozenset[Identity], in_use: frozenset[Identity]) -> Mapping[Identity, str]:
            nonlocal calls
            calls += 1
            if calls == 1:
                raise OSError("database away")
            return {}

        watch = SocketWatch(check, interval=0.01)
        kiosk = Socket()
        with watch.watching(KIOSK, kiosk):
            watch.start()
            while calls < 3:
                await asyncio.sleep(0.01)
            await watch.stop()
        assert kiosk.reasons == []
        return calls

    assert asyncio.run(scenario()) >= 3
    assert any(r.levelname == "WARNING" and "recheck failed" in r.getMessage() for r in caplog.records)


def test_a_stop_before_the_first_round_returns() -> None:
    async def scenario() -> None:
        watch = SocketWatch(Database().check, interval=60)
        watch.start()
        await asyncio.wait_for(watch.stop(), timeout=2)
        # Nothing of the watch is left running.
        assert [t for t in asyncio.all_tasks() if t is not asyncio.current_task()] == []

    asyncio.run(scenario())


def test_the_credential_is_not_in_its_repr() -> None:
    assert "01" not in repr(KIOSK) and repr(KIOSK) == "DeviceIdentity(7)"
