from __future__ import annotations

import dataclasses
import ipaddress
import os
import tomllib
from collections.abc import Mapping
from pathlib import Path
from typing import Any
from zoneinfo import ZoneInfo, ZoneInfoNotFoundError

from hearing.errors import ConfigurationError, InvalidInput
from hearing.fields import whole_number

ENV_PREFIX = "HEARING_"
# A lobby open for hours is a mistake in the setting (seconds for minutes?), not a court's wish.
MAX_OPEN_EARLY_MINUTES = 240
# Ten years: beyond that a horizon is no longer a check at all.
MAX_BOOKING_HORIZON_DAYS = 3653


@dataclasses.dataclass(frozen=True)
class Settings:
    """Everything the process needs to know, read once at start-up.

    Defaults run on one machine with no set-up: SQLite in ./var, keys in
    ./var/keys, HTTP on loopback only.
    """

    data_dir: Path = Path("var")
    database_url: str = ""
    key_dir: Path = Path("")
    host: str = "127.0.0.1"
    port: int = 8000
    # Secure cookies everywhere but the plain-HTTP loopback demo.
    cookie_secure: bool = True
    court_timezone: str = "Europe/Copenhagen"
    session_idle_seconds: int = 30 * 60
    session_max_seconds: int = 12 * 60 * 60
    max_body_bytes: int = 64 * 1024
    signin_attempts_per_minute: int = 20
    # Connections a minute to one socket by one identity (a device, a staff
    # session): a client reconnecting after a dropped link backs off far below
    # it; a reconnect storm would write two audit entries a connection.
    socket_connections_per_minute: int = 30
    base_url: str = ""
    # The audit log's name in its signed checkpoints, e.g. "koebenhavns-byret/hearing-audit".
    audit_origin: str = "hearing-audit"
    audit_checkpoint_every: int = 1000
    audit_checkpoint_seconds: int = 60
    # ICE host candidates are offered on these addresses only (comma-separated):
    # the closed network's interface in production, loopback for the demo.
    media_addresses: str = "127.0.0.1"
    # The judge may open a hearing's lobby this many minutes before its
    # scheduled start (and at any time after it: courts run late).
    open_early_minutes: int = 30
    # How often each process asks the database whether the identities behind
    # its open sockets still stand (a device revoked or a user disabled by
    # the CLI, in another process); sign-out here closes at once.
    socket_recheck_seconds: float = 2.0
    # How far ahead a hearing may be booked, in days (a court's choice; a
    # start beyond it is a typing mistake in the year).
    booking_horizon_days: int = 730
    # The proxy hops (nginx) whose X-Forwarded-For and X-Forwarded-Proto are
    # believed, comma-separated addresses or networks. Empty: the socket's
    # peer is the client, whatever a request says.
    trusted_proxies: str = ""
    # Passwords are hashed (scrypt, 32 MiB each) by this many threads, with
    # this many more attempts waiting; beyond that a sign-in is refused as busy.
    password_hash_workers: int = 2
    password_hash_queue: int = 16
    # How long the enrolment code printed by `user add` / `user reset-totp` lasts.
    enrolment_code_hours: int = 72
    # issue 11: how long a test call loops the endpoint's media back, in seconds.
    test_call_seconds: float = 8.0
    # issue 12, remote parties. A one-time code works from this many minutes
    # before the hearing's scheduled start until its scheduled end.
    remote_code_early_minutes: int = 30
    # The external gateway (`hearing gateway`): its own listener, on the only
    # interface facing outside; port 0 means no gateway. ICE host candidates
    # for remote parties are offered on gateway_media_addresses only.
    gateway_host: str = "127.0.0.1"
    gateway_port: int = 0
    gateway_base_url: str = ""
    gateway_media_addresses: str = "127.0.0.1"
    # Code submissions a minute at the gateway: from one source address, and in all.
    gateway_attempts_per_minute: int = 10
    gateway_attempts_global_per_minute: int = 120
    # issue 14, the recording: its encrypted segments go here (default
    # <data_dir>/recordings), each about this many seconds long.
    recording_dir: Path = Path("")
    recording_segment_seconds: float = 10.0
    # The recording's picture (docs/benchmarks.md § Issue 14: 960x540 costs
    # about 0.2 of a core on top of the hearing, 640x360 about 0.14).
    recording_width: int = 960
    recording_height: int = 540

    def __post_init__(self) -> None:
        if not self.database_url:
            object.__setattr__(self, "database_url", f"sqlite:///{(self.data_dir / 'hearing.db').as_posix()}")
        if self.key_dir == Path(""):
            object.__setattr__(self, "key_dir", self.data_dir / "keys")
        if self.recording_dir == Path(""):
            object.__setattr__(self, "recording_dir", self.data_dir / "recordings")
        if not 1.0 <= self.recording_segment_seconds <= 60.0:
            raise ConfigurationError("recording_segment_seconds: 1 to 60")
        if not (320 <= self.recording_width <= 1920 and 180 <= self.recording_height <= 1080):
            raise ConfigurationError("recording_width x recording_height: from 320x180 to 1920x1080")
        if self.recording_width % 2 or self.recording_height % 2:
            raise ConfigurationError("recording_width and recording_height: even numbers of pixels")
        if not 0 < self.port < 65536:
            raise ConfigurationError(f"port out of range: {self.port}")
        if self.session_idle_seconds <= 0 or self.session_max_seconds <= 0:
            raise ConfigurationError("session lifetimes must be positive")
        if self.audit_checkpoint_every < 1 or self.audit_checkpoint_seconds < 1:
            raise ConfigurationError("audit checkpoint intervals must be positive")
        if not self.audit_origin or any(c in self.audit_origin for c in " +\n"):
            raise ConfigurationError("audit_origin is one word without '+'")
        try:
            for address in self.media_address_list:
                ipaddress.ip_address(address)
        except ValueError as exc:
            raise ConfigurationError(f"media_addresses: {exc}") from exc
        try:
            for proxy in self.trusted_proxy_list:
                ipaddress.ip_network(proxy)
        except ValueError as exc:
            raise ConfigurationError(f"trusted_proxies: {exc}") from exc
        if not 0 <= self.open_early_minutes <= MAX_OPEN_EARLY_MINUTES:
            raise ConfigurationError(f"open_early_minutes is 0-{MAX_OPEN_EARLY_MINUTES} (minutes before the start)")
        if self.socket_connections_per_minute < 1:
            raise ConfigurationError("socket_connections_per_minute must be at least 1")
        if not 0 < self.socket_recheck_seconds <= 60:
            raise ConfigurationError("socket_recheck_seconds is more than 0 and at most 60")
        if not 1 <= self.booking_horizon_days <= MAX_BOOKING_HORIZON_DAYS:
            raise ConfigurationError(f"booking_horizon_days is 1-{MAX_BOOKING_HORIZON_DAYS}")
        if self.password_hash_workers < 1 or self.password_hash_queue < 0:
            raise ConfigurationError("password_hash_workers must be at least 1 and password_hash_queue at least 0")
        if not 0 < self.enrolment_code_hours <= 24 * 30:
            raise ConfigurationError("enrolment_code_hours is 1-720")
        if not 1 <= self.test_call_seconds <= 60:
            raise ConfigurationError("test_call_seconds is 1-60")
        if not 0 <= self.remote_code_early_minutes <= MAX_OPEN_EARLY_MINUTES:
            raise ConfigurationError(f"remote_code_early_minutes is 0-{MAX_OPEN_EARLY_MINUTES}")
        if not 0 <= self.gateway_port < 65536:
            raise ConfigurationError(f"gateway_port out of range: {self.gateway_port}")
        if self.gateway_attempts_per_minute < 1 or self.gateway_attempts_global_per_minute < 1:
            raise ConfigurationError("gateway attempt limits must be at least 1")
        try:
            for address in self.gateway_media_address_list:
                ipaddress.ip_address(address)
        except ValueError as exc:
            raise ConfigurationError(f"gateway_media_addresses: {exc}") from exc
        if self.max_body_bytes < 1024:
            raise ConfigurationError("max_body_bytes must be at least 1024")
        try:
            ZoneInfo(self.court_timezone)
        except (ZoneInfoNotFoundError, ValueError) as exc:
            raise ConfigurationError(f"unknown time zone: {self.court_timezone}") from exc
        if not self.base_url:
            object.__setattr__(self, "base_url", f"http://{self.host}:{self.port}")
        if not self.gateway_base_url:
            object.__setattr__(self, "gateway_base_url", f"http://{self.gateway_host}:{self.gateway_port or 8443}")

    @property
    def timezone(self) -> ZoneInfo:
        return ZoneInfo(self.court_timezone)

    @property
    def media_address_list(self) -> list[str]:
        return [a.strip() for a in self.media_addresses.split(",")]

    @property
    def gateway_media_address_list(self) -> list[str]:
        return [a.strip() for a in self.gateway_media_addresses.split(",")]

    @property
    def trusted_proxy_list(self) -> list[str]:
        return [a.strip() for a in self.trusted_proxies.split(",") if a.strip()]

    def replace(self, **changes: Any) -> Settings:
        return dataclasses.replace(self, **changes)


def _coerce(field: dataclasses.Field[Any], raw: Any) -> Any:
    kind = field.type if isinstance(field.type, str) else field.type.__name__
    try:
        if kind == "Path":
            return Path(str(raw))
        if kind == "int":
            if isinstance(raw, int) and not isinstance(raw, bool):
                return raw  # TOML's own integer
            # From the environment: ASCII digits only, as everywhere text becomes a number.
            return whole_number(str(raw), field=field.name)
        if kind == "float":
            if isinstance(raw, int | float) and not isinstance(raw, bool):
                return float(raw)
            # ASCII only here too: float() reads "٢" and "nan".
            whole, _, fraction = str(raw).strip(" ").partition(".")
            whole_number(whole, field=field.name)
            if fraction:
                whole_number(fraction, field=field.name)
            return float(f"{whole}.{fraction or 0}")
        if kind == "bool":
            if isinstance(raw, bool):
                return raw
            text = str(raw).strip().lower()
            if text in {"1", "true", "yes", "on"}:
                return True
            if text in {"0", "false", "no", "off"}:
                return False
            raise ValueError(raw)
        return str(raw)
    except (ValueError, InvalidInput) as exc:
        raise ConfigurationError(f"invalid value for {field.name}: {raw!r}") from exc


def load_settings(environ: Mapping[str, str] | None = None, config_file: Path | None = None) -> Settings:
    """Settings from an optional TOML file, overridden by HEARING_* variables."""
    environ = os.environ if environ is None else environ
    fields = {f.name: f for f in dataclasses.fields(Settings)}
    values: dict[str, Any] = {}
    path = config_file or (Path(environ["HEARING_CONFIG"]) if "HEARING_CONFIG" in environ else None)
    if path is not None:
        try:
            document = tomllib.loads(path.read_text(encoding="utf-8"))
        except (OSError, tomllib.TOMLDecodeError) as exc:
            raise ConfigurationError(f"cannot read configuration file {path}: {exc}") from exc
        for key, raw in document.items():
            if key not in fields:
                raise ConfigurationError(f"unknown setting in {path}: {key}")
            values[key] = _coerce(fields[key], raw)
    for name, field in fields.items():
        env_name = ENV_PREFIX + name.upper()
        if env_name in environ:
            values[name] = _coerce(field, environ[env_name])
    return Settings(**values)
