"""The introduction pages: expressing interest, the board of an organisation's introductions
(sent and received), and one introduction with its conversation and timeline.

An introduction is shown to its two organisations only: to anyone else it does not exist
(404).  Contact details appear once the request is accepted.
"""

from __future__ import annotations

from flask import (
    Blueprint,
    abort,
    current_app,
    flash,
    redirect,
    render_template,
    request,
    url_for,
)
from flask_babel import gettext as _
from flask_login import current_user
from sqlalchemy import or_, select

from marketplace import constants
from marketplace.accounts.access import organization_required
from marketplace.discovery.explanations import explain
from marketplace.extensions import db, limiter
from marketplace.form_fields import ActionForm
from marketplace.introductions import brokering, conversation, interest, pipeline
from marketplace.introductions.forms import (
    AcceptForm,
    DeclineForm,
    InterestForm,
    MessageForm,
    MoveForm,
)
from marketplace.listings import lifecycle
from marketplace.models import Introduction
from marketplace.models._time import utcnow
from marketplace.models.states import PIPELINE, IntroductionStage

bp = Blueprint("introductions", __name__, url_prefix="/introductions")

# The board's columns, in order.
COLUMNS = (IntroductionStage.NEW, *PIPELINE, IntroductionStage.DECLINED,
           IntroductionStage.EXPIRED)


def _by_organization() -> str:
    return f"organization:{current_user.organization_id}"


def _sent(response) -> bool:
    return response.status_code == 302  # only a request that went out counts


def _too_many() -> str:
    return _("Your organisation has sent as many requests as it may today. "
             "Please try again tomorrow.")


@bp.route("/new/<any(solutions, needs):plural>/<int:listing_id>", methods=["GET", "POST"])
@organization_required
@limiter.limit(lambda: current_app.config["INTRODUCTION_RATE_LIMIT"],
               key_func=_by_organization, methods=["POST"], deduct_when=_sent,
               error_message=_too_many)
def new(plural: str, listing_id: int):
    other = lifecycle.get_listing(plural[:-1], listing_id)
    own_listings = interest.own_listings_for(current_user, other)
    form = InterestForm()
    form.own_listing.choices = [(listing.id, listing.title) for listing in own_listings]
    if not form.is_submitted() and request.args.get("from", type=int):
        form.own_listing.data = request.args.get("from", type=int)  # from a match
    if form.validate_on_submit():
        own = next(listing for listing in own_listings if listing.id == form.own_listing.data)
        try:
            introduction = interest.express_interest(current_user, own, other,
                                                     form.message.data, form.wishes.data)
        except interest.IntroductionError as error:
            flash(str(error), "error")
        else:
            db.session.commit()
            flash(_("Request sent. You will hear by e-mail when %(org)s answers.",
                    org=other.organization.name), "success")
            return redirect(url_for("introductions.detail", introduction_id=introduction.id))
    status = 400 if form.is_submitted() else 200
    return render_template("introductions/new.html", form=form, other=other,
                           own_listings=own_listings), status


@bp.get("")
@organization_required
def board():
    org_id = current_user.organization_id
    rows = db.session.scalars(select(Introduction).where(or_(
        Introduction.sender_org_id == org_id, Introduction.recipient_org_id == org_id))
        .order_by(Introduction.stage_changed_at.desc(), Introduction.id.desc())).all()
    columns = {stage: [i for i in rows if i.stage == stage] for stage in COLUMNS}
    return render_template("introductions/board.html", columns=columns, org_id=org_id,
                           allowed_moves=pipeline.allowed_moves, move_form=MoveForm(),
                           now=utcnow())


@bp.get("/<int:introduction_id>")
@organization_required
def detail(introduction_id: int):
    return _detail_page(_own(introduction_id))


@bp.post("/<int:introduction_id>/accept")
@organization_required
def accept(introduction_id: int):
    introduction = _own(introduction_id)
    form = AcceptForm()
    if not form.validate_on_submit():
        abort(400)
    return _apply(introduction, lambda: pipeline.accept(introduction, current_user,
                                                        form.version.data),
                  _("Accepted. You now see each other's contact details."))


@bp.post("/<int:introduction_id>/decline")
@organization_required
def decline(introduction_id: int):
    introduction = _own(introduction_id)
    form = DeclineForm()
    if not form.validate_on_submit():
        return _detail_page(introduction, decline_form=form, status=400)
    return _apply(introduction, lambda: pipeline.decline(
        introduction, current_user, form.version.data, form.reason.data, form.note.data),
        _("Declined. They will see your reason."))


@bp.post("/<int:introduction_id>/move")
@organization_required
def move(introduction_id: int):
    introduction = _own(introduction_id)
    form = MoveForm()
    if not form.validate_on_submit():
        abort(400)
    return _apply(introduction, lambda: pipeline.move(
        introduction, current_user, form.stage.data, form.version.data, form.note.data or ""),
        _("Moved to “%(stage)s”.", stage=_stage_label(form.stage.data)))


@bp.post("/<int:introduction_id>/messages")
@organization_required
def post_message(introduction_id: int):
    introduction = _own(introduction_id)
    form = MessageForm()
    if form.validate_on_submit():
        try:
            conversation.post_message(introduction, current_user, form.body.data)
        except interest.IntroductionError as error:
            flash(str(error), "error")
        else:
            db.session.commit()
            flash(_("Message sent."), "success")
            return redirect(url_for("introductions.detail", introduction_id=introduction.id,
                                    _anchor="conversation"))
    return _detail_page(introduction, message_form=form, status=400)


@bp.post("/<int:introduction_id>/help")
@organization_required
def ask_for_help(introduction_id: int):
    introduction = _own(introduction_id)
    if not ActionForm().validate_on_submit():
        abort(400)
    brokering.ask_for_help(current_user, introduction)
    db.session.commit()
    flash(_("Staff of the China-ASEAN Environmental Cooperation Center can now read this "
            "introduction's conversation, and will get in touch."), "success")
    return redirect(url_for("introductions.detail", introduction_id=introduction.id))


def _own(introduction_id: int) -> Introduction:
    """The introduction, if the user's organisation is one of its two sides; else 404."""
    introduction = db.session.get(Introduction, introduction_id)
    if introduction is None or introduction.side_of(current_user.organization_id) is None:
        abort(404)
    return introduction


def _apply(introduction: Introduction, step, done: str):
    """Run a pipeline step: commit and redirect, or answer 409 with the page as it is now."""
    try:
        step()
    except pipeline.IllegalMove as error:
        db.session.rollback()
        db.session.refresh(introduction)
        flash(str(error), "error")
        return _detail_page(introduction, status=409)
    db.session.commit()
    flash(done, "success")
    return redirect(url_for("introductions.detail", introduction_id=introduction.id))


def _detail_page(introduction: Introduction, *, status: int = 200, **forms):
    side = introduction.side_of(current_user.organization_id)
    version = {"version": introduction.version}
    return render_template(
        "introductions/detail.html", introduction=introduction, side=side,
        moves=pipeline.allowed_moves(introduction, side), explain=explain,
        accept_form=AcceptForm(data=version, formdata=None),
        decline_form=forms.get("decline_form") or DeclineForm(data=version, formdata=None),
        move_form=MoveForm(data=version, formdata=None),
        message_form=forms.get("message_form") or MessageForm(formdata=None),
        action_form=ActionForm(),
    ), status


def _stage_label(stage: str) -> str:
    return str(constants.INTRODUCTION_STAGES.get(stage, stage))
