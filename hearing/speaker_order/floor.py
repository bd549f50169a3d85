"""The judge's floor: who speaks, who waits, who is muted, who is let in.
Pure and deterministic: every change returns a new `Floor` with a higher
version, or raises `FloorError` (with a stable code) and changes nothing.

Two kinds of names meet here, because the server can only cut what arrives
as a separate stream:

- a *seat* is a media connection (the judge's panel, the courtroom rig, the
  custody endpoint, later each remote participant). Mutes, selective mutes,
  screening and the lobby act on seats.
- a *speaker* is a person at a seat, named `seat:role` ("custody:detainee",
  "courtroom:prosecutor"). Requests to speak and the floor belong to
  speakers; granting the floor to a speaker makes their seat live.

Where every party has a seat of their own (`Floor.for_parties`), the two are
the same names. The live hearing (hearing/live/) composes the media routing
from the floor and its other inputs; nothing here knows about WebRTC, the
web or the database.
"""

from __future__ import annotations

import dataclasses
import json
from collections.abc import Mapping, Sequence
from typing import Any

from hearing.courtroom.config import LAYOUTS
from hearing.docket.parties import ParticipantRole
from hearing.errors import Conflict, InvalidInput
from hearing.routing.policy import Direction, FloorMode, Hidden, Interpretation, Medium, direction_of
from hearing.routing.seats import Seating

J = ParticipantRole.JUDGE


class FloorError(Conflict):
    code = "floor_conflict"

    def __init__(self, code: str, message: str) -> None:
        super().__init__(message)
        self.code = code


@dataclasses.dataclass(frozen=True)
class Request:
    speaker: str
    priority: bool  # an interpreter's request for clarification goes first


@dataclasses.dataclass(frozen=True)
class Speaker:
    name: str
    seat: str
    role: ParticipantRole


@dataclasses.dataclass(frozen=True)
class CameraPin:
    """The judge's choice for the courtroom program (issue 13): a camera, a
    layout, or both, until released. The rig's own switcher rules otherwise."""

    camera: str | None = None
    layout: str | None = None

    def __post_init__(self) -> None:
        if self.camera is None and self.layout is None:
            raise InvalidInput("Pin a camera, a layout or both.", field="camera")
        if self.layout is not None and self.layout not in LAYOUTS:
            raise InvalidInput(f"'layout' must be one of: {', '.join(LAYOUTS)}.", field="layout")

    def to_json(self) -> dict[str, str | None]:
        return {"camera": self.camera, "layout": self.layout}


@dataclasses.dataclass(frozen=True)
class Floor:
    seats: tuple[tuple[str, ParticipantRole], ...]
    speakers: tuple[Speaker, ...]
    version: int = 0
    mode: FloorMode = FloorMode.OPEN
    holder: str | None = None
    kept_live: frozenset[str] = frozenset()  # speakers
    queue: tuple[Request, ...] = ()
    muted: frozenset[str] = frozenset()  # seats
    hidden: frozenset[Hidden] = frozenset()  # seats
    admitted: frozenset[str] = frozenset()  # seats let in from the lobby
    consultation: frozenset[str] = frozenset()  # seats conferring in private, cut off from the court
    # How the interpreter is heard, and (simultaneous) whose seats need it:
    # on the floor, so that one transaction changes it, audits it, and turns
    # its direction with the floor (issue 12).
    interpretation: Interpretation = Interpretation.NONE
    needs_interpretation: frozenset[str] = frozenset()  # seats
    # The judge's pin of the courtroom program (issue 13): on the floor, so
    # that it is audited, versioned and reaches the rig like every decision.
    camera: CameraPin | None = None

    @classmethod
    def for_parties(cls, roles: Mapping[str, ParticipantRole]) -> Floor:
        """Every party on a seat of their own, all admitted."""
        return cls(
            tuple(sorted(roles.items())),
            tuple(Speaker(name, name, role) for name, role in sorted(roles.items()) if role is not J),
            admitted=frozenset(roles),
        )

    @classmethod
    def for_seats(
        cls, seats: Mapping[str, ParticipantRole], speakers: Mapping[str, Sequence[ParticipantRole]]
    ) -> Floor:
        """Seats with the people who may speak from each. The judge's seats
        (the bench and the courtroom) are in from the start; every other seat
        waits in the lobby until the judge admits it."""
        return cls(
            tuple(sorted(seats.items())),
            tuple(Speaker(f"{seat}:{role.value}", seat, role) for seat in sorted(speakers) for role in speakers[seat]),
            admitted=frozenset(seat for seat, role in seats.items() if role is J),
        )

    @classmethod
    def for_seating(cls, seating: Seating) -> Floor:
        """A hearing's first floor, from the seats its docket gives it."""
        return cls.for_seats(seating.roles, seating.speakers)

    @property
    def seat_roles(self) -> dict[str, ParticipantRole]:
        return dict(self.seats)

    def speaker(self, name: str) -> Speaker:
        found = next((s for s in self.speakers if s.name == name), None)
        if found is None and (self.seat_roles.get(name) is J or name.endswith(f":{J.value}")):
            raise FloorError("judge_not_affected", "The judge always has the floor and never queues for it.")
        if found is None:
            raise InvalidInput(f"{name[:60]!r} is not someone who can speak in this hearing.", field="speaker")
        return found

    @property
    def lobby(self) -> frozenset[str]:
        return frozenset(self.seat_roles) - self.admitted

    def queued(self, speaker: str) -> bool:
        return any(r.speaker == speaker for r in self.queue)

    def _changed(self, **changes: object) -> Floor:
        return dataclasses.replace(self, version=self.version + 1, **changes)  # type: ignore[arg-type]

    def _seat(self, seat: str, field: str = "seat") -> ParticipantRole:
        role = self.seat_roles.get(seat)
        if role is None:
            raise InvalidInput(f"{seat[:60]!r} is not connected to this hearing.", field=field)
        return role

    def _not_judge(self, seat: str, what: str) -> None:
        if self._seat(seat) is J:
            raise FloorError("judge_not_affected", f"The bench cannot be {what}: the judge is always heard and seen.")

    def _admitted(self, speaker: Speaker) -> None:
        if speaker.seat not in self.admitted:
            raise FloorError("not_admitted", "That participant is still waiting in the lobby.")

    # --- seats added and removed while the floor exists ------------------------------

    def with_seat(self, seat: str, role: ParticipantRole, speakers: Sequence[ParticipantRole]) -> Floor:
        """A party the docket gained after the floor began (a remote party
        the clerk invites late): their seat waits in the lobby."""
        if seat in self.seat_roles:
            raise FloorError("seat_exists", "That seat is already in the hearing.")
        added = tuple(Speaker(f"{seat}:{r.value}", seat, r) for r in speakers)
        return self._changed(seats=tuple(sorted((*self.seats, (seat, role)))), speakers=(*self.speakers, *added))

    def without_seat(self, seat: str) -> Floor:
        """A party the docket lost (a remote party removed): their seat and
        everything of it go."""
        self._not_judge(seat, "removed")
        mine = {s.name for s in self.speakers if s.seat == seat}
        return self._changed(
            seats=tuple((s, r) for s, r in self.seats if s != seat),
            speakers=tuple(s for s in self.speakers if s.seat != seat),
            holder=None if self.holder in mine else self.holder,
            kept_live=self.kept_live - mine,
            queue=tuple(r for r in self.queue if r.speaker not in mine),
            muted=self.muted - {seat},
            hidden=frozenset(h for h in self.hidden if seat not in (h.source, h.receiver)),
            admitted=self.admitted - {seat},
            consultation=self.consultation - {seat},
            needs_interpretation=self.needs_interpretation - {seat},
        )

    # --- the lobby -------------------------------------------------------------------

    def admit(self, seat: str) -> Floor:
        self._seat(seat)
        if seat in self.admitted:
            raise FloorError("already_admitted", "Already admitted to the hearing.")
        return self._changed(admitted=self.admitted | {seat})

    def turn_away(self, seat: str, connected: frozenset[str]) -> Floor:
        """Turn away a connection waiting in the lobby. Only a seat that is
        there can be turned away (the caller closes its connection); the
        floor itself is unchanged, and the seat may connect again."""
        self._seat(seat)
        if seat not in self.lobby or seat not in connected:
            raise FloorError("not_waiting", "That participant is not waiting in the lobby.")
        return self

    def back_to_lobby(self, seat: str) -> Floor:
        """A seat whose link was gone too long (plan B) waits to be admitted
        again. Its people's requests and floor go; the judge's protective
        decisions (mutes, selective mutes, screening) stay with the seat."""
        self._not_judge(seat, "sent to the lobby")
        if seat not in self.admitted:
            raise FloorError("not_admitted", "That participant is still waiting in the lobby.")
        mine = {s.name for s in self.speakers if s.seat == seat}
        return self._changed(
            admitted=self.admitted - {seat},
            holder=None if self.holder in mine else self.holder,
            kept_live=self.kept_live - mine,
            queue=tuple(r for r in self.queue if r.speaker not in mine),
        )

    # --- private consultation (driven by the hearing's lifecycle) ----------------------

    def begin_consultation(self, members: frozenset[str]) -> Floor:
        for seat in members:
            self._not_judge(seat, "in a private consultation")
        return self._changed(consultation=members)

    def end_consultation(self) -> Floor:
        return self._changed(consultation=frozenset())

    # --- requests to speak --------------------------------------------------------

    def request(self, name: str) -> Floor:
        speaker = self.speaker(name)
        self._admitted(speaker)
        if name == self.holder:
            raise FloorError("already_has_floor", "You already have the floor.")
        if self.queued(name):
            raise FloorError("already_requested", "The request to speak is already in the queue.")
        priority = speaker.role is ParticipantRole.INTERPRETER
        request = Request(name, priority)
        if priority:
            cut = sum(1 for r in self.queue if r.priority)
            return self._changed(queue=(*self.queue[:cut], request, *self.queue[cut:]))
        return self._changed(queue=(*self.queue, request))

    def withdraw(self, name: str) -> Floor:
        return self.remove(name)

    def remove(self, name: str) -> Floor:
        if not self.queued(name):
            raise FloorError("not_requested", "There is no such request to speak.")
        return self._changed(queue=tuple(r for r in self.queue if r.speaker != name))

    def skip(self) -> Floor:
        """The first request waits behind the others."""
        if len(self.queue) < 2:
            raise FloorError("nothing_to_skip", "There is no one behind the first request.")
        return self._changed(queue=(*self.queue[1:], self.queue[0]))

    def reorder(self, name: str, position: int) -> Floor:
        if not self.queued(name):
            raise FloorError("not_requested", "There is no such request to speak.")
        if not 0 <= position < len(self.queue):
            raise InvalidInput("That position is not in the queue.", field="position")
        request = next(r for r in self.queue if r.speaker == name)
        rest = [r for r in self.queue if r.speaker != name]
        rest.insert(position, request)
        return self._changed(queue=tuple(rest))

    def clear(self) -> Floor:
        if not self.queue:
            raise FloorError("queue_empty", "The queue is already empty.")
        return self._changed(queue=())

    # --- the floor ----------------------------------------------------------------

    def grant(self, name: str | None = None, *, keep_previous: bool = False) -> Floor:
        """Give the floor to `name`, or to the first in the queue."""
        if name is None:
            if not self.queue:
                raise FloorError("queue_empty", "No one has asked to speak.")
            name = self.queue[0].speaker
        self._admitted(self.speaker(name))
        if name == self.holder:
            raise FloorError("already_has_floor", "That participant already has the floor.")
        kept = set(self.kept_live) - {name}
        if keep_previous and self.holder is not None:
            kept.add(self.holder)
        return self._changed(
            holder=name,
            kept_live=frozenset(kept),
            queue=tuple(r for r in self.queue if r.speaker != name),
        )

    def take_back(self) -> Floor:
        if self.holder is None and not self.kept_live:
            raise FloorError("no_floor", "No one but the judge has the floor.")
        return self._changed(holder=None, kept_live=frozenset())

    def set_mode(self, mode: FloorMode) -> Floor:
        if mode is self.mode:
            raise FloorError("mode_unchanged", f"The hearing is already in {mode.value} mode.")
        return self._changed(mode=mode)

    # --- mutes, selective mutes, screening -------------------------------------------

    def mute(self, seat: str) -> Floor:
        self._not_judge(seat, "muted")
        if seat in self.muted:
            raise FloorError("already_muted", "Already muted.")
        return self._changed(muted=self.muted | {seat})

    def unmute(self, seat: str) -> Floor:
        self._seat(seat)
        if seat not in self.muted:
            raise FloorError("not_muted", "Not muted.")
        return self._changed(muted=self.muted - {seat})

    def mute_all_but_judge(self) -> Floor:
        everyone = {seat for seat, role in self.seats if role is not J}
        if everyone <= self.muted:
            raise FloorError("already_muted", "Everyone but the judge is already muted.")
        return self._changed(muted=frozenset(everyone))

    def hide(self, source: str, receiver: str, medium: Medium) -> Floor:
        """Selective mute (audio) or screening (video) of `source` from `receiver`."""
        self._not_judge(source, "hidden")
        self._seat(receiver, "receiver")
        if source == receiver:
            raise InvalidInput("A participant cannot be hidden from themselves.", field="receiver")
        item = Hidden(source, receiver, medium)
        if item in self.hidden:
            raise FloorError("already_hidden", "Already hidden.")
        return self._changed(hidden=self.hidden | {item})

    def unhide(self, source: str, receiver: str, medium: Medium) -> Floor:
        item = Hidden(source, receiver, medium)
        if item not in self.hidden:
            raise FloorError("not_hidden", "Not hidden.")
        return self._changed(hidden=self.hidden - {item})

    # --- interpretation ----------------------------------------------------------------

    def interpret(self, mode: Interpretation, needs: frozenset[str] | None = None) -> Floor:
        """The judge's choice of interpretation. Simultaneous interpretation
        goes to those who need it: by default the detainee's seat; the judge
        may add counsel's own seat (the booth, remote counsel) or others."""
        if mode is not Interpretation.SIMULTANEOUS:
            if needs is not None:
                raise FloorError(
                    "needs_without_simultaneous",
                    "Only simultaneous interpretation goes to chosen participants; the others are heard by all.",
                )
            needs = frozenset()
        else:
            if not any(role is ParticipantRole.INTERPRETER for _, role in self.seats):
                raise FloorError(
                    "no_interpreter_seat",
                    "Simultaneous interpretation needs an interpreter connected on a seat of their own.",
                )
            if needs is None:
                needs = frozenset(seat for seat, role in self.seats if role is ParticipantRole.DETAINEE)
            for seat in sorted(needs):
                role = self._seat(seat, "needs")
                if role is J:
                    raise FloorError("judge_not_affected", "The court hears the original; it needs no interpretation.")
                if role is ParticipantRole.INTERPRETER:
                    raise FloorError("interpreter_in_needs", "The interpreter does not need interpretation.")
            if not needs:
                raise FloorError("needs_nobody", "Name who needs the interpretation.")
        if mode is self.interpretation and needs == self.needs_interpretation:
            raise FloorError("interpretation_unchanged", "The interpretation is already set so.")
        return self._changed(interpretation=mode, needs_interpretation=needs)

    # --- the courtroom's cameras (issue 13) -----------------------------------------

    def pin_camera(self, camera: str | None, layout: str | None) -> Floor:
        pin = CameraPin(camera, layout)
        if pin == self.camera:
            raise FloorError("camera_unchanged", "The courtroom program is already pinned so.")
        return self._changed(camera=pin)

    def release_camera(self) -> Floor:
        if self.camera is None:
            raise FloorError("camera_not_pinned", "Nothing is pinned: the cameras already switch by themselves.")
        return self._changed(camera=None)

    @property
    def direction(self) -> Direction:
        """Where the interpreter's voice goes now: it follows the floor."""
        return direction_of(self.interpretation, self.needs_interpretation, floor=self.holder_seat, muted=self.muted)

    # --- what the media follows ------------------------------------------------------------

    @property
    def holder_seat(self) -> str | None:
        """The seat of whoever has the floor: the one the media makes live."""
        return None if self.holder is None else self.speaker(self.holder).seat

    @property
    def kept_live_seats(self) -> frozenset[str]:
        return frozenset(self.speaker(name).seat for name in self.kept_live)

    # --- storage and display --------------------------------------------------------------

    def to_json(self) -> dict[str, Any]:
        """Everything, for storage and for the judge's panel."""
        return {
            "version": self.version,
            "seats": {seat: role.value for seat, role in self.seats},
            "speakers": [{"name": s.name, "seat": s.seat, "role": s.role.value} for s in self.speakers],
            "mode": self.mode.value,
            "holder": self.holder,
            "kept_live": sorted(self.kept_live),
            "queue": [{"speaker": r.speaker, "priority": r.priority} for r in self.queue],
            "muted": sorted(self.muted),
            "hidden": sorted(
                ({"source": h.source, "receiver": h.receiver, "medium": h.medium.value} for h in self.hidden),
                key=lambda h: (h["source"], h["receiver"], h["medium"]),
            ),
            "admitted": sorted(self.admitted),
            "consultation": sorted(self.consultation),
            "interpretation": self.interpretation.value,
            "needs_interpretation": sorted(self.needs_interpretation),
            "direction": self.direction.value,  # derived: shown, never read back
            "camera": self._camera_json(),
        }

    @classmethod
    def from_json(cls, data: Mapping[str, Any]) -> Floor:
        return cls(
            seats=tuple((seat, ParticipantRole(role)) for seat, role in data["seats"].items()),
            speakers=tuple(Speaker(s["name"], s["seat"], ParticipantRole(s["role"])) for s in data["speakers"]),
            version=int(data["version"]),
            mode=FloorMode(data["mode"]),
            holder=data["holder"],
            kept_live=frozenset(data["kept_live"]),
            queue=tuple(Request(r["speaker"], bool(r["priority"])) for r in data["queue"]),
            muted=frozenset(data["muted"]),
            hidden=frozenset(Hidden(h["source"], h["receiver"], Medium(h["medium"])) for h in data["hidden"]),
            admitted=frozenset(data["admitted"]),
            consultation=frozenset(data.get("consultation", ())),
            # Floors stored before issue 12 have neither.
            interpretation=Interpretation(data.get("interpretation", Interpretation.NONE.value)),
            needs_interpretation=frozenset(data.get("needs_interpretation", ())),
            # Floors stored before issue 13 have no pin.
            camera=CameraPin(**camera) if (camera := data.get("camera")) else None,
        )

    def dumps(self) -> str:
        return json.dumps(self.to_json(), sort_keys=True, separators=(",", ":"))

    def public_view(self, seat: str) -> dict[str, Any]:
        """What a seat's own endpoint is told: whether it is in, where its
        speakers stand, and whom its own sound or picture is hidden from (so
        that its screen can say so). Not who else is hidden from whom."""
        mine = [s.name for s in self.speakers if s.seat == seat]
        hidden_from = sorted(
            ({"receiver": h.receiver, "medium": h.medium.value} for h in self.hidden if h.source == seat),
            key=lambda h: (h["receiver"], h["medium"]),
        )
        return {
            "type": "floor",
            "version": self.version,
            "mode": self.mode.value,
            "admitted": seat in self.admitted,
            "muted": seat in self.muted,
            "holder": self.holder if self.holder in mine else None,
            "queued": [r.speaker for r in self.queue if r.speaker in mine],
            "consultation": seat in self.consultation,
            "hidden_from": hidden_from,
            # Every seat knows how the interpreter is heard now, and whether
            # this seat is one of those who need it.
            "interpretation": self.interpretation.value,
            "direction": self.direction.value,
            "needs_interpretation": seat in self.needs_interpretation,
            # The court's own seats (the bench, the courtroom's rig) follow the
            # judge's camera pin; nobody else needs it.
            **({"camera": self._camera_json()} if self.seat_roles.get(seat) is J else {}),
        }

    def _camera_json(self) -> dict[str, str | None] | None:
        return None if self.camera is None else self.camera.to_json()
