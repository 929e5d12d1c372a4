"""The event form staff use for the calendar.
"""

from __future__ import annotations

from flask_babel import lazy_gettext as _l
from flask_wtf import FlaskForm
from wtforms import (
    DateField,
    IntegerField,
    SelectField,
    SelectMultipleField,
    StringField,
    SubmitField,
    TextAreaField,
)
from wtforms.validators import (
    DataRequired,
    Length,
    NumberRange,
    Optional,
)
from wtforms.widgets import CheckboxInput, ListWidget

from marketplace import constants
from marketplace.form_fields import EVENT_KIND_NAMES, HttpUrlField, choices, title_rules


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
