"""The search page, for anyone, and saving a search to hear about new results."""

from __future__ import annotations

from flask import (
    Blueprint,
    abort,
    flash,
    redirect,
    render_template,
    request,
    url_for,
)
from flask_babel import gettext as _
from flask_login import current_user, login_required
from markupsafe import Markup

from marketplace.discovery import saved_searches, search_page
from marketplace.extensions import db
from marketplace.form_fields import ActionForm
from marketplace.listings import browse
from marketplace.pagination import page_number

bp = Blueprint("search", __name__)


@bp.get("/search")
def results():
    kind = request.args.get("kind", "solution")
    if kind not in ("solution", "need"):
        kind = "solution"
    sort = request.args.get("sort", "relevance")
    filters = browse.BrowseFilters.from_args(request.args)
    page = page_number(search_page.MAX_PAGE)
    results = search_page.search(kind, filters, page=page,
                                    sort=sort if sort == "newest" else "relevance",
                                    related=request.args.get("related") == "1")
    return render_template("public/search.html", results=results, filters=filters, kind=kind,
                           sort=sort, action_form=ActionForm())


@bp.post("/search/save")
@login_required
def save():
    form = ActionForm()
    kind = request.form.get("kind", "solution")
    if not form.validate_on_submit() or kind not in ("solution", "need"):
        abort(400)
    filters = browse.BrowseFilters.from_args(request.form)
    try:
        saved = saved_searches.save(current_user, kind, filters)
    except saved_searches.LimitReached:
        # Markup.format escapes the texts; the link is how a user at the cap gets unstuck.
        flash(Markup('{} <a href="{}">{}</a>').format(
            _("You already have %(n)d saved searches, the most we keep. This one was not "
              "saved.", n=saved_searches.MAX_PER_USER),
            url_for("notifications.saved_search_list"),
            _("Delete some of your saved searches.")), "error")
    else:
        db.session.commit()
        flash(_("Saved. We will tell you about new results in your digest.") if saved
              else _("This search is already saved."), "success" if saved else "info")
    return redirect(url_for("search.results", kind=kind, **filters.as_args()))
