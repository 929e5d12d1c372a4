"""Pages anyone can see: home, browsing, listing and organisation profiles, language choice."""

from __future__ import annotations

from flask import (
    Blueprint,
    abort,
    redirect,
    render_template,
    request,
    session,
    url_for,
)
from flask_login import current_user
from sqlalchemy import select

from marketplace import constants
from marketplace.extensions import db
from marketplace.form_fields import ActionForm
from marketplace.listings import browse
from marketplace.listings import lifecycle as listing_service
from marketplace.models import Need, Organization, Solution
from marketplace.pagination import page_number
from marketplace.taxonomy import taxonomy
from marketplace.templating import current_language, sector_name
from marketplace.urls import safe_next

bp = Blueprint("public", __name__)


@bp.get("/")
def home():
    by_sector = [
        {"label": sector_name(code), "url": url_for("public.solutions", sector=code),
         "solutions": solutions, "needs": needs}
        for code, solutions, needs in browse.counts_by_top_sector()
    ]
    by_country = [
        {"label": constants.COUNTRIES.get(code, code),
         "url": url_for("public.needs" if code != "CN" else "public.solutions", country=code),
         "solutions": solutions, "needs": needs}
        for code, solutions, needs in browse.counts_by_country()
    ]
    return render_template(
        "public/home.html", solutions=browse.latest(Solution), needs=browse.latest(Need),
        by_sector=by_sector, by_country=by_country,
    )


def _browse(kind: str, query):
    filters = browse.BrowseFilters.from_args(request.args)
    page = db.paginate(query(filters), page=page_number(), per_page=browse.PER_PAGE,
                       error_out=False)
    return render_template(
        "public/browse.html", kind=kind, page=page, filters=filters,
        sector_choices=taxonomy().choices(current_language()), countries=constants.COUNTRIES,
        bases=constants.BASES,
    )


@bp.get("/solutions")
def solutions():
    return _browse("solution", browse.solutions_query)


@bp.get("/needs")
def needs():
    return _browse("need", browse.needs_query)


@bp.get("/<any(solutions, needs):plural>/<int:listing_id>")
def detail(plural: str, listing_id: int):
    kind = plural[:-1]
    listing = listing_service.get_listing(kind, listing_id)
    can_edit = listing_service.can_edit(current_user, listing)
    # The moderation history is for the owner and staff only.
    show_history = can_edit or (current_user.is_authenticated and current_user.is_staff)
    return render_template(
        f"public/{kind}_detail.html", listing=listing, can_edit=can_edit,
        history=listing_service.history(listing) if show_history else [],
        action_form=ActionForm(),
    )


@bp.get("/organizations/<int:org_id>")
def organization(org_id: int):
    org = db.session.get(Organization, org_id)
    if org is None:
        abort(404)
    solutions = db.session.scalars(
        select(Solution).where(Solution.organization_id == org.id,
                               listing_service.live_filter(Solution)))
    needs = db.session.scalars(
        select(Need).where(Need.organization_id == org.id, listing_service.live_filter(Need)))
    return render_template("public/organization.html", org=org, solutions=list(solutions),
                           needs=list(needs))


@bp.post("/language")
def set_language():
    form = ActionForm()
    language = request.form.get("language", "")
    if form.validate_on_submit() and language in constants.LANGUAGES:
        session["language"] = language
        if current_user.is_authenticated:
            current_user.language = language
            db.session.commit()
    return redirect(safe_next(request.form.get("next"), url_for("public.home")))
