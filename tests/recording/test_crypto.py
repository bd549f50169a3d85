from __future__ import annotations

import io
import os
import signal
import stat
import struct
import subprocess
import sys
from pathlib import Path

import av
import numpy as np
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from hearing.recording.crypto import (
    CHUNK_BYTES,
    HEADER_BYTES,
    KEY_BYTES,
    SegmentCorrupt,
    SegmentWriter,
    decrypt_segment,
    new_data_key,
    read_segment,
    segment_name,
)

REPO = Path(__file__).resolve().parents[2]
KEY = bytes(range(KEY_BYTES))
IDS = {"hearing_id": 7, "recording_id": 11}


def write(folder: Path, data: bytes, *, segment: int = 0, key: bytes = KEY, pieces: int = 1, **ids: int) -> Path:
    ids = {**IDS, **ids}
    writer = SegmentWriter(folder / segment_name(segment), key, segment=segment, **ids)
    step = max(1, len(data) // pieces)
    for start in range(0, len(data), step):
        writer.write(data[start : start + step])
    sealed = writer.close()
    assert sealed.path == folder / segment_name(segment)
    return sealed.path


def read(path: Path, *, segment: int = 0, key: bytes = KEY, **ids: int) -> bytes:
    return decrypt_segment(path, key, segment=segment, **{**IDS, **ids})


def chunks_of(raw: bytes) -> tuple[bytes, list[bytes]]:
    """The header and each chunk (its length field included), as on disk."""
    header, rest, chunks = raw[:HEADER_BYTES], raw[HEADER_BYTES:], []
    while rest:
        (length,) = struct.unpack(">I", rest[:4])
        chunks.append(rest[: 4 + length])
        rest = rest[4 + length :]
    return header, chunks


def corrupt(path: Path, *, segment: int = 0) -> SegmentCorrupt:
    with pytest.raises(SegmentCorrupt) as caught:
        read(path, segment=segment)
    assert caught.value.segment == segment
    assert caught.value.code == "segment_corrupt"
    assert f"segment {segment}" in str(caught.value)
    return caught.value


@pytest.mark.parametrize("size", [0, 1, CHUNK_BYTES - 1, CHUNK_BYTES, CHUNK_BYTES + 1, 3 * CHUNK_BYTES + 17])
def test_round_trip(tmp_path: Path, size: int) -> None:
    data = os.urandom(size)
    path = write(tmp_path, data, pieces=5)
    assert read(path) == data
    _, chunks = chunks_of(path.read_bytes())
    # The last chunk is the final one, never an empty one after a full chunk.
    assert len(chunks) == max(1, -(-size // CHUNK_BYTES))


@settings(max_examples=25, deadline=None)
@given(data=st.binary(max_size=3 * CHUNK_BYTES), cuts=st.lists(st.integers(0, 3 * CHUNK_BYTES), max_size=6))
def test_round_trip_any_writes(tmp_path_factory: pytest.TempPathFactory, data: bytes, cuts: list[int]) -> None:
    folder = tmp_path_factory.mktemp("seg")
    writer = SegmentWriter(folder / segment_name(3), KEY, segment=3, **IDS)
    points = sorted({0, len(data), *(c for c in cuts if c < len(data))})
    for start, end in zip(points, points[1:], strict=False):
        writer.write(data[start:end])
    assert writer.tell() == len(data)
    sealed = writer.close()
    assert read(sealed.path, segment=3) == data
    raw = sealed.path.read_bytes()
    assert sealed.size == len(raw)
    assert sealed.chunks == len(chunks_of(raw)[1])


def test_sealed_segment_describes_the_file(tmp_path: Path) -> None:
    import hashlib

    writer = SegmentWriter(tmp_path / segment_name(4), KEY, segment=4, **IDS)
    writer.write(b"x" * (2 * CHUNK_BYTES + 5))
    sealed = writer.close()
    raw = sealed.path.read_bytes()
    assert (sealed.number, sealed.size, sealed.sha256, sealed.chunks) == (4, len(raw), hashlib.sha256(raw).digest(), 3)
    assert os.listdir(tmp_path) == ["000004.seg"]


def test_no_plaintext_on_disk(tmp_path: Path) -> None:
    marker = b"PLAINTEXT-MARKER-"
    data = (marker * (1024 * 1024 // len(marker) + 1))[: 1024 * 1024]
    writer = SegmentWriter(tmp_path / segment_name(0), KEY, segment=0, **IDS)
    writer.write(data[:1000])
    # Mid-write too: what is on disk so far is ciphertext.
    writer.write(data[1000:])
    writer.flush()
    assert marker not in writer.partial.read_bytes()
    path = writer.close().path
    raw = path.read_bytes()
    assert marker not in raw
    assert marker[:8] not in raw
    assert read(path) == data


def test_two_files_of_the_same_data_differ(tmp_path: Path) -> None:
    # A fresh salt per file: the same segment number written twice under one
    # key (a recorder restarted into it) never reuses a GCM key and nonce.
    (tmp_path / "a").mkdir()
    (tmp_path / "b").mkdir()
    one = write(tmp_path / "a", b"same" * 100).read_bytes()
    two = write(tmp_path / "b", b"same" * 100).read_bytes()
    assert one != two
    assert one[HEADER_BYTES:] != two[HEADER_BYTES:]


def three_chunks(folder: Path, segment: int = 0) -> Path:
    return write(folder, bytes(range(256)) * (CHUNK_BYTES * 3 // 256 - 1), segment=segment)


def test_a_flipped_byte_anywhere_fails(tmp_path: Path) -> None:
    path = three_chunks(tmp_path)
    good = path.read_bytes()
    header, chunks = chunks_of(good)
    assert len(chunks) == 3
    second = HEADER_BYTES + len(chunks[0])
    places = {
        "magic": 0,
        "version": 8,
        "hearing": 9 + 7,
        "recording": 17 + 7,
        "segment": 25 + 3,
        "salt": HEADER_BYTES - 1,
        "length": HEADER_BYTES + 3,
        "ciphertext": HEADER_BYTES + 4 + 100,
        "tag": second - 1,
        "second chunk": second + 50,
        "final tag": len(good) - 1,
    }
    reasons = {}
    for name, offset in places.items():
        bad = bytearray(good)
        bad[offset] ^= 0x01
        path.write_bytes(bytes(bad))
        reasons[name] = corrupt(path).reason
    assert reasons["magic"].startswith("bad header")
    assert reasons["version"].startswith("bad header")
    assert reasons["hearing"].startswith("wrong segment")
    assert reasons["segment"].startswith("wrong segment")
    assert reasons["salt"] == "chunk 0 fails its tag"
    assert reasons["ciphertext"] == "chunk 0 fails its tag"
    assert reasons["tag"] == "chunk 0 fails its tag"
    assert reasons["second chunk"] == "chunk 1 fails its tag"
    assert reasons["final tag"] == "chunk 2 fails its tag"
    path.write_bytes(good)
    assert len(read(path)) == len(bytes(range(256)) * (CHUNK_BYTES * 3 // 256 - 1))


def rebuilt(path: Path, order: list[int], *, extra: bytes = b"") -> None:
    header, chunks = chunks_of(path.read_bytes())
    path.write_bytes(header + b"".join(chunks[i] for i in order) + extra)


@pytest.mark.parametrize(
    ("order", "reason"),
    [
        ([0, 2], "chunk 1 fails its tag"),  # dropped
        ([1, 0, 2], "chunk 0 fails its tag"),  # swapped
        ([0, 0, 1, 2], "chunk 1 fails its tag"),  # duplicated
        ([0, 1, 1, 2], "chunk 2 fails its tag"),
        ([0, 1], "truncated: the file ends after chunk 1, not a final chunk"),  # final chunk cut
        ([0], "truncated: the file ends after chunk 0, not a final chunk"),
        ([], "truncated: no chunks"),
        ([0, 1, 2, 2], "data after the final chunk 2"),
    ],
)
def test_chunks_out_of_place_fail(tmp_path: Path, order: list[int], reason: str) -> None:
    path = three_chunks(tmp_path)
    rebuilt(path, order)
    assert corrupt(path).reason == reason


@pytest.mark.parametrize(
    ("extra", "reason"),
    [
        (b"\x00", "data after the final chunk 2"),
        (b"\x00\x00\x00\x20" + b"z" * 32, "data after the final chunk 2"),
        (b"\xff\xff\xff\xff", "data after the final chunk 2"),
    ],
)
def test_data_appended_after_the_final_chunk_fails(tmp_path: Path, extra: bytes, reason: str) -> None:
    path = three_chunks(tmp_path)
    rebuilt(path, [0, 1, 2], extra=extra)
    assert corrupt(path).reason == reason


def test_cut_anywhere_fails(tmp_path: Path) -> None:
    path = three_chunks(tmp_path)
    good = path.read_bytes()
    _, chunks = chunks_of(good)
    for cut in [0, 5, HEADER_BYTES - 1, HEADER_BYTES + 2, HEADER_BYTES + 200, len(good) - 1]:
        path.write_bytes(good[:cut])
        reason = corrupt(path).reason
        assert reason.startswith(("bad header", "truncated")), reason


def test_oversized_length_field(tmp_path: Path) -> None:
    path = three_chunks(tmp_path)
    raw = bytearray(path.read_bytes())
    raw[HEADER_BYTES : HEADER_BYTES + 4] = struct.pack(">I", CHUNK_BYTES + 17)
    path.write_bytes(bytes(raw))
    assert corrupt(path).reason == f"chunk 0 has an impossible length field ({CHUNK_BYTES + 17})"
    raw[HEADER_BYTES : HEADER_BYTES + 4] = struct.pack(">I", 2**32 - 1)
    path.write_bytes(bytes(raw))
    assert "impossible length" in corrupt(path).reason


def test_no_plaintext_from_a_chunk_before_its_tag(tmp_path: Path) -> None:
    path = three_chunks(tmp_path)
    raw = bytearray(path.read_bytes())
    raw[-5] ^= 0x80  # in chunk 2's tag
    path.write_bytes(bytes(raw))
    got: list[bytes] = []
    with pytest.raises(SegmentCorrupt) as caught:
        for piece in read_segment(path, KEY, segment=0, **IDS):
            got.append(piece)
    assert caught.value.reason == "chunk 2 fails its tag"
    assert len(got) == 2
    assert all(len(piece) == CHUNK_BYTES for piece in got)


def test_a_segment_in_another_place_fails(tmp_path: Path) -> None:
    # The file of segment 2 presented as segment 3, and the same with its
    # header rewritten to say 3: the nonce and associated data still say 2.
    two = write(tmp_path, b"abc" * 1000, segment=2)
    assert corrupt(two, segment=3).reason.startswith("wrong segment")
    raw = bytearray(two.read_bytes())
    raw[25:29] = struct.pack(">I", 3)
    two.write_bytes(bytes(raw))
    assert corrupt(two, segment=3).reason == "chunk 0 fails its tag"


@pytest.mark.parametrize(("field", "offset", "width"), [("hearing_id", 9, 8), ("recording_id", 17, 8)])
def test_another_recordings_segment_fails(tmp_path: Path, field: str, offset: int, width: int) -> None:
    path = write(tmp_path, b"abc" * 1000, segment=0, **{field: 99})
    with pytest.raises(SegmentCorrupt) as caught:
        read(path, segment=0)
    assert caught.value.reason.startswith("wrong segment")
    raw = bytearray(path.read_bytes())
    raw[offset : offset + width] = IDS[field].to_bytes(width, "big")
    path.write_bytes(bytes(raw))
    assert corrupt(path).reason == "chunk 0 fails its tag"


def test_the_wrong_key_fails(tmp_path: Path) -> None:
    path = write(tmp_path, b"abc" * 1000)
    with pytest.raises(SegmentCorrupt) as caught:
        read(path, key=new_data_key())
    assert caught.value.reason == "chunk 0 fails its tag"


CRASH = """
import os, signal, sys
from pathlib import Path
from hearing.recording.crypto import SegmentWriter, segment_name
writer = SegmentWriter(Path(sys.argv[1]) / segment_name(5), bytes(range(32)), hearing_id=7, recording_id=11, segment=5)
writer.write(os.urandom(3 * 65536 + 5))
writer.flush()
os.kill(os.getpid(), signal.SIGKILL)
"""


def test_partial_file_is_private_and_survives_a_crash(tmp_path: Path) -> None:
    crashed = subprocess.run([sys.executable, "-c", CRASH, str(tmp_path)], cwd=REPO, capture_output=True, timeout=60)
    assert crashed.returncode == -signal.SIGKILL, crashed.stderr
    assert os.listdir(tmp_path) == ["000005.seg.partial"]
    partial = tmp_path / "000005.seg.partial"
    assert stat.S_IMODE(partial.stat().st_mode) == 0o600
    # The chunks that reached the disk are whole; there is no final chunk.
    assert len(chunks_of(partial.read_bytes())[1]) == 3
    with pytest.raises(SegmentCorrupt, match="truncated"):
        read(partial, segment=5)
    # The final name is never taken by an unfinished file, and a second
    # writer does not overwrite the survivor.
    with pytest.raises(FileExistsError):
        SegmentWriter(tmp_path / segment_name(5), KEY, segment=5, **IDS)


def test_partial_is_0600_whatever_the_umask(tmp_path: Path) -> None:
    old = os.umask(0)
    try:
        writer = SegmentWriter(tmp_path / segment_name(0), KEY, segment=0, **IDS)
    finally:
        os.umask(old)
    assert stat.S_IMODE(writer.partial.stat().st_mode) == 0o600
    sealed = writer.close()
    assert stat.S_IMODE(sealed.path.stat().st_mode) == 0o600


def test_abort_removes_the_partial(tmp_path: Path) -> None:
    writer = SegmentWriter(tmp_path / segment_name(0), KEY, segment=0, **IDS)
    writer.write(b"x" * 10)
    writer.abort()
    assert os.listdir(tmp_path) == []
    with pytest.raises(ValueError, match="closed"):
        writer.write(b"y")


def test_bad_arguments_are_refused(tmp_path: Path) -> None:
    with pytest.raises(ValueError, match="32 bytes"):
        SegmentWriter(tmp_path / "a.seg", b"short", segment=0, **IDS)
    with pytest.raises(ValueError, match="segment number"):
        SegmentWriter(tmp_path / "a.seg", KEY, segment=-1, **IDS)
    assert os.listdir(tmp_path) == []
    assert len(new_data_key()) == KEY_BYTES
    assert new_data_key() != new_data_key()
    assert segment_name(12) == "000012.seg"


def test_repr_shows_no_secret(tmp_path: Path) -> None:
    writer = SegmentWriter(tmp_path / segment_name(0), KEY, segment=0, **IDS)
    writer.write(b"secret words")
    assert "secret" not in repr(writer)
    assert KEY.hex() not in repr(writer)
    writer.abort()


def test_pyav_muxes_into_the_writer(tmp_path: Path) -> None:
    # What the recorder does: PyAV writes Matroska straight into the writer,
    # and the decrypted segment is a file ffprobe and PyAV read.
    writer = SegmentWriter(tmp_path / segment_name(0), KEY, segment=0, **IDS)
    output = av.open(writer, "w", format="matroska")
    video = output.add_stream("libvpx", rate=25)
    video.width, video.height, video.pix_fmt = 160, 120, "yuv420p"
    for i in range(25):
        frame = av.VideoFrame.from_ndarray(np.full((120, 160, 3), i * 8, np.uint8), format="rgb24")
        frame.pts = i
        for packet in video.encode(frame):
            output.mux(packet)
    for packet in video.encode():
        output.mux(packet)
    output.close()
    sealed = writer.close()
    plaintext = read(sealed.path)
    assert b"webm" not in sealed.path.read_bytes() and b"matroska" in plaintext
    with av.open(io.BytesIO(plaintext), "r") as container:
        assert len(list(container.decode(video=0))) == 25
    clear = tmp_path / "clear.mkv"
    clear.write_bytes(plaintext)
    probe = subprocess.run(
        ["/usr/bin/ffprobe", "-v", "error", "-count_frames", "-show_entries", "stream=codec_name,nb_read_frames"]
        + ["-of", "csv=p=0", str(clear)],
        capture_output=True,
        text=True,
        check=True,
    )
    assert probe.stdout.strip() == "vp8,25"


@settings(max_examples=40, deadline=None)
@given(cut=st.integers(0, 3 * CHUNK_BYTES), flip=st.one_of(st.none(), st.integers(0, 3 * CHUNK_BYTES)))
def test_damage_anywhere_yields_only_whole_checked_chunks(
    tmp_path_factory: pytest.TempPathFactory, cut: int, flip: int | None
) -> None:
    folder = tmp_path_factory.mktemp("seg")
    data = os.urandom(2 * CHUNK_BYTES + 999)
    path = write(folder, data)
    raw = bytearray(path.read_bytes())
    if flip is not None and flip < len(raw):
        raw[flip] ^= 0x10
    damaged = bytes(raw[: min(cut, len(raw) - 1)]) if cut < len(raw) else bytes(raw)
    if damaged == path.read_bytes():
        return
    path.write_bytes(damaged)
    got = b""
    with pytest.raises(SegmentCorrupt):
        for piece in read_segment(path, KEY, segment=0, **IDS):
            assert data.startswith(got + piece)
            got += piece
    assert len(got) % CHUNK_BYTES == 0 and len(got) < len(data)
