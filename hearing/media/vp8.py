"""What the forwarder needs to know about VP8 bitstreams, and nothing more
(RFC 6386 for the frame header, RFC 7741 for the RTP payload descriptor)."""

from __future__ import annotations

import dataclasses

KEYFRAME_START_CODE = b"\x9d\x01\x2a"


def is_keyframe(frame: bytes) -> bool:
    # Bit 0 of the frame tag is the *inverse* keyframe flag; keyframes carry
    # a start code at bytes 3-5.
    return len(frame) >= 10 and not frame[0] & 1 and frame[3:6] == KEYFRAME_START_CODE


def keyframe_size(frame: bytes) -> tuple[int, int] | None:
    """Width and height from a keyframe's header (14 bits each)."""
    if not is_keyframe(frame):
        return None
    return (frame[6] | frame[7] << 8) & 0x3FFF, (frame[8] | frame[9] << 8) & 0x3FFF


def starts_partition(payload: bytes) -> bool:
    """The RTP payload descriptor's S bit is set and the partition index is 0."""
    return bool(payload) and bool(payload[0] & 0x10) and (payload[0] & 0x0F) == 0


@dataclasses.dataclass(frozen=True, slots=True)
class EncodedFrame:
    """One complete VP8 frame as received, before any decoder."""

    data: bytes
    timestamp: int  # the sender's RTP timestamp (90 kHz, random origin)
    keyframe: bool
    ssrc: int
    complete: bool  # began at a partition start and ended with the marker bit
    after_gap: bool  # packets before it were given up as lost
