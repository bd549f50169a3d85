"""Hostile values: what an attacker (or a confused client) types into a field.

Each family is what the outside review threw at the demo (issue 10): numbers
that overflow a 64-bit column, digits that `str.isdigit()` takes and `int()`
refuses, the calendar's first and last days, text that lies on screen (bidi
overrides, line separators, NUL, DEL, NEL, BOM), fields longer than any limit,
and JSON nested deeper than any parser's recursion. Pure: no I/O.
"""

from __future__ import annotations

import json
from typing import Any

from hypothesis import strategies as st

INT64_MAX = 2**63 - 1

# Integers as text, the way they arrive in a path, a query or a form.
NUMBERS = [
    "0",
    "-1",
    "1",
    str(INT64_MAX),
    str(2**63),
    str(2**64),
    str(-(2**63) - 1),
    "1" + "0" * 40,
    "0" * 60 + "1",
    "9" * 5000,  # beyond Python's 4,300-digit int() limit
    "²",
    "³",
    "¹²",
    "١٢٣",  # Arabic-Indic
    "۱۲",  # Extended Arabic-Indic
    "१२",  # Devanagari
    "１２",  # fullwidth
    "1e3",
    "0x10",
    " 7",
    "7 ",
    "1_000",
    "+5",
    "NaN",
    "Infinity",
    "3.5",
    "",
]

DATES = [
    "0001-01-01",
    "9999-12-31",
    "0000-00-00",
    "1970-01-01",
    "2026-02-30",
    "2026-13-01",
    "10000-01-01",
    "2026-1-1",
    "20261123",
    "2026-W48-1",
    "١٩٧٠-٠١-٠١",
    "２０２６-１１-２３",
]

DATETIMES = [
    "0001-01-01T00:00",
    "0001-01-01T00:00:00+14:00",
    "9999-12-31T23:59",
    "9999-12-31T23:59:59.999999-12:00",
    "1970-01-01T00:00",
    "1970-01-01T00:00Z",
    "2026-11-23T10:30+23:59",
    "2026-11-23T24:00",
    "2026-11-23T10:30:00.0000000001",
    "2026-11-23 10:30",
    "٢٠٢٦-١١-٢٣T١٠:٣٠",
]

# One of each character class a screen can be lied to with.
CONTROLS = [
    "\x00",  # NUL
    "\x07",
    "\x1b[31m",  # an ANSI escape, for whoever reads the log in a terminal
    "\x7f",  # DEL
    "\x85",  # NEL
    "\u00ad",  # soft hyphen (Cf)
    "\u200b",  # zero width space
    "\u200d",  # zero width joiner
    "\u200e",  # left-to-right mark
    "\u202a",
    "\u202e",  # right-to-left override
    "\u2066",
    "\u2069",
    "\u2028",  # line separator
    "\u2029",  # paragraph separator
    "\ufeff",  # BOM
    "\ufff9",
    "\U000e0001",  # language tag
    "\r\n",
    "\t",
]

TEXTS = [
    *CONTROLS,
    "Jens \u202eneshnaH",
    "SS 1-100/2026\u202e",
    "e\u0301",  # decomposed é (not NFC)
    "\u00e9",
    "Ærø Å",
    "😀" * 3,
    "𝕳𝖊𝖆𝖗𝖎𝖓𝖌",
    "\U0010ffff",
    "<script>alert(1)</script>",
    "\"'><img src=x>",
    "{{ 7*7 }}",
    "%00",
    "%2e%2e%2f",
    "../../etc/passwd",
    "'; DROP TABLE hearing; --",
    "null",
    "true",
    " ",
    "A" * 65,
    "A" * 201,
    "A" * 2001,  # over the form's 2,000-character field limit
    "Æ" * 1500,  # under it in characters, over it in bytes
    "[" * 5000,
    '{"a":' * 5000,
]


def _encodable(text: str) -> bool:
    # A form or URL cannot carry a lone surrogate: the client could not send it.
    try:
        text.encode("utf-8")
    except UnicodeEncodeError:
        return False
    return True


any_text = st.one_of(
    st.sampled_from(TEXTS),
    st.sampled_from(NUMBERS),
    st.sampled_from(DATES),
    st.sampled_from(DATETIMES),
    st.lists(st.sampled_from([*CONTROLS, "a", "Z", "7", " ", "-", "/", ":", "æ", "²"]), max_size=12).map("".join),
    st.text(max_size=30).filter(_encodable),
)
"""Any hostile text: what goes into a form field, a query value or a path segment."""

field_names = st.one_of(
    st.sampled_from(["", "csrf_token", "__proto__", "a" * 300, "x\u202e", "\x00", "next", "id", "type"]),
    st.text(min_size=1, max_size=12).filter(_encodable),
)
"""Names of fields nobody asked for."""

# Numbers a JSON parser reads as numbers, at and beyond every integer width.
JSON_NUMBERS: list[Any] = [
    0,
    -1,
    2**31,
    2**53,
    INT64_MAX,
    2**63,
    2**64,
    -(2**63) - 1,
    10**400,
    1.5,
    -0.0,
    1e308,
    float("inf"),
    float("nan"),
]

json_leaves = st.one_of(
    st.none(),
    st.booleans(),
    st.sampled_from(JSON_NUMBERS),
    st.integers(),
    any_text,
)
json_values = st.recursive(
    json_leaves,
    lambda inner: st.one_of(st.lists(inner, max_size=4), st.dictionaries(field_names, inner, max_size=4)),
    max_leaves=10,
)
"""Any JSON value (as Python), hostile at its leaves."""

# JSON text that no well-formed value is: nesting, lone surrogates, duplicate
# keys, numbers too long to read, BOMs, truncation.
RAW_JSON = [
    "[" * 5000,
    "[" * 5000 + "]" * 5000,
    '{"a":' * 5000 + "1" + "}" * 5000,
    '{"action": "mute", "seat": "\\ud800"}',
    '{"type": "ping", "nonce": "\\udfff"}',
    '{"action": "mute", "action": "unmute", "seat": "custody"}',
    '{"type": "ping", "type": "leave", "nonce": 1}',
    '{"type": "ping", "nonce": ' + "9" * 5000 + "}",
    '{"type": "ping", "nonce": 1e999}',
    '{"type": "ping", "nonce": NaN}',
    '{"action": "mute", "seat": "custody"',
    "\ufeff{}",
    "",
    "null",
    "[]",
    '"action"',
    "\x00",
]


def dumps(value: Any) -> str:
    """JSON as Python writes it: NaN and Infinity included, as a sloppy client would."""
    return json.dumps(value, ensure_ascii=False)
