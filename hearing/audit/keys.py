"""The audit log's keys, each in its own file in the key directory.

- `audit-kek.key`: the key-encryption key (AES-256) that wraps every data key
  (RFC 3394 key wrap). Losing it makes payloads unreadable; the log still
  verifies.
- `audit-signing.key`: the Ed25519 seed that signs checkpoints.
- `audit-signing.pub`: the matching verifier key, the one thing a court needs
  to verify the log. It is public.
"""

from __future__ import annotations

import hashlib
import os
import secrets
from pathlib import Path

from cryptography.hazmat.primitives.asymmetric.ed25519 import Ed25519PrivateKey, Ed25519PublicKey
from cryptography.hazmat.primitives.keywrap import InvalidUnwrap, aes_key_unwrap, aes_key_wrap
from cryptography.hazmat.primitives.serialization import Encoding, NoEncryption, PrivateFormat

from hearing.audit.checkpoint import BadCheckpoint, parse_verifier_key, verifier_key
from hearing.errors import ConfigurationError
from hearing.keyfiles import read_key_file, sync_directory, write_key_file

KEK_FILE = "audit-kek.key"
KEK_PENDING_FILE = "audit-kek.key.new"
SIGNING_FILE = "audit-signing.key"
VERIFIER_FILE = "audit-signing.pub"


def fingerprint(kek: bytes) -> bytes:
    return hashlib.sha256(b"hearing-audit-kek" + kek).digest()[:8]


def wrap(kek: bytes, data_key: bytes) -> bytes:
    return aes_key_wrap(kek, data_key)


def unwrap(kek: bytes, wrapped: bytes) -> bytes:
    try:
        return aes_key_unwrap(kek, wrapped)
    except InvalidUnwrap as exc:
        raise ConfigurationError("an audit data key does not unwrap: wrong key-encryption key?") from exc


class AuditKeys:
    def __init__(self, key_dir: Path, kek: bytes, signing: Ed25519PrivateKey, origin: str) -> None:
        self.key_dir = key_dir
        self.kek = kek
        self.kek_fingerprint = fingerprint(kek)
        self.signing = signing
        self.origin = origin

    @property
    def public(self) -> Ed25519PublicKey:
        return self.signing.public_key()

    @classmethod
    def ensure(cls, key_dir: Path, origin: str) -> AuditKeys:
        if not (key_dir / KEK_FILE).exists():
            write_key_file(key_dir / KEK_FILE, secrets.token_bytes(32))
        if not (key_dir / SIGNING_FILE).exists():
            seed = Ed25519PrivateKey.generate().private_bytes(Encoding.Raw, PrivateFormat.Raw, NoEncryption())
            write_key_file(key_dir / SIGNING_FILE, seed)
        keys = cls.load(key_dir, origin)
        if not (key_dir / VERIFIER_FILE).exists():
            write_key_file(key_dir / VERIFIER_FILE, (verifier_key(origin, keys.public) + "\n").encode(), mode=0o644)
        return keys

    @classmethod
    def load(cls, key_dir: Path, origin: str) -> AuditKeys:
        kek = read_key_file(key_dir / KEK_FILE)
        signing = Ed25519PrivateKey.from_private_bytes(read_key_file(key_dir / SIGNING_FILE))
        return cls(key_dir, kek, signing, origin)

    def stage_new_kek(self) -> bytes:
        """Write the next KEK beside the current one; `commit_new_kek` swaps them
        once the database holds every data key wrapped under it."""
        pending = self.key_dir / KEK_PENDING_FILE
        if pending.exists():
            pending.unlink()
        new = secrets.token_bytes(32)
        write_key_file(pending, new)
        return new

    def pending_kek(self) -> bytes | None:
        pending = self.key_dir / KEK_PENDING_FILE
        return read_key_file(pending) if pending.exists() else None

    def commit_new_kek(self) -> None:
        os.replace(self.key_dir / KEK_PENDING_FILE, self.key_dir / KEK_FILE)
        sync_directory(self.key_dir)
        self.kek = read_key_file(self.key_dir / KEK_FILE)
        self.kek_fingerprint = fingerprint(self.kek)


def load_verifier(path: Path) -> tuple[str, Ed25519PublicKey]:
    """Origin and public key from a verifier key file: all `audit verify` needs."""
    try:
        return parse_verifier_key(path.read_text(encoding="utf-8"))
    except OSError as exc:
        raise ConfigurationError(f"cannot read the verifier key {path}: {exc}") from exc
    except BadCheckpoint as exc:
        raise ConfigurationError(f"{path}: {exc}") from exc
