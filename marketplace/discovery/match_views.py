"""The match ledger for owners: matches per listing, with reasons; interest or dismiss.

The page puts delivered matches (those whose evidence clears the delivery rule's bar, the only
ones sent to people) first, and the possible ones below the bar under their own line.
"""

from __future__ import annotations

from flask import Blueprint, abort, flash, redirect, render_template, request, url_for
from flask_babel import gettext as _
from flask_login import current_user
from sqlalchemy import select

from marketplace.accounts.access import organization_required
from marketplace.discovery import matching
from marketplace.discovery.explanations import explain
from marketplace.discovery.forms import DismissForm
from marketplace.extensions import db
from marketplace.form_fields import ActionForm
from marketplace.input_guards import BadInput
from marketplace.listings import lifecycle as listing_service
from marketplace.models import Match
from marketplace.models.states import MatchState
from search.backends.base import SearchUnavailable

bp = Blueprint("matches", __name__)

# Which verdict column, and which dismiss-reason column, belong to the owner of each kind.
SIDE = {"need": "buyer_state", "solution": "supplier_state"}
REASON = {"need": "buyer_dismiss_reason", "solution": "supplier_dismiss_reason"}


@bp.get("/<any(solutions, needs):plural>/<int:listing_id>/matches")
@organization_required
def for_listing(plural: str, listing_id: int):
    kind = plural[:-1]
    listing = listing_service.get_listing(kind, listing_id, for_edit=True)
    show = "dismissed" if request.args.get("show") == "dismissed" else "active"
    rows = _matches_of(kind, listing.id, dismissed=show == "dismissed")
    candidates = [] if show == "dismissed" else _possible(listing)
    return render_template("matches/for_listing.html", listing=listing, kind=kind, rows=rows,
                           delivered=[m for m in rows if m.delivered],
                           possible=[m for m in rows if not m.delivered],
                           candidates=candidates,
                           side=SIDE[kind], reason_column=REASON[kind], show=show,
                           explain=explain, action_form=ActionForm(),
                           dismiss_form=DismissForm())


def _possible(listing) -> list:
    """Candidates below the bar, ranked now; none if the search engine is down."""
    own = Match.need_id if listing.kind == "need" else Match.solution_id
    other = Match.solution_id if listing.kind == "need" else Match.need_id
    known = set(db.session.scalars(select(other).where(own == listing.id)))
    try:
        return matching.possible_matches(listing, exclude=known)
    except SearchUnavailable:
        return []


def _matches_of(kind: str, listing_id: int, dismissed: bool) -> list[Match]:
    """The listing's matches with a live other side, dismissed or not by its owner: delivered
    first, then by the rule's evidence, then by the ranking's score."""
    state = getattr(Match, SIDE[kind])
    own = Match.need_id if kind == "need" else Match.solution_id
    query = (select(Match).where(own == listing_id)
             .where(state == MatchState.DISMISSED if dismissed else state != MatchState.DISMISSED)
             .order_by(Match.delivered.desc(), Match.evidence.desc().nulls_last(),
                       Match.score.desc(), Match.id))
    return [m for m in db.session.scalars(query)
            if (m.solution if kind == "need" else m.need).is_live]


@bp.post("/matches/<int:match_id>/<any(interesting, dismissed, new):state>")
@organization_required
def set_state(match_id: int, state: str):
    match = db.session.get(Match, match_id)
    if match is None:
        abort(404)
    reason = _submitted_reason(state)
    # The user's side is the listing their organisation owns; a user on neither side is
    # refused, and one on both (unusual) answers for the side matching their role.
    if listing_service.can_edit(current_user, match.need):
        kind, listing = "need", match.need
    elif listing_service.can_edit(current_user, match.solution):
        kind, listing = "solution", match.solution
    else:
        abort(403)
    setattr(match, SIDE[kind], state)
    # A reason belongs to a dismissal only: restoring (or any other verdict) clears it.
    setattr(match, REASON[kind], reason)
    db.session.commit()
    messages = {MatchState.INTERESTING: _("Marked as interesting."),
                MatchState.DISMISSED: _("Dismissed. It will not come back among your matches; "
                               "“Show dismissed” lists it if you change your mind."),
                MatchState.NEW: _("Restored.")}
    flash(messages[state], "success")
    return redirect(url_for("matches.for_listing", plural=kind + "s", listing_id=listing.id))


def _submitted_reason(state: str) -> str | None:
    """Checks the form (CSRF, and the reason of a dismissal) and returns the reason to store.

    A missing or bad CSRF token is the generic 400; a reason outside the list is a 400 that
    says so.
    """
    form = DismissForm() if state == MatchState.DISMISSED else ActionForm()
    if form.validate_on_submit():
        return (form.reason.data or None) if isinstance(form, DismissForm) else None
    if "reason" in form.errors:
        raise BadInput(_("Choose a reason from the list, or none."))
    abort(400)
