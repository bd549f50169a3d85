"""The path convertor for every id in a route: `{hearing_id:id}`.

Starlette's `int` convertor takes any run of digits, and a large id then
reaches the database driver, which fails on it (SQLite past 2^63 - 1,
PostgreSQL past its 32-bit `integer`): a 500 for a client's mistake. `id`
matches 1-9 ASCII digits, so every value it lets through fits every id
column, and a longer one never matches a route at all: a plain 404,
before any guard or handler runs (Starlette turns a convertor's error into
a 500, so the bound is the pattern's, not `convert`'s).
"""

from __future__ import annotations

from starlette.convertors import Convertor, register_url_convertor

from hearing.fields import ID_DIGITS

NAME = "id"


class IdConvertor(Convertor[int]):
    regex = f"[0-9]{{1,{ID_DIGITS}}}"

    def convert(self, value: str) -> int:
        return int(value)

    def to_string(self, value: int) -> str:
        if not 0 <= value < 10**ID_DIGITS:
            raise ValueError(f"an id is 0-{10**ID_DIGITS - 1}")
        return str(value)


def register() -> None:
    register_url_convertor(NAME, IdConvertor())
