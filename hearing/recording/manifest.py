"""What sealing a recording hashes: its segments, their hashes and times,
and its pauses. The digest goes into the audit log (`recording.sealed`), so
the signed checkpoints cover every byte of every segment.

One manifest has one byte string: `to_bytes` is canonical JSON (sorted
keys, no spaces, times rounded to the millisecond when the manifest is
made), and `from_bytes` accepts only bytes that `to_bytes` gives back
unchanged, so two parties that hash a manifest can never disagree.

Pure: no framework; `verify` reads the segment files it is pointed at.
"""

from __future__ import annotations

import hashlib
import json
import math
import re
from collections.abc import Callable
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from hearing import strict_json
from hearing.errors import HearingError
from hearing.recording.crypto import SealedSegment, SegmentCorrupt, read_segment

KIND = "hearing.recording.manifest"
VERSION = 1
PAUSE_REASONS = ("judge", "consultation")
# Ten-second segments of a twelve-hour hearing are some 650 kB of manifest.
MAX_MANIFEST_BYTES = 16 * 1024 * 1024
_HEX_SHA256 = re.compile(r"[0-9a-f]{64}")
# How far past the manifest's last segment `verify` looks to put a number
# on a file the manifest does not list.
_EXTRA_NUMBERS = 10_000


class ManifestInvalid(HearingError):
    # A manifest is made by the server and read back from its own storage:
    # one that does not hold together is the server's fault, never a client's.
    code = "manifest_invalid"
    status = 500
    default_message = "The recording's manifest is not valid."


def _whole(value: object, what: str, *, least: int = 0) -> int:
    if isinstance(value, bool) or not isinstance(value, int) or value < least:
        raise ManifestInvalid(f"{what} must be a whole number, at least {least}")
    return value


def _seconds(value: object, what: str) -> float:
    if isinstance(value, bool) or not isinstance(value, int | float) or not math.isfinite(value) or value < 0:
        raise ManifestInvalid(f"{what} must be a finite number of seconds, not negative")
    # Rounded once, here: the manifest holds what its bytes say.
    return round(float(value), 3)


@dataclass(frozen=True)
class SegmentEntry:
    number: int
    start_seconds: float
    duration_seconds: float
    size: int
    sha256: str  # hex, of the encrypted file as stored

    def __post_init__(self) -> None:
        _whole(self.number, "a segment's number")
        object.__setattr__(self, "start_seconds", _seconds(self.start_seconds, f"segment {self.number}'s start"))
        object.__setattr__(
            self, "duration_seconds", _seconds(self.duration_seconds, f"segment {self.number}'s duration")
        )
        _whole(self.size, f"segment {self.number}'s size", least=1)
        if not isinstance(self.sha256, str) or not _HEX_SHA256.fullmatch(self.sha256):
            raise ManifestInvalid(f"segment {self.number}'s sha256 must be 64 lower-case hex digits")

    @classmethod
    def of(cls, sealed: SealedSegment, *, start_seconds: float, duration_seconds: float) -> SegmentEntry:
        return cls(sealed.number, start_seconds, duration_seconds, sealed.size, sealed.sha256.hex())

    def as_json(self) -> dict[str, Any]:
        return {
            "number": self.number,
            "start_seconds": self.start_seconds,
            "duration_seconds": self.duration_seconds,
            "size": self.size,
            "sha256": self.sha256,
        }


@dataclass(frozen=True)
class Pause:
    start: float
    end: float | None  # None: still paused when the recording stopped or broke off
    why: str  # "judge" | "consultation"

    def __post_init__(self) -> None:
        object.__setattr__(self, "start", _seconds(self.start, "a pause's start"))
        if self.end is not None:
            object.__setattr__(self, "end", _seconds(self.end, "a pause's end"))
            if self.end < self.start:
                raise ManifestInvalid(f"a pause ends ({self.end}) before it starts ({self.start})")
        if self.why not in PAUSE_REASONS:
            raise ManifestInvalid(f"a pause is for one of {', '.join(PAUSE_REASONS)}")

    def as_json(self) -> dict[str, Any]:
        return {"start": self.start, "end": self.end, "why": self.why}


@dataclass(frozen=True)
class Manifest:
    hearing_id: int
    recording_id: int
    segments: tuple[SegmentEntry, ...]
    pauses: tuple[Pause, ...]
    interrupted: bool  # sealed on restart after a crash, with what survived

    def __post_init__(self) -> None:
        _whole(self.hearing_id, "the hearing id")
        _whole(self.recording_id, "the recording id")
        if not isinstance(self.interrupted, bool):
            raise ManifestInvalid("interrupted is true or false")
        object.__setattr__(self, "segments", tuple(self.segments))
        object.__setattr__(self, "pauses", tuple(self.pauses))
        for index, entry in enumerate(self.segments):
            if not isinstance(entry, SegmentEntry):
                raise ManifestInvalid("segments are SegmentEntry")
            if entry.number != index:
                raise ManifestInvalid(f"segments are numbered 0 .. n-1 in order: segment {entry.number} at {index}")
            if index and entry.start_seconds <= self.segments[index - 1].start_seconds:
                raise ManifestInvalid(f"segment {index} does not start after segment {index - 1}")
        for index, pause in enumerate(self.pauses):
            if not isinstance(pause, Pause):
                raise ManifestInvalid("pauses are Pause")
            if index:
                before = self.pauses[index - 1]
                if before.end is None or pause.start < before.end:
                    raise ManifestInvalid(f"pause {index} starts before pause {index - 1} has ended")

    @property
    def seconds(self) -> float:
        return round(sum(entry.duration_seconds for entry in self.segments), 3)

    def to_bytes(self) -> bytes:
        document = {
            "kind": KIND,
            "version": VERSION,
            "hearing_id": self.hearing_id,
            "recording_id": self.recording_id,
            "interrupted": self.interrupted,
            "segments": [entry.as_json() for entry in self.segments],
            "pauses": [pause.as_json() for pause in self.pauses],
        }
        return json.dumps(document, sort_keys=True, separators=(",", ":"), ensure_ascii=True, allow_nan=False).encode()

    def digest(self) -> bytes:
        return hashlib.sha256(self.to_bytes()).digest()

    @classmethod
    def from_bytes(cls, raw: bytes) -> Manifest:
        try:
            document = strict_json.loads(raw, max_bytes=MAX_MANIFEST_BYTES)
        except strict_json.UnreadableJSON as exc:
            raise ManifestInvalid(f"the manifest is not JSON: {exc.message}") from exc
        try:
            if not isinstance(document, dict) or document.get("kind") != KIND or document.get("version") != VERSION:
                raise ManifestInvalid(f"not a version {VERSION} recording manifest")
            manifest = cls(
                document["hearing_id"],
                document["recording_id"],
                tuple(SegmentEntry(**entry) for entry in document["segments"]),
                tuple(Pause(**pause) for pause in document["pauses"]),
                document["interrupted"],
            )
        except (KeyError, TypeError) as exc:
            raise ManifestInvalid(f"the manifest is missing a field or has one too many: {exc}") from exc
        # Extra members, another order, spacing, 10 for 10.0: the same
        # manifest in other bytes would hash otherwise, so it is refused.
        if manifest.to_bytes() != raw:
            raise ManifestInvalid("the manifest's bytes are not in canonical form")
        return manifest


@dataclass(frozen=True)
class Verdict:
    ok: bool
    first_bad: int | None  # the segment, when the fault has a number
    problem: str | None

    def __post_init__(self) -> None:
        if self.ok != (self.problem is None) or (self.ok and self.first_bad is not None):
            raise ValueError("a verdict is ok with no problem, or not ok with one")


def verify(manifest: Manifest, folder: Path, key: bytes, *, name: Callable[[int], str]) -> Verdict:
    """Every listed segment is there, is the file the manifest hashed and
    decrypts chunk by chunk; nothing else is in the folder."""
    listed = {name(entry.number) for entry in manifest.segments}
    for entry in manifest.segments:
        path = folder / name(entry.number)
        if not path.is_file():
            return Verdict(False, entry.number, f"segment {entry.number}: the file {path.name} is missing")
        size = path.stat().st_size
        if size != entry.size:
            return Verdict(False, entry.number, f"segment {entry.number}: {size} bytes, the manifest says {entry.size}")
        if _sha256_of(path) != entry.sha256:
            return Verdict(False, entry.number, f"segment {entry.number}: its SHA-256 does not match the manifest")
        try:
            for _ in read_segment(
                path,
                key,
                hearing_id=manifest.hearing_id,
                recording_id=manifest.recording_id,
                segment=entry.number,
            ):
                pass
        except SegmentCorrupt as exc:
            return Verdict(False, entry.number, exc.message)
    extras = sorted(child.name for child in folder.iterdir() if child.name not in listed)
    if extras:
        # A copy of a segment under the next number, or any other stray file:
        # a sealed recording's folder holds its segments and nothing else.
        start = len(manifest.segments)
        numbers = {name(number): number for number in range(start, start + _EXTRA_NUMBERS)}
        numbered = sorted((numbers[extra], extra) for extra in extras if extra in numbers)
        if numbered:
            number, extra = numbered[0]
            return Verdict(False, number, f"segment {number}: {extra} is not in the manifest")
        return Verdict(False, None, f"{extras[0]} is in the folder but not in the manifest")
    return Verdict(True, None, None)


def _sha256_of(path: Path) -> str:
    digest = hashlib.sha256()
    with path.open("rb") as handle:
        while block := handle.read(1024 * 1024):
            digest.update(block)
    return digest.hexdigest()
