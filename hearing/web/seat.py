"""A seat's session on its media socket, whoever the seat is.

The judge's and the devices' socket (hearing/web/media.py) and the remote
party's at the gateway (hearing/web/remote.py) admit a connection to a seat
each in their own way; from then on the session is the same: joining and
leaving audited, the seat taken in the live hearing (a newer connection
replaces it), the identity watched, one `Conversation` for its messages,
and plan B when a custody or booth link is lost.

Plan B (hearing/custody/planb.py): when the custody room's or the booth's
connection is lost mid-hearing (closed, or silent past the liveness
timeout), the hearing records the interruption and, if the court says so,
pauses (hearing/docket/interruptions.py); when the seat comes back, the
interruption ends with its duration, and a seat back too late waits in
the lobby.

A seat's requests to speak are paced (hearing/live/pacing.py) before they
reach the database, and each one re-checks, in its own transaction, that
the identity that sends it still stands: the socket watch closes a revoked
device's socket within seconds, and nothing it sends in between changes
anything. Repeated identical refusals are counted, not appended one by one.
"""

from __future__ import annotations

import contextlib
import logging
from collections.abc import Sequence

from aiortc.sdp import candidate_from_sdp
from sqlalchemy.orm import Session
from starlette.websockets import WebSocket

from hearing.actors import Actor
from hearing.audit.actions import Action
from hearing.audit.log import append
from hearing.clock import utcnow
from hearing.custody import planb
from hearing.docket import interruptions
from hearing.docket.lifecycle import HearingState
from hearing.errors import PermissionDenied, RateLimited
from hearing.live.hearing import LiveHearing
from hearing.live.pacing import RefusalTally
from hearing.live.watch import Identity, StaffIdentity
from hearing.media import aiortc_hooks, signaling
from hearing.media.rig_report import CameraChange, RigLevels, RigPreview, RigReport
from hearing.routing import seats
from hearing.speaker_order import commands, presiding
from hearing.speaker_order.floor import Floor
from hearing.web.errors import record_refusal, record_repeated_refusal
from hearing.web.routing import live_hearings, services
from hearing.web.sockets import LEAVE, ClientLoop, Reply, identities_ending, identity, socket_watch

logger = logging.getLogger(__name__)

# Clients ping every 2 s; 5 s of silence means the link is gone.
LIVENESS_SECONDS = 5.0
OUTBOX_MESSAGES = 64
# How a connection ends when its link is lost (not left, replaced, ended or revoked).
LOST = frozenset({"disconnected", "timeout"})


async def serve(
    websocket: WebSocket,
    hearing_id: int,
    seat: str,
    floor: Floor,
    state: HearingState,
    *,
    liveness: float = LIVENESS_SECONDS,
    host_addresses: Sequence[str] | None = None,
) -> str:
    """The admitted connection's session at `seat`, until it ends; returns
    how it ended. `host_addresses`: where this seat's ICE candidates are
    offered, when not the process's (the gateway's, for a remote party)."""
    actor: Actor = websocket.state.actor
    svc = services(websocket)
    live = await live_hearings(websocket).open(hearing_id, floor, state)
    client = ClientLoop(websocket, name=f"media {hearing_id}/{seat}", queue_size=OUTBOX_MESSAGES, liveness=liveness)
    joined = {"seat": seat, **({"reconnected": True} if live.returning(seat) else {})}
    await svc.run(lambda db: append(db, actor, Action.PARTICIPANT_JOINED, hearing_id=hearing_id, **joined))
    await live.seat_connected(seat, client)
    await _restored(websocket, live, seat)
    who = identity(websocket)
    conversation = Conversation(websocket, live, seat, actor, who, client, host_addresses=host_addresses)
    reason = "disconnected"
    try:
        # The judge's live link keeps the judge's session from going idle.
        with socket_watch(websocket).watching(who, client, live_link=isinstance(who, StaffIdentity)):
            # Every floor committed from now on reaches this seat through its
            # channel; the newest before, in the welcome.
            reason = await client.run(live.welcome(seat), conversation.handle)
    finally:
        held = await live.seat_disconnected(seat, client)
        if held and reason in LOST and seat in planb.DROP_SEATS:
            await _interrupted(websocket, live, seat)
        await conversation.tell_refusals(everything=True)
        await svc.run(
            lambda db: append(db, actor, Action.PARTICIPANT_LEFT, hearing_id=hearing_id, seat=seat, reason=reason)
        )
        await client.close(reason)
    return reason


async def _interrupted(websocket: WebSocket, live: LiveHearing, seat: str) -> None:
    """The seat's link was lost: audited, the hearing paused if the court
    says so, and everyone told at once (the panel offers Resume)."""
    happened = await services(websocket).run(lambda db: interruptions.interrupted(db, live.id, seat, utcnow()))
    if happened is None:
        return
    logger.info("%r: %s lost its link%s", live, seat, "; paused" if happened.paused else "")
    live.interrupted(seat, paused=happened.paused)
    if happened.paused:
        live.lifecycle_moved(happened.state)


async def _restored(websocket: WebSocket, live: LiveHearing, seat: str) -> None:
    """The seat is back: its interruption ends, with how long it lasted; a
    seat back too late waits in the lobby to be admitted again."""
    ended = live.restored(seat)
    if ended is None:
        return
    _, duration, in_time = ended
    floor = await services(websocket).run(
        lambda db: interruptions.restored(db, live.id, seat, duration, in_time=in_time)
    )
    if floor is not None:
        live.follow(floor)


class Conversation:
    """One seat's messages: media negotiation, liveness, and its people's
    requests to speak."""

    def __init__(
        self,
        websocket: WebSocket,
        live: LiveHearing,
        seat: str,
        actor: Actor,
        who: Identity,
        client: ClientLoop,
        *,
        host_addresses: Sequence[str] | None = None,
    ) -> None:
        self.websocket = websocket
        self.host_addresses = host_addresses
        self.live = live
        self.seat = seat
        self.actor = actor
        self.identity = who
        self.client = client
        # (the command's action, the refusal's code): the actor and seat are this connection's.
        self.refusals: RefusalTally[tuple[str, str]] = RefusalTally(live.clock)

    async def handle(self, raw: str | bytes) -> Reply:
        self.live.heard_from(self.seat)
        await self.tell_refusals()
        live, seat = self.live, self.seat
        match signaling.parse(raw):
            case signaling.Offer(sdp=sdp, views=views):
                unknown = sorted(set(views) - set(live.floor.seat_roles))
                if unknown:
                    raise signaling.SignalingError("unknown_seat", f"No such seat in this hearing: {unknown[0]!r}.")
                try:
                    with self._listener_addresses():
                        answer = await live.negotiate(seat, sdp, views)
                except ValueError as exc:
                    raise signaling.SignalingError("bad_sdp", f"The offer was not accepted: {exc}") from None
                return {"type": "answer", "sdp": answer}
            case signaling.Candidate(candidate=text, sdp_mid=mid, sdp_mline_index=index):
                try:
                    candidate = candidate_from_sdp(text.removeprefix("candidate:"))
                except (AssertionError, ValueError, IndexError, KeyError):  # aiortc asserts on bad input
                    raise signaling.SignalingError("bad_candidate", "The ICE candidate could not be read.") from None
                candidate.sdpMid, candidate.sdpMLineIndex = mid, index
                try:
                    await live.add_candidate(seat, candidate)
                except (KeyError, ValueError):
                    raise signaling.SignalingError("bad_candidate", "Send an offer before candidates.") from None
                return {}
            case signaling.Ping(nonce=nonce):
                return {"type": "pong", "nonce": nonce}
            case signaling.FloorRequest(action=action, speaker=speaker):
                await self.ask(commands.Command(action, speaker=speaker))
                return {}
            case RigReport() as report:
                changes = self._rig(live).rig_reported(report)
                if changes:
                    await services(self.websocket).run(lambda db: self._audit_cameras(db, changes))
                return {}
            case RigLevels() as levels:
                self._rig(live).rig_levels(levels)
                return {}
            case RigPreview() as preview:
                self._rig(live).rig_preview(preview)
                return {}
            case signaling.Answer():
                raise signaling.SignalingError("unexpected_message", "The server makes no offers; send an offer.")
            case signaling.Leave():
                return LEAVE
        raise signaling.SignalingError("unknown_message", "Unknown message.")

    def _rig(self, live: LiveHearing) -> LiveHearing:
        # Only the courtroom's own connection speaks for its cameras.
        if self.seat != seats.COURTROOM:
            raise signaling.SignalingError("not_rig", "Only the courtroom rig reports cameras.")
        return live

    def _audit_cameras(self, db: Session, changes: Sequence[CameraChange]) -> None:
        for change in changes:
            camera = change.camera
            label = {"da": camera.label_da, "en": camera.label_en}
            facts: dict[str, object] = {"camera": camera.id, "seat": camera.seat, "label": label}
            if change.unavailable:
                facts["reason"] = camera.reason
            action = Action.CAMERA_UNAVAILABLE if change.unavailable else Action.CAMERA_RESTORED
            append(db, self.actor, action, hearing_id=self.live.id, **facts)

    def _listener_addresses(self) -> contextlib.AbstractContextManager[None]:
        # aiortc gathers inside the awaited negotiation, in tasks that copy
        # this context: the peer offers this listener's addresses only.
        if self.host_addresses is None:
            return contextlib.nullcontext()
        return aiortc_hooks.host_addresses(self.host_addresses)

    async def ask(self, command: commands.Command) -> None:
        """A request to speak (or its withdrawal) from this seat's people."""
        live, who = self.live, self.identity
        if not live.may_command(self.seat):
            raise RateLimited("Too many requests from this seat: wait a second and ask again.")
        svc = services(self.websocket)

        def act(db: Session) -> tuple[str | None, Floor | None]:
            ending = identities_ending(db, svc.settings, [who])[0].get(who)
            if ending is not None:
                return ending, None
            return None, presiding.act(db, self.actor, live.id, command, seat=self.seat)

        try:
            ending, floor = await svc.run(act)
        except PermissionDenied as refusal:
            if self.refusals.refused((command.action, refusal.code)):
                await record_refusal(self.websocket, self.actor, "WEBSOCKET")
            raise
        if ending is not None:
            self.client.dismiss(ending)
        elif floor is not None:
            live.follow(floor)

    async def tell_refusals(self, *, everything: bool = False) -> None:
        """Append the counts of repeated refusals whose window has closed (or
        all of them: the connection ends)."""
        counts = self.refusals.drain() if everything else self.refusals.due()
        for (action, code), count in counts:
            await record_repeated_refusal(
                self.websocket, self.actor, "WEBSOCKET", count, seat=self.seat, command=action, reason=code
            )
