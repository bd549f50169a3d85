"""Key files. Keys live outside the database, in files of mode 0600.

One 256-bit master key (`app.key`) from which every purpose gets its own
subkey by HKDF, so a leak of one subkey (say, the cookie signer) says nothing
about another (say, the TOTP secret encryption).
"""

from __future__ import annotations

import secrets
from pathlib import Path

from cryptography.hazmat.primitives import hashes
from cryptography.hazmat.primitives.kdf.hkdf import HKDF

from hearing.errors import ConfigurationError
from hearing.keyfiles import read_key_file, write_key_file

MASTER_KEY_FILE = "app.key"
KEY_BYTES = 32


class KeyRing:
    def __init__(self, master: bytes) -> None:
        if len(master) != KEY_BYTES:
            raise ConfigurationError("master key must be 32 bytes")
        self._master = master
        self.session_signing = self.derive(b"hearing/session-cookie")
        self.csrf = self.derive(b"hearing/csrf")
        self.device_token = self.derive(b"hearing/device-token")
        self.totp_encryption = self.derive(b"hearing/totp-secret")
        self.enrolment_code = self.derive(b"hearing/enrolment-code")
        # issue 12: remote parties' one-time codes and the sessions they open.
        self.remote_code = self.derive(b"hearing/remote-code")
        self.remote_session = self.derive(b"hearing/remote-session")

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
