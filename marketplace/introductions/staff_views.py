"""Staff brokering: every introduction with filters, its timeline, nudging the quiet ones,
and proposing new ones.  Conversations stay private to the two sides unless one of them
asked staff for help."""

from __future__ import annotations

from flask import Blueprint, abort, flash, redirect, render_template, request, url_for
from flask_babel import gettext as _
from flask_login import current_user

from marketplace import constants
from marketplace.accounts.access import staff_required
from marketplace.extensions import db
from marketplace.form_fields import ActionForm, country_choices, sector_choices
from marketplace.input_guards import BadInput
from marketplace.introductions import brokering, interest
from marketplace.introductions.forms import ProposeForm
from marketplace.models import Introduction, Need, Solution
from marketplace.models._time import utcnow
from marketplace.models.states import IntroductionStage
from marketplace.taxonomy import taxonomy

bp = Blueprint("introductions_staff", __name__, url_prefix="/staff/introductions")
LIST_LIMIT = 200


@bp.get("")
@staff_required
def index():
    filters = _filters()
    rows = db.session.scalars(brokering.listing_query(**filters).limit(LIST_LIMIT)).all()
    return render_template("introductions/staff_index.html", rows=rows, filters=filters,
                           stages=list(IntroductionStage), countries=country_choices(),
                           sectors=sector_choices(), now=utcnow(), limit=LIST_LIMIT)


def _filters() -> dict:
    args = request.args
    stage, country, sector = (args.get(name, "") for name in ("stage", "country", "sector"))
    if stage and stage not in set(IntroductionStage):
        raise BadInput(_("Choose a stage from the list."))
    if country and country not in constants.COUNTRIES:
        raise BadInput(_("Choose a country from the list."))
    if sector and sector not in taxonomy():
        raise BadInput(_("Choose a sector from the list."))
    quiet = args.get("quiet", "")
    if quiet and (not quiet.isdigit() or int(quiet) > 3650):
        raise BadInput(_("“Quiet for” is a number of days, from 0 to 3650."))
    return {"stage": stage, "country": country, "sector": sector,
            "quiet_days": int(quiet) if quiet else None}


@bp.get("/<int:introduction_id>")
@staff_required
def detail(introduction_id: int):
    introduction = _introduction(introduction_id)
    return render_template("introductions/staff_detail.html", introduction=introduction,
                           may_read=brokering.staff_may_read_messages(introduction),
                           action_form=ActionForm())


@bp.post("/<int:introduction_id>/nudge")
@staff_required
def nudge(introduction_id: int):
    introduction = _introduction(introduction_id)
    if not ActionForm().validate_on_submit():
        abort(400)
    try:
        brokering.nudge(current_user, introduction)
    except interest.IntroductionError as error:
        flash(str(error), "error")
        return redirect(url_for("introductions_staff.detail", introduction_id=introduction.id))
    db.session.commit()
    flash(_("Nudged: they have been reminded by e-mail."), "success")
    return redirect(url_for("introductions_staff.detail", introduction_id=introduction.id))


@bp.route("/propose", methods=["GET", "POST"])
@staff_required
def propose():
    form = ProposeForm(data={"need_id": request.args.get("need", type=int),
                             "solution_id": request.args.get("solution", type=int)}
                       if request.method == "GET" else None)
    if form.validate_on_submit():
        need = db.session.get(Need, form.need_id.data)
        solution = db.session.get(Solution, form.solution_id.data)
        if need is None or solution is None:
            flash(_("There is no such need or solution."), "error")
        else:
            try:
                introduction = brokering.propose(current_user, need, solution,
                                                 form.message.data)
            except interest.IntroductionError as error:
                flash(str(error), "error")
            else:
                db.session.commit()
                flash(_("Proposed. The supplier is asked to accept; the buyer is told."),
                      "success")
                return redirect(url_for("introductions_staff.detail",
                                        introduction_id=introduction.id))
    status = 400 if form.is_submitted() else 200
    return render_template("introductions/propose.html", form=form), status


def _introduction(introduction_id: int) -> Introduction:
    introduction = db.session.get(Introduction, introduction_id)
    if introduction is None:
        abort(404)
    return introduction
