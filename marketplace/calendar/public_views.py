"""The public calendar: upcoming events at the bases and elsewhere, each with its programme,
registration (with a waitlist once full), and an ``.ics`` file."""

from __future__ import annotations

from datetime import date

from flask import Blueprint, abort, flash, redirect, render_template, url_for
from flask_babel import gettext as _
from flask_login import current_user
from sqlalchemy import func, or_, select

from marketplace.accounts.access import organization_required
from marketplace.calendar import exhibits, registration
from marketplace.calendar.forms import ExhibitsForm
from marketplace.extensions import db
from marketplace.form_fields import EVENT_KIND_NAMES, ActionForm
from marketplace.models import Event
from marketplace.models.states import RegistrationStatus

bp = Blueprint("calendar", __name__, url_prefix="/events")


@bp.get("")
def upcoming():
    today = date.today()
    events = db.session.scalars(select(Event).where(
        or_(Event.starts_on >= today, func.coalesce(Event.ends_on, Event.starts_on) >= today))
        .order_by(Event.starts_on, Event.id)).all()
    return render_template("calendar/upcoming.html", events=events, kinds=EVENT_KIND_NAMES)


@bp.get("/<int:event_id>")
def detail(event_id: int):
    return _page(_event(event_id))


def _page(event: Event) -> str:
    mine = registration.registration_of(current_user, event) \
        if current_user.is_authenticated else None
    taken = registration.places_taken(event)
    form = ExhibitsForm(formdata=None)
    if current_user.is_authenticated:
        form.solutions.choices = [(s.id, s.title) for s in exhibits.showable(current_user)]
        form.solutions.data = sorted(exhibits.shown_by(current_user, event))
    return render_template("calendar/detail.html", event=event, kinds=EVENT_KIND_NAMES,
                           exhibitors=exhibits.exhibitors(event), exhibits_form=form,
                           mine=mine if mine and mine.status != RegistrationStatus.CANCELLED
                           else None, taken=taken, full=registration.is_full(event),
                           over=(event.ends_on or event.starts_on) < date.today(),
                           action_form=ActionForm())


@bp.get("/<int:event_id>/event.ics")
def ics(event_id: int):
    event = _event(event_id)
    return registration.ics(event), 200, {
        "Content-Type": "text/calendar; charset=utf-8",
        "Content-Disposition": f'attachment; filename="event-{event.id}.ics"'}


@bp.post("/<int:event_id>/register")
@organization_required
def register(event_id: int):
    event = _event(event_id)
    if not ActionForm().validate_on_submit():
        abort(400)
    try:
        row = registration.register(current_user, event)
    except registration.RegistrationError as error:
        flash(str(error), "error")
        return _page(event), 409
    db.session.commit()
    if row.status == RegistrationStatus.WAITLISTED:
        flash(_("The event is full: you are on the waitlist, and will hear by e-mail if a "
                "place frees up."), "info")
    else:
        flash(_("You are registered. The confirmation, with a calendar file, is on its way."),
              "success")
    return redirect(url_for("calendar.detail", event_id=event.id))


@bp.post("/<int:event_id>/cancel")
@organization_required
def cancel(event_id: int):
    event = _event(event_id)
    if not ActionForm().validate_on_submit():
        abort(400)
    try:
        registration.cancel(current_user, event)
    except registration.RegistrationError as error:
        flash(str(error), "error")
        return _page(event), 409
    db.session.commit()
    flash(_("Your registration is cancelled."), "success")
    return redirect(url_for("calendar.detail", event_id=event.id))


@bp.post("/<int:event_id>/exhibits")
@organization_required
def choose_exhibits(event_id: int):
    event = _event(event_id)
    form = ExhibitsForm()
    form.solutions.choices = [(s.id, s.title) for s in exhibits.showable(current_user)]
    if not form.validate_on_submit():
        abort(400)
    try:
        exhibits.choose(current_user, event, form.solutions.data)
    except registration.RegistrationError as error:
        flash(str(error), "error")
        return _page(event), 409
    db.session.commit()
    flash(_("Your exhibits are saved."), "success")
    return redirect(url_for("calendar.detail", event_id=event.id))


def _event(event_id: int) -> Event:
    event = db.session.get(Event, event_id)
    if event is None:
        abort(404)
    return event
