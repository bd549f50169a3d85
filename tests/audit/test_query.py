"""The auditor's filters over the system events: what a form or a command
line says, parsed or refused with invalid_input, never anything else."""

from __future__ import annotations

from datetime import UTC, datetime
from zoneinfo import ZoneInfo

import pytest
from hypothesis import given
from hypothesis import strategies as st

from hearing.audit import query
from hearing.audit.query import ActorFilter
from hearing.errors import InvalidInput

CPH = ZoneInfo("Europe/Copenhagen")


def test_dates_are_the_courts_days_and_until_takes_the_whole_day() -> None:
    asked = query.parse({"since": "2026-12-01", "until": "2026-12-01"}, CPH)
    assert asked.since == datetime(2026, 11, 30, 23, 0, tzinfo=UTC)
    assert asked.until == datetime(2026, 12, 1, 23, 0, tzinfo=UTC)
    timed = query.parse({"since": "2026-12-01T09:30", "until": "2026-12-01 10:00:30"}, CPH)
    assert (timed.since, timed.until) == (
        datetime(2026, 12, 1, 8, 30, tzinfo=UTC),
        datetime(2026, 12, 1, 9, 0, 30, tzinfo=UTC),
    )
    assert timed.described() == {"since": "2026-12-01T08:30:00+00:00", "until": "2026-12-01T09:00:30+00:00"}


@pytest.mark.parametrize(
    ("text", "actor"),
    [
        ("anonymous", ActorFilter("anonymous")),
        ("system", ActorFilter("system")),
        ("user:5", ActorFilter("user", 5)),
        ("device:12", ActorFilter("device", 12)),
        ("judge.holm", ActorFilter("user", username="judge.holm")),
    ],
)
def test_actors(text: str, actor: ActorFilter) -> None:
    assert query.parse({"actor": text}, CPH).actor == actor
    assert str(actor) == text


def test_nothing_given_is_no_filter() -> None:
    assert query.parse({}, CPH) == query.parse({key: "" for key in query.FIELDS}, CPH) == query.SystemQuery()


NEAR_MISSES = st.one_of(
    st.text(max_size=40),
    st.from_regex(r"\d{4}-\d\d-\d\d([T ]\d\d:\d\d(:\d\d)?)?", fullmatch=True),
    st.integers().map(str),
    st.sampled_from(["user:", "device:1", "system:3", "access.denied", "0", "500", "501"]),
)


@given(st.dictionaries(st.sampled_from(query.FIELDS), NEAR_MISSES))
def test_any_input_is_a_query_or_invalid_input(values: dict[str, str]) -> None:
    try:
        asked = query.parse(values, CPH)
    except InvalidInput as exc:
        assert exc.code == "invalid_input" and exc.field in query.FIELDS
    else:
        assert 1 <= asked.limit <= query.MAX_LIMIT
        assert asked.since is None or asked.since.tzinfo is not None
