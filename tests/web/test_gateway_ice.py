"""ICE host candidates per listener: a remote party's peer offers the
gateway's addresses, every other peer the internal ones, in one process.

The host addresses are a context (aiortc_hooks.host_addresses), read by
aioice when it gathers. aiortc gathers inside the awaited
setLocalDescription, in tasks that copy the context of the negotiation
that awaits them; these tests prove it on the answers themselves: two
loopback addresses (Linux routes all of 127/8 to loopback), 127.0.0.1 for
the internal listener and 127.0.0.2 for the gateway."""

from __future__ import annotations

import asyncio
import re

import pytest
from aiortc import RTCBundlePolicy, RTCConfiguration, RTCPeerConnection
from starlette.testclient import TestClient
from starlette.websockets import WebSocketDisconnect

from hearing.config import Settings
from hearing.media import aiortc_hooks
from hearing.media.tracks import ToneTrack
from hearing.services import Services
from tests.conftest import Court_, login_as, open_hearing
from tests.web import remote_support
from tests.web.remote_support import invite, submit_code

pytestmark = pytest.mark.sqlite_only
both = remote_support.both  # the fixture: both listeners in one client, one loop

INTERNAL = "127.0.0.1"
OUTSIDE = "127.0.0.2"
CANDIDATE = re.compile(r"a=candidate:\S+ \d+ \S+ \d+ (\S+) \d+ typ (\S+)")


@pytest.fixture
def settings(settings: Settings) -> Settings:
    return settings.replace(media_addresses=INTERNAL, gateway_media_addresses=OUTSIDE)


def addresses(sdp: str) -> set[str]:
    found = CANDIDATE.findall(sdp)
    assert found, sdp
    assert {kind for _, kind in found} == {"host"}
    return {address for address, _ in found}


async def offer() -> str:
    connection = RTCPeerConnection(RTCConfiguration(iceServers=[], bundlePolicy=RTCBundlePolicy.MAX_BUNDLE))
    connection.addTrack(ToneTrack(440.0))
    connection.addTransceiver("video", direction="recvonly")
    await connection.setLocalDescription(await connection.createOffer())
    sdp = connection.localDescription.sdp
    await connection.close()
    return sdp


def test_the_host_addresses_are_the_contexts_even_side_by_side() -> None:
    aiortc_hooks.restrict_host_addresses([INTERNAL])

    async def inside(chosen: str | None) -> str:
        if chosen is None:
            return await offer()
        with aiortc_hooks.host_addresses([chosen]):
            # Gathering waits on the network: the other negotiation runs meanwhile.
            return await offer()

    async def side_by_side() -> list[str]:
        return list(await asyncio.gather(inside(OUTSIDE), inside(None), inside(OUTSIDE), inside(None)))

    sdps = asyncio.run(side_by_side())
    assert [addresses(sdp) for sdp in sdps] == [{OUTSIDE}, {INTERNAL}, {OUTSIDE}, {INTERNAL}]
    # Outside the block, the process's own again.
    assert aiortc_hooks.current_host_addresses() == [INTERNAL]
    assert addresses(asyncio.run(offer())) == {INTERNAL}


def test_the_gateways_answer_offers_only_gateway_addresses_and_the_internal_only_internal(
    both: TestClient, services: Services, court: Court_
) -> None:
    open_hearing(services, court.hearing_a)
    _, issued = invite(services, court.hearing_a)
    assert submit_code(both, issued.invitation, issued.code).status_code == 303
    login_as(both, services, court.users["judge"])
    answers: dict[str, str] = {}
    # Twice each, interleaved: a gateway negotiation leaves nothing behind for the next.
    for where, url in [
        ("gateway", "wss://gateway.test/ws/remote/media"),
        ("internal", f"/ws/hearings/{court.hearing_a}/media"),
        ("gateway again", "wss://gateway.test/ws/remote/media"),
        ("internal again", f"/ws/hearings/{court.hearing_a}/media"),
    ]:
        with both.websocket_connect(url) as ws:
            assert ws.receive_json()["type"] == "welcome"
            ws.send_json({"type": "offer", "sdp": asyncio.run(offer())})
            while (message := ws.receive_json())["type"] != "answer":
                pass
            answers[where] = message["sdp"]
            ws.send_json({"type": "leave"})
            # Read to the close: the server lets the seat's peer (and its
            # sockets) go first. Leaving the block earlier would cancel that.
            with pytest.raises(WebSocketDisconnect):
                while True:
                    ws.receive_json()
    assert addresses(answers["gateway"]) == addresses(answers["gateway again"]) == {OUTSIDE}
    assert addresses(answers["internal"]) == addresses(answers["internal again"]) == {INTERNAL}
