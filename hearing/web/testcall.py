"""The pre-hearing test call: the kiosk's page `/device/test-call` and its
socket `/ws/device/test-call`.

The endpoint (a custody or booth kiosk) offers audio and video; the server
answers with a loopback (hearing/media/loopback.py) that sends everything
back for `test_call_seconds`, then asks the endpoint what it received. The
endpoint's report and the server's own RTCP figures are graded
(hearing/custody/testcall.py), recorded against the endpoint and audited in
one transaction (hearing/custody/calls.py), and the result goes back to the
page. One test call per endpoint at a time; a bad message gets an error
with a stable code and records nothing.
"""

from __future__ import annotations

import asyncio
import contextlib
import logging

from sqlalchemy.orm import Session
from starlette.requests import Request
from starlette.responses import Response
from starlette.websockets import WebSocket

from hearing.actors import Actor
from hearing.clock import utcnow
from hearing.custody import calls, testcall
from hearing.custody.testcall import Figures
from hearing.db.models import Endpoint
from hearing.media import signaling
from hearing.media.loopback import Loopback
from hearing.media.signaling import SignalingError
from hearing.web import language
from hearing.web.pages import render
from hearing.web.routing import (
    Audience,
    DevicePrincipal,
    device,
    route,
    running_test_calls,
    services,
)
from hearing.web.sockets import LEAVE, ClientLoop, Reply, identity, socket_route, socket_watch

logger = logging.getLogger(__name__)

LIVENESS_SECONDS = 5.0
OUTBOX_MESSAGES = 16
# The endpoint's connection comes up within this, or the call ends unmeasured.
CONNECT_SECONDS = 15.0
# After the loop, the endpoint has this long to say what it received.
REPORT_SECONDS = 10.0
TEXT_PREFIXES = ("test_call.",)


async def _may_test(request: Request | WebSocket, principal: DevicePrincipal) -> str:
    def check(db: Session) -> str:
        endpoint = db.get_one(Endpoint, principal.endpoint_id)
        calls.may_test(endpoint)
        return endpoint.name

    return await services(request).read(check)


async def test_call_page(request: Request) -> Response:
    principal = device(request)
    name = await _may_test(request, principal)
    lang = language.kiosk_language(request)
    context = {
        "lang": lang,
        "t": language.translator(lang),
        "device_name": name,
        "auto": request.query_params.get("auto") == "1",
        "seconds": services(request).settings.test_call_seconds,
        "test_call_text": language.texts(lang, TEXT_PREFIXES),
    }
    return render(request, "kiosk_test_call.html", context)


async def test_call_socket(websocket: WebSocket) -> None:
    principal: DevicePrincipal = websocket.state.principal
    await _may_test(websocket, principal)
    with running_test_calls(websocket).holding(principal.endpoint_id):
        seconds = services(websocket).settings.test_call_seconds
        client = ClientLoop(
            websocket,
            name=f"test call {principal.endpoint_id}",
            queue_size=OUTBOX_MESSAGES,
            liveness=LIVENESS_SECONDS,
        )
        call = TestCallSession(websocket, principal, client, seconds)
        reason = "disconnected"
        try:
            with socket_watch(websocket).watching(identity(websocket), client):
                reason = await client.run({"type": "welcome", "seconds": seconds}, call.handle)
        finally:
            await call.stop()
            logger.info("%r ended: %s", call, reason)
            await client.close(reason)


class TestCallSession:
    """One test call: the offer, the loop, the report, the result."""

    __test__ = False  # not a pytest class, despite the name

    def __init__(self, websocket: WebSocket, principal: DevicePrincipal, client: ClientLoop, seconds: float) -> None:
        self.websocket = websocket
        self.principal = principal
        self.client = client
        self.seconds = seconds
        self.phase = "offer"  # offer -> connecting -> looping -> report -> done
        self.loop: Loopback | None = None
        self.network: tuple[float | None, float | None, float | None] | None = None
        self._timer: asyncio.Task[None] | None = None

    def __repr__(self) -> str:
        return f"TestCallSession({self.principal.name})"

    async def handle(self, raw: str | bytes) -> Reply:
        match testcall.parse(raw):
            case signaling.Ping(nonce=nonce):
                return {"type": "pong", "nonce": nonce}
            case signaling.Leave():
                return LEAVE
            case signaling.Offer(sdp=sdp):
                if self.phase != "offer":
                    raise SignalingError("unexpected_message", "A test call takes one offer.")
                return await self._start(sdp)
            case testcall.Report() as report:
                if self.phase != "report":
                    raise SignalingError("unexpected_message", "Report when the server asks for it (report_due).")
                return await self._finish(report)
        raise SignalingError("unknown_message", "Unknown message.")

    async def _start(self, sdp: str) -> Reply:
        loop = Loopback(f"test call {self.principal.name}")
        try:
            answer = await loop.answer(sdp)
        except ValueError as exc:
            await loop.close()
            raise SignalingError("bad_sdp", f"The offer was not accepted: {exc}") from None
        self.loop, self.phase = loop, "connecting"
        self._timer = asyncio.create_task(self._run(loop), name=f"{self!r} timer")
        return {"type": "answer", "sdp": answer}

    async def _run(self, loop: Loopback) -> None:
        try:
            await self._time(loop)
        except Exception:  # a closing connection's statistics, say: end the call, unrecorded
            logger.exception("%r failed", self)
            self.client.deliver({"type": "error", "error": "internal_error", "message": "The test call failed."})
            self.client.dismiss("timeout")

    async def _time(self, loop: Loopback) -> None:
        try:
            await asyncio.wait_for(loop.connected.wait(), CONNECT_SECONDS)
        except TimeoutError:
            self.client.deliver({"type": "error", "error": "no_media", "message": "The media did not connect."})
            self.client.dismiss("timeout")
            return
        self.phase = "looping"
        self.client.deliver({"type": "progress", "phase": "looping", "seconds": self.seconds})
        await asyncio.sleep(self.seconds)
        network = await loop.network()
        loss = None
        if network.upstream_loss_percent is not None and network.downstream_loss_percent is not None:
            loss = testcall.loop_loss_percent(network.upstream_loss_percent, network.downstream_loss_percent)
        self.network = (network.rtt_ms, loss, network.jitter_ms)
        self.phase = "report"
        self.client.deliver({"type": "report_due"})
        await asyncio.sleep(REPORT_SECONDS)
        if self.phase == "report":
            self.client.deliver({"type": "error", "error": "no_report", "message": "No report came: not recorded."})
            self.client.dismiss("timeout")

    async def _finish(self, report: testcall.Report) -> Reply:
        assert self.network is not None
        rtt, loss, jitter = self.network
        figures = Figures(
            rtt_ms=rtt,
            loss_percent=loss,
            jitter_ms=jitter,
            width=report.width,
            height=report.height,
            fps=None if report.fps is None else round(float(report.fps), 1),
            audio_dbfs=None if report.audio_dbfs is None else round(float(report.audio_dbfs), 1),
        )
        grade, reasons = testcall.assess(figures)
        actor: Actor = self.websocket.state.actor
        endpoint_id, at = self.principal.endpoint_id, utcnow()
        await services(self.websocket).run(lambda db: calls.record(db, actor, endpoint_id, figures, grade, reasons, at))
        self.phase = "done"
        await self._close_loop()
        return {
            "type": "result",
            "grade": grade.value,
            "figures": figures.to_json(),
            "reasons": [r.value for r in reasons],
            "at": at.isoformat(),
        }

    async def _close_loop(self) -> None:
        if self.loop is not None:
            await self.loop.close()
            self.loop = None

    async def stop(self) -> None:
        if self._timer is not None and not self._timer.done():
            self._timer.cancel()
            with contextlib.suppress(asyncio.CancelledError):
                await self._timer
        self._timer = None
        await self._close_loop()


ROUTES = [
    route("/device/test-call", test_call_page, audience=Audience.DEVICE),
    socket_route("/ws/device/test-call", test_call_socket, audience=Audience.DEVICE, name="test_call_socket"),
]
