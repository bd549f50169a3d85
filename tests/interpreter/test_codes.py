"""The pure rules of a one-time code: how it is made, read, timed and judged."""

from __future__ import annotations

import collections
from datetime import UTC, datetime, timedelta

import pytest
from hypothesis import given
from hypothesis import strategies as st

from hearing.interpreter import codes
from hearing.interpreter.codes import CodeStanding, Verdict

START = datetime(2026, 12, 1, 9, 0, tzinfo=UTC)
END = START + timedelta(minutes=30)
FROM, UNTIL = codes.window(START, END, 30)
NOW = START


def live(**changes: object) -> CodeStanding:
    fields: dict[str, object] = {"valid_from": FROM, "valid_until": UNTIL, "failed_attempts": 0}
    fields.update(changes)
    return CodeStanding(**fields)  # type: ignore[arg-type]


def test_a_new_code_is_eight_ascii_digits_and_codes_differ() -> None:
    made = [codes.new_code() for _ in range(2000)]
    assert all(len(c) == codes.CODE_DIGITS and c.isascii() and c.isdigit() for c in made)
    assert len(set(made)) > 1990  # 2000 draws from 10^8: a repeat or two at most
    # Every digit position takes every digit (the leading zero included).
    for position in range(codes.CODE_DIGITS):
        assert {c[position] for c in made} == set("0123456789")


def test_a_new_invitation_is_ten_unambiguous_characters() -> None:
    made = [codes.new_invitation() for _ in range(500)]
    assert all(len(i) == codes.INVITATION_LENGTH for i in made)
    assert set("".join(made)) <= set(codes.INVITATION_ALPHABET)
    assert not set("0o1li") & set(codes.INVITATION_ALPHABET)
    assert len(set(made)) == len(made)
    assert all(codes.normalise_invitation(i) == i for i in made)


@pytest.mark.parametrize(
    ("typed", "read"),
    [
        ("12345678", "12345678"),
        ("1234 5678", "12345678"),
        (" 1234-5678 ", "12345678"),
        ("1234\u00a05678", "12345678"),
        ("1234\u20135678", "12345678"),
        ("1 2 3 4 5 6 7 8", "12345678"),
        ("01234567", "01234567"),
        ("1234567", None),
        ("123456789", None),
        ("", None),
        ("1234 567a", None),
        ("١٢٣٤٥٦٧٨", None),  # Arabic-Indic digits are digits to str.isdigit, not to us
        ("１２３４５６７８", None),  # full-width
        ("1234\n5678", None),
        ("1234_5678", None),
        ("+12345678", None),
        ("1" * 33, None),
        ("-" * 24 + "12345678", "12345678"),  # at the cap
        ("-" * 25 + "12345678", None),  # past the cap
    ],
)
def test_normalise(typed: str, read: str | None) -> None:
    assert codes.normalise(typed) == read


@given(st.text(max_size=64))
def test_normalise_gives_eight_ascii_digits_or_nothing(typed: str) -> None:
    read = codes.normalise(typed)
    assert read is None or (len(read) == 8 and read.isascii() and read.isdigit())


def test_normalise_refuses_a_huge_input_before_any_work() -> None:
    assert codes.normalise("1" * 10_000_000) is None
    assert codes.normalise_invitation("a" * 10_000_000) is None


@pytest.mark.parametrize(
    "raw", ["", "abcdefghj", "abcdefghjkm", "abcdefghj0", "abcdefghjl", "abcdefghj/", "ábcdefghjk"]
)
def test_a_malformed_invitation_reads_as_none(raw: str) -> None:
    assert codes.normalise_invitation(raw) is None


def test_grouped_reads_four_and_four() -> None:
    assert codes.grouped("01234567") == "0123 4567"
    assert codes.normalise(codes.grouped("01234567")) == "01234567"


def test_the_window_opens_early_and_closes_at_the_end() -> None:
    assert (FROM, UNTIL) == (START - timedelta(minutes=30), END)
    assert codes.window(START, END, 0) == (START, END)
    with pytest.raises(ValueError):
        codes.window(START.replace(tzinfo=None), END, 30)
    with pytest.raises(ValueError):
        codes.window(END, START, 30)
    with pytest.raises(ValueError):
        codes.window(START, END, -1)
    assert codes.closes_at(UNTIL, hearing_live=False) == UNTIL
    assert codes.closes_at(UNTIL, hearing_live=True) == UNTIL + codes.LATE_GRACE


def judge(code: CodeStanding, matches: bool = True, now: datetime = NOW, **kw: bool) -> Verdict:
    return codes.verdict(code, matches, now, hearing_ended=kw.get("ended", False), hearing_live=kw.get("live", False))


def test_verdicts() -> None:
    assert judge(live()) is Verdict.ACCEPTED
    assert judge(live(), matches=False) is Verdict.WRONG_CODE
    assert judge(live(), now=FROM - timedelta(seconds=1)) is Verdict.OUTSIDE_WINDOW
    assert judge(live(), now=FROM) is Verdict.ACCEPTED
    assert judge(live(), now=UNTIL) is Verdict.OUTSIDE_WINDOW
    assert judge(live(), now=UNTIL, live=True) is Verdict.ACCEPTED
    assert judge(live(), now=UNTIL + codes.LATE_GRACE, live=True) is Verdict.OUTSIDE_WINDOW
    assert judge(live(), ended=True) is Verdict.HEARING_ENDED
    assert judge(live(used_at=NOW)) is Verdict.USED
    assert judge(live(revoked_at=NOW)) is Verdict.REVOKED
    assert judge(live(locked_at=NOW)) is Verdict.LOCKED
    # The lock holds from the count itself, even before locked_at is written.
    assert judge(live(failed_attempts=codes.MAX_FAILURES)) is Verdict.LOCKED
    assert judge(live(failed_attempts=codes.MAX_FAILURES - 1)) is Verdict.ACCEPTED
    # A dead code says why it is dead, whatever was typed; revoked says most.
    assert judge(live(used_at=NOW, revoked_at=NOW, locked_at=NOW), matches=False) is Verdict.REVOKED
    assert judge(live(used_at=NOW, locked_at=NOW)) is Verdict.LOCKED
    # A wrong code is a wrong code before the window too (guessing is counted).
    assert judge(live(), matches=False, now=FROM - timedelta(days=1)) is Verdict.WRONG_CODE


def test_what_counts_towards_the_lock() -> None:
    counted = {v for v in Verdict if codes.counts(v)}
    assert counted == {Verdict.WRONG_CODE, Verdict.USED, Verdict.REVOKED, Verdict.LOCKED, Verdict.WRONG_TOTP}


def test_the_state_the_clerk_sees() -> None:
    assert codes.state(None, NOW) == "none"
    assert codes.state(live(), FROM - timedelta(hours=1)) == "live"
    assert codes.state(live(), UNTIL) == "expired"
    assert codes.state(live(), UNTIL, hearing_live=True) == "live"
    assert codes.state(live(used_at=NOW), UNTIL) == "used"
    assert codes.state(live(revoked_at=NOW), NOW) == "revoked"
    assert codes.state(live(failed_attempts=5), NOW) == "locked"


def test_the_verdict_values_are_the_audits_reason_words() -> None:
    from hearing.audit.sentences import CODE_FAILURES

    assert {v.value for v in Verdict} - {"accepted"} == set(CODE_FAILURES)


def test_code_digits_are_nearly_uniform() -> None:
    # HOTP's truncation is 31 bits mod 10^8: no digit value is far from a tenth.
    counts = collections.Counter("".join(codes.new_code() for _ in range(3000)))
    assert all(abs(n / 24000 - 0.1) < 0.02 for n in counts.values())
