"""Audio-only plan B over real media, through the live server's sockets.

A Python custody peer on the real media socket sends a tone and a camera;
the judge's Python peer pins custody's picture as a view and listens, and
the judge's panel feed is open. Custody's camera then stops (its sound goes
on): the room's health samples (every 2 s) see the picture gone while the
sound still arrives, and after two of them (hearing/custody/planb.py) the
seat goes on audio only: the panel is told, the judge's route loses
custody's video, and custody's sound still reaches the judge. The camera
back, three healthy samples later the picture returns.

Nothing is shortened: the rule's own thresholds and the room's own 2 s
interval run here. From the camera stopping to the notice is 4-6 s (two
samples, and the wait for the first); back on video 6-8 s.
"""

from __future__ import annotations

import asyncio
import json
import time
from typing import Any

import av
import pytest
from aiortc.mediastreams import MediaStreamTrack
from websockets.asyncio.client import connect

from hearing.actors import Actor
from hearing.docket.lifecycle import HearingState
from hearing.docket.parties import EndpointKind
from hearing.live.hearing import LiveHearing
from hearing.media.tracks import PatternTrack
from hearing.routing.policy import route
from hearing.services import Services
from hearing.speaker_order import presiding
from hearing.speaker_order.commands import Command
from tests.browser import LiveServer
from tests.conftest import Court_, admit, enroll_device, open_hearing, session_cookie
from tests.media.peers import Peer, tones_in
from tests.waiting import wait_until_async

TONES = {"judge": 450.0, "custody": 1150.0}
VIEW = 1  # the judge's video sections: 0 its main picture, 1 the view pinned to custody
# The camera's stopping reaches the rule within two samples after the next
# one; its return within three. With the machine loaded, twice that.
NOTICE_SECONDS = 20.0


class Camera(MediaStreamTrack):
    """A camera that can fail: while off, the frames it makes are dropped
    (the encoder gets nothing, as when a webcam's driver hangs), so that its
    clock runs on and the picture resumes where real time is."""

    kind = "video"

    def __init__(self, width: int, height: int) -> None:
        super().__init__()
        self.pattern = PatternTrack(width, height)
        self.on = True

    async def recv(self) -> av.VideoFrame:
        while True:
            frame = await self.pattern.recv()
            if self.on:
                return frame

    def stop(self) -> None:
        self.pattern.stop()
        super().stop()


class PanelFeed:
    """The judge's panel feed, as panel.js keeps it: every message it is sent."""

    def __init__(self, url: str, headers: dict[str, str]) -> None:
        self.url, self.headers = url, headers
        self.messages: list[dict[str, Any]] = []
        self._task: asyncio.Task[None] | None = None

    async def open(self) -> None:
        socket = await connect(self.url, additional_headers=self.headers, proxy=None, max_size=2**20)
        self.messages.append(json.loads(await socket.recv()))  # the snapshot

        async def read() -> None:
            async with socket:
                async for raw in socket:
                    self.messages.append(json.loads(raw))

        self._task = asyncio.create_task(read())

    def links(self) -> list[dict[str, Any]]:
        return [m for m in self.messages if m.get("type") == "link"]

    async def close(self) -> None:
        if self._task is not None:
            self._task.cancel()
            await asyncio.gather(self._task, return_exceptions=True)


def judge_sees_custody(live: LiveHearing) -> bool:
    return "custody" in route(live.media_state())["judge"].video


async def heard_at_the_judge(judge: Peer) -> set[str]:
    since = time.monotonic()
    await wait_until_async(lambda: len(judge.frames_since(since)) >= 25)
    return tones_in(judge.frames_since(since)[-25:], TONES)


async def pictures_after(judge: Peer, since: float, count: int) -> None:
    await wait_until_async(
        lambda: len(judge.pictures(VIEW, since)) >= count,
        timeout=NOTICE_SECONDS,
        describe=lambda: f"{len(judge.pictures(VIEW, since))} pictures of custody since",
    )


@pytest.mark.timeout(150)
def test_custodys_camera_failing_puts_it_on_audio_only_and_its_return_brings_the_picture_back(
    live_server: LiveServer, services: Services, court: Court_
) -> None:
    open_hearing(services, court.hearing_a, HearingState.IN_SESSION)
    admit(services, court, court.hearing_a)
    judge_actor = Actor("user", court.users["judge"], "judge")
    for command in (Command("request", speaker="custody:detainee"), Command("grant")):
        services.unit_of_work(
            lambda db, c=command: presiding.act(db, judge_actor, court.hearing_a, c, courtroom_id=court.courtroom_a)
        )
    port = live_server.settings.port
    base = f"ws://127.0.0.1:{port}/ws/hearings/{court.hearing_a}"
    cookie = {"Cookie": f"hearing_session={session_cookie(services, court.users['judge'])}"}
    kiosk = enroll_device(services, "kiosk-a", EndpointKind.CUSTODY, "Facility A").token

    async def scenario() -> None:
        camera = Camera(320, 180)
        custody = Peer("custody", tone=TONES["custody"])
        custody.camera = camera  # type: ignore[assignment]  # a PatternTrack that can fail
        judge = Peer("judge", tone=TONES["judge"], camera=(160, 96), views=["custody"])
        feed = PanelFeed(f"{base}/panel", {**cookie, "Origin": f"http://127.0.0.1:{port}"})
        try:
            await feed.open()
            await custody.connect(f"{base}/media", {"Authorization": f"Device {kiosk}"})
            await judge.connect(f"{base}/media", cookie)
            live = live_server.app.state.live_hearings.get(court.hearing_a)
            assert live is not None
            # Custody is seen and heard at the bench, and has shown it sends a picture.
            await pictures_after(judge, 0.0, 50)
            assert judge_sees_custody(live) and "custody" in await heard_at_the_judge(judge)
            await wait_until_async(lambda: live._links._links["custody"].sent_video, timeout=NOTICE_SECONDS)
            assert feed.links() == []

            camera.on = False
            stopped = time.monotonic()
            await wait_until_async(
                lambda: feed.links(),
                timeout=NOTICE_SECONDS,
                describe=lambda: [m for m in feed.messages if m.get("type") == "health"][-3:],
            )
            took = time.monotonic() - stopped
            assert feed.links() == [{"type": "link", "seat": "custody", "audio_only": True}]
            assert custody.client is not None and {"type": "link", "seat": "custody", "audio_only": True} in list(
                custody.client.events
            )
            assert live.audio_only == {"custody"} and not judge_sees_custody(live)
            # The sound goes on: the judge still hears custody's tone.
            assert "custody" in await heard_at_the_judge(judge)
            print(f"camera stopped -> audio only: {took:.1f} s")

            camera.on = True
            resumed = time.monotonic()
            await wait_until_async(lambda: len(feed.links()) == 2, timeout=NOTICE_SECONDS)
            took = time.monotonic() - resumed
            assert feed.links()[1] == {"type": "link", "seat": "custody", "audio_only": False}
            assert live.audio_only == frozenset() and judge_sees_custody(live)
            # The picture returns at the bench, and the sound never left.
            back = time.monotonic()
            await pictures_after(judge, back, 25)
            assert "custody" in await heard_at_the_judge(judge)
            print(f"camera back -> video again: {took:.1f} s")
        finally:
            await feed.close()
            for peer in (judge, custody):
                await peer.close()

    asyncio.run(scenario())
