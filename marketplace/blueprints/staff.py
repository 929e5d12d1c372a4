"""Staff pages: the moderation queue, organisation verification and the mail outbox."""

from __future__ import annotations

from flask import Blueprint, abort, flash, redirect, render_template, request, url_for
from flask_babel import gettext as _
from flask_login import current_user
from sqlalchemy import select

from marketplace.access import staff_required
from marketplace.extensions import db
from marketplace.forms import ActionForm, ApproveForm, RejectForm
from marketplace.models import Organization
from marketplace.models._time import utcnow
from marketplace.pagination import page_number
from marketplace.services import listings as listing_service
from marketplace.services import mail

bp = Blueprint("staff", __name__, url_prefix="/staff")


@bp.get("/")
@staff_required
def queue():
    return render_template("staff/queue.html", pending=listing_service.pending_review())


@bp.route("/review/<any(solution, need):kind>/<int:listing_id>", methods=["GET", "POST"])
@staff_required
def review(kind: str, listing_id: int):
    listing = db.session.get(listing_service.listing_class(kind), listing_id)
    if listing is None:
        abort(404)
    approve_form = ApproveForm(prefix="approve")
    reject_form = RejectForm(prefix="reject")
    form = approve_form if approve_form.submit.data else reject_form
    if request.method == "POST" and form.validate_on_submit():
        try:
            if form is approve_form:
                listing_service.approve(listing, current_user, (form.note.data or "").strip())
                message = _("Approved and published: %(title)s", title=listing.title)
            else:
                listing_service.reject(listing, current_user, form.reason.data)
                message = _("Rejected; the owner sees your reason: %(title)s", title=listing.title)
        except listing_service.TransitionError as error:
            flash(str(error), "error")
        else:
            db.session.commit()
            flash(message, "success")
            return redirect(url_for("staff.queue"))
    status = 400 if approve_form.errors or reject_form.errors else 200
    return render_template("staff/review.html", listing=listing, approve_form=approve_form,
                           reject_form=reject_form,
                           history=listing_service.history(listing)), status


@bp.get("/organizations")
@staff_required
def organizations():
    show = request.args.get("show", "unverified")
    query = select(Organization).order_by(Organization.created_at.desc())
    if show == "unverified":
        query = query.where(Organization.verified_at.is_(None))
    page = db.paginate(query, page=page_number(), per_page=50, error_out=False)
    return render_template("staff/organizations.html", page=page, show=show,
                           action_form=ActionForm())


@bp.post("/organizations/<int:org_id>/<any(verify, unverify):action>")
@staff_required
def verify_organization(org_id: int, action: str):
    org = db.session.get(Organization, org_id)
    if org is None:
        abort(404)
    if not ActionForm().validate_on_submit():
        abort(400)
    if action == "verify":
        org.verified_at, org.verified_by = utcnow(), current_user
        flash(_("%(name)s is now verified.", name=org.name), "success")
    else:
        org.verified_at, org.verified_by = None, None
        flash(_("%(name)s is no longer marked verified.", name=org.name), "info")
    db.session.commit()
    return redirect(request.referrer or url_for("staff.organizations"))


@bp.get("/outbox")
@staff_required
def outbox():
    return render_template("staff/outbox.html", messages=mail.outbox_messages(),
                           transport=mail.current_transport())


@bp.get("/outbox/<message_id>")
@staff_required
def outbox_message(message_id: str):
    try:
        message = mail.read_outbox_message(message_id)
    except FileNotFoundError:
        abort(404)
    text = message.get_body(preferencelist=("plain",))
    html = message.get_body(preferencelist=("html",))
    return render_template(
        "staff/outbox_message.html", message=message, message_id=message_id,
        text=text.get_content() if text else "", html=html.get_content() if html else "",
    )
