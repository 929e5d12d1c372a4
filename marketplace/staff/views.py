"""Staff pages: the moderation queue and organisation verification; for administrators, the
mail outbox, staff accounts and the audit log."""

from __future__ import annotations

from flask import Blueprint, abort, flash, redirect, render_template, request, url_for
from flask_babel import gettext as _
from flask_babel import lazy_gettext as _l
from flask_login import current_user
from sqlalchemy import select

from marketplace import audit
from marketplace.accounts.access import admin_required, staff_required
from marketplace.accounts.forms import RoleForm
from marketplace.constants import ROLES
from marketplace.extensions import db
from marketplace.form_fields import ActionForm
from marketplace.listings import lifecycle as listing_service
from marketplace.listings.forms import ApproveForm, RejectForm
from marketplace.mailing import transport
from marketplace.mailing.redaction import redact_token_links
from marketplace.models import AuditAction, Organization, User
from marketplace.models._time import utcnow
from marketplace.pagination import page_number

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
                note = (form.note.data or "").strip()
                listing_service.approve(listing, current_user, note)
                audit.record(current_user, AuditAction.LISTING_APPROVED, listing,
                             title=listing.title, note=note)
                message = _("Approved and published: %(title)s", title=listing.title)
            else:
                listing_service.reject(listing, current_user, form.reason.data)
                audit.record(current_user, AuditAction.LISTING_REJECTED, listing,
                             title=listing.title, reason=listing.review_note)
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
        audit.record(current_user, AuditAction.ORGANIZATION_VERIFIED, org, name=org.name)
        flash(_("%(name)s is now verified.", name=org.name), "success")
    else:
        org.verified_at, org.verified_by = None, None
        audit.record(current_user, AuditAction.ORGANIZATION_UNVERIFIED, org, name=org.name)
        flash(_("%(name)s is no longer marked verified.", name=org.name), "info")
    db.session.commit()
    return redirect(request.referrer or url_for("staff.organizations"))


@bp.get("/outbox")
@admin_required  # reset links are credentials: not every staff member may read them
def outbox():
    return render_template("staff/outbox.html", messages=transport.folder_messages(),
                           transport=transport.current_transport())


@bp.get("/outbox/<message_id>")
@admin_required
def outbox_message(message_id: str):
    """One message, both parts, with reset and verification tokens redacted.  There is
    deliberately no raw .eml view: it would show the tokens."""
    try:
        message = transport.read_folder_message(message_id)
    except FileNotFoundError:
        abort(404)
    text = message.get_body(preferencelist=("plain",))
    html = message.get_body(preferencelist=("html",))
    return render_template(
        "staff/outbox_message.html", message=message, message_id=message_id,
        text=redact_token_links(text.get_content()) if text else "",
        html=redact_token_links(html.get_content()) if html else "",
    )


# -- administrators: staff accounts and the audit log ----------------------------------------

STAFF_ROLES = ("staff", "admin")

AUDIT_ACTION_NAMES = {
    AuditAction.LISTING_APPROVED: _l("Listing approved"),
    AuditAction.LISTING_REJECTED: _l("Listing rejected"),
    AuditAction.ORGANIZATION_VERIFIED: _l("Organisation verified"),
    AuditAction.ORGANIZATION_UNVERIFIED: _l("Organisation verification withdrawn"),
    AuditAction.ISSUE_TEST_SENT: _l("E-magazine test sent"),
    AuditAction.ISSUE_SCHEDULED: _l("E-magazine scheduled"),
    AuditAction.ISSUE_UNSCHEDULED: _l("E-magazine back to draft"),
    AuditAction.ISSUE_SENT: _l("E-magazine sending started"),
    AuditAction.ISSUE_PAUSED: _l("E-magazine paused"),
    AuditAction.ISSUE_RESUMED: _l("E-magazine resumed"),
    AuditAction.EVENT_CREATED: _l("Event added"),
    AuditAction.EVENT_UPDATED: _l("Event changed"),
    AuditAction.EVENT_DELETED: _l("Event deleted"),
    AuditAction.ROLE_CHANGED: _l("Role changed"),
    AuditAction.INTRODUCTION_PROPOSED: _l("Introduction proposed"),
    AuditAction.INTRODUCTION_NUDGED: _l("Introduction nudged"),
}


@bp.route("/people", methods=["GET", "POST"])
@admin_required
def people():
    """Who is staff, and the one form that grants, revokes or promotes."""
    form = RoleForm()
    if form.validate_on_submit():
        user = db.session.scalar(select(User).where(
            User.email == User.normalise_email(form.email.data)))
        error = _role_change_error(user, form.role.data)
        if error:
            form.email.errors.append(error)
        else:
            before = user.role
            user.role = form.role.data
            audit.record(current_user, AuditAction.ROLE_CHANGED, user, email=user.email,
                         before=before, after=user.role)
            db.session.commit()
            flash(_("%(email)s is now: %(role)s.", email=user.email,
                    role=ROLES[user.role]), "success")
            return redirect(url_for("staff.people"))
    staff = db.session.scalars(select(User).where(User.role.in_(STAFF_ROLES))
                               .order_by(User.role, User.email)).all()
    return render_template("staff/people.html", form=form, staff=staff, roles=ROLES), \
        400 if form.errors else 200


def _role_change_error(user: User | None, role: str) -> str | None:
    if user is None:
        return _("No account has this e-mail address.")
    if user.is_admin and role != "admin" and _admin_count() == 1:
        # Nobody could then manage staff, read the outbox or send the E-magazine.
        return _("This is the last administrator: promote someone else first.")
    return None


def _admin_count() -> int:
    return db.session.scalar(select(db.func.count()).select_from(User)
                             .where(User.role == "admin"))


@bp.get("/audit")
@admin_required
def audit_log():
    """The audit log, newest first, optionally of one action."""
    action = request.args.get("action") or None
    if action is not None and action not in set(AuditAction):
        abort(400)
    page = db.paginate(audit.entries(AuditAction(action) if action else None),
                       page=request.args.get("page", 1, type=int), per_page=50,
                       error_out=False)
    return render_template("staff/audit.html", page=page, action=action,
                           action_names=AUDIT_ACTION_NAMES)
