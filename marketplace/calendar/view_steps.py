"""What the staff's and the participants' meeting views share: finding a row of an event, and
running one step of the meetings domain with its flash messages."""

from __future__ import annotations

from collections.abc import Callable

from flask import abort, flash, redirect

from marketplace.calendar.meetings import MeetingError
from marketplace.extensions import db
from marketplace.models import Event


def of_event(model, row_id: int, event: Event):
    """The ``model`` row ``row_id`` if it belongs to ``event``; 404 otherwise, so nobody can
    reach another event's rows through this one's URLs."""
    row = db.session.get(model, row_id)
    if row is None or row.event_id != event.id:
        abort(404)
    return row


def attempt(act: Callable[[], object], done: str | Callable[[object], str], *, then: str,
            refused: Callable[[], object]):
    """Run ``act``.  If the domain refuses (MeetingError), say why and show ``refused()``, the
    page with the form as it was (409); else commit, say ``done`` (or ``done(result)``) and
    go to ``then``."""
    try:
        result = act()
    except MeetingError as error:
        flash(str(error), "error")
        return refused()
    db.session.commit()
    flash(done(result) if callable(done) else done, "success")
    return redirect(then)
