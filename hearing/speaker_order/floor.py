"""The judge's floor: who speaks, who waits, who is muted. Pure and
deterministic: every change returns a new `Floor` with a higher version, or
raises `FloorError` (with a stable code) and changes nothing.

The media routing follows the floor through `media_state()`; nothing here
knows about WebRTC, the web or the database.
"""

from __future__ import annotations

import dataclasses
from collections.abc import Mapping

from hearing.docket.parties import ParticipantRole
from hearing.errors import Conflict, InvalidInput
from hearing.media.policy import FloorMode, Hidden, Interpretation, MediaState, Medium


class FloorError(Conflict):
    code = "floor_conflict"

    def __init__(self, code: str, message: str) -> None:
        super().__init__(message)
        self.code = code


@dataclasses.dataclass(frozen=True)
class Request:
    participant: str
    priority: bool  # an interpreter's request for clarification goes first


@dataclasses.dataclass(frozen=True)
class Floor:
    roles: tuple[tuple[str, ParticipantRole], ...]
    version: int = 0
    mode: FloorMode = FloorMode.CONTROLLED
    holder: str | None = None
    kept_live: frozenset[str] = frozenset()
    queue: tuple[Request, ...] = ()
    muted: frozenset[str] = frozenset()
    hidden: frozenset[Hidden] = frozenset()

    @classmethod
    def for_parties(cls, roles: Mapping[str, ParticipantRole]) -> Floor:
        return cls(tuple(sorted(roles.items())))

    @property
    def role_of(self) -> dict[str, ParticipantRole]:
        return dict(self.roles)

    def _changed(self, **changes: object) -> Floor:
        return dataclasses.replace(self, version=self.version + 1, **changes)  # type: ignore[arg-type]

    def _party(self, participant: str) -> ParticipantRole:
        role = self.role_of.get(participant)
        if role is None:
            raise InvalidInput(f"{participant!r} is not a party to this hearing.", field="participant")
        return role

    def _not_judge(self, participant: str, what: str) -> None:
        if self._party(participant) is ParticipantRole.JUDGE:
            raise FloorError("judge_not_affected", f"The judge cannot be {what}.")

    def queued(self, participant: str) -> bool:
        return any(r.participant == participant for r in self.queue)

    # --- requests to speak --------------------------------------------------------

    def request(self, participant: str) -> Floor:
        self._not_judge(participant, "queued: the judge always has the floor")
        if participant == self.holder:
            raise FloorError("already_has_floor", "You already have the floor.")
        if self.queued(participant):
            raise FloorError("already_requested", "Your request to speak is already in the queue.")
        priority = self.role_of[participant] is ParticipantRole.INTERPRETER
        request = Request(participant, priority)
        if priority:
            cut = sum(1 for r in self.queue if r.priority)
            return self._changed(queue=(*self.queue[:cut], request, *self.queue[cut:]))
        return self._changed(queue=(*self.queue, request))

    def withdraw(self, participant: str) -> Floor:
        return self.remove(participant)

    def remove(self, participant: str) -> Floor:
        if not self.queued(participant):
            raise FloorError("not_requested", "There is no such request to speak.")
        return self._changed(queue=tuple(r for r in self.queue if r.participant != participant))

    def skip(self) -> Floor:
        """The first request waits behind the others."""
        if len(self.queue) < 2:
            raise FloorError("nothing_to_skip", "There is no one behind the first request.")
        return self._changed(queue=(*self.queue[1:], self.queue[0]))

    def reorder(self, participant: str, position: int) -> Floor:
        if not self.queued(participant):
            raise FloorError("not_requested", "There is no such request to speak.")
        if not 0 <= position < len(self.queue):
            raise InvalidInput("That position is not in the queue.", field="position")
        request = next(r for r in self.queue if r.participant == participant)
        rest = [r for r in self.queue if r.participant != participant]
        rest.insert(position, request)
        return self._changed(queue=tuple(rest))

    def clear(self) -> Floor:
        if not self.queue:
            raise FloorError("queue_empty", "The queue is already empty.")
        return self._changed(queue=())

    # --- the floor ----------------------------------------------------------------

    def grant(self, participant: str | None = None, *, keep_previous: bool = False) -> Floor:
        """Give the floor to `participant`, or to the first in the queue."""
        if participant is None:
            if not self.queue:
                raise FloorError("queue_empty", "No one has asked to speak.")
            participant = self.queue[0].participant
        self._not_judge(participant, "given the floor: the judge always has it")
        if participant == self.holder:
            raise FloorError("already_has_floor", "That participant already has the floor.")
        kept = set(self.kept_live) - {participant}
        if keep_previous and self.holder is not None:
            kept.add(self.holder)
        return self._changed(
            holder=participant,
            kept_live=frozenset(kept),
            queue=tuple(r for r in self.queue if r.participant != participant),
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

    def mute(self, participant: str) -> Floor:
        self._not_judge(participant, "muted")
        if participant in self.muted:
            raise FloorError("already_muted", "Already muted.")
        return self._changed(muted=self.muted | {participant})

    def unmute(self, participant: str) -> Floor:
        self._party(participant)
        if participant not in self.muted:
            raise FloorError("not_muted", "Not muted.")
        return self._changed(muted=self.muted - {participant})

    def mute_all_but_judge(self) -> Floor:
        everyone = {p for p, role in self.roles if role is not ParticipantRole.JUDGE}
        if everyone <= self.muted:
            raise FloorError("already_muted", "Everyone but the judge is already muted.")
        return self._changed(muted=frozenset(everyone))

    def hide(self, source: str, receiver: str, medium: Medium) -> Floor:
        """Selective mute (audio) or screening (video) of `source` from `receiver`."""
        self._not_judge(source, "hidden")
        self._party(receiver)
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

    # --- what the media does ------------------------------------------------------------

    def media_state(
        self,
        *,
        consultation: frozenset[str] = frozenset(),
        interpretation: Interpretation = Interpretation.NONE,
        needs_interpretation: frozenset[str] = frozenset(),
        recording: bool = False,
    ) -> MediaState:
        return MediaState(
            self.role_of,
            mode=self.mode,
            floor=self.holder,
            kept_live=self.kept_live,
            muted=self.muted,
            hidden=self.hidden,
            consultation=consultation,
            interpretation=interpretation,
            needs_interpretation=needs_interpretation,
            recording=recording,
        )
