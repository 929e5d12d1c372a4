"""Staff keep the calendar of forums, exhibitions and trainings at the demonstration bases
(the E-magazine's events section is filled from it), and run an event's B2B meetings: slots,
the scheduler, moves, publishing, check-in and the event's report."""

from __future__ import annotations

from flask import Blueprint, abort, current_app, flash, redirect, render_template, url_for
from flask_babel import gettext as _
from flask_login import current_user
from sqlalchemy import func, select

from marketplace import audit
from marketplace.accounts.access import staff_required
from marketplace.calendar import event_report, schedule
from marketplace.calendar import meetings as meetings_domain
from marketplace.calendar.forms import (
    EventForm,
    MeetingMoveForm,
    MeetingSetupForm,
    OutcomeForm,
    PublishForm,
)
from marketplace.calendar.view_steps import attempt, of_event
from marketplace.extensions import db
from marketplace.form_fields import EVENT_KIND_NAMES, ActionForm
from marketplace.models import AuditAction, Event, EventRegistration, Meeting, MeetingRequest
from marketplace.models._time import utcnow
from marketplace.models.states import MeetingRequestStatus, MeetingStatus
from marketplace.spreadsheets import download_headers

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


# -- B2B meetings -------------------------------------------------------------------------

@bp.get("/<int:event_id>/meetings")
@staff_required
def meetings(event_id: int):
    return meetings_page(_event(event_id))


def meetings_page(event: Event, status: int = 200, setup_form: MeetingSetupForm | None = None):
    """The set-up, the proposal (or published schedule) slot by slot, and check-in."""
    slots = meetings_domain.slots(event)
    if setup_form is None:
        setup_form = MeetingSetupForm(formdata=None, day=event.starts_on,
                                      minutes=event.meeting_minutes,
                                      tables=event.meeting_tables or 20, cap=event.meeting_cap)
        if slots:
            first = meetings_domain.venue_time(slots[0].starts_at)
            setup_form.day.data, setup_form.first.data = first.date(), first.time()
            setup_form.count.data = len(slots)
    placed = schedule.current(event)
    by_slot: dict[int, list] = {slot.id: [] for slot in slots}
    for meeting in db.session.scalars(select(Meeting).where(Meeting.event_id == event.id)):
        if meeting.slot_id in by_slot and meeting.status != MeetingStatus.CANCELLED:
            by_slot[meeting.slot_id].append(meeting)
    move_form = _move_form(event, formdata=None)
    return render_template(
        "staff/event_meetings.html", event=event, slots=slots, setup_form=setup_form,
        by_slot=by_slot, placed=len(placed), move_form=move_form,
        participants=meetings_domain.participants(event),
        unplaced=_unplaced(event, placed), venue_time=meetings_domain.venue_time,
        action_form=ActionForm(), publish_form=PublishForm(formdata=None),
        outcome_form=OutcomeForm(formdata=None)), status


def _move_form(event: Event, **kwargs) -> MeetingMoveForm:
    form = MeetingMoveForm(**kwargs)
    form.slot.choices = [(s.id, f"{meetings_domain.venue_time(s.starts_at):%H:%M}")
                         for s in meetings_domain.slots(event)]
    return form


def _unplaced(event: Event, placed) -> list[MeetingRequest]:
    """Accepted requests the schedule has no room for (the staff may move one in)."""
    return [r for r in db.session.scalars(select(MeetingRequest).where(
        MeetingRequest.event_id == event.id,
        MeetingRequest.status == MeetingRequestStatus.ACCEPTED).order_by(MeetingRequest.id))
        if r.id not in placed]


@bp.post("/<int:event_id>/meetings/setup")
@staff_required
def meetings_setup(event_id: int):
    event = _event(event_id)
    form = MeetingSetupForm()
    if not form.validate_on_submit():
        return meetings_page(event, 400, form)

    def set_up():
        made = meetings_domain.set_up(event, day=form.day.data, first=form.first.data,
                                      count=form.count.data, minutes=form.minutes.data,
                                      gap=form.gap.data, tables=form.tables.data,
                                      cap=form.cap.data)
        audit.record(current_user, AuditAction.EVENT_UPDATED, event, title=event.title)
        return made

    return _attempt(event, set_up, lambda made: _("%(count)d meeting slots saved.",
                                                  count=len(made)), form)


@bp.post("/<int:event_id>/meetings/schedule")
@staff_required
def meetings_schedule(event_id: int):
    event = _event(event_id)
    if not ActionForm().validate_on_submit():
        abort(400)
    return _attempt(
        event, lambda: schedule.run(event, time_limit=current_app.config["SCHEDULER_TIME_LIMIT"]),
        lambda result: _("The scheduler placed %(meetings)d meetings (the simple baseline "
                         "placed %(greedy)d).", meetings=result.meetings,
                         greedy=result.greedy_meetings))


@bp.post("/<int:event_id>/meetings/<int:meeting_id>/move")
@staff_required
def meetings_move(event_id: int, meeting_id: int):
    event = _event(event_id)
    meeting = of_event(Meeting, meeting_id, event)
    form = _move_form(event)
    if not form.validate_on_submit():
        flash(_("Choose a slot and a table."), "error")
        return meetings_page(event, 400)
    return _attempt(event, lambda: schedule.move(meeting, form.slot.data, form.table.data),
                    _("Meeting moved."))


@bp.post("/<int:event_id>/meetings/publish")
@staff_required
def meetings_publish(event_id: int):
    event = _event(event_id)
    form = PublishForm()
    if not form.validate_on_submit():
        abort(400)
    return _attempt(event, lambda: schedule.publish(event, form.state.data),
                    lambda sent: _("Schedule published. %(count)d participants are sent their "
                                   "agenda.", count=sent))


def _attempt(event: Event, act, done, setup_form: MeetingSetupForm | None = None):
    return attempt(act, done, then=url_for("events.meetings", event_id=event.id),
                   refused=lambda: meetings_page(event, 409, setup_form))


@bp.post("/<int:event_id>/registrations/<int:registration_id>/check-in")
@staff_required
def check_in(event_id: int, registration_id: int):
    event = _event(event_id)
    registration = of_event(EventRegistration, registration_id, event)
    if not ActionForm().validate_on_submit():
        abort(400)
    meetings_domain.check_in(registration)
    db.session.commit()
    flash(_("%(name)s is checked in.", name=registration.user.name), "success")
    return redirect(url_for("events.meetings", event_id=event.id))


@bp.get("/<int:event_id>/report")
@staff_required
def report(event_id: int):
    event = _event(event_id)
    return render_template("staff/event_report.html", event=event,
                           report=event_report.report(event))


@bp.get("/<int:event_id>/report.csv")
@staff_required
def report_csv(event_id: int):
    event = _event(event_id)
    return event_report.as_csv(event_report.report(event)), 200, download_headers(
        f"event-{event.id}-report.csv")
