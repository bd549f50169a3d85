"""What people type, read the same way everywhere: free text, whole numbers
and days. The web forms, the CLI and the services all call these, so a
rule holds whichever way a value arrives.

Pure: no framework, no I/O.
"""

from __future__ import annotations

import re
import unicodedata
from datetime import date, datetime

from hearing.errors import InvalidInput

# A number in a form or an argument is ASCII digits and nothing else:
# str.isdigit() and int() also take '²', '٣', '３', '3_0', '+3' and spaces.
# Eighteen digits keep every id below 2^63 - 1, the databases' integer.
_DIGITS = re.compile(r"[0-9]{1,18}")
MAX_DIGITS = 18
# Every id column is an `integer` on PostgreSQL: 32 bits, signed (SQLite's
# are 64). An id past MAX_ID names nothing and must never reach a query,
# where the driver would fail on it; nine digits always fit.
MAX_ID = 2**31 - 1
ID_DIGITS = 9

# Any day the system reads or keeps. Video hearings began in 2016, and no
# booking reaches beyond a few years; inside this window no day's end, no
# time zone's offset and no database's range can overflow.
EARLIEST_DAY = date(2000, 1, 1)
LATEST_DAY = date(2199, 12, 31)

# Unicode categories refused in free text: controls (Cc: NUL, DEL, NEL...),
# formatting (Cf: bidi overrides and isolates, marks, BOM, zero-width
# characters, the soft hyphen), surrogates, private use and unassigned code
# points, and the line and paragraph separators. Danish text needs none of
# them: æ, ø and å are letters of their own, and names as the civil registry
# and the courts write them are Latin script, where no joiner or direction
# mark changes a word. A name shown on the docket must read as it is stored.
REFUSED_CATEGORIES = frozenset({"Cc", "Cf", "Cs", "Co", "Cn", "Zl", "Zp"})
# After NFC, Danish needs no combining mark at all; other languages stack a
# few at most. A longer run is a tower of accents drawn over its neighbours.
MAX_COMBINING_RUN = 3
# What is trimmed from the ends: the space separators (Zs) only. str.strip()
# would also take NEL, the line separators and other controls away
# silently; those are refused wherever they stand.
SPACES = "\u0020\u00a0\u1680\u2000\u2001\u2002\u2003\u2004\u2005\u2006\u2007\u2008\u2009\u200a\u202f\u205f\u3000"


def _label(field: str) -> str:
    return field.replace("_", " ").capitalize()


def refused_character(text: str, *, multiline: bool = False) -> str | None:
    """The first character free text may not hold, if any."""
    run = 0
    for ch in text:
        if multiline and ch in "\n\t":
            run = 0
            continue
        category = unicodedata.category(ch)
        if category in REFUSED_CATEGORIES:
            return ch
        run = run + 1 if category in ("Mn", "Me") else 0
        if run > MAX_COMBINING_RUN:
            return ch
    return None


def free_text(
    raw: str, *, field: str, limit: int, required: bool = True, multiline: bool = False, label: str | None = None
) -> str:
    """Text a person typed, as it is kept and shown: NFC, trimmed, without
    invisible or direction-changing characters, at most `limit` characters
    (counted after NFC). A multi-line field keeps newlines and tabs (a
    browser's CRLF becomes LF); a single-line one refuses them."""
    label = label or _label(field)
    value = unicodedata.normalize("NFC", raw)
    if multiline:
        value = value.replace("\r\n", "\n").replace("\r", "\n")
    value = value.strip(SPACES + "\n\t" if multiline else SPACES)
    if required and not value:
        raise InvalidInput(f"{label} is required.", field=field)
    if len(value) > limit:
        raise InvalidInput(f"{label} is at most {limit} characters.", field=field)
    if refused_character(value, multiline=multiline) is not None:
        raise InvalidInput(f"{label} contains control characters or invisible formatting.", field=field)
    return value


def whole_number(raw: str, *, field: str, label: str | None = None) -> int:
    """A non-negative number typed as ASCII digits (spaces around it allowed)."""
    text = raw.strip(" ")
    if not _DIGITS.fullmatch(text):
        raise InvalidInput(f"{label or _label(field)} must be a number.", field=field)
    return int(text)


def within_calendar(day: date, *, field: str, label: str | None = None) -> date:
    """A day inside the window every stored or compared day lies in."""
    if not EARLIEST_DAY <= day <= LATEST_DAY:
        raise InvalidInput(
            f"{label or _label(field)} must lie between {EARLIEST_DAY} and {LATEST_DAY}.",
            field=field,
        )
    return day


def moment_within_calendar(moment: datetime, *, field: str, label: str | None = None) -> datetime:
    """A time whose own calendar day (in its own offset) is in the window:
    checked before any arithmetic or conversion that could overflow."""
    within_calendar(moment.date(), field=field, label=label)
    return moment
