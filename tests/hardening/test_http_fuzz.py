"""Hostile input at every HTTP route, as every principal (issue 10's harness).

Every route of every application (tests/hardening/routes.py, from the route
table), as anonymous, as each staff role and as each kind of device, with
hostile values in its path parameters, query, form fields and JSON body,
with wrong content types and good and bad CSRF tokens. For every request:

- never a 5xx;
- never a log record at ERROR or above (hearing.*, uvicorn, starlette, asyncio);
- every response carries the security headers;
- a refusal (4xx, or the sign-in redirect) changes nothing in the database
  but its own record (tests/hardening/world.py, REFUSAL_RECORDS);
- no audit entry is filed under a hearing that does not exist;
- a request with a valid CSRF token in a body of the route's own type is
  not refused for CSRF (or the harness would test only the CSRF check).

One world (application and database) per route and database; every
principal's examples run against it. Runs on both databases: the drivers
differ in what they refuse (NUL in text, integers past 64 bits).
"""

from __future__ import annotations

from collections.abc import Iterator
from pathlib import Path

import pytest

from hearing.web.routing import Audience
from tests.conftest import DATABASES
from tests.hardening.conftest import examples, run_examples, world_database
from tests.hardening.requests import Draft, catalogue, drafts, reaches_handler, wire
from tests.hardening.routes import PRINCIPALS, Target, all_targets
from tests.hardening.world import World, error_records

TARGETS = all_targets()
SECURITY_HEADERS = ("content-security-policy", "x-content-type-options", "cache-control")

# A principal the route's guard turns away is stopped before the handler:
# a few examples show that the guard holds for hostile input; the rest of the
# budget goes where the handler runs. PostgreSQL repeats a share of SQLite's.
ADMITTED, TURNED_AWAY = 0.2, 0.05
DATABASE_SHARE = {"sqlite": 1.0, "postgresql": 0.3}


@pytest.fixture(
    scope="module",
    params=[pytest.param((db, t), id=f"{db}-{t.key}") for db in DATABASES for t in TARGETS],
)
def route_world(
    request: pytest.FixtureRequest, tmp_path_factory: pytest.TempPathFactory
) -> Iterator[tuple[World, Target, str]]:
    database, target = request.param
    directory: Path = tmp_path_factory.mktemp("world")
    world = World(target.app, directory, world_database(database, directory))
    world.start()
    try:
        yield world, target, database
    finally:
        world.stop()


def _refusal(status: int, location: str) -> bool:
    return 400 <= status < 500 or (status == 303 and location.startswith("/signin?next="))


@pytest.mark.timeout(600)
@pytest.mark.parametrize("principal", PRINCIPALS)
def test_no_input_breaks_a_route(route_world: tuple[World, Target, str], principal: str) -> None:
    world, target, database = route_world
    share = (ADMITTED if target.admits(principal) else TURNED_AWAY) * DATABASE_SHARE[database]
    where = f"{target.key} as {principal} on {database}"

    def check(draft: Draft) -> None:
        credentials = world.principal(principal)
        request = wire(world, target, draft, credentials)
        world.client.cookies.clear()
        for name, value in credentials.cookies.items():
            world.client.cookies.set(name, value)
        before = world.state()
        with error_records() as records:
            response = world.client.request(
                request.method, request.url, content=request.content or None, headers=request.headers
            )
        after = world.state()
        world.client.cookies.clear()
        status, location = response.status_code, response.headers.get("location", "")
        refused = _refusal(status, location)
        if not refused:
            world.spoilt(principal)  # a sign-out, a new session: fresh credentials next time
        problems = []
        if records.records:
            problems.append(f"logged {records.describe()}")
        if status >= 500:
            json_body = response.headers.get("content-type", "").startswith("application/json")
            problems.append(f"answered {status}" + (f" {response.text[:120]}" if json_body else ""))
        # Static files keep their own caching (hearing/web/middleware.py); everything else is no-store.
        wanted = SECURITY_HEADERS[:2] if request.url.startswith("/static/") else SECURITY_HEADERS
        missing = [h for h in wanted if h not in response.headers]
        if missing:
            problems.append(f"no {', '.join(missing)} header")
        entries = world.new_entries(before, after)
        problems.extend(world.orphans(entries))
        if refused:
            problems.extend(f"refused, yet changed: {p}" for p in world.refusal_changes(before, after))
        if reaches_handler(draft) and "csrf_rejected" in response.text:
            problems.append("a valid CSRF token was refused: the harness no longer reaches the handler")
        if problems:
            raise Broken(f"{status}: " + "; ".join(problems), request.describe())

    # First the catalogue, every value once, where the handler runs (for a
    # public route, once: as anonymous) and in the path parameters for
    # everyone (a refusal records the id); then hypothesis's combinations.
    handler_runs = target.admits(principal) and (target.audience is not Audience.PUBLIC or principal == "anonymous")
    broken: list[Broken] = []
    for draft in catalogue(world, target, path_only=not handler_runs):
        try:
            check(draft)
        except Broken as failure:
            broken.append(failure)
    try:
        run_examples(f"{target.key} {principal} {database}", drafts(world, target), check, examples(share))
    except Broken as failure:
        broken.append(failure)
    if broken:
        pytest.fail(summary(where, broken), pytrace=False)


class Broken(AssertionError):
    def __init__(self, what: str, request: str) -> None:
        super().__init__(f"{what}\n  request: {request}")
        self.what, self.request = what, request


def summary(where: str, broken: list[Broken], shown: int = 3) -> str:
    """Each distinct failure once, with the count and a few requests that cause it."""
    groups: dict[str, list[Broken]] = {}
    for failure in broken:
        groups.setdefault(failure.what[:240], []).append(failure)
    lines = [f"{where}: {len(broken)} failing requests, {len(groups)} distinct failures"]
    for what, failures in groups.items():
        lines.append(f"- {what} ({len(failures)}x), e.g.")
        lines.extend(f"    {f.request}" for f in failures[:shown])
    return "\n".join(lines)
