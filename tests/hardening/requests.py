"""Hostile HTTP requests for one route: hypothesis strategies, and how a
drawn request becomes bytes on the wire.

Most fields of a request carry a value its handler accepts, and a few a
hostile one, so that the hostile value reaches the validation that has to
refuse it instead of being stopped by the first missing field. The CSRF
token is valid in most requests (the principal's own, from its own page)
so that what is exercised is the handler, not only the CSRF check.
"""

from __future__ import annotations

import dataclasses
import re
from collections.abc import Callable
from typing import Any
from urllib.parse import quote, urlencode

from hypothesis import strategies as st

from hearing.speaker_order.commands import COMMANDS
from tests.hardening import hostile
from tests.hardening.routes import Target
from tests.hardening.world import Principal, World

CSRF_FIELD, CSRF_HEADER = "csrf_token", "X-CSRF-Token"
BOUNDARY = "harness7MA4YWxkTrZu0gW"
CSRF_MODES = ("valid", "valid", "valid", "valid", "missing", "wrong", "short", "duplicate", "non_ascii")
ACCEPTS = (None, "application/json", "text/html", "*/*", "application/json, text/html")
WRONG_TYPES = (
    "",
    "text/plain",
    "application/xml",
    "application/json",
    "application/x-www-form-urlencoded",
    "application/x-www-form-urlencoded; charset=utf-16",
    "multipart/form-data",
    "multipart/form-data; boundary=",
    "multipart/form-data; boundary=" + "b" * 300,
    "application/json; charset=utf-32",
    "image/png",
)


@dataclasses.dataclass(frozen=True)
class Draft:
    """One request, before it has its principal's credentials."""

    path: dict[str, str]
    query: list[tuple[str, str]]
    body: str  # form, multipart, multipart_file, json, raw_json, bytes, oversized, none
    fields: list[tuple[str, str]]
    document: Any
    raw: bytes
    content_type: str | None  # None: the body's own type
    csrf: str
    accept: str | None


@dataclasses.dataclass(frozen=True)
class Wire:
    method: str
    url: str
    headers: dict[str, str | bytes]
    content: bytes

    shown: str = ""  # the body, its valid fields left out

    def describe(self) -> str:
        # Credentials and tokens are the harness's own; the hostile part is the rest.
        headers = {k: v for k, v in self.headers.items() if k not in ("Authorization", CSRF_HEADER)}
        body = self.shown or (_short(self.content) if self.content else "")
        return f"{self.method} {_short(self.url, 200)} {headers or ''} {body}".strip()


def _short(value: str | bytes, limit: int = 300) -> str:
    shown = repr(value[:limit])
    return shown + (f"... ({len(value)} in all)" if len(value) > limit else "")


# --- path, query and form values -----------------------------------------------------

STATIC_PATHS = ["style.css", "panel.js", "favicon.svg", "../../../etc/passwd", "style.css%00.js", "a/../../app.py"]


def path_values(world: World, convertor: str) -> st.SearchStrategy[str]:
    if convertor == "IntegerConvertor":
        known = [str(world.court.hearing_a), str(world.court.hearing_b), "99999"]
        return st.one_of(st.sampled_from(known), st.sampled_from(hostile.NUMBERS), hostile.any_text)
    if convertor == "PathConvertor":
        return st.one_of(st.sampled_from(STATIC_PATHS), hostile.any_text)
    return hostile.any_text


def field_value(world: World, target: Target, name: str) -> st.SearchStrategy[str]:
    """A valid value of the field (most often) or a hostile one."""
    valid = world.valid_for(target.name, name)
    hostile_value = st.one_of(hostile.any_text, st.sampled_from(hostile.NUMBERS), st.sampled_from(hostile.DATES))
    if not valid:
        return hostile_value
    return st.one_of(st.sampled_from(valid), st.sampled_from(valid), hostile_value)


@st.composite
def _pairs(draw: st.DrawFn, world: World, target: Target, names: tuple[str, ...]) -> list[tuple[str, str]]:
    """The route's own fields, valid but for a few; some left out; extra
    and duplicated fields now and then."""
    spoilt = draw(st.sets(st.sampled_from(names), max_size=len(names))) if names else set()
    pairs = []
    for name in names:
        if name in spoilt:
            choice = draw(st.sampled_from(["hostile", "absent", "empty"]))
            if choice == "absent":
                continue
            value = "" if choice == "empty" else draw(st.one_of(hostile.any_text, st.sampled_from(hostile.NUMBERS)))
        else:
            value = draw(field_value(world, target, name))
        pairs.append((name, value))
    if draw(st.integers(0, 5)) == 0:
        pairs.extend(draw(st.lists(st.tuples(hostile.field_names, hostile.any_text), min_size=1, max_size=3)))
    if pairs and draw(st.integers(0, 5)) == 0:
        name = draw(st.sampled_from([n for n, _ in pairs]))
        pairs.append((name, draw(hostile.any_text)))
    return pairs


# --- JSON bodies ---------------------------------------------------------------------

FLOOR_VALUES: dict[str, list[Any]] = {
    "seat": ["custody", "courtroom", "judge", "booth"],
    "source": ["custody", "courtroom", "judge"],
    "receiver": ["custody", "courtroom", "judge"],
    "speaker": ["custody:detainee", "custody:custody_officer", "courtroom:prosecutor", "courtroom:defence_counsel"],
    "medium": ["audio", "video"],
    "mode": ["open", "controlled"],
    "position": [0, 1, 3],
    "keep_previous": [True, False],
    "version": [0, 1, 2],
    # issue 12, interp: the interpretation command's (its "mode" is an interpretation mode)
    "needs": [["custody"], ["custody", "booth"], []],
}
FLOOR_VALUES["mode"] += ["none", "consecutive", "simultaneous"]
# issue 13: the judge's pin of the courtroom program (a camera only once a rig reported it)
FLOOR_VALUES["camera"] = ["cam-judge", "cam-witness"]
FLOOR_VALUES["layout"] = ["grid", "single", "speaker_strip"]


@st.composite
def floor_commands(draw: st.DrawFn, world: World) -> Any:
    """Commands from the floor's own table (hearing/speaker_order/commands.py),
    valid but for a few fields."""
    action = draw(st.one_of(st.sampled_from(sorted(COMMANDS)), st.sampled_from(sorted(COMMANDS)), hostile.any_text))
    rule = COMMANDS.get(action)
    names = sorted(rule.fields | {"version"}) if rule is not None else ["seat", "speaker"]
    body: dict[str, Any] = {"action": action}
    for name in names:
        choice = draw(st.sampled_from(["valid", "valid", "valid", "hostile", "absent"]))
        if choice == "absent" or (name == "version" and choice == "valid"):
            continue
        body[name] = (
            draw(st.sampled_from(FLOOR_VALUES.get(name, [None]))) if choice == "valid" else draw(hostile.json_values)
        )
    if draw(st.integers(0, 5)) == 0:
        body[draw(hostile.field_names)] = draw(hostile.json_values)
    return body


# The fields of a JSON body live in its parser, not in a template: the
# routes that read one name their parser's vocabulary here. Any other route
# that reads JSON gets JSON objects of its form fields and hostile values.
JSON_BODIES: dict[str, Callable[[World], st.SearchStrategy[Any]]] = {
    "floor_command": floor_commands,
}


def json_documents(world: World, target: Target) -> st.SearchStrategy[Any]:
    generic = st.one_of(
        st.fixed_dictionaries({}, optional={n: hostile.json_values for n in target.form}),
        hostile.json_values,
    )
    own = JSON_BODIES.get(target.name)
    return st.one_of(own(world), own(world), own(world), generic) if own is not None else generic


# --- whole requests --------------------------------------------------------------------


@st.composite
def drafts(draw: st.DrawFn, world: World, target: Target) -> Draft:
    path = {name: draw(path_values(world, conv)) for name, conv in target.params}
    query = draw(_pairs(world, target, target.query))
    if target.method == "GET":
        body = draw(st.sampled_from(["none"] * 8 + ["form", "bytes"]))
    else:
        natural = ["json"] * 6 if target.json else ["form"] * 6
        body = draw(
            st.sampled_from(
                [*natural, "form", "multipart", "multipart_file", "json", "raw_json", "bytes", "oversized", "none"]
            )
        )
    fields = draw(_pairs(world, target, target.form)) if body in ("form", "multipart", "multipart_file") else []
    document = draw(json_documents(world, target)) if body == "json" else None
    raw = b""
    if body == "raw_json":
        raw = draw(st.sampled_from(hostile.RAW_JSON)).encode("utf-8", "surrogatepass")
    elif body == "bytes":
        raw = draw(
            st.one_of(
                st.binary(max_size=64), st.sampled_from([b"\xff\xfe\x00", b"a=%ff%fe", b"a=%00&a=%00", b"%", b"=&=&"])
            )
        )
    content_type = draw(st.one_of(st.none(), st.none(), st.none(), st.sampled_from(WRONG_TYPES)))
    return Draft(
        path=path,
        query=query,
        body=body,
        fields=fields,
        document=document,
        raw=raw,
        content_type=content_type,
        csrf=draw(st.sampled_from(CSRF_MODES)),
        accept=draw(st.sampled_from(ACCEPTS)),
    )


def _token(draft: Draft, principal: Principal) -> str | None:
    return {
        "valid": principal.csrf,
        "duplicate": principal.csrf,
        "missing": None,
        "wrong": "0" * 64,
        "short": principal.csrf[:10],
        "non_ascii": "٠" * 64,
    }[draft.csrf]


def _multipart(fields: list[tuple[str, str]], with_file: bool) -> bytes:
    parts = [f'--{BOUNDARY}\r\nContent-Disposition: form-data; name="{k}"\r\n\r\n{v}\r\n' for k, v in fields]
    if with_file:
        parts.append(
            f'--{BOUNDARY}\r\nContent-Disposition: form-data; name="upload"; filename="a.txt"\r\n'
            "Content-Type: text/plain\r\n\r\nhello\r\n"
        )
    return ("".join(parts) + f"--{BOUNDARY}--\r\n").encode("utf-8", "surrogatepass")


# Longer request lines never reach an application behind nginx (8 KiB).
MAX_URL = 8 * 1024


def _path(target: Target, values: dict[str, str]) -> str:
    path = target.path
    for name, conv in target.params:
        value = values[name]
        encoded = quote(value, safe="/%") if conv == "PathConvertor" else quote(value, safe="")
        path = re.sub(r"\{" + name + r"(:[^}]*)?\}", lambda _, e=encoded: e, path)
    return path


def wire(world: World, target: Target, draft: Draft, principal: Principal) -> Wire:
    values = dict(draft.path)
    path = _path(target, values)
    while len(path) > MAX_URL:
        # Two long path values make a request line no server takes (below):
        # the longest is cut in half until the line would reach the application.
        longest = max(values, key=lambda name: len(values[name]))
        values[longest] = values[longest][: len(values[longest]) // 2]
        path = _path(target, values)
    query = list(draft.query)
    url = path + (("?" + urlencode(query, quote_via=quote)) if query else "")
    while len(url) > MAX_URL and query:
        # No server takes a request line this long (nginx: 8 KiB, h11: 64
        # KiB, and the test client refuses to send one): the last pairs go,
        # as they would never have reached the application.
        query.pop()
        url = path + (("?" + urlencode(query, quote_via=quote)) if query else "")
    headers = dict(principal.headers)
    token = _token(draft, principal)
    if token is not None:
        headers[CSRF_HEADER] = token
    if draft.accept is not None:
        headers["Accept"] = draft.accept
    fields = list(draft.fields)
    if token is not None and draft.body in ("form", "multipart", "multipart_file"):
        fields.insert(0, (CSRF_FIELD, token))
        if draft.csrf == "duplicate":
            fields.append((CSRF_FIELD, "0" * 64))
    content, natural = b"", None
    if draft.body == "form":
        content, natural = urlencode(fields, quote_via=quote).encode(), "application/x-www-form-urlencoded"
    elif draft.body in ("multipart", "multipart_file"):
        content = _multipart(fields, draft.body == "multipart_file")
        natural = f"multipart/form-data; boundary={BOUNDARY}"
    elif draft.body == "json":
        content, natural = hostile.dumps(draft.document).encode("utf-8", "surrogatepass"), "application/json"
    elif draft.body == "raw_json":
        content, natural = draft.raw, "application/json"
    elif draft.body == "bytes":
        content = draft.raw
    elif draft.body == "oversized":
        content = b"a=" + b"x" * (world.settings.max_body_bytes + 1)
        natural = "application/x-www-form-urlencoded"
    content_type = draft.content_type if draft.content_type is not None else natural
    if content_type:
        headers["Content-Type"] = content_type
    # A header is bytes on the wire: a non-ASCII token goes as UTF-8, as a client may send it.
    encoded = {k: v if v.isascii() else v.encode() for k, v in headers.items()}
    shown = ""
    if draft.body in ("form", "multipart", "multipart_file"):
        hostile_fields = [(k, v) for k, v in draft.fields if v not in world.valid_for(target.name, k)]
        listed = ", ".join(f"{k}={_short(v, 80)}" for k, v in hostile_fields)
        shown = f"{draft.body} fields {{{listed}}} (others valid), csrf {draft.csrf}"
    elif draft.body == "json":
        shown = f"json {_short(hostile.dumps(draft.document), 300)}, csrf {draft.csrf}"
    return Wire(target.method, url, encoded, content, shown)


def reaches_handler(draft: Draft) -> bool:
    """Whether this request should get past the CSRF check: a valid token,
    once, in a body of the route's own type."""
    return draft.csrf == "valid" and draft.content_type is None and draft.body in ("form", "multipart", "json")


# --- the catalogue: every hostile value of its kind, in every field, once ---------

UNIVERSAL = ["", "\x00", "\u202e", "A" * 2001]
CATALOGUE_TEXT = [*hostile.CONTROLS, "Jens \u202eneshnaH", "e\u0301", "A" * 65, "A" * 201, "😀" * 3, "[" * 5000]
CATALOGUE_JSON: list[Any] = [*hostile.JSON_NUMBERS, None, True, [], {}, "", "\u202e", "A" * 65, "\x00", [[[[]]]]]


def _kind_of(valid: list[str]) -> list[str]:
    """The catalogue for a field, by what its valid values look like."""
    sample = valid[0] if valid else ""
    if sample.isdigit():
        return hostile.NUMBERS
    if re.fullmatch(r"\d{4}-\d{2}-\d{2}", sample):
        return hostile.DATES
    if re.fullmatch(r"\d{4}-\d{2}-\d{2}T.*", sample):
        return hostile.DATETIMES
    return CATALOGUE_TEXT


def catalogue(world: World, target: Target, *, path_only: bool = False) -> list[Draft]:
    """One request per hostile value of each field's kind, in each path
    parameter, query field and form field (and each field of each JSON
    command), with every other field valid and a valid CSRF token: run
    first, so that no value of the catalogue depends on luck."""

    def valid(name: str) -> list[str]:
        return world.valid_for(target.name, name)

    base_path = {
        n: (str(world.court.hearing_a) if conv == "IntegerConvertor" else "style.css") for n, conv in target.params
    }
    base_query = [(n, v[0]) for n in target.query if (v := valid(n))]
    base_form = [(n, v[0]) for n in target.form if (v := valid(n))]
    body = "json" if target.json else ("form" if target.method == "POST" else "none")
    plain = Draft(base_path, base_query, body, base_form, None, b"", None, "valid", None)
    drafts_: list[Draft] = []
    for name, conv in target.params:
        values = hostile.NUMBERS if conv == "IntegerConvertor" else [*STATIC_PATHS, *CATALOGUE_TEXT]
        drafts_ += [dataclasses.replace(plain, path={**base_path, name: v}) for v in [*values, *UNIVERSAL]]
    if path_only:
        return drafts_
    for name in target.query:
        for v in [*_kind_of(valid(name)), *UNIVERSAL]:
            drafts_.append(dataclasses.replace(plain, query=[*(p for p in base_query if p[0] != name), (name, v)]))
    for name in target.form:
        for v in [*_kind_of(valid(name)), *UNIVERSAL]:
            drafts_.append(dataclasses.replace(plain, fields=[*(p for p in base_form if p[0] != name), (name, v)]))
    if target.name in JSON_BODIES:
        for action, rule in sorted(COMMANDS.items()):
            good = {n: FLOOR_VALUES[n][0] for n in rule.fields}
            for name in sorted(rule.fields | {"version"}):
                for v in CATALOGUE_JSON:
                    drafts_.append(dataclasses.replace(plain, document={"action": action, **good, name: v}))
        drafts_ += [
            dataclasses.replace(plain, body="raw_json", raw=r.encode("utf-8", "surrogatepass"))
            for r in hostile.RAW_JSON
        ]
    return drafts_
