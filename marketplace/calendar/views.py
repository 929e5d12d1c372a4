"""Staff keep the calendar of forums, exhibitions and trainings at the demonstration bases;
the E-magazine's events section is filled from it."""

from __future__ import annotations

from flask import Blueprint, abort, flash, redirect, render_template, url_for
from flask_babel import gettext as _
from flask_login import current_user
from sqlalchemy import func, select

from marketplace import audit
from marketplace.accounts.access import staff_required
from marketplace.calendar.forms import EventForm
from marketplace.extensions import db
from marketplace.form_fields import EVENT_KIND_NAMES, ActionForm
from marketplace.models import AuditAction, Event
from marketplace.models._time import utcnow

bp = Blueprint("events", __name__, url_prefix="/staff/events")

FIELDS = ("title", "kind", "base", "starts_on", "ends_on", "location", "url", "description",
          "programme", "capacity")


def _event(event_id: int) -> Event:
    event = db.session.get(Event, event_id)
    if event is None:
        abort(404)
    return event


def _last_day():
    return func.coalesce(Event.ends_on, Event.starts_on)


@bp.get("")
@staff_required
def index():
    today = utcnow().date()
    upcoming = db.session.scalars(select(Event).where(_last_day() >= today)
                                  .order_by(Event.starts_on, Event.id)).all()
    past = db.session.scalars(select(Event).where(_last_day() < today)
                              .order_by(Event.starts_on.desc(), Event.id.desc())).all()
    return render_template("staff/events.html", upcoming=upcoming, past=past,
                           kinds=EVENT_KIND_NAMES, action_form=ActionForm())


@bp.route("/new", methods=["GET", "POST"])
@staff_required
def new():
    form = EventForm()
    if form.validate_on_submit():
        event = Event()
        _apply(form, event)
        db.session.add(event)
        db.session.flush()  # the entry names the event by id
        audit.record(current_user, AuditAction.EVENT_CREATED, event, title=event.title)
        db.session.commit()
        flash(_("Event added: %(title)s", title=event.title), "success")
        return redirect(url_for("events.index"))
    return render_template("staff/events_form.html", form=form, event=None), \
        400 if form.errors else 200


@bp.route("/<int:event_id>/edit", methods=["GET", "POST"])
@staff_required
def edit(event_id: int):
    event = _event(event_id)
    form = EventForm(obj=event)
    if form.validate_on_submit():
        _apply(form, event)
        audit.record(current_user, AuditAction.EVENT_UPDATED, event, title=event.title)
        db.session.commit()
        flash(_("Event saved: %(title)s", title=event.title), "success")
        return redirect(url_for("events.index"))
    return render_template("staff/events_form.html", form=form, event=event), \
        400 if form.errors else 200


@bp.post("/<int:event_id>/delete")
@staff_required
def delete(event_id: int):
    event = _event(event_id)
    if not ActionForm().validate_on_submit():
        abort(400)
    title = event.title
    audit.record(current_user, AuditAction.EVENT_DELETED, event, title=title)
    db.session.delete(event)
    db.session.commit()
    flash(_("Event deleted: %(title)s", title=title), "info")
    return redirect(url_for("events.index"))


def _apply(form: EventForm, event: Event) -> None:
    for name in FIELDS:
        value = getattr(form, name).data
        setattr(event, name, value.strip() if isinstance(value, str) else value)
