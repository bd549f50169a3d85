"""`hearing rig ...`: the courtroom rig agent (issue 13).

`hearing rig run --config rig.toml` runs the rig until SIGTERM or SIGINT;
`hearing rig check --config rig.toml` reads the configuration and says what
it found. A bad configuration, or a token file that cannot be read, exits
2 with the message (systemd shows it); nothing starts.
"""

from __future__ import annotations

import asyncio
import signal
import sys
from pathlib import Path

from hearing import logs
from hearing.cli.common import Command, Subcommands, out
from hearing.courtroom.config import RigConfig, load_rig
from hearing.courtroom.synthetic import SpeechScript
from hearing.errors import ConfigurationError

# The token is 43 characters of base64url (hearing/auth/devices.py); a file
# much larger than that is the wrong file.
MAX_TOKEN_BYTES = 256
# How the synthetic microphones speak when no script is given: each seat in
# turn, six seconds each with two of silence between, for a court day.
DEMO_TURN_SECONDS, DEMO_GAP_SECONDS, DEMO_HOURS = 6.0, 2.0, 10


def read_token(path: Path) -> str:
    try:
        raw = path.read_bytes()[: MAX_TOKEN_BYTES + 1]
    except OSError as exc:
        raise ConfigurationError(f"[rig] token_file: {path} cannot be read ({exc.strerror})") from None
    token = raw.decode("ascii", "replace").strip()
    if not token or len(raw) > MAX_TOKEN_BYTES or not token.replace("-", "").replace("_", "").isalnum():
        raise ConfigurationError(f"[rig] token_file: {path} does not hold a device token")
    return token


def demo_script(config: RigConfig) -> SpeechScript:
    """The seats of the synthetic microphones taking turns, over and over."""
    seats = [seat for m in config.microphones if m.source.kind == "test" for _, seat in m.channels]
    turns = []
    t, period = 1.0, DEMO_TURN_SECONDS + DEMO_GAP_SECONDS
    while seats and t < DEMO_HOURS * 3600:
        for seat in seats:
            turns.append((seat, t, t + DEMO_TURN_SECONDS))
            t += period
    return SpeechScript(turns)


def cmd_check(cmd: Command) -> int:
    config = load_rig(Path(cmd.args.config))
    read_token(config.rig.token_file)
    rig = config.rig
    out(f"rig for {rig.server_url}: {rig.width}x{rig.height} at {rig.fps} fps, layout {rig.layout}")
    for camera in config.cameras:
        out(f"  camera {camera.id}: {camera.seat} ({camera.label.da} / {camera.label.en}), {camera.source.kind}")
    for microphone in config.microphones:
        seats = ", ".join(f"{channel}={seat}" for channel, seat in microphone.channels)
        out(f"  microphone {microphone.id}: {microphone.source.kind}, channels {seats}")
    return 0


def cmd_run(cmd: Command) -> int:
    from hearing.courtroom.agent import Rig

    config = load_rig(Path(cmd.args.config))
    token = read_token(config.rig.token_file)
    # JSON lines on standard output, for the journal.
    logs.configure(stream=sys.stdout)
    rig = Rig(config, token, script=demo_script(config))

    async def run() -> None:
        stop = asyncio.Event()
        loop = asyncio.get_running_loop()
        for signum in (signal.SIGTERM, signal.SIGINT):
            loop.add_signal_handler(signum, stop.set)
        await rig.run(stop)

    asyncio.run(run())
    return 0


def register(commands: Subcommands) -> None:
    rig = commands.add_parser("rig", help="the courtroom's camera rig").add_subparsers(
        dest="rig_command", required=True
    )
    p = rig.add_parser("run", help="run the rig agent (until SIGTERM)")
    p.add_argument("--config", required=True, help="the rig's TOML file")
    p.set_defaults(run=cmd_run)
    p = rig.add_parser("check", help="read the rig's configuration and say what it found")
    p.add_argument("--config", required=True, help="the rig's TOML file")
    p.set_defaults(run=cmd_check)
