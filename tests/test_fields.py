"""hearing/fields.py: free text, whole numbers and days, as people type them."""

from __future__ import annotations

import unicodedata
from datetime import date, datetime, timedelta, timezone

import pytest
from hypothesis import example, given
from hypothesis import strategies as st

from hearing.errors import InvalidInput
from hearing.fields import (
    EARLIEST_DAY,
    LATEST_DAY,
    MAX_COMBINING_RUN,
    REFUSED_CATEGORIES,
    SPACES,
    free_text,
    moment_within_calendar,
    refused_character,
    whole_number,
    within_calendar,
)

# Any code point, lone surrogates too (argv hands undecodable bytes on as
# those), with the characters that matter here drawn more often.
TRICKY = "\u202e\u2066\u200f\u2028\u2029\x7f\x85\ufeff\u200b\u00ad\r\n\t \u3000\u0301\u030a\u0316åæøÅ"
ANY_TEXT = st.text(st.one_of(st.characters(exclude_categories=[]), st.sampled_from(TRICKY)), max_size=60)
LIMIT = 40


def _clean(value: str, multiline: bool) -> bool:
    allowed = "\n\t" if multiline else ""
    return all(ch in allowed or unicodedata.category(ch) not in REFUSED_CATEGORIES for ch in value)


@given(ANY_TEXT, st.booleans())
@example("Jens \u202eneshnaH", False)
@example("a\r\nb\rc", True)
@example(" \u0301a ", False)
def test_free_text_returns_clean_nfc_text_or_refuses(raw: str, multiline: bool) -> None:
    try:
        value = free_text(raw, field="name", limit=LIMIT, required=False, multiline=multiline)
    except InvalidInput as exc:
        assert exc.field == "name"
        return
    assert unicodedata.is_normalized("NFC", value)
    assert _clean(value, multiline)
    assert "\r" not in value
    assert len(value) <= LIMIT
    assert value == value.strip(SPACES)
    # Idempotent: what was kept is kept again, unchanged.
    assert free_text(value, field="name", limit=LIMIT, required=False, multiline=multiline) == value


@given(ANY_TEXT)
def test_free_text_refuses_exactly_when_a_refused_character_remains(raw: str) -> None:
    normal = unicodedata.normalize("NFC", raw).strip(SPACES)
    if not normal or len(normal) > LIMIT:
        return
    try:
        free_text(raw, field="name", limit=LIMIT)
        refused = False
    except InvalidInput:
        refused = True
    assert refused == (refused_character(normal) is not None)


@pytest.mark.parametrize(
    "char",
    [
        "\u202e",  # RIGHT-TO-LEFT OVERRIDE
        "\u202d",
        "\u2066",
        "\u2069",
        "\u200e",
        "\u200f",
        "\u061c",  # ARABIC LETTER MARK
        "\u2028",
        "\u2029",
        "\x7f",
        "\x85",
        "\ufeff",
        "\u200b",
        "\u200d",
        "\u00ad",
        "\x00",
        "\x1b",
        "\ue000",
        "\U000e0001",  # LANGUAGE TAG
        "\udcff",  # a byte that was not UTF-8, as argv hands it on
    ],
)
def test_invisible_and_direction_characters_are_refused(char: str) -> None:
    with pytest.raises(InvalidInput, match="control characters"):
        free_text(f"Jens{char}Hansen", field="detainee_name", limit=200)


def test_danish_text_is_kept_and_composed() -> None:
    assert free_text("  Søren Ærø Åse  ", field="name", limit=200) == "Søren Ærø Åse"
    assert free_text("A\u030ase", field="name", limit=200) == "\u00c5se"
    assert free_text("Øster-Bæk, advokat (Aalborg)", field="name", limit=200) == "Øster-Bæk, advokat (Aalborg)"
    # Names from elsewhere, as Danish records write them, are letters too.
    assert free_text("Nguyễn Văn Đức", field="name", limit=200) == "Nguyễn Văn Đức"
    assert free_text("Zoë Łukasz Şahin", field="name", limit=200) == "Zoë Łukasz Şahin"


def test_length_is_counted_in_characters_after_nfc() -> None:
    assert free_text("a\u030a" * 10, field="name", limit=10) == "å" * 10
    with pytest.raises(InvalidInput, match="at most 10"):
        free_text("å" * 11, field="name", limit=10)


def test_a_tower_of_accents_is_refused() -> None:
    assert free_text("e" + "\u0301\u0302\u0303"[:MAX_COMBINING_RUN], field="n", limit=9)
    with pytest.raises(InvalidInput):
        free_text("e" + "\u0316" * (MAX_COMBINING_RUN + 1), field="n", limit=9)


def test_multi_line_text_keeps_newlines_and_tabs_single_line_refuses_them() -> None:
    assert free_text("one\r\n\ttwo\rthree", field="notes", limit=99, multiline=True) == "one\n\ttwo\nthree"
    for text in ("one\ntwo", "one\ttwo"):
        with pytest.raises(InvalidInput):
            free_text(text, field="name", limit=99)


def test_required_and_optional() -> None:
    with pytest.raises(InvalidInput, match="Detainee name is required"):
        free_text(" \u3000 ", field="detainee_name", limit=9)
    assert free_text("", field="prosecutor", limit=9, required=False) == ""


@pytest.mark.parametrize("raw", ["0", "7", "30", " 30 ", "000000000000000042", "999999999999999999"])
def test_whole_numbers_are_ascii_digits(raw: str) -> None:
    assert whole_number(raw, field="minutes") == int(raw)


@pytest.mark.parametrize(
    "raw",
    ["", " ", "²", "³", "٣٠", "３０", "3_0", "+3", "-3", "3.0", "0x1f", "1e3", "30\u00a0", "9" * 19, "⑦", "\u0663"],
)
def test_anything_else_is_not_a_number(raw: str) -> None:
    with pytest.raises(InvalidInput, match="Minutes must be a number") as refused:
        whole_number(raw, field="minutes")
    assert refused.value.field == "minutes"


@given(st.text(max_size=25))
def test_whole_number_never_raises_anything_else(raw: str) -> None:
    try:
        value = whole_number(raw, field="n")
    except InvalidInput:
        return
    assert 0 <= value < 2**63 and raw.strip(" ").isascii()


def test_the_calendar_window() -> None:
    assert within_calendar(EARLIEST_DAY, field="day") == EARLIEST_DAY
    assert within_calendar(LATEST_DAY, field="day") == LATEST_DAY
    for day in (date.min, date.max, EARLIEST_DAY - timedelta(days=1), LATEST_DAY + timedelta(days=1)):
        with pytest.raises(InvalidInput) as refused:
            within_calendar(day, field="day")
        assert refused.value.field == "day"
    for moment in (datetime.max.replace(tzinfo=timezone(timedelta(hours=14))), datetime.min.replace(tzinfo=None)):
        with pytest.raises(InvalidInput):
            moment_within_calendar(moment, field="start")


def test_only_spaces_are_trimmed_and_they_are_every_space_separator() -> None:
    assert set(SPACES) == {chr(c) for c in range(0x110000) if unicodedata.category(chr(c)) == "Zs"}
    assert free_text("\u00a0 Jens\u3000", field="name", limit=9) == "Jens"
    for edge in ("\n", "\t", "\x85", "\u2028", "\x1f"):
        with pytest.raises(InvalidInput):
            free_text(f"Jens{edge}", field="name", limit=9)
    assert free_text("\n one\n\t", field="notes", limit=9, multiline=True) == "one"
