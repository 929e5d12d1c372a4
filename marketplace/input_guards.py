"""Input that would crash the database or the router is refused, or cleaned, before any view
runs (issue 9: bad input answers a clear 4xx, never a 500)."""

from __future__ import annotations

from flask import Flask, request
from flask_babel import gettext as _
from werkzeug.datastructures import ImmutableMultiDict, MultiDict
from werkzeug.exceptions import BadRequest
from werkzeug.routing import IntegerConverter

NUL = "\x00"
FORM_TYPES = ("application/x-www-form-urlencoded", "multipart/form-data")

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


def _has_nul(pairs: MultiDict) -> bool:
    return any(NUL in key or NUL in value for key, value in pairs.items(multi=True))


def refuse_nul() -> None:
    """PostgreSQL refuses NUL in text ("A string literal cannot contain NUL"), so a NUL
    anywhere would be a 500 deep inside a view.  Nobody types one: in an address or a
    non-form body it is a clear 400.  In a form it is dropped, so the form still validates or
    re-renders with everything else that was typed."""
    if NUL in request.path or _has_nul(request.args):
        raise BadInput(_("The address contains a NUL character, which no page accepts. "
                         "Remove it and try again."))
    if request.mimetype in FORM_TYPES:
        if _has_nul(request.form):
            # Werkzeug caches the parsed form on the request: replacing it is what views
            # and Flask-WTF then read.
            request.form = ImmutableMultiDict(
                [(key.replace(NUL, ""), value.replace(NUL, ""))
                 for key, value in request.form.items(multi=True)])
    elif _body_has_nul():
        raise BadInput(_("The request contains a NUL character, which no page accepts."))


def _body_has_nul() -> bool:
    body = request.get_data()  # cached: a view that reads the body still gets it
    return b"\x00" in body or (request.is_json and b"\\u0000" in body)


def init_app(app: Flask) -> None:
    """Call before the blueprints are registered: rules pick their converters when added."""
    app.url_map.converters["int"] = IdConverter
    app.before_request(refuse_nul)
