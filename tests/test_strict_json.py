"""hearing/strict_json.py: a client's JSON, within bounds."""

from __future__ import annotations

import json

import pytest
from hypothesis import example, given
from hypothesis import strategies as st

from hearing import strict_json
from hearing.strict_json import MAX_DEPTH, UnreadableJSON, loads, nesting_within

LIMIT = 64 * 1024


def nested(depth: int, opener: str = "[", closer: str = "]") -> str:
    return opener * depth + closer * depth


def test_ordinary_messages_decode_as_json_does() -> None:
    for document in (
        '{"type": "offer", "sdp": "v=0\\r\\n", "views": ["courtroom"]}',
        '{"action": "mute", "seat": "custody", "version": 7}',
        '["a", 1, 2.5, true, false, null, {"k": [{}]}]',
        '"text [[[ with brackets {{{ and \\" escaped quotes ]]]"',
        '{"emoji": "\\ud83d\\ude00", "dansk": "æøå"}',
        "  42  ",
    ):
        assert loads(document, max_bytes=LIMIT) == json.loads(document)
        assert loads(document.encode(), max_bytes=LIMIT) == json.loads(document)


@pytest.mark.parametrize("opener", ["[", '{"a":'])
def test_nesting_up_to_the_limit_is_read_deeper_is_refused(opener: str) -> None:
    closer = "]" if opener == "[" else "}"
    if opener == "[":
        assert loads(nested(MAX_DEPTH), max_bytes=LIMIT) is not None
    else:
        assert loads(opener * MAX_DEPTH + "1" + closer * MAX_DEPTH, max_bytes=LIMIT)
    deeper = nested(MAX_DEPTH + 1) if opener == "[" else opener * (MAX_DEPTH + 1) + "1" + closer * (MAX_DEPTH + 1)
    with pytest.raises(UnreadableJSON) as refused:
        loads(deeper, max_bytes=LIMIT)
    assert refused.value.reason == "too_deep"


@pytest.mark.parametrize(
    "document",
    [
        "[" * 5000 + "]" * 5000,
        "[" * 5000,  # never closed
        '{"a":' * 5000 + "1" + "}" * 5000,
        "[" * 30000,
        '{"type": "ping", "x": ' + "[" * 5000 + "]" * 5000 + "}",
    ],
)
def test_deep_nesting_is_refused_before_the_decoder_runs(monkeypatch: pytest.MonkeyPatch, document: str) -> None:
    class Untouchable:
        def decode(self, text: str) -> object:
            raise AssertionError("the decoder was reached")

    monkeypatch.setattr(strict_json, "_DECODER", Untouchable())
    with pytest.raises(UnreadableJSON) as refused:
        loads(document, max_bytes=LIMIT)
    assert refused.value.reason in ("too_deep", "malformed")


def test_brackets_inside_strings_are_text() -> None:
    text = '["' + "[" * 5000 + '", "\\"]]]]", "{"]'
    assert loads(text, max_bytes=LIMIT) == ["[" * 5000, '"]]]]', "{"]
    assert nesting_within(text, 1) is True


@pytest.mark.parametrize(
    ("document", "reason"),
    [
        ("NaN", "malformed"),
        ("[Infinity]", "malformed"),
        ("[-Infinity]", "malformed"),
        ("1e999", "malformed"),
        ('{"a": 1, "a": 2}', "malformed"),
        ('"\\ud800"', "malformed"),
        ('{"\\udfff": 1}', "malformed"),
        ("1" * 5000, "malformed"),
        ("[1,]", "malformed"),
        ("{'a': 1}", "malformed"),
        ("\ufeff[]", "malformed"),
        ("", "malformed"),
        ("[}", "malformed"),
        ("]]", "malformed"),
    ],
)
def test_what_python_takes_and_json_does_not_is_refused(document: str, reason: str) -> None:
    with pytest.raises(UnreadableJSON) as refused:
        loads(document, max_bytes=LIMIT)
    assert refused.value.reason == reason


def test_bytes_must_be_utf8() -> None:
    for raw in ('["æ"]'.encode("utf-16"), '["æ"]'.encode("utf-32"), b'["\xff"]', b'["\xed\xa0\x80"]'):
        with pytest.raises(UnreadableJSON) as refused:
            loads(raw, max_bytes=LIMIT)
        assert refused.value.reason == "malformed"


def test_size_is_counted_in_bytes() -> None:
    assert loads('"' + "a" * 98 + '"', max_bytes=100) == "a" * 98
    for raw in ('"' + "a" * 99 + '"', '"' + "æ" * 50 + '"', ("[" + "1," * 60 + "1]").encode()):
        with pytest.raises(UnreadableJSON) as refused:
            loads(raw, max_bytes=100)
        assert refused.value.reason == "too_large"


def test_an_unterminated_string_is_one_match_to_the_end() -> None:
    """What keeps the scan linear: a string that never closes is consumed in
    one match, so the scan never retries from every later quote (which
    would be quadratic: minutes for 64 KiB of escaped quotes)."""
    hostile = '"' + '\\"' * 32000
    match = strict_json._STRING.match(hostile)
    assert match is not None and match.end() == len(hostile)
    assert [m.span() for m in strict_json._STRING.finditer('"a" "b\\" c')] == [(0, 3), (4, 10)]
    with pytest.raises(UnreadableJSON):
        loads(hostile, max_bytes=LIMIT)


JSONISH = st.text(st.sampled_from('[]{}",:\\ 0123456789.eE+-truefalsnul\x00\ud800æ'), max_size=200)


@given(st.binary(max_size=300))
@example(b"[" * 300)
@example(b'"\\')
@example(b"\xef\xbb\xbf[]")
def test_arbitrary_bytes_decode_or_raise_only_unreadable_json(raw: bytes) -> None:
    try:
        loads(raw, max_bytes=LIMIT, max_depth=8)
    except UnreadableJSON as exc:
        assert exc.reason in ("too_large", "too_deep", "malformed")


@given(JSONISH)
def test_arbitrary_jsonish_text_agrees_with_json_or_is_refused(text: str) -> None:
    try:
        value = loads(text, max_bytes=LIMIT, max_depth=8)
    except UnreadableJSON:
        return
    # Whatever is read is what the standard library reads, and encodes again.
    assert value == json.loads(text)
    json.dumps(value, ensure_ascii=False).encode("utf-8")


@given(
    st.recursive(
        st.none() | st.booleans() | st.integers() | st.text(),
        lambda c: st.lists(c) | st.dictionaries(st.text(), c),
        max_leaves=30,
    )
)
def test_every_shallow_json_value_round_trips(value: object) -> None:
    text = json.dumps(value)
    depth_ok = nesting_within(text, MAX_DEPTH)
    if depth_ok:
        try:
            assert loads(text, max_bytes=10**6) == value
        except UnreadableJSON as exc:
            # Only a string that was never text (an unpaired surrogate) is refused.
            assert exc.reason == "malformed" and "surrogate" in exc.message
