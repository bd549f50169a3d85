"""A sealed recording as one playable file: its segments decrypted (every
chunk's tag checked before its bytes are used) and remuxed, without
re-encoding, into one MP4 (issue 14 § 6).

Each segment is a self-contained fragmented MP4; their packets are placed on
the recording's clock (each segment's own start, from the manifest), so a
pause is a gap in time, as it was in the hearing. The plaintext stays in
memory, one segment at a time; only the exported file is written.
"""

from __future__ import annotations

import io
from collections.abc import Sequence
from fractions import Fraction
from pathlib import Path
from typing import Any

import av

from hearing.recording import crypto, manifest


def export(
    folder: Path, sealed: manifest.Manifest, key: bytes, out: Path, *, segments: Sequence[int] | None = None
) -> None:
    """Write `out` (MP4) from the recording's segments in `folder`."""
    chosen = [s for s in sealed.segments if segments is None or s.number in segments]
    if not chosen:
        raise ValueError("the recording has no segments to export")
    tmp = out.with_name(out.name + ".partial")
    with av.open(str(tmp), "w", format="mp4") as output:
        streams: dict[str, Any] = {}
        last_dts: dict[str, int] = {}
        for entry in chosen:
            plaintext = crypto.decrypt_segment(
                folder / crypto.segment_name(entry.number),
                key,
                hearing_id=sealed.hearing_id,
                recording_id=sealed.recording_id,
                segment=entry.number,
            )
            # Each segment is a self-contained fragmented MP4 (hearing/recording/recorder.py).
            with av.open(io.BytesIO(plaintext), "r") as segment:
                _remux(segment, output, streams, last_dts, Fraction(entry.start_seconds).limit_denominator(1000))
    tmp.replace(out)


def _remux(segment: Any, output: Any, streams: dict[str, Any], last_dts: dict[str, int], start: Fraction) -> None:
    inputs = [s for s in segment.streams if s.type in ("video", "audio")]
    for stream in inputs:
        if stream.type not in streams:
            streams[stream.type] = output.add_stream_from_template(stream)
    first: dict[str, int] = {}
    for packet in segment.demux(inputs):
        if packet.dts is None or packet.size == 0:
            continue  # the demuxer's flush packets
        kind = packet.stream.type
        target = streams[kind]
        base = first.setdefault(kind, packet.dts)
        # The segment's own time from its first packet, then the recording's clock.
        offset = round(start / packet.time_base) - base
        packet.dts += offset
        packet.pts = packet.pts + offset if packet.pts is not None else packet.dts
        # A muxer wants each stream's time to move forward, even across a segment's first frames.
        if kind in last_dts and packet.dts <= last_dts[kind]:
            shift = last_dts[kind] + 1 - packet.dts
            packet.dts += shift
            packet.pts += shift
        last_dts[kind] = packet.dts
        packet.stream = target
        output.mux(packet)
