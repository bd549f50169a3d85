"""A recording's segments, encrypted before any byte touches the disk.

A streaming AEAD in the manner of STREAM (Hoang, Reyhanitabar, Rogaway and
Vizár, "Online authenticated-encryption and its nonce-reuse misuse-
resistance", 2015) on AES-256-GCM. A segment file is a header, then chunks:

    header = MAGIC (8) || version (1) || hearing (8) || recording (8) || segment (4) || salt (16)
    chunk  = length (4, big-endian) || AES-GCM ciphertext and tag (length bytes)

Each chunk holds CHUNK_BYTES of plaintext, the last one fewer (possibly
none). Its nonce is segment (4) || chunk counter (8), its associated data is
the header's fields || counter || final flag. So a chunk that is modified,
dropped, reordered, duplicated, moved to another segment or recording, or a
file cut after any chunk but the final one, fails its tag. The reader learns
that a chunk is final only from where the file ends, as STREAM does, and
tries the other flag only to say what is wrong, never to hand out plaintext.

The chunk key is HKDF-SHA256(data key, salt, ids), the salt fresh for each
file: AES-GCM fails badly if one nonce ever encrypts two plaintexts under
one key, and a segment number could in principle be written twice (a
recorder restarted into a number it had aborted); with a fresh salt each
file has its own key, so that mistake costs nothing. (Tink's streaming AEAD
derives its segment keys the same way.)
"""

from __future__ import annotations

import hashlib
import os
import secrets
import struct
from collections.abc import Iterator
from dataclasses import dataclass
from pathlib import Path
from typing import BinaryIO

from cryptography.exceptions import InvalidTag
from cryptography.hazmat.primitives import hashes
from cryptography.hazmat.primitives.ciphers.aead import AESGCM
from cryptography.hazmat.primitives.kdf.hkdf import HKDF

from hearing.errors import HearingError
from hearing.keyfiles import sync_directory

KEY_BYTES = 32
CHUNK_BYTES = 64 * 1024  # plaintext per chunk
TAG_BYTES = 16
SALT_BYTES = 16
MAGIC = b"HRGSEG\r\n"  # the CR LF catches a file mangled by a text-mode copy
VERSION = 1
_HEADER = struct.Struct(">8sBQQI16s")
HEADER_BYTES = _HEADER.size
_LENGTH = struct.Struct(">I")
_MAX_ID = 2**63 - 1  # database ids are signed 64-bit
_MAX_SEGMENT = 2**32 - 1
PARTIAL_SUFFIX = ".partial"


def new_data_key() -> bytes:
    return AESGCM.generate_key(bit_length=KEY_BYTES * 8)


def segment_name(number: int) -> str:
    return f"{number:06d}.seg"


class SegmentCorrupt(HearingError):
    # The stored file is not the one the recorder wrote, or not under this
    # key: nothing a client did, so the server's side of the status codes.
    code = "segment_corrupt"
    status = 500
    default_message = "A recording segment is damaged."

    def __init__(self, segment: int, reason: str) -> None:
        super().__init__(f"segment {segment}: {reason}")
        self.segment = segment
        self.reason = reason


@dataclass(frozen=True)
class SealedSegment:
    path: Path
    number: int
    size: int  # bytes of the file on disk
    sha256: bytes  # of the file on disk, as the manifest lists it
    chunks: int

    def __post_init__(self) -> None:
        if self.number < 0 or self.size < HEADER_BYTES or self.chunks < 1 or len(self.sha256) != 32:
            raise ValueError(f"not a sealed segment: {self.number}, {self.size} bytes, {self.chunks} chunks")


def _check_ids(key: bytes, hearing_id: int, recording_id: int, segment: int) -> None:
    if len(key) != KEY_BYTES:
        raise ValueError(f"a segment key is {KEY_BYTES} bytes")
    if not (0 <= hearing_id <= _MAX_ID and 0 <= recording_id <= _MAX_ID):
        raise ValueError("hearing and recording ids are 0 .. 2**63-1")
    if not 0 <= segment <= _MAX_SEGMENT:
        raise ValueError("a segment number is 0 .. 2**32-1")


class _Chunks:
    """The AEAD of one segment file: its key, nonces and associated data."""

    def __init__(self, key: bytes, header: bytes, segment: int, salt: bytes) -> None:
        self._header = header
        self._segment = segment
        fields = header[len(MAGIC) : HEADER_BYTES - SALT_BYTES]
        hkdf = HKDF(algorithm=hashes.SHA256(), length=KEY_BYTES, salt=salt, info=b"hearing-segment\x00" + fields)
        self._aead = AESGCM(hkdf.derive(key))

    def _nonce_and_ad(self, counter: int, final: bool) -> tuple[bytes, bytes]:
        nonce = struct.pack(">IQ", self._segment, counter)
        return nonce, self._header + struct.pack(">QB", counter, 1 if final else 0)

    def seal(self, counter: int, final: bool, plaintext: bytes) -> bytes:
        nonce, ad = self._nonce_and_ad(counter, final)
        return self._aead.encrypt(nonce, plaintext, ad)

    def open(self, counter: int, final: bool, ciphertext: bytes) -> bytes | None:
        nonce, ad = self._nonce_and_ad(counter, final)
        try:
            return self._aead.decrypt(nonce, ciphertext, ad)
        except InvalidTag:
            return None


class SegmentWriter:
    """One segment file, written as `<path>.partial` and renamed to `path`
    only when complete: a crash leaves a `.partial`, never a short segment
    under the final name. File-like enough for PyAV to mux into."""

    def __init__(self, path: Path, key: bytes, *, hearing_id: int, recording_id: int, segment: int) -> None:
        _check_ids(key, hearing_id, recording_id, segment)
        self.path = path
        self.partial = path.with_suffix(path.suffix + PARTIAL_SUFFIX)
        self.segment = segment
        salt = secrets.token_bytes(SALT_BYTES)
        header = _HEADER.pack(MAGIC, VERSION, hearing_id, recording_id, segment, salt)
        self._chunks = _Chunks(key, header, segment, salt)
        self._buffer = bytearray()
        self._counter = 0
        self._plaintext = 0
        self._size = 0
        self._hash = hashlib.sha256()
        self._closed = False
        # O_EXCL: never append to or overwrite another writer's file; the mode
        # holds from the first byte (the data is ciphertext, but its size and
        # timing are still the court's business).
        fd = os.open(self.partial, os.O_WRONLY | os.O_CREAT | os.O_EXCL, 0o600)
        self._file: BinaryIO = os.fdopen(fd, "wb")
        self._put(header)

    def __repr__(self) -> str:
        return f"SegmentWriter({self.partial.name}, {self._plaintext} bytes)"

    def _put(self, data: bytes) -> None:
        self._file.write(data)
        self._hash.update(data)
        self._size += len(data)

    def _emit(self, plaintext: bytes, final: bool) -> None:
        sealed = self._chunks.seal(self._counter, final, plaintext)
        self._put(_LENGTH.pack(len(sealed)) + sealed)
        self._counter += 1

    def write(self, data: bytes | bytearray | memoryview) -> int:
        if self._closed:
            raise ValueError(f"{self!r} is closed")
        self._buffer += data
        self._plaintext += len(data)
        # Keep at least one byte back: the final chunk must exist, and a
        # chunk can only be called final once nothing follows it.
        full = (len(self._buffer) - 1) // CHUNK_BYTES * CHUNK_BYTES
        if full:
            view = memoryview(self._buffer)
            for start in range(0, full, CHUNK_BYTES):
                self._emit(bytes(view[start : start + CHUNK_BYTES]), final=False)
            view.release()
            # One move of what is left, not one per chunk.
            del self._buffer[:full]
        return len(data)

    def writable(self) -> bool:
        return True

    def readable(self) -> bool:
        return False

    def seekable(self) -> bool:
        return False

    def tell(self) -> int:
        return self._plaintext

    def flush(self) -> None:
        # The buffered plaintext stays in memory until its chunk is full:
        # flushing a partial chunk would need a way to continue it, and a
        # crash loses the segment in progress by design.
        if not self._closed:
            self._file.flush()

    @property
    def closed(self) -> bool:
        return self._closed

    def close(self) -> SealedSegment:
        if self._closed:
            raise ValueError(f"{self!r} is closed")
        self._emit(bytes(self._buffer), final=True)
        self._buffer.clear()
        self._file.flush()
        os.fsync(self._file.fileno())
        self._file.close()
        self._closed = True
        os.replace(self.partial, self.path)
        sync_directory(self.path.parent)
        return SealedSegment(self.path, self.segment, self._size, self._hash.digest(), self._counter)

    def abort(self) -> None:
        if not self._closed:
            self._closed = True
            self._buffer.clear()
            self._file.close()
        self.partial.unlink(missing_ok=True)


def read_segment(path: Path, key: bytes, *, hearing_id: int, recording_id: int, segment: int) -> Iterator[bytes]:
    """The plaintext, chunk by chunk, each only after its tag has passed."""
    _check_ids(key, hearing_id, recording_id, segment)
    with path.open("rb") as handle:
        header = handle.read(HEADER_BYTES)
        if len(header) < HEADER_BYTES:
            raise SegmentCorrupt(segment, "bad header: the file is shorter than a header")
        magic, version, got_hearing, got_recording, got_segment, salt = _HEADER.unpack(header)
        if magic != MAGIC:
            raise SegmentCorrupt(segment, "bad header: not a segment file")
        if version != VERSION:
            raise SegmentCorrupt(segment, f"bad header: version {version}, this reads {VERSION}")
        if (got_hearing, got_recording, got_segment) != (hearing_id, recording_id, segment):
            raise SegmentCorrupt(
                segment,
                f"wrong segment: the file is hearing {got_hearing} recording {got_recording} segment {got_segment}",
            )
        chunks = _Chunks(key, header, segment, salt)
        counter = 0
        ahead = _read_chunk(handle, segment, counter)
        if ahead is None:
            raise SegmentCorrupt(segment, "truncated: no chunks")
        while ahead is not None:
            sealed = ahead
            try:
                ahead = _read_chunk(handle, segment, counter + 1)
            except SegmentCorrupt as unreadable:
                # Bytes follow that are no chunk: appended to a sealed file,
                # or the next chunk cut. Which one, the tag of this one says.
                if chunks.open(counter, True, sealed) is not None:
                    raise SegmentCorrupt(segment, f"data after the final chunk {counter}") from None
                raise unreadable
            final = ahead is None
            plaintext = chunks.open(counter, final, sealed)
            if plaintext is None:
                # Decrypted under the other flag only to name the fault; that
                # plaintext is never yielded.
                if chunks.open(counter, not final, sealed) is None:
                    raise SegmentCorrupt(segment, f"chunk {counter} fails its tag")
                if final:
                    raise SegmentCorrupt(segment, f"truncated: the file ends after chunk {counter}, not a final chunk")
                raise SegmentCorrupt(segment, f"data after the final chunk {counter}")
            if not final and len(plaintext) != CHUNK_BYTES:
                raise SegmentCorrupt(segment, f"chunk {counter} is short but not final")
            yield plaintext
            counter += 1


def _read_chunk(handle: BinaryIO, segment: int, counter: int) -> bytes | None:
    prefix = handle.read(_LENGTH.size)
    if not prefix:
        return None
    if len(prefix) < _LENGTH.size:
        raise SegmentCorrupt(segment, f"truncated: chunk {counter} cut short in its length")
    (length,) = _LENGTH.unpack(prefix)
    if not TAG_BYTES <= length <= CHUNK_BYTES + TAG_BYTES:
        raise SegmentCorrupt(segment, f"chunk {counter} has an impossible length field ({length})")
    sealed = handle.read(length)
    if len(sealed) < length:
        raise SegmentCorrupt(segment, f"truncated: chunk {counter} cut short")
    return sealed


def decrypt_segment(path: Path, key: bytes, *, hearing_id: int, recording_id: int, segment: int) -> bytes:
    """The whole plaintext, every chunk checked before it is returned."""
    return b"".join(read_segment(path, key, hearing_id=hearing_id, recording_id=recording_id, segment=segment))
