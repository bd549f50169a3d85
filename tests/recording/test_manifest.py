from __future__ import annotations

import dataclasses
import hashlib
import os
import shutil
from pathlib import Path

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from hearing.recording.crypto import CHUNK_BYTES, SegmentWriter, new_data_key, segment_name
from hearing.recording.manifest import Manifest, ManifestInvalid, Pause, SegmentEntry, Verdict, verify

KEY = bytes(range(32))
SHA = "ab" * 32


def entry(number: int, start: float = -1.0, **changes: object) -> SegmentEntry:
    fields: dict[str, object] = {
        "number": number,
        "start_seconds": number * 10.0 if start < 0 else start,
        "duration_seconds": 10.0,
        "size": 1234,
        "sha256": SHA,
    }
    return SegmentEntry(**{**fields, **changes})  # type: ignore[arg-type]


def manifest(**changes: object) -> Manifest:
    fields: dict[str, object] = {
        "hearing_id": 3,
        "recording_id": 5,
        "segments": (entry(0), entry(1), entry(2)),
        "pauses": (Pause(12.5, 20.25, "judge"), Pause(30.0, None, "consultation")),
        "interrupted": False,
    }
    return Manifest(**{**fields, **changes})  # type: ignore[arg-type]


def test_canonical_bytes_are_stable() -> None:
    one = manifest(segments=(entry(0, duration_seconds=9.9996), entry(1, start=10.0004)))
    assert one.to_bytes() == (
        b'{"hearing_id":3,"interrupted":false,"kind":"hearing.recording.manifest",'
        b'"pauses":[{"end":20.25,"start":12.5,"why":"judge"},{"end":null,"start":30.0,"why":"consultation"}],'
        b'"recording_id":5,"segments":['
        b'{"duration_seconds":10.0,"number":0,"sha256":"' + SHA.encode() + b'","size":1234,"start_seconds":0.0},'
        b'{"duration_seconds":10.0,"number":1,"sha256":"' + SHA.encode() + b'","size":1234,"start_seconds":10.0}'
        b'],"version":1}'
    )
    assert one.digest() == hashlib.sha256(one.to_bytes()).digest()
    # Rounded when made: the manifest is what its bytes say.
    assert one.segments[0].duration_seconds == 10.0
    assert Manifest.from_bytes(one.to_bytes()) == one
    assert one.seconds == 20.0


@pytest.mark.parametrize(
    "changed",
    [
        {"hearing_id": 4},
        {"recording_id": 6},
        {"interrupted": True},
        {"pauses": ()},
        {"pauses": (Pause(12.5, 20.25, "consultation"), Pause(30.0, None, "consultation"))},
        {"pauses": (Pause(12.5, 20.251, "judge"), Pause(30.0, None, "consultation"))},
        {"pauses": (Pause(12.5, 20.25, "judge"), Pause(30.0, 31.0, "consultation"))},
        {"segments": (entry(0), entry(1))},
        {"segments": (entry(0), entry(1), entry(2, size=1235))},
        {"segments": (entry(0), entry(1), entry(2, sha256="ac" * 32))},
        {"segments": (entry(0), entry(1), entry(2, duration_seconds=9.999))},
        {"segments": (entry(0), entry(1, start=10.001), entry(2))},
    ],
)
def test_digest_changes_with_any_field(changed: dict[str, object]) -> None:
    assert manifest(**changed).digest() != manifest().digest()


@pytest.mark.parametrize(
    ("make", "message"),
    [
        (lambda: manifest(segments=(entry(0), entry(2))), "numbered 0 .. n-1"),
        (lambda: manifest(segments=(entry(1),)), "numbered 0 .. n-1"),
        (lambda: manifest(segments=(entry(0), entry(1, start=0.0))), "does not start after"),
        (lambda: entry(0, size=0), "size"),
        (lambda: entry(0, sha256="AB" * 32), "sha256"),
        (lambda: entry(0, sha256="ab" * 31), "sha256"),
        (lambda: entry(0, duration_seconds=float("nan")), "finite"),
        (lambda: entry(0, start=float("inf")), "finite"),
        (lambda: entry(-1, start=0.0), "whole number"),
        (lambda: entry(True), "whole number"),  # noqa: FBT003
        (lambda: Pause(5.0, 4.0, "judge"), "before it starts"),
        (lambda: Pause(5.0, None, "lunch"), "judge, consultation"),
        (lambda: manifest(pauses=(Pause(1.0, None, "judge"), Pause(2.0, 3.0, "judge"))), "has ended"),
        (lambda: manifest(pauses=(Pause(1.0, 5.0, "judge"), Pause(4.0, 6.0, "judge"))), "has ended"),
        (lambda: manifest(interrupted=1), "true or false"),
        (lambda: manifest(hearing_id=-1), "hearing id"),
    ],
)
def test_validation(make: object, message: str) -> None:
    with pytest.raises(ManifestInvalid, match=message) as caught:
        make()  # type: ignore[operator]
    assert caught.value.code == "manifest_invalid"


@pytest.mark.parametrize(
    "raw",
    [
        b"",
        b"[]",
        b'{"kind":"something else","version":1}',
        manifest().to_bytes().replace(b'"version":1', b'"version":2'),
        manifest().to_bytes().replace(b'"start_seconds":0.0}', b'"start_seconds":0}'),  # 0 for 0.0: another byte string
        manifest().to_bytes().replace(b'"hearing_id":3,', b'"hearing_id":3,"extra":1,'),
        manifest().to_bytes().replace(b'"hearing_id":3,', b""),
        manifest().to_bytes().replace(b'"interrupted":false,', b'"interrupted":false, '),
        manifest().to_bytes().replace(b'"size":1234,', b'"size":1234,"colour":"red",', 1),
        manifest().to_bytes().replace(b'"start":12.5', b'"start":12.5,"start":12.5'),
        manifest().to_bytes() + b"\n",
    ],
)
def test_from_bytes_takes_only_canonical_manifests(raw: bytes) -> None:
    assert raw != manifest().to_bytes()
    with pytest.raises(ManifestInvalid):
        Manifest.from_bytes(raw)


times = st.floats(min_value=0, max_value=1e6, allow_nan=False)


@settings(max_examples=50, deadline=None)
@given(
    starts=st.lists(st.floats(min_value=0, max_value=1e5), min_size=0, max_size=8, unique=True),
    durations=st.lists(times, min_size=8, max_size=8),
    sizes=st.lists(st.integers(1, 2**40), min_size=8, max_size=8),
    pause=st.one_of(
        st.none(), st.tuples(times, st.one_of(st.none(), times), st.sampled_from(["judge", "consultation"]))
    ),
    interrupted=st.booleans(),
)
def test_bytes_round_trip(
    starts: list[float],
    durations: list[float],
    sizes: list[int],
    pause: tuple[float, float | None, str] | None,
    interrupted: bool,
) -> None:
    starts = sorted({round(s, 3) for s in starts})
    segments = tuple(
        SegmentEntry(n, s, durations[n], sizes[n], hashlib.sha256(bytes([n])).hexdigest()) for n, s in enumerate(starts)
    )
    pauses: tuple[Pause, ...] = ()
    if pause is not None:
        start, end, why = pause
        pauses = (Pause(min(start, end or start), None if end is None else max(start, end), why),)
    made = Manifest(1, 2, segments, pauses, interrupted)
    raw = made.to_bytes()
    assert Manifest.from_bytes(raw) == made
    assert Manifest.from_bytes(raw).to_bytes() == raw


# --- verify, on real segment files ----------------------------------------------


def recorded(folder: Path, count: int = 4, key: bytes = KEY) -> Manifest:
    entries = []
    for number in range(count):
        writer = SegmentWriter(folder / segment_name(number), key, hearing_id=3, recording_id=5, segment=number)
        writer.write(os.urandom(CHUNK_BYTES + 1000 + number))
        entries.append(SegmentEntry.of(writer.close(), start_seconds=number * 10.0, duration_seconds=10.0))
    return Manifest(3, 5, tuple(entries), (), False)


def check(made: Manifest, folder: Path, key: bytes = KEY) -> Verdict:
    return verify(made, folder, key, name=segment_name)


def test_a_good_set_passes(tmp_path: Path) -> None:
    made = recorded(tmp_path)
    assert check(made, tmp_path) == Verdict(True, None, None)
    empty = tmp_path / "empty"
    empty.mkdir()
    assert check(Manifest(3, 5, (), (), True), empty).ok
    assert not check(Manifest(3, 5, (), (), True), tmp_path).ok


def test_a_flipped_byte_names_the_segment(tmp_path: Path) -> None:
    made = recorded(tmp_path)
    path = tmp_path / segment_name(2)
    raw = bytearray(path.read_bytes())
    raw[len(raw) // 2] ^= 0x04
    path.write_bytes(bytes(raw))
    assert check(made, tmp_path) == Verdict(False, 2, "segment 2: its SHA-256 does not match the manifest")


def test_a_dropped_segment_is_named(tmp_path: Path) -> None:
    made = recorded(tmp_path)
    (tmp_path / segment_name(1)).unlink()
    verdict = check(made, tmp_path)
    assert (verdict.ok, verdict.first_bad) == (False, 1)
    assert verdict.problem == "segment 1: the file 000001.seg is missing"


def test_reordered_segments_name_the_first(tmp_path: Path) -> None:
    made = recorded(tmp_path)
    one, three = tmp_path / segment_name(1), tmp_path / segment_name(3)
    one.rename(tmp_path / "swap")
    three.rename(one)
    (tmp_path / "swap").rename(three)
    verdict = check(made, tmp_path)
    assert (verdict.ok, verdict.first_bad) == (False, 1)


def test_duplicated_segment_is_named(tmp_path: Path) -> None:
    made = recorded(tmp_path)
    # A copy of segment 1 in the place of segment 2.
    shutil.copy(tmp_path / segment_name(1), tmp_path / segment_name(2))
    verdict = check(made, tmp_path)
    assert (verdict.ok, verdict.first_bad) == (False, 2)
    # And a copy under the next number, past the end of the manifest.
    other = tmp_path / "other"
    other.mkdir()
    made = recorded(other)
    shutil.copy(other / segment_name(3), other / segment_name(4))
    assert check(made, other) == Verdict(False, 4, "segment 4: 000004.seg is not in the manifest")


def test_a_stray_file_fails(tmp_path: Path) -> None:
    made = recorded(tmp_path, count=2)
    (tmp_path / "000001.seg.partial").write_bytes(b"left by a crash")
    verdict = check(made, tmp_path)
    assert verdict == Verdict(False, None, "000001.seg.partial is in the folder but not in the manifest")


def test_a_truncated_segment_is_named(tmp_path: Path) -> None:
    made = recorded(tmp_path)
    path = tmp_path / segment_name(3)
    path.write_bytes(path.read_bytes()[:-100])
    verdict = check(made, tmp_path)
    assert (verdict.ok, verdict.first_bad) == (False, 3)
    assert verdict.problem is not None and "bytes, the manifest says" in verdict.problem


def test_every_chunk_is_checked_not_only_the_hash(tmp_path: Path) -> None:
    # The file and the manifest agree, but the file is not this recording's
    # under this key: the hash alone would pass it.
    made = recorded(tmp_path, count=2)
    verdict = check(made, tmp_path, key=new_data_key())
    assert verdict == Verdict(False, 0, "segment 0: chunk 0 fails its tag")
    other = dataclasses.replace(made, recording_id=6)
    verdict = check(other, tmp_path)
    assert (verdict.first_bad, verdict.problem is not None and "wrong segment" in verdict.problem) == (0, True)


def test_verdict_holds_together() -> None:
    with pytest.raises(ValueError, match="verdict"):
        Verdict(True, None, "something")
    with pytest.raises(ValueError, match="verdict"):
        Verdict(False, 1, None)
    with pytest.raises(ValueError, match="verdict"):
        Verdict(True, 1, None)
