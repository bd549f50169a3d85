"""A court to attack: one application and one database, with a signed-in
session for every staff role, an enrolled device of each kind, a live
hearing, and what the harness checks after every request: the database's
row counts and audit head, and the log's error records.

Hypothesis runs many examples in one test, and function-scoped fixtures
would be set up once for all of them, so a world is built by a
module-scoped fixture (tests/hardening/conftest.py) and kept for every
example of the tests that share it.
"""

from __future__ import annotations

import contextlib
import dataclasses
import logging
import traceback
from collections.abc import Iterator
from datetime import UTC, datetime, timedelta
from pathlib import Path
from typing import Any
from urllib.parse import parse_qs, urlsplit

from sqlalchemy import func, inspect, literal, select, table, text, union_all
from starlette.applications import Starlette
from starlette.testclient import TestClient

from hearing.auth.roles import Role
from hearing.config import Settings
from hearing.db.models import Base
from hearing.docket.parties import EndpointKind
from hearing.services import Services
from hearing.web.routing import CookieNames
from tests.conftest import (
    CSRF_INPUT,
    PASSWORD,
    Court_,
    _add_user,
    add_unconfirmed_user,
    admit,
    current_code,
    enroll_device,
    open_hearing,
    seed_court,
    session_cookie,
)
from tests.hardening.routes import APPS, DEVICES

# The loggers whose ERROR records mean the server broke: the application's
# own, the server's and the framework's, and asyncio's ("Task was destroyed
# but it is pending", "Exception in callback").
WATCHED_LOGGERS = ("hearing", "uvicorn", "starlette", "asyncio")

# ---------------------------------------------------------------------------
# What a refusal may change. A refused request changes nothing (invariant 7),
# except the record of the refusal itself: refusals are audited so that
# probing shows (`access.denied`), and a failed sign-in is audited and counts
# towards the account's lock-out (`user.sign_in_failed`, `user.locked`; the
# counter is a column of staff_user, so it does not move a row count). An
# audit entry may bring its scope's data key (audit_key) and, when one is
# due, a signed checkpoint (audit_checkpoint). Nothing else moves: not one
# row of any other table, and the audit head only by those entries.
# This is the one place that says so; keep it narrow.
REFUSAL_RECORDS = frozenset({"access.denied", "user.sign_in_failed", "user.locked"})
REFUSAL_BOOKKEEPING = frozenset({"audit_entry", "audit_key", "audit_checkpoint"})
# ---------------------------------------------------------------------------


@dataclasses.dataclass(frozen=True)
class DatabaseState:
    counts: dict[str, int]
    audit_size: int
    audit_chain: bytes


@dataclasses.dataclass
class Principal:
    """Who sends a request: the cookies and headers it carries, and the CSRF
    token its own pages would give it."""

    name: str
    cookies: dict[str, str]
    headers: dict[str, str]
    csrf: str


class ErrorRecords(logging.Handler):
    """Every record at ERROR or above from a watched logger, while installed."""

    def __init__(self) -> None:
        super().__init__(logging.ERROR)
        self.records: list[logging.LogRecord] = []

    def emit(self, record: logging.LogRecord) -> None:
        if record.name.split(".")[0] in WATCHED_LOGGERS:
            self.records.append(record)

    def describe(self) -> str:
        lines = []
        for r in self.records:
            exc = ""
            if r.exc_info and r.exc_info[1] is not None:
                error = r.exc_info[1]
                # Where it was raised: the innermost frames of the project's own code.
                frames = [f for f in traceback.extract_tb(error.__traceback__) if "/hearing/" in f.filename][-2:]
                at = ", ".join(f"{f.filename.split('/hearing/')[-1]}:{f.lineno} {f.name}" for f in frames)
                first_line = (str(error).splitlines() or [""])[0][:160]
                exc = f" ({type(error).__name__}: {first_line}{' at ' + at if at else ''})"
            lines.append(f"{r.levelname} {r.name}: {r.getMessage()[:200]}{exc}")
        return "; ".join(lines)


@contextlib.contextmanager
def error_records() -> Iterator[ErrorRecords]:
    """Collect error records, and keep them out of pytest's own capture: the
    harness reports each failure once, with where it was raised, instead of
    a traceback per failing example."""
    handler = ErrorRecords()
    root = logging.getLogger()
    others, root.handlers = root.handlers, [handler]
    try:
        yield handler
    finally:
        root.handlers = others


class World:
    def __init__(self, app_name: str, data_dir: Path, database_url: str, *, live: bool = False) -> None:
        # The guessing limit would answer nearly every sign-in with 429, and the
        # connection limit nearly every socket with 4429, hiding the handlers;
        # both have tests of their own (test_signin.py, test_socket_flood.py).
        self.settings = Settings(
            data_dir=data_dir,
            database_url=database_url,
            cookie_secure=not live,
            signin_attempts_per_minute=10**6,
            socket_connections_per_minute=10**6,
            # issue 12, gateway: the code step's limits, likewise.
            gateway_attempts_per_minute=10**6,
            gateway_attempts_global_per_minute=10**6,
        )
        self.services = Services.from_settings(self.settings, create_keys=True)
        Base.metadata.create_all(self.services.engine)
        self.court = _seed(self.services)
        self.app_name = app_name
        self.app: Starlette = APPS[app_name].factory(self.settings, self.services)
        self.client = TestClient(
            self.app, base_url="https://testserver", follow_redirects=False, raise_server_exceptions=False
        )
        self.tables = sorted(inspect(self.services.engine).get_table_names())
        self._devices = 0
        self.device_tokens: dict[str, str] = {}
        self._dirty: set[str] = set()
        self._principals: dict[str, Principal] = {}
        self.valid: dict[str, Any] = {}

    # --- lifetime ---------------------------------------------------------------

    def start(self) -> None:
        self.client.__enter__()
        open_hearing(self.services, self.court.hearing_a)
        admit(self.services, self.court, self.court.hearing_a)
        self.valid = self._valid_values()

    def stop(self) -> None:
        self.client.__exit__(None, None, None)
        self.services.close()

    # --- who asks -----------------------------------------------------------------

    def principal(self, name: str) -> Principal:
        """The principal's credentials, fresh if a request that was not
        refused may have changed them (a sign-out ends its session)."""
        if name not in self._principals or name in self._dirty:
            self._principals[name] = self._sign_in(name)
            self._dirty.discard(name)
        return self._principals[name]

    def spoilt(self, name: str) -> None:
        self._dirty.add(name)

    def _sign_in(self, name: str) -> Principal:
        cookies: dict[str, str] = {}
        headers: dict[str, str] = {}
        if name in Role._value2member_map_:
            name_of_cookie = CookieNames.for_scheme(self.settings.cookie_secure).session
            cookies[name_of_cookie] = session_cookie(self.services, self.court.users[name])
        elif name in DEVICES:
            headers["Authorization"] = f"Device {self.device_token(name)}"
        # The CSRF cookie and token, from a page as the principal's browser gets it.
        self.client.cookies.clear()
        for key, value in cookies.items():
            self.client.cookies.set(key, value)
        # A form of the application's own (issue 12: the gateway's is its join page).
        form_page = "/join" if self.app_name == "gateway" else "/signin"
        page = self.client.get(form_page, headers=headers)
        match = CSRF_INPUT.search(page.text)
        assert match, f"no CSRF token on {form_page} for {name} ({page.status_code})"
        jar = {c.name: c.value for c in self.client.cookies.jar}
        self.client.cookies.clear()
        return Principal(name, {**jar, **cookies}, headers, match.group(1))

    def device_token(self, name: str) -> str:
        if name not in self.device_tokens:
            kind = EndpointKind.COURTROOM if name == "courtroom_device" else EndpointKind.CUSTODY
            site = "Room A" if kind is EndpointKind.COURTROOM else "Facility A"
            self.device_tokens[name] = self.enroll(kind, site).token
        return self.device_tokens[name]

    def enroll(self, kind: EndpointKind, site: str) -> Any:
        self._devices += 1
        return enroll_device(self.services, f"harness-{kind.value}-{self._devices}", kind, site)

    # --- what a handler accepts -------------------------------------------------------

    def valid_for(self, route: str, field: str) -> list[str]:
        values = self.valid.get(f"{route}.{field}", self.valid.get(field, []))
        if callable(values):
            values = self.valid[f"{route}.{field}" if f"{route}.{field}" in self.valid else field] = values()
        return list(values)

    def _valid_values(self) -> dict[str, Any]:
        """Values that pass each field's validation, so that the hostile one
        beside them is what the handler has to deal with. By field name, or
        by `route name.field` where routes read a field of the same name
        differently."""
        court, tz = self.court, self.settings.timezone
        tomorrow = (datetime.now(UTC) + timedelta(days=1)).astimezone(tz)
        return {
            "username": ["fuzz-target"],
            "password": [PASSWORD],
            "code": ["123456"],
            "signin_submit.code": [current_code(court.secrets["fuzz"])],
            "next": ["/hearings", "/"],
            # Costly or single-use: made when a route first asks.
            "ticket": lambda: [self._enrolment_ticket()],
            "enroll_submit.code": lambda: [self.enroll(EndpointKind.CUSTODY, "Facility A").enrollment_code],
            "enroll_page.code": ["x" * 43],
            "lang": ["da", "en"],
            "day": [datetime.now(tz).date().isoformat()],
            "action": ["open", "start", "pause", "resume", "adjourn"],
            "case_number": ["SS 1-300/2026"],
            "kind": ["remand_extension"],
            "courtroom_id": [str(court.courtroom_a), str(court.courtroom_b)],
            "facility_id": [str(court.facility_a)],
            "start": [tomorrow.strftime("%Y-%m-%dT%H:%M")],
            "minutes": ["30"],
            "detainee_name": ["Jens Hansen"],
            "detainee_reference": ["REF-9"],
            "interpreter_language": ["arabisk", ""],
            "prosecutor": ["Anklager Ib", ""],
            "defence_counsel": ["Advokat Lis", ""],
            "defence_connection": ["courtroom", "custody"],
        }

    def _enrolment_ticket(self) -> str:
        """A real first-sign-in ticket, the way a new user is given one."""
        add_unconfirmed_user(self.services, "fuzz-new")
        principal = self._sign_in("anonymous")
        self.client.cookies.clear()
        for key, value in principal.cookies.items():
            self.client.cookies.set(key, value)
        fields = {"username": "fuzz-new", "password": PASSWORD, "code": "", "next": "/", "csrf_token": principal.csrf}
        response = self.client.post("/signin", data=fields)
        self.client.cookies.clear()
        query = parse_qs(urlsplit(response.headers.get("location", "")).query)
        return query.get("ticket", ["no-ticket"])[0]

    # --- what the harness checks ----------------------------------------------------

    def state(self) -> DatabaseState:
        with self.services.engine.connect() as conn:
            union = union_all(*(select(literal(t), func.count()).select_from(table(t)) for t in self.tables))
            counts = {name: int(n) for name, n in conn.execute(union)}
            size, chain = conn.execute(text("SELECT size, chain_hash FROM audit_head WHERE id = 1")).one()
        return DatabaseState(counts, int(size), bytes(chain))

    def new_entries(self, before: DatabaseState, after: DatabaseState) -> list[tuple[str, int | None, bool]]:
        """(action, hearing id, whether that hearing exists) of each entry
        appended between the two states."""
        if after.audit_size <= before.audit_size:
            return []
        with self.services.engine.connect() as conn:
            rows = conn.execute(
                text(
                    "SELECT e.action, e.hearing_id, h.id FROM audit_entry e LEFT JOIN hearing h ON h.id = e.hearing_id"
                    " ORDER BY e.seq DESC LIMIT :n"
                ),
                {"n": after.audit_size - before.audit_size},
            ).all()
        return [(action, hid, hid is None or known is not None) for action, hid, known in reversed(rows)]

    def refusal_changes(self, before: DatabaseState, after: DatabaseState) -> list[str]:
        """What a refusal changed beyond its own record (REFUSAL_RECORDS)."""
        entries = self.new_entries(before, after)
        recorded = [a for a, _, _ in entries if a in REFUSAL_RECORDS]
        problems = [f"audit entry {a!r} appended" for a, _, _ in entries if a not in REFUSAL_RECORDS]
        for name in self.tables:
            delta = after.counts.get(name, 0) - before.counts.get(name, 0)
            if delta and not (name in REFUSAL_BOOKKEEPING and recorded):
                problems.append(f"{name} {delta:+d} rows")
        if after.counts.get("audit_entry", 0) - before.counts.get("audit_entry", 0) != len(entries):
            problems.append(f"audit head moved {before.audit_size} -> {after.audit_size} out of step with its entries")
        if after.audit_size == before.audit_size and after.audit_chain != before.audit_chain:
            problems.append("audit head's chain hash changed without an entry")
        return problems

    @staticmethod
    def orphans(entries: list[tuple[str, int | None, bool]]) -> list[str]:
        """Entries filed under a hearing that does not exist (issue 10, defect 14:
        such an id then shows in the auditor's index as a hearing)."""
        return [f"audit entry {a!r} under hearing {hid}, which does not exist" for a, hid, ok in entries if not ok]


def _seed(services: Services) -> Court_:
    """The court of tests/conftest.py, plus a user whose account the
    sign-in fuzzing may lock (never one of the roles' own)."""
    court = seed_court(services)
    uid, secret = services.unit_of_work(
        lambda db: _add_user(db, services.keys, "fuzz-target", Role.CLERK, court.courtroom_a, court.facility_a)
    )
    court.users["fuzz"], court.secrets["fuzz"] = uid, secret
    return court
