"""A remote party's seat for the browser tests of the pages, without the
gateway's own socket (another helper's part of issue 12, on another app).

`take_remote_seats(app)` adds one socket to a test's live application, at
`/test/ws/remote`, that takes a seat the way the gateway's remote media
socket does: the party presents the session its one-time code opened
(`Authorization: Remote <token>`, from `admission.redeem`), the session says
the hearing and the seat, and the seat joins the live hearing's room, where
the floor keeps it in the lobby until the judge admits it. It speaks the
media socket's protocol (docs/protocol.md: welcome, offer/answer, ping), so
the Python media client (hearing/media/client.py, via tests/media/peers.py)
connects to it as it does to every other seat. It is a test's, never the
product's: the product's remote socket is the gateway's.
"""

from __future__ import annotations

from starlette.applications import Starlette
from starlette.routing import WebSocketRoute
from starlette.websockets import WebSocket

from hearing.clock import utcnow
from hearing.interpreter import admission
from hearing.media import signaling
from hearing.web.routing import live_hearings, services
from hearing.web.sockets import LEAVE, ClientLoop, Reply

PATH = "/test/ws/remote"


async def _remote_seat(websocket: WebSocket) -> None:
    await websocket.accept()
    svc = services(websocket)
    token = websocket.headers.get("authorization", "").removeprefix("Remote ")
    info = await svc.read(lambda db: admission.load_session(db, svc.keys, token, now=utcnow()))
    live = live_hearings(websocket).get(info.hearing_id) if info is not None else None
    if info is None or live is None:
        await websocket.close(code=4401)
        return
    seat = info.seat
    client = ClientLoop(websocket, name=f"test remote {seat}", queue_size=64, liveness=5.0)
    await live.seat_connected(seat, client)

    async def handle(raw: str | bytes) -> Reply:
        live.heard_from(seat)
        match signaling.parse(raw):
            case signaling.Offer(sdp=sdp, views=views):
                return {"type": "answer", "sdp": await live.negotiate(seat, sdp, views)}
            case signaling.Ping(nonce=nonce):
                return {"type": "pong", "nonce": nonce}
            case signaling.Leave():
                return LEAVE
        return {}

    reason = "disconnected"
    try:
        reason = await client.run(live.welcome(seat), handle)
    finally:
        await live.seat_disconnected(seat, client)
        await client.close(reason)


def take_remote_seats(app: Starlette) -> None:
    app.router.routes.append(WebSocketRoute(PATH, _remote_seat))
