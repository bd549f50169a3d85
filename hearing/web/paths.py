"""The path convertor for every id in a route: `{hearing_id:id}`.

Starlette's `int` convertor takes any run of digits, and an id above
2^63 - 1 then reaches the database driver, which raises OverflowError (a
500 for a client's mistake). `id` matches 1-18 ASCII digits, so every value
it lets through fits the databases' integer, and a longer one never
matches a route at all: a plain 404, before any guard or handler runs.
"""

from __future__ import annotations

from starlette.convertors import Convertor, register_url_convertor

from hearing.fields import MAX_DIGITS

NAME = "id"


class IdConvertor(Convertor[int]):
    regex = f"[0-9]{{1,{MAX_DIGITS}}}"

    def convert(self, value: str) -> int:
        return int(value)

    def to_string(self, value: int) -> str:
        if not 0 <= value < 10**MAX_DIGITS:
            raise ValueError(f"an id is 0-{10**MAX_DIGITS - 1}")
        return str(value)


def register() -> None:
    register_url_convertor(NAME, IdConvertor())
