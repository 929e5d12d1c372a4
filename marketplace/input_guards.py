"""Input that would crash the database or the router is refused, or cleaned, before any view
runs (issue 9: bad input answers a clear 4xx, never a 500)."""

from __future__ import annotations

from flask import Flask
from werkzeug.exceptions import BadRequest
from werkzeug.routing import IntegerConverter

# Every id column is an INTEGER: 32 bits on PostgreSQL, which refuses a larger number in a
# query ("integer out of range") where SQLite would only overflow past 2**63.
MAX_ID = 2**31 - 1


class BadInput(BadRequest):
    """A 400 whose description is written for the person who sent the request: the error
    page shows it instead of its generic text."""

    user_facing = True


class IdConverter(IntegerConverter):
    """``<int:...>`` that matches only numbers an id column can hold, so a larger one is a
    plain 404 instead of a database error.  ``<int(max=...):...>`` still sets its own."""

    def __init__(self, map, fixed_digits: int = 0, min: int | None = None,  # noqa: A002
                 max: int | None = MAX_ID, signed: bool = False) -> None:  # noqa: A002
        super().__init__(map, fixed_digits=fixed_digits, min=min, max=max, signed=signed)


def init_app(app: Flask) -> None:
    """Call before the blueprints are registered: rules pick their converters when added."""
    app.url_map.converters["int"] = IdConverter
