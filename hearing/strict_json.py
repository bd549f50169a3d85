"""JSON from a client, decoded within bounds: its size, its nesting depth,
and the strictness RFC 8259 asks for where Python's json module is lax.

Python's decoder recurses once per level of nesting, so `[` x 5,000 (far
under any size limit) raises RecursionError from inside it, and a thread
with a small stack could fare worse. So the depth is measured first, by a
scan that never recurses and is linear in the input: strings are cut out
(a string's brackets are text), everything but brackets is dropped, and
innermost pairs are removed round by round; a document nested deeper than
the limit is not empty after that many rounds and never reaches the
decoder. The scan reads strings as JSON does for any well-formed prefix,
and the decoder stops at the first malformed byte, so it never nests
deeper than the scan allowed. (A third-party decoder would do: orjson, for
one, stops at 1,024 levels, but its limit is fixed; the standard library's
decoder with this scan in front bounds depth where we choose, with no new
dependency.)

Beyond that: UTF-8 only (the standard library would also guess UTF-16 or
UTF-32 from bytes), no NaN or Infinity (nor a number that overflows to it),
no duplicate member names (parsers disagree on which one wins), and no
unpaired surrogate escape (a string that cannot be encoded again fails far
from here: in the database, a log line or a reply).

Pure: no framework, no I/O.
"""

from __future__ import annotations

import json
import math
import re
from typing import Any

MAX_DEPTH = 32

# A JSON string: a quote, then anything but a quote or a backslash, or an
# escape, to the closing quote. The closing quote is optional so that an
# unterminated string matches to the end in one pass: no backtracking and no
# retry from every later quote, hence linear time on any input.
_STRING = re.compile(r'"[^"\\]*(?:\\.[^"\\]*)*"?', re.DOTALL)
_NOT_BRACKET = re.compile(r"[^\[\]{}]+")
_ONE_KIND = str.maketrans("{}", "[]")


class UnreadableJSON(ValueError):
    """The input is not JSON this system reads. `reason` is `too_large`,
    `too_deep` or `malformed`; the message says what, never echoing much."""

    def __init__(self, reason: str, message: str) -> None:
        super().__init__(message)
        self.reason = reason
        self.message = message


def _no_constants(name: str) -> Any:
    raise UnreadableJSON("malformed", f"{name} is not a JSON number")


def _finite(text: str) -> float:
    value = float(text)
    if not math.isfinite(value):
        raise UnreadableJSON("malformed", "a number is out of range")
    return value


def _unique_members(pairs: list[tuple[str, Any]]) -> dict[str, Any]:
    members = dict(pairs)
    if len(members) != len(pairs):
        raise UnreadableJSON("malformed", "an object names a member twice")
    return members


_DECODER = json.JSONDecoder(parse_constant=_no_constants, parse_float=_finite, object_pairs_hook=_unique_members)


def nesting_within(text: str, max_depth: int) -> bool | None:
    """True if `text` nests at most `max_depth` deep, False if deeper, None
    if its brackets do not pair up (so it is not JSON either way)."""
    skeleton = _NOT_BRACKET.sub("", _STRING.sub("", text)).translate(_ONE_KIND)
    for _ in range(max_depth):
        if not skeleton:
            return True
        inner = skeleton.replace("[]", "")
        if inner == skeleton:
            return None
        skeleton = inner
    return not skeleton


def _check_strings(value: object) -> None:
    # Iterative: the depth is bounded already, but the width is not.
    pending = [value]
    while pending:
        item = pending.pop()
        if isinstance(item, str):
            items: list[object] = [item]
        elif isinstance(item, dict):
            items = [*item.keys(), *item.values()]
        elif isinstance(item, list):
            items = item
        else:
            continue
        for element in items:
            if isinstance(element, str):
                try:
                    element.encode("utf-8")
                except UnicodeEncodeError:
                    raise UnreadableJSON("malformed", "a string holds an unpaired surrogate") from None
            elif isinstance(element, dict | list):
                pending.append(element)


def loads(raw: str | bytes, *, max_bytes: int, max_depth: int = MAX_DEPTH) -> object:
    """The JSON value in `raw`, or UnreadableJSON (and nothing else)."""
    if len(raw) > max_bytes:
        raise UnreadableJSON("too_large", f"at most {max_bytes} bytes")
    if isinstance(raw, bytes):
        try:
            text = raw.decode("utf-8")
        except UnicodeDecodeError:
            raise UnreadableJSON("malformed", "not UTF-8") from None
    else:
        try:
            size = len(raw.encode("utf-8"))
        except UnicodeEncodeError:
            raise UnreadableJSON("malformed", "not UTF-8") from None
        if size > max_bytes:
            raise UnreadableJSON("too_large", f"at most {max_bytes} bytes")
        text = raw
    within = nesting_within(text, max_depth)
    if within is False:
        raise UnreadableJSON("too_deep", f"nested more than {max_depth} deep")
    if within is None:
        raise UnreadableJSON("malformed", "brackets do not pair up")
    try:
        value = _DECODER.decode(text)
    except UnreadableJSON:
        raise
    except ValueError as exc:  # json.JSONDecodeError, and int()'s digit limit
        raise UnreadableJSON("malformed", f"not JSON ({str(exc)[:80]})") from None
    _check_strings(value)
    return value
