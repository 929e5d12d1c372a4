"""The page number of every paginated page, read and checked in one place."""

from __future__ import annotations

from flask import request
from flask_babel import format_number
from flask_babel import gettext as _

from marketplace.input_guards import BadInput

# Far beyond any real listing, and small enough that page * per_page fits every database's
# OFFSET (SQLite and PostgreSQL refuse numbers past 2**63).
MAX_PAGE = 10_000


def page_number(max_page: int = MAX_PAGE) -> int:
    """``?page=``: 1 when absent; a clear 400 unless a whole number from 1 to ``max_page``."""
    raw = request.args.get("page", "").strip()
    if not raw:
        return 1
    # isdecimal() also accepts other scripts' digits; int() of thousands of digits is refused.
    if raw.isascii() and raw.isdecimal() and len(raw) <= len(str(max_page)):
        page = int(raw)
        if 1 <= page <= max_page:
            return page
    raise BadInput(_("Page numbers are whole numbers from 1 to %(last)s.",
                     last=format_number(max_page)))
