"""Key files: outside the database, mode 0600, never overwritten by accident."""

from __future__ import annotations

import os
import stat
from pathlib import Path

from hearing.errors import ConfigurationError


def write_key_file(path: Path, data: bytes, *, mode: int = 0o600) -> None:
    path.parent.mkdir(parents=True, exist_ok=True, mode=0o700)
    # O_EXCL: never overwrite a key by accident; the mode holds from the first byte.
    fd = os.open(path, os.O_WRONLY | os.O_CREAT | os.O_EXCL, mode)
    with os.fdopen(fd, "wb") as handle:
        handle.write(data)
        handle.flush()
        os.fsync(handle.fileno())
    sync_directory(path.parent)


def sync_directory(directory: Path) -> None:
    fd = os.open(directory, os.O_RDONLY)
    try:
        os.fsync(fd)
    finally:
        os.close(fd)


def read_key_file(path: Path, size: int | None = 32) -> bytes:
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
