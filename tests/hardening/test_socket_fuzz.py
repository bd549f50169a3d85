"""Hostile messages on every socket (issue 10's harness).

Every message type of the media socket (hearing/media/signaling.py's own
table), from each seat (the judge, the courtroom rig, the custody
endpoint), and garbage framing on the media and panel sockets (binary
frames, non-JSON, over the size limit, nested past any recursion limit,
duplicate keys, lone surrogates), through a real uvicorn server with the
production frame limit. After every message:

- every `error` the server sends carries a code documented in docs/protocol.md;
- a message that is not a JSON object of the size allowed is answered with an error;
- the socket is still open and answers a ping with its pong;
- the seat is still present on the live hearing (`app.state.live_hearings`);
- nothing was logged at ERROR or above.

Runs once, on SQLite: the subject is the socket, not what is stored.
"""

from __future__ import annotations

import contextlib
import itertools
import json
import re
import threading
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest
import uvicorn
from hypothesis import strategies as st
from websockets.exceptions import ConnectionClosed
from websockets.sync.client import ClientConnection, connect

from hearing.media import signaling
from hearing.web.routing import CookieNames
from tests.browser import free_port
from tests.conftest import session_cookie
from tests.hardening import hostile
from tests.hardening.conftest import examples, run_examples, world_database
from tests.hardening.routes import APPS, sockets
from tests.hardening.world import World, error_records
from tests.waiting import wait_until

pytestmark = pytest.mark.sqlite_only

PROTOCOL = Path(__file__).parents[2] / "docs" / "protocol.md"
FRAME_LIMIT = 256 * 1024  # as `hearing serve` runs uvicorn (hearing/cli/serve.py)
REPLY_SECONDS = 5.0
# What the server sends of its own accord, between a message and its answer.
PUSHES = {"floor", "pictures", "presence", "health", "level", "hearing", "recording", "interpretation", "docket"}
# The answer a message may get besides an error (docs/protocol.md); nothing, for the rest.
ANSWERS = {"offer": {"answer"}, "ping": {"pong"}}
SEATS = {"judge": "judge", "courtroom": "courtroom_device", "custody": "custody_device"}
PANEL_VIEWERS = ("judge", "clerk", "custody_officer")


def documented_codes() -> frozenset[str]:
    """Every error code docs/protocol.md lists: its two error tables and the floor's refusals."""
    text = PROTOCOL.read_text()
    codes: set[str] = set()
    for header in ("| code | HTTP | meaning |", "| error | meaning |"):
        table = text.split(header, 1)[1].split("\n\n", 1)[0]
        for row in table.splitlines()[2:]:
            codes.update(re.findall(r"`([a-z_]+)`", row.split("|")[1]))
    floor = text.split("Floor refusals are 409 with their own codes", 1)[1].split("\n\n", 1)[0]
    codes.update(re.findall(r"`([a-z_]+)`", floor))
    return frozenset(codes)


DOCUMENTED = documented_codes()

# --- hostile messages ------------------------------------------------------------

SDP_HEAD = "v=0\r\no=- 1 1 IN IP4 127.0.0.1\r\ns=-\r\nt=0 0\r\n"
VALID: dict[str, list[Any]] = {
    "sdp": [
        SDP_HEAD,
        SDP_HEAD + "m=audio 9 UDP/TLS/RTP/SAVPF 111\r\nc=IN IP4 0.0.0.0\r\na=rtpmap:111 opus/48000/2\r\n",
        SDP_HEAD + "m=video 99999999999999999999 RTP/AVP 96\r\na=rtpmap:96 VP8/90000\r\na=mid:\u202e\r\n",
        SDP_HEAD + "m=audio 9 UDP/TLS/RTP/SAVPF ²\r\na=ice-ufrag:\x00\r\na=fingerprint:sha-256 zz\r\n",
        SDP_HEAD + "a=group:BUNDLE 0 0 0\r\nm=application 9 DTLS/SCTP 5000\r\n",
        SDP_HEAD + "m=audio 9 RTP/AVP 0\r\na=ssrc:18446744073709551616 cname:x\r\na=extmap:99999 x\r\n",
    ],
    "views": [["custody"], ["courtroom", "custody"], ["nobody"], []],
    "candidate": [
        "candidate:1 1 udp 2130706431 127.0.0.1 5000 typ host",
        "candidate:1 1 udp 99999999999999999999 127.0.0.1 99999999 typ host",
        "candidate:١ ١ udp ٢ 127.0.0.1 ٥ typ host",
        "candidate:1 1 tcp 1 ::1 9 typ host tcptype \u202e",
        "candidate:x",
    ],
    "sdpMid": ["0", "1"],
    "sdpMLineIndex": [0, 1],
    "nonce": [1, 2**53 - 1],
    "speaker": ["custody:detainee", "custody:custody_officer", "courtroom:prosecutor", "judge:judge"],
}


@st.composite
def messages(draw: st.DrawFn, kind: str) -> str | bytes:
    """A message of this type: its own fields, valid but for a few, as a
    text or a binary frame."""
    fields = sorted(signaling._FIELDS[kind])
    body: dict[str, Any] = {"type": kind}
    for name in fields:
        choice = draw(st.sampled_from(["valid", "valid", "hostile", "absent"]))
        if choice == "valid" and name in VALID:
            body[name] = draw(st.sampled_from(VALID[name]))
        elif choice == "hostile":
            body[name] = draw(hostile.json_values)
    if draw(st.integers(0, 4)) == 0:
        body[draw(hostile.field_names)] = draw(hostile.json_values)
    text = json.dumps(body)  # ASCII: a lone surrogate goes as its escape
    return text.encode() if draw(st.booleans()) else text


FRAMINGS: list[str | bytes] = [
    *hostile.RAW_JSON,
    b"\xff\xfe\x00",
    b'{"type": "ping", "nonce": 1}',  # valid, as a binary frame
    '{"type": "ping", "nonce": 1}'.encode("utf-16"),
    "x" * (signaling.MAX_MESSAGE_BYTES + 1),
    json.dumps({"type": "ping", "nonce": 1, "pad": "x" * (FRAME_LIMIT - 1000)}),
    "[" * (signaling.MAX_MESSAGE_BYTES - 10),
    json.dumps({"type": "ping", "nonce": [[[[[[[[[[1]]]]]]]]]]}),
    json.dumps({"type": ["ping"]}),
    json.dumps({"type": "\u202eping"}),
    json.dumps({"type": "PING", "nonce": 1}),
    json.dumps({"type": "x" * 60000}),
    json.dumps([{"type": "ping", "nonce": 1}]),
    " ",
]
framings = st.one_of(
    st.sampled_from(FRAMINGS),
    st.binary(max_size=40),
    hostile.any_text,
    hostile.json_values.map(json.dumps),
)


def catalogue(kind: str) -> list[str]:
    """Each hostile JSON value in each field of the message, the others valid."""
    good = {n: VALID[n][0] for n in signaling._FIELDS[kind] if n in VALID}
    values: list[Any] = [*hostile.JSON_NUMBERS, None, True, [], {}, "", "\u202e", "\x00", "A" * 70000, [[[[]]]]]
    out = [json.dumps({"type": kind, **good, name: v}) for name in sorted(signaling._FIELDS[kind]) for v in values]
    out += [
        json.dumps({"type": kind, **good, name: v})
        for name in ("sdp", "candidate")
        if name in good
        for v in VALID[name]
    ]
    return out


def malformed(raw: str | bytes) -> bool:
    """Whether a frame is certainly not a message: over the limit, not UTF-8
    JSON, or not an object with a string type."""
    if len(raw) > signaling.MAX_MESSAGE_BYTES:
        return True
    try:
        body = json.loads(raw)
    except (ValueError, UnicodeDecodeError, RecursionError):
        return True
    return not isinstance(body, dict) or not isinstance(body.get("type"), str)


def kind_of(raw: str | bytes) -> str | None:
    try:
        body = json.loads(raw)
    except (ValueError, UnicodeDecodeError, RecursionError):
        return None
    return body.get("type") if isinstance(body, dict) and isinstance(body.get("type"), str) else None


def leaves(raw: str | bytes) -> bool:
    try:
        return bool(json.loads(raw) == {"type": "leave"})
    except (ValueError, UnicodeDecodeError, RecursionError):
        return False


# --- the world: a live server ------------------------------------------------------


class SocketWorld:
    def __init__(self, directory: Path) -> None:
        self.world = World("internal", directory, world_database("sqlite", directory), live=True)
        self.port = free_port()
        self.server = uvicorn.Server(
            uvicorn.Config(
                self.world.app,
                host="127.0.0.1",
                port=self.port,
                ws_max_size=FRAME_LIMIT,
                access_log=False,
                log_config=None,
                lifespan="on",
            )
        )
        self.thread = threading.Thread(target=self.server.run, name="harness-server", daemon=True)
        self.nonces = itertools.count(10**12)

    def start(self) -> None:
        self.world.start()  # the hearing is open, custody admitted
        self.thread.start()
        wait_until(lambda: self.server.started or not self.thread.is_alive())
        assert self.server.started, "the harness's server did not start"

    def stop(self) -> None:
        self.server.should_exit = True
        self.thread.join(timeout=10)
        self.world.stop()

    @property
    def hearing(self) -> int:
        return self.world.court.hearing_a

    def headers(self, principal: str) -> dict[str, str]:
        if principal.endswith("_device"):
            return {"Authorization": f"Device {self.world.device_token(principal)}"}
        user = self.world.court.users[principal]
        name = CookieNames.for_scheme(self.world.settings.cookie_secure).session
        return {"Cookie": f"{name}={session_cookie(self.world.services, user)}"}

    def connect(
        self, stack: contextlib.ExitStack, socket: str, principal: str
    ) -> tuple[ClientConnection, dict[str, Any]]:
        path = "/ws/device" if socket == "kiosk" else f"/ws/hearings/{self.hearing}/{socket}"
        url = f"ws://127.0.0.1:{self.port}{path}"
        opened = connect(url, additional_headers=self.headers(principal), proxy=None, max_size=None, open_timeout=5)
        ws = stack.enter_context(opened)
        first = json.loads(ws.recv(timeout=REPLY_SECONDS))
        return ws, first

    def present(self, seat: str) -> bool:
        live = self.world.app.state.live_hearings.get(self.hearing)
        return live is not None and bool(live.seat_presence().get(seat, {}).get("present"))


@pytest.fixture(scope="module")
def socket_world(tmp_path_factory: pytest.TempPathFactory) -> Iterator[SocketWorld]:
    world = SocketWorld(tmp_path_factory.mktemp("sockets"))
    world.start()
    try:
        yield world
    finally:
        world.stop()


class Conversation:
    """One socket, kept open across examples (reopened after a valid leave)."""

    def __init__(self, world: SocketWorld, socket: str, principal: str, seat: str | None) -> None:
        self.world, self.socket, self.principal, self.seat = world, socket, principal, seat
        self.ws: ClientConnection | None = None
        self.stack = contextlib.ExitStack()
        self.sent = 0  # messages sent and answered for (a walk that sent none proved nothing)

    def open(self) -> ClientConnection:
        if self.ws is None:
            self.ws, first = self.world.connect(self.stack, self.socket, self.principal)
            assert first.get("type") in ("welcome", "snapshot"), f"{self.where}: not admitted: {first}"
        return self.ws

    def close(self) -> None:
        self.ws = None
        self.stack.close()

    @property
    def where(self) -> str:
        return f"/ws/hearings/{{id}}/{self.socket} as {self.principal}"

    def check(self, raw: str | bytes) -> None:
        ws = self.open()
        nonce = next(self.world.nonces)
        problems: list[str] = []
        got: list[dict[str, Any]] = []
        with error_records() as records:
            try:
                self.sent += 1
                ws.send(raw)
                ws.send(json.dumps({"type": "ping", "nonce": nonce}))
                while True:
                    message = json.loads(ws.recv(timeout=REPLY_SECONDS))
                    if message == {"type": "pong", "nonce": nonce}:
                        break
                    got.append(message)
            except TimeoutError:
                problems.append(f"no pong within {REPLY_SECONDS} s: the socket stopped answering")
            except ConnectionClosed as closed:
                self.ws = None
                code = closed.rcvd.code if closed.rcvd else None
                if leaves(raw) and code == 1000:
                    return  # a valid leave closes the socket, as documented
                problems.append(f"the socket closed ({code} {closed.rcvd.reason if closed.rcvd else ''})")
        errors = [m.get("error") for m in got if m.get("type") == "error"]
        undocumented = [e for e in errors if e not in DOCUMENTED]
        if undocumented:
            problems.append(f"undocumented error codes {undocumented}")
        allowed = PUSHES | {"error"} | ANSWERS.get(kind_of(raw) or "", set())
        if self.socket == "panel":
            allowed = (allowed - ANSWERS.get("offer", set())) | {"snapshot"}
        unexpected = [m.get("type") for m in got if m.get("type") not in allowed]
        if unexpected:
            problems.append(f"unexpected answers {unexpected}")
        if malformed(raw) and not errors and not problems:
            problems.append("no error for a frame that is not a message")
        if self.seat is not None and not self.world.present(self.seat):
            problems.append(f"seat {self.seat} is no longer present on the live hearing")
        if records.records:
            problems.append(f"logged {records.describe()}")
        if problems:
            shown = repr(raw[:200]) + (f"... ({len(raw)} in all)" if len(raw) > 200 else "")
            raise AssertionError(f"{self.where}: " + "; ".join(problems) + f"\n  sent: {shown}\n  got: {got[:5]}")


def run(conversation: Conversation, key: str, explicit: list[str | bytes], strategy: st.SearchStrategy[Any]) -> int:
    """Every value of the catalogue, then hypothesis's; how many were sent."""
    failures: list[str] = []
    try:
        for raw in explicit:
            try:
                conversation.check(raw)
            except AssertionError as failure:
                failures.append(str(failure))
                conversation.close()  # a fresh connection for the next value
        try:
            run_examples(key, strategy, conversation.check, examples(1.0))
        except AssertionError as failure:
            failures.append(f"(hypothesis) {failure}")
    finally:
        conversation.close()
    if failures:
        pytest.fail(f"{len(failures)} failing messages:\n" + "\n".join(failures[:12]), pytrace=False)
    return conversation.sent


def test_the_sockets_walked_are_the_route_tables() -> None:
    names = {r.name for app in APPS for r in sockets(app)}
    # The test call's socket is walked in tests/web/test_test_call_socket.py (malformed,
    # oversized and unauthorised input; it belongs to no hearing).
    # issue 12, gateway: the remote party's socket (/ws/remote/media) talks
    # through the same Conversation as the media socket (hearing/web/seat.py),
    # walked below as every seat; its admission and its own bad messages are
    # in tests/web/test_remote.py and tests/web/test_permissions.py.
    assert names == {"media_socket", "panel_socket", "kiosk_socket", "test_call_socket", "remote_media_socket"}, (
        "a new socket: give it a walk below"
    )


@pytest.mark.timeout(600)
@pytest.mark.parametrize("kind", sorted(signaling._FIELDS))
@pytest.mark.parametrize("seat", sorted(SEATS))
def test_no_message_breaks_a_seat(socket_world: SocketWorld, seat: str, kind: str) -> None:
    conversation = Conversation(socket_world, "media", SEATS[seat], seat)
    explicit = list(catalogue(kind))
    assert run(conversation, f"media {seat} {kind}", explicit, messages(kind)) > len(explicit)


@pytest.mark.timeout(600)
@pytest.mark.parametrize("seat", sorted(SEATS))
def test_no_framing_breaks_a_seat(socket_world: SocketWorld, seat: str) -> None:
    conversation = Conversation(socket_world, "media", SEATS[seat], seat)
    assert run(conversation, f"media {seat} framing", FRAMINGS, framings) > len(FRAMINGS)


@pytest.mark.timeout(600)
@pytest.mark.parametrize("viewer", PANEL_VIEWERS)
def test_no_message_breaks_a_panel(socket_world: SocketWorld, viewer: str) -> None:
    conversation = Conversation(socket_world, "panel", viewer, None)
    explicit = [*FRAMINGS, *(m for kind in sorted(signaling._FIELDS) for m in catalogue(kind)[:6])]
    strategy = st.one_of(framings, *map(messages, sorted(signaling._FIELDS)))
    assert run(conversation, f"panel {viewer}", explicit, strategy) > len(explicit)


@pytest.mark.timeout(600)
def test_no_message_breaks_the_kiosk_socket(socket_world: SocketWorld) -> None:
    """The kiosk's own socket (/ws/device) takes only ping and leave: every
    other message of the media socket, and every framing, gets an error and
    leaves it answering."""
    conversation = Conversation(socket_world, "kiosk", "custody_device", None)
    explicit = [*FRAMINGS, *(m for kind in sorted(signaling._FIELDS) for m in catalogue(kind)[:6])]
    strategy = st.one_of(framings, *map(messages, sorted(signaling._FIELDS)))
    assert run(conversation, "kiosk", explicit, strategy) > len(explicit)
