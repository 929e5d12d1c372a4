"""The calendar's forms: the event staff edit, exhibits, and the B2B meetings (set-up,
availability, requests and their answers, moves, outcomes)."""

from __future__ import annotations

from flask_babel import lazy_gettext as _l
from flask_wtf import FlaskForm
from wtforms import (
    DateField,
    HiddenField,
    IntegerField,
    SelectField,
    SelectMultipleField,
    StringField,
    SubmitField,
    TextAreaField,
    TimeField,
)
from wtforms.validators import (
    AnyOf,
    DataRequired,
    InputRequired,
    Length,
    NumberRange,
    Optional,
)
from wtforms.widgets import CheckboxInput, ListWidget

from marketplace import constants
from marketplace.calendar.meetings import REASON_LIMIT, SLOT_MINUTES
from marketplace.form_fields import (
    EVENT_KIND_NAMES,
    HttpUrlField,
    choices,
    decline_note_field,
    decline_reason_field,
    title_rules,
)


class EventForm(FlaskForm):
    title = StringField(_l("Title"), validators=title_rules())
    kind = SelectField(_l("Kind"), choices=choices(EVENT_KIND_NAMES))
    base = SelectField(_l("Demonstration base"), choices=choices(constants.BASES))
    starts_on = DateField(_l("Starts on"), validators=[DataRequired()])
    ends_on = DateField(_l("Ends on"), validators=[Optional()],
                        description=_l("Leave empty for a one-day event."))
    location = StringField(_l("Venue"), validators=[Optional(), Length(max=200)])
    url = HttpUrlField(_l("Web page"), validators=[Optional(), Length(max=500)])
    description = TextAreaField(_l("Description (Markdown)"),
                                validators=[Optional(), Length(max=20000)])
    programme = TextAreaField(_l("Programme (Markdown)"),
                              validators=[Optional(), Length(max=20000)])
    capacity = IntegerField(_l("Places (empty: no limit)"),
                            validators=[Optional(), NumberRange(min=1, max=100000)])
    submit = SubmitField(_l("Save"))

    def validate(self, extra_validators=None) -> bool:
        ok = super().validate(extra_validators)
        if self.starts_on.data and self.ends_on.data and self.ends_on.data < self.starts_on.data:
            self.ends_on.errors = [*self.ends_on.errors,
                                   _l("The event cannot end before it starts.")]
            ok = False
        return ok


class ExhibitsForm(FlaskForm):
    """Which of its published solutions an exhibitor shows at the event."""

    solutions = SelectMultipleField(_l("Solutions we show"), coerce=int,
                                    validators=[Optional()],
                                    widget=ListWidget(prefix_label=False),
                                    option_widget=CheckboxInput())
    submit = SubmitField(_l("Save our exhibits"))


class MeetingSetupForm(FlaskForm):
    """Staff set the B2B meetings up: slots of one length, tables and a per-person cap."""

    day = DateField(_l("Day of the meetings"), validators=[DataRequired()])
    first = TimeField(_l("First meeting at (venue time)"), validators=[DataRequired()])
    count = IntegerField(_l("Number of slots"), default=12,
                         validators=[InputRequired(), NumberRange(min=1, max=48)])
    minutes = SelectField(_l("Meeting length"), coerce=int, default=25,
                          choices=[(m, _l("%(n)d minutes", n=m)) for m in SLOT_MINUTES])
    gap = IntegerField(_l("Minutes between meetings"), default=5,
                       validators=[InputRequired(), NumberRange(min=0, max=120)])
    tables = IntegerField(_l("Tables"), default=20,
                          validators=[InputRequired(), NumberRange(min=1, max=500)])
    cap = IntegerField(_l("Meetings per person, at most"), default=8,
                       validators=[InputRequired(), NumberRange(min=1, max=48)])
    submit = SubmitField(_l("Save the meeting slots"))


class AvailabilityForm(FlaskForm):
    slots = SelectMultipleField(_l("Slots I can meet in"), coerce=int, validators=[Optional()],
                                widget=ListWidget(prefix_label=False),
                                option_widget=CheckboxInput())
    submit = SubmitField(_l("Save my availability"))


class MeetingRequestForm(FlaskForm):
    """Ask another participant for a meeting, about a need and a solution of yours and
    theirs ("need id:solution id"), with a short reason."""

    recipient = IntegerField(widget=HiddenField.widget, validators=[InputRequired()])
    listings = SelectField(_l("About"))
    reason = TextAreaField(_l("Why meet? (one or two sentences)"), validators=[
        DataRequired(_l("Say in a sentence why you would like to meet: "
                        "a reason makes a yes more likely.")),
        Length(max=REASON_LIMIT)])
    submit = SubmitField(_l("Request a meeting"))


class MeetingDeclineForm(FlaskForm):
    reason = decline_reason_field()
    note = decline_note_field()
    submit = SubmitField(_l("Decline"))


class MeetingMoveForm(FlaskForm):
    slot = SelectField(_l("Slot"), coerce=int)
    table = IntegerField(_l("Table"), validators=[InputRequired(), NumberRange(min=1)])
    submit = SubmitField(_l("Move"))


class OutcomeForm(FlaskForm):
    outcome = HiddenField(validators=[AnyOf(("held", "no_show"))])


class PublishForm(FlaskForm):
    state = HiddenField(validators=[AnyOf(("preliminary", "final"))])
