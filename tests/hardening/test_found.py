"""Failures the harness found that none of issue 10's listed defects
covers, each pinned by a focused test of its own (written before the fix)."""

from __future__ import annotations

import pytest
from starlette.testclient import TestClient

from hearing.services import Services
from tests.conftest import Court_, csrf_token, login_as, open_hearing

NON_ASCII_TOKEN = "٠" * 64  # Arabic-Indic zeros: 64 characters, as long as a real token
LATIN_1_TOKEN = ("é" * 32).encode()  # 64 bytes, which the server reads as 64 Latin-1 characters


@pytest.mark.sqlite_only
def test_a_non_ascii_csrf_token_in_a_form_is_refused_not_a_server_error(client: TestClient) -> None:
    csrf_token(client)  # the browser has its CSRF cookie
    fields = {"username": "someone", "password": "x" * 12, "code": "", "csrf_token": NON_ASCII_TOKEN}
    response = client.post("/signin", data=fields, headers={"Accept": "application/json"})
    assert (response.status_code, response.json()["error"]) == (403, "csrf_rejected")


@pytest.mark.sqlite_only
def test_a_non_ascii_csrf_header_on_a_command_is_refused_not_a_server_error(
    client: TestClient, services: Services, court: Court_
) -> None:
    open_hearing(services, court.hearing_a)
    login_as(client, services, court.users["judge"])
    csrf_token(client)
    response = client.post(
        f"/hearings/{court.hearing_a}/floor",
        content=b'{"action": "mute_all"}',
        headers={"Content-Type": "application/json", "Accept": "application/json", "X-CSRF-Token": LATIN_1_TOKEN},
    )
    assert (response.status_code, response.json()["error"]) == (403, "csrf_rejected")


@pytest.mark.sqlite_only
def test_the_panel_feed_answers_a_ping_and_refuses_anything_else_with_a_documented_error(
    client: TestClient, services: Services, court: Court_
) -> None:
    """The feed takes no commands (they go over HTTP), but a client (and the
    harness) can tell it is alive: ping gets pong; anything else an error."""
    open_hearing(services, court.hearing_a)
    login_as(client, services, court.users["clerk"])
    with client.websocket_connect(f"/ws/hearings/{court.hearing_a}/panel") as ws:
        assert ws.receive_json()["type"] == "snapshot"
        ws.send_json({"type": "ping", "nonce": 7})
        assert ws.receive_json() == {"type": "pong", "nonce": 7}
        for raw, code in (("not json", "malformed_message"), ('{"type": "leave"}', "unexpected_message")):
            ws.send_text(raw)
            reply = ws.receive_json()
            assert (reply["type"], reply["error"]) == ("error", code)
        ws.send_json({"type": "ping", "nonce": 8})
        assert ws.receive_json() == {"type": "pong", "nonce": 8}


def test_a_nul_in_a_form_field_is_refused_before_it_reaches_the_database(client: TestClient) -> None:
    """PostgreSQL cannot hold NUL in text: a sign-in with one was a 500 there."""
    token = csrf_token(client)
    fields = {"username": "judge\x00", "password": "x" * 12, "code": "", "csrf_token": token}
    response = client.post("/signin", data=fields, headers={"Accept": "application/json"})
    assert (response.status_code, response.json()["error"]) == (400, "invalid_input")
