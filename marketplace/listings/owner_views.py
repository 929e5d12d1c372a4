"""Owners' pages: the organisation dashboard and creating, editing and submitting listings."""

from __future__ import annotations

from flask import Blueprint, abort, flash, redirect, render_template, url_for
from flask_babel import gettext as _
from flask_login import current_user
from sqlalchemy import func, or_, select

from marketplace.accounts.access import organization_required
from marketplace.accounts.forms import OrganizationForm
from marketplace.extensions import db
from marketplace.form_fields import ActionForm
from marketplace.listings import lifecycle as listing_service
from marketplace.listings.forms import NeedForm, SolutionForm
from marketplace.models import Introduction, Match, Need, ReferenceProject, Solution
from marketplace.models._time import utcnow
from marketplace.models.states import (
    CLOSED,
    PIPELINE,
    IntroductionStage,
    ListingStatus,
    MatchState,
)

bp = Blueprint("listings", __name__)

FORMS = {"solution": SolutionForm, "need": NeedForm}
# Form fields copied straight onto the model; sectors and the like go through model setters.
FIELDS = {
    "solution": ("title", "summary", "description", "sectors", "keywords", "trl", "capacity_min",
                 "capacity_max", "capacity_unit", "price_min", "price_max", "currency",
                 "countries_served", "languages", "certifications"),
    "need": ("title", "description", "sectors", "country", "city", "capacity", "capacity_unit",
             "budget_min", "budget_max", "currency", "deadline", "min_trl",
             "required_certifications"),
}
PLURAL = {"solution": "solutions", "need": "needs"}


def _plain(value):
    # Decimals stay Decimals: a float cannot hold the 16 digits a price column can.
    if isinstance(value, str):
        return value.strip() or None
    return value


def _apply(form, listing) -> None:
    for name in FIELDS[listing.kind]:
        value = _plain(getattr(form, name).data)
        if name in ("title", "summary", "description", "city") and value is None:
            value = ""
        setattr(listing, name, value)
    if listing.kind == "solution":
        listing.references = [
            ReferenceProject(place=row.place.data.strip(), year=row.year.data,
                             capacity=(row.capacity.data or "").strip(),
                             text=(row.text.data or "").strip())
            for row in form.references if row.place.data and row.place.data.strip()
        ]


def _detail_url(listing) -> str:
    return url_for("public.detail", plural=PLURAL[listing.kind], listing_id=listing.id)


@bp.get("/my")
@organization_required
def dashboard():
    org = current_user.organization
    mine = {
        kind: list(db.session.scalars(
            select(cls).where(cls.organization_id == org.id).order_by(cls.updated_at.desc())
        ))
        for kind, cls in (("solution", Solution), ("need", Need))
    }
    return render_template("listings/dashboard.html", org=org, mine=mine,
                           action_form=ActionForm(), now=utcnow(),
                           new_matches=_new_matches(org.id), **_introductions_of(org.id))


def _new_matches(org_id: int) -> int:
    """Delivered matches of the organisation's listings that it has not judged yet."""
    counts = [db.session.scalar(select(func.count()).select_from(Match).join(cls).where(
        cls.organization_id == org_id, Match.delivered, getattr(Match, side) == MatchState.NEW))
        for cls, side in ((Need, "buyer_state"), (Solution, "supplier_state"))]
    return sum(counts)


def _introductions_of(org_id: int) -> dict:
    """Requests waiting for the organisation's answer (oldest first), and its open
    introductions by stage."""
    waiting = db.session.scalars(select(Introduction).where(
        Introduction.recipient_org_id == org_id, Introduction.stage == IntroductionStage.NEW)
        .order_by(Introduction.created_at)).all()
    by_stage = dict(db.session.execute(
        select(Introduction.stage, func.count()).where(
            or_(Introduction.sender_org_id == org_id, Introduction.recipient_org_id == org_id),
            Introduction.stage.not_in(CLOSED))
        .group_by(Introduction.stage)).all())
    order = (IntroductionStage.NEW, *PIPELINE)
    return {"waiting": waiting,
            "open_by_stage": [(stage, by_stage[stage]) for stage in order if stage in by_stage]}


@bp.route("/my/organization", methods=["GET", "POST"])
@organization_required
def edit_organization():
    org = current_user.organization
    form = OrganizationForm(obj=org)
    if form.validate_on_submit():
        before = (org.name, org.country, org.kind)
        form.populate_obj(org)
        org.base = org.base or None
        if org.is_verified and before != (org.name, org.country, org.kind):
            # Verification vouches for who the organisation is; a new identity needs a new check.
            org.verified_at = None
            org.verified_by = None
            flash(_("You changed the name, kind or country, so staff will verify the "
                    "organisation again."), "info")
        db.session.commit()
        flash(_("The organisation profile is saved."), "success")
        return redirect(url_for("listings.dashboard"))
    return render_template("listings/organization_form.html", form=form), \
        400 if form.errors else 200


KIND_OF = {plural: kind for kind, plural in PLURAL.items()}
LISTING_PATH = "/<any(solutions, needs):plural>"


@bp.route(f"{LISTING_PATH}/new", methods=["GET", "POST"])
@organization_required
def new(plural: str):
    kind = KIND_OF[plural]
    if not listing_service.can_create(current_user, kind):
        abort(403)
    form = FORMS[kind]()
    if form.validate_on_submit():
        listing = listing_service.listing_class(kind)(organization=current_user.organization)
        _apply(form, listing)
        db.session.add(listing)
        db.session.commit()
        flash(_("Saved as a draft. Submit it for review when it is ready."), "success")
        return redirect(_detail_url(listing))
    if form.is_submitted():
        flash(_("Nothing was saved yet: please correct the marked fields."), "error")
    return render_template("listings/form.html", form=form, kind=kind, listing=None), \
        400 if form.errors else 200


@bp.route(f"{LISTING_PATH}/<int:listing_id>/edit", methods=["GET", "POST"])
@organization_required
def edit(plural: str, listing_id: int):
    kind = KIND_OF[plural]
    listing = listing_service.get_listing(kind, listing_id, for_edit=True)
    if listing.status == ListingStatus.ARCHIVED:
        flash(_("Archived listings cannot be edited."), "error")
        return redirect(_detail_url(listing))
    form = FORMS[kind](obj=listing)
    if form.validate_on_submit():
        _apply(form, listing)
        went_back = listing_service.mark_edited(listing, current_user)
        db.session.commit()
        flash(_("Saved. Because it was published, it is back in review; the published "
                "version is hidden until staff approve.") if went_back else _("Saved."),
              "info" if went_back else "success")
        return redirect(_detail_url(listing))
    if form.is_submitted():
        flash(_("Nothing was saved yet: please correct the marked fields."), "error")
    return render_template("listings/form.html", form=form, kind=kind, listing=listing), \
        400 if form.errors else 200


@bp.post(f"{LISTING_PATH}/<int:listing_id>/<any(submit, archive, renew):action>")
@organization_required
def transition(plural: str, listing_id: int, action: str):
    kind = KIND_OF[plural]
    listing = listing_service.get_listing(kind, listing_id, for_edit=True)
    if not ActionForm().validate_on_submit():
        abort(400)
    if action == "submit" and not current_user.email_verified:
        flash(_("Confirm your e-mail address before submitting listings for review."), "error")
        return redirect(_detail_url(listing))
    try:
        getattr(listing_service, action)(listing, current_user)
    except listing_service.TransitionError as error:
        flash(str(error), "error")
        return redirect(_detail_url(listing))
    db.session.commit()
    messages = {
        "submit": _("Submitted. Staff will review it, usually within two working days."),
        "archive": _("Archived. It is no longer shown to anyone else."),
        "renew": _("Renewed for another year."),
    }
    flash(messages[action], "success")
    return redirect(_detail_url(listing))
