"""The match ledger for owners: matches per listing, with reasons; interest or dismiss."""

from __future__ import annotations

from flask import Blueprint, abort, flash, redirect, render_template, request, url_for
from flask_babel import gettext as _
from flask_login import current_user
from sqlalchemy import select

from marketplace.access import organization_required
from marketplace.extensions import db
from marketplace.forms import ActionForm
from marketplace.models import Match
from marketplace.services import listings as listing_service
from marketplace.services.explanations import explain

bp = Blueprint("matches", __name__)

# Which verdict column belongs to the owner of each kind of listing.
SIDE = {"need": "buyer_state", "solution": "supplier_state"}


@bp.get("/<any(solutions, needs):plural>/<int:listing_id>/matches")
@organization_required
def for_listing(plural: str, listing_id: int):
    kind = plural[:-1]
    listing = listing_service.get_listing(kind, listing_id, for_edit=True)
    state = getattr(Match, SIDE[kind])
    own = Match.need_id if kind == "need" else Match.solution_id
    show = request.args.get("show", "active")
    query = select(Match).where(own == listing.id).order_by(Match.score.desc())
    query = query.where(state == "dismissed") if show == "dismissed" else \
        query.where(state != "dismissed")
    rows = [m for m in db.session.scalars(query)
            if (m.solution if kind == "need" else m.need).is_live]
    return render_template("matches/for_listing.html", listing=listing, kind=kind, rows=rows,
                           side=SIDE[kind], show=show, explain=explain,
                           action_form=ActionForm())


@bp.post("/matches/<int:match_id>/<any(interesting, dismissed, new):state>")
@organization_required
def set_state(match_id: int, state: str):
    match = db.session.get(Match, match_id)
    if match is None:
        abort(404)
    if not ActionForm().validate_on_submit():
        abort(400)
    # The user's side is the listing their organisation owns; a user on neither side is
    # refused, and one on both (unusual) answers for the side matching their role.
    if listing_service.can_edit(current_user, match.need):
        match.buyer_state, kind, listing = state, "need", match.need
    elif listing_service.can_edit(current_user, match.solution):
        match.supplier_state, kind, listing = state, "solution", match.solution
    else:
        abort(403)
    db.session.commit()
    messages = {"interesting": _("Marked as interesting. Staff can now broker an introduction."),
                "dismissed": _("Dismissed. This match will not be shown to you again."),
                "new": _("Restored.")}
    flash(messages[state], "success")
    return redirect(url_for("matches.for_listing", plural=kind + "s", listing_id=listing.id))
