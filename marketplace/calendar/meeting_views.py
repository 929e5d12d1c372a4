"""A participant's B2B meetings at an event: availability, "people you should meet here",
requests sent and received, their agenda (page, print, ``.ics``), and on the day check-in
and whether each meeting was held.  A participant only ever sees their own."""

from __future__ import annotations

from flask import Blueprint, abort, flash, redirect, render_template, request, url_for
from flask_babel import gettext as _
from flask_login import current_user, login_required

from marketplace.calendar import agendas, meetings
from marketplace.calendar import views as staff_views
from marketplace.calendar.forms import (
    AvailabilityForm,
    MeetingDeclineForm,
    MeetingRequestForm,
    OutcomeForm,
)
from marketplace.calendar.view_steps import attempt, of_event
from marketplace.discovery.explanations import explain
from marketplace.extensions import db
from marketplace.form_fields import ActionForm
from marketplace.models import (
    Event,
    EventRegistration,
    Meeting,
    MeetingRequest,
    Need,
    Solution,
)
from marketplace.models.states import RegistrationStatus

bp = Blueprint("meetings", __name__, url_prefix="/events/<int:event_id>")


def _event(event_id: int) -> Event:
    event = db.session.get(Event, event_id)
    if event is None or not meetings.has_meetings(event):
        abort(404)
    return event


def _me(event: Event) -> EventRegistration:
    """The current user's place; anyone without one is refused."""
    mine = meetings.participant(current_user, event)
    if mine is None:
        abort(403)
    return mine


@bp.get("/meetings")
@login_required
def hub(event_id: int):
    return _hub(_event(event_id))


def _hub(event: Event, status: int = 200, request_form: MeetingRequestForm | None = None,
         availability_form: AvailabilityForm | None = None):
    mine = _me(event)
    slots = meetings.slots(event)
    if availability_form is None:
        availability_form = AvailabilityForm(formdata=None)
        availability_form.slots.data = [s.id for s in slots
                                        if s.id not in meetings.unavailable_slot_ids(mine)]
    availability_form.slots.choices = [(s.id, _slot_label(s)) for s in slots]
    requests = meetings.requests_of(mine)
    return render_template(
        "calendar/meetings.html", event=event, mine=mine, slots=slots,
        availability_form=availability_form, suggestions=meetings.suggestions(mine),
        received=[r for r in requests if r.recipient_id == mine.id],
        sent=[r for r in requests if r.requester_id == mine.id],
        others=[p for p in meetings.participants(event)
                if p.organization_id != mine.organization_id],
        agenda=agendas.agenda(mine), explain=explain, venue_time=meetings.venue_time,
        request_form=request_form or MeetingRequestForm(formdata=None),
        decline_form=MeetingDeclineForm(formdata=None), action_form=ActionForm(),
        outcome_form=OutcomeForm(formdata=None)), status


def _slot_label(slot) -> str:
    begins, ends = meetings.venue_time(slot.starts_at), meetings.venue_time(slot.ends_at)
    return f"{begins:%Y-%m-%d %H:%M}–{ends:%H:%M}"


@bp.post("/meetings/availability")
@login_required
def availability(event_id: int):
    event = _event(event_id)
    mine = _me(event)
    form = AvailabilityForm()
    form.slots.choices = [(s.id, _slot_label(s)) for s in meetings.slots(event)]
    if not form.validate_on_submit():
        return _hub(event, 400, availability_form=form)
    meetings.set_availability(mine, set(form.slots.data or []))
    db.session.commit()
    flash(_("Your availability is saved."), "success")
    return redirect(url_for("meetings.hub", event_id=event.id))


@bp.get("/participants/<int:registration_id>")
@login_required
def participant(event_id: int, registration_id: int):
    event = _event(event_id)
    mine = _me(event)
    other = _other_participant(event, registration_id)
    form = MeetingRequestForm(formdata=None, recipient=other.id)
    return _profile(event, mine, other, form)


def _profile(event, mine, other, form, status: int = 200):
    form.listings.choices = _pair_choices(mine, other)
    return render_template("calendar/participant.html", event=event, mine=mine, other=other,
                           form=form), status


def _pair_choices(mine: EventRegistration, other: EventRegistration) -> list[tuple[str, str]]:
    return [(f"{need.id}:{solution.id}", f"{need.title} ↔ {solution.title}")
            for need, solution in meetings.listing_pairs(mine, other)]


def _other_participant(event: Event, registration_id: int) -> EventRegistration:
    other = of_event(EventRegistration, registration_id, event)
    if other.status != RegistrationStatus.REGISTERED:
        abort(404)
    return other


@bp.post("/meetings/requests")
@login_required
def send_request(event_id: int):
    event = _event(event_id)
    mine = _me(event)
    form = MeetingRequestForm()
    if not isinstance(form.recipient.data, int):
        abort(400)
    other = _other_participant(event, form.recipient.data)
    form.listings.choices = _pair_choices(mine, other)
    if not form.validate_on_submit():
        return _profile(event, mine, other, form, 400)
    need_id, solution_id = (int(part) for part in form.listings.data.split(":"))
    try:
        meetings.request_meeting(mine, other, db.session.get(Need, need_id),
                                 db.session.get(Solution, solution_id), form.reason.data)
    except meetings.MeetingError as error:
        flash(str(error), "error")
        return _profile(event, mine, other, form, 409)
    db.session.commit()
    flash(_("Your request is sent to %(name)s. You will hear by e-mail when they answer.",
            name=other.user.name), "success")
    return redirect(url_for("meetings.hub", event_id=event.id))


@bp.post("/meetings/requests/<int:request_id>/accept")
@login_required
def accept(event_id: int, request_id: int):
    event = _event(event_id)
    mine, row = _me(event), of_event(MeetingRequest, request_id, event)
    if not ActionForm().validate_on_submit():
        abort(400)
    return _answer(event, lambda: meetings.accept(row, mine),
                   _("Accepted: the meeting goes to the scheduler."))


@bp.post("/meetings/requests/<int:request_id>/decline")
@login_required
def decline(event_id: int, request_id: int):
    event = _event(event_id)
    mine, row = _me(event), of_event(MeetingRequest, request_id, event)
    form = MeetingDeclineForm()
    if not form.validate_on_submit():
        flash(_("Choose a reason from the list."), "error")
        return _hub(event, 400)
    return _answer(event, lambda: meetings.decline(row, mine, form.reason.data, form.note.data),
                   _("Declined. They are told, with your reason."))


def _answer(event: Event, act, done: str):
    return attempt(act, done, then=url_for("meetings.hub", event_id=event.id),
                   refused=lambda: _hub(event, 409))


@bp.get("/agenda")
@login_required
def agenda(event_id: int):
    event = _event(event_id)
    mine = _me(event)
    return render_template("calendar/agenda.html", event=event, mine=mine,
                           agenda=agendas.agenda(mine), venue_time=meetings.venue_time)


@bp.get("/agenda.ics")
@login_required
def agenda_ics(event_id: int):
    mine = _me(_event(event_id))
    return _ics(agendas.agenda_ics(mine), f"agenda-{event_id}.ics")


@bp.get("/meetings/<int:meeting_id>.ics")
@login_required
def meeting_ics(event_id: int, meeting_id: int):
    event = _event(event_id)
    mine = _me(event)
    meeting = of_event(Meeting, meeting_id, event)
    if meeting.request.side_of(mine.id) is None:
        abort(404)
    return _ics(agendas.meeting_ics(meeting, mine), f"meeting-{meeting.id}.ics")


def _ics(content: bytes, filename: str):
    return content, 200, {"Content-Type": "text/calendar; charset=utf-8",
                          "Content-Disposition": f'attachment; filename="{filename}"'}


@bp.post("/meetings/<int:meeting_id>/outcome")
@login_required
def outcome(event_id: int, meeting_id: int):
    """Held or a no-show, recorded by either side or by staff."""
    event = _event(event_id)
    meeting = of_event(Meeting, meeting_id, event)
    if not meetings.can_record(meeting, current_user):
        abort(403)
    form = OutcomeForm()
    if not form.validate_on_submit():
        abort(400)
    from_staff_page = request.form.get("back") == "staff" and current_user.is_staff
    held = form.outcome.data == "held"
    return attempt(
        lambda: meetings.record_outcome(meeting, current_user, held),
        _("Recorded: the meeting was held.") if held else _("Recorded: a no-show."),
        then=url_for("events.meetings" if from_staff_page else "meetings.hub",
                     event_id=event.id),
        refused=lambda: (staff_views.meetings_page(event, 409) if from_staff_page
                         else _hub(event, 409)))


@bp.post("/check-in")
@login_required
def check_in(event_id: int):
    event = _event(event_id)
    mine = _me(event)
    if not ActionForm().validate_on_submit():
        abort(400)
    meetings.check_in(mine)
    db.session.commit()
    flash(_("You are checked in. Enjoy your meetings."), "success")
    return redirect(url_for("meetings.hub", event_id=event.id))
