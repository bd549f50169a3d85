"""Signed checkpoints (tree heads) as small text files.

The format is the C2SP transparency-log checkpoint carried in a signed note:

    <origin>
    <tree size>
    <base64 root hash>
    time <RFC 3339 UTC>

    — <origin> <base64(key hash[4] || Ed25519 signature)>

so that tools written for public transparency logs can read and check it.
The public key is kept as a note verifier key:
`<origin>+<hex key hash>+<base64(0x01 || public key)>`. Pure, no I/O.
"""

from __future__ import annotations

import base64
import binascii
import dataclasses
import hashlib
from datetime import UTC, datetime

from cryptography.exceptions import InvalidSignature
from cryptography.hazmat.primitives.asymmetric.ed25519 import Ed25519PrivateKey, Ed25519PublicKey
from cryptography.hazmat.primitives.serialization import Encoding, PublicFormat

ALGORITHM_ED25519 = 0x01
MAX_NOTE_BYTES = 4096


class BadCheckpoint(ValueError):
    pass


@dataclasses.dataclass(frozen=True)
class Checkpoint:
    origin: str
    size: int
    root: bytes
    at: datetime

    def __post_init__(self) -> None:
        if not self.origin or "\n" in self.origin or " " in self.origin or "+" in self.origin:
            raise BadCheckpoint("an origin is one word with no '+'")
        if self.size < 0 or len(self.root) != 32:
            raise BadCheckpoint("a checkpoint has a size and a 32-byte root")
        if self.at.tzinfo is None:
            raise BadCheckpoint("checkpoint time must be timezone-aware")

    def body(self) -> bytes:
        at = self.at.astimezone(UTC).strftime("%Y-%m-%dT%H:%M:%S.%fZ")
        return f"{self.origin}\n{self.size}\n{base64.b64encode(self.root).decode()}\ntime {at}\n".encode()


def _public_bytes(key: Ed25519PublicKey) -> bytes:
    return key.public_bytes(Encoding.Raw, PublicFormat.Raw)


def key_hash(origin: str, key: Ed25519PublicKey) -> bytes:
    return hashlib.sha256(origin.encode() + b"\n" + bytes([ALGORITHM_ED25519]) + _public_bytes(key)).digest()[:4]


def verifier_key(origin: str, key: Ed25519PublicKey) -> str:
    encoded = base64.b64encode(bytes([ALGORITHM_ED25519]) + _public_bytes(key)).decode()
    return f"{origin}+{key_hash(origin, key).hex()}+{encoded}"


def parse_verifier_key(text: str) -> tuple[str, Ed25519PublicKey]:
    try:
        origin, hash_hex, encoded = text.strip().split("+", 2)
        raw = base64.b64decode(encoded, validate=True)
        if len(raw) != 33 or raw[0] != ALGORITHM_ED25519:
            raise ValueError("not an Ed25519 key")
        key = Ed25519PublicKey.from_public_bytes(raw[1:])
    except (ValueError, binascii.Error) as exc:
        raise BadCheckpoint(f"not a verifier key: {exc}") from None
    if key_hash(origin, key).hex() != hash_hex:
        raise BadCheckpoint("verifier key hash does not match the key")
    return origin, key


def sign(checkpoint: Checkpoint, key: Ed25519PrivateKey) -> str:
    body = checkpoint.body()
    signature = key_hash(checkpoint.origin, key.public_key()) + key.sign(body)
    return body.decode() + f"\n\u2014 {checkpoint.origin} {base64.b64encode(signature).decode()}\n"


def open_note(note: str, origin: str, key: Ed25519PublicKey) -> Checkpoint:
    """The checkpoint in a note, if and only if `key` signed it for `origin`."""
    if len(note.encode()) > MAX_NOTE_BYTES:
        raise BadCheckpoint("checkpoint note is too large")
    body, separator, signatures = note.partition("\n\n")
    if not separator:
        raise BadCheckpoint("checkpoint note has no signature block")
    body_bytes = (body + "\n").encode()
    expected_hash = key_hash(origin, key)
    for line in signatures.splitlines():
        parts = line.split(" ")
        if len(parts) != 3 or parts[0] != "\u2014" or parts[1] != origin:
            continue
        try:
            blob = base64.b64decode(parts[2], validate=True)
        except binascii.Error:
            continue
        if len(blob) != 68 or blob[:4] != expected_hash:
            continue
        try:
            key.verify(blob[4:], body_bytes)
        except InvalidSignature:
            raise BadCheckpoint("checkpoint signature does not verify") from None
        return _parse_body(body, origin)
    raise BadCheckpoint("checkpoint is not signed by this log's key")


def _parse_body(body: str, origin: str) -> Checkpoint:
    lines = body.split("\n")
    if len(lines) < 3 or lines[0] != origin:
        raise BadCheckpoint("checkpoint is for another log")
    try:
        size = int(lines[1])
        root = base64.b64decode(lines[2], validate=True)
        extras = dict(line.split(" ", 1) for line in lines[3:] if line)
        at = datetime.strptime(extras["time"], "%Y-%m-%dT%H:%M:%S.%fZ").replace(tzinfo=UTC)
    except (ValueError, KeyError, binascii.Error) as exc:
        raise BadCheckpoint(f"malformed checkpoint: {exc}") from None
    return Checkpoint(origin, size, root, at)
