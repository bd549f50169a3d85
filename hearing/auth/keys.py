"""Key files. Keys live outside the database, in files of mode 0600.

One 256-bit master key (`app.key`) from which every purpose gets its own
subkey by HKDF, so a leak of one subkey (say, the cookie signer) says nothing
about another (say, the TOTP secret encryption).
"""

from __future__ import annotations

import os
import secrets
import stat
from pathlib import Path

from cryptography.hazmat.primitives import hashes
from cryptography.hazmat.primitives.kdf.hkdf import HKDF

from hearing.errors import ConfigurationError

MASTER_KEY_FILE = "app.key"
KEY_BYTES = 32


def write_key_file(path: Path, data: bytes) -> None:
    path.parent.mkdir(parents=True, exist_ok=True, mode=0o700)
    # O_EXCL: never overwrite a key by accident; 0600 from the first byte.
    fd = os.open(path, os.O_WRONLY | os.O_CREAT | os.O_EXCL, 0o600)
    with os.fdopen(fd, "wb") as handle:
        handle.write(data)


def read_key_file(path: Path, size: int | None = KEY_BYTES) -> bytes:
    try:
        mode = path.stat().st_mode
    except FileNotFoundError as exc:
        raise ConfigurationError(f"key file missing: {path} (run 'hearing keys init')") from exc
    if mode & (stat.S_IRWXG | stat.S_IRWXO):
        raise ConfigurationError(f"key file {path} must not be readable by others (chmod 600)")
    data = path.read_bytes()
    if size is not None and len(data) != size:
        raise ConfigurationError(f"key file {path} has the wrong length")
    return data


class KeyRing:
    def __init__(self, master: bytes) -> None:
        if len(master) != KEY_BYTES:
            raise ConfigurationError("master key must be 32 bytes")
        self._master = master
        self.session_signing = self.derive(b"hearing/session-cookie")
        self.csrf = self.derive(b"hearing/csrf")
        self.device_token = self.derive(b"hearing/device-token")
        self.totp_encryption = self.derive(b"hearing/totp-secret")

    def derive(self, purpose: bytes) -> bytes:
        return HKDF(algorithm=hashes.SHA256(), length=KEY_BYTES, salt=None, info=purpose).derive(self._master)

    @classmethod
    def load(cls, key_dir: Path) -> KeyRing:
        return cls(read_key_file(key_dir / MASTER_KEY_FILE))

    @classmethod
    def ensure(cls, key_dir: Path) -> KeyRing:
        """Load the keys, creating them on first use."""
        path = key_dir / MASTER_KEY_FILE
        if not path.exists():
            write_key_file(path, secrets.token_bytes(KEY_BYTES))
        return cls.load(key_dir)
