"""The harness checks itself: it finds every route and field, and each of its
checks can fail (a harness that cannot fail proves nothing)."""

from __future__ import annotations

import logging

from hearing.app import routes
from hearing.web.routing import GuardedRoute
from tests.hardening.routes import all_targets
from tests.hardening.test_socket_fuzz import DOCUMENTED
from tests.hardening.world import DatabaseState, World, error_records


def test_every_route_of_the_table_is_walked() -> None:
    walked = {(t.path, t.method) for t in all_targets()}
    for route in routes():
        if isinstance(route, GuardedRoute):
            assert {(route.path, m) for m in route.methods or () if m != "HEAD"} <= walked, route.path


def test_the_fields_are_found_in_handlers_and_templates() -> None:
    by_key = {t.key: t for t in all_targets()}
    assert {"case_number", "start", "minutes", "courtroom_id", "detainee_name"} <= set(
        by_key["internal:POST /hearings"].form
    )
    assert by_key["internal:GET /hearings"].query == ("day",)
    assert {"username", "password", "code"} <= set(by_key["internal:POST /signin"].form)
    assert by_key["internal:POST /hearings/{hearing_id:id}/floor"].json


def test_a_refusal_that_changes_a_row_is_caught() -> None:
    before = DatabaseState({"hearing": 2, "audit_entry": 5}, 5, b"a")
    after = DatabaseState({"hearing": 3, "audit_entry": 5}, 5, b"a")
    world = World.__new__(World)
    world.tables = ["audit_entry", "hearing"]
    assert world.refusal_changes(before, after) == ["hearing +1 rows"]
    assert world.refusal_changes(before, DatabaseState(before.counts, 5, b"b")) == [
        "audit head's chain hash changed without an entry"
    ]


def test_an_error_record_is_caught() -> None:
    with error_records() as records:
        logging.getLogger("hearing.web.errors").error("unhandled error")
        logging.getLogger("somebody.else").error("not ours")
    assert [r.name for r in records.records] == ["hearing.web.errors"]


def test_the_documented_socket_codes_are_read_from_the_protocol() -> None:
    assert {"malformed_message", "message_too_large", "unknown_message", "not_admitted", "invalid_input"} <= DOCUMENTED
    assert "offer" not in DOCUMENTED and "welcome" not in DOCUMENTED
