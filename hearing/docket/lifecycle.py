"""The hearing lifecycle as a pure state machine.

scheduled -> open (lobby) -> in_session <-> paused
in_session -> consultation -> in_session
open | in_session | paused -> adjourned | closed
any live state -> converted_to_physical (the judge can always choose a
physical hearing instead)
"""

from __future__ import annotations

import enum

from hearing.errors import InvalidTransition


class HearingState(enum.StrEnum):
    SCHEDULED = "scheduled"
    OPEN = "open"
    IN_SESSION = "in_session"
    PAUSED = "paused"
    CONSULTATION = "consultation"
    ADJOURNED = "adjourned"
    CLOSED = "closed"
    CONVERTED_TO_PHYSICAL = "converted_to_physical"


class Transition(enum.StrEnum):
    OPEN = "open"
    START = "start"
    PAUSE = "pause"
    RESUME = "resume"
    BEGIN_CONSULTATION = "begin_consultation"
    END_CONSULTATION = "end_consultation"
    ADJOURN = "adjourn"
    CLOSE = "close"
    CONVERT_TO_PHYSICAL = "convert_to_physical"


S = HearingState
T = Transition

_LIVE = frozenset({S.SCHEDULED, S.OPEN, S.IN_SESSION, S.PAUSED, S.CONSULTATION})

TRANSITIONS: dict[Transition, tuple[frozenset[HearingState], HearingState]] = {
    T.OPEN: (frozenset({S.SCHEDULED}), S.OPEN),
    T.START: (frozenset({S.OPEN}), S.IN_SESSION),
    T.PAUSE: (frozenset({S.IN_SESSION}), S.PAUSED),
    T.RESUME: (frozenset({S.PAUSED}), S.IN_SESSION),
    T.BEGIN_CONSULTATION: (frozenset({S.IN_SESSION}), S.CONSULTATION),
    T.END_CONSULTATION: (frozenset({S.CONSULTATION}), S.IN_SESSION),
    T.ADJOURN: (frozenset({S.OPEN, S.IN_SESSION, S.PAUSED}), S.ADJOURNED),
    T.CLOSE: (frozenset({S.OPEN, S.IN_SESSION, S.PAUSED}), S.CLOSED),
    T.CONVERT_TO_PHYSICAL: (_LIVE, S.CONVERTED_TO_PHYSICAL),
}

FINAL_STATES = frozenset({S.ADJOURNED, S.CLOSED, S.CONVERTED_TO_PHYSICAL})
# The states in which the parties may be connected by video.
LIVE_STATES = frozenset({S.OPEN, S.IN_SESSION, S.PAUSED, S.CONSULTATION})


def next_state(current: HearingState, transition: Transition) -> HearingState:
    sources, target = TRANSITIONS[transition]
    if current not in sources:
        raise InvalidTransition(
            f"A hearing that is {current.value.replace('_', ' ')} cannot {transition.value.replace('_', ' ')}."
        )
    return target


def available(current: HearingState) -> list[Transition]:
    """The transitions the judge may choose from now, in display order."""
    return [t for t in Transition if current in TRANSITIONS[t][0]]
